//! Watches the inventory and records what changed: after every new snapshot (and every
//! minute, for DNS check results), each target read at least once is compared with what
//! was last seen of it, and its identities per status are counted for the day. Also
//! forgets changes older than the retention, once a day.

use std::collections::HashMap;
use std::sync::Arc;

use super::daily::DailyCounts;
use super::entry::day_of;
use super::observed::{DnsValues, diff_target, dns_value};
use super::store::{History, TargetHistory};
use crate::audit::log::AuditError;
use crate::background::cpu_bound;
use crate::dns::monitor::{DnsMonitor, next_change, space_after};
use crate::inventory::{Inventory, snapshot::Snapshot};
use crate::model::{DkimStatus, UnixSeconds};

/// A target's identities per DKIM status on a day.
type DayCount = (UnixSeconds, Vec<(DkimStatus, usize)>);

/// Compares snapshots with what was last seen, target by target; keeps that in memory
/// (loaded from the database the first time), so a restart records no change twice.
#[derive(Debug)]
pub struct Recorder {
    history: History,
    daily: DailyCounts,
    /// Where the DNS check results come from, when checks are on, and the inventory that
    /// says which records each report must be for.
    dns: Option<(DnsMonitor, Inventory)>,
    seen: HashMap<(String, String), TargetHistory>,
    /// The counts last written per target, and their day: unchanged counts are not
    /// written again.
    counted: HashMap<(String, String), DayCount>,
}

impl Recorder {
    /// A recorder writing to `history` (and the daily counts beside it).
    pub fn new(history: History) -> Self {
        Self {
            daily: DailyCounts::new(history.log().clone()),
            history,
            dns: None,
            seen: HashMap::new(),
            counted: HashMap::new(),
        }
    }

    /// The same recorder following the DNS check result of each identity of `inventory`
    /// too.
    pub fn with_dns(self, dns: DnsMonitor, inventory: Inventory) -> Self {
        Self {
            dns: Some((dns, inventory)),
            ..self
        }
    }

    /// Records what `snapshot` shows of every target read at least once, as seen at `at`.
    /// A target that fails is skipped (and tried again with the next snapshot).
    pub async fn record(
        &mut self,
        snapshot: &Arc<Snapshot>,
        at: UnixSeconds,
    ) -> Result<(), AuditError> {
        let mut first_error = None;
        let dns: DnsValues = cpu_bound(|| {
            self.dns
                .as_ref()
                .map(|(monitor, inventory)| {
                    monitor
                        .view(snapshot, inventory)
                        .iter()
                        .filter_map(|(key, report)| Some((key.clone(), dns_value(report)?)))
                        .collect()
                })
                .unwrap_or_default()
        });
        for target in snapshot.targets.iter().filter(|t| t.last_success.is_some()) {
            let key = (target.account.clone(), target.region.clone());
            if let Err(error) = self.record_target(snapshot, &dns, key.clone(), at).await {
                first_error.get_or_insert(error);
            }
            if let Err(error) = self.count_target(snapshot, key, at).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn record_target(
        &mut self,
        snapshot: &Snapshot,
        dns: &DnsValues,
        key: (String, String),
        at: UnixSeconds,
    ) -> Result<(), AuditError> {
        let (account, region) = (&key.0, &key.1);
        if !self.seen.contains_key(&key) {
            let loaded = self.history.load(account, region).await?;
            self.seen.insert(key.clone(), loaded);
        }
        let seen = self.seen.get_mut(&key).expect("loaded above");
        let identities = snapshot
            .target_identities(account, region)
            .iter()
            .map(Arc::as_ref);
        let baseline = !seen.baselined;
        // One target holds at most 10,000 identities (SES's limit): a few milliseconds,
        // less than handing the worker over would cost.
        let diff = diff_target(&seen.state, identities, dns, baseline);
        if diff.is_empty() && !baseline {
            return Ok(());
        }
        self.history
            .record(account, region, at, &diff, baseline)
            .await?;
        diff.apply_to(&mut seen.state);
        seen.baselined = true;
        Ok(())
    }

    /// Writes the target's identities per DKIM status for the day of `at`, if they changed.
    /// Not while its reads fail: its identities are then an older day's (a target failing
    /// since yesterday has no today; the day's last good read stands).
    async fn count_target(
        &mut self,
        snapshot: &Snapshot,
        key: (String, String),
        at: UnixSeconds,
    ) -> Result<(), AuditError> {
        let failing = snapshot
            .targets
            .iter()
            .find(|t| t.account == key.0 && t.region == key.1)
            .is_some_and(|t| t.last_error.is_some());
        if failing {
            return Ok(());
        }
        let counts = DkimStatus::counts(
            snapshot
                .target_identities(&key.0, &key.1)
                .iter()
                .map(|i| &i.dkim.status),
        );
        let day = day_of(at);
        if self.counted.get(&key) == Some(&(day, counts.clone())) {
            return Ok(());
        }
        self.daily.write(&key.0, &key.1, at, &counts).await?;
        self.history.counted((&key.0, &key.1), at, &counts).await;
        self.counted.insert(key, (day, counts));
        Ok(())
    }

    /// Gives `inventory` since when each identity has held its DKIM status as the history
    /// knows it, so a restart does not restart "status since", the time left of SES's 72
    /// hours or "PENDING over 72 hours". Once, at start: from then on the inventory follows
    /// the statuses it reads (a change it sees is the change this recorder writes).
    pub async fn restore_status_since(&self, inventory: &Inventory) -> Result<(), AuditError> {
        inventory.adopt_known_since(self.history.status_since().await?);
        Ok(())
    }

    /// Gives `inventory` the history's status times ([`Self::restore_status_since`]; tried
    /// again each round until the history can be read), then records every new snapshot
    /// of `inventory` until it is dropped (the history is pruned by
    /// [`crate::retention`]).
    pub fn spawn(mut self, inventory: Inventory) -> tokio::task::JoinHandle<()> {
        let mut snapshots = inventory.subscribe();
        let mut dns_changes = self.dns.as_ref().map(|(dns, _)| dns.subscribe());
        tokio::spawn(async move {
            let mut restored = false;
            loop {
                if !restored {
                    match self.restore_status_since(&inventory).await {
                        Ok(()) => restored = true,
                        Err(error) => tracing::error!(
                            %error,
                            "could not read since when the identities hold their status; counting from this start"
                        ),
                    }
                }
                let snapshot = snapshots.borrow_and_update().clone();
                let now = crate::inventory::now();
                let started = std::time::Instant::now();
                if let Err(error) = self.record(&snapshot, now).await {
                    tracing::error!(%error, "could not record the identities' history");
                }
                let took = started.elapsed();
                // For operators (and the fleet benchmark) sizing a large inventory.
                tracing::debug!(
                    identities = snapshot.identities.len(),
                    elapsed_ms = took.as_secs_f64() * 1000.0,
                    "history recorded"
                );
                let ended = std::time::Instant::now();
                // Each new snapshot, and each new DNS finding between sweeps.
                if next_change(&mut snapshots, dns_changes.as_mut(), None)
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
