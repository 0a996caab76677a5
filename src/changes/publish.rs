//! Publishing an identity's DKIM records at the DNS provider that holds its zone. The
//! preview reads the provider and writes nothing; applying reads it again, goes ahead only
//! if it still holds what the operator reviewed and every replacement is confirmed, is
//! recorded in the audit log before the provider is called, and is completed with the
//! provider's answer.

use std::time::Duration;

use crate::audit::entry::AuditOutcome;
use crate::model::{DnsRecord, Identity};
use crate::publish::{
    error::ProviderError,
    plan::{Confirmation, Plan, Step},
    provider::{Applied, Located, Provider, Providers},
    zone_choice::ZoneInfo,
};

use super::{
    Actor, ChangeError, audit_trail,
    error::Unconfirmed,
    target::{locate, refuse_unless_own_domain},
};

/// How long applying waits for Route 53 to serve a change everywhere.
pub const IN_SYNC_WAIT: Duration = Duration::from_secs(60);
/// Cloudflare keeps at most 100 characters of a record's comment on its free plan.
const MARK_CHARS: usize = 100;

/// What publishing an identity would do, for an operator to review.
#[derive(Clone, Debug)]
pub struct PublishPreview {
    /// The identity, as the inventory holds it.
    pub identity: Identity,
    /// The operator's name for the provider account.
    pub provider: String,
    /// `Route 53` or `Cloudflare`.
    pub provider_kind: &'static str,
    /// The zone the records go to.
    pub zone: ZoneInfo,
    /// Per record: what the provider holds and what would change.
    pub plan: Plan,
}

