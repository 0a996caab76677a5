//! (pure) The fields of an identity the history follows, and what changed between two
//! observations of it.

use std::collections::BTreeMap;

pub use super::seen_fields::SeenFields;
use crate::model::Identity;

/// The followed fields of one identity, by name. A field SES has not told yet (the
/// details arrive after the first list read) is absent, not empty: learning it is not a
/// change.
pub type Observed = BTreeMap<&'static str, String>;

/// What `identity` shows of the followed fields.
pub fn observe(identity: &Identity) -> Observed {
    let mut fields = Observed::new();
    let dkim = &identity.dkim;
    fields.insert("dkim_status", dkim.status.as_ses().to_owned());
    if identity.details_read_at.is_some() {
        fields.insert(
            "signing",
            if dkim.signing_enabled { "on" } else { "off" }.into(),
        );
        if let Some(origin) = &dkim.origin {
            fields.insert("origin", origin.label());
        }
        if let Some(length) = &dkim.current_key_length {
            fields.insert("key_length", length.bits().to_owned());
        }
        if !dkim.tokens.is_empty() {
            fields.insert("tokens", dkim.tokens.join(", "));
        }
    }
    if let Some(status) = identity
        .verification
        .as_ref()
        .and_then(|v| v.status.as_ref())
    {
        fields.insert("verification", status.as_ses().to_owned());
    }
    fields
}

/// What the DNS check of an identity's records says, as the history keeps it: `ok`, or
/// the problems found (`missing`, `wrong value, …`). `None` when it could not check: that
/// is not a state of the records.
pub fn dns_value(report: &crate::dns_check::Findings) -> Option<String> {
    use crate::dns_check::DnsHealth;
    match report.health() {
        DnsHealth::Ok => Some("ok".to_owned()),
        DnsHealth::Unchecked => None,
        DnsHealth::Problem => {
            let mut problems: Vec<&str> = report
                .found()
                .filter(|finding| finding.health() == DnsHealth::Problem)
                .map(|finding| finding.label())
                .collect();
            problems.sort_unstable();
            problems.dedup();
            Some(problems.join(", "))
        }
    }
}

/// The DNS check value of each checked identity (see [`dns_value`]).
pub type DnsValues = std::collections::HashMap<crate::model::IdentityKey, String>;

/// A field that changed: its name, the value before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's name, as in [`Observed`].
    pub field: &'static str,
    /// What it was.
    pub before: String,
    /// What it is.
    pub after: String,
}

/// The fields known both `before` and `now` whose values differ, in field order.
pub fn changes(before: &SeenFields, now: &Observed) -> Vec<FieldChange> {
    now.iter()
        .filter_map(|(field, after)| {
            let before = before.get(field)?;
            (before != after).then(|| FieldChange {
                field,
                before: before.to_owned(),
                after: after.clone(),
            })
        })
        .collect()
}

/// The last seen fields of each identity of one target, by name.
pub type TargetState = BTreeMap<String, SeenFields>;

/// A change to record: which identity, which field, from what to what. `before` is `None`
/// when the identity appeared, `after` when it disappeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The identity's name.
    pub name: String,
    /// The field, or `identity`.
    pub field: &'static str,
    /// The value before.
    pub before: Option<String>,
    /// The value after.
    pub after: Option<String>,
}

/// What one read of a target changes in its history and its last seen state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetDiff {
    /// The changes to record.
    pub seen: Vec<Seen>,
    /// New last seen values (changed or learned): name, field, value.
    pub upserts: Vec<(String, &'static str, String)>,
    /// Identities no longer there: their state goes.
    pub gone: Vec<String>,
}

impl TargetDiff {
    /// Whether the read changed nothing.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty() && self.upserts.is_empty() && self.gone.is_empty()
    }

    /// Brings `state` to what the read showed.
    pub fn apply_to(&self, state: &mut TargetState) {
        for name in &self.gone {
            state.remove(name);
        }
        for (name, field, value) in &self.upserts {
            state.entry(name.clone()).or_default().set(field, value);
        }
    }
}

