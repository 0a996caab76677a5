//! Probes for orchestrators and load balancers; no auth, no rendering, no SES calls.

use axum::{extract::State, http::StatusCode};

use super::state::AppState;

/// Liveness: the process answers HTTP.
pub async fn livez() -> &'static str {
    "ok"
}

/// Readiness: every target has been read once (or has failed to be, which the pages show),
/// so a new instance behind a load balancer never serves an empty inventory while the
/// one it replaces still has the identities.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let snapshot = state.inventory.snapshot();
    let all_read = snapshot
        .targets
        .iter()
        .all(|target| target.last_success.is_some() || target.last_error.is_some());
    if all_read {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "reading SES for the first time",
        )
    }
}
