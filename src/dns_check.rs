//! What a DNS check found, shared by the server (which finds it) and the pages (which say it
//! in words). One [`Finding`] per record dkimdash asks the operator to publish.

use serde::{Deserialize, Serialize};

use crate::model::{DnsRecord, Identity, IdentityKey, KeyParts, UnixSeconds};

/// The DNS health of every identity of one snapshot: what the table filters and counts
/// by. Kept as the exceptions to the one health every other identity has: once a fleet's
/// records are checked and mostly fine, only the others take memory (an entry for every
/// identity took 13.6 MB at 100,000, mostly their keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsHealths {
    exceptions: std::collections::HashMap<IdentityKey, DnsHealth>,
    otherwise: DnsHealth,
}

/// Nothing checked: every identity unchecked.
impl Default for DnsHealths {
    fn default() -> Self {
        Self::with_exceptions(std::collections::HashMap::new(), DnsHealth::Unchecked)
    }
}

impl DnsHealths {
    /// The identities of `exceptions` have their health there, every other one has
    /// `otherwise`.
    pub fn with_exceptions(
        exceptions: std::collections::HashMap<IdentityKey, DnsHealth>,
        otherwise: DnsHealth,
    ) -> Self {
        Self {
            exceptions,
            otherwise,
        }
    }

    /// Sets the health of the identity `key`.
    pub fn insert(&mut self, key: IdentityKey, health: DnsHealth) {
        if health == self.otherwise {
            self.exceptions.remove(&key);
        } else {
            self.exceptions.insert(key, health);
        }
    }

    /// The health of the identity `key` (whether it has records to check is not known
    /// here: see [`health_of`]).
    pub fn get(&self, key: &dyn KeyParts) -> DnsHealth {
        self.exceptions.get(key).copied().unwrap_or(self.otherwise)
    }
}

/// Healths set one by one, every other identity unchecked.
impl FromIterator<(IdentityKey, DnsHealth)> for DnsHealths {
    fn from_iter<I: IntoIterator<Item = (IdentityKey, DnsHealth)>>(healths: I) -> Self {
        let mut all = Self::default();
        for (key, health) in healths {
            all.insert(key, health);
        }
        all
    }
}

/// `identity`'s DNS health: `None` when it has no records to check (DKIM not set up);
/// unchecked when it has records but no report yet.
pub fn health_of(healths: &DnsHealths, identity: &Identity) -> Option<DnsHealth> {
    if identity.dkim.tokens.is_empty() {
        return None;
    }
    Some(healths.get(identity))
}

/// What the look-ups found for one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Finding {
    /// Published as expected, at the zone's own servers and at the recursive resolver.
    Ok,
    /// A BYODKIM TXT record is published, but dkimdash does not know the key SES holds
    /// (it was set elsewhere), so only its syntax could be checked.
    PresentUnknownKey {
        /// The TXT value as published (strings joined).
        found: String,
    },
    /// Nothing at the name: NXDOMAIN, or the name exists without a record of this type.
    Missing {
        /// NXDOMAIN (the name does not exist at all) rather than "no data".
        nxdomain: bool,
    },
    /// A record of the right type with another value: an old token, a typo, another key.
    WrongValue {
        /// What is published instead (each record of the set).
        found: Vec<String>,
    },
    /// Not at the name, but at the name with the zone appended once more: the DNS
    /// provider's form added the zone to a name that already ended in it.
    ZoneAppended {
        /// Where it was found (`TOKEN._domainkey.example.com.example.com`).
        found_at: String,
    },
    /// A CNAME query answered with addresses only: the provider proxies or flattens the
    /// CNAME (Cloudflare's orange cloud), so SES never sees it.
    Proxied {
        /// The A/AAAA addresses served instead.
        addresses: Vec<String>,
    },
    /// A TXT record is there but is not a usable DKIM key record.
    TxtMalformed {
        /// What is published (each record of the set, strings joined).
        found: Vec<String>,
        /// Everything wrong with it.
        problems: Vec<TxtProblem>,
    },
    /// The recursive resolver answers differently from the zone's own servers: a cache
    /// still holds the old answer. It will clear within the TTL.
    StaleCache {
        /// What the recursive resolver answers (empty: nothing).
        recursive: Vec<String>,
        /// What the zone's servers answer (empty: nothing).
        authoritative: Vec<String>,
        /// The longest the old answer may still be served, in seconds.
        ttl: u32,
    },
    /// The record sits at nameservers the domain is not delegated to: the parent zone sends
    /// the world to `delegated_to`, which do not have it.
    NotDelegated {
        /// The nameservers the parent zone delegates the domain to.
        delegated_to: Vec<String>,
        /// The nameservers that do have the record.
        found_at: Vec<String>,
    },
    /// The zone's nameservers disagree: some have the record right, others (a secondary
    /// that missed the latest zone transfer) do not, and SES may ask any of them.
    OutOfSync {
        /// The nameservers that answer otherwise.
        behind: Vec<String>,
        /// What the first of them answers (empty: nothing).
        found: Vec<String>,
        /// The nameservers that have it right.
        current: Vec<String>,
    },
    /// The check itself failed (timeout, SERVFAIL, REFUSED, a name that is not a DNS
    /// name). Never counted as a DNS problem.
    CouldNotCheck {
        /// What went wrong, in a few words.
        reason: String,
    },
}

