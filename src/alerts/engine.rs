//! Raises and resolves alerts: after every sweep (and every minute, for the rules that
//! wait), each rule's verdict is compared with what is firing. A new firing alert and a
//! resolved one are written with their deliveries in one transaction; what is firing is
//! read back from the database at start, so a restart sends nothing twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::bell::Bell;
use super::evaluate::{Alert, Inputs, Verdict, evaluate};
use super::first_start::{KNOWN_AT_FIRST_START, read_in_full};
use super::outbox::Outgoing;
use super::rule::Severity;
use super::rules::AlertSettings;
use super::silence::silenced_until;
use super::store::AlertStore;
use super::tracker::Tracker;
use crate::audit::log::AuditError;
use crate::background::cpu_bound;
use crate::dns::monitor::{DnsMonitor, DnsReports, next_change, space_after};
use crate::history::store::History;
use crate::inventory::{Inventory, known_since::KnownSince, snapshot::Snapshot};
use crate::model::UnixSeconds;

/// How often the rules are looked at without a new sweep or DNS result (PENDING for H
/// hours, a target failing for M minutes).
const TICK: Duration = Duration::from_secs(60);

/// What one evaluation changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// Alerts that started firing.
    pub fired: usize,
    /// Alerts that resolved.
    pub resolved: usize,
    /// Firings queued again because the silence that held them ended.
    pub unsilenced: usize,
}

/// What the engine keeps of an alert firing now: its row, and its labels (what its posts
/// are routed and grouped by). What it says stays in the database: at 100,000 identities
/// ten thousand alerts may fire, and their text held here was most of the engine's memory.
#[derive(Debug)]
struct Firing {
    id: i64,
    labels: BTreeMap<String, String>,
}

/// The rules, what is firing, and the memory the rules need.
#[derive(Debug)]
pub struct Engine {
    settings: Arc<AlertSettings>,
    store: AlertStore,
    tracker: Tracker,
    /// Firing now, by fingerprint; `None` until read from the database.
    firing: Option<HashMap<String, Firing>>,
    /// The first start on this database lasts: info-level alerts are not posted.
    first_start: bool,
    /// Each identity's status and since when, from the history at start; an entry goes
    /// once its identity is seen in another status.
    known_since: KnownSince,
}

impl Engine {
    /// An engine applying `settings`, writing to `store`.
    pub fn new(settings: Arc<AlertSettings>, store: AlertStore) -> Self {
        Self {
            settings,
            store,
            tracker: Tracker::default(),
            firing: None,
            first_start: false,
            known_since: KnownSince::default(),
        }
    }

    /// Applies the rules to `snapshot` (and the DNS reports, when checks are on) at `now`:
    /// fires what newly holds, resolves what no longer does, queues their deliveries.
    pub async fn evaluate(
        &mut self,
        snapshot: &Snapshot,
        dns: Option<&DnsReports>,
        now: UnixSeconds,
    ) -> Result<Changed, AuditError> {
        if self.firing.is_none() {
            self.first_start = self.store.first_start_lasts(now).await?;
            let stored = self.store.firing().await?;
            self.known_since = History::new(self.store.log().clone())
                .status_since()
                .await?;
            self.firing = Some(
                stored
                    .into_iter()
                    .map(|a| {
                        let firing = Firing {
                            id: a.id,
                            labels: a.labels,
                        };
                        (a.fingerprint, firing)
                    })
                    .collect(),
            );
        }
        cpu_bound(|| {
            self.tracker.observe(snapshot);
            self.known_since.forget_outdated(snapshot);
        });
        let firing = self.firing.take().unwrap_or_default();
        let result = self.apply(snapshot, dns, now, firing).await;
        let (firing, changed) = result;
        self.firing = Some(firing);
        let mut changed = changed?;
        changed.unsilenced = self.queue_unsilenced(now).await?;
        // Identities read in full in this sweep were still seen for the first time.
        if self.first_start && read_in_full(snapshot) {
            self.store.end_first_start(now).await?;
            self.first_start = false;
            tracing::info!(
                "first start over: every identity has been read once; every alert is posted from now on"
            );
        }
        Ok(changed)
    }

