//! The cached inventory every page reads. SES is read only by sweeps (on an interval, or
//! when an operator asks), never by a page. A sweep that fails keeps the last good read
//! of that target and records the error.

pub mod known_since;
pub mod snapshot;
pub mod sweep;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::{Mutex, watch};

use crate::model::{Identity, IdentityKey, UnixSeconds};
use crate::ses::{budget::CallCounts, error::Error, reader::SesConnection};
use crate::unpoisoned::lock;
use known_since::KnownSince;
use snapshot::Snapshot;

/// How soon to try again while some target has never been read (first start, SES down).
const RETRY_UNREAD_AFTER: Duration = Duration::from_secs(15);
/// Details read between two publishes of the continuous backfill.
const BACKFILL_CHUNK: usize = 20;
/// How long a page waits for the details another page is reading from SES.
const DETAILS_READ_WAIT: Duration = Duration::from_millis(500);
/// How long the continuous backfill waits after a failed read.
const BACKFILL_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Least time between two forced refreshes ("Refresh now"): each sweeps every target, and
/// the SES quota and each target's call budget are shared with operators' changes.
pub const FORCED_REFRESH_COOLDOWN: Duration = Duration::from_secs(60);

/// What a "Refresh now" did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForcedRefresh {
    /// A sweep started.
    Started,
    /// A sweep was running already: its result is the refresh.
    Joined,
    /// The last forced refresh started less than [`FORCED_REFRESH_COOLDOWN`] ago.
    TooSoon {
        /// How long until the next one may start.
        retry_after: Duration,
    },
}

/// How the inventory refreshes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshSettings {
    /// Time between background sweeps.
    pub interval: Duration,
    /// Most identities per target whose missing details are read after each sweep (0:
    /// none), unless `continuous_backfill`.
    pub backfill_per_sweep: usize,
    /// Read every missing detail continuously instead, as fast as the target's call
    /// budget allows after what sweeps and operators need (the server's default).
    pub continuous_backfill: bool,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            backfill_per_sweep: 0,
            continuous_backfill: true,
        }
    }
}

/// The inventory: readers for every target and the latest snapshot. Cheap to clone.
#[derive(Clone)]
pub struct Inventory {
    inner: Arc<Inner>,
}

struct Inner {
    readers: Vec<SesConnection>,
    settings: RefreshSettings,
    snapshot: watch::Sender<Arc<Snapshot>>,
    /// Held for the length of a sweep: one sweep at a time.
    sweep_lock: Mutex<()>,
    /// Counts finished sweeps, so a trigger that found one running can wait for it.
    completed: watch::Sender<u64>,
    sweeping: AtomicBool,
    /// Counts the snapshots a request published (see [`Inventory::requested_updates`]).
    requested_updates: AtomicU64,
    /// When the last forced refresh started.
    last_forced: std::sync::Mutex<Option<std::time::Instant>>,
    /// How long each target's last sweep took (its list and batch reads), by account and
    /// region.
    sweep_durations:
        std::sync::Mutex<std::collections::HashMap<(String, String), std::time::Duration>>,
    /// BYODKIM public keys the dashboard set (SES never returns them), with their selector;
    /// in memory only, so the records page can show the TXT value to publish.
    public_keys: std::sync::Mutex<std::collections::HashMap<IdentityKey, (String, String)>>,
    /// Since when identities held their status before this process started (the
    /// history's times), laid over every snapshot published and kept only for targets not
    /// read yet; `None` until given: each `status_seen_since` is then this process's first
    /// sight.
    known_since: std::sync::Mutex<Option<KnownSince>>,
    /// One lock per identity whose missing details a page is reading now: many viewers of
    /// one identity wait for one read instead of each queueing a call at the target.
    details_reads: std::sync::Mutex<std::collections::HashMap<IdentityKey, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field(
                "targets",
                &self
                    .inner
                    .readers
                    .iter()
                    .map(|r| r.target.label())
                    .collect::<Vec<_>>(),
            )
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl Inventory {
    /// An inventory over `readers`, empty until the first sweep.
    pub fn new(readers: Vec<SesConnection>, settings: RefreshSettings) -> Self {
        let snapshot = Snapshot::for_targets(readers.iter().map(|r| &r.target));
        Self {
            inner: Arc::new(Inner {
                readers,
                settings,
                snapshot: watch::Sender::new(Arc::new(snapshot)),
                sweep_lock: Mutex::new(()),
                completed: watch::Sender::new(0),
                sweeping: AtomicBool::new(false),
                requested_updates: AtomicU64::new(0),
                last_forced: std::sync::Mutex::default(),
                sweep_durations: std::sync::Mutex::default(),
                public_keys: std::sync::Mutex::default(),
                known_since: std::sync::Mutex::default(),
                details_reads: std::sync::Mutex::default(),
            }),
        }
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot.borrow().clone()
    }

    /// Notified whenever the snapshot changes (a sweep, a re-read, a change).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.inner.snapshot.subscribe()
    }

