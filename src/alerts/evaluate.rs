//! Which alerts hold now (pure): every rule applied to every identity and target the
//! inventory has read, each answering firing, clear, or unknown (nothing to judge by yet,
//! e.g. no DNS check since a restart: an alert already firing stays so).

use std::collections::{BTreeMap, HashMap, HashSet};

pub use super::rule::Rule;
use super::rules::Rules;
use crate::dns::monitor::DnsReports;
use crate::dns_check::DnsHealth;
use crate::inventory::{known_since::KnownSince, snapshot::Snapshot};
use crate::model::{
    DkimStatus, Identity, IdentityKey, IdentityType, KeyLength, TargetStatus, UnixSeconds,
};

/// One alert: its labels (which make its fingerprint) and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Which rule raised it.
    pub rule: Rule,
    /// `alertname`, `severity`, `account`, `region` and, for an identity, `identity`.
    pub labels: BTreeMap<String, String>,
    /// `summary` and `description` (what is wrong and what to do).
    pub annotations: BTreeMap<String, String>,
}

impl Alert {
    /// The stable identity of this alert: 16 hex digits of FNV-1a over its sorted labels,
    /// as Prometheus hashes a label set. The same labels always give the same fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.labels)
    }
}

/// FNV-1a (64-bit) over `name 0xff value 0xff` for each label in order.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    Hex(fnv1a(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))).to_string()
}

/// [`fingerprint`] of `identity_labels(rule, identity)`, without building them: one
/// identity and rule of a round that looks at every one.
fn identity_fingerprint(rule: Rule, identity: &Identity) -> Hex {
    // In the labels' sorted order.
    Hex(fnv1a([
        ("account", identity.account.as_str()),
        ("alertname", rule.name()),
        ("identity", identity.name.as_str()),
        ("region", identity.region.as_str()),
        ("severity", rule.severity()),
    ]))
}

fn fnv1a<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for (name, value) in labels {
        for byte in name
            .bytes()
            .chain([0xff])
            .chain(value.bytes())
            .chain([0xff])
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

/// A fingerprint: 16 hex digits of its hash.
struct Hex(u64);

impl Hex {
    /// Whether `fingerprints` holds this one (its digits written on the stack, not in a
    /// new string: most identities of a round are looked up and not found).
    fn is_in(&self, fingerprints: &HashSet<String>) -> bool {
        let mut digits = [0; 16];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = b"0123456789abcdef"[((self.0 >> (60 - 4 * i)) & 0xf) as usize];
        }
        std::str::from_utf8(&digits).is_ok_and(|digits| fingerprints.contains(digits))
    }
}

impl std::fmt::Display for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a rule says of one subject now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The alert holds and is not firing yet: what it says.
    Firing(Alert),
    /// The alert holds and fires already. What it says was written when it fired, and is
    /// not written again each round: at 100,000 identities, tens of thousands of alerts
    /// firing would be dressed in labels and text every minute to be thrown away.
    StillHolds,
    /// It does not hold.
    Clear,
    /// Nothing to judge by: an alert already firing stays as it is.
    Unknown,
}

/// Everything the rules look at.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The inventory.
    pub snapshot: &'a Snapshot,
    /// The DNS reports; `None` when DNS checks are off.
    pub dns: Option<&'a DnsReports>,
    /// TEMPORARY_FAILURE reads in a row, per identity.
    pub temporary_failure_reads: &'a HashMap<IdentityKey, u32>,
    /// Since when each failing target has been failing (as first seen).
    pub failing_since: &'a HashMap<(String, String), UnixSeconds>,
    /// Each identity's status since before this process started, as the history knows it
    /// (status, since): a restart does not restart "PENDING for 48 hours".
    pub known_since: &'a KnownSince,
    /// Fingerprints firing now: a firing alert whose threshold restarted (a restart
    /// forgets streaks and times) stays firing while its condition lasts.
    pub firing: &'a HashSet<String>,
    /// Now.
    pub now: UnixSeconds,
}

