//! Every middleware, applied in one place so its order is visible and deliberate: the
//! tower-http stack outside, then who may ask what (host, CSRF, authentication, roles).

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{
        HeaderName, HeaderValue, StatusCode,
        header::{
            AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE,
            PROXY_AUTHORIZATION, REFERRER_POLICY, RETRY_AFTER, SET_COOKIE,
            STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
        },
    },
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
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

use super::{security::OTHER_POLICY, state::AppState};
use crate::app_error::AppError;
use crate::auth::write_gate::{ReadFunctions, SERVER_FN_PREFIX};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// Headers whose values must never reach a log line: credentials, cookies, and the SSO
/// proxy's identity headers (`identity`).
fn sensitive_headers(identity: &[HeaderName]) -> Arc<[HeaderName]> {
    [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE, SET_COOKIE]
        .into_iter()
        .chain(identity.iter().cloned())
        .collect()
}

/// Wraps `router` in every middleware, outermost first: secrets marked → traced → headers
/// set → compressed → panics become 500 → body limited → timed out → Host checked (DNS
/// rebinding) → cross-site posts refused → authenticated → viewers kept from writes →
/// server function posts that are not forms answered 415 → server function errors given
/// their own status → the home page served from what was rendered, while current.
pub fn apply(router: Router, state: &AppState, reads: ReadFunctions) -> Router {
    let security = state.security.clone();
    let router = router
        // Innermost, inside authentication (a page is kept per user): the home page
        // served again while nothing it shows changed.
        .layer(from_fn_with_state(state.clone(), super::page_cache::serve))
        // Sees the server function's own answer, before any compression.
        .layer(axum::middleware::from_fn(errors_get_their_status))
        .layer(axum::middleware::from_fn(server_functions_take_forms))
        // Inside authentication, which puts the user in the request.
        .layer(from_fn_with_state(reads, crate::auth::write_gate::guard))
        .layer(from_fn_with_state(
            state.auth.clone(),
            crate::auth::middleware::authenticate,
        ))
        // Outside authentication: a forged cross-site post is refused whoever it claims to be.
        .layer(from_fn_with_state(
            security.allowed_origins.clone(),
            crate::auth::csrf::protect,
        ))
        // A request for a name dkimdash does not answer to (DNS rebinding) reaches nothing.
        .layer(from_fn_with_state(
            security.hosts.clone(),
            crate::auth::host::guard,
        ));
    let limits = &state.limits;
    let identity_headers = state.auth.identity_headers();
    let hsts_max_age_secs = security.hsts_max_age_secs;
    let sensitive = sensitive_headers(&identity_headers);
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
        // Pages and answers are the signed-in user's: never kept by a shared cache. The
        // bundle and downloads set their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static(super::assets::PRIVATE),
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

/// The one body every server function reads (the browser's forms and Leptos' client both
/// send it).
const FORM: &str = "application/x-www-form-urlencoded";

/// A post to a server function that is not a URL-encoded form (JSON, say, or no content
/// type at all) could only fail to parse: 415, naming what to send.
async fn server_functions_take_forms(request: Request, next: Next) -> Response {
    let server_fn_post = request.method() == axum::http::Method::POST
        && request.uri().path().starts_with(SERVER_FN_PREFIX);
    let form = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(FORM));
    if !server_fn_post || form {
        return next.run(request).await;
    }
    let message = format!("415 Unsupported Media Type: send the fields as {FORM}.\n");
    (StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response()
}

/// Largest server function error body read back (they are one line).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A server function's error answer leaves the function as 500 whatever went wrong. Its
/// body is an [`AppError`], which knows its own status: a request that could not be read
/// becomes 400, a refused change 422, a viewer's write 403, and only dkimdash's own
/// failures stay 5xx, so monitoring that counts them sees nothing else. A rate limit also
/// says when to come back (`Retry-After`).
async fn errors_get_their_status(request: Request, next: Next) -> Response {
    let server_fn = request.uri().path().starts_with(SERVER_FN_PREFIX);
    let response = next.run(request).await;
    if !server_fn
        || response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let AppError::RateLimited { retry_after_secs } = error {
            parts
                .headers
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
