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
    /// Whether a sweep is running now.
    pub sweeping: bool,
    /// The server's clock, so "N minutes ago" is computed against it.
    pub now: UnixSeconds,
}

impl InventorySummary {
    /// The stamp of the inventory this summary shows.
    pub fn stamp(&self) -> InventoryStamp {
        InventoryStamp::of(&self.targets, self.sweeping)
    }
}

/// What moves whenever the inventory does: an open overview compares it with the one it
/// was rendered from, to tell when newer figures are in (cheaper than the summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryStamp {
    /// Whether a sweep is running.
    pub sweeping: bool,
    /// The latest read of any target, good or failed.
    pub last_read: Option<UnixSeconds>,
}

impl InventoryStamp {
    /// The stamp of `targets`, with a sweep running or not.
    pub fn of(targets: &[TargetStatus], sweeping: bool) -> Self {
        let last_read = targets
            .iter()
            .flat_map(|t| [t.last_success, t.last_error.as_ref().map(|e| e.at)])
            .flatten()
            .max();
        Self {
            sweeping,
            last_read,
        }
    }

    /// Whether there is more to see than at `before`: a target was read since, or the
    /// sweep running then (which fills in details) has ended.
    pub fn newer_than(&self, before: &Self) -> bool {
        self.last_read > before.last_read || (before.sweeping && !self.sweeping)
    }

    /// Whether a sweep ran to its end (or failed) since `before`, and none runs now.
    pub fn swept_since(&self, before: &Self) -> bool {
        !self.sweeping && self.newer_than(before)
    }
}

/// The inventory's stamp now; reads the cached snapshot only.
#[server(endpoint = "inventory_stamp")]
pub async fn get_inventory_stamp() -> Result<InventoryStamp, AppError> {
    use crate::server::state::AppState;

    let state = expect_context::<AppState>();
    Ok(InventoryStamp::of(
        &state.inventory.snapshot().targets,
        state.inventory.is_sweeping(),
    ))
}

/// Reads the cached snapshot; never calls SES.
#[server(endpoint = "inventory_summary")]
pub async fn get_inventory_summary() -> Result<InventorySummary, AppError> {
    use crate::{inventory, server::state::AppState, table::select::facets};

    let state = expect_context::<AppState>();
    let snapshot = state.inventory.snapshot();
    let now = inventory::now();
    Ok(InventorySummary {
        facets: facets(&snapshot.identities, &state.dns_healths(), now),
        backend: state.backend,
        total: snapshot.identities.len(),
        by_status: snapshot.status_counts(),
        targets: snapshot.targets.clone(),
        sweeping: state.inventory.is_sweeping(),
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
    use crate::model::{SweepError, TargetStatus};

    fn target(last_success: Option<i64>, failed_at: Option<i64>) -> TargetStatus {
        TargetStatus {
            account: "demo".into(),
            region: "us-east-1".into(),
            identities: 1,
            last_success,
            last_error: failed_at.map(|at| SweepError {
                at,
                message: "down".into(),
            }),
            details_pending: 0,
        }
    }

    #[test]
    fn the_stamp_is_the_latest_read_of_any_target_good_or_failed() {
        let targets = [target(Some(100), None), target(Some(90), Some(120))];
        assert_eq!(
            InventoryStamp::of(&targets, false),
            InventoryStamp {
                sweeping: false,
                last_read: Some(120)
            }
        );
        assert_eq!(
            InventoryStamp::of(&[target(None, None)], true).last_read,
            None
        );
    }

    #[test]
    fn a_sweep_counts_as_done_only_once_it_ended_after_the_one_seen() {
        let seen = InventoryStamp {
            sweeping: false,
            last_read: Some(100),
        };
        let at = |sweeping, last_read| InventoryStamp {
            sweeping,
            last_read,
        };
        assert!(!at(true, Some(100)).swept_since(&seen), "started, not done");
        assert!(
            !at(true, Some(130)).swept_since(&seen),
            "one target read, still running"
        );
        assert!(!at(false, Some(100)).swept_since(&seen), "nothing new");
        assert!(at(false, Some(130)).swept_since(&seen));
        assert!(
            at(false, Some(1)).swept_since(&at(false, None)),
            "the first read"
        );
        // Seen mid-sweep: done when it ends, even if no target's time moved.
        assert!(at(false, Some(100)).swept_since(&at(true, Some(100))));
    }

    #[test]
    fn a_sweep_starting_is_not_newer_figures() {
        let seen = InventoryStamp {
            sweeping: false,
            last_read: Some(100),
        };
        let started = InventoryStamp {
            sweeping: true,
            last_read: Some(100),
        };
        assert!(!started.newer_than(&seen));
        assert!(
            seen.newer_than(&started),
            "the sweep seen running has ended"
        );
    }
}
