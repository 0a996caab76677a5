//! The write side: DKIM changes an operator asks for, checked before SES is called, sent
//! through the target's connection, then re-read at once so the page shows SES's new state.
//! Every failure comes back as words an operator can act on; key material never appears in
//! a message, a log line or an answer.

pub mod audit_trail;
pub mod error;
pub mod fleet_repair;
pub mod input;
pub mod publish;
pub mod reconcile;
mod refresh;
pub mod request;
pub mod restart;
mod ses_call;
mod target;

use crate::model::{Identity, IdentityType, SigningOrigin};
use crate::ses::writer::SigningSetup;
pub use audit_trail::Actor;
pub use error::ChangeError;
use error::Unconfirmed;
use refresh::finish;
use request::byodkim_input;
pub use request::{Mode, NewDomainSigning, SigningChange};
use ses_call::send;
use target::{check_replica_parent, connection, locate, refuse_unless_own_domain};

/// A change made: what to tell the operator, and the identity as SES now reports it.
#[derive(Clone, Debug)]
pub struct ChangeMade {
    /// What happened and what to do next.
    pub message: String,
    /// The identity as re-read after the change.
    pub identity: Identity,
}

/// Switches signing mode, updates a BYODKIM key/selector, or changes the Easy DKIM key
/// length of the identity `name` in `region` (and `account`, when several have it).
pub async fn change_signing(
    actor: &Actor<'_>,
    region: &str,
    name: &str,
    account: Option<&str>,
    change: SigningChange,
) -> Result<ChangeMade, ChangeError> {
    let inventory = actor.inventory;
    let identity = locate(inventory, region, name, account)?;
    refuse_unless_own_domain(&identity)?;
    let current = identity.dkim.origin.clone();
    let key_length = input::key_length(change.key_length.as_deref())?;
    let byodkim = match change.mode {
        Mode::Byodkim => Some(byodkim_input(&change)?),
        Mode::EasyDkim => None,
    };
    let length_change_only =
        change.mode == Mode::EasyDkim && current == Some(SigningOrigin::EasyDkim);
    if !length_change_only && !change.confirmed {
        return Err(ChangeError::NotConfirmed(Unconfirmed::ModeSwitch));
    }
    let setup = match &byodkim {
        Some((selector, key)) => SigningSetup::Byodkim { selector, key },
        None => SigningSetup::EasyDkim {
            next_key_length: key_length.clone(),
        },
    };
    let action = match (&byodkim, &current, &key_length) {
        (Some((selector, _)), Some(SigningOrigin::Byodkim), _) => {
            format!("new BYODKIM key (selector {selector})")
        }
        (Some((selector, _)), _, _) => format!("switch to BYODKIM (selector {selector})"),
        (None, Some(SigningOrigin::EasyDkim), Some(length)) => {
            format!("next Easy DKIM key: {} bits", length.bits())
        }
        (None, _, Some(length)) => format!("switch to Easy DKIM ({} bits)", length.bits()),
        (None, _, None) => "switch to Easy DKIM".to_owned(),
    };
    let connection = connection(inventory, &identity)?;
    let entry = send(
        actor,
        &identity,
        action,
        "PutEmailIdentityDkimSigningAttributes",
        connection.put_signing(&identity.name, &setup),
    )
    .await?;
    let key = identity.key();
    if let Some((selector, signing_key)) = &byodkim {
        inventory.remember_public_key(key.clone(), selector, signing_key.public_key.clone());
    }
    let message = match (&byodkim, length_change_only, &key_length) {
        (Some((selector, _)), _, _) => format!(
            "{} now signs with your key under selector {selector} (BYODKIM). SES shows PENDING until it finds the TXT record below: publish it now.",
            identity.name
        ),
        (None, true, Some(length)) => format!(
            "The next Easy DKIM key of {} will be {}-bit. SES allows one key length change per 24 hours.",
            identity.name,
            length.bits()
        ),
        (None, true, None) => format!(
            "{} already uses Easy DKIM; nothing to switch.",
            identity.name
        ),
        (None, false, _) => format!(
            "{} now uses Easy DKIM. SES shows PENDING until it finds the three CNAME records below: publish them now.",
            identity.name
        ),
    };
    finish(actor, entry, key, message, "signing changed").await
}