/// Compares a read of a target (`identities`, with the DNS check values in `dns`) with its
/// last seen `state`. The first read (`baseline`) only sets the state: nothing in it is news.
pub fn diff_target<'a>(
    state: &TargetState,
    identities: impl IntoIterator<Item = &'a Identity>,
    dns: &DnsValues,
    baseline: bool,
) -> TargetDiff {
    let mut diff = TargetDiff::default();
    let mut present = std::collections::BTreeSet::new();
    for identity in identities {
        present.insert(identity.name.as_str());
        let mut observed = observe(identity);
        if let Some(value) = dns.get(identity as &dyn crate::model::KeyParts) {
            observed.insert("dns", value.clone());
        }
        let before = state.get(&identity.name);
        match before {
            Some(before) => {
                diff.seen
                    .extend(changes(before, &observed).into_iter().map(|change| Seen {
                        name: identity.name.clone(),
                        field: change.field,
                        before: Some(change.before),
                        after: Some(change.after),
                    }))
            }
            None if !baseline => diff.seen.push(Seen {
                name: identity.name.clone(),
                field: "identity",
                before: None,
                after: Some("appeared".to_owned()),
            }),
            None => {}
        }
        for (field, value) in observed {
            if before.and_then(|b| b.get(field)) != Some(value.as_str()) {
                diff.upserts.push((identity.name.clone(), field, value));
            }
        }
    }
    for name in state.keys().filter(|name| !present.contains(name.as_str())) {
        diff.gone.push(name.clone());
        diff.seen.push(Seen {
            name: name.clone(),
            field: "identity",
            before: Some("present".to_owned()),
            after: None,
        });
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DkimStatus, KeyLength};

    /// An Easy DKIM domain with its three tokens and key length, details read or not.
    fn identity(status: DkimStatus, details: bool) -> Identity {
        let mut identity = crate::attention::tests::domain("a.example", status);
        identity.dkim.tokens = vec!["t1".into(), "t2".into(), "t3".into()];
        identity.dkim.current_key_length = Some(KeyLength::Rsa2048);
        identity.details_read_at = details.then_some(10);
        identity
    }

    fn stored(observed: &Observed) -> SeenFields {
        observed.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    #[test]
    fn every_observed_field_is_one_the_state_keeps() {
        let mut identity = identity(DkimStatus::Success, true);
        identity.dkim.origin = Some(crate::model::SigningOrigin::EasyDkim);
        identity.verification = Some(crate::model::Verification {
            status: Some(DkimStatus::Success),
            verified_for_sending: true,
            error_type: None,
            last_checked: None,
            last_success: None,
        });
        let mut observed = observe(&identity);
        observed.insert("dns", "ok".into());
        assert_eq!(observed.len(), crate::history::seen_fields::FIELDS.len());
        assert_eq!(stored(&observed).iter().count(), observed.len());
    }

    #[test]
    fn only_what_ses_has_told_is_observed() {
        let listed = observe(&identity(DkimStatus::Pending, false));
        assert_eq!(listed.keys().copied().collect::<Vec<_>>(), ["dkim_status"]);
        let detailed = observe(&identity(DkimStatus::Pending, true));
        assert_eq!(
            detailed.keys().copied().collect::<Vec<_>>(),
            ["dkim_status", "key_length", "origin", "signing", "tokens"]
        );
        assert_eq!(detailed["tokens"], "t1, t2, t3");
        assert_eq!(detailed["key_length"], "2048");
    }

    #[test]
    fn a_change_is_a_known_field_with_another_value() {
        let before = stored(&observe(&identity(DkimStatus::Pending, false)));
        let mut now = identity(DkimStatus::Success, true);
        now.dkim.signing_enabled = false;
        // Details learned for the first time are not changes; the status is.
        assert_eq!(
            changes(&before, &observe(&now)),
            [FieldChange {
                field: "dkim_status",
                before: "PENDING".into(),
                after: "SUCCESS".into()
            }]
        );
        let before = stored(&observe(&identity(DkimStatus::Success, true)));
        let found = changes(&before, &observe(&now));
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].field, found[0].after.as_str()),
            ("signing", "off")
        );
        assert!(changes(&before, &observe(&identity(DkimStatus::Success, true))).is_empty());
    }

    fn named(name: &str, status: DkimStatus) -> Identity {
        Identity {
            name: name.into(),
            ..identity(status, true)
        }
    }

    #[test]
    fn the_first_read_is_a_baseline_and_later_ones_are_news() {
        let first = [named("a.example", DkimStatus::Pending)];
        let baseline = diff_target(&TargetState::new(), &first, &DnsValues::new(), true);
        assert!(baseline.seen.is_empty(), "{baseline:?}");
        assert_eq!(baseline.upserts.len(), 5);
        let mut state = TargetState::new();
        baseline.apply_to(&mut state);
        assert!(
            diff_target(&state, &first, &DnsValues::new(), false).is_empty(),
            "the same read again"
        );

        let second = [
            named("a.example", DkimStatus::Failed),
            named("b.example", DkimStatus::Pending),
        ];
        let diff = diff_target(&state, &second, &DnsValues::new(), false);
        let seen: Vec<_> = diff
            .seen
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.field,
                    s.before.as_deref(),
                    s.after.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("a.example", "dkim_status", Some("PENDING"), Some("FAILED")),
                ("b.example", "identity", None, Some("appeared")),
            ]
        );
        diff.apply_to(&mut state);

        let gone = diff_target(&state, &second[1..], &DnsValues::new(), false);
        assert_eq!(gone.gone, ["a.example"]);
        assert_eq!(gone.seen[0].after, None);
        gone.apply_to(&mut state);
        assert_eq!(state.keys().collect::<Vec<_>>(), ["b.example"]);
    }

    #[test]
    fn the_dns_check_is_followed_once_checked() {
        use crate::dns_check::{Finding, Findings};

        let report = |findings: &[Finding]| Findings::new(findings.to_vec(), 0, 0);
        let missing = Finding::Missing { nxdomain: true };
        let unchecked = Finding::CouldNotCheck {
            reason: "timeout".into(),
        };
        assert_eq!(
            dns_value(&report(&[Finding::Ok, Finding::Ok])).as_deref(),
            Some("ok")
        );
        assert_eq!(
            dns_value(&report(&[missing.clone(), Finding::Ok, missing.clone()])).as_deref(),
            Some("missing")
        );
        assert_eq!(dns_value(&report(&[Finding::Ok, unchecked])), None);

        let read = [named("a.example", DkimStatus::Success)];
        let key = read[0].key();
        let mut state = TargetState::new();
        diff_target(&state, &read, &DnsValues::new(), true).apply_to(&mut state);
        // Learning the first result is not a change; another result is.
        let ok = DnsValues::from([(key.clone(), "ok".to_owned())]);
        let learned = diff_target(&state, &read, &ok, false);
        assert!(learned.seen.is_empty(), "{learned:?}");
        learned.apply_to(&mut state);
        let broken = DnsValues::from([(key, "missing".to_owned())]);
        let diff = diff_target(&state, &read, &broken, false);
        assert_eq!(
            diff.seen,
            [Seen {
                name: "a.example".into(),
                field: "dns",
                before: Some("ok".into()),
                after: Some("missing".into()),
            }]
        );
        // No result (not checked since a restart) is no change.
        diff.apply_to(&mut state);
        assert!(diff_target(&state, &read, &DnsValues::new(), false).is_empty());
    }
}