    /// How many sweeps have finished since the server started.
    pub fn sweeps_completed(&self) -> u64 {
        *self.inner.completed.borrow()
    }

    /// How many times a request updated the snapshot (an operator's change or a page
    /// reading one identity again, an identity SES no longer has dropped), counted after
    /// the update is published: unlike the background's updates, what a request changed
    /// must show on the next page at once.
    pub fn requested_updates(&self) -> u64 {
        self.inner.requested_updates.load(Ordering::Acquire)
    }

    /// Whether a sweep is running now.
    pub fn is_sweeping(&self) -> bool {
        self.inner.sweeping.load(Ordering::Relaxed)
    }

    /// SES calls made so far, summed over targets.
    pub fn call_counts(&self) -> CallCounts {
        self.inner.readers.iter().map(SesConnection::counts).fold(
            CallCounts::default(),
            |sum, c| CallCounts {
                calls: sum.calls + c.calls,
                throttled: sum.throttled + c.throttled,
                retries: sum.retries + c.retries,
            },
        )
    }

    /// Sweeps every target now. Single-flight: if a sweep is already running, waits for
    /// that one instead of starting another.
    pub async fn refresh_now(&self) {
        let mut completed = self.inner.completed.subscribe();
        let seen = *completed.borrow_and_update();
        let Ok(_guard) = self.inner.sweep_lock.try_lock() else {
            let _ = completed.wait_for(|n| *n > seen).await;
            return;
        };
        self.inner.sweeping.store(true, Ordering::Relaxed);
        futures::future::join_all(
            self.inner
                .readers
                .iter()
                .map(|reader| self.sweep_target(reader)),
        )
        .await;
        self.inner.sweeping.store(false, Ordering::Relaxed);
        self.inner.completed.send_modify(|n| *n += 1);
    }

    /// "Refresh now": starts a sweep in the background unless one is running (then that
    /// one is the refresh) or the last forced one started under a minute ago. Returns at
    /// once.
    pub fn force_refresh(&self) -> ForcedRefresh {
        if self.inner.sweeping.load(Ordering::Relaxed) {
            return ForcedRefresh::Joined;
        }
        let mut last = lock(&self.inner.last_forced);
        if let Some(at) = *last
            && at.elapsed() < FORCED_REFRESH_COOLDOWN
        {
            return ForcedRefresh::TooSoon {
                retry_after: FORCED_REFRESH_COOLDOWN - at.elapsed(),
            };
        }
        *last = Some(std::time::Instant::now());
        drop(last);
        let inventory = self.clone();
        tokio::spawn(async move { inventory.refresh_now().await });
        ForcedRefresh::Started
    }

