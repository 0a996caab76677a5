//! Asking SES for a change: recorded first, then sent; a refusal is recorded as such and
//! put in words an operator can act on.

use crate::audit::entry::AuditOutcome;
use crate::inventory::Inventory;
use crate::model::Identity;
use crate::ses::error::Error;

use super::{Actor, WriteError, audit_trail};

/// SES's refusal in words; an identity SES no longer has leaves the inventory at once,
/// so no page keeps offering changes to it.
fn refused(inventory: &Inventory, error: Error, action: &str, identity: &Identity) -> WriteError {
    if matches!(error, Error::NotFound(_)) {
        inventory.forget(&identity.key());
    }
    explain(error, action, identity)
}

/// SES's refusal in words an operator can act on.
fn explain(error: Error, action: &str, identity: &Identity) -> WriteError {
    let (name, region) = (&identity.name, &identity.region);
    WriteError(match error {
        Error::BadRequest(text) => format!("SES refused the change: {text}"),
        Error::NotFound(_) => format!(
            "SES no longer has {name} in {region}: it was deleted meanwhile. Nothing was changed."
        ),
        Error::TooManyRequests => {
            "SES is busy (still throttling after several retries); try again in a minute. Nothing was changed.".to_owned()
        }
        Error::AlreadyExists(_) => format!("{name} already exists in {region}."),
        Error::AccessDenied(text) => format!(
            "SES denied access: the dashboard's AWS identity needs the IAM permission ses:{action} ({text})."
        ),
        Error::Unavailable(text) => format!(
            "SES did not answer ({text}). The change may not have been made; reload the identity to see what SES reports."
        ),
        Error::Other(text) => format!("SES error: {text}"),
    })
}

/// Records the change, asks SES (`call`, not started until awaited), and records a
/// refusal as such. Returns the audit entry to complete.
pub(super) async fn send<T>(
    actor: &Actor<'_>,
    identity: &Identity,
    action: String,
    ses_action: &str,
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<i64, WriteError> {
    let entry = audit_trail::begin(actor, identity, action).await?;
    match call.await {
        Ok(_) => Ok(entry),
        Err(error) => {
            let refusal = refused(actor.inventory, error, ses_action, identity);
            audit_trail::close(actor, entry, AuditOutcome::Refused, None, &refusal.0).await?;
            Err(refusal)
        }
    }
}
