//! Finding what a change is for: the identity in the inventory, its target's SES
//! connection, and whether it can be changed at all (its own domain, a valid DEED parent).

use crate::inventory::{Inventory, snapshot::Lookup};
use crate::model::{Identity, IdentityType, SigningOrigin};
use crate::ses::reader::SesConnection;

use super::ChangeError;
use super::error::DkimSource;
use crate::app_error::Field;

/// A DEED replica needs an Easy DKIM parent of the same name in another region the
/// dashboard reads; say which condition fails.
pub(super) fn check_replica_parent(
    inventory: &Inventory,
    account: &str,
    region: &str,
    domain: &str,
    parent_region: &str,
) -> Result<(), ChangeError> {
    if parent_region == region {
        return Err(ChangeError::invalid(
            Field::ParentRegion,
            format!("A DEED replica must be in another region than its parent ({region})."),
        ));
    }
    let snapshot = inventory.snapshot();
    let parent = match snapshot.find(parent_region, domain, Some(account)) {
        Lookup::One(parent) => parent,
        _ => {
            return Err(ChangeError::invalid(
                Field::ParentRegion,
                format!(
                    "There is no {domain} in {account}/{parent_region} to replicate: create it there first."
                ),
            ));
        }
    };
    let why = match &parent.dkim.origin {
        Some(SigningOrigin::EasyDkim) => return Ok(()),
        Some(SigningOrigin::Byodkim) => format!(
            "{domain} in {parent_region} uses BYODKIM; SES replicates only Easy DKIM identities."
        ),
        Some(SigningOrigin::Replica {
            parent_region: grand,
        }) => format!(
            "{domain} in {parent_region} is itself a replica of {grand}; replicate the parent in {grand} instead."
        ),
        _ => format!(
            "{domain} in {parent_region} has no Easy DKIM set up; SES can only replicate an Easy DKIM identity."
        ),
    };
    Err(ChangeError::invalid(Field::ParentRegion, why))
}

pub(super) fn locate(
    inventory: &Inventory,
    region: &str,
    name: &str,
    account: Option<&str>,
) -> Result<Identity, ChangeError> {
    match inventory.snapshot().find(region, name, account) {
        Lookup::One(identity) => Ok(identity.clone()),
        Lookup::Several(accounts) => Err(ChangeError::InSeveralAccounts {
            name: name.to_owned(),
            region: region.to_owned(),
            accounts,
        }),
        Lookup::Nothing => Err(ChangeError::NotFound {
            name: name.to_owned(),
            region: region.to_owned(),
        }),
    }
}

pub(super) fn connection<'a>(
    inventory: &'a Inventory,
    identity: &Identity,
) -> Result<&'a SesConnection, ChangeError> {
    inventory
        .connection(&identity.account, &identity.region)
        .ok_or_else(|| ChangeError::NotManaged {
            account: identity.account.clone(),
            region: identity.region.clone(),
        })
}

/// Email addresses and DEED replicas take their DKIM from elsewhere: say where.
pub(super) fn refuse_unless_own_domain(identity: &Identity) -> Result<(), ChangeError> {
    if identity.identity_type == IdentityType::EmailAddress {
        return Err(ChangeError::NotOwnDomain {
            name: identity.name.clone(),
            takes_dkim_from: DkimSource::ItsDomain,
        });
    }
    if let Some(SigningOrigin::Replica { parent_region }) = &identity.dkim.origin {
        return Err(ChangeError::NotOwnDomain {
            name: identity.name.clone(),
            takes_dkim_from: DkimSource::Parent(parent_region.clone()),
        });
    }
    Ok(())
}
