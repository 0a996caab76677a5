//! The simulated Route 53's control API (`/_route53/…`, JSON), for tests and the demo: what
//! was called, injected faults, and every zone's records as they stand.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde::Serialize;

use super::{Faults, Route53Sim, Stats};

pub fn routes() -> Router<Route53Sim> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .route("/faults", post(set_faults))
        .route("/zones", get(zones))
}

async fn stats(State(sim): State<Route53Sim>) -> Json<Stats> {
    Json(sim.stats())
}

async fn set_faults(State(sim): State<Route53Sim>, Json(faults): Json<Faults>) -> Json<Faults> {
    sim.set_faults(faults.clone());
    Json(faults)
}

/// A zone and its record sets, as the control API lists them.
#[derive(Serialize)]
pub struct ZoneView {
    pub id: String,
    pub name: String,
    pub private: bool,
    pub name_servers: Vec<String>,
    pub record_sets: Vec<RecordSetView>,
}

/// One record set.
#[derive(Serialize)]
pub struct RecordSetView {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub ttl: u32,
    pub values: Vec<String>,
}

async fn zones(State(sim): State<Route53Sim>) -> Json<Vec<ZoneView>> {
    let store = sim.store();
    Json(
        store
            .zones()
            .map(|zone| ZoneView {
                id: zone.id.clone(),
                name: zone.name.clone(),
                private: zone.private,
                name_servers: zone.name_servers.clone(),
                record_sets: zone
                    .record_sets
                    .values()
                    .map(|set| RecordSetView {
                        name: set.name.clone(),
                        record_type: set.record_type.clone(),
                        ttl: set.ttl,
                        values: set.values.clone(),
                    })
                    .collect(),
            })
            .collect(),
    )
}