/// Every rule's verdict by fingerprint: on every target read at least once, and on the
/// identities of those targets where it fires or fires already (clear or unknown now).
/// An identity's alert that neither fires nor is firing gets no verdict, nor do the
/// identities of targets never read yet.
pub fn evaluate(rules: &Rules, inputs: &Inputs<'_>) -> HashMap<String, Verdict> {
    let read: HashSet<(&str, &str)> = inputs
        .snapshot
        .targets
        .iter()
        .filter(|t| t.last_success.is_some())
        .map(|t| (t.account.as_str(), t.region.as_str()))
        .collect();
    let mut verdicts = HashMap::new();
    for target in &inputs.snapshot.targets {
        if rules.target_unreadable_minutes > 0 {
            let labels = target_labels(Rule::SesTargetUnreadable, target);
            let verdict = target_unreadable(rules, inputs, target, &labels);
            verdicts.insert(fingerprint(&labels), verdict);
        }
    }
    let identities = inputs
        .snapshot
        .identities
        .iter()
        .filter(|i| read.contains(&(i.account.as_str(), i.region.as_str())));
    for identity in identities {
        for rule in Rule::ALL {
            let fingerprint = identity_fingerprint(rule, identity);
            let firing = fingerprint.is_in(inputs.firing);
            let Some(held) = identity_verdict(rules, inputs, identity, rule, firing) else {
                continue;
            };
            let verdict = match held {
                Held::Yes(annotations) => Verdict::Firing(Alert {
                    rule,
                    labels: identity_labels(rule, identity),
                    annotations,
                }),
                Held::Still => Verdict::StillHolds,
                // What does not hold matters only for what fires now (the engine resolves
                // it, or keeps it while unknown): at 100,000 identities the rest would be
                // half a million verdicts a round that change nothing.
                _ if !firing => continue,
                Held::No => Verdict::Clear,
                Held::Unknown => Verdict::Unknown,
            };
            verdicts.insert(fingerprint.to_string(), verdict);
        }
    }
    verdicts
}

/// A rule's answer before it is dressed as a verdict.
enum Held {
    /// Holds, not firing yet: its annotations.
    Yes(BTreeMap<String, String>),
    /// Holds, firing already.
    Still,
    No,
    Unknown,
}

/// `None` when the rule is turned off. `firing`: whether this alert fires already.
fn identity_verdict(
    rules: &Rules,
    inputs: &Inputs<'_>,
    identity: &Identity,
    rule: Rule,
    firing: bool,
) -> Option<Held> {
    let status = &identity.dkim.status;
    let name = &identity.name;
    let held_now = |condition, text: &dyn Fn() -> (String, String)| held(condition, firing, text);
    let details_known = identity.details_read_at.is_some();
    Some(match rule {
        Rule::DkimFailed if rules.failed => held_now(*status == DkimStatus::Failed, &|| {
            (
                format!("{name}: DKIM verification FAILED"),
                "SES stopped looking for the DKIM records and does not sign this identity's mail. \
                 Publish the records shown on its page, then start verification again (switch the signing mode, or re-create the identity)."
                    .to_owned(),
            )
        }),
        Rule::DkimTemporaryFailure if rules.temporary_failure_reads > 0 => {
            // Looked up for those in TEMPORARY_FAILURE alone (a key is three strings).
            let reads = if *status == DkimStatus::TemporaryFailure {
                let reads = inputs
                    .temporary_failure_reads
                    .get(identity as &dyn crate::model::KeyParts);
                reads.copied().unwrap_or(0)
            } else {
                0
            };
            let holds = *status == DkimStatus::TemporaryFailure
                && (reads >= rules.temporary_failure_reads || firing);
            held_now(holds, &|| {
                (
                    format!("{name}: DKIM TEMPORARY_FAILURE for {reads} reads in a row"),
                    "SES could not check the DKIM records (usually a DNS problem: timeouts, SERVFAIL, nameservers not answering). \
                     SES keeps trying for 72 hours; check that the domain's nameservers answer."
                        .to_owned(),
                )
            })
        }
        Rule::DkimPendingTooLong if rules.pending_hours > 0 => {
            let hours = (inputs.now - inputs.known_since.since(identity)) / 3600;
            let holds = *status == DkimStatus::Pending
                && (hours >= i64::from(rules.pending_hours) || firing);
            held_now(holds, &|| {
                (
                    format!("{name}: DKIM PENDING for {hours} hours"),
                    "SES has not found the DKIM records yet and gives up after 72 hours (then FAILED). \
                     Publish the records shown on the identity's page; its DNS check says what is missing."
                        .to_owned(),
                )
            })
        }
        Rule::DkimSigningOff if rules.signing_off => {
            let holds = identity.identity_type == IdentityType::Domain
                && *status != DkimStatus::NotStarted
                && !identity.dkim.signing_enabled;
            held_now(holds, &|| {
                (
                    format!("{name}: DKIM signing is turned off"),
                    "SES sends this domain's mail unsigned although DKIM is set up. Turn signing on from the identity's page if that was not meant."
                        .to_owned(),
                )
            })
        }
        Rule::DkimDnsRecordBroken if rules.dns_broken => dns_broken(inputs, identity, firing),
        Rule::DkimKeyOld if rules.key_age_days > 0 => match identity.dkim.last_key_generation {
            _ if !details_known => Held::Unknown,
            Some(generated) => {
                let days = (inputs.now - generated) / 86_400;
                held_now(days >= i64::from(rules.key_age_days), &|| {
                    (
                        format!("{name}: DKIM key is {days} days old"),
                        format!(
                            "The signing key was generated {days} days ago (reminder after {}). Rotate it: a new BYODKIM key, or switch Easy DKIM's key length to have SES make a new one.",
                            rules.key_age_days
                        ),
                    )
                })
            }
            None => Held::No,
        },
        Rule::DkimWeakKey if rules.weak_key => match &identity.dkim.current_key_length {
            _ if !details_known => Held::Unknown,
            length => held_now(*length == Some(KeyLength::Rsa1024), &|| {
                (
                    format!("{name}: DKIM key is 1024-bit"),
                    "1024-bit RSA keys are weak by today's standards. Choose 2048-bit as the next key length on the identity's page; SES uses it at the next rotation."
                        .to_owned(),
                )
            }),
        },
        _ => return None,
    })
}

