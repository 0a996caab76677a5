//! A simulated Cloudflare API v4 (`/client/v4/…`, JSON in Cloudflare's envelope) for the
//! endpoints dkimdash uses: zones, and DNS records listed, created, changed and deleted.
//! Tokens are configured with what they may do (read zones, edit DNS), as Cloudflare's
//! token permissions are; a rate-limit fault answers 429 with `Retry-After`. A control API
//! under `/_cloudflare/` lets tests and the demo add zones, tokens and faults.

pub mod api;
pub mod store;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::sim::serving::Serving;
use crate::unpoisoned::lock;
use store::Store;

/// What a token may do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenScopes {
    /// Zone → Zone → Read: the zones are listed.
    pub zone_read: bool,
    /// Zone → DNS → Read: records are listed.
    pub dns_read: bool,
    /// Zone → DNS → Edit: records are created, changed and deleted.
    pub dns_edit: bool,
}

impl TokenScopes {
    /// Everything dkimdash needs.
    pub fn all() -> Self {
        Self {
            zone_read: true,
            dns_read: true,
            dns_edit: true,
        }
    }
}

/// Injected trouble.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// The next this many calls are answered 429 with `Retry-After: 1`.
    #[serde(default)]
    pub rate_limit: u32,
}

/// What has been served.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Calls served, by `METHOD path-pattern`.
    pub calls: BTreeMap<String, u64>,
    /// Calls answered 429.
    pub rate_limited: u64,
    /// Creates and changes of a CNAME that did not say whether it is proxied (the API's
    /// default may not be what the operator's zone defaults to).
    pub proxied_unstated: u64,
}

/// What runs after each write (see `on_write`).
pub type WriteHook = Arc<dyn Fn() + Send + Sync>;

/// A handle on the simulated account; cheap to clone.
#[derive(Clone)]
pub struct CloudflareSim {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    tokens: Mutex<BTreeMap<String, TokenScopes>>,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    /// Called after every write made through the API, before it is answered: whoever
    /// mirrors the records (the demo's DNS) is up to date when the client hears back.
    on_write: Mutex<Option<WriteHook>>,
}

impl Default for CloudflareSim {
    fn default() -> Self {
        Self::new()
    }
}

impl CloudflareSim {
    /// An account with no zones and no tokens.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                store: Mutex::default(),
                tokens: Mutex::default(),
                faults: Mutex::default(),
                stats: Mutex::default(),
                on_write: Mutex::default(),
            }),
        }
    }

    /// The zones and records.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    /// Accepts `token` with `scopes`.
    pub fn add_token(&self, token: &str, scopes: TokenScopes) {
        lock(&self.inner.tokens).insert(token.to_owned(), scopes);
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

    fn scopes(&self, token: &str) -> Option<TokenScopes> {
        lock(&self.inner.tokens).get(token).cloned()
    }

    /// Takes one rate-limit fault if one is due.
    fn rate_limited(&self) -> bool {
        let mut faults = lock(&self.inner.faults);
        if faults.rate_limit > 0 {
            faults.rate_limit -= 1;
            lock(&self.inner.stats).rate_limited += 1;
            true
        } else {
            false
        }
    }

    fn count(&self, call: &str) {
        *lock(&self.inner.stats)
            .calls
            .entry(call.to_owned())
            .or_default() += 1;
    }

    fn proxied_unstated(&self) {
        lock(&self.inner.stats).proxied_unstated += 1;
    }

    /// The HTTP service: the API under `/client/v4` and the control API.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/client/v4", api::routes())
            .nest("/_cloudflare", api::control_routes())
            .fallback(api::unknown)
            .with_state(self.clone())
    }
}

/// A simulated Cloudflare serving on a socket; dropping it stops the server.
pub struct RunningCloudflare {
    pub sim: CloudflareSim,
    pub addr: SocketAddr,
    _serving: Serving,
}

impl RunningCloudflare {
    /// The API base to configure as `api_url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }
}

/// Binds `listen` and serves an empty account in the background.
pub async fn spawn(listen: SocketAddr) -> std::io::Result<RunningCloudflare> {
    let sim = CloudflareSim::new();
    let serving = Serving::start(listen, sim.router(), "Cloudflare simulator").await?;
    Ok(RunningCloudflare {
        addr: serving.addr,
        sim,
        _serving: serving,
    })
}