/// Turns DKIM signing on or off (turning it off needs the operator's confirmation).
pub async fn set_signing_enabled(
    actor: &Actor<'_>,
    region: &str,
    name: &str,
    account: Option<&str>,
    enabled: bool,
    confirmed: bool,
) -> Result<ChangeMade, ChangeError> {
    let identity = locate(actor.inventory, region, name, account)?;
    if !enabled && !confirmed {
        return Err(ChangeError::NotConfirmed(Unconfirmed::SigningOff(
            identity.name,
        )));
    }
    let action = if enabled {
        "turn signing on"
    } else {
        "turn signing off"
    };
    let entry = send(
        actor,
        &identity,
        action.to_owned(),
        "PutEmailIdentityDkimAttributes",
        connection(actor.inventory, &identity)?.put_signing_enabled(&identity.name, enabled),
    )
    .await?;
    let message = if enabled {
        format!("DKIM signing is on for {}.", identity.name)
    } else {
        format!(
            "DKIM signing is off for {}: its mail is not DKIM-signed until you turn it on again.",
            identity.name
        )
    };
    finish(actor, entry, identity.key(), message, "signing switched").await
}

/// Creates a domain identity in `account`/`region` and reads it back with its tokens.
pub async fn add_domain(
    actor: &Actor<'_>,
    account: &str,
    region: &str,
    domain: &str,
    signing: NewDomainSigning,
    tags: Option<&str>,
) -> Result<ChangeMade, ChangeError> {
    let inventory = actor.inventory;
    let domain = input::domain(domain)?;
    let tags = input::tags(tags)?;
    let connection =
        inventory
            .connection(account, region)
            .ok_or_else(|| ChangeError::NotManaged {
                account: account.to_owned(),
                region: region.to_owned(),
            })?;
    let placeholder = Identity {
        name: domain.clone(),
        identity_type: IdentityType::Domain,
        region: region.to_owned(),
        account: account.to_owned(),
        dkim: crate::model::DkimState::not_started(),
        verification: None,
        read_at: 0,
        details_read_at: None,
        status_seen_since: 0,
    };
    let key = placeholder.key();
    let (byodkim, key_length, parent_region) = match &signing {
        NewDomainSigning::Own(change) => match change.mode {
            Mode::Byodkim => (Some(byodkim_input(change)?), None, None),
            Mode::EasyDkim => (None, input::key_length(change.key_length.as_deref())?, None),
        },
        NewDomainSigning::Replica { parent_region } => {
            check_replica_parent(inventory, account, region, &domain, parent_region)?;
            (None, None, Some(parent_region.as_str()))
        }
    };
    let setup = match (&byodkim, parent_region) {
        (Some((selector, key)), _) => SigningSetup::Byodkim { selector, key },
        (None, Some(parent_region)) => SigningSetup::Replica { parent_region },
        (None, None) => SigningSetup::EasyDkim {
            next_key_length: key_length,
        },
    };
    let action = match (&byodkim, parent_region, &setup) {
        (Some((selector, _)), _, _) => format!("add domain with BYODKIM (selector {selector})"),
        (None, Some(parent), _) => format!("add DEED replica of {parent}"),
        (
            None,
            None,
            SigningSetup::EasyDkim {
                next_key_length: Some(length),
            },
        ) => format!("add domain with Easy DKIM ({} bits)", length.bits()),
        (None, None, _) => "add domain with Easy DKIM".to_owned(),
    };
    let entry = send(
        actor,
        &placeholder,
        action,
        "CreateEmailIdentity",
        connection.create_domain(&domain, &setup, &tags),
    )
    .await?;
    if let Some((selector, signing_key)) = &byodkim {
        inventory.remember_public_key(key.clone(), selector, signing_key.public_key.clone());
    }
    let message = match (&byodkim, parent_region) {
        (Some(_), _) => format!(
            "Added {domain} in {region} with your key (BYODKIM). Publish the TXT record below; SES shows PENDING until it finds it."
        ),
        (None, Some(parent)) => format!(
            "Added {domain} in {region} as a DEED replica of {parent}: it signs with the parent's keys and records."
        ),
        (None, None) => format!(
            "Added {domain} in {region} with Easy DKIM. Publish the three CNAME records below; SES shows PENDING until it finds them."
        ),
    };
    finish(actor, entry, key, message, "domain added").await
}
