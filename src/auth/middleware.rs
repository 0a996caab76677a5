//! Authenticates every request but the health probes, before any page or server function
//! runs: the `User` goes into the request's extensions, or the answer is 401.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::Auth;

/// Paths a load balancer or orchestrator probes without credentials.
const OPEN_PATHS: [&str; 2] = ["/livez", "/readyz"];

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
            tracing::warn!(peer = ?peer, reason = %denied, "request not authenticated");
            (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("401 Unauthorized: {denied}. Open dkimdash through your company's SSO.\n"),
            )
                .into_response()
        }
    }
}
