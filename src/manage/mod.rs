//! The write side: DKIM changes an operator asks for, checked before SES is called, sent
//! through the target's connection, then re-read at once so the page shows SES's new state.
//! Every failure comes back as words an operator can act on; key material never appears in
//! a message, a log line or an answer.

pub mod input;
pub mod reconcile;
pub mod record;

use secrecy::SecretString;

use crate::audit::entry::Outcome;
use crate::change_answer::UNSIGNED_WHILE_PENDING;
use crate::inventory::{Inventory, snapshot::Found};
use crate::model::{Identity, IdentityKey, IdentityType, SigningOrigin};
use crate::ses::{error::Error, reader::SesConnection, writer::SigningSetup};
use crate::signing_key::{self, SigningKey};
pub use record::Actor;

/// Why a change was not made (or may not have been), in the operator's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(pub String);

impl From<String> for WriteError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

/// A change made: what to tell the operator, and the identity as SES now reports it.
#[derive(Clone, Debug)]
pub struct Done {
    /// What happened and what to do next.
    pub message: String,
    /// The identity as re-read after the change.
    pub identity: Identity,
}

/// Which signing the operator chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SES-managed keys.
    EasyDkim,
    /// The operator's own key.
    Byodkim,
}

impl Mode {
    /// `easy` or `byodkim` as the forms send it.
    pub fn parse(value: &str) -> Result<Self, WriteError> {
        match value.trim() {
            "easy" => Ok(Self::EasyDkim),
            "byodkim" => Ok(Self::Byodkim),
            other => Err(WriteError(format!(
                "Signing: '{other}' is not offered; choose Easy DKIM or BYODKIM"
            ))),
        }
    }
}

/// A signing change as the form sends it.
#[derive(Debug)]
pub struct SigningChange {
    /// Easy DKIM or BYODKIM.
    pub mode: Mode,
    /// Easy DKIM: the next key's length (SES's default when `None`).
    pub key_length: Option<String>,
    /// BYODKIM: the selector.
    pub selector: Option<String>,
    /// BYODKIM: the pasted private key (ignored when `generate`).
    pub private_key: Option<SecretString>,
    /// BYODKIM: generate a 2048-bit key here instead.
    pub generate: bool,
    /// The operator confirmed that mail may go out unsigned while the change is PENDING.
    pub confirmed: bool,
}

/// Switches signing mode, updates a BYODKIM key/selector, or changes the Easy DKIM key
/// length of the identity `name` in `region` (and `account`, when several have it).
pub async fn change_signing(
    actor: &Actor<'_>,
    region: &str,
    name: &str,
    account: Option<&str>,
    change: SigningChange,
) -> Result<Done, WriteError> {
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
        return Err(WriteError(format!(
            "Confirm the change first: {UNSIGNED_WHILE_PENDING}"
        )));
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
) -> Result<Done, WriteError> {
    let identity = locate(actor.inventory, region, name, account)?;
    if !enabled && !confirmed {
        return Err(WriteError(format!(
            "Confirm first: with signing off, mail from {} goes out without a DKIM signature.",
            identity.name
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

/// How a new domain should sign.
#[derive(Debug)]
pub enum NewDomainSigning {
    /// Easy DKIM, or BYODKIM, as for a change.
    Own(SigningChange),
    /// A DEED replica of the same domain in `parent_region`.
    Replica {
        /// Where the parent identity lives.
        parent_region: String,
    },
}

/// Creates a domain identity in `account`/`region` and reads it back with its tokens.
pub async fn add_domain(
    actor: &Actor<'_>,
    account: &str,
    region: &str,
    domain: &str,
    signing: NewDomainSigning,
    tags: Option<&str>,
) -> Result<Done, WriteError> {
    let inventory = actor.inventory;
    let domain = input::domain(domain)?;
    let tags = input::tags(tags)?;
    let connection = inventory.connection(account, region).ok_or_else(|| {
        WriteError(format!(
            "The dashboard does not manage {account}/{region}; choose one of its configured accounts and regions."
        ))
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

/// A DEED replica needs an Easy DKIM parent of the same name in another region the
/// dashboard reads; say which condition fails.
fn check_replica_parent(
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
        Found::One(parent) => parent,
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

/// The BYODKIM selector and key: a generated key, or the pasted one, checked.
fn byodkim_input(change: &SigningChange) -> Result<(String, SigningKey), WriteError> {
    let selector = input::selector(change.selector.as_deref().unwrap_or(""))?;
    let key = if change.generate {
        signing_key::generate()
    } else {
        match &change.private_key {
            Some(pasted) => signing_key::parse(pasted),
            None => signing_key::parse(&SecretString::from(String::new())),
        }
    }
    .map_err(|e| WriteError(format!("Private key: {e}")))?;
    Ok((selector, key))
}

fn locate(
    inventory: &Inventory,
    region: &str,
    name: &str,
    account: Option<&str>,
) -> Result<Identity, WriteError> {
    match inventory.snapshot().find(region, name, account) {
        Found::One(identity) => Ok(identity.clone()),
        Found::Several(accounts) => Err(WriteError(format!(
            "{name} exists in {region} in several accounts ({}); open it from the table to pick one.",
            accounts.join(", ")
        ))),
        Found::Nothing => Err(WriteError(format!(
            "{name} is not in {region} in the inventory (deleted meanwhile?)."
        ))),
    }
}

fn connection<'a>(
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
fn refuse_unless_own_domain(identity: &Identity) -> Result<(), WriteError> {
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
async fn send<T>(
    actor: &Actor<'_>,
    identity: &Identity,
    action: String,
    ses_action: &str,
    call: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<i64, WriteError> {
    let entry = record::begin(actor, identity, action).await?;
    match call.await {
        Ok(_) => Ok(entry),
        Err(error) => {
            let refusal = refused(actor.inventory, error, ses_action, identity);
            record::close(actor, entry, Outcome::Refused, None, &refusal.0).await?;
            Err(refusal)
        }
    }
}

/// Re-reads the identity so the page shows SES's answer at once, and completes the audit
/// entry with the new state.
async fn finish(
    actor: &Actor<'_>,
    entry: i64,
    key: IdentityKey,
    message: String,
    what: &'static str,
) -> Result<Done, WriteError> {
    tracing::info!(
        identity = %key.name, region = %key.region, account = %key.account,
        user = %actor.user.name, entry, "{what}"
    );
    match actor.inventory.refresh_identity(&key).await {
        Ok(identity) => {
            record::close(actor, entry, Outcome::Done, Some(&identity), &message).await?;
            Ok(Done { message, identity })
        }
        Err(error) => {
            let message = format!(
                "{message} (Re-reading it from SES failed: {error}; the next sweep will show it.)"
            );
            record::close(actor, entry, Outcome::Done, None, &message).await?;
            Err(WriteError(message))
        }
    }
}
