//! The inventory as the overview page needs it: counts, targets, and "refresh now".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;
use crate::model::{DkimStatus, SesBackend, TargetStatus, UnixSeconds};
use crate::table::select::Facets;

/// What the overview shows at the top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventorySummary {
    /// Real SES or the demo simulator.
    pub backend: SesBackend,
    /// All identities across targets.
    pub total: usize,
    /// Identities per DKIM status.
    pub by_status: Vec<(DkimStatus, usize)>,
    /// Origin, signing-off, 1024-bit and needs-attention counts.
    pub facets: Facets,
    /// How reading each target has gone.
    pub targets: Vec<TargetStatus>,
    /// The accounts × regions grid: each target's counts and worst state.
    pub grid: Vec<crate::grid::GridCell>,
    /// Whether a sweep is running now.
    pub sweeping: bool,
    /// Sweeps finished since the server started.
    pub sweeps: u64,
    /// Identities with a change seen in the last 24 hours; `None` if the history could
    /// not be read.
    pub changed_last_day: Option<usize>,
    /// Identities per DKIM status on each of the last 30 days (oldest first; days not
    /// read left out); `None` if the history could not be read.
    pub daily: Option<Vec<crate::history::entry::DayCounts>>,
    /// How far the DNS checks are; `None` when they are off.
    pub dns_progress: Option<crate::dns_check::DnsProgress>,
    /// The server's clock, so "N minutes ago" is computed against it.
    pub now: UnixSeconds,
}

impl InventorySummary {
    /// The stamp of the inventory this summary shows.
    pub fn stamp(&self) -> InventoryStamp {
        InventoryStamp {
            sweeping: self.sweeping,
            sweeps: self.sweeps,
        }
    }
}

/// What moves whenever the inventory does: an open overview compares it with the one it
/// was rendered from, to tell when newer figures are in (cheaper than the summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryStamp {
    /// Whether a sweep is running.
    pub sweeping: bool,
    /// Sweeps finished since the server started.
    pub sweeps: u64,
}

impl InventoryStamp {
    /// Whether there is more to see than at `before`: a sweep has finished since (or the
    /// server restarted, which also reads SES anew).
    pub fn newer_than(&self, before: &Self) -> bool {
        self.sweeps != before.sweeps
    }

    /// Whether a sweep finished since `before`, and none runs now.
    pub fn swept_since(&self, before: &Self) -> bool {
        !self.sweeping && self.newer_than(before)
    }
}

/// The inventory's stamp now; reads the cached snapshot only.
#[server(endpoint = "inventory_stamp")]
pub async fn get_inventory_stamp() -> Result<InventoryStamp, AppError> {
    use crate::server::state::AppState;

    let state = expect_context::<AppState>();
    Ok(InventoryStamp {
        sweeping: state.inventory.is_sweeping(),
        sweeps: state.inventory.sweeps_completed(),
    })
}

/// Reads the cached snapshot; never calls SES.
#[server(endpoint = "inventory_summary")]
pub async fn get_inventory_summary() -> Result<InventorySummary, AppError> {
    use crate::{inventory, server::state::AppState};

    let state = expect_context::<AppState>();
    let now = inventory::now();
    let day = crate::table::query::ChangedWithin::Day.seconds();
    let history = state.history();
    let changed_last_day = match history.count_changed_since(now - day).await {
        Ok(changed) => Some(changed),
        Err(error) => {
            tracing::error!(%error, "history read failed");
            None
        }
    };
    let daily = history
        .daily_counts(now, crate::history::entry::CHART_DAYS)
        .await
        .inspect_err(|error| tracing::error!(%error, "daily counts read failed"))
        .ok();
    let overview = state.overview();
    let snapshot = overview.snapshot();
    Ok(InventorySummary {
        changed_last_day,
        daily,
        facets: overview.facets.clone(),
        backend: state.backend,
        total: snapshot.identities.len(),
        by_status: overview.by_status.clone(),
        grid: overview.grid.clone(),
        targets: snapshot.targets.clone(),
        sweeping: state.inventory.is_sweeping(),
        sweeps: state.inventory.sweeps_completed(),
        dns_progress: state.dns_progress(),
        now,
    })
}

/// One account and region the dashboard reads (and can add identities to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetChoice {
    /// The operator's account label.
    pub account: String,
    /// The AWS region.
    pub region: String,
}

/// The configured accounts and regions, in configuration order.
#[server(endpoint = "targets")]
pub async fn list_targets() -> Result<Vec<TargetChoice>, AppError> {
    use crate::server::state::AppState;

    let snapshot = expect_context::<AppState>().inventory.snapshot();
    Ok(snapshot
        .targets
        .iter()
        .map(|t| TargetChoice {
            account: t.account.clone(),
            region: t.region.clone(),
        })
        .collect())
}

/// Which SES the server reads, for the page header.
#[server(endpoint = "ses_backend")]
pub async fn get_ses_backend() -> Result<SesBackend, AppError> {
    use crate::server::state::AppState;
    Ok(expect_context::<AppState>().backend)
}

/// What "Refresh now" did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshAnswer {
    /// A sweep started.
    Started,
    /// A sweep was running already; it is the refresh.
    Joined,
    /// The last one started under a minute ago; the next may start in this many seconds.
    TooSoon {
        /// Seconds until the next forced refresh may start.
        retry_after_secs: u64,
    },
}

/// Starts a sweep of every target now (or joins the one running) and returns at once. At
/// most one a minute, whoever asks: sooner, it says when the next may start (a normal
/// answer, not an error: the data is at most a minute old). A plain form post goes back to
/// `back`, the page it was sent from (the browser sends no Referer: the dashboard's policy).
#[server(endpoint = "refresh_inventory")]
pub async fn refresh_inventory(back: Option<String>) -> Result<RefreshAnswer, AppError> {
    use crate::{inventory::ForcedRefresh, server::state::AppState};

    if crate::api::plain_form_post() {
        leptos_axum::redirect(crate::routes::back_to(back.as_deref()));
    }
    Ok(
        match expect_context::<AppState>().inventory.force_refresh() {
            ForcedRefresh::Started => RefreshAnswer::Started,
            ForcedRefresh::Joined => RefreshAnswer::Joined,
            ForcedRefresh::TooSoon { retry_after } => RefreshAnswer::TooSoon {
                retry_after_secs: retry_after.as_secs().max(1),
            },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::InventoryStamp;

    fn at(sweeping: bool, sweeps: u64) -> InventoryStamp {
        InventoryStamp { sweeping, sweeps }
    }

    #[test]
    fn a_sweep_counts_as_done_only_once_one_ended_after_the_one_seen() {
        let seen = at(false, 4);
        assert!(!at(true, 4).swept_since(&seen), "started, not done");
        assert!(!at(false, 4).swept_since(&seen), "nothing new");
        assert!(at(false, 5).swept_since(&seen));
        assert!(
            !at(true, 5).swept_since(&seen),
            "done, and the next one runs"
        );
        // Seen mid-sweep: done when it ends.
        assert!(at(false, 5).swept_since(&at(true, 4)));
        // The server restarted since: its first sweep is news too.
        assert!(at(false, 1).swept_since(&seen));
    }

    #[test]
    fn a_sweep_starting_is_not_newer_figures() {
        assert!(!at(true, 4).newer_than(&at(false, 4)));
        assert!(at(false, 5).newer_than(&at(true, 4)));
    }
}
