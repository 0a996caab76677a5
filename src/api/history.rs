//! An identity's history as its page reads it.

use leptos::prelude::*;

use crate::app_error::AppError;
use crate::history::entry::HistoryEntry;

/// How many changes an identity's page shows at most.
pub const SHOWN: u32 = 100;

/// The newest changes seen of one identity, newest first (empty for an identity not in
/// the inventory, or in several accounts without `account`). Readable by every signed-in
/// user.
#[server(endpoint = "identity_history")]
pub async fn identity_history(
    region: String,
    name: String,
    account: Option<String>,
) -> Result<Vec<HistoryEntry>, AppError> {
    use crate::inventory::snapshot::Lookup;

    let state = expect_context::<crate::server::state::AppState>();
    let snapshot = state.inventory.snapshot();
    let account = match snapshot.find(&region, &name, account.as_deref()) {
        Lookup::One(identity) => identity.account.clone(),
        Lookup::Several(_) | Lookup::Nothing => return Ok(Vec::new()),
    };
    state
        .history()
        .timeline(&account, &region, &name, SHOWN)
        .await
        .map_err(|error| {
            tracing::error!(%error, "history read failed");
            AppError::Unavailable("The history could not be read; see the server log.".to_owned())
        })
}
