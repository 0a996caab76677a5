//! After SES said yes: the identity is read again so the pages show SES's answer at once,
//! and the audit entry is completed with the new state.

use crate::audit::entry::AuditOutcome;
use crate::model::IdentityKey;

use super::{Actor, ChangeError, ChangeMade, audit_trail};

/// Re-reads the identity so the page shows SES's answer at once, and completes the audit
/// entry with the new state.
pub(super) async fn finish(
    actor: &Actor<'_>,
    entry: i64,
    key: IdentityKey,
    message: String,
    what: &'static str,
) -> Result<ChangeMade, ChangeError> {
    tracing::info!(
        identity = %key.name, region = %key.region, account = %key.account,
        user = %actor.user.name, entry, "{what}"
    );
    match actor.inventory.refresh_identity(&key).await {
        Ok(identity) => {
            audit_trail::close(actor, entry, AuditOutcome::Done, Some(&identity), &message).await?;
            Ok(ChangeMade { message, identity })
        }
        Err(error) => {
            let failure = ChangeError::MadeButNotReread {
                message,
                error: error.to_string(),
            };
            audit_trail::close(actor, entry, AuditOutcome::Done, None, &failure.to_string())
                .await?;
            Err(failure)
        }
    }
}