/// Holds when `condition` does, with what `text` says (summary, description): written
/// only for an alert about to fire, not for every identity a rule looks at nor for an
/// alert firing already.
fn held(condition: bool, firing: bool, text: &dyn Fn() -> (String, String)) -> Held {
    match (condition, firing) {
        (false, _) => Held::No,
        (true, true) => Held::Still,
        (true, false) => {
            let (summary, description) = text();
            Held::Yes(annotations(summary, description))
        }
    }
}

/// Broken DNS for a SUCCESS identity: a record with a problem. Unknown while unchecked;
/// never with DNS checks off.
fn dns_broken(inputs: &Inputs<'_>, identity: &Identity, firing: bool) -> Held {
    let Some(reports) = inputs.dns else {
        return Held::No;
    };
    if identity.dkim.status != DkimStatus::Success {
        return Held::No;
    }
    let Some(report) = reports.get(identity as &dyn crate::model::KeyParts) else {
        return Held::Unknown;
    };
    match report.health() {
        DnsHealth::Problem if firing => Held::Still,
        DnsHealth::Problem => {
            // The records' names, which do not depend on the key (not known here).
            let records = crate::records::dkim_records(identity, None);
            let problems: Vec<String> = records
                .iter()
                .zip(report.found())
                .filter(|(_, finding)| finding.health() == DnsHealth::Problem)
                .map(|(record, finding)| format!("{}: {}", record.name, finding.label()))
                .collect();
            Held::Yes(annotations(
                format!("{}: DKIM DNS record broken", identity.name),
                format!(
                    "SES still says SUCCESS, but DNS no longer serves the records ({}). SES will fail the identity when it next checks. Fix the records shown on the identity's page.",
                    problems.join("; ")
                ),
            ))
        }
        DnsHealth::Ok => Held::No,
        DnsHealth::Unchecked => Held::Unknown,
    }
}

fn target_unreadable(
    rules: &Rules,
    inputs: &Inputs<'_>,
    target: &TargetStatus,
    labels: &BTreeMap<String, String>,
) -> Verdict {
    let Some(error) = &target.last_error else {
        // Not tried yet since a (re)start: nothing to judge by.
        return if target.last_success.is_none() {
            Verdict::Unknown
        } else {
            Verdict::Clear
        };
    };
    let key = (target.account.clone(), target.region.clone());
    let since = inputs.failing_since.get(&key).copied().unwrap_or(error.at);
    let minutes = (inputs.now - since) / 60;
    let firing = inputs.firing.contains(&fingerprint(labels));
    if firing {
        return Verdict::StillHolds;
    }
    if minutes < i64::from(rules.target_unreadable_minutes) {
        return Verdict::Clear;
    }
    let what = format!("{} / {}", target.account, target.region);
    Verdict::Firing(Alert {
        rule: Rule::SesTargetUnreadable,
        labels: labels.clone(),
        annotations: annotations(
            format!("SES {what} unreadable for {minutes} minutes"),
            format!(
                "dkimdash could not read SES in {what}: {}. The dashboard shows this target's identities as last read; check the credentials, the role and the network.",
                error.message
            ),
        ),
    })
}