/// Something wrong with a published DKIM TXT record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxtProblem {
    /// More than one TXT record at the selector: verifiers may pick either.
    SeveralRecords(usize),
    /// `p=` is a leading part of the expected key: a string longer than 255 bytes was cut
    /// instead of being split into several strings.
    KeyTruncated {
        /// Characters of the key published.
        published: usize,
        /// Characters of the whole key.
        expected: usize,
    },
    /// Quote characters inside the value (pasted with quotes around it).
    StrayQuotes,
    /// Text that is not a `name=value` tag (RFC 6376 §3.2): verifiers reject the whole
    /// record. Holds its first few characters.
    BadTag(String),
    /// A tag name given more than once: §3.2 makes the whole record invalid. Holds the name.
    DuplicateTag(String),
    /// A `v=` tag other than `DKIM1`, or `v=` not first.
    BadVersion,
    /// `k=` other than `rsa`: SES signs with RSA keys.
    KeyTypeNotRsa,
    /// `h=` without `sha256`: verifiers reject SES's rsa-sha256 signatures.
    HashWithoutSha256,
    /// `s=` without `email` or `*`: the key is not for email.
    ServiceNotEmail,
    /// `t=` with the `y` flag: the domain is testing DKIM, so verifiers treat its mail as
    /// unsigned.
    TestingMode,
    /// No `p=` tag.
    MissingKey,
    /// `p=` is empty: the key is revoked.
    RevokedKey,
    /// `p=` is not base64.
    KeyNotBase64,
    /// `p=` decodes, but not to a whole RSA public key (cut short, or another format).
    KeyUnreadable,
    /// The value is exactly 255 characters and its key is broken: the DNS provider cut a
    /// longer value at the limit of one character-string instead of splitting it.
    ValueCutAt255,
}

impl TxtProblem {
    /// The problem in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Self::SeveralRecords(n) => format!(
                "{n} TXT records at this name: keep exactly one, or verifiers may read the wrong one"
            ),
            Self::KeyTruncated {
                published,
                expected,
            } => format!(
                "the key is cut short ({published} of {expected} characters): publish it as several quoted strings of at most 255 characters"
            ),
            Self::StrayQuotes => {
                "quote characters inside the value: paste it without surrounding quotes".to_owned()
            }
            Self::BadTag(text) => format!(
                "\"{text}\" is not a name=value tag (a name is a letter, then letters, digits or _): verifiers reject the whole record, so fix or remove it"
            ),
            Self::DuplicateTag(name) => format!(
                "the {name}= tag appears more than once: verifiers reject the whole record, so keep only one"
            ),
            Self::BadVersion => "v= must be DKIM1 and come first (or be left out)".to_owned(),
            Self::KeyTypeNotRsa => {
                "k= is not rsa: SES signs with an RSA key, so verifiers cannot check its signatures with this record; set k=rsa or leave k= out".to_owned()
            }
            Self::HashWithoutSha256 => {
                "h= does not list sha256: SES signs with rsa-sha256, so verifiers reject its signatures; add sha256 to h= or leave h= out".to_owned()
            }
            Self::ServiceNotEmail => {
                "s= lists neither email nor *: verifiers will not use this key for email; set s=email or leave s= out".to_owned()
            }
            Self::TestingMode => {
                "t=y: the domain is in DKIM testing mode, so verifiers treat its mail as unsigned; remove y from t= (or the whole t= tag)".to_owned()
            }
            Self::MissingKey => {
                "no p= tag (tag names are case-sensitive): the record has no public key".to_owned()
            }
            Self::RevokedKey => "p= is empty: the key is revoked".to_owned(),
            Self::KeyNotBase64 => "the p= key is not valid base64".to_owned(),
            Self::KeyUnreadable => {
                "the p= key is not a whole RSA public key (cut short, or pasted wrongly)".to_owned()
            }
            Self::ValueCutAt255 => {
                "the value stops at 255 characters, the most one string holds: the DNS provider cut it instead of splitting it, so the key is incomplete; publish it as several quoted strings of at most 255 characters".to_owned()
            }
        }
    }
}

