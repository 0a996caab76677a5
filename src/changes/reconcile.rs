//! At start-up: audit entries left "pending" (the server stopped between asking SES and
//! recording its answer) are completed with what SES reports now, so the log never keeps
//! a change whose outcome nobody will learn.

use crate::audit::{entry::AuditOutcome, log::AuditLog};
use crate::inventory::Inventory;
use crate::model::IdentityKey;
use crate::ses::error::Error;

use super::audit_trail::describe;

/// How the pending entries were settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Completed with the identity as SES reports it now (or its absence).
    pub settled: usize,
    /// Left pending: SES could not be asked (tried again at the next start).
    pub left: usize,
}

/// Completes every pending entry of `audit` by reading its identity from SES again.
pub async fn reconcile_pending(inventory: &Inventory, audit: &AuditLog) -> Reconciled {
    let pending = match audit.pending().await {
        Ok(pending) => pending,
        Err(error) => {
            tracing::error!(%error, "cannot read the audit log's pending changes");
            return Reconciled::default();
        }
    };
    let mut done = Reconciled::default();
    for entry in pending {
        let key = IdentityKey {
            account: entry.account.clone(),
            region: entry.region.clone(),
            name: entry.identity.clone(),
        };
        if inventory.connection(&key.account, &key.region).is_none() {
            tracing::warn!(entry = entry.id, account = %key.account, region = %key.region, "a pending change is for a target no longer configured; left pending");
            done.left += 1;
            continue;
        }
        let (after, answer) = match inventory.refresh_identity(&key).await {
            Ok(identity) => (
                Some(describe(&identity)),
                "dkimdash stopped before recording SES's answer; at the next start SES reported the signing shown as after.".to_owned(),
            ),
            Err(Error::NotFound(_)) => (
                None,
                format!(
                    "dkimdash stopped before recording SES's answer; at the next start SES no longer had {} in {}.",
                    entry.identity, entry.region
                ),
            ),
            Err(error) => {
                tracing::warn!(entry = entry.id, %error, "a pending change could not be checked with SES; trying again at the next start");
                done.left += 1;
                continue;
            }
        };
        match audit
            .finish(entry.id, AuditOutcome::Unknown, after.as_deref(), &answer)
            .await
        {
            Ok(()) => done.settled += 1,
            Err(error) => {
                tracing::error!(entry = entry.id, %error, "cannot complete a pending change");
                done.left += 1;
            }
        }
    }
    if done.settled + done.left > 0 {
        tracing::info!(
            settled = done.settled,
            left = done.left,
            "changes left pending by an earlier run were checked with SES"
        );
    }
    done
}
