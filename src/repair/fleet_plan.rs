//! Pure: what repairing a selection of identities needs, sorted by the provider and zone
//! that would take each one's records, and what cannot be repaired in one reviewed step
//! and why. A fleet repair only creates what is missing and restarts what SES gave up on;
//! anything that needs a decision (replacing values someone else may rely on, a CNAME
//! beside other data, a key the dashboard cannot know) is left to the identity's page.

use serde::{Deserialize, Serialize};

use crate::model::IdentityKey;
use crate::publish::plan::{Plan, Refusal, Step};
use crate::publish::zone_choice::ZoneInfo;

/// Route 53's limits on one change batch: 1,000 values, 32,000 characters of values.
pub const BATCH_VALUES: usize = 1_000;
pub const BATCH_VALUE_CHARS: usize = 32_000;

/// One identity as the repair sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRepair {
    pub key: IdentityKey,
    /// Its records: each one created, or already right.
    pub plan: Plan,
    /// SES gave up on it (FAILED, Easy DKIM): restarted once the DNS check finds its
    /// records right.
    pub restart: bool,
}

impl IdentityRepair {
    /// The values a batch would write for it.
    fn values(&self) -> impl Iterator<Item = &str> {
        self.plan
            .records
            .iter()
            .filter(|r| r.step == Step::Create)
            .filter_map(|r| r.wanted.value.as_deref())
    }
}

/// What one provider's zone gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRepair {
    /// The operator's name for the provider account.
    pub provider: String,
    /// `Route 53` or `Cloudflare`.
    pub provider_kind: String,
    pub zone: ZoneInfo,
    pub identities: Vec<IdentityRepair>,
}

impl ZoneRepair {
    /// The identities in groups that each fit one Route 53 change batch, in order.
    /// Restart-only identities write nothing and belong to no batch.
    pub fn batches(&self) -> Vec<Vec<&IdentityRepair>> {
        let mut batches: Vec<Vec<&IdentityRepair>> = Vec::new();
        let (mut values, mut chars) = (0, 0);
        for item in self.identities.iter().filter(|i| i.plan.writes()) {
            let (item_values, item_chars) = item
                .values()
                .fold((0, 0), |(n, c), value| (n + 1, c + batch_chars(value)));
            let fits =
                values + item_values <= BATCH_VALUES && chars + item_chars <= BATCH_VALUE_CHARS;
            match batches.last_mut() {
                Some(batch) if fits => batch.push(item),
                _ => {
                    batches.push(vec![item]);
                    (values, chars) = (0, 0);
                }
            }
            values += item_values;
            chars += item_chars;
        }
        batches
    }

    /// How many records the repair creates in this zone.
    pub fn creates(&self) -> usize {
        self.identities.iter().map(|i| i.values().count()).sum()
    }
}

/// A value's size as Route 53 counts it: a TXT value goes out as quoted strings of at
/// most 255 characters.
fn batch_chars(value: &str) -> usize {
    value.len() + 2 * value.len().div_ceil(255).max(1)
}

/// Why an identity is left out of the repair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrepairable {
    pub key: IdentityKey,
    /// What stands in the way, and where to decide it.
    pub why: String,
}

/// The whole repair, for the operator to review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetPlan {
    /// By provider and zone, in a stable order.
    pub zones: Vec<ZoneRepair>,
    pub unrepairable: Vec<Unrepairable>,
    /// Selected identities with nothing to repair.
    pub nothing_to_do: Vec<IdentityKey>,
}

/// Where one selected identity's records go, as found.
pub enum Placed {
    /// At this provider's zone, with what it holds there now already compared.
    At {
        provider: String,
        provider_kind: String,
        zone: ZoneInfo,
        plan: Plan,
    },
    /// Nowhere: why (no provider holds the zone, an email address, …).
    Nowhere(String),
}

