//! Pure: what publishing an identity's records would change at a DNS provider, given what
//! the provider holds now at those names. Nothing here talks to a provider; the preview an
//! operator reviews and the change applied after it are both made from a `Plan`.

use serde::{Deserialize, Serialize};

use crate::model::{DnsRecord, RecordType};

/// A record set a provider holds at one name, as read for a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// `CNAME`, `TXT`, `A`, … as the provider names it.
    pub record_type: String,
    /// The values, TXT ones with their character-strings joined and unquoted.
    pub values: Vec<String>,
    /// The provider's own ids of the records, one per value (Cloudflare), to change exactly
    /// what was seen; empty where record sets have no ids (Route 53).
    pub ids: Vec<String>,
    /// Seconds; kept so a replacement can delete exactly what Route 53 holds.
    pub ttl: Option<u32>,
}

/// What publishing one record does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Nothing of this type is at the name: the record is created.
    Create,
    /// The provider already holds exactly this record: nothing is written.
    AlreadyRight,
    /// The name holds the same type with other values: they are replaced, but only when the
    /// operator confirms, naming the values that will be lost.
    Replace { old: Held },
    /// It cannot be published; the reason says what to decide first.
    Refused(Refusal),
}

/// Why a record cannot be published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// A CNAME cannot share its name with other data (RFC 1034 §3.6.2), in either direction:
    /// the types already at the name.
    OtherTypesAtName(Vec<String>),
    /// SES never returns a BYODKIM public key: without it there is no value to publish.
    ValueUnknown,
}

/// One record of the plan: what is wanted, and what publishing it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRecord {
    /// The record the identity needs.
    pub wanted: DnsRecord,
    /// What the step does.
    pub step: Step,
}

/// Every record of one identity in one zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// In the order the identity lists them.
    pub records: Vec<PlannedRecord>,
}

impl Plan {
    /// The plan for `wanted`, given `held_at(name)`: what the provider holds at that name.
    pub fn new(wanted: &[DnsRecord], held_at: impl Fn(&str) -> Vec<Held>) -> Self {
        let records = wanted
            .iter()
            .map(|record| PlannedRecord {
                step: step_for(record, &held_at(&record.name)),
                wanted: record.clone(),
            })
            .collect();
        Self { records }
    }

    /// Whether applying the plan would write anything.
    pub fn writes(&self) -> bool {
        self.records
            .iter()
            .any(|r| matches!(r.step, Step::Create | Step::Replace { .. }))
    }

    /// The replacements, each naming the values it would remove: what a confirmation must
    /// list, value for value.
    pub fn replacements(&self) -> impl Iterator<Item = (&DnsRecord, &Held)> {
        self.records.iter().filter_map(|r| match &r.step {
            Step::Replace { old } => Some((&r.wanted, old)),
            _ => None,
        })
    }

    /// Whether every replacement is confirmed: `confirmed` holds, for each, the record's
    /// name and the old values the operator agreed to remove.
    pub fn confirmed_by(&self, confirmed: &[Confirmation]) -> bool {
        self.replacements().all(|(wanted, old)| {
            confirmed
                .iter()
                .any(|c| same_name(&c.name, &wanted.name) && c.old_values == old.values)
        })
    }
}

/// An operator's agreement to replace the values at one name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The record's name.
    pub name: String,
    /// The values the operator saw and agreed to remove.
    pub old_values: Vec<String>,
}

fn step_for(wanted: &DnsRecord, held: &[Held]) -> Step {
    let Some(value) = wanted.value.as_deref() else {
        return Step::Refused(Refusal::ValueUnknown);
    };
    let wanted_type = wanted.record_type.as_str();
    let same_type = held
        .iter()
        .find(|h| h.record_type.eq_ignore_ascii_case(wanted_type));
    let conflicting: Vec<String> = held
        .iter()
        .filter(|h| !h.record_type.eq_ignore_ascii_case(wanted_type))
        .filter(|h| wanted.record_type == RecordType::Cname || h.record_type == "CNAME")
        .map(|h| h.record_type.clone())
        .collect();
    if !conflicting.is_empty() {
        return Step::Refused(Refusal::OtherTypesAtName(conflicting));
    }
    match same_type {
        None => Step::Create,
        Some(h) if h.values.len() == 1 && same_value(wanted.record_type, &h.values[0], value) => {
            Step::AlreadyRight
        }
        Some(h) => Step::Replace { old: h.clone() },
    }
}

/// CNAME targets are names (case and a final dot do not matter); TXT values are compared
/// as text, their whitespace around `;` tags aside.
pub fn same_value(record_type: RecordType, held: &str, wanted: &str) -> bool {
    match record_type {
        RecordType::Cname => same_name(held, wanted),
        RecordType::Txt => squeeze(held) == squeeze(wanted),
    }
}

