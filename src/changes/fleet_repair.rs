//! A fleet repair, as changes: the preview (every provider's zones and the records in them
//! read once, nothing written) and the run, zone by zone and batch by batch, each
//! identity's publish in the audit log before the provider is called, then a DNS check
//! and, for what SES gave up on, a restart of its verification.

use std::collections::HashMap;

use crate::audit::entry::AuditOutcome;
use crate::dns::monitor::DnsMonitor;
use crate::model::{DkimStatus, Identity, IdentityKey, SigningOrigin};
use crate::publish::{
    plan::{Held, Plan, PlannedRecord, name_key},
    provider::{Provider, Providers},
    zone_choice::{self, ZoneInfo},
};
use crate::repair::{
    fleet_plan::{FleetPlan, IdentityRepair, Placed, ZoneRepair},
    store::{RepairStore, Run, StepState},
};

use super::publish::{IN_SYNC_WAIT, held_text, nothing_to_publish, wanted_text};
use super::restart::{records_now, restart_verification};
use super::{Actor, ChangeError, audit_trail, target::refuse_unless_own_domain};

/// What repairing `selected` needs: every provider's zones and the records in the zones
/// concerned are read once; nothing is written.
pub async fn preview(
    actor: &Actor<'_>,
    providers: &Providers,
    dns: Option<&DnsMonitor>,
    selected: &[Identity],
) -> Result<FleetPlan, ChangeError> {
    let mut zones_of: Vec<(&Provider, Result<Vec<ZoneInfo>, String>)> = Vec::new();
    for provider in providers.all() {
        let zones = provider.zones().await.map_err(|e| e.to_string());
        zones_of.push((provider, zones));
    }
    // Where each identity goes, before reading any zone's records.
    let mut placed: Vec<(&Identity, Placement)> = Vec::new();
    for identity in selected {
        placed.push((identity, place(actor, dns, identity, &zones_of).await));
    }
    let mut held_in: HashMap<(String, String), ZoneRecords> = HashMap::new();
    for (provider, zone) in placed.iter().filter_map(|(_, place)| place.as_ref().ok()) {
        let key = (provider.name().to_owned(), zone.id.clone());
        if let std::collections::hash_map::Entry::Vacant(entry) = held_in.entry(key) {
            entry.insert(provider.records_in(zone).await.map_err(|e| e.to_string()));
        }
    }
    let sorted = placed.into_iter().map(|(identity, place)| {
        let restart = gave_up(identity);
        let placed = match place {
            Err(why) => Placed::Nowhere(why),
            Ok((provider, zone)) => {
                match &held_in[&(provider.name().to_owned(), zone.id.clone())] {
                    Err(why) => Placed::Nowhere(format!("{}: {why}", provider.name())),
                    Ok(held) => Placed::At {
                        provider: provider.name().to_owned(),
                        provider_kind: provider.kind().to_owned(),
                        plan: plan_from(&actor.inventory.records_of(identity), held),
                        zone,
                    },
                }
            }
        };
        (identity.key(), placed, restart)
    });
    Ok(FleetPlan::new(sorted))
}

/// The provider and zone that take an identity's records, or why none does.
type Placement<'p> = Result<(&'p Provider, ZoneInfo), String>;
/// What a zone holds, by name, or why it could not be read.
type ZoneRecords = Result<HashMap<String, Vec<Held>>, String>;

/// The provider and zone that take `identity`'s records (the first provider, in the
/// file's order, that holds the zone), or why none does.
async fn place<'p>(
    actor: &Actor<'_>,
    dns: Option<&DnsMonitor>,
    identity: &Identity,
    zones_of: &[(&'p Provider, Result<Vec<ZoneInfo>, String>)],
) -> Placement<'p> {
    refuse_unless_own_domain(identity).map_err(|e| e.to_string())?;
    let records = actor.inventory.records_of(identity);
    let Some(first) = records.iter().find(|r| r.value.is_some()) else {
        return Err(nothing_to_publish(identity, &records));
    };
    let mut reasons = Vec::new();
    for (provider, zones) in zones_of {
        match zones {
            Err(why) => reasons.push(format!("{}: {why}", provider.name())),
            Ok(zones) => {
                let mut chosen = zone_choice::choose(&first.name, zones, provider.allowed(), None);
                if let (Err(zone_choice::NoZone::Ambiguous { .. }), Some(dns)) = (&chosen, dns) {
                    // Twins: the delegation DNS gives tells them apart.
                    let delegation = dns.delegation_of(&identity.name).await;
                    chosen = zone_choice::choose(
                        &first.name,
                        zones,
                        provider.allowed(),
                        delegation.as_deref(),
                    );
                }
                match chosen {
                    Ok(zone) => return Ok((*provider, zone.clone())),
                    Err(zone_choice::NoZone::NotHeld(_)) => {}
                    Err(other) => reasons.push(format!("{}: {other}", provider.name())),
                }
            }
        }
    }
    if reasons.is_empty() {
        Err(format!(
            "no configured DNS provider holds the zone of {}",
            identity.name
        ))
    } else {
        Err(reasons.join("; "))
    }
}