/// How a record (or an identity, over its records) stands, in three words: what the
/// table's DNS column and its `dns=` filter show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DnsHealth {
    /// Every record is published as expected.
    Ok,
    /// At least one record is missing, wrong or malformed.
    Problem,
    /// Not checked yet, or the check could not complete.
    Unchecked,
}

impl DnsHealth {
    /// The URL parameter value (`dns=ok`).
    pub fn as_param(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Problem => "problem",
            Self::Unchecked => "unchecked",
        }
    }

    /// Parses the URL parameter value.
    pub fn from_param(value: &str) -> Option<Self> {
        match value {
            "ok" => Some(Self::Ok),
            "problem" => Some(Self::Problem),
            "unchecked" => Some(Self::Unchecked),
            _ => None,
        }
    }

    /// What the table shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Problem => "Problem",
            Self::Unchecked => "Not checked",
        }
    }
}

impl Finding {
    /// Whether this finding is a DNS problem the operator must fix. A key dkimdash cannot
    /// compare is not a problem (its syntax was fine, or it would be `TxtMalformed`);
    /// neither is a check that could not run, nor a cache that will clear by itself.
    pub fn health(&self) -> DnsHealth {
        match self {
            Self::Ok | Self::PresentUnknownKey { .. } | Self::StaleCache { .. } => DnsHealth::Ok,
            Self::CouldNotCheck { .. } => DnsHealth::Unchecked,
            Self::Missing { .. }
            | Self::WrongValue { .. }
            | Self::ZoneAppended { .. }
            | Self::Proxied { .. }
            | Self::TxtMalformed { .. }
            | Self::NotDelegated { .. }
            | Self::OutOfSync { .. } => DnsHealth::Problem,
        }
    }