/// DNS names compare without case and without the root's final dot.
/// A name as names are compared and kept as keys: lower case, without the final dot.
pub fn name_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn squeeze(value: &str) -> String {
    value.split_whitespace().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cname(name: &str, value: &str) -> DnsRecord {
        DnsRecord {
            record_type: RecordType::Cname,
            name: name.into(),
            value: Some(value.into()),
        }
    }

    fn held(record_type: &str, value: &str) -> Held {
        Held {
            record_type: record_type.into(),
            values: vec![value.into()],
            ids: Vec::new(),
            ttl: Some(1800),
        }
    }

    fn plan_one(wanted: DnsRecord, at_name: Vec<Held>) -> Step {
        Plan::new(&[wanted], |_| at_name.clone()).records[0]
            .step
            .clone()
    }

    #[test]
    fn an_empty_name_gets_the_record() {
        let step = plan_one(
            cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
            vec![],
        );
        assert_eq!(step, Step::Create);
    }

    #[test]
    fn the_same_target_in_other_case_with_a_final_dot_is_already_right() {
        let step = plan_one(
            cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
            vec![held("CNAME", "T.DKIM.amazonses.com.")],
        );
        assert_eq!(step, Step::AlreadyRight);
    }

    #[test]
    fn another_target_is_a_replacement_naming_it() {
        let old = held("CNAME", "old.dkim.amazonses.com");
        let step = plan_one(
            cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
            vec![old.clone()],
        );
        assert_eq!(step, Step::Replace { old });
    }

    #[test]
    fn a_cname_never_joins_other_types_nor_a_txt_a_cname() {
        let step = plan_one(
            cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
            vec![held("TXT", "v=DKIM1; p=abc"), held("A", "192.0.2.1")],
        );
        assert_eq!(
            step,
            Step::Refused(Refusal::OtherTypesAtName(vec!["TXT".into(), "A".into()]))
        );
        let txt = DnsRecord {
            record_type: RecordType::Txt,
            name: "s._domainkey.a.example".into(),
            value: Some("v=DKIM1; k=rsa; p=abc".into()),
        };
        assert_eq!(
            plan_one(txt.clone(), vec![held("CNAME", "x.example")]),
            Step::Refused(Refusal::OtherTypesAtName(vec!["CNAME".into()]))
        );
        // A TXT may share its name with an A record.
        assert_eq!(plan_one(txt, vec![held("A", "192.0.2.1")]), Step::Create);
    }

    #[test]
    fn a_txt_matches_with_other_spacing_and_an_unknown_key_is_refused() {
        let txt = |value: Option<&str>| DnsRecord {
            record_type: RecordType::Txt,
            name: "s._domainkey.a.example".into(),
            value: value.map(Into::into),
        };
        assert_eq!(
            plan_one(
                txt(Some("v=DKIM1; k=rsa; p=abc")),
                vec![held("TXT", "v=DKIM1;k=rsa;  p=abc")]
            ),
            Step::AlreadyRight
        );
        assert_eq!(
            plan_one(txt(None), vec![]),
            Step::Refused(Refusal::ValueUnknown)
        );
    }

    #[test]
    fn two_values_at_a_cname_name_are_a_replacement() {
        let old = Held {
            values: vec!["t.dkim.amazonses.com".into(), "u.example".into()],
            ..held("CNAME", "")
        };
        let step = plan_one(
            cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
            vec![old.clone()],
        );
        assert_eq!(step, Step::Replace { old });
    }

    #[test]
    fn a_replacement_needs_a_confirmation_naming_the_old_values() {
        let plan = Plan::new(
            &[
                cname("t._domainkey.a.example", "t.dkim.amazonses.com"),
                cname("u._domainkey.a.example", "u.dkim.amazonses.com"),
            ],
            |name| {
                if name.starts_with("t.") {
                    vec![held("CNAME", "old.dkim.amazonses.com")]
                } else {
                    vec![]
                }
            },
        );
        assert!(plan.writes());
        assert!(!plan.confirmed_by(&[]));
        let confirm = |value: &str| Confirmation {
            name: "T._domainkey.a.example.".into(),
            old_values: vec![value.into()],
        };
        assert!(!plan.confirmed_by(&[confirm("other.dkim.amazonses.com")]));
        assert!(plan.confirmed_by(&[confirm("old.dkim.amazonses.com")]));
    }

    #[test]
    fn a_plan_already_in_place_writes_nothing() {
        let plan = Plan::new(
            &[cname("t._domainkey.a.example", "t.dkim.amazonses.com")],
            |_| vec![held("CNAME", "t.dkim.amazonses.com")],
        );
        assert!(!plan.writes());
        assert!(plan.confirmed_by(&[]));
    }
}
