//! HTTP requests by route, method and status, and how long they took: a middleware
//! outside everything else, so refusals (421, 401, 403, 413, 503) are counted too.

use std::time::{Duration, Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use super::Metrics;

/// Requests answered.
pub const REQUESTS: &str = "dkimdash_http_requests_total";
/// Time to answer.
pub const REQUEST_DURATION: &str = "dkimdash_http_request_duration_seconds";

/// Methods counted by name; any other is `OTHER`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// The help lines.
pub fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "HTTP requests answered, by route, method and status."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route."
    );
}

/// Counts one answered request in the current recorder.
pub fn record(route: &str, method: &str, status: u16, took: Duration) {
    metrics::counter!(
        REQUESTS,
        "route" => route.to_owned(),
        "method" => method.to_owned(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(REQUEST_DURATION, "route" => route.to_owned()).record(took.as_secs_f64());
}

/// The middleware. Routes are the router's patterns (`/identity/{region}/{name}`), never
/// the paths asked for, so a scanner cannot grow the series without bound.
pub async fn count(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = METHODS
        .into_iter()
        .find(|known| *known == request.method().as_str())
        .unwrap_or("OTHER");
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
