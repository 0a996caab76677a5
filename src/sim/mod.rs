//! The embedded SES simulator: an HTTP server on loopback that speaks SES API v2
//! (REST/JSON) and v1 (Query/XML) closely enough that the real AWS SDKs, and any other
//! SES client, talk to it unchanged. Requests must be SigV4-signed (any credentials);
//! the signing region picks the simulated region.
//!
//! Behaviour follows SES: validation and errors, per-region call quotas answered with
//! throttling errors, PENDING after every change. A control API under `/_sim/` lets tests
//! and the demo set statuses, quotas, injected faults and the clock.

pub mod control;
pub mod error;
pub mod identity;
pub mod seed;
pub mod serving;
pub mod store;
pub mod v1;
pub mod v2;
pub mod validate;
pub mod xml_text;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    num::NonZeroU32,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{Router, http::HeaderMap, routing::post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::Rng;
use serde::Serialize;

use crate::model::UnixSeconds;
use crate::unpoisoned::lock;
use error::SimError;
use store::Regions;

/// How far a test may move the simulator's clock from real time: a century.
pub const MAX_CLOCK_OFFSET_SECS: i64 = 100 * 366 * 24 * 3600;

/// How the simulator starts.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Address to serve on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// SES management calls allowed per second per region; `None` for no limit.
    pub calls_per_second: Option<NonZeroU32>,
    /// PENDING identities (created or switched through the API) verify after this long.
    pub auto_verify_after: Option<Duration>,
    /// Load the demo identities at start.
    pub seed_demo: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            calls_per_second: NonZeroU32::new(1),
            auto_verify_after: None,
            seed_demo: false,
        }
    }
}

/// Injected trouble, for fault tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Faults {
    /// Extra delay before every answer, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of admitted calls (0.0–1.0) answered with an internal error.
    #[serde(default)]
    pub error_rate: f64,
}

/// What the simulator has served, for tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// Admitted calls by region, then operation.
    pub calls: BTreeMap<String, BTreeMap<String, u64>>,
    /// Calls refused for exceeding the quota.
    pub throttled: u64,
    /// Calls answered with an injected error.
    pub injected_failures: u64,
}

impl Stats {
    /// Admitted calls across all regions and operations.
    pub fn total_calls(&self) -> u64 {
        self.calls.values().flat_map(BTreeMap::values).sum()
    }

    /// Admitted calls of one operation across regions.
    pub fn calls_of(&self, operation: &str) -> u64 {
        self.calls
            .values()
            .filter_map(|ops| ops.get(operation))
            .sum()
    }
}

/// A handle on the simulator's state, shared by its handlers; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    regions: Mutex<Regions>,
    limiter: Mutex<Option<Arc<DefaultKeyedRateLimiter<String>>>>,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    clock_offset: AtomicI64,
}

impl Simulator {
    /// A simulator with the config's quota and schedule (and demo data if asked).
    pub fn new(config: &SimConfig) -> Self {
        let auto_verify = config.auto_verify_after.map(|d| d.as_secs() as UnixSeconds);
        let simulator = Self {
            inner: Arc::new(Inner {
                regions: Mutex::new(Regions::new(auto_verify)),
                limiter: Mutex::new(None),
                faults: Mutex::new(Faults::default()),
                stats: Mutex::new(Stats::default()),
                clock_offset: AtomicI64::new(0),
            }),
        };
        simulator.set_quota(config.calls_per_second);
        if config.seed_demo {
            let now = simulator.now();
            seed::demo(&mut simulator.regions(), now);
        }
        simulator
    }

    /// The simulator's clock: real time plus any offset a test advanced it by.
    pub fn now(&self) -> UnixSeconds {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        real + self.inner.clock_offset.load(Ordering::Relaxed)
    }

