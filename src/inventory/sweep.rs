//! One sweep of one target, in about N/100 + N/1000 calls: list everything, read DKIM in
//! batches of 100, and read full details only for identities that are new or whose DKIM
//! changed since the last sweep. Identities never read in full are filled in afterwards by
//! [`backfill`] in the background, so a first start is fast even at 10,000.

use std::collections::HashMap;

use crate::model::{DkimState, DkimStatus, Identity, IdentityType, UnixSeconds};
use crate::ses::{
    budget::CallPriority,
    error::Error,
    reader::{BatchDkim, SesConnection},
};

/// Reads the target's identities. `previous` is the last good read (empty on the first
/// sweep, when nothing counts as "new" and the backfill supplies details instead).
pub async fn sweep(
    reader: &SesConnection,
    previous: &HashMap<String, std::sync::Arc<Identity>>,
    first_sweep: bool,
    now: UnixSeconds,
) -> Result<Vec<Identity>, Error> {
    let listed = reader.list_identities().await?;
    let names: Vec<String> = listed.iter().map(|(name, _)| name.clone()).collect();
    let batch = reader.batch_dkim(&names).await?;

    let mut identities = Vec::with_capacity(listed.len());
    for (name, identity_type) in listed {
        let dkim = batch.get(&name);
        let prior = previous.get(&name).map(std::sync::Arc::as_ref);
        let needs_details = match prior {
            None => !first_sweep,
            Some(prior) => dkim.is_some_and(|dkim| changed(prior, dkim)),
        };
        let merged = merge(reader, prior, &name, identity_type, dkim, now);
        if !needs_details {
            identities.push(merged);
            continue;
        }
        match reader.details(&name, now).await {
            Ok(full) => identities.push(full),
            // Deleted between the list and now: it is gone.
            Err(Error::NotFound(_)) => {}
            Err(error) => {
                tracing::warn!(target = %reader.target.label(), identity = %name, %error, "details read failed; backfill will retry");
                identities.push(Identity {
                    details_read_at: None,
                    ..merged
                });
            }
        }
    }
    Ok(identities)
}

/// The identities without details, those that are not SUCCESS first (their DNS records
/// are the ones an operator needs checked soonest), else in the order given.
pub fn wanting_details<'a>(
    identities: impl IntoIterator<Item = &'a Identity>,
) -> Vec<&'a Identity> {
    let mut wanting: Vec<&Identity> = identities
        .into_iter()
        .filter(|i| i.details_read_at.is_none())
        .collect();
    wanting.sort_by_key(|i| i.dkim.status == DkimStatus::Success);
    wanting
}

/// Reads full details for up to `limit` of `identities` that have none yet (see
/// [`wanting_details`]), and returns the identities it read (stopping at the first
/// failure; the next round tries again).
pub async fn backfill(
    reader: &SesConnection,
    identities: &[Identity],
    limit: usize,
    now: UnixSeconds,
) -> Vec<Identity> {
    let mut read = Vec::new();
    for identity in wanting_details(identities).into_iter().take(limit) {
        // In the background: an operator's read or change goes first.
        match reader
            .details_as(CallPriority::Background, &identity.name, now)
            .await
        {
            Ok(full) => read.push(full),
            Err(error) => {
                tracing::warn!(target = %reader.target.label(), identity = %identity.name, %error, "details backfill stopped");
                break;
            }
        }
    }
    read
}

/// Whether the batch read shows a change that the stored details may not reflect.
fn changed(prior: &Identity, dkim: &BatchDkim) -> bool {
    prior.dkim.status != dkim.status
        || prior.dkim.tokens != dkim.tokens
        || prior.dkim.signing_enabled != dkim.signing_enabled
}

/// The batch read laid over what was known before (or over nothing).
fn merge(
    reader: &SesConnection,
    prior: Option<&Identity>,
    name: &str,
    identity_type: IdentityType,
    dkim: Option<&BatchDkim>,
    now: UnixSeconds,
) -> Identity {
    let mut identity = prior.cloned().unwrap_or_else(|| Identity {
        name: name.to_owned(),
        identity_type,
        region: reader.target.region.clone(),
        account: reader.target.account.clone(),
        dkim: DkimState::not_started(),
        verification: None,
        read_at: now,
        details_read_at: None,
        status_seen_since: now,
    });
    if let Some(dkim) = dkim {
        identity.dkim.signing_enabled = dkim.signing_enabled;
        identity.dkim.status = dkim.status.clone();
        identity.dkim.tokens = dkim.tokens.clone();
    }
    identity.read_at = now;
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str, status: DkimStatus, details: bool) -> Identity {
        Identity {
            name: name.to_owned(),
            identity_type: IdentityType::Domain,
            region: "us-east-1".to_owned(),
            account: "a".to_owned(),
            dkim: DkimState {
                status,
                ..DkimState::not_started()
            },
            verification: None,
            read_at: 0,
            details_read_at: details.then_some(0),
            status_seen_since: 0,
        }
    }

    #[test]
    fn details_are_read_for_identities_that_are_not_success_first() {
        let identities = [
            identity("a.example", DkimStatus::Success, false),
            identity("b.example", DkimStatus::Pending, false),
            identity("c.example", DkimStatus::Failed, true),
            identity("d.example", DkimStatus::Success, false),
            identity("e.example", DkimStatus::Failed, false),
        ];
        let order: Vec<&str> = wanting_details(&identities)
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(order, ["b.example", "e.example", "a.example", "d.example"]);
    }
}
