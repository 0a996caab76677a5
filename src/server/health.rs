//! Probes for orchestrators and load balancers; no auth, no rendering, no SES calls.

/// Liveness: the process answers HTTP.
pub async fn livez() -> &'static str {
    "ok"
}

/// Readiness: the server is ready to serve pages.
pub async fn readyz() -> &'static str {
    "ready"
}
