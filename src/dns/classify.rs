//! Pure: what the look-ups of one record found, as one [`Finding`]. The zone's own servers
//! say what is published; the recursive resolver says what the world sees now. The checker
//! gathers the evidence; this decides.

use super::answer::{Answer, normalize_name};
use super::dkim_txt;
use crate::dns_check::{Finding, TxtProblem};
use crate::model::{DnsRecord, RecordType};

/// Everything the checker learned about one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The answer of the nameservers the domain is delegated to (or, when the delegation
    /// could not be read, the zone's NS set): the first server's that answered.
    pub authoritative: Answer,
    /// The NS name of the server that gave `authoritative`.
    pub authoritative_server: String,
    /// What the other servers answered (only those that did).
    pub other_servers: Vec<ServerAnswer>,
    /// The answer of the recursive resolver.
    pub recursive: Answer,
    /// Looked up only when the record is missing: where it was found with the zone
    /// appended once more (`NAME.ZONE`).
    pub zone_appended: Option<String>,
    /// Looked up only when a CNAME is missing: A/AAAA addresses at the name.
    pub addresses: Vec<String>,
    /// How the zone is delegated, when that was read.
    pub delegation: Option<Delegation>,
}

/// One nameserver's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAnswer {
    /// The server's NS name.
    pub server: String,
    /// What it answered.
    pub answer: Answer,
}

/// The zone's delegation in the parent zone against the NS set the zone itself publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    /// The nameservers the parent zone delegates to.
    pub delegated_to: Vec<String>,
    /// The NS set the recursive resolver gives for the zone.
    pub zone_ns: Vec<String>,
    /// Whether nameservers of `zone_ns` that the parent does not delegate to hold the record.
    pub found_at_undelegated: bool,
}

impl Delegation {
    /// Whether the zone names nameservers the parent does not delegate to.
    pub fn mismatched(&self) -> bool {
        let delegated: std::collections::BTreeSet<_> = self.delegated_to.iter().collect();
        let zone: std::collections::BTreeSet<_> = self.zone_ns.iter().collect();
        !self.delegated_to.is_empty() && !self.zone_ns.is_empty() && delegated != zone
    }

    fn undelegated(&self) -> Vec<String> {
        self.zone_ns
            .iter()
            .filter(|ns| !self.delegated_to.contains(ns))
            .cloned()
            .collect()
    }
}

/// What `evidence` says about `expected`. `expected.value` is `None` for a BYODKIM key
/// dkimdash did not set (only the syntax can be judged then).
pub fn classify(expected: &DnsRecord, evidence: &Evidence) -> Finding {
    let (source, authoritative_known) = match (&evidence.authoritative, &evidence.recursive) {
        (Answer::Failed(reason), Answer::Failed(_)) => {
            return Finding::CouldNotCheck {
                reason: reason.clone(),
            };
        }
        // The zone's servers could not be asked: judge by what the world sees.
        (Answer::Failed(_), recursive) => (recursive, false),
        (authoritative, _) => (authoritative, true),
    };
    if let Some(finding) = out_of_sync(expected, evidence) {
        return finding;
    }
    match source {
        Answer::Records { values, .. } => {
            let verdict = judge(expected, values);
            if !authoritative_known
                || !matches!(verdict, Finding::Ok | Finding::PresentUnknownKey { .. })
            {
                return verdict;
            }
            disagreement(evidence, values).unwrap_or(verdict)
        }
        Answer::NxDomain { .. } | Answer::NoData { .. } => missing(
            expected,
            evidence,
            matches!(source, Answer::NxDomain { .. }),
        ),
        Answer::Failed(reason) => Finding::CouldNotCheck {
            reason: reason.clone(),
        },
    }
}

/// The zone's servers disagree and some have the record right: the others are behind (a
/// secondary that missed the latest zone transfer), and SES may ask any of them. When none
/// has it right, the record is judged as the first server answers it.
fn out_of_sync(expected: &DnsRecord, evidence: &Evidence) -> Option<Finding> {
    if evidence.other_servers.is_empty() || !evidence.authoritative.answered() {
        return None;
    }
    let first = ServerAnswer {
        server: evidence.authoritative_server.clone(),
        answer: evidence.authoritative.clone(),
    };
    let all: Vec<&ServerAnswer> = std::iter::once(&first)
        .chain(&evidence.other_servers)
        .collect();
    let published = |a: &ServerAnswer| a.answer.values().unwrap_or_default().to_vec();
    let right = all.iter().map(|a| published(a)).find(|values| {
        !values.is_empty()
            && matches!(
                judge(expected, values),
                Finding::Ok | Finding::PresentUnknownKey { .. }
            )
    })?;
    let mut current = Vec::new();
    let mut behind = Vec::new();
    let mut found = None;
    for answer in &all {
        let values = published(answer);
        if same_set(&values, &right) {
            push_once(&mut current, &answer.server);
        } else {
            push_once(&mut behind, &answer.server);
            found.get_or_insert(values);
        }
    }
    let found = found?;
    Some(Finding::OutOfSync {
        behind,
        found,
        current,
    })
}

