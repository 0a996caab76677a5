//! Finding what a change is for: the identity in the inventory, its target's SES
//! connection, and whether it can be changed at all (its own domain, a valid DEED parent).

use crate::inventory::{Inventory, snapshot::Lookup};
use crate::model::{Identity, IdentityType, SigningOrigin};
use crate::ses::reader::SesConnection;

use super::WriteError;

/// A DEED replica needs an Easy DKIM parent of the same name in another region the
/// dashboard reads; say which condition fails.
pub(super) fn check_replica_parent(
    inventory: &Inventory,
    account: &str,
    region: &str,
    domain: &str,
    parent_region: &str,
) -> Result<(), WriteError> {
    if parent_region == region {
        return Err(WriteError(format!(
            "A DEED replica must be in another region than its parent ({region})."
        )));
    }
    let snapshot = inventory.snapshot();
    let parent = match snapshot.find(parent_region, domain, Some(account)) {
        Lookup::One(parent) => parent,
        _ => {
            return Err(WriteError(format!(
                "There is no {domain} in {account}/{parent_region} to replicate: create it there first."
            )));
        }
    };
    match &parent.dkim.origin {
        Some(SigningOrigin::EasyDkim) => Ok(()),
        Some(SigningOrigin::Byodkim) => Err(WriteError(format!(
            "{domain} in {parent_region} uses BYODKIM; SES replicates only Easy DKIM identities."
        ))),
        Some(SigningOrigin::Replica {
            parent_region: grand,
        }) => Err(WriteError(format!(
            "{domain} in {parent_region} is itself a replica of {grand}; replicate the parent in {grand} instead."
        ))),
        _ => Err(WriteError(format!(
            "{domain} in {parent_region} has no Easy DKIM set up; SES can only replicate an Easy DKIM identity."
        ))),
    }
}

pub(super) fn locate(
    inventory: &Inventory,
    region: &str,
    name: &str,
    account: Option<&str>,
) -> Result<Identity, WriteError> {
    match inventory.snapshot().find(region, name, account) {
        Lookup::One(identity) => Ok(identity.clone()),
        Lookup::Several(accounts) => Err(WriteError(format!(
            "{name} exists in {region} in several accounts ({}); open it from the table to pick one.",
            accounts.join(", ")
        ))),
        Lookup::Nothing => Err(WriteError(format!(
            "{name} is not in {region} in the inventory (deleted meanwhile?)."
        ))),
    }
}

pub(super) fn connection<'a>(
    inventory: &'a Inventory,
    identity: &Identity,
) -> Result<&'a SesConnection, WriteError> {
    inventory
        .connection(&identity.account, &identity.region)
        .ok_or_else(|| {
            WriteError(format!(
                "The dashboard does not manage {}/{}.",
                identity.account, identity.region
            ))
        })
}

/// Email addresses and DEED replicas take their DKIM from elsewhere: say where.
pub(super) fn refuse_unless_own_domain(identity: &Identity) -> Result<(), WriteError> {
    if identity.identity_type == IdentityType::EmailAddress {
        return Err(WriteError(format!(
            "{} is an email address: it signs with its domain's DKIM. Change the domain's identity instead.",
            identity.name
        )));
    }
    if let Some(SigningOrigin::Replica { parent_region }) = &identity.dkim.origin {
        return Err(WriteError(format!(
            "{} is a DEED replica: it signs with the keys of {} in {parent_region}. Change the parent instead.",
            identity.name, identity.name
        )));
    }
    Ok(())
}
