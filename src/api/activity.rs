//! The audit log as pages read it.

use leptos::prelude::*;

use crate::app_error::AppError;
use crate::audit::entry::AuditEntry;

/// How many entries a page shows at most.
pub const SHOWN: u32 = 200;

/// The newest recorded changes, newest first; `identity`, `user`, `region` and `account`
/// narrow them (empty means any). Readable by every signed-in user.
#[server(endpoint = "activity")]
pub async fn list_activity(
    identity: Option<String>,
    user: Option<String>,
    region: Option<String>,
    account: Option<String>,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::audit::log::Filter;

    let state = expect_context::<crate::server::state::AppState>();
    let nonempty =
        |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = Filter {
        identity: nonempty(identity),
        user: nonempty(user),
        region: nonempty(region),
        account: nonempty(account),
    };
    state.audit.recent(&filter, SHOWN).await.map_err(|error| {
        tracing::error!(%error, "audit log read failed");
        AppError::Unavailable("The audit log could not be read; see the server log.".to_owned())
    })
}