fn annotations(summary: String, description: String) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("summary".to_owned(), summary),
        ("description".to_owned(), description),
    ])
}

fn identity_labels(rule: Rule, identity: &Identity) -> BTreeMap<String, String> {
    let mut labels = base_labels(rule, &identity.account, &identity.region);
    labels.insert("identity".to_owned(), identity.name.clone());
    labels
}

fn target_labels(rule: Rule, target: &TargetStatus) -> BTreeMap<String, String> {
    base_labels(rule, &target.account, &target.region)
}

fn base_labels(rule: Rule, account: &str, region: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("alertname".to_owned(), rule.name().to_owned()),
        ("severity".to_owned(), rule.severity().to_owned()),
        ("account".to_owned(), account.to_owned()),
        ("region".to_owned(), region.to_owned()),
    ])
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::attention::tests::domain;
    use crate::model::{SweepError, TargetStatus};

    const NOW: UnixSeconds = 1_000_000 + 100 * 3600;

    fn snapshot(identities: Vec<Identity>) -> Snapshot {
        Snapshot {
            identities: identities.into_iter().map(std::sync::Arc::new).collect(),
            targets: vec![TargetStatus {
                account: "prod".into(),
                region: "us-east-1".into(),
                identities: 0,
                last_success: Some(1_000_000),
                last_error: None,
                details_pending: 0,
            }],
        }
    }

    struct World {
        snapshot: Snapshot,
        reads: HashMap<IdentityKey, u32>,
        failing: HashMap<(String, String), UnixSeconds>,
        firing: HashSet<String>,
    }

    impl World {
        fn of(identities: Vec<Identity>) -> Self {
            Self {
                snapshot: snapshot(identities),
                reads: HashMap::new(),
                failing: HashMap::new(),
                firing: HashSet::new(),
            }
        }

        /// Every verdict of `rules` now, DNS checks off.
        fn verdicts(&self, rules: &Rules) -> HashMap<String, Verdict> {
            let inputs = Inputs {
                snapshot: &self.snapshot,
                dns: None,
                temporary_failure_reads: &self.reads,
                failing_since: &self.failing,
                known_since: &KnownSince::default(),
                firing: &self.firing,
                now: NOW,
            };
            evaluate(rules, &inputs)
        }

        /// The alert names firing, sorted, with their identity (or "" for a target).
        fn firing(&self, rules: &Rules) -> Vec<(String, String)> {
            let mut names: Vec<(String, String)> = self
                .verdicts(rules)
                .into_iter()
                .filter_map(|(fingerprint, verdict)| match verdict {
                    Verdict::Firing(alert) => Some((
                        alert.rule.name().to_owned(),
                        alert.labels.get("identity").cloned().unwrap_or_default(),
                    )),
                    Verdict::StillHolds => Some(self.named_by(&fingerprint)),
                    _ => None,
                })
                .collect();
            names.sort();
            names
        }

        /// The alert name and identity (or "" for a target) `wanted` is the fingerprint of.
        fn named_by(&self, wanted: &str) -> (String, String) {
            for rule in Rule::ALL {
                for identity in &self.snapshot.identities {
                    if identity_fingerprint(rule, identity).to_string() == wanted {
                        return (rule.name().to_owned(), identity.name.clone());
                    }
                }
                for target in &self.snapshot.targets {
                    if fingerprint(&target_labels(rule, target)) == wanted {
                        return (rule.name().to_owned(), String::new());
                    }
                }
            }
            panic!("no alert of this world has the fingerprint {wanted}")
        }
    }

    fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn fingerprints_depend_on_labels_only_and_are_stable() {
        let labels = identity_labels(Rule::DkimFailed, &domain("a.example", DkimStatus::Failed));
        // FNV-1a over the sorted labels, as Alertmanager's LabelSet.Fingerprint (the value
        // computed independently): a release never re-fires every alert by hashing
        // differently.
        assert_eq!(fingerprint(&labels), "0d85cfbd341892c9");
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let other = identity_labels(Rule::DkimFailed, &domain("b.example", DkimStatus::Failed));
        assert_ne!(fingerprint(&labels), fingerprint(&other));
    }

    #[test]
    fn each_rule_fires_on_its_condition() {
        let mut pending_long = domain("pending.example", DkimStatus::Pending);
        pending_long.status_seen_since = NOW - 49 * 3600;
        let mut pending_short = domain("fresh.example", DkimStatus::Pending);
        pending_short.status_seen_since = NOW - 47 * 3600;
        let mut off = domain("off.example", DkimStatus::Success);
        off.dkim.signing_enabled = false;
        let mut weak = domain("weak.example", DkimStatus::Success);
        weak.dkim.current_key_length = Some(KeyLength::Rsa1024);
        let mut old = domain("old.example", DkimStatus::Success);
        old.dkim.last_key_generation = Some(NOW - 400 * 86_400);
        let mut unknown_details = domain("unread.example", DkimStatus::Success);
        unknown_details.dkim.current_key_length = Some(KeyLength::Rsa1024);
        unknown_details.details_read_at = None;
        let world = World::of(vec![
            domain("failed.example", DkimStatus::Failed),
            domain("ok.example", DkimStatus::Success),
            pending_long,
            pending_short,
            off,
            weak,
            old,
            unknown_details,
        ]);
        assert_eq!(
            world.firing(&Rules::default()),
            named(&[
                ("DkimFailed", "failed.example"),
                ("DkimKeyOld", "old.example"),
                ("DkimPendingTooLong", "pending.example"),
                ("DkimSigningOff", "off.example"),
                ("DkimWeakKey", "weak.example"),
            ])
        );
        // Turned off, a rule says nothing.
        let quiet = Rules {
            failed: false,
            key_age_days: 0,
            pending_hours: 0,
            signing_off: false,
            weak_key: false,
            ..Rules::default()
        };
        assert_eq!(world.firing(&quiet), []);
    }

    #[test]
    fn temporary_failure_needs_reads_in_a_row_and_then_holds_while_it_lasts() {
        let identity = domain("tf.example", DkimStatus::TemporaryFailure);
        let key = identity.key();
        let fingerprint = fingerprint(&identity_labels(Rule::DkimTemporaryFailure, &identity));
        let mut world = World::of(vec![identity]);
        world.reads.insert(key.clone(), 2);
        assert_eq!(world.firing(&Rules::default()), []);
        world.reads.insert(key.clone(), 3);
        assert_eq!(
            world.firing(&Rules::default()),
            named(&[("DkimTemporaryFailure", "tf.example")])
        );
        // After a restart the count starts again, but a firing alert stays firing.
        world.reads.insert(key, 1);
        world.firing.insert(fingerprint);
        assert_eq!(
            world.firing(&Rules::default()),
            named(&[("DkimTemporaryFailure", "tf.example")])
        );
    }

    #[test]
    fn a_target_fires_after_failing_for_the_minutes_set() {
        let mut world = World::of(vec![]);
        world.snapshot.targets[0].last_error = Some(SweepError {
            at: NOW,
            message: "SES denied access".into(),
        });
        let key = ("prod".to_owned(), "us-east-1".to_owned());
        world.failing.insert(key.clone(), NOW - 29 * 60);
        assert_eq!(world.firing(&Rules::default()), []);
        world.failing.insert(key, NOW - 30 * 60);
        assert_eq!(
            world.firing(&Rules::default()),
            named(&[("SesTargetUnreadable", "")])
        );
    }

    #[test]
    fn what_does_not_hold_is_reported_only_for_what_fires() {
        let fine = domain("fine.example", DkimStatus::Success);
        let mut world = World::of(vec![fine.clone()]);
        let labels = identity_labels(Rule::DkimFailed, &fine);
        // The target's own verdict alone: nothing fires for the identity.
        assert_eq!(world.verdicts(&Rules::default()).len(), 1);
        world.firing.insert(fingerprint(&labels));
        let now = world.verdicts(&Rules::default());
        assert_eq!(now.len(), 2);
        assert_eq!(now.get(&fingerprint(&labels)), Some(&Verdict::Clear));
    }

    #[test]
    fn an_identitys_fingerprint_is_that_of_its_labels() {
        for identity in [
            domain("a.example", DkimStatus::Failed),
            Identity {
                account: "staging".into(),
                region: "eu-west-1".into(),
                ..domain("xn--bcher-kva.example", DkimStatus::Pending)
            },
        ] {
            for rule in Rule::ALL {
                let labels = identity_labels(rule, &identity);
                let fingerprint = fingerprint(&labels);
                assert_eq!(
                    identity_fingerprint(rule, &identity).to_string(),
                    fingerprint
                );
                assert!(identity_fingerprint(rule, &identity).is_in(&HashSet::from([fingerprint])));
            }
        }
    }

    #[test]
    fn identities_of_unread_targets_get_no_verdict() {
        let mut world = World::of(vec![domain("failed.example", DkimStatus::Failed)]);
        world.snapshot.targets[0].last_success = None;
        let verdicts = world.verdicts(&Rules::default());
        // Only the target's own rule answers, and it cannot tell yet either: a target
        // that was failing before a restart keeps its alert until it is tried again.
        assert_eq!(verdicts.len(), 1);
        assert!(verdicts.values().all(|v| *v == Verdict::Unknown));
    }

    #[test]
    fn dns_broken_is_unknown_until_checked_and_ignores_other_statuses() {
        use crate::dns_check::{Finding, Findings};

        let mut ok = domain("ok.example", DkimStatus::Success);
        ok.dkim.tokens = vec!["t".into()];
        let pending = domain("pending.example", DkimStatus::Pending);
        let report = |finding: Finding| Findings::new(vec![finding], NOW, NOW + 300);
        let mut world = World::of(vec![ok.clone(), pending.clone()]);
        // Both fire already: what does not hold is reported for what fires alone.
        for identity in [&ok, &pending] {
            let labels = identity_labels(Rule::DkimDnsRecordBroken, identity);
            world.firing.insert(fingerprint(&labels));
        }
        let verdict = |reports: &DnsReports, identity: &Identity| {
            let inputs = Inputs {
                snapshot: &world.snapshot,
                dns: Some(reports),
                temporary_failure_reads: &world.reads,
                failing_since: &world.failing,
                known_since: &KnownSince::default(),
                firing: &world.firing,
                now: NOW,
            };
            let labels = identity_labels(Rule::DkimDnsRecordBroken, identity);
            evaluate(&Rules::default(), &inputs).remove(&fingerprint(&labels))
        };
        let none = HashMap::new();
        assert_eq!(verdict(&none, &ok), Some(Verdict::Unknown));
        assert_eq!(verdict(&none, &pending), Some(Verdict::Clear));
        let broken = HashMap::from([(
            ok.key(),
            Arc::new(report(Finding::Missing { nxdomain: true })),
        )]);
        assert_eq!(verdict(&broken, &ok), Some(Verdict::StillHolds));
        let fine = HashMap::from([(ok.key(), Arc::new(report(Finding::Ok)))]);
        assert_eq!(verdict(&fine, &ok), Some(Verdict::Clear));

        // Not firing yet: it fires, naming the record.
        world.firing.clear();
        let inputs = Inputs {
            snapshot: &world.snapshot,
            dns: Some(&broken),
            temporary_failure_reads: &world.reads,
            failing_since: &world.failing,
            known_since: &KnownSince::default(),
            firing: &world.firing,
            now: NOW,
        };
        let labels = identity_labels(Rule::DkimDnsRecordBroken, &ok);
        let Some(Verdict::Firing(alert)) =
            evaluate(&Rules::default(), &inputs).remove(&fingerprint(&labels))
        else {
            panic!("a missing record of a SUCCESS identity fires");
        };
        assert!(
            alert.annotations["description"].contains("t._domainkey.ok.example: missing"),
            "{alert:?}"
        );
    }

    #[test]
    fn an_alert_firing_already_is_not_written_again() {
        let failed = domain("failed.example", DkimStatus::Failed);
        let mut world = World::of(vec![failed.clone()]);
        world.snapshot.targets[0].last_error = Some(SweepError {
            at: NOW,
            message: "SES denied access".into(),
        });
        world
            .failing
            .insert(("prod".to_owned(), "us-east-1".to_owned()), NOW - 3600);
        let identity = fingerprint(&identity_labels(Rule::DkimFailed, &failed));
        let target = fingerprint(&target_labels(
            Rule::SesTargetUnreadable,
            &world.snapshot.targets[0],
        ));
        let verdicts = world.verdicts(&Rules::default());
        assert!(matches!(verdicts[&identity], Verdict::Firing(_)));
        assert!(matches!(verdicts[&target], Verdict::Firing(_)));

        world.firing.extend([identity.clone(), target.clone()]);
        let verdicts = world.verdicts(&Rules::default());
        assert_eq!(verdicts[&identity], Verdict::StillHolds);
        assert_eq!(verdicts[&target], Verdict::StillHolds);
    }
}
