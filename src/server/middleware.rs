//! The tower-http stack, applied in one place so its order is visible and deliberate.

use std::sync::Arc;

use axum::{
    Router,
    http::{
        HeaderName, HeaderValue, StatusCode,
        header::{
            AUTHORIZATION, CONTENT_SECURITY_POLICY, COOKIE, PROXY_AUTHORIZATION, REFERRER_POLICY,
            SET_COOKIE, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
        },
    },
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use super::{config::HttpLimits, security::OTHER_POLICY};

/// Headers whose values must never reach a log line: credentials, cookies, and the SSO
/// proxy's identity headers (`identity`).
fn sensitive_headers(identity: &[HeaderName]) -> Arc<[HeaderName]> {
    [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE, SET_COOKIE]
        .into_iter()
        .chain(identity.iter().cloned())
        .collect()
}

/// Wraps `router` in the stack, outermost first: secrets marked → traced → headers set →
/// compressed → panics become 500 → body limited → timed out.
pub fn apply(
    router: Router,
    limits: &HttpLimits,
    identity_headers: &[HeaderName],
    hsts_max_age_secs: Option<u64>,
) -> Router {
    let sensitive = sensitive_headers(identity_headers);
    // Only when configured: HSTS on a plain-HTTP deployment would lock users out.
    let hsts = hsts_max_age_secs.map(|secs| {
        HeaderValue::from_str(&format!("max-age={secs}; includeSubDomains"))
            .expect("digits are a valid header value")
    });
    let stack = ServiceBuilder::new()
        // Marked before tracing so no later layer can log them.
        .layer(SetSensitiveRequestHeadersLayer::from_shared(
            sensitive.clone(),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetSensitiveResponseHeadersLayer::from_shared(sensitive))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Pages set their own policy (with the response's script nonce) while rendering.
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(OTHER_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .layer(CompressionLayer::new())
        // Inside tracing, so a panic is logged as the 500 it turns into.
        .layer(CatchPanicLayer::new())
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        // Innermost: its own empty 503 body needs the plain handler body type.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ));
    router.layer(stack)
}