    /// Moves the clock forward (e.g. past SES's one-key-change-a-day rule), or back with a
    /// negative `seconds`. The clock stays within [`MAX_CLOCK_OFFSET_SECS`] of real time, so
    /// no timestamp SES reports can overflow; a move beyond that is refused.
    pub fn advance_clock(&self, seconds: i64) -> Result<(), String> {
        self.inner
            .clock_offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                offset
                    .checked_add(seconds)
                    .filter(|total| total.abs() <= MAX_CLOCK_OFFSET_SECS)
            })
            .map(|_| ())
            .map_err(|offset| {
                format!(
                    "the clock may move at most {MAX_CLOCK_OFFSET_SECS} s from real time (it is {offset} s off now)"
                )
            })
    }

    /// Sets the per-region quota; `None` removes it.
    pub fn set_quota(&self, calls_per_second: Option<NonZeroU32>) {
        let limiter = calls_per_second.map(|n| Arc::new(RateLimiter::keyed(Quota::per_second(n))));
        *lock(&self.inner.limiter) = limiter;
    }

    /// Sets the injected latency and error rate.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.inner.faults) = faults;
    }

    /// What has been served so far.
    pub fn stats(&self) -> Stats {
        lock(&self.inner.stats).clone()
    }

    /// Starts counting afresh.
    pub fn reset_stats(&self) {
        *lock(&self.inner.stats) = Stats::default();
    }

    /// Direct access to the identities (seeding, tests).
    pub fn regions(&self) -> MutexGuard<'_, Regions> {
        lock(&self.inner.regions)
    }

    /// Runs an operation on the identities at the simulator's current time.
    pub fn with_regions<T>(&self, operation: impl FnOnce(&mut Regions, UnixSeconds) -> T) -> T {
        let now = self.now();
        operation(&mut self.regions(), now)
    }

    /// Admits one SES call: checks the signature's presence and reads its region, then
    /// applies injected latency, the region's quota and injected errors, and counts it.
    pub async fn admit(&self, headers: &HeaderMap, operation: &str) -> Result<String, SimError> {
        let region = signing_region(headers)?;
        let faults = *lock(&self.inner.faults);
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        let limiter = lock(&self.inner.limiter).clone();
        if let Some(limiter) = limiter
            && limiter.check_key(&region).is_err()
        {
            lock(&self.inner.stats).throttled += 1;
            return Err(SimError::too_many_requests());
        }
        if faults.error_rate > 0.0 && rand::thread_rng().gen_bool(faults.error_rate.clamp(0.0, 1.0))
        {
            lock(&self.inner.stats).injected_failures += 1;
            return Err(SimError::internal());
        }
        *lock(&self.inner.stats)
            .calls
            .entry(region.clone())
            .or_default()
            .entry(operation.to_owned())
            .or_default() += 1;
        Ok(region)
    }

    /// The simulator's HTTP service: SES v2, SES v1 and the control API.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(v2::routes())
            .route("/", post(v1::handle))
            .nest("/_sim", control::routes())
            .fallback(unknown_operation)
            .with_state(self.clone())
    }
}

/// A simulator serving on a socket; dropping it stops the server.
pub struct RunningSimulator {
    /// The simulator's state.
    pub simulator: Simulator,
    /// Where it listens.
    pub addr: SocketAddr,
    _serving: serving::Serving,
}

impl RunningSimulator {
    /// The base URL to give an SDK as its endpoint.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds the configured address and serves the simulator in the background.
pub async fn spawn(config: SimConfig) -> std::io::Result<RunningSimulator> {
    let simulator = Simulator::new(&config);
    let serving =
        serving::Serving::start(config.listen, simulator.router(), "SES simulator").await?;
    Ok(RunningSimulator {
        simulator,
        addr: serving.addr,
        _serving: serving,
    })
}

/// The region from the SigV4 credential scope
/// (`Credential=AKID/20261123/eu-west-1/ses/aws4_request`).
fn signing_region(headers: &HeaderMap) -> Result<String, SimError> {
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(SimError::missing_authentication)?;
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|credential| credential.split('/').nth(2))
        .filter(|region| !region.is_empty())
        .map(str::to_owned)
        .ok_or_else(SimError::missing_authentication)
}

/// Anything else: say which request was not understood, instead of an empty 404.
async fn unknown_operation(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> (axum::http::StatusCode, String) {
    (
        axum::http::StatusCode::NOT_FOUND,
        format!("the dkimdash SES simulator does not implement {method} {uri}"),
    )
}

/// A fresh request id, as SES puts in every answer.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "00000000-0000-4000-8000-{:012x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn region_comes_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-1/ses/aws4_request, SignedHeaders=host, Signature=abc",
            ),
        );
        assert_eq!(signing_region(&headers).unwrap(), "eu-west-1");
    }

    #[test]
    fn unsigned_requests_are_refused() {
        assert_eq!(
            signing_region(&HeaderMap::new()).unwrap_err().kind,
            error::ErrorKind::MissingAuthentication
        );
    }
}
