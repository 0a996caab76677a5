//! Authenticates every request but the health probes, before any page or server function
//! runs: the `User` goes into the request's extensions, or the answer is 401.

use std::{
    net::SocketAddr,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::Auth;

/// Paths a load balancer or orchestrator probes without credentials.
const OPEN_PATHS: [&str; 2] = ["/livez", "/readyz"];

/// The answer to every refused request. Why it was refused goes to the log only: telling a
/// caller which check failed helps whoever is forging tokens.
const REFUSAL: &str = "401 Unauthorized: dkimdash could not tell who you are. Open dkimdash through your company's SSO.\n";

/// The axum middleware (`from_fn_with_state`).
pub async fn authenticate(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    match auth.authenticate(peer, request.headers()).await {
        Ok(user) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Err(denied) => {
            auth.refusals.log(peer, &denied);
            (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                REFUSAL,
            )
                .into_response()
        }
    }
}

/// The log of refused requests, at most a burst of 10 lines and then one every 6 seconds:
/// anyone can send unauthenticated requests, and they must not be able to fill the log.
/// The lines left out are counted in the next one. One per server; cheap to clone.
#[derive(Clone)]
pub struct RefusalLog(Arc<(DefaultDirectRateLimiter, AtomicU64)>);

impl Default for RefusalLog {
    fn default() -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        Self(Arc::new((RateLimiter::direct(quota), AtomicU64::new(0))))
    }
}

impl std::fmt::Debug for RefusalLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusalLog")
            .field("left_out", &self.0.1.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RefusalLog {
    /// Logs the refusal of a request from `peer`, unless too many were logged lately.
    fn log(&self, peer: Option<SocketAddr>, denied: &super::Denied) {
        let (limiter, left_out) = &*self.0;
        if limiter.check().is_ok() {
            let left_out = left_out.swap(0, Ordering::Relaxed);
            tracing::warn!(peer = ?peer, reason = %denied, left_out, "request not authenticated");
        } else {
            left_out.fetch_add(1, Ordering::Relaxed);
        }
    }
}