    /// Queues again the firings a silence held back, once no silence covers them: the
    /// receivers hear of an alert that outlasted its silence.
    async fn queue_unsilenced(&self, now: UnixSeconds) -> Result<usize, AuditError> {
        let held = self.store.silenced_firing().await?;
        if held.is_empty() {
            return Ok(0);
        }
        let silences = self.store.active_silences(now).await?;
        let mut queued = 0;
        for firing in held {
            if silenced_until(&silences, &firing.labels, &firing.fingerprint, now).is_some() {
                continue;
            }
            let post = self
                .posts(&firing.labels, false)
                .into_iter()
                .find(|post| post.receiver == firing.receiver);
            if let Some(post) = post {
                self.store.queue_again(firing.alert_id, now, &post).await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    async fn apply(
        &self,
        snapshot: &Snapshot,
        dns: Option<&DnsReports>,
        now: UnixSeconds,
        mut firing: HashMap<String, Firing>,
    ) -> (HashMap<String, Firing>, Result<Changed, AuditError>) {
        let fingerprints: HashSet<String> = firing.keys().cloned().collect();
        let inputs = Inputs {
            snapshot,
            dns,
            temporary_failure_reads: &self.tracker.temporary_failure_reads,
            failing_since: &self.tracker.failing_since,
            known_since: &self.known_since,
            firing: &fingerprints,
            now,
        };
        let verdicts = cpu_bound(|| evaluate(&self.settings.rules, &inputs));
        let mut changed = Changed::default();
        let mut first_error = None;

        let mut ended: Vec<String> = firing
            .iter()
            .filter(|(fingerprint, alert)| match verdicts.get(*fingerprint) {
                Some(Verdict::Firing(_) | Verdict::StillHolds | Verdict::Unknown) => false,
                Some(Verdict::Clear) => true,
                // No verdict: its identity is gone, its rule turned off, or its target was
                // not read yet (then nothing is known: it stays).
                None => !unread_target(snapshot, &alert.labels),
            })
            .map(|(fingerprint, _)| fingerprint.clone())
            .collect();
        ended.sort();
        for fingerprint in ended {
            let Some(alert) = firing.get(&fingerprint) else {
                continue;
            };
            let posts = self.posts(&alert.labels, false);
            if let Err(error) = self.store.resolve(alert.id, now, &posts).await {
                // The others are still resolved; this one is tried again next round.
                tracing::error!(%error, fingerprint, "could not resolve an alert");
                first_error.get_or_insert(error);
                continue;
            }
            tracing::info!(alert = %alert.labels.get("alertname").map_or("", |s| s), fingerprint, "alert resolved");
            firing.remove(&fingerprint);
            changed.resolved += 1;
        }

        let mut new: Vec<(&String, &Alert)> = verdicts
            .iter()
            .filter_map(|(fingerprint, verdict)| match verdict {
                Verdict::Firing(alert) if !firing.contains_key(fingerprint) => {
                    Some((fingerprint, alert))
                }
                _ => None,
            })
            .collect();
        new.sort_by(|a, b| a.0.cmp(b.0));
        for (fingerprint, alert) in new {
            let posts = self.posts(&alert.labels, self.first_start);
            let id = match self
                .store
                .fire(fingerprint, &alert.labels, &alert.annotations, now, &posts)
                .await
            {
                Ok(id) => id,
                Err(error) => {
                    tracing::error!(%error, fingerprint, "could not raise an alert");
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            tracing::info!(alert = alert.rule.name(), fingerprint, "alert firing");
            let labels = alert.labels.clone();
            firing.insert(fingerprint.clone(), Firing { id, labels });
            changed.fired += 1;
        }
        (firing, first_error.map_or(Ok(changed), Err))
    }

    /// The news for each receiver whose route takes the alert of `labels`, in the
    /// receiver's group; an info-level alert firing at the `first_start` is queued as
    /// skipped.
    fn posts(&self, labels: &BTreeMap<String, String>, first_start: bool) -> Vec<Outgoing> {
        let rule = labels
            .get("alertname")
            .and_then(|name| super::rule::Rule::named(name));
        let skip = (first_start && rule.is_some_and(|rule| rule.level() == Severity::Info))
            .then_some(KNOWN_AT_FIRST_START);
        self.settings
            .receivers
            .iter()
            // An alert of a rule no longer known (renamed since it fired) goes everywhere.
            .filter(|receiver| rule.is_none_or(|rule| receiver.route.takes(rule)))
            .map(|receiver| Outgoing {
                receiver: receiver.name.clone(),
                group_key: receiver.grouping.key(labels),
                wait_secs: receiver.grouping.wait_secs,
                interval_secs: receiver.grouping.interval_secs,
                skip,
            })
            .collect()
    }

    /// Evaluates after every new snapshot, every DNS result that found something new, and
    /// every minute (for the rules on time), and wakes the deliverer when
    /// something changed (resolved alerts are pruned by [`crate::retention`]).
    pub fn spawn(
        mut self,
        inventory: Inventory,
        dns: Option<DnsMonitor>,
        wake: Bell,
    ) -> tokio::task::JoinHandle<()> {
        let mut snapshots = inventory.subscribe();
        let mut dns_changes = dns.as_ref().map(DnsMonitor::subscribe);
        tokio::spawn(async move {
            loop {
                let snapshot = snapshots.borrow_and_update().clone();
                let reports = dns.as_ref().map(|dns| dns.view(&snapshot, &inventory));
                let now = crate::inventory::now();
                let started = std::time::Instant::now();
                let evaluated = self.evaluate(&snapshot, reports.as_deref(), now).await;
                let took = started.elapsed();
                // For operators (and the fleet benchmark) sizing a large inventory.
                tracing::debug!(
                    identities = snapshot.identities.len(),
                    elapsed_ms = took.as_secs_f64() * 1000.0,
                    "alert rules evaluated"
                );
                match evaluated {
                    Ok(changed) if changed != Changed::default() => wake.ring(),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%error, "could not evaluate the alert rules");
                        // Some alerts may have been written before the failure.
                        wake.ring();
                    }
                }
                let ended = std::time::Instant::now();
                if next_change(&mut snapshots, dns_changes.as_mut(), Some(TICK))
                    .await
                    .is_err()
                {
                    break;
                }
                space_after(took, ended).await;
            }
        })
    }
}

/// Whether the alert's target is configured but not read yet (e.g. just after a restart).
fn unread_target(snapshot: &Snapshot, labels: &BTreeMap<String, String>) -> bool {
    let (Some(account), Some(region)) = (labels.get("account"), labels.get("region")) else {
        return false;
    };
    snapshot
        .targets
        .iter()
        .any(|t| &t.account == account && &t.region == region && t.last_success.is_none())
}
