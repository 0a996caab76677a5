//! "Check DNS now": one identity's records looked up at once (read-only, any signed-in
//! user, rate-limited per user).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;
use crate::model::UnixSeconds;

/// What "Check DNS now" got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsCheckAnswer {
    /// Checked; the identity's page shows the new report. Only its gist here: the page
    /// re-reads the rest, and the browser needs no report decoder.
    Checked {
        /// When the check ran.
        checked_at: UnixSeconds,
        /// How many records were looked up.
        records: usize,
    },
    /// Not done within the answer's deadline (a domain whose nameservers are slow or
    /// silent); the check goes on and the page shows its result once done.
    StillChecking,
    /// Asked too often: try again after this many seconds.
    TooSoon(u64),
    /// DNS checks are turned off on this server.
    Off,
    /// No such identity in the inventory.
    NotFound,
}

/// Looks up the records of one identity now.
#[server(endpoint = "check_dns")]
pub async fn check_dns(
    region: String,
    name: String,
    account: Option<String>,
) -> Result<DnsCheckAnswer, AppError> {
    use crate::dns::monitor::CheckNow;
    use crate::inventory::snapshot::Lookup;
    use crate::server::state::AppState;

    let state = expect_context::<AppState>();
    let Some(monitor) = state.dns.as_ref() else {
        return Ok(DnsCheckAnswer::Off);
    };
    let user = crate::api::authorize::signed_in()?;
    // With JavaScript off the browser posted the form itself: send it back to the page,
    // which shows the new result (or, when asked too often, the last one).
    if crate::api::plain_form_post() {
        leptos_axum::redirect(&crate::routes::identity_page(
            &region,
            &name,
            account.as_deref(),
        ));
    }
    let snapshot = state.inventory.snapshot();
    let identity = match snapshot.find(&region, &name, account.as_deref()) {
        Lookup::One(identity) => identity.clone(),
        Lookup::Several(_) | Lookup::Nothing => return Ok(DnsCheckAnswer::NotFound),
    };
    match monitor
        .check_now(&state.inventory, &identity, &user.name)
        .await
    {
        Ok(CheckNow::Checked(report)) => Ok(DnsCheckAnswer::Checked {
            checked_at: report.checked_at,
            records: report.records.len(),
        }),
        Ok(CheckNow::StillChecking) => Ok(DnsCheckAnswer::StillChecking),
        // A normal answer, not an error (as "Refresh now"): the page shows the last
        // result and says when the next check can run.
        Err(too_soon) => Ok(DnsCheckAnswer::TooSoon(too_soon.retry_after_secs)),
    }
}
