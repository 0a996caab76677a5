//! A simulated Amazon Route 53: an HTTP server on loopback that speaks the Route 53 REST/XML
//! API (2013-04-01) for hosted zones, record sets and changes, closely enough that the real
//! AWS SDK, and any other Route 53 client, talk to it unchanged. Requests must be
//! SigV4-signed (any credentials).
//!
//! It follows the API reference where the third-party fakes do not: a CREATE of a record set
//! that exists fails the whole batch, a DELETE must name the exact values, a CNAME shares its
//! name with nothing, TXT strings are quoted and at most 255 characters, and a change stays
//! PENDING for a while before it is INSYNC. A control API under `/_route53/` lets tests and
//! the demo inject throttling and refusals and read what was called.

pub mod api;
pub mod control;
pub mod store;
pub mod xml;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::sim::serving::Serving;
use crate::unpoisoned::lock;
use store::Store;

/// How the simulated Route 53 starts.
#[derive(Clone, Debug)]
pub struct Route53Config {
    /// Address to serve on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// How long a change stays PENDING before GetChange says INSYNC.
    pub in_sync_after: Duration,
}

impl Default for Route53Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            in_sync_after: Duration::from_secs(2),
        }
    }
}

/// Injected trouble, for tests: each count answers that many of the next calls with the
/// error instead of serving them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// `Throttling` ("Rate exceeded"), HTTP 400.
    #[serde(default)]
    pub throttle: u32,
    /// `PriorRequestNotComplete`, HTTP 400, for ChangeResourceRecordSets only.
    #[serde(default)]
    pub prior_request_not_complete: u32,
    /// IAM actions (`route53:ChangeResourceRecordSets`, …) the caller is not allowed:
    /// answered `AccessDenied`, HTTP 403, as long as they are listed.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// What the simulated Route 53 has served.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Calls served (not refused by a fault) by operation.
    pub calls: BTreeMap<String, u64>,
    /// Calls answered with an injected fault, by error code.
    pub faults: BTreeMap<String, u64>,
    /// Milliseconds since the server started at which each ChangeResourceRecordSets
    /// call was accepted, for tests of pacing.
    pub change_times_ms: Vec<u64>,
}

/// What runs after each write (see `on_write`).
pub type WriteHook = Arc<dyn Fn() + Send + Sync>;

/// A handle on the simulated Route 53's state; cheap to clone.
#[derive(Clone)]
pub struct Route53Sim {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    /// Called after every write made through the API, before it is answered: whoever
    /// mirrors the records (the demo's DNS) is up to date when the client hears back.
    on_write: Mutex<Option<WriteHook>>,
    in_sync_after: Duration,
    started: Instant,
}

impl Route53Sim {
    /// An empty account.
    pub fn new(config: &Route53Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: Mutex::default(),
                faults: Mutex::default(),
                stats: Mutex::default(),
                on_write: Mutex::default(),
                in_sync_after: config.in_sync_after,
                started: Instant::now(),
            }),
        }
    }

    /// The zones and records, to read or change directly (tests, the demo).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.inner.faults) = faults;
    }

    /// Calls `hook` after every write made through the API, before answering it.
    pub fn on_write(&self, hook: WriteHook) {
        *lock(&self.inner.on_write) = Some(hook);
    }

    fn wrote(&self) {
        let hook = lock(&self.inner.on_write).clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// What has been served so far.
    pub fn stats(&self) -> Stats {
        lock(&self.inner.stats).clone()
    }

    /// Lets a call of `action` (its IAM name, `route53:…`) through, or answers the fault
    /// due for it.
    fn admit(&self, action: &str, zone: Option<&str>) -> Result<(), api::Route53Error> {
        let mut faults = lock(&self.inner.faults);
        let mut stats = lock(&self.inner.stats);
        let operation = action.trim_start_matches("route53:");
        let refused = if faults.deny.iter().any(|d| d == action) {
            Some(api::Route53Error::access_denied(action, zone))
        } else if faults.throttle > 0 {
            faults.throttle -= 1;
            Some(api::Route53Error::throttling())
        } else if faults.prior_request_not_complete > 0 && operation == "ChangeResourceRecordSets" {
            faults.prior_request_not_complete -= 1;
            Some(api::Route53Error::prior_request_not_complete())
        } else {
            None
        };
        if let Some(error) = refused {
            *stats.faults.entry(error.code.to_owned()).or_default() += 1;
            return Err(error);
        }
        *stats.calls.entry(operation.to_owned()).or_default() += 1;
        if operation == "ChangeResourceRecordSets" {
            let at = self.inner.started.elapsed().as_millis() as u64;
            stats.change_times_ms.push(at);
        }
        Ok(())
    }

    /// Whether a change submitted at `submitted_at_ms` (Unix milliseconds) has propagated.
    fn in_sync(&self, submitted_at_ms: i64) -> bool {
        now_ms() >= submitted_at_ms + self.inner.in_sync_after.as_millis() as i64
    }

    /// The HTTP service: Route 53's API and the control API.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(api::routes())
            .nest("/_route53", control::routes())
            .fallback(api::unknown_operation)
            .with_state(self.clone())
    }
}

/// A simulated Route 53 serving on a socket; dropping it stops the server.
pub struct RunningRoute53 {
    pub sim: Route53Sim,
    pub addr: SocketAddr,
    _serving: Serving,
}

impl RunningRoute53 {
    /// The base URL to give an SDK as its endpoint.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds the configured address and serves in the background.
pub async fn spawn(config: Route53Config) -> std::io::Result<RunningRoute53> {
    let sim = Route53Sim::new(&config);
    let serving = Serving::start(config.listen, sim.router(), "Route 53 simulator").await?;
    Ok(RunningRoute53 {
        addr: serving.addr,
        sim,
        _serving: serving,
    })
}

/// Unix seconds now.
fn now() -> i64 {
    now_ms() / 1000
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