impl FleetPlan {
    /// Sorts every selected identity: `placed` is where its records go, `restart` whether
    /// SES gave up on it.
    pub fn new(selected: impl IntoIterator<Item = (IdentityKey, Placed, bool)>) -> Self {
        let mut fleet = Self::default();
        for (key, placed, restart) in selected {
            let (provider, provider_kind, zone, plan) = match placed {
                Placed::Nowhere(why) => {
                    fleet.unrepairable.push(Unrepairable { key, why });
                    continue;
                }
                Placed::At {
                    provider,
                    provider_kind,
                    zone,
                    plan,
                } => (provider, provider_kind, zone, plan),
            };
            if let Some(why) = needs_a_decision(&plan) {
                fleet.unrepairable.push(Unrepairable { key, why });
                continue;
            }
            if !plan.writes() && !restart {
                fleet.nothing_to_do.push(key);
                continue;
            }
            let item = IdentityRepair { key, plan, restart };
            match fleet
                .zones
                .iter_mut()
                .find(|z| z.provider == provider && z.zone.id == zone.id)
            {
                Some(group) => group.identities.push(item),
                None => fleet.zones.push(ZoneRepair {
                    provider,
                    provider_kind,
                    zone,
                    identities: vec![item],
                }),
            }
        }
        fleet
            .zones
            .sort_by(|a, b| (&a.provider, &a.zone.name).cmp(&(&b.provider, &b.zone.name)));
        for zone in &mut fleet.zones {
            zone.identities.sort_by(|a, b| a.key.cmp(&b.key));
        }
        fleet.unrepairable.sort_by(|a, b| a.key.cmp(&b.key));
        fleet.nothing_to_do.sort();
        fleet
    }

    /// Whether applying it would do anything.
    pub fn does_anything(&self) -> bool {
        !self.zones.is_empty()
    }

    /// How many identities get a restart.
    pub fn restarts(&self) -> usize {
        self.zones
            .iter()
            .flat_map(|z| &z.identities)
            .filter(|i| i.restart)
            .count()
    }

    /// A fingerprint of the plan: starting the repair refuses to go ahead if the fleet
    /// would be repaired otherwise by then.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        // FNV-1a: stable across runs and builds; a form field, not a secret.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }
}