impl PublishPreview {
    /// A fingerprint of what the provider held when the preview was read: applying
    /// refuses to go ahead if the provider holds something else by then.
    pub fn seen(&self) -> String {
        let text = serde_json::to_string(&(&self.zone.id, &self.plan)).unwrap_or_default();
        // FNV-1a: stable across runs and builds, and a form field, not a secret.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }
}

/// A publish applied.
#[derive(Clone, Debug)]
pub struct Published {
    /// What happened, for the operator.
    pub message: String,
    /// What was written and the provider's reference.
    pub applied: Applied,
    /// Whether the provider serves it everywhere yet (Route 53's INSYNC).
    pub in_sync: bool,
}

/// Reads what publishing the records of `name` in `region` (and `account`) would change.
/// `delegation`: the nameservers the domain is delegated to, when the DNS check knows
/// them (they tell apart two hosted zones of one name).
pub async fn preview_publish(
    actor: &Actor<'_>,
    providers: &Providers,
    region: &str,
    name: &str,
    account: Option<&str>,
    delegation: Option<&[String]>,
) -> Result<PublishPreview, ChangeError> {
    let identity = locate(actor.inventory, region, name, account)?;
    refuse_unless_own_domain(&identity)?;
    let records = actor.inventory.records_of(&identity);
    let Some(first) = records.iter().find(|r| r.value.is_some()) else {
        return Err(ChangeError::NothingToPublish(nothing_to_publish(
            &identity, &records,
        )));
    };
    let (provider, zone) = match providers.locate(&first.name, delegation).await {
        Located::At(provider, zone) => (provider, zone),
        Located::Nowhere(reasons) => {
            return Err(ChangeError::NoDnsProvider {
                name: identity.name.clone(),
                reasons: reasons
                    .into_iter()
                    .map(|(provider, error)| format!("{provider}: {error}"))
                    .collect(),
            });
        }
    };
    let plan = plan_at(provider, &zone, &records).await?;
    Ok(PublishPreview {
        identity,
        provider: provider.name().to_owned(),
        provider_kind: provider.kind(),
        zone,
        plan,
    })
}

/// Applies the preview the operator reviewed (`seen`, its fingerprint), with their
/// confirmation of each replacement.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    actor: &Actor<'_>,
    providers: &Providers,
    region: &str,
    name: &str,
    account: Option<&str>,
    delegation: Option<&[String]>,
    seen: &str,
    confirmed: &[Confirmation],
) -> Result<Published, ChangeError> {
    let preview = preview_publish(actor, providers, region, name, account, delegation).await?;
    if preview.seen() != seen {
        return Err(ChangeError::Provider(ProviderError::ChangedSincePreview(
            format!(
                "{} zone {} no longer holds what the preview showed; review the new preview",
                preview.provider, preview.zone.name
            ),
        )));
    }
    if !preview.plan.writes() {
        return Ok(Published {
            message: format!(
                "{} already holds every record of {} that can be published: nothing was written.",
                preview.provider, preview.identity.name
            ),
            applied: Applied::default(),
            in_sync: true,
        });
    }
    if !preview.plan.confirmed_by(confirmed) {
        let (record, old) = preview
            .plan
            .replacements()
            .find(|(wanted, old)| {
                !confirmed.iter().any(|c| {
                    crate::publish::plan::same_name(&c.name, &wanted.name)
                        && c.old_values == old.values
                })
            })
            .expect("an unconfirmed replacement exists");
        return Err(ChangeError::NotConfirmed(Unconfirmed::Replacement {
            name: record.name.clone(),
            old: old.values.join(", "),
        }));
    }
    let provider = providers
        .named(&preview.provider)
        .expect("the preview's provider is configured");
    let action = format!(
        "publish DKIM records to {} '{}' zone {}",
        preview.provider_kind, preview.provider, preview.zone.name
    );
    let entry =
        audit_trail::begin_with(actor, &preview.identity, action, held_text(&preview.plan)).await?;
    let mark = ownership_mark(&preview.identity.name);
    match provider.apply(&preview.zone, &preview.plan, &mark).await {
        Ok(applied) => {
            let answer = format!("{}: {}", preview.provider, applied.reference());
            audit_trail::close_with(
                actor,
                entry,
                AuditOutcome::Done,
                Some(wanted_text(&preview.plan)),
                &answer,
            )
            .await?;
            let in_sync = provider
                .wait_in_sync(&applied, IN_SYNC_WAIT)
                .await
                .unwrap_or(false);
            Ok(Published {
                message: published_message(&preview, provider, in_sync),
                applied,
                in_sync,
            })
        }
        Err(error) => {
            let refusal = ChangeError::Provider(error);
            audit_trail::close_with(
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

/// The plan for `records` at `zone`: what `provider` holds at each record's name, read
/// now. Records without a value (a BYODKIM key SES never returns) are not read.
pub async fn plan_at(
    provider: &Provider,
    zone: &ZoneInfo,
    records: &[DnsRecord],
) -> Result<Plan, ChangeError> {
    let mut held = Vec::new();
    for record in records.iter().filter(|r| r.value.is_some()) {
        let at_name = provider
            .held_at(zone, &record.name)
            .await
            .map_err(ChangeError::Provider)?;
        held.push((record.name.clone(), at_name));
    }
    Ok(Plan::new(records, |name| {
        held.iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    }))
}

pub(super) fn nothing_to_publish(identity: &Identity, records: &[DnsRecord]) -> String {
    if records.is_empty() {
        format!(
            "{} has no DKIM records to publish yet: set up Easy DKIM or BYODKIM first.",
            identity.name
        )
    } else {
        format!(
            "SES never returns a BYODKIM public key, and this dashboard did not set the key of {}: publish its TXT record from your key pair by hand.",
            identity.name
        )
    }
}

/// Marks the records as dkimdash's (Route 53's batch comment, Cloudflare's record comment).
fn ownership_mark(domain: &str) -> String {
    format!("dkimdash: DKIM for {domain}")
        .chars()
        .take(MARK_CHARS)
        .collect()
}

/// What the provider held at the records' names, for the audit log.
pub(super) fn held_text(plan: &Plan) -> String {
    plan.records
        .iter()
        .map(|r| match &r.step {
            Step::Create => format!("{}: nothing", r.wanted.name),
            Step::AlreadyRight => format!("{}: already right", r.wanted.name),
            Step::Replace { old } => {
                format!(
                    "{}: {} {}",
                    r.wanted.name,
                    old.record_type,
                    old.values.join(" | ")
                )
            }
            Step::Refused(_) => format!("{}: left alone (refused)", r.wanted.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the records are after the change, for the audit log.
pub(super) fn wanted_text(plan: &Plan) -> String {
    plan.records
        .iter()
        .filter(|r| {
            matches!(
                r.step,
                Step::Create | Step::Replace { .. } | Step::AlreadyRight
            )
        })
        .map(|r| {
            format!(
                "{} {} {}",
                r.wanted.name,
                r.wanted.record_type.as_str(),
                r.wanted.value.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn published_message(preview: &PublishPreview, provider: &Provider, in_sync: bool) -> String {
    let refused = preview
        .plan
        .records
        .iter()
        .filter(|r| matches!(r.step, Step::Refused(_)))
        .count();
    let mut message = format!(
        "Published the DKIM records of {} at {} '{}' (zone {}).",
        preview.identity.name,
        provider.kind(),
        preview.provider,
        preview.zone.name
    );
    if refused > 0 {
        message.push_str(&format!(
            " {refused} record(s) were left alone: see the preview for why."
        ));
    }
    if !in_sync {
        message.push_str(" Route 53 is still sending the change to its servers; the DNS check will see it within minutes.");
    }
    message
}