    /// A few words for a table cell or a CSV column.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::PresentUnknownKey { .. } => "present, key unknown to dkimdash",
            Self::Missing { .. } => "missing",
            Self::WrongValue { .. } => "wrong value",
            Self::ZoneAppended { .. } => "zone appended twice",
            Self::Proxied { .. } => "proxied or flattened",
            Self::TxtMalformed { .. } => "TXT malformed",
            Self::StaleCache { .. } => "stale in cache",
            Self::NotDelegated { .. } => "at nameservers not delegated to",
            Self::OutOfSync { .. } => "nameservers out of sync",
            Self::CouldNotCheck { .. } => "could not check",
        }
    }

    /// A stable machine name, for JSON and CSV exports.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::PresentUnknownKey { .. } => "present_unknown_key",
            Self::Missing { .. } => "missing",
            Self::WrongValue { .. } => "wrong_value",
            Self::ZoneAppended { .. } => "zone_appended",
            Self::Proxied { .. } => "proxied",
            Self::TxtMalformed { .. } => "txt_malformed",
            Self::StaleCache { .. } => "stale_cache",
            Self::NotDelegated { .. } => "not_delegated",
            Self::OutOfSync { .. } => "out_of_sync",
            Self::CouldNotCheck { .. } => "could_not_check",
        }
    }

    /// What was found and what to do, in a sentence or two (the expected value is shown
    /// beside it by the page).
    pub fn explain(&self) -> String {
        match self {
            Self::Ok => "Published as expected.".to_owned(),
            Self::PresentUnknownKey { found } => format!(
                "A DKIM key record is published ({}), but this key was set outside dkimdash, so it cannot be compared with the key SES holds.",
                shorten(found)
            ),
            Self::Missing { nxdomain: true } => {
                "Not published: the name does not exist in DNS. Add the record at your DNS provider.".to_owned()
            }
            Self::Missing { nxdomain: false } => {
                "Not published: the name exists but has no record of this type. Add the record at your DNS provider.".to_owned()
            }
            Self::WrongValue { found } => format!(
                "Published with another value: {}. Replace it with the expected value (an old token after a mode switch, or a typo).",
                found.iter().map(|f| shorten(f)).collect::<Vec<_>>().join(", ")
            ),
            Self::ZoneAppended { found_at } => format!(
                "Found at {found_at} instead: your DNS provider appended the zone to the name. Enter the name without the domain (or with a trailing dot)."
            ),
            Self::Proxied { addresses } => format!(
                "The name answers with addresses ({}) instead of a CNAME: the provider proxies or flattens it. Turn proxying off (DNS only) for this record.",
                addresses.join(", ")
            ),
            Self::TxtMalformed { problems, .. } => format!(
                "The TXT record is not a usable DKIM key: {}.",
                problems
                    .iter()
                    .map(TxtProblem::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Self::StaleCache {
                authoritative, ttl, ..
            } => format!(
                "The zone's own servers answer {}, but the resolver still serves an older answer. It clears within {}; nothing to do.",
                if authoritative.is_empty() {
                    "nothing".to_owned()
                } else {
                    authoritative
                        .iter()
                        .map(|f| shorten(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                duration_words(*ttl)
            ),
            Self::NotDelegated {
                delegated_to,
                found_at,
            } => format!(
                "The record is at {}, but the domain is delegated to {}, which do not have it. Publish it at the delegated provider, or change the delegation at your registrar.",
                found_at.join(", "),
                delegated_to.join(", ")
            ),
            Self::OutOfSync {
                behind,
                found,
                current,
            } => format!(
                "{} {} the record right, but {} {} {}: a secondary that has not taken the latest zone, and SES may ask it. Check zone transfers (NOTIFY/AXFR) at your DNS provider, or remove the stale server from the delegation.",
                current.join(", "),
                if current.len() == 1 { "has" } else { "have" },
                behind.join(", "),
                if behind.len() == 1 { "answers" } else { "answer" },
                if found.is_empty() {
                    "nothing".to_owned()
                } else {
                    found.iter().map(|f| shorten(f)).collect::<Vec<_>>().join(", ")
                }
            ),
            Self::CouldNotCheck { reason } => format!(
                "dkimdash could not check this record ({reason}); it will try again."
            ),
        }
    }
}

/// One record and what its check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCheck {
    /// The record dkimdash asks the operator to publish.
    pub record: DnsRecord,
    /// What the look-ups found.
    pub finding: Finding,
}

/// The DNS check of one identity's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsReport {
    /// One entry per record, in the order of the records to publish.
    pub records: Vec<RecordCheck>,
    /// When the look-ups ran.
    pub checked_at: UnixSeconds,
    /// Until when the answers may be reused (the shortest TTL seen, bounded).
    pub fresh_until: UnixSeconds,
}

impl DnsReport {
    /// The identity's health: a problem if any record has one; unchecked if any record
    /// could not be checked (and none has a problem); else OK.
    pub fn health(&self) -> DnsHealth {
        worst_of(self.records.iter().map(|r| &r.finding))
    }

    /// The finding for the record named `name` of type `record`, if checked.
    pub fn finding_for(&self, record: &DnsRecord) -> Option<&Finding> {
        self.records
            .iter()
            .find(|c| c.record.record_type == record.record_type && c.record.name == record.name)
            .map(|c| &c.finding)
    }
}

/// What the checks of an identity's records found, in the order of its records, without
/// the records: they follow from the identity (its tokens, zone and key). The DNS monitor
/// keeps this for every identity; the records' names and values repeated in each report
/// were most of its memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Findings {
    found: Found,
    /// When the look-ups ran.
    pub checked_at: UnixSeconds,
    /// Until when the answers may be reused.
    pub fresh_until: UnixSeconds,
}

/// The findings, one per record; when every record is fine (most identities), only how
/// many (a finding takes 72 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Found {
    AllOk(usize),
    /// Never all [`Finding::Ok`] ([`Findings::new`] sees to it).
    Each(Box<[Finding]>),
}

/// What [`Found::AllOk`] yields for each record.
static OK: Finding = Finding::Ok;

impl Findings {
    /// `found` (one per record, in the records' order) at `checked_at`.
    pub fn new(found: Vec<Finding>, checked_at: UnixSeconds, fresh_until: UnixSeconds) -> Self {
        let found = if found.iter().all(|f| *f == Finding::Ok) {
            Found::AllOk(found.len())
        } else {
            Found::Each(found.into())
        };
        Self {
            found,
            checked_at,
            fresh_until,
        }
    }

    /// What `report` found.
    pub fn of(report: &DnsReport) -> Self {
        let found = report.records.iter().map(|r| r.finding.clone()).collect();
        Self::new(found, report.checked_at, report.fresh_until)
    }