/// Why a plan cannot be applied without an operator's decision on the identity's page.
fn needs_a_decision(plan: &Plan) -> Option<String> {
    for record in &plan.records {
        let name = &record.wanted.name;
        match &record.step {
            Step::Replace { old } => {
                return Some(format!(
                    "{name} holds {} {}: replacing it is a decision to make on the identity's page",
                    old.record_type,
                    old.values.join(", ")
                ));
            }
            Step::Refused(Refusal::OtherTypesAtName(types)) => {
                return Some(format!(
                    "{name} holds {}: a CNAME cannot share its name with other records (RFC 1034 §3.6.2)",
                    types.join(", ")
                ));
            }
            Step::Refused(Refusal::ValueUnknown) => {
                return Some(format!(
                    "the value of {name} is not known (SES never returns a BYODKIM public key)"
                ));
            }
            Step::Create | Step::AlreadyRight => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DnsRecord, RecordType};
    use crate::publish::plan::Held;

    fn key(name: &str) -> IdentityKey {
        IdentityKey {
            account: "prod".into(),
            region: "eu-west-1".into(),
            name: name.into(),
        }
    }

    fn zone(id: &str, name: &str) -> ZoneInfo {
        ZoneInfo {
            id: id.into(),
            name: name.into(),
            private: false,
            name_servers: Vec::new(),
        }
    }

    fn cnames(domain: &str) -> Vec<DnsRecord> {
        (1..=3)
            .map(|i| DnsRecord {
                record_type: RecordType::Cname,
                name: format!("tok{i}._domainkey.{domain}"),
                value: Some(format!("tok{i}.dkim.amazonses.com")),
            })
            .collect()
    }

    fn at(provider: &str, zone_info: ZoneInfo, domain: &str, held: Vec<Held>) -> Placed {
        Placed::At {
            provider: provider.into(),
            provider_kind: "Route 53".into(),
            zone: zone_info,
            plan: Plan::new(&cnames(domain), |name| {
                if name.starts_with("tok1.") {
                    held.clone()
                } else {
                    Vec::new()
                }
            }),
        }
    }

    fn cname_held(value: &str) -> Vec<Held> {
        vec![Held {
            record_type: "CNAME".into(),
            values: vec![value.into()],
            ids: Vec::new(),
            ttl: Some(1800),
        }]
    }

    #[test]
    fn identities_are_grouped_by_provider_and_zone() {
        let acme = zone("Z1", "acme.example");
        let beta = zone("Z2", "beta.example");
        let fleet = FleetPlan::new([
            (
                key("b.acme.example"),
                at("r53", acme.clone(), "b.acme.example", vec![]),
                false,
            ),
            (
                key("x.beta.example"),
                at("r53", beta, "x.beta.example", vec![]),
                true,
            ),
            (
                key("a.acme.example"),
                at("r53", acme, "a.acme.example", vec![]),
                false,
            ),
        ]);
        let zones: Vec<(&str, Vec<&str>)> = fleet
            .zones
            .iter()
            .map(|z| {
                (
                    z.zone.name.as_str(),
                    z.identities.iter().map(|i| i.key.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            zones,
            [
                ("acme.example", vec!["a.acme.example", "b.acme.example"]),
                ("beta.example", vec!["x.beta.example"])
            ]
        );
        assert_eq!(fleet.zones[0].creates(), 6);
        assert_eq!(fleet.restarts(), 1);
        assert!(fleet.does_anything());
    }

    #[test]
    fn a_replacement_or_a_conflict_is_left_for_a_decision() {
        let acme = zone("Z1", "acme.example");
        let old = cname_held("old.dkim.amazonses.com");
        let txt = vec![Held {
            record_type: "TXT".into(),
            values: vec!["x".into()],
            ids: Vec::new(),
            ttl: None,
        }];
        let fleet = FleetPlan::new([
            (
                key("old.acme.example"),
                at("r53", acme.clone(), "old.acme.example", old),
                true,
            ),
            (
                key("txt.acme.example"),
                at("r53", acme, "txt.acme.example", txt),
                false,
            ),
            (
                key("far.example"),
                Placed::Nowhere("no provider holds far.example".into()),
                false,
            ),
        ]);
        assert!(fleet.zones.is_empty(), "nothing is half-repaired");
        let why: Vec<&str> = fleet.unrepairable.iter().map(|u| u.why.as_str()).collect();
        assert_eq!(why[0], "no provider holds far.example");
        assert!(
            why[1].contains("holds CNAME old.dkim.amazonses.com"),
            "{why:?}"
        );
        assert!(why[1].contains("decision"), "{why:?}");
        assert!(why[2].contains("RFC 1034"), "{why:?}");
    }

    #[test]
    fn identities_already_right_and_not_failed_need_nothing() {
        let acme = zone("Z1", "acme.example");
        let right = Placed::At {
            provider: "r53".into(),
            provider_kind: "Route 53".into(),
            zone: acme.clone(),
            plan: Plan::new(&cnames("ok.acme.example"), |name| {
                cname_held(&name.replace("._domainkey.ok.acme.example", ".dkim.amazonses.com"))
            }),
        };
        let failed_but_right = Placed::At {
            provider: "r53".into(),
            provider_kind: "Route 53".into(),
            zone: acme,
            plan: Plan::new(&cnames("f.acme.example"), |name| {
                cname_held(&name.replace("._domainkey.f.acme.example", ".dkim.amazonses.com"))
            }),
        };
        let fleet = FleetPlan::new([
            (key("ok.acme.example"), right, false),
            (key("f.acme.example"), failed_but_right, true),
        ]);
        assert_eq!(fleet.nothing_to_do, [key("ok.acme.example")]);
        assert_eq!(fleet.zones.len(), 1, "a restart alone is a repair");
        assert!(fleet.zones[0].batches().is_empty(), "but writes nothing");
    }

    #[test]
    fn batches_keep_within_route53_limits() {
        let acme = zone("Z1", "acme.example");
        let selected = (0..400).map(|i| {
            let name = format!("d{i}.acme.example");
            (key(&name), at("r53", acme.clone(), &name, vec![]), false)
        });
        let fleet = FleetPlan::new(selected);
        let batches = fleet.zones[0].batches();
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 400);
        for batch in &batches {
            let values: Vec<&str> = batch.iter().flat_map(|i| i.values()).collect();
            assert!(values.len() <= BATCH_VALUES);
            let chars: usize = values.iter().map(|v| batch_chars(v)).sum();
            assert!(chars <= BATCH_VALUE_CHARS, "{chars}");
        }
        assert_eq!(batches.len(), 2, "{sizes:?}");
    }

    #[test]
    fn the_fingerprint_follows_the_plan() {
        let acme = zone("Z1", "acme.example");
        let one = FleetPlan::new([(
            key("a.acme.example"),
            at("r53", acme.clone(), "a.acme.example", vec![]),
            false,
        )]);
        let same = FleetPlan::new([(
            key("a.acme.example"),
            at("r53", acme.clone(), "a.acme.example", vec![]),
            false,
        )]);
        let other = FleetPlan::new([(
            key("a.acme.example"),
            at("r53", acme, "a.acme.example", vec![]),
            true,
        )]);
        assert_eq!(one.fingerprint(), same.fingerprint());
        assert_ne!(one.fingerprint(), other.fingerprint());
    }
}