/// SES gave up on it and the dashboard can ask it to look again (Easy DKIM).
fn gave_up(identity: &Identity) -> bool {
    identity.dkim.status == DkimStatus::Failed
        && identity.dkim.origin == Some(SigningOrigin::EasyDkim)
}

fn plan_from(records: &[crate::model::DnsRecord], held: &HashMap<String, Vec<Held>>) -> Plan {
    Plan::new(records, |name| {
        held.get(&name_key(name)).cloned().unwrap_or_default()
    })
}

/// Carries out run `run` where it stands: each zone's batches in order (skipping what is
/// done), then the DNS check and restart of each identity. Returns early, with everything
/// so far recorded, if `stopping` says so between batches.
pub async fn carry_out(
    actor: &Actor<'_>,
    providers: &Providers,
    dns: Option<&DnsMonitor>,
    store: &RepairStore,
    run: &Run,
    stopping: impl Fn() -> bool,
) -> Result<bool, ChangeError> {
    let mut state: HashMap<IdentityKey, StepState> =
        run.steps.iter().map(|s| (s.key.clone(), s.state)).collect();
    for zone in &run.plan.zones {
        let Some(provider) = providers.named(&zone.provider) else {
            let why = format!(
                "the DNS provider '{}' is no longer configured",
                zone.provider
            );
            for item in &zone.identities {
                if !state[&item.key].is_final() {
                    record(
                        store,
                        run.id,
                        &item.key,
                        StepState::Failed,
                        Some(&why),
                        None,
                    )
                    .await?;
                    state.insert(item.key.clone(), StepState::Failed);
                }
            }
            continue;
        };
        for batch in zone.batches() {
            let waiting: Vec<&IdentityRepair> = batch
                .into_iter()
                .filter(|i| state[&i.key] == StepState::Waiting)
                .collect();
            if waiting.is_empty() {
                continue;
            }
            if stopping() {
                return Ok(false);
            }
            let outcomes = publish_batch(actor, provider, zone, &waiting, run.id).await;
            for (key, step, words, entry) in outcomes {
                record(store, run.id, &key, step, Some(&words), entry).await?;
                state.insert(key, step);
            }
        }
        for item in &zone.identities {
            if state[&item.key].is_final() {
                continue;
            }
            if stopping() {
                return Ok(false);
            }
            let (step, words, entry) = settle(actor, dns, item, state[&item.key]).await;
            record(store, run.id, &item.key, step, words.as_deref(), entry).await?;
            state.insert(item.key.clone(), step);
        }
    }
    Ok(true)
}

/// One outcome: the identity, where it stands now, the words, the audit entry.
type Outcome = (IdentityKey, StepState, String, Option<i64>);