    /// One finding per record, in the records' order.
    pub fn found(&self) -> impl Iterator<Item = &Finding> {
        let (all_ok, each) = match &self.found {
            Found::AllOk(count) => (*count, &[][..]),
            Found::Each(found) => (0, &found[..]),
        };
        std::iter::repeat_n(&OK, all_ok).chain(each)
    }

    /// How many records were checked.
    pub fn len(&self) -> usize {
        match &self.found {
            Found::AllOk(count) => *count,
            Found::Each(found) => found.len(),
        }
    }

    /// Whether no record was checked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The identity's health, as [`DnsReport::health`].
    pub fn health(&self) -> DnsHealth {
        worst_of(self.found())
    }

    /// Whether `other` found the same for each record (whenever it looked).
    pub fn same_as(&self, other: &Findings) -> bool {
        self.found == other.found
    }

    /// The report again, with the identity's `records` (in the order they were checked);
    /// `None` if there are not as many as findings (records of another state).
    pub fn with_records(&self, records: Vec<DnsRecord>) -> Option<DnsReport> {
        (records.len() == self.len()).then(|| DnsReport {
            records: records
                .into_iter()
                .zip(self.found().cloned())
                .map(|(record, finding)| RecordCheck { record, finding })
                .collect(),
            checked_at: self.checked_at,
            fresh_until: self.fresh_until,
        })
    }
}

/// A problem if any finding is one; unchecked if any could not be checked (and none is a
/// problem); else OK.
fn worst_of<'a>(findings: impl Iterator<Item = &'a Finding>) -> DnsHealth {
    findings.fold(DnsHealth::Ok, |worst, finding| {
        match (worst, finding.health()) {
            (DnsHealth::Problem, _) | (_, DnsHealth::Problem) => DnsHealth::Problem,
            (DnsHealth::Unchecked, _) | (_, DnsHealth::Unchecked) => DnsHealth::Unchecked,
            _ => DnsHealth::Ok,
        }
    })
}

