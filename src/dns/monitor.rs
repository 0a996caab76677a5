//! Keeps a DNS report for every identity: checks in the background after each sweep (the
//! identities that are not SUCCESS, and those whose SES state changed, first; then the
//! oldest results), and at once when an operator asks. Pages read the reports only.
//!
//! The background checks run as a pool of a bounded number of identities at a time: when
//! one ends, the next due starts, so one slow domain never holds up the others. A record
//! that could not be checked is tried again later and later (doubling, up to a ceiling).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    num::NonZeroU32,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::FuturesUnordered};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::checker::Checker;
use super::store::{Kept, ReportStore, SesState, StateMark};
use crate::dns_check::{DnsProgress, DnsReport, Findings};
use crate::inventory::{Inventory, now, snapshot::Snapshot};
use crate::memo::{Memo, Same};
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};
use crate::unpoisoned::{lock, read, write};

/// How often the background loop looks at the inventory again while it works (so new
/// sweeps and state changes reorder what is due soon).
const REPLAN: Duration = Duration::from_secs(5);
/// Most due identities taken from one look at the inventory.
const PLAN_LENGTH: usize = 1024;
/// A check that could not complete is tried again after this, doubled each time in a row...
const RETRY_FIRST_SECS: UnixSeconds = 60;
/// ...up to this.
const RETRY_CEILING_SECS: UnixSeconds = 6 * 3600;
/// How long "Check DNS now" waits for its answer before saying the check goes on (well
/// within the default 30 s request timeout).
pub const CHECK_NOW_DEADLINE: Duration = Duration::from_secs(20);
/// Longest the background loop sleeps when nothing is due.
const IDLE_WAIT: Duration = Duration::from_secs(30);
/// A SUCCESS identity is checked again at least this often, whatever its TTLs.
pub const SUCCESS_RECHECK_SECS: UnixSeconds = 24 * 3600;
/// "Check DNS now" per user: a short burst, then one a ten seconds.
const CHECK_NOW_BURST: u32 = 5;

/// The reports and the checker that fills them. Cheap to clone.
#[derive(Clone)]
pub struct DnsMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    checker: Checker,
    reports: RwLock<HashMap<IdentityKey, Kept>>,
    per_user: DefaultKeyedRateLimiter<String>,
    /// How long "Check DNS now" waits before answering that the check goes on.
    answer_deadline: Duration,
    /// Where reports are kept across restarts, once [`DnsMonitor::keep_in`] set it.
    store: std::sync::OnceLock<ReportStore>,
    /// When the last checks ended, for the time left.
    pace: Mutex<Pace>,
    /// Counts the changes of what a report found (not the mere passing of time), so
    /// the history and the alerts wake when a result changes instead of polling.
    changes: tokio::sync::watch::Sender<u64>,
    /// The reports of the last snapshot asked for, built once per change of the reports
    /// or of the snapshot and shared by every reader.
    view: Memo<(Same<Snapshot>, u64), DnsReports>,
    /// Their healths, for every page of the table: built once per change of a finding
    /// (a check that confirms the last one changes no health).
    healths: Memo<(Same<Snapshot>, u64), crate::dns_check::DnsHealths>,
    /// How far the checks are, for every overview: counted once per change of a finding,
    /// of the snapshot or of the second (the time left moves with the pace).
    progress: Memo<(Same<Snapshot>, u64, UnixSeconds), DnsProgress>,
    /// Counts every change to the kept reports, for the view.
    generation: std::sync::atomic::AtomicU64,
    /// Counts the changes of what a report found, for the healths.
    findings: std::sync::atomic::AtomicU64,
}

/// What the current report of each identity of one snapshot found (each shared with the
/// monitor's own).
pub type DnsReports = HashMap<IdentityKey, Arc<Findings>>;

/// The current reports of the identities of one snapshot, shared.
pub type DnsView = Arc<DnsReports>;

