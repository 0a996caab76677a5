//! Keeps a DNS report for every identity: checks in the background after each sweep (the
//! identities that are not SUCCESS, and those whose SES state changed, first; then the
//! oldest results), and at once when an operator asks. Pages read the reports only.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, RwLock},
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::checker::Checker;
use crate::dns_check::DnsReport;
use crate::inventory::{Inventory, now};
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};

/// Identities checked per round of the background loop, before it looks at the inventory
/// again (so new sweeps and "check now" reshuffle the order soon).
const BATCH: usize = 64;
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
    reports: RwLock<HashMap<IdentityKey, Stored>>,
    per_user: DefaultKeyedRateLimiter<String>,
}

/// A report and the SES state it was made for: a change of that state makes it due.
#[derive(Clone)]
struct Stored {
    report: DnsReport,
    state: SesState,
}

/// The parts of an identity's SES state its records depend on.
#[derive(Clone, PartialEq, Eq)]
struct SesState {
    status: DkimStatus,
    tokens: Vec<String>,
    zone: Option<String>,
    origin: Option<crate::model::SigningOrigin>,
    public_key: Option<String>,
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
    /// A monitor over `checker`, with no reports yet.
    pub fn new(checker: Checker) -> Self {
        let per_ten_seconds = Quota::with_period(Duration::from_secs(10))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(CHECK_NOW_BURST).unwrap_or(NonZeroU32::MIN));
        Self {
            inner: Arc::new(Inner {
                checker,
                reports: RwLock::default(),
                per_user: RateLimiter::keyed(per_ten_seconds),
            }),
        }
    }

    /// The latest report of `key`, if it was checked.
    pub fn report(&self, key: &IdentityKey) -> Option<DnsReport> {
        read(&self.inner.reports).get(key).map(|s| s.report.clone())
    }

    /// Every report, for the table and the overview.
    pub fn reports(&self) -> HashMap<IdentityKey, DnsReport> {
        read(&self.inner.reports)
            .iter()
            .map(|(k, s)| (k.clone(), s.report.clone()))
            .collect()
    }

    /// The health of every checked identity, for the table's filter and counts.
    pub fn healths(&self) -> crate::dns_check::DnsHealths {
        read(&self.inner.reports)
            .iter()
            .map(|(k, s)| (k.clone(), s.report.health()))
            .collect()
    }

    /// Checks `identity` now for `user` (the "Check DNS now" button), within the user's
    /// rate limit.
    pub async fn check_now(
        &self,
        inventory: &Inventory,
        identity: &Identity,
        user: &str,
    ) -> Result<DnsReport, TooSoon> {
        if let Err(not_until) = self.inner.per_user.check_key(&user.to_owned()) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            return Err(TooSoon {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(self.check_one(inventory, identity).await)
    }

    /// Checks identities forever, the most urgent first.
    pub fn spawn(&self, inventory: Inventory) -> tokio::task::JoinHandle<()> {
        let monitor = self.clone();
        let mut changes = inventory.subscribe();
        tokio::spawn(async move {
            loop {
                let snapshot = inventory.snapshot();
                monitor.retain(&snapshot.identities);
                let due = monitor.due(&snapshot.identities, &inventory, now());
                if due.is_empty() {
                    // A finished sweep wakes the loop at once; otherwise it looks again
                    // when answers expire.
                    let waited = tokio::time::timeout(IDLE_WAIT, changes.changed()).await;
                    if let Ok(Err(_closed)) = waited {
                        tokio::time::sleep(IDLE_WAIT).await;
                    }
                    continue;
                }
                let batch = due.into_iter().take(BATCH);
                futures::future::join_all(batch.map(|i| monitor.check_one(&inventory, i))).await;
            }
        })
    }

    /// Checks one identity and keeps its report.
    async fn check_one(&self, inventory: &Inventory, identity: &Identity) -> DnsReport {
        let public_key = inventory.known_public_key(identity);
        let records = crate::records::dkim_records(identity, public_key.as_deref());
        let report = self.inner.checker.check(&records, now()).await;
        let stored = Stored {
            report: report.clone(),
            state: state_of(identity, public_key),
        };
        write(&self.inner.reports).insert(identity.key(), stored);
        report
    }

    /// Identities whose report is missing, stale or made for another SES state, most
    /// urgent first: not SUCCESS before SUCCESS, never checked or changed before merely
    /// expired, then the oldest result first.
    fn due<'a>(
        &self,
        identities: &'a [Identity],
        inventory: &Inventory,
        now: UnixSeconds,
    ) -> Vec<&'a Identity> {
        let reports = read(&self.inner.reports);
        let mut due: Vec<(u8, UnixSeconds, &Identity)> = identities
            .iter()
            // Until the details are read, a BYODKIM selector cannot be told from Easy DKIM
            // tokens (SES's bulk read gives no origin): wait rather than check the wrong type.
            .filter(|i| !i.dkim.tokens.is_empty() && i.dkim.origin.is_some())
            .filter_map(|identity| {
                let healthy = identity.dkim.status == DkimStatus::Success;
                let rank_status = u8::from(healthy) * 2;
                match reports.get(&identity.key()) {
                    None => Some((rank_status, 0, identity)),
                    Some(stored)
                        if stored.state
                            != state_of(identity, inventory.known_public_key(identity)) =>
                    {
                        Some((rank_status, 0, identity))
                    }
                    Some(stored) if is_stale(&stored.report, healthy, now) => {
                        Some((rank_status + 1, stored.report.checked_at, identity))
                    }
                    Some(_) => None,
                }
            })
            .collect();
        due.sort_by_key(|(rank, checked_at, _)| (*rank, *checked_at));
        due.into_iter().map(|(_, _, identity)| identity).collect()
    }

    /// Drops the reports of identities the inventory no longer has.
    pub fn retain(&self, identities: &[Identity]) {
        let keys: std::collections::HashSet<IdentityKey> =
            identities.iter().map(Identity::key).collect();
        write(&self.inner.reports).retain(|key, _| keys.contains(key));
    }
}

/// Whether a report should be made again: its answers expired (every identity), or a
/// day has passed (SUCCESS identities, whose long TTLs must not hide a broken record).
fn is_stale(report: &DnsReport, healthy: bool, now: UnixSeconds) -> bool {
    now >= report.fresh_until || (healthy && now - report.checked_at >= SUCCESS_RECHECK_SECS)
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

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}