/// Writes one batch: the zone read again, each identity whose records are still as
/// reviewed recorded in the audit log, then one call to the provider for all of them.
async fn publish_batch(
    actor: &Actor<'_>,
    provider: &Provider,
    zone: &ZoneRepair,
    items: &[&IdentityRepair],
    run: i64,
) -> Vec<Outcome> {
    let held = match provider.records_in(&zone.zone).await {
        Ok(held) => held,
        Err(error) => {
            let words = format!("not published: {error}");
            return items
                .iter()
                .map(|i| (i.key.clone(), StepState::Failed, words.clone(), None))
                .collect();
        }
    };
    let mut outcomes = Vec::new();
    let mut going: Vec<(&IdentityRepair, i64)> = Vec::new();
    for item in items {
        let wanted: Vec<_> = item.plan.records.iter().map(|r| r.wanted.clone()).collect();
        let now = plan_from(&wanted, &held);
        if now != item.plan {
            let words = if now.writes() {
                "not published: the zone changed since the preview; publish it from its page"
            } else {
                "the records were published meanwhile: nothing to write"
            };
            let step = if now.writes() {
                StepState::Failed
            } else {
                StepState::Published
            };
            outcomes.push((item.key.clone(), step, words.to_owned(), None));
            continue;
        }
        let Some(identity) = find(actor, &item.key) else {
            let words = "not published: the identity is no longer in the inventory";
            outcomes.push((item.key.clone(), StepState::Failed, words.to_owned(), None));
            continue;
        };
        let action = format!(
            "publish DKIM records to {} '{}' zone {} (fleet repair #{run})",
            zone.provider_kind, zone.provider, zone.zone.name
        );
        match audit_trail::begin_with(actor, &identity, action, held_text(&item.plan)).await {
            Ok(entry) => going.push((item, entry)),
            Err(error) => {
                outcomes.push((item.key.clone(), StepState::Failed, error.to_string(), None));
            }
        }
    }
    if going.is_empty() {
        return outcomes;
    }
    let batch = Plan {
        records: going
            .iter()
            .flat_map(|(item, _)| item.plan.records.iter().cloned())
            .collect::<Vec<PlannedRecord>>(),
    };
    let mark = format!("dkimdash: DKIM, fleet repair #{run}");
    let applied = provider.apply(&zone.zone, &batch, &mark).await;
    let (outcome, step, words) = match &applied {
        Ok(applied) => (
            AuditOutcome::Done,
            StepState::Published,
            format!("published ({}: {})", zone.provider, applied.reference()),
        ),
        Err(error) => (
            AuditOutcome::Refused,
            StepState::Failed,
            format!("not published: {error}"),
        ),
    };
    for (item, entry) in &going {
        let after = (outcome == AuditOutcome::Done).then(|| wanted_text(&item.plan));
        let closed = audit_trail::close_with(actor, *entry, outcome, after, &words).await;
        let words = match closed {
            Ok(()) => words.clone(),
            Err(error) => format!("{words} ({error})"),
        };
        outcomes.push((item.key.clone(), step, words, Some(*entry)));
    }
    if let Ok(applied) = applied {
        // Bounded: the DNS checks after it see the records sooner or later either way.
        let _ = provider.wait_in_sync(&applied, IN_SYNC_WAIT).await;
    }
    outcomes
}

/// After its records: a restart for what SES gave up on, once the DNS check finds them
/// right; nothing more for the rest. The words, when there are new ones.
async fn settle(
    actor: &Actor<'_>,
    dns: Option<&DnsMonitor>,
    item: &IdentityRepair,
    now: StepState,
) -> (StepState, Option<String>, Option<i64>) {
    let published = now == StepState::Published;
    if !item.restart {
        // What the publish recorded stays its word.
        return (StepState::Done, None, None);
    }
    let Some(identity) = find(actor, &item.key) else {
        return (
            StepState::Failed,
            Some("not restarted: the identity is no longer in the inventory".to_owned()),
            None,
        );
    };
    let health = records_now(dns, actor.inventory, &identity, "fleet repair").await;
    let key = &item.key;
    match restart_verification(actor, &key.region, &key.name, Some(&key.account), health).await {
        Ok(made) => (StepState::Restarted, Some(made.message), None),
        Err(error) => {
            let words = if published {
                format!("published, but not restarted: {error}")
            } else {
                format!("not restarted: {error}")
            };
            (StepState::Failed, Some(words), None)
        }
    }
}

fn find(actor: &Actor<'_>, key: &IdentityKey) -> Option<Identity> {
    match actor
        .inventory
        .snapshot()
        .find(&key.region, &key.name, Some(&key.account))
    {
        crate::inventory::snapshot::Lookup::One(identity) => Some(identity.clone()),
        _ => None,
    }
}

async fn record(
    store: &RepairStore,
    run: i64,
    key: &IdentityKey,
    state: StepState,
    words: Option<&str>,
    entry: Option<i64>,
) -> Result<(), ChangeError> {
    store
        .set_step(run, key, state, words, entry)
        .await
        .map_err(|error| {
            tracing::error!(%error, run, identity = %key.name, "fleet repair step not recorded");
            ChangeError::AuditUnavailable {
                place: "the fleet repair's record".to_owned(),
            }
        })
}