/// What "Check DNS now" got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckNow {
    /// The new report.
    Checked(DnsReport),
    /// Not done within the deadline; the check goes on and its report will be kept.
    StillChecking,
}

impl std::fmt::Debug for DnsMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsMonitor")
            .field("checker", &self.inner.checker)
            .finish_non_exhaustive()
    }
}

/// "Check DNS now" was asked too often.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DNS was checked for you a moment ago; try again in {retry_after_secs} s")]
pub struct TooSoon {
    /// Seconds until the next check is allowed.
    pub retry_after_secs: u64,
}

impl DnsMonitor {
    /// A monitor over `checker`, with no reports yet, answering "Check DNS now" within
    /// [`CHECK_NOW_DEADLINE`].
    pub fn new(checker: Checker) -> Self {
        Self::with_answer_deadline(checker, CHECK_NOW_DEADLINE)
    }

    /// The same, answering "Check DNS now" within `answer_deadline` (shorter than the
    /// server's request timeout).
    pub fn with_answer_deadline(checker: Checker, answer_deadline: Duration) -> Self {
        let per_ten_seconds = Quota::with_period(Duration::from_secs(10))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(CHECK_NOW_BURST).unwrap_or(NonZeroU32::MIN));
        Self {
            inner: Arc::new(Inner {
                checker,
                reports: RwLock::default(),
                per_user: RateLimiter::keyed(per_ten_seconds),
                answer_deadline,
                store: std::sync::OnceLock::new(),
                pace: Mutex::default(),
                changes: tokio::sync::watch::Sender::new(0),
                view: Memo::default(),
                healths: Memo::default(),
                progress: Memo::default(),
                generation: std::sync::atomic::AtomicU64::new(0),
                findings: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Keeps the reports in `store` from now on, starting from those it holds (read before
    /// the background loop starts, so a restart asks again only what is due). Returns how
    /// many were read.
    pub async fn keep_in(
        &self,
        store: ReportStore,
    ) -> Result<usize, crate::audit::log::AuditError> {
        let rows = store.load().await?;
        let count = rows.len();
        write(&self.inner.reports).extend(rows);
        self.changed(true);
        // Set once; a second call keeps the first store.
        let _ = self.inner.store.set(store);
        Ok(count)
    }

    /// The nameservers the zone of `name` is delegated to, if DNS says.
    pub async fn delegation_of(&self, name: &str) -> Option<Vec<String>> {
        self.inner.checker.delegation_of(name).await
    }

    /// The latest report of `identity`, if one was made for the records it has now (a
    /// report kept from before a restart may be for tokens SES has since replaced).
    pub fn report(&self, identity: &Identity, inventory: &Inventory) -> Option<DnsReport> {
        let public_key = inventory.known_public_key(identity);
        let reports = read(&self.inner.reports);
        let kept = current(&reports, identity, public_key.as_deref())?;
        let records = kept.state.records_for(identity, public_key.as_deref());
        kept.report.with_records(records)
    }

    /// The report of every identity in `snapshot` that has one for its records now, for
    /// the table, the overview, the history and the metrics.
    pub fn reports(&self, snapshot: &Snapshot, inventory: &Inventory) -> DnsReports {
        let reports = read(&self.inner.reports);
        snapshot
            .identities
            .iter()
            .filter_map(|identity| {
                let public_key = inventory.known_public_key(identity);
                let kept = current(&reports, identity, public_key.as_deref())?;
                Some((identity.key(), kept.report.clone()))
            })
            .collect()
    }

    /// The same reports, shared: built once per change of the reports or of the snapshot,
    /// however many readers ask (the history, the alerts).
    pub fn view(&self, snapshot: &Arc<Snapshot>, inventory: &Inventory) -> DnsView {
        let inputs = (Same::of(snapshot), self.generation());
        self.inner
            .view
            .get(inputs, || self.reports(snapshot, inventory))
    }

    /// Counts the changes to what reports found (see [`DnsMonitor::subscribe`]): the DNS
    /// healths, and so the overview's figures, change only with it.
    pub fn findings(&self) -> u64 {
        self.inner
            .findings
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Changes when what a report found changes (a new finding, a report made or
    /// forgotten), not when a check merely confirms the last one.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records a change to the kept reports; `found_something_new` wakes the subscribers.
    fn changed(&self, found_something_new: bool) {
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if found_something_new {
            self.inner
                .findings
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// The health of every identity in the inventory that has a report for its records
    /// now, for the table's filter and counts: built once per change of a finding or of
    /// the snapshot, shared by every page.
    pub fn healths(&self, inventory: &Inventory) -> Arc<crate::dns_check::DnsHealths> {
        self.healths_of(&inventory.snapshot(), inventory)
    }

    /// [`Self::healths`] of the identities of `snapshot`.
    pub fn healths_of(
        &self,
        snapshot: &Arc<Snapshot>,
        inventory: &Inventory,
    ) -> Arc<crate::dns_check::DnsHealths> {
        let findings = self
            .inner
            .findings
            .load(std::sync::atomic::Ordering::SeqCst);
        self.inner.healths.get((Same::of(snapshot), findings), || {
            use crate::dns_check::{DnsHealth, DnsHealths};
            // Every identity with records: its current report's health, unchecked without
            // one. Read from the kept reports in place: a request builds this for each new
            // snapshot, and the view (a map of every identity's report) was rebuilt first.
            let reports = read(&self.inner.reports);
            let exceptions = snapshot
                .identities
                .iter()
                .filter(|identity| !identity.dkim.tokens.is_empty())
                .filter_map(|identity| {
                    let public_key = inventory.known_public_key(identity);
                    let kept = current(&reports, identity, public_key.as_deref());
                    let health = kept.map_or(DnsHealth::Unchecked, |kept| kept.report.health());
                    (health != DnsHealth::Ok).then(|| (identity.key(), health))
                })
                .collect();
            DnsHealths::with_exceptions(exceptions, DnsHealth::Ok)
        })
    }

    /// Checks `identity` now for `user` (the "Check DNS now" button), within the user's
    /// rate limit, ahead of the background queue; answers within the deadline either way.
    pub async fn check_now(
        &self,
        inventory: &Inventory,
        identity: &Identity,
        user: &str,
    ) -> Result<CheckNow, TooSoon> {
        if let Err(not_until) = self.inner.per_user.check_key(&user.to_owned()) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            return Err(TooSoon {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        // Its own task: past the deadline the check goes on and keeps its report.
        let check = tokio::spawn({
            let (monitor, inventory, identity) =
                (self.clone(), inventory.clone(), identity.clone());
            async move { super::lanes::in_foreground(monitor.check_one(&inventory, &identity)).await }
        });
        match tokio::time::timeout(self.inner.answer_deadline, check).await {
            Ok(Ok(report)) => Ok(CheckNow::Checked(report)),
            Ok(Err(_)) | Err(_) => Ok(CheckNow::StillChecking),
        }
    }

    /// Checks identities forever, the most urgent first, a bounded number at a time.
    pub fn spawn(&self, inventory: Inventory) -> tokio::task::JoinHandle<()> {
        let monitor = self.clone();
        tokio::spawn(async move { monitor.run(inventory).await })
    }

    async fn run(&self, inventory: Inventory) {
        let mut changes = inventory.subscribe();
        let concurrency = self.inner.checker.settings().concurrency.max(1);
        let mut plan: VecDeque<Identity> = VecDeque::new();
        let mut planned_at: Option<Instant> = None;
        let mut in_flight: HashSet<IdentityKey> = HashSet::new();
        let mut running = FuturesUnordered::new();
        loop {
            // Not on every completion: planning reads the whole inventory.
            if planned_at.is_none_or(|at| at.elapsed() >= REPLAN) {
                let snapshot = inventory.snapshot();
                self.retain(&snapshot);
                plan = self
                    .due(&snapshot.identities, &inventory, now())
                    .into_iter()
                    .filter(|i| !in_flight.contains(&i.key()))
                    .take(PLAN_LENGTH)
                    .cloned()
                    .collect();
                planned_at = Some(Instant::now());
            }
            while running.len() < concurrency {
                let Some(identity) = plan.pop_front() else {
                    break;
                };
                in_flight.insert(identity.key());
                let inventory = &inventory;
                running.push(async move {
                    self.check_one(inventory, &identity).await;
                    identity.key()
                });
            }
            if running.is_empty() {
                // A finished sweep wakes the loop at once; otherwise it looks again when
                // answers expire.
                let waited = tokio::time::timeout(IDLE_WAIT, changes.changed()).await;
                if let Ok(Err(_closed)) = waited {
                    tokio::time::sleep(IDLE_WAIT).await;
                }
                planned_at = None;
                continue;
            }
            tokio::select! {
                Some(done) = running.next() => {
                    in_flight.remove(&done);
                }
                () = tokio::time::sleep(REPLAN) => {}
            }
        }
    }

    /// Checks one identity and keeps its report.
    async fn check_one(&self, inventory: &Inventory, identity: &Identity) -> DnsReport {
        let public_key = inventory.known_public_key(identity);
        let records = crate::records::dkim_records(identity, public_key.as_deref());
        let report = self.inner.checker.check(&records, now()).await;
        let incomplete = report
            .records
            .iter()
            .any(|r| matches!(r.finding, crate::dns_check::Finding::CouldNotCheck { .. }));
        lock(&self.inner.pace).record();
        let key = identity.key();
        let prior_failures = read(&self.inner.reports)
            .get(&key)
            .map_or(0, |prior| prior.failures);
        let state = state_of(identity, public_key);
        let kept = Kept {
            report: Arc::new(Findings::of(&report)),
            state: StateMark::of(&state),
            failures: if incomplete {
                prior_failures.saturating_add(1)
            } else {
                0
            },
        };
        // Stored first: a report shown is one a restart will still have.
        if let Some(store) = self.inner.store.get()
            && let Err(error) = store.save(&key, &report, &state, kept.failures).await
        {
            // The report stays in memory; only a restart would check it again.
            tracing::warn!(%error, identity = %key.name, "could not keep a DNS report");
        }
        let prior = write(&self.inner.reports).insert(key, kept.clone());
        self.changed(prior.is_none_or(|prior| !prior.finds_the_same_as(&kept)));
        report
    }

    /// Identities whose report is missing, stale or made for another SES state, most
    /// urgent first: not SUCCESS before SUCCESS, never checked or changed before merely
    /// expired, then the oldest result first.
    fn due<'a>(
        &self,
        identities: &'a [Arc<Identity>],
        inventory: &Inventory,
        now: UnixSeconds,
    ) -> Vec<&'a Identity> {
        let reports = read(&self.inner.reports);
        let mut due: Vec<(u8, UnixSeconds, &Identity)> = identities
            .iter()
            .map(Arc::as_ref)
            .filter_map(|identity| {
                let rank_status = u8::from(identity.dkim.status == DkimStatus::Success) * 2;
                match standing(&reports, identity, inventory, now) {
                    Standing::Unchecked => Some((rank_status, 0, identity)),
                    Standing::Expired { checked_at } => {
                        Some((rank_status + 1, checked_at, identity))
                    }
                    Standing::Current | Standing::AwaitingDetails | Standing::NothingToCheck => {
                        None
                    }
                }
            })
            .collect();
        due.sort_by_key(|(rank, checked_at, _)| (*rank, *checked_at));
        due.into_iter().map(|(_, _, identity)| identity).collect()
    }

    /// How far the checks are: of the identities with records, how many have a report
    /// for their current SES state, and about how long the rest will take at the pace of
    /// the last checks.
    pub fn progress(&self, inventory: &Inventory) -> DnsProgress {
        let snapshot = inventory.snapshot();
        let now = now();
        let findings = self
            .inner
            .findings
            .load(std::sync::atomic::Ordering::SeqCst);
        let inputs = (Same::of(&snapshot), findings, now);
        let progress = self
            .inner
            .progress
            .get(inputs, || self.count_progress(&snapshot, inventory, now));
        *progress
    }

    fn count_progress(
        &self,
        snapshot: &Snapshot,
        inventory: &Inventory,
        now: UnixSeconds,
    ) -> DnsProgress {
        let reports = read(&self.inner.reports);
        let mut progress = DnsProgress::default();
        for identity in &snapshot.identities {
            match standing(&reports, identity, inventory, now) {
                Standing::NothingToCheck => continue,
                Standing::Current | Standing::Expired { .. } => progress.checked += 1,
                Standing::AwaitingDetails => progress.awaiting_details += 1,
                Standing::Unchecked => {}
            }
            progress.with_records += 1;
        }
        drop(reports);
        let left = progress.with_records - progress.checked - progress.awaiting_details;
        progress.seconds_left = lock(&self.inner.pace).seconds_for(left);
        progress
    }

    /// Drops the reports of identities the inventory no longer has (in memory at once; in
    /// the store, when there is one, in the background). A target not read yet since the
    /// start keeps its reports: its identities are not known to be gone.
    pub fn retain(&self, snapshot: &Snapshot) {
        let keys: HashSet<IdentityKey> = snapshot.identities.iter().map(|i| i.key()).collect();
        let unread: HashSet<(&str, &str)> = snapshot
            .targets
            .iter()
            .filter(|t| t.last_success.is_none())
            .map(|t| (t.account.as_str(), t.region.as_str()))
            .collect();
        let mut gone = Vec::new();
        write(&self.inner.reports).retain(|key, _| {
            let keep =
                keys.contains(key) || unread.contains(&(key.account.as_str(), key.region.as_str()));
            if !keep {
                gone.push(key.clone());
            }
            keep
        });
        if !gone.is_empty() {
            self.changed(true);
        }
        if let (false, Some(store)) = (gone.is_empty(), self.inner.store.get()) {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(error) = store.forget(&gone).await {
                    tracing::warn!(%error, "could not forget the DNS reports of deleted identities");
                }
            });
        }
    }
}

/// How long a reader waits after a DNS change before it looks, so the many results of a
/// pass wake it once, not once each.
const SETTLE: Duration = Duration::from_secs(10);

/// Waits for what the history and the alerts look again after: a new snapshot, a DNS
/// result that found something new (after [`SETTLE`]), or `tick` when given. `Err` when
/// the inventory is gone.
pub async fn next_change(
    snapshots: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    dns: Option<&mut tokio::sync::watch::Receiver<u64>>,
    tick: Option<Duration>,
) -> Result<(), tokio::sync::watch::error::RecvError> {
    let dns_change = async {
        let Some(dns) = dns else {
            return std::future::pending().await;
        };
        match dns.changed().await {
            Ok(()) => tokio::time::sleep(SETTLE).await,
            // The monitor is gone: nothing more to wait for.
            Err(_) => std::future::pending().await,
        }
    };
    let tick = async {
        match tick {
            Some(tick) => tokio::time::sleep(tick).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        changed = snapshots.changed() => changed,
        () = dns_change => Ok(()),
        () = tick => Ok(()),
    }
}

/// Rounds of the history and the alerts (each over the whole inventory) take at most
/// one part in this many of a core: after a round, the next waits this many times as long
/// as it took. At 100,000 identities an alert round takes about a second, and a first
/// start's details backfill publishes a new snapshot every fraction of one.
const ROUND_SHARE: u32 = 5;

/// Waits out the rest of the pause a round that took `took`, and ended at `ended`, owes
/// (see [`ROUND_SHARE`]); the next round then reads the newest snapshot.
pub async fn space_after(took: Duration, ended: Instant) {
    let rest = pause_left(took, ended.elapsed());
    if !rest.is_zero() {
        tokio::time::sleep(rest).await;
    }
}

/// What is left of the pause a round that took `took` owes, `since` it ended.
fn pause_left(took: Duration, since: Duration) -> Duration {
    (took * (ROUND_SHARE - 1)).saturating_sub(since)
}

/// Where one identity stands with its DNS checks.
enum Standing {
    /// No records to check (DKIM not set up).
    NothingToCheck,
    /// Records, but which type is not known until SES's details are read.
    AwaitingDetails,
    /// No report for the identity's current SES state.
    Unchecked,
    /// A report for its current state, due again (expired, or a day old for SUCCESS).
    Expired { checked_at: UnixSeconds },
    /// A report for its current state, still fresh.
    Current,
}

fn standing(
    reports: &HashMap<IdentityKey, Kept>,
    identity: &Identity,
    inventory: &Inventory,
    now: UnixSeconds,
) -> Standing {
    if identity.dkim.tokens.is_empty() {
        return Standing::NothingToCheck;
    }
    // Until the details are read, a BYODKIM selector cannot be told from Easy DKIM
    // tokens (SES's bulk read gives no origin): wait rather than check the wrong type.
    if identity.dkim.origin.is_none() {
        return Standing::AwaitingDetails;
    }
    let healthy = identity.dkim.status == DkimStatus::Success;
    match reports.get(identity as &dyn crate::model::KeyParts) {
        Some(kept)
            if kept.state == mark_of(identity, inventory.known_public_key(identity).as_deref()) =>
        {
            if is_stale(kept, healthy, now) {
                Standing::Expired {
                    checked_at: kept.report.checked_at,
                }
            } else {
                Standing::Current
            }
        }
        _ => Standing::Unchecked,
    }
}

/// The kept report of `identity` if it was made for the records the identity has now,
/// with `public_key` (the one the dashboard knows for it).
fn current<'a>(
    reports: &'a HashMap<IdentityKey, Kept>,
    identity: &Identity,
    public_key: Option<&str>,
) -> Option<&'a Kept> {
    let kept = reports.get(identity as &dyn crate::model::KeyParts)?;
    kept.state
        .has_records_of(&mark_of(identity, public_key))
        .then_some(kept)
}

/// The pace of the last checks: when each of them ended.
#[derive(Default)]
struct Pace {
    ended: VecDeque<Instant>,
}

impl Pace {
    /// Checks remembered for the pace.
    const WINDOW: usize = 256;
    /// Fewer checks than this give no estimate.
    const MIN_SAMPLE: usize = 8;

    fn record(&mut self) {
        self.record_at(Instant::now());
    }

    fn record_at(&mut self, at: Instant) {
        if self.ended.len() == Self::WINDOW {
            self.ended.pop_front();
        }
        self.ended.push_back(at);
    }

    /// Seconds to check `left` identities at the recent pace.
    fn seconds_for(&self, left: usize) -> Option<u64> {
        self.seconds_for_at(left, Instant::now())
    }

    fn seconds_for_at(&self, left: usize, now: Instant) -> Option<u64> {
        if left == 0 || self.ended.len() < Self::MIN_SAMPLE {
            return None;
        }
        let (first, last) = (self.ended.front()?, self.ended.back()?);
        let span = last.duration_since(*first).as_secs_f64().max(0.001);
        let per_second = (self.ended.len() - 1) as f64 / span;
        // A pace not seen lately (the loop idle) is no pace.
        if now.duration_since(*last).as_secs_f64() > span.max(60.0) {
            return None;
        }
        Some((left as f64 / per_second).ceil() as u64)
    }
}

/// Whether a report should be made again: its answers expired (every identity), or a
/// day has passed (SUCCESS identities, whose long TTLs must not hide a broken record). A
/// report with records that could not be checked waits longer each time in a row.
fn is_stale(stored: &Kept, healthy: bool, now: UnixSeconds) -> bool {
    let report = &stored.report;
    let due_at = match stored.failures {
        0 => report.fresh_until,
        failures => report.checked_at + retry_after(failures),
    };
    now >= due_at || (healthy && now - report.checked_at >= SUCCESS_RECHECK_SECS)
}

/// Seconds before a check that failed `failures` times in a row is tried again.
fn retry_after(failures: u32) -> UnixSeconds {
    let doublings = failures.saturating_sub(1).min(16);
    (RETRY_FIRST_SECS << doublings).min(RETRY_CEILING_SECS)
}

/// The mark of `identity`'s state now, made in place (it is asked of every identity at
/// each plan).
fn mark_of(identity: &Identity, public_key: Option<&str>) -> StateMark {
    let dkim = &identity.dkim;
    StateMark::new(
        &dkim.status,
        &dkim.tokens,
        dkim.signing_hosted_zone.as_deref(),
        dkim.origin.as_ref(),
        public_key,
    )
}

fn state_of(identity: &Identity, public_key: Option<String>) -> SesState {
    SesState {
        status: identity.dkim.status.clone(),
        tokens: identity.dkim.tokens.clone(),
        zone: identity.dkim.signing_hosted_zone.clone(),
        origin: identity.dkim.origin.clone(),
        public_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_takes_at_most_its_share_of_the_time() {
        let second = Duration::from_secs(1);
        // A round of a second, over 100,000 identities: the next starts 4 s after it ended.
        assert_eq!(pause_left(second, Duration::ZERO), 4 * second);
        assert_eq!(pause_left(second, 3 * second), second);
        assert_eq!(pause_left(second, 10 * second), Duration::ZERO);
        // A round of a millisecond, a small inventory: no pause to speak of.
        assert_eq!(
            pause_left(Duration::from_millis(1), Duration::ZERO),
            Duration::from_millis(4)
        );
    }

    #[test]
    fn checks_that_could_not_complete_back_off_to_a_ceiling() {
        assert_eq!(retry_after(1), 60);
        assert_eq!(retry_after(2), 120);
        assert_eq!(retry_after(5), 960);
        assert_eq!(retry_after(9), 15_360);
        assert_eq!(retry_after(10), RETRY_CEILING_SECS);
        assert_eq!(retry_after(u32::MAX), RETRY_CEILING_SECS);
    }

    #[test]
    fn a_failing_report_is_due_after_its_backoff_not_its_ttl() {
        let stored = |failures| Kept {
            report: Arc::new(Findings::new(Vec::new(), 1000, 1060)),
            state: StateMark::of(&SesState {
                status: DkimStatus::Pending,
                tokens: Vec::new(),
                zone: None,
                origin: None,
                public_key: None,
            }),
            failures,
        };
        assert!(is_stale(&stored(0), false, 1060));
        assert!(is_stale(&stored(1), false, 1060));
        assert!(!is_stale(&stored(3), false, 1060), "third failure: 240 s");
        assert!(is_stale(&stored(3), false, 1240));
    }

    #[test]
    fn the_time_left_follows_the_recent_pace() {
        let start = Instant::now();
        let mut pace = Pace::default();
        assert_eq!(pace.seconds_for_at(100, start), None, "no pace yet");
        // 11 checks over 10 s: one a second.
        for n in 0..=10 {
            pace.record_at(start + Duration::from_secs(n));
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(pace.seconds_for_at(100, now), Some(100));
        assert_eq!(pace.seconds_for_at(0, now), None, "nothing left");
        assert_eq!(
            pace.seconds_for_at(100, now + Duration::from_secs(3600)),
            None,
            "an hour idle is no pace"
        );
        for n in 0..Pace::WINDOW as u64 {
            pace.record_at(now + Duration::from_millis(100 * (n + 1)));
        }
        let later = now + Duration::from_millis(100 * Pace::WINDOW as u64);
        assert_eq!(
            pace.seconds_for_at(100, later),
            Some(10),
            "only the last checks count: ten a second"
        );
    }
}
