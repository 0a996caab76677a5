//! Asking SES for a change: recorded first, then sent; a refusal is recorded as such, in
//! the words the operator sees.

use crate::audit::entry::AuditOutcome;
use crate::model::Identity;
use crate::ses::error::Error;

use super::{Actor, ChangeError, audit_trail};

/// Records the change, asks SES (`call`, not started until awaited), and records a
/// refusal as such. Returns the audit entry to complete. An identity SES no longer has
/// leaves the inventory at once, so no page keeps offering changes to it.
pub(super) async fn send<T>(
    actor: &Actor<'_>,
    identity: &Identity,
    action: String,
    ses_action: &'static str,
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<i64, ChangeError> {
    let entry = audit_trail::begin(actor, identity, action).await?;
    match call.await {
        Ok(_) => Ok(entry),
        Err(error) => {
            if matches!(error, Error::NotFound(_)) {
                actor.inventory.forget(&identity.key());
            }
            let refusal = ChangeError::Ses {
                error,
                name: identity.name.clone(),
                region: identity.region.clone(),
                action: ses_action,
            };
            audit_trail::close(
                actor,
                entry,
                AuditOutcome::Refused,
                None,
                &refusal.to_string(),
            )
            .await?;
            Err(refusal)
        }
    }
}