/// A long value cut for a sentence (keys run to hundreds of characters).
fn shorten(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// `90` → "2 minutes", `7200` → "2 hours".
fn duration_words(seconds: u32) -> String {
    match seconds {
        0..=119 => format!("{seconds} seconds"),
        120..=7199 => format!("{} minutes", seconds.div_ceil(60)),
        _ => format!("{} hours", seconds.div_ceil(3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordType;

    #[test]
    fn healths_keep_only_what_differs_from_the_rest() {
        let key = |name: &str| IdentityKey {
            account: "prod".into(),
            region: "us-east-1".into(),
            name: name.into(),
        };
        let nothing_checked = DnsHealths::default();
        assert_eq!(nothing_checked.get(&key("a.example")), DnsHealth::Unchecked);

        let mut checked = DnsHealths::with_exceptions(
            [(key("broken.example"), DnsHealth::Problem)].into(),
            DnsHealth::Ok,
        );
        assert_eq!(checked.get(&key("broken.example")), DnsHealth::Problem);
        assert_eq!(checked.get(&key("fine.example")), DnsHealth::Ok);
        // Set back to the rest's health, it is no exception any more.
        checked.insert(key("broken.example"), DnsHealth::Ok);
        assert_eq!(checked.exceptions.len(), 0);
        checked.insert(key("new.example"), DnsHealth::Unchecked);
        assert_eq!(checked.get(&key("new.example")), DnsHealth::Unchecked);
        assert_eq!(checked.exceptions.len(), 1);
    }

    fn check(name: &str, finding: Finding) -> RecordCheck {
        RecordCheck {
            record: DnsRecord {
                record_type: RecordType::Cname,
                name: name.into(),
                value: Some("v".into()),
            },
            finding,
        }
    }

    #[test]
    fn a_report_is_as_bad_as_its_worst_record() {
        let mut report = DnsReport {
            records: vec![check("a", Finding::Ok), check("b", Finding::Ok)],
            checked_at: 0,
            fresh_until: 0,
        };
        assert_eq!(report.health(), DnsHealth::Ok);
        report.records[1].finding = Finding::CouldNotCheck {
            reason: "timeout".into(),
        };
        assert_eq!(report.health(), DnsHealth::Unchecked);
        report.records[0].finding = Finding::Missing { nxdomain: true };
        assert_eq!(report.health(), DnsHealth::Problem);
    }

    #[test]
    fn findings_give_back_the_report_with_its_records() {
        let report = DnsReport {
            records: vec![
                check("a", Finding::Ok),
                check("b", Finding::Missing { nxdomain: false }),
            ],
            checked_at: 10,
            fresh_until: 70,
        };
        let findings = Findings::of(&report);
        assert_eq!(findings.health(), report.health());
        let records: Vec<DnsRecord> = report.records.iter().map(|c| c.record.clone()).collect();
        assert_eq!(findings.with_records(records.clone()), Some(report.clone()));
        assert_eq!(findings.with_records(records[..1].to_vec()), None);

        let mut fine = report;
        fine.records[1].finding = Finding::Ok;
        let findings = Findings::of(&fine);
        assert_eq!(findings, Findings::new(vec![Finding::Ok; 2], 10, 70));
        assert_eq!(findings.found().collect::<Vec<_>>(), [&Finding::Ok; 2]);
        assert_eq!(findings.with_records(records), Some(fine));
        assert!(
            findings.same_as(&Findings::new(vec![Finding::Ok; 2], 500, 900)),
            "whenever it looked"
        );
        assert!(!findings.same_as(&Findings::new(vec![Finding::Ok; 3], 10, 70)));
    }

    #[test]
    fn could_not_check_and_stale_caches_are_not_problems() {
        let unchecked = Finding::CouldNotCheck {
            reason: "SERVFAIL".into(),
        };
        assert_eq!(unchecked.health(), DnsHealth::Unchecked);
        let stale = Finding::StaleCache {
            recursive: vec![],
            authoritative: vec!["x".into()],
            ttl: 300,
        };
        assert_eq!(stale.health(), DnsHealth::Ok);
        assert!(stale.explain().contains("5 minutes"), "{}", stale.explain());
    }

    #[test]
    fn health_params_round_trip() {
        for health in [DnsHealth::Ok, DnsHealth::Problem, DnsHealth::Unchecked] {
            assert_eq!(DnsHealth::from_param(health.as_param()), Some(health));
        }
        assert_eq!(DnsHealth::from_param("bad"), None);
    }

    #[test]
    fn long_values_are_shortened_in_sentences() {
        let key = "p=".to_owned() + &"A".repeat(400);
        let text = Finding::WrongValue { found: vec![key] }.explain();
        assert!(text.len() < 250, "{text}");
        assert!(text.contains('…'));
    }
}

/// How far the DNS checks of the inventory are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsProgress {
    /// Identities with DKIM records to check.
    pub with_records: usize,
    /// Of those, how many have a report for their current SES state.
    pub checked: usize,
    /// Of those, how many wait for SES's details before they can be checked.
    pub awaiting_details: usize,
    /// About how long checking the rest takes at the recent pace; `None` when nothing is
    /// left or the pace is not known yet.
    pub seconds_left: Option<u64>,
}

impl DnsProgress {
    /// "DNS: 3,200 of 10,000 checked; about 40 min left" while checks are outstanding;
    /// `None` once every identity has a report.
    pub fn describe(&self) -> Option<String> {
        if self.checked >= self.with_records {
            return None;
        }
        let mut said = format!(
            "DNS: {} of {} checked",
            thousands(self.checked),
            thousands(self.with_records)
        );
        if let Some(seconds) = self.seconds_left {
            said.push_str(&format!("; about {} left", rough_duration(seconds)));
        }
        if self.awaiting_details > 0 {
            said.push_str(&format!(
                "; {} wait for their details from SES",
                thousands(self.awaiting_details)
            ));
        }
        Some(said)
    }
}

/// 10000 → "10,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A time left, rounded as people say it: "1 min", "40 min", "2 h 10 min".
fn rough_duration(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod progress_tests {
    use super::*;

    #[test]
    fn progress_is_said_while_checks_are_outstanding() {
        let progress = DnsProgress {
            with_records: 10_000,
            checked: 3_200,
            awaiting_details: 0,
            seconds_left: Some(40 * 60 - 5),
        };
        assert_eq!(
            progress.describe().as_deref(),
            Some("DNS: 3,200 of 10,000 checked; about 40 min left")
        );
        let waiting = DnsProgress {
            awaiting_details: 1_500,
            seconds_left: None,
            ..progress
        };
        assert_eq!(
            waiting.describe().as_deref(),
            Some("DNS: 3,200 of 10,000 checked; 1,500 wait for their details from SES")
        );
        let done = DnsProgress {
            checked: 10_000,
            ..progress
        };
        assert_eq!(done.describe(), None);
        assert_eq!(rough_duration(7_800), "2 h 10 min");
        assert_eq!(rough_duration(3_600), "1 h");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