fn push_once(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|n| n == name) {
        names.push(name.to_owned());
    }
}

/// The published values against the expected one.
fn judge(expected: &DnsRecord, values: &[String]) -> Finding {
    match expected.record_type {
        RecordType::Cname => {
            let want = expected.value.as_deref().map(normalize_name);
            if values.len() == 1 && want.as_deref() == Some(values[0].as_str()) {
                Finding::Ok
            } else {
                Finding::WrongValue {
                    found: values.to_vec(),
                }
            }
        }
        RecordType::Txt => judge_txt(expected.value.as_deref(), values),
    }
}

fn judge_txt(expected: Option<&str>, values: &[String]) -> Finding {
    let mut problems = Vec::new();
    if values.len() > 1 {
        problems.push(TxtProblem::SeveralRecords(values.len()));
    }
    // With several records, judge the one that looks like a DKIM key.
    let index = values.iter().position(|v| v.contains("p=")).unwrap_or(0);
    let published = dkim_txt::read(&values[index]);
    let expected_key = expected.and_then(dkim_txt::key_of);
    let mut wrong_key = false;
    if let (Some(want), Some(have)) = (&expected_key, &published.key)
        && want != have
    {
        if !have.is_empty() && want.starts_with(have.as_str()) {
            // The key stops early: a string cut at 255 bytes instead of being split. Its
            // base64 and DER being broken, or the cut the reader saw without the whole key,
            // follow from that and are not named again.
            let mut kept: Vec<TxtProblem> = published
                .problems
                .into_iter()
                .filter(|p| {
                    !matches!(
                        p,
                        TxtProblem::KeyUnreadable
                            | TxtProblem::KeyNotBase64
                            | TxtProblem::ValueCutAt255
                    )
                })
                .collect();
            problems.append(&mut kept);
            problems.push(TxtProblem::KeyTruncated {
                published: have.len(),
                expected: want.len(),
            });
            return malformed(values, problems);
        }
        wrong_key = true;
    }
    problems.extend(published.problems);
    match (problems.is_empty(), wrong_key, expected_key.is_some()) {
        (false, _, _) => malformed(values, problems),
        (true, true, _) => Finding::WrongValue {
            found: values.to_vec(),
        },
        (true, false, true) => Finding::Ok,
        (true, false, false) => Finding::PresentUnknownKey {
            found: values[index].clone(),
        },
    }
}

fn malformed(values: &[String], problems: Vec<TxtProblem>) -> Finding {
    Finding::TxtMalformed {
        found: values.to_vec(),
        problems,
    }
}

/// The zone's servers have it right; does the resolver agree?
fn disagreement(evidence: &Evidence, authoritative: &[String]) -> Option<Finding> {
    let recursive: Vec<String> = match &evidence.recursive {
        Answer::Records { values, .. } => values.clone(),
        Answer::NxDomain { .. } | Answer::NoData { .. } => Vec::new(),
        Answer::Failed(_) => return None,
    };
    if same_set(&recursive, authoritative) {
        return None;
    }
    Some(Finding::StaleCache {
        recursive,
        authoritative: authoritative.to_vec(),
        ttl: evidence.recursive.ttl().unwrap_or(0),
    })
}

/// Not at the delegated servers: find out why.
fn missing(expected: &DnsRecord, evidence: &Evidence, nxdomain: bool) -> Finding {
    if let Some(found_at) = &evidence.zone_appended {
        return Finding::ZoneAppended {
            found_at: found_at.clone(),
        };
    }
    if expected.record_type == RecordType::Cname && !evidence.addresses.is_empty() {
        return Finding::Proxied {
            addresses: evidence.addresses.clone(),
        };
    }
    if let Some(delegation) = &evidence.delegation {
        let resolver_sees_it = evidence.recursive.values().is_some();
        if delegation.found_at_undelegated || (resolver_sees_it && delegation.mismatched()) {
            return Finding::NotDelegated {
                delegated_to: delegation.delegated_to.clone(),
                found_at: delegation.undelegated(),
            };
        }
    }
    Finding::Missing { nxdomain }
}

