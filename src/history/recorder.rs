//! Watches the inventory and records what changed: after every new snapshot, each target
//! read at least once is compared with what was last seen of it. Also forgets changes
//! older than the retention, once a day.

use std::collections::HashMap;
use std::time::Duration;

use super::observed::diff_target;
use super::store::{History, TargetHistory};
use crate::audit::log::AuditError;
use crate::inventory::{Inventory, snapshot::Snapshot};
use crate::model::UnixSeconds;

/// How often changes older than the retention are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Compares snapshots with what was last seen, target by target; keeps that in memory
/// (loaded from the database the first time), so a restart records no change twice.
#[derive(Debug)]
pub struct Recorder {
    history: History,
    seen: HashMap<(String, String), TargetHistory>,
}

impl Recorder {
    /// A recorder writing to `history`.
    pub fn new(history: History) -> Self {
        Self {
            history,
            seen: HashMap::new(),
        }
    }

    /// Records what `snapshot` shows of every target read at least once, as seen at `at`.
    /// A target that fails is skipped (and tried again with the next snapshot).
    pub async fn record(&mut self, snapshot: &Snapshot, at: UnixSeconds) -> Result<(), AuditError> {
        let mut first_error = None;
        for target in snapshot.targets.iter().filter(|t| t.last_success.is_some()) {
            let key = (target.account.clone(), target.region.clone());
            if let Err(error) = self.record_target(snapshot, key, at).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn record_target(
        &mut self,
        snapshot: &Snapshot,
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
            .identities
            .iter()
            .filter(|i| &i.account == account && &i.region == region);
        let baseline = !seen.baselined;
        let diff = diff_target(&seen.state, identities, baseline);
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

    /// Records every new snapshot of `inventory` until it is dropped, and prunes changes
    /// older than `retention` once a day.
    pub fn spawn(
        mut self,
        inventory: Inventory,
        retention: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let mut snapshots = inventory.subscribe();
        tokio::spawn(async move {
            let mut pruned_at: Option<tokio::time::Instant> = None;
            loop {
                let snapshot = snapshots.borrow_and_update().clone();
                let now = crate::inventory::now();
                if let Err(error) = self.record(&snapshot, now).await {
                    tracing::error!(%error, "could not record the identities' history");
                }
                if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                    pruned_at = Some(tokio::time::Instant::now());
                    let before = now - i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
                    match self.history.prune(before).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(n, "forgot history older than the retention"),
                        Err(error) => tracing::error!(%error, "could not prune the history"),
                    }
                }
                if snapshots.changed().await.is_err() {
                    break;
                }
            }
        })
    }
}