    /// Re-reads one identity's full details now (an operator opened or changed it) and
    /// swaps it into the snapshot; an identity SES no longer has is dropped.
    pub async fn refresh_identity(&self, key: &IdentityKey) -> Result<Identity, Error> {
        let reader = self.connection(&key.account, &key.region).ok_or_else(|| {
            Error::NotFound(format!(
                "no configured target {}/{}",
                key.account, key.region
            ))
        })?;
        match reader.details(&key.name, now()).await {
            Ok(identity) => {
                self.publish(|s| s.with_identity(identity.clone()));
                self.inner.requested_updates.fetch_add(1, Ordering::Release);
                Ok(identity)
            }
            Err(error @ Error::NotFound(_)) => {
                self.forget(key);
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// `identity` with its full details: as it is if they were read, else read from SES
    /// once for everyone asking at the same time (a page opened before the backfill
    /// reached it). Who finds a read going on waits for it a moment, then takes `identity`
    /// as it is: many viewers never queue many calls, and a slow read (or one whose page
    /// gave up, which still runs) holds no one else's page up. An identity SES no longer
    /// has is dropped, as by [`Self::refresh_identity`].
    pub async fn with_details(&self, identity: Arc<Identity>) -> Result<Arc<Identity>, Error> {
        if identity.details_read_at.is_some() {
            return Ok(identity);
        }
        let key = identity.key();
        let read = lock(&self.inner.details_reads)
            .entry(key.clone())
            .or_default()
            .clone();
        let Ok(reading) = tokio::time::timeout(DETAILS_READ_WAIT, read.lock()).await else {
            return Ok(identity);
        };
        // Whoever held the lock before may have read it.
        let now_known = self
            .snapshot()
            .get(&key.account, &key.region, &key.name)
            .filter(|i| i.details_read_at.is_some())
            .cloned();
        let answer = match now_known {
            Some(known) => Ok(known),
            None => self.refresh_identity(&key).await.map(Arc::new),
        };
        drop(reading);
        // The last one out removes the lock (the map's and this one are the only holders).
        let mut reads = lock(&self.inner.details_reads);
        if Arc::strong_count(&read) == 2 {
            reads.remove(&key);
        }
        answer
    }

    /// Drops one identity from the snapshot at once (SES said it no longer exists).
    pub fn forget(&self, key: &IdentityKey) {
        self.publish(|s| s.without_identity(key));
        self.inner.requested_updates.fetch_add(1, Ordering::Release);
    }

    /// Takes `known` (since when identities held their DKIM status before this process
    /// started: the history's times) as earlier than this process's first sight: laid
    /// over the identities read so far now, and over each other target's first read.
    pub fn adopt_known_since(&self, known: KnownSince) {
        *lock(&self.inner.known_since) = Some(known);
        self.publish(Snapshot::clone);
    }

    /// Whether times from before this process started were adopted
    /// ([`Inventory::adopt_known_since`]); if not, each `status_seen_since` is this
    /// process's first sight of the status.
    pub fn knows_status_since_before_start(&self) -> bool {
        lock(&self.inner.known_since).is_some()
    }

    /// Every target's SES connection, in configuration order.
    pub fn connections(&self) -> &[SesConnection] {
        &self.inner.readers
    }

    /// How long each target's last sweep took, by account and region.
    pub fn sweep_durations(&self) -> Vec<((String, String), std::time::Duration)> {
        let durations = lock(&self.inner.sweep_durations);
        durations.iter().map(|(k, d)| (k.clone(), *d)).collect()
    }

    /// The SES connection of `account` in `region`, if the dashboard reads that target.
    pub fn connection(&self, account: &str, region: &str) -> Option<&SesConnection> {
        self.inner
            .readers
            .iter()
            .find(|r| r.target.account == account && r.target.region == region)
    }

    /// Remembers the public key of a BYODKIM key the dashboard gave SES under `selector`.
    pub fn remember_public_key(&self, key: IdentityKey, selector: &str, public_key: String) {
        let mut keys = lock(&self.inner.public_keys);
        keys.insert(key, (selector.to_owned(), public_key));
    }

    /// The remembered public key for `key` (an [`IdentityKey`] or the identity itself), if
    /// it was set under `selector`.
    pub fn public_key(&self, key: &dyn crate::model::KeyParts, selector: &str) -> Option<String> {
        let keys = lock(&self.inner.public_keys);
        keys.get(key)
            .filter(|(known, _)| known == selector)
            .map(|(_, public_key)| public_key.clone())
    }

    /// The DNS records `identity` needs, with the BYODKIM TXT value when the dashboard set
    /// the key (SES never returns public keys).
    pub fn records_of(&self, identity: &Identity) -> Vec<crate::model::DnsRecord> {
        crate::records::dkim_records(identity, self.known_public_key(identity).as_deref())
    }

    /// The public key the dashboard set for `identity`'s current selector, if it did.
    pub fn known_public_key(&self, identity: &Identity) -> Option<String> {
        let selector = identity.dkim.tokens.first()?;
        // Asked of every identity at each DNS plan: no key built for it.
        self.public_key(identity, selector)
    }

    /// Sweeps forever: every `interval`, or sooner while a target has never been read; and,
    /// unless a per-sweep backfill is set, reads missing details continuously. Aborting
    /// the handle stops both.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let inventory = self.clone();
        tokio::spawn(async move {
            // Dropped with this task, which aborts the backfills.
            let mut backfills = tokio::task::JoinSet::new();
            if inventory.inner.settings.continuous_backfill {
                for index in 0..inventory.inner.readers.len() {
                    backfills.spawn(inventory.clone().backfill_forever(index));
                }
            }
            loop {
                inventory.refresh_now().await;
                let unread = inventory
                    .snapshot()
                    .targets
                    .iter()
                    .any(|t| t.last_success.is_none());
                let interval = inventory.inner.settings.interval;
                let wait = if unread {
                    RETRY_UNREAD_AFTER.min(interval)
                } else {
                    interval
                };
                tokio::time::sleep(wait).await;
            }
        })
    }

    /// One target: sweep, publish, then fill in missing details and publish again.
    async fn sweep_target(&self, reader: &SesConnection) {
        let target = &reader.target;
        let before = self.snapshot();
        let previous = before.identities_of(target);
        let first_sweep = !before.has_read(target);
        let started = std::time::Instant::now();
        let swept = sweep::sweep(reader, &previous, first_sweep, now()).await;
        lock(&self.inner.sweep_durations).insert(
            (target.account.clone(), target.region.clone()),
            started.elapsed(),
        );
        match swept {
            Ok(identities) => {
                tracing::info!(target = %target.label(), identities = identities.len(), "sweep done");
                self.publish(|s| s.with_read(target, identities.clone(), now()));
                // Swapped in one by one, by key: an identity re-read meanwhile (an operator
                // opened or changed it) is not overwritten by this older list, and the
                // target's "last read" stays the sweep's.
                let limit = self.inner.settings.backfill_per_sweep;
                if !self.inner.settings.continuous_backfill && limit > 0 {
                    let read = sweep::backfill(reader, &identities, limit, now()).await;
                    if !read.is_empty() {
                        self.publish(|s| s.with_identities(read));
                    }
                }
            }
            Err(error) => {
                tracing::warn!(target = %target.label(), %error, "sweep failed; keeping the last good read");
                self.publish(|s| s.with_failure(target, error.to_string(), now()));
            }
        }
    }

    /// Reads the details of target `index`'s identities that have none, a few at a time in
    /// the background lane of its call budget (sweeps and operators go first), publishing
    /// each few; waits for the next snapshot when none is missing, and a while after a
    /// failure.
    async fn backfill_forever(self, index: usize) {
        let Some(reader) = self.inner.readers.get(index) else {
            return;
        };
        let mut changes = self.subscribe();
        loop {
            // Marked seen before it is read: a change from now on wakes the wait below.
            let snapshot = changes.borrow_and_update().clone();
            let wanting: Vec<Identity> =
                sweep::wanting_details(snapshot.identities.iter().map(Arc::as_ref).filter(|i| {
                    i.account == reader.target.account && i.region == reader.target.region
                }))
                .into_iter()
                .take(BACKFILL_CHUNK)
                .cloned()
                .collect();
            drop(snapshot);
            if wanting.is_empty() {
                if changes.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let read = sweep::backfill(reader, &wanting, BACKFILL_CHUNK, now()).await;
            let stopped = read.len() < wanting.len();
            if !read.is_empty() {
                self.publish(|s| s.with_identities(read));
            }
            if stopped {
                tokio::time::sleep(BACKFILL_RETRY_AFTER).await;
            }
        }
    }

    /// Swaps in the next snapshot, computed from the current one, with the times known
    /// from before this process started laid over it.
    fn publish(&self, next: impl FnOnce(&Snapshot) -> Snapshot) {
        self.inner.snapshot.send_modify(|current| {
            let mut next = next(current);
            // Always locked inside the snapshot's lock, never around it.
            if let Some(known) = lock(&self.inner.known_since).as_mut() {
                known.lay_over(&mut next);
            }
            *current = Arc::new(next);
        });
    }
}

/// Now, in Unix seconds.
pub fn now() -> UnixSeconds {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