/// The set of `a` equals the set of `b`.
pub(super) fn same_set(a: &[String], b: &[String]) -> bool {
    let a: std::collections::BTreeSet<_> = a.iter().collect();
    let b: std::collections::BTreeSet<_> = b.iter().collect();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cname() -> DnsRecord {
        DnsRecord {
            record_type: RecordType::Cname,
            name: "tok._domainkey.example.com".into(),
            value: Some("tok.dkim.amazonses.com".into()),
        }
    }

    fn txt(value: Option<String>) -> DnsRecord {
        DnsRecord {
            record_type: RecordType::Txt,
            name: "sel._domainkey.example.com".into(),
            value,
        }
    }

    fn records(values: &[&str]) -> Answer {
        Answer::Records {
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            ttl: 300,
        }
    }

    fn evidence(authoritative: Answer, recursive: Answer) -> Evidence {
        Evidence {
            authoritative,
            authoritative_server: "ns1.example.com".into(),
            other_servers: Vec::new(),
            recursive,
            zone_appended: None,
            addresses: Vec::new(),
            delegation: None,
        }
    }

    fn at(server: &str, answer: Answer) -> ServerAnswer {
        ServerAnswer {
            server: server.into(),
            answer,
        }
    }

    #[test]
    fn a_secondary_without_the_record_is_out_of_sync() {
        let right = records(&["tok.dkim.amazonses.com"]);
        let mut seen = evidence(right.clone(), right.clone());
        seen.other_servers = vec![
            at("ns2.example.com", Answer::NxDomain { ttl: 60 }),
            at("ns3.example.com", right.clone()),
        ];
        assert_eq!(
            classify(&cname(), &seen),
            Finding::OutOfSync {
                behind: vec!["ns2.example.com".into()],
                found: vec![],
                current: vec!["ns1.example.com".into(), "ns3.example.com".into()],
            }
        );
    }

    #[test]
    fn a_first_server_behind_the_others_is_named() {
        let mut seen = evidence(
            records(&["old.dkim.amazonses.com"]),
            records(&["tok.dkim.amazonses.com"]),
        );
        seen.other_servers = vec![at("ns2.example.com", records(&["tok.dkim.amazonses.com"]))];
        assert_eq!(
            classify(&cname(), &seen),
            Finding::OutOfSync {
                behind: vec!["ns1.example.com".into()],
                found: vec!["old.dkim.amazonses.com".into()],
                current: vec!["ns2.example.com".into()],
            }
        );
    }

    #[test]
    fn servers_that_agree_or_are_all_wrong_are_not_out_of_sync() {
        let right = records(&["tok.dkim.amazonses.com"]);
        let mut agree = evidence(right.clone(), right.clone());
        agree.other_servers = vec![at("ns2.example.com", right.clone())];
        assert_eq!(classify(&cname(), &agree), Finding::Ok);
        let mut all_wrong = evidence(Answer::NxDomain { ttl: 60 }, Answer::NxDomain { ttl: 60 });
        all_wrong.other_servers = vec![at("ns2.example.com", records(&["x.example.net"]))];
        assert_eq!(
            classify(&cname(), &all_wrong),
            Finding::Missing { nxdomain: true },
            "no server has it right: judged by the first"
        );
    }

    fn key() -> &'static str {
        static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        KEY.get_or_init(|| crate::signing_key::generate().unwrap().public_key)
    }

    #[test]
    fn a_matching_cname_is_ok_whatever_the_case() {
        let both = records(&["tok.dkim.amazonses.com"]);
        let expected = DnsRecord {
            value: Some("TOK.dkim.AmazonSES.com.".into()),
            ..cname()
        };
        assert_eq!(
            classify(&expected, &evidence(both.clone(), both)),
            Finding::Ok
        );
    }

    #[test]
    fn another_target_is_a_wrong_value() {
        let old = records(&["old.dkim.amazonses.com"]);
        assert_eq!(
            classify(&cname(), &evidence(old.clone(), old)),
            Finding::WrongValue {
                found: vec!["old.dkim.amazonses.com".into()]
            }
        );
    }

    #[test]
    fn nothing_anywhere_is_missing() {
        let nx = Answer::NxDomain { ttl: 300 };
        assert_eq!(
            classify(&cname(), &evidence(nx.clone(), nx)),
            Finding::Missing { nxdomain: true }
        );
        let nodata = Answer::NoData { ttl: 300 };
        assert_eq!(
            classify(&cname(), &evidence(nodata.clone(), nodata)),
            Finding::Missing { nxdomain: false }
        );
    }

    #[test]
    fn a_zone_appended_twice_is_named() {
        let mut ev = evidence(Answer::NxDomain { ttl: 1 }, Answer::NxDomain { ttl: 1 });
        ev.zone_appended = Some("tok._domainkey.example.com.example.com".into());
        assert!(
            matches!(classify(&cname(), &ev), Finding::ZoneAppended { found_at } if found_at.ends_with(".example.com.example.com"))
        );
    }

    #[test]
    fn addresses_instead_of_a_cname_mean_proxied() {
        let mut ev = evidence(Answer::NoData { ttl: 1 }, Answer::NoData { ttl: 1 });
        ev.addresses = vec!["104.16.0.1".into()];
        assert_eq!(
            classify(&cname(), &ev),
            Finding::Proxied {
                addresses: vec!["104.16.0.1".into()]
            }
        );
    }

    #[test]
    fn an_old_answer_in_the_resolver_is_a_stale_cache() {
        let ev = evidence(
            records(&["tok.dkim.amazonses.com"]),
            records(&["old.dkim.amazonses.com"]),
        );
        assert_eq!(
            classify(&cname(), &ev),
            Finding::StaleCache {
                recursive: vec!["old.dkim.amazonses.com".into()],
                authoritative: vec!["tok.dkim.amazonses.com".into()],
                ttl: 300
            }
        );
    }

    #[test]
    fn a_record_deleted_at_the_source_is_missing_even_if_still_cached() {
        let ev = evidence(
            Answer::NxDomain { ttl: 1 },
            records(&["tok.dkim.amazonses.com"]),
        );
        assert_eq!(classify(&cname(), &ev), Finding::Missing { nxdomain: true });
    }

    #[test]
    fn records_at_an_undelegated_provider() {
        let mut ev = evidence(
            Answer::NxDomain { ttl: 1 },
            records(&["tok.dkim.amazonses.com"]),
        );
        ev.delegation = Some(Delegation {
            delegated_to: vec!["ns1.old-provider.net".into()],
            zone_ns: vec!["ns-1.awsdns-01.org".into()],
            found_at_undelegated: true,
        });
        assert_eq!(
            classify(&cname(), &ev),
            Finding::NotDelegated {
                delegated_to: vec!["ns1.old-provider.net".into()],
                found_at: vec!["ns-1.awsdns-01.org".into()],
            }
        );
    }

    #[test]
    fn unreachable_everywhere_is_could_not_check_never_missing() {
        let ev = evidence(
            Answer::Failed("timeout".into()),
            Answer::Failed("SERVFAIL".into()),
        );
        assert_eq!(
            classify(&cname(), &ev),
            Finding::CouldNotCheck {
                reason: "timeout".into()
            }
        );
    }

    #[test]
    fn unreachable_zone_servers_fall_back_to_the_resolver() {
        let ev = evidence(
            Answer::Failed("timeout".into()),
            records(&["tok.dkim.amazonses.com"]),
        );
        assert_eq!(classify(&cname(), &ev), Finding::Ok);
    }

    #[test]
    fn a_txt_with_the_known_key_is_ok() {
        let value = format!("v=DKIM1; k=rsa; p={}", key());
        let both = records(&[&value]);
        assert_eq!(
            classify(&txt(Some(value.clone())), &evidence(both.clone(), both)),
            Finding::Ok
        );
    }

    #[test]
    fn a_txt_with_another_key_is_a_wrong_value() {
        let other = crate::signing_key::generate().unwrap().public_key;
        let published = format!("v=DKIM1; k=rsa; p={other}");
        let both = records(&[&published]);
        let expected = txt(Some(format!("v=DKIM1; k=rsa; p={}", key())));
        assert!(matches!(
            classify(&expected, &evidence(both.clone(), both)),
            Finding::WrongValue { .. }
        ));
    }

    #[test]
    fn a_key_cut_at_255_characters_is_truncated() {
        let value = format!("v=DKIM1; k=rsa; p={}", key());
        let cut = &value[..255];
        let both = records(&[cut]);
        let finding = classify(&txt(Some(value.clone())), &evidence(both.clone(), both));
        let Finding::TxtMalformed { problems, .. } = finding else {
            panic!("{finding:?}")
        };
        assert_eq!(
            problems,
            [TxtProblem::KeyTruncated {
                published: 255 - "v=DKIM1; k=rsa; p=".len(),
                expected: key().len()
            }]
        );
    }

    #[test]
    fn two_txt_records_at_the_selector_are_malformed() {
        let value = format!("v=DKIM1; k=rsa; p={}", key());
        let both = records(&[&value, "v=DKIM1; k=rsa; p=QUJD"]);
        let finding = classify(&txt(Some(value.clone())), &evidence(both.clone(), both));
        assert!(
            matches!(&finding, Finding::TxtMalformed { problems, .. } if problems == &[TxtProblem::SeveralRecords(2)]),
            "{finding:?}"
        );
    }

    #[test]
    fn a_key_set_elsewhere_is_present_with_its_syntax_checked() {
        let value = format!("v=DKIM1; k=rsa; p={}", key());
        let both = records(&[&value]);
        assert_eq!(
            classify(&txt(None), &evidence(both.clone(), both)),
            Finding::PresentUnknownKey { found: value }
        );
        let revoked = records(&["v=DKIM1; p="]);
        assert!(matches!(
            classify(&txt(None), &evidence(revoked.clone(), revoked)),
            Finding::TxtMalformed { problems, .. } if problems == [TxtProblem::RevokedKey]
        ));
    }
}
