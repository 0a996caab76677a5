//! The simulator's control API under `/_sim/`: what tests and the demo use to steer it.
//! Not part of SES; never reachable through the dashboard.

use std::num::NonZeroU32;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde::Deserialize;

use super::{Faults, Simulator, error::ErrorKind, identity::SimIdentity};
use crate::model::{DkimStatus, KeyLength};

/// The control routes.
pub fn routes() -> Router<Simulator> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/quota", put(set_quota))
        .route("/faults", put(set_faults))
        .route("/clock/advance", post(advance_clock))
        .route("/regions/{region}/bulk", post(bulk))
        .route(
            "/regions/{region}/identities/{name}/status",
            put(set_status),
        )
}

async fn stats(State(sim): State<Simulator>) -> Response {
    let stats = sim.stats();
    Json(serde_json::json!({
        "calls": stats.calls,
        "total_calls": stats.total_calls(),
        "throttled": stats.throttled,
        "injected_failures": stats.injected_failures,
    }))
    .into_response()
}

async fn reset_stats(State(sim): State<Simulator>) -> StatusCode {
    sim.reset_stats();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct QuotaBody {
    /// Calls per second per region; `null` or 0 for no limit.
    calls_per_second: Option<u32>,
}

async fn set_quota(State(sim): State<Simulator>, Json(body): Json<QuotaBody>) -> StatusCode {
    sim.set_quota(body.calls_per_second.and_then(NonZeroU32::new));
    StatusCode::NO_CONTENT
}

async fn set_faults(State(sim): State<Simulator>, Json(faults): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&faults.error_rate) {
        return (
            StatusCode::BAD_REQUEST,
            "error_rate must be between 0 and 1",
        )
            .into_response();
    }
    sim.set_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ClockBody {
    seconds: i64,
}

async fn advance_clock(State(sim): State<Simulator>, Json(body): Json<ClockBody>) -> Response {
    match sim.advance_clock(body.seconds) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(why) => (StatusCode::BAD_REQUEST, why).into_response(),
    }
}

/// Most identities one bulk call adds (a benchmark's 10,000 with room to spare).
const MAX_BULK: usize = 100_000;
/// Most identities a region may hold through bulk calls: bounds the memory one request
/// can make the simulator take.
const MAX_REGION_IDENTITIES: usize = 1_000_000;

#[derive(Deserialize)]
struct BulkBody {
    count: usize,
    #[serde(default = "default_prefix")]
    prefix: String,
    #[serde(default)]
    status: Option<String>,
}

fn default_prefix() -> String {
    "bulk".to_owned()
}

/// Adds `count` Easy DKIM domains `{prefix}-{n}.example` at once, outside the quota.
async fn bulk(
    State(sim): State<Simulator>,
    Path(region): Path<String>,
    Json(body): Json<BulkBody>,
) -> Response {
    if body.count == 0 || body.count > MAX_BULK {
        let message = format!("count must be 1 to {MAX_BULK}, not {}", body.count);
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let label_ok = !body.prefix.is_empty()
        && body.prefix.len() <= 40
        && body
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !label_ok {
        let message = "prefix must be 1 to 40 letters, digits or dashes".to_owned();
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    if sim.regions().count(&region).saturating_add(body.count) > MAX_REGION_IDENTITIES {
        let message = format!("a region holds at most {MAX_REGION_IDENTITIES} identities");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let status = body
        .status
        .as_deref()
        .map_or(DkimStatus::Success, DkimStatus::from_ses);
    sim.with_regions(|regions, now| {
        for n in 0..body.count {
            let mut identity = SimIdentity::easy_dkim_domain(
                &format!("{}-{n:05}.example", body.prefix),
                KeyLength::Rsa2048,
                now,
            );
            identity.set_status(status.clone(), now);
            identity.auto_verify = false;
            regions.insert(&region, identity);
        }
    });
    (
        StatusCode::CREATED,
        format!("{} identities in {region}", sim.regions().count(&region)),
    )
        .into_response()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    error_type: Option<String>,
}

async fn set_status(
    State(sim): State<Simulator>,
    Path((region, name)): Path<(String, String)>,
    Json(body): Json<StatusBody>,
) -> Response {
    let status = DkimStatus::from_ses(&body.status);
    match sim.with_regions(|regions, now| {
        regions.force_status(&region, &name, status, body.error_type, now)
    }) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            let status = match error.kind {
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, error.message).into_response()
        }
    }
}
