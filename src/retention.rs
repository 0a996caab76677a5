//! Forgets what is older than the retention (`--history-days`), once a day and at start:
//! the history of changes, its daily counts and the alerts that resolved. One loop for
//! every store, so a new store with a retention has one place to go.

use std::time::Duration;

use crate::alerts::store::AlertStore;
use crate::audit::log::AuditError;
use crate::history::{daily::DailyCounts, store::History};

/// How often old rows are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The stores with rows to forget.
#[derive(Clone, Debug)]
pub struct Retained {
    /// The history of changes.
    pub history: History,
    /// The daily counts beside it.
    pub daily: DailyCounts,
    /// The alerts (only resolved ones are forgotten).
    pub alerts: AlertStore,
}

impl Retained {
    /// Forgets everything older than `retention` now, then once a day, forever.
    pub async fn prune_forever(self, retention: Duration) {
        let mut every_day = tokio::time::interval(PRUNE_EVERY);
        every_day.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_day.tick().await;
            let before = crate::inventory::now()
                .saturating_sub(i64::try_from(retention.as_secs()).unwrap_or(i64::MAX));
            self.prune(before).await;
        }
    }

    /// Forgets every row older than `before` (Unix seconds); a store that fails is logged
    /// and the others are still pruned.
    pub async fn prune(&self, before: crate::model::UnixSeconds) {
        report("history", self.history.prune(before).await);
        report("daily counts", self.daily.prune(before).await);
        report("resolved alerts", self.alerts.prune(before).await);
    }
}

fn report(what: &str, outcome: Result<u64, AuditError>) {
    match outcome {
        Ok(0) => {}
        Ok(rows) => tracing::info!(rows, "forgot {what} older than the retention"),
        Err(error) => tracing::error!(%error, "could not forget old {what}"),
    }
}
