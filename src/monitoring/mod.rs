//! `/metrics` in the Prometheus text format (the `metrics` facade and its Prometheus
//! exporter): HTTP requests as they happen, and, at each scrape, the state dkimdash holds:
//! identities by target, status and origin, SES calls by operation, sweeps, DNS findings,
//! alerts firing. A recorder of its own per server (no process-wide recorder), so what
//! one server counts never leaks into another's figures.

pub mod gauges;
pub mod http;
pub mod options;
pub mod per_identity;

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

pub use options::{MetricsAccess, MetricsOptions};

/// Upper bounds of the request-duration histogram's buckets, in seconds.
const REQUEST_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Requests between two foldings of the request-duration samples into their buckets.
const UPKEEP_EVERY: u64 = 256;

/// The server's metrics: what is counted as it happens, and who may read them.
#[derive(Clone)]
pub struct Metrics {
    live: Arc<PrometheusRecorder>,
    /// Requests counted, to fold the histogram's samples into its buckets now and then.
    counted: Arc<AtomicU64>,
    /// Who may read `/metrics`, and what it includes.
    pub access: Arc<MetricsAccess>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(MetricsAccess::default())
    }
}

impl Metrics {
    /// Metrics read as `access` says.
    pub fn new(access: MetricsAccess) -> Self {
        let live = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(http::REQUEST_DURATION.to_owned()),
                REQUEST_BUCKETS,
            )
            .expect("the bucket list is not empty")
            .build_recorder();
        metrics::with_local_recorder(&live, http::describe);
        Self {
            live: Arc::new(live),
            counted: Arc::default(),
            access: Arc::new(access),
        }
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        metrics::with_local_recorder(&*self.live, || {
            http::record(route, method, status, took);
        });
        // The recorder keeps each duration until it folds them into buckets (on a scrape,
        // or here): bounded memory even when nobody scrapes.
        if self.counted.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.live.handle().run_upkeep();
        }
    }

    /// What was counted as it happened, in the text format.
    pub fn render_live(&self) -> String {
        self.live.handle().render()
    }
}
