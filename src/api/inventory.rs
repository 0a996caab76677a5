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
