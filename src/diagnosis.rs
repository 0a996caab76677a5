//! Pure: SES's DKIM state plus dkimdash's DNS check, at a moment, in words.
//!
//! [`diagnose`] turns what SES reports about an identity (DKIM status, verification error,
//! timestamps), what dkimdash's DNS check found, and the time into one [`Diagnosis`]: how
//! urgent it is, what is going on, what to do next and, where SES has an API call for it, the
//! button to offer. It runs in both builds, so it does no I/O and uses no server crate.
//!
//! What SES does in each status is taken from its documentation:
//! - Amazon SES Developer Guide, "Managing identities in Amazon SES"
//!   (<https://docs.aws.amazon.com/ses/latest/dg/managing-identities.html>): *Failure* means
//!   SES did not detect the DNS records within 72 hours; on *Temporary Failure* SES re-checks
//!   for 72 hours, then marks the domain *Failure* or *Verified*.
//! - Amazon SES Developer Guide, "Troubleshooting DKIM problems in Amazon SES"
//!   (<https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-dkim.html>): when SES can no
//!   longer find the records it warns by email and then revokes DKIM; "If your DKIM setup is
//!   revoked, you must restart the DKIM set-up procedure from the beginning."
//! - Amazon SES API v2 Reference, `VerificationInfo`
//!   (<https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_VerificationInfo.html>):
//!   the meaning of each verification `ErrorType`.

use serde::{Deserialize, Serialize};

use crate::attention::{PENDING_LIMIT_SECS, pending_since};
use crate::dns_check::{DnsHealth, DnsReport, Finding, RecordCheck};
use crate::model::{DkimStatus, Identity, IdentityType, KeyLength, SigningOrigin, UnixSeconds};

const HOUR: UnixSeconds = 3600;

/// With less than this left of SES's 72 hours, records that are still wrong are critical: a
/// DNS change plus the caches expiring can take most of it.
const URGENT_SECS: UnixSeconds = 12 * HOUR;

/// How urgently an identity needs an operator. Ordered, so the worst of several can be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// DKIM works; nothing to do.
    Good,
    /// Nothing is wrong (yet): something is in progress, or worth knowing.
    Info,
    /// Needs an operator, but not within hours.
    Warning,
    /// DKIM has failed or is about to: mail goes out unsigned unless someone acts.
    Critical,
}

impl Severity {
    /// Lower-case name, for CSS classes and exports (`critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// A change dkimdash can offer as a button: each is one documented SES API call.
///
/// Restarting after FAILED follows the SES Developer Guide, "Troubleshooting DKIM problems in
/// Amazon SES" (<https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-dkim.html>): a failed
/// setup has to be started again from the beginning. For Easy DKIM that is API v1's
/// `VerifyDomainDkim`, "a request instructing the service to begin DKIM verification for a
/// domain", which returns the domain's tokens (the records stay the same). For BYODKIM it is
/// `PutEmailIdentityDkimSigningAttributes` with the key again: SES then "searches for the
/// appropriate records in the DNS configuration of the domain for up to 72 hours" (Amazon
/// SES API v2 Reference). `crate::changes::restart` makes the Easy DKIM restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextAction {
    /// A domain without DKIM: set up Easy DKIM or BYODKIM (the Manage DKIM card).
    SetUpDkim,
    /// After FAILED: begin Easy DKIM verification again (`VerifyDomainDkim`), a new search
    /// for the same records.
    RestartEasyDkim,
    /// After FAILED: submit the BYODKIM selector and private key again (origin `EXTERNAL`).
    /// SES never returns a private key, so the operator provides it once more.
    RestartByodkim {
        /// The selector SES holds now, to fill in the form.
        selector: String,
    },
    /// Signing is off: `PutEmailIdentityDkimAttributes` with `SigningEnabled` set.
    TurnSigningOn,
}

impl NextAction {
    /// The button's words.
    pub fn label(&self) -> &'static str {
        match self {
            Self::SetUpDkim => "Set up DKIM",
            Self::RestartEasyDkim | Self::RestartByodkim { .. } => "Restart verification",
            Self::TurnSigningOn => "Turn signing on",
        }
    }

    /// The SES API operation behind the button.
    pub fn ses_operation(&self) -> &'static str {
        match self {
            Self::RestartEasyDkim => "VerifyDomainDkim",
            Self::SetUpDkim | Self::RestartByodkim { .. } => {
                "PutEmailIdentityDkimSigningAttributes"
            }
            Self::TurnSigningOn => "PutEmailIdentityDkimAttributes",
        }
    }
}

/// An identity's DKIM situation in words an operator can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// How urgent it is.
    pub severity: Severity,
    /// One line: the situation.
    pub headline: String,
    /// What is going on, with the specifics (which records, how long).
    pub explanation: String,
    /// What the operator should do now.
    pub next_step: String,
    /// The SES change dkimdash can offer as a button, if there is one.
    pub action: Option<NextAction>,
    /// Remarks that apply on top of the main situation (signing off, a 1024-bit key, …).
    pub notes: Vec<String>,
}

/// Diagnoses `identity` at `now` from SES's state and, when it has run, dkimdash's DNS check
/// of the identity's records. A check that could not run is never counted as a DNS problem.
pub fn diagnose(identity: &Identity, dns: Option<&DnsReport>, now: UnixSeconds) -> Diagnosis {
    let records = Records::of(dns);
    let mut diagnosis = main_case(identity, &records, now);
    diagnosis.notes = notes(identity, dns, &diagnosis, now);
    if diagnosis.action.is_none() && !identity.dkim.signing_enabled && is_set_up(identity) {
        diagnosis.action = Some(NextAction::TurnSigningOn);
    }
    diagnosis
}

/// The situation SES's status describes, read together with the DNS check.
fn main_case(identity: &Identity, records: &Records, now: UnixSeconds) -> Diagnosis {
    if !is_set_up(identity) {
        return not_set_up(identity);
    }
    if let Some(diagnosis) = replication_failure(identity) {
        return diagnosis;
    }
    match &identity.dkim.status {
        DkimStatus::Pending => pending(identity, records, now),
        DkimStatus::Success => success(identity, records),
        DkimStatus::Failed => failed(identity, records, now),
        DkimStatus::TemporaryFailure => temporary_failure(identity, records, now),
        DkimStatus::NotStarted => not_set_up(identity),
        DkimStatus::Unknown(status) => unknown_status(status, records),
    }
}

/// Whether DKIM has been set up at all. An email address shows SES's success without tokens
/// of its own; any other status without tokens has nothing to look for.
fn is_set_up(identity: &Identity) -> bool {
    match identity.dkim.status {
        DkimStatus::NotStarted => false,
        DkimStatus::Success | DkimStatus::Unknown(_) => true,
        _ => !identity.dkim.tokens.is_empty(),
    }
}

fn not_set_up(identity: &Identity) -> Diagnosis {
    let name = &identity.name;
    let region = &identity.region;
    let sends = identity
        .verification
        .as_ref()
        .is_some_and(|v| v.verified_for_sending);
    let severity = if sends {
        Severity::Warning
    } else {
        Severity::Info
    };
    let unsigned = if sends {
        ", so its mail goes out without a DKIM signature for its domain"
    } else {
        ""
    };
    match address_domain(identity) {
        Some(domain) => Diagnosis {
            severity,
            headline: format!("No DKIM for {domain}"),
            explanation: format!(
                "{name} signs with the DKIM setup of its domain, and {domain} has none in {region}{unsigned}."
            ),
            next_step: format!(
                "Set up DKIM on the {domain} domain identity (Manage DKIM on its page); {name} signs with it once SES has verified the records."
            ),
            action: None,
            notes: Vec::new(),
        },
        None => Diagnosis {
            severity,
            headline: "DKIM not set up".to_owned(),
            explanation: format!("SES has no DKIM setup for {name} in {region}{unsigned}."),
            next_step: "Set it up with Manage DKIM on this page: Easy DKIM (SES makes and rotates the keys; you publish three CNAME records) or BYODKIM (your own key; you publish one TXT record).".to_owned(),
            action: Some(NextAction::SetUpDkim),
            notes: Vec::new(),
        },
    }
}

fn pending(identity: &Identity, records: &Records, now: UnixSeconds) -> Diagnosis {
    let clock = Countdown::pending(identity, now);
    let searching = format!(
        "SES has been looking for the records {}; {}.{}",
        clock.elapsed_words(),
        clock.left_words(),
        last_checked(identity, now)
    );
    let whose = parent_records(identity);
    match records {
        Records::Ok { count } if clock.is_over() => Diagnosis {
            severity: Severity::Warning,
            headline: "Records published, but SES is still PENDING after 72 hours".to_owned(),
            explanation: format!(
                "dkimdash finds {}{whose} published as expected, yet SES has not verified them. {searching}",
                all_records(*count)
            ),
            next_step: "Wait for SES's next check; if it marks the setup FAILED, restart verification. If it stays PENDING, make sure every nameserver of the zone answers from the internet: SES looks the records up from outside your network.".to_owned(),
            action: None,
            notes: Vec::new(),
        },
        Records::Ok { count } => Diagnosis {
            severity: Severity::Info,
            headline: "Records published — SES should verify soon".to_owned(),
            explanation: format!(
                "dkimdash finds {}{whose} published as expected. SES checks PENDING identities periodically and verifies them once it sees the records. {searching}",
                all_records(*count)
            ),
            next_step: "Nothing to do but wait for SES's next check.".to_owned(),
            action: None,
            notes: Vec::new(),
        },
        Records::Broken { broken, count } => Diagnosis {
            severity: if clock.is_urgent() {
                Severity::Critical
            } else {
                Severity::Warning
            },
            headline: if clock.is_over() {
                "Records not right, and SES's 72 hours are over".to_owned()
            } else {
                format!("{} — {} left", need_fixing(broken.len()), hours(clock.left))
            },
            explanation: format!(
                "{} SES cannot verify DKIM until {} right. {searching}",
                broken_sentence(broken, *count),
                if broken.len() == 1 { "it is" } else { "they are" }
            ),
            next_step: if clock.is_over() {
                format!(
                    "Fix {} at your DNS provider now; if SES has marked the setup FAILED by then, restart verification afterwards. {}",
                    them(broken),
                    fixes(broken)
                )
            } else {
                format!(
                    "Fix {} at your DNS provider within the {} left, or SES marks the setup FAILED. {}",
                    them(broken),
                    hours(clock.left),
                    fixes(broken)
                )
            },
            action: None,
            notes: Vec::new(),
        },
        Records::NotChecked | Records::Unchecked { .. } => Diagnosis {
            severity: if clock.is_over() {
                Severity::Warning
            } else {
                Severity::Info
            },
            headline: if clock.is_over() {
                "Still PENDING after SES's 72 hours".to_owned()
            } else {
                format!(
                    "Waiting for SES to find the records — {} left",
                    hours(clock.left)
                )
            },
            explanation: format!("{searching} {}", dns_sentence(records)),
            next_step: format!(
                "Make sure the records{whose} on this page are published at your DNS provider; dkimdash shows what it finds once its DNS check completes."
            ),
            action: None,
            notes: Vec::new(),
        },
    }
}

fn success(identity: &Identity, records: &Records) -> Diagnosis {
    let name = &identity.name;
    match records {
        Records::Broken { broken, count } => Diagnosis {
            severity: Severity::Critical,
            headline: format!("{} — SES will stop signing", broken_headline(broken.len())),
            explanation: format!(
                "SES verified DKIM for {name}, but {} SES re-checks verified records: when it cannot find them it warns by email, marks the identity TEMPORARY_FAILURE and, unless they are restored in time, revokes DKIM. Mail then goes out unsigned and the setup has to be started again from the beginning.",
                broken_sentence(broken, *count)
            ),
            next_step: format!(
                "Restore {} at your DNS provider now. {}",
                them(broken),
                fixes(broken)
            ),
            action: None,
            notes: Vec::new(),
        },
        _ if !identity.dkim.signing_enabled => Diagnosis {
            severity: Severity::Warning,
            headline: "DKIM verified, but signing is turned off".to_owned(),
            explanation: format!(
                "SES verified DKIM for {name}, but signing is off, so SES sends its mail without a DKIM signature. {}",
                dns_sentence(records)
            ),
            next_step: "Turn signing on (Manage DKIM on this page), unless it is off on purpose."
                .to_owned(),
            action: Some(NextAction::TurnSigningOn),
            notes: Vec::new(),
        },
        Records::Ok { count } => Diagnosis {
            severity: Severity::Good,
            headline: "DKIM verified and records in place".to_owned(),
            explanation: format!(
                "SES signs mail from {name} with DKIM, and dkimdash finds {} published as expected.",
                all_records(*count)
            ),
            next_step: "Nothing to do.".to_owned(),
            action: None,
            notes: Vec::new(),
        },
        Records::NotChecked | Records::Unchecked { .. } => Diagnosis {
            severity: Severity::Good,
            headline: "DKIM verified".to_owned(),
            explanation: format!(
                "SES signs mail from {name} with DKIM. {}",
                dns_sentence(records)
            ),
            next_step: "Nothing to do; dkimdash confirms the records once its DNS check completes."
                .to_owned(),
            action: None,
            notes: Vec::new(),
        },
    }
}

/// FAILED: SES has stopped looking. SES documents no retry of a failed setup; it has to be
/// set up again from the beginning (see [`NextAction`] for the sources), after the records
/// are right, or the new search fails the same way.
fn failed(identity: &Identity, records: &Records, now: UnixSeconds) -> Diagnosis {
    let restart = restart_words(identity);
    let next_step = match records {
        Records::Ok { .. } => format!("DNS is right now; restart verification: {restart}"),
        Records::Broken { broken, .. } => format!(
            "Fix {} first: {} Then restart verification: {restart}",
            if broken.len() == 1 { "this" } else { "these" },
            fixes(broken)
        ),
        Records::NotChecked | Records::Unchecked { .. } => format!(
            "Make sure the records on this page are published, then restart verification: {restart}"
        ),
    };
    let still = match records {
        Records::Ok { .. } => " SES does not look again by itself.",
        _ => "",
    };
    Diagnosis {
        severity: Severity::Critical,
        headline: "DKIM failed — SES stopped looking for the records".to_owned(),
        explanation: format!(
            "SES did not find the records{} within its 72-hour search and stopped checking; mail from {} is not DKIM-signed.{} {}{still}",
            parent_records(identity),
            identity.name,
            last_checked(identity, now),
            dns_sentence(records)
        ),
        next_step,
        action: restart_action(identity),
        notes: Vec::new(),
    }
}

/// How to start a failed setup again, for the identity's kind of DKIM.
fn restart_words(identity: &Identity) -> String {
    if let Some(domain) = address_domain(identity) {
        return format!(
            "restart it on the {domain} domain identity (Manage DKIM on its page); {} signs with that setup.",
            identity.name
        );
    }
    match &identity.dkim.origin {
        Some(SigningOrigin::EasyDkim) => "use Restart verification under Manage DKIM on this page (SES API v1 VerifyDomainDkim, which begins DKIM verification again; the tokens and records stay the same). SES then looks for the records for another 72 hours.".to_owned(),
        Some(SigningOrigin::Byodkim) => format!(
            "submit the selector {} and the private key again with Manage DKIM on this page (SES API v2 PutEmailIdentityDkimSigningAttributes, origin EXTERNAL; SES never returns the key, so paste it again). SES then looks for the TXT record for another 72 hours.",
            selector(identity)
        ),
        Some(SigningOrigin::Replica { parent_region }) => format!(
            "a DEED replica uses the keys of the same domain in {parent_region}: make sure that identity is verified there; if this replica stays FAILED, re-create it."
        ),
        None | Some(SigningOrigin::Unknown(_)) => {
            "submit the identity's DKIM setup again with Manage DKIM on this page.".to_owned()
        }
    }
}

/// The button for [`restart_words`], when SES has a call for it on this identity.
fn restart_action(identity: &Identity) -> Option<NextAction> {
    if address_domain(identity).is_some() {
        return None;
    }
    match identity.dkim.origin {
        Some(SigningOrigin::EasyDkim) => Some(NextAction::RestartEasyDkim),
        Some(SigningOrigin::Byodkim) => Some(NextAction::RestartByodkim {
            selector: selector(identity).to_owned(),
        }),
        _ => None,
    }
}

/// TEMPORARY_FAILURE: SES could not confirm the records; it re-checks for 72 hours before
/// failing the setup. dkimdash's own look-ups tell whether the records or the servers are at
/// fault.
fn temporary_failure(identity: &Identity, records: &Records, now: UnixSeconds) -> Diagnosis {
    let clock = Countdown::new(identity.status_seen_since, now, true);
    let rechecking = format!(
        "SES re-checks for 72 hours before it marks the setup FAILED; {}.{}",
        clock.left_words(),
        last_checked(identity, now)
    );
    let lost = "SES could not confirm the records on its last check (TEMPORARY_FAILURE)";
    match records {
        Records::Ok { count } => Diagnosis {
            severity: Severity::Warning,
            headline: "SES could not check the records — they look right".to_owned(),
            explanation: format!(
                "{lost}, but dkimdash finds {} published as expected: the cause is likely transient or on SES's side, or the zone's nameservers did not answer SES for a while. {rechecking}",
                all_records(*count)
            ),
            next_step: "Nothing to change in the records. If the status persists, check that every nameserver of the zone answers: SES may have asked one that did not.".to_owned(),
            action: None,
            notes: Vec::new(),
        },
        Records::Broken { broken, count } => Diagnosis {
            severity: Severity::Critical,
            headline: format!("SES cannot find the records — {}", need_fixing(broken.len())),
            explanation: format!(
                "{lost}, and {} {rechecking}",
                broken_sentence(broken, *count)
            ),
            next_step: format!(
                "Fix {} at your DNS provider before SES marks the setup FAILED. {}",
                them(broken),
                fixes(broken)
            ),
            action: None,
            notes: Vec::new(),
        },
        Records::Unchecked { .. } => Diagnosis {
            severity: Severity::Warning,
            headline: "Neither SES nor dkimdash can reach the zone's nameservers".to_owned(),
            explanation: format!(
                "{lost}, and {} {rechecking}",
                dns_sentence(records)
            ),
            next_step: format!(
                "Check the nameservers of {}: that the registrar delegates the domain to the right ones, and that each of them answers DNS queries for the records on this page.",
                domain_of(identity)
            ),
            action: None,
            notes: Vec::new(),
        },
        Records::NotChecked => Diagnosis {
            severity: Severity::Warning,
            headline: "SES could not check the records".to_owned(),
            explanation: format!("{lost}. {} {rechecking}", dns_sentence(records)),
            next_step: "Make sure the records on this page are published and that the zone's nameservers answer; dkimdash's DNS check will show which.".to_owned(),
            action: None,
            notes: Vec::new(),
        },
    }
}

fn unknown_status(status: &str, records: &Records) -> Diagnosis {
    Diagnosis {
        severity: Severity::Info,
        headline: format!("SES reports an unfamiliar DKIM status: {status}"),
        explanation: format!(
            "This version of dkimdash does not know SES's DKIM status {status}. {}",
            dns_sentence(records)
        ),
        next_step: "Look the identity up in the SES console for what SES means by it.".to_owned(),
        action: None,
        notes: Vec::new(),
    }
}

/// A DEED replica that SES could not verify because of its parent: its records are the
/// parent's, so nothing on this page fixes it.
fn replication_failure(identity: &Identity) -> Option<Diagnosis> {
    let Some(SigningOrigin::Replica { parent_region }) = &identity.dkim.origin else {
        return None;
    };
    if identity.dkim.status == DkimStatus::Success {
        return None;
    }
    let code = identity.verification.as_ref()?.error_type.as_deref()?;
    let (headline, cause, fix) = replication_problem(code, parent_region, &identity.region)?;
    Some(Diagnosis {
        severity: if identity.dkim.status == DkimStatus::Failed {
            Severity::Critical
        } else {
            Severity::Warning
        },
        headline,
        explanation: format!(
            "{} is a DEED replica: it signs with the keys of the same domain in {parent_region}, so its records are that identity's. {cause}",
            identity.name
        ),
        next_step: fix,
        action: None,
        notes: Vec::new(),
    })
}

/// Headline, cause and fix for SES's `REPLICATION_*` verification errors (Amazon SES API v2
/// Reference, `VerificationInfo`); `None` for any other code.
fn replication_problem(code: &str, parent: &str, region: &str) -> Option<(String, String, String)> {
    let (headline, cause, fix) = match code {
        "REPLICATION_PRIMARY_NOT_FOUND" => (
            format!("Parent identity missing in {parent}"),
            format!("SES finds no such identity in {parent} (REPLICATION_PRIMARY_NOT_FOUND)."),
            format!(
                "Create the domain identity in {parent} with Easy DKIM and publish its records, or re-create this replica from the region that has it."
            ),
        ),
        "REPLICATION_ACCESS_DENIED" => (
            format!("SES may not copy the parent's key from {parent}"),
            format!(
                "The caller that created the replica lacks the permissions to replicate the DKIM key from {parent} (REPLICATION_ACCESS_DENIED)."
            ),
            format!(
                "Grant the permissions for DEED replication in both {parent} and {region}, then re-create the replica."
            ),
        ),
        "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED" => (
            format!("Parent in {parent} uses BYODKIM, which DEED cannot copy"),
            "DEED replicates Easy DKIM keys only (REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED)."
                .to_owned(),
            format!(
                "Switch the parent in {parent} to Easy DKIM, or give this identity its own Easy DKIM or BYODKIM setup."
            ),
        ),
        "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED" => (
            format!("Parent in {parent} is itself a replica"),
            "SES does not replicate from a replica (REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED)."
                .to_owned(),
            "Re-create this replica from the region of the original, non-replica identity."
                .to_owned(),
        ),
        "REPLICATION_PRIMARY_INVALID_REGION" => (
            format!("{parent} is not a valid parent region"),
            format!(
                "SES rejects {parent} as the parent's region (REPLICATION_PRIMARY_INVALID_REGION)."
            ),
            format!(
                "Re-create the replica from a region where SES is available, other than {region}."
            ),
        ),
        other if other.starts_with("REPLICATION_") => (
            format!("DEED replication from {parent} failed"),
            format!("SES reports {other}."),
            format!("Check the identity in {parent}, then re-create this replica."),
        ),
        _ => return None,
    };
    Some((headline, cause, fix))
}

/// Remarks that hold whatever the main situation: how email addresses sign, signing turned
/// off, records dkimdash could only partly judge, a short key, SES's last verification error.
fn notes(
    identity: &Identity,
    dns: Option<&DnsReport>,
    main: &Diagnosis,
    now: UnixSeconds,
) -> Vec<String> {
    let mut notes = Vec::new();
    let set_up = is_set_up(identity);
    if let Some(domain) = address_domain(identity).filter(|_| set_up) {
        notes.push(format!(
            "{} is an email-address identity: it signs with the DKIM setup of {domain}, so the records shown and any change to them belong to the {domain} identity.",
            identity.name
        ));
    }
    if set_up && !identity.dkim.signing_enabled && main.action != Some(NextAction::TurnSigningOn) {
        notes.push(format!(
            "Signing is turned off: SES sends mail from {} without a DKIM signature, even once verified. Turn it on with Manage DKIM unless that is intended.",
            identity.name
        ));
    }
    for check in dns.map_or(&[][..], |report| &report.records[..]) {
        match check.finding {
            Finding::PresentUnknownKey { .. } => notes.push(format!(
                "{}: {} dkimdash could check only its syntax.",
                check.record.name,
                check.finding.explain()
            )),
            Finding::StaleCache { .. } => notes.push(format!(
                "{}: {}",
                check.record.name,
                check.finding.explain()
            )),
            _ => {}
        }
    }
    if identity.dkim.current_key_length == Some(KeyLength::Rsa1024) {
        notes.push(if identity.dkim.next_key_length == Some(KeyLength::Rsa2048) {
            "The Easy DKIM key in use is 1024-bit; the next key SES generates will be 2048-bit."
                .to_owned()
        } else {
            "The Easy DKIM key in use is 1024-bit. Choose 2048-bit for the next key with Manage DKIM: a longer key is harder to break, and 2048 is SES's default now.".to_owned()
        });
    }
    if let Some(note) = verification_error_note(identity, now) {
        notes.push(note);
    }
    notes
}

/// SES's last verification error in words, unless the identity is verified (an old error
/// no longer matters) or the replica case already explained it.
fn verification_error_note(identity: &Identity, now: UnixSeconds) -> Option<String> {
    if identity.dkim.status == DkimStatus::Success {
        return None;
    }
    let verification = identity.verification.as_ref()?;
    let code = verification.error_type.as_deref()?;
    let replica = matches!(identity.dkim.origin, Some(SigningOrigin::Replica { .. }));
    if replica && code.starts_with("REPLICATION_") {
        return None;
    }
    let when = verification
        .last_checked
        .map(|at| format!(" ({})", ago(now - at)))
        .unwrap_or_default();
    Some(format!(
        "SES's last verification check{when} reported {code}: {}",
        verification_error_words(code)
    ))
}

/// What SES's verification `ErrorType` means for the operator (Amazon SES API v2 Reference,
/// `VerificationInfo`).
fn verification_error_words(code: &str) -> &'static str {
    match code {
        "HOST_NOT_FOUND" => {
            "the record's name did not exist, or could not be reached, when SES looked: publish the records under exactly the names shown."
        }
        "TYPE_NOT_FOUND" => {
            "the name exists but has no record of the type SES asked for: publish the type shown (CNAME or TXT)."
        }
        "INVALID_VALUE" => {
            "SES found the record but not the value it expects: publish the value shown."
        }
        "SERVICE_ERROR" => {
            "a temporary problem inside SES stopped the check; nothing to fix on your side."
        }
        "DNS_SERVER_ERROR" => {
            "the domain's DNS server failed to answer SES: check that every nameserver of the zone responds."
        }
        "REPLICATION_ACCESS_DENIED" => {
            "SES was not permitted to copy the DEED parent's key: grant the replication permissions in both regions."
        }
        "REPLICATION_PRIMARY_NOT_FOUND" => {
            "SES found no parent identity to replicate from in the region named."
        }
        "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED" => {
            "the parent identity uses BYODKIM, and DEED replicates Easy DKIM only."
        }
        "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED" => {
            "the parent identity is itself a replica, and SES does not replicate from replicas."
        }
        "REPLICATION_PRIMARY_INVALID_REGION" => "the parent region given is not valid for SES.",
        _ => "a code this version of dkimdash does not know; see the SES documentation.",
    }
}

/// dkimdash's DNS check, sorted into what the sentences need.
enum Records<'a> {
    /// No report yet, or a report without records.
    NotChecked,
    /// Every record checked, and none has a problem.
    Ok { count: usize },
    /// No problem found, but some records (or all) could not be checked.
    Unchecked {
        unchecked: Vec<&'a RecordCheck>,
        count: usize,
    },
    /// At least one record is missing, wrong or malformed.
    Broken {
        broken: Vec<&'a RecordCheck>,
        count: usize,
    },
}

impl<'a> Records<'a> {
    fn of(report: Option<&'a DnsReport>) -> Self {
        let Some(report) = report.filter(|report| !report.records.is_empty()) else {
            return Self::NotChecked;
        };
        let count = report.records.len();
        let with = |health: DnsHealth| {
            report
                .records
                .iter()
                .filter(|check| check.finding.health() == health)
                .collect()
        };
        match report.health() {
            DnsHealth::Ok => Self::Ok { count },
            DnsHealth::Unchecked => Self::Unchecked {
                unchecked: with(DnsHealth::Unchecked),
                count,
            },
            DnsHealth::Problem => Self::Broken {
                broken: with(DnsHealth::Problem),
                count,
            },
        }
    }
}

/// What dkimdash knows of the records, in one or two sentences.
fn dns_sentence(records: &Records) -> String {
    match records {
        Records::NotChecked => "dkimdash has not checked the DNS records yet.".to_owned(),
        Records::Ok { count } => {
            format!(
                "dkimdash finds {} published as expected.",
                all_records(*count)
            )
        }
        Records::Broken { broken, count } => broken_sentence(broken, *count),
        Records::Unchecked { unchecked, count } if unchecked.len() == *count => format!(
            "dkimdash could not check the DNS records either ({}); it will try again.",
            could_not_check_reasons(unchecked)
        ),
        Records::Unchecked { unchecked, count } => format!(
            "dkimdash could not check {} of the {count} records ({}: {}); the others are published as expected.",
            unchecked.len(),
            names(unchecked),
            could_not_check_reasons(unchecked)
        ),
    }
}

/// "dkimdash finds 2 of the 3 records not as expected: a… (missing), b… (wrong value)."
fn broken_sentence(broken: &[&RecordCheck], count: usize) -> String {
    let which = if count == 1 {
        "the record".to_owned()
    } else {
        format!("{} of the {count} records", broken.len())
    };
    let list: Vec<String> = broken
        .iter()
        .map(|check| format!("{} ({})", check.record.name, check.finding.label()))
        .collect();
    format!(
        "dkimdash finds {which} not as expected: {}.",
        list.join(", ")
    )
}

/// Each broken record and what to do about it, in the checker's own words.
fn fixes(broken: &[&RecordCheck]) -> String {
    let lines: Vec<String> = broken
        .iter()
        .map(|check| format!("{}: {}", check.record.name, check.finding.explain()))
        .collect();
    lines.join(" ")
}

/// "it" for one broken record, "them" for several.
fn them(broken: &[&RecordCheck]) -> &'static str {
    if broken.len() == 1 { "it" } else { "them" }
}

fn names(checks: &[&RecordCheck]) -> String {
    let names: Vec<&str> = checks.iter().map(|c| c.record.name.as_str()).collect();
    names.join(", ")
}

/// The distinct reasons the checker gave for records it could not check.
fn could_not_check_reasons(checks: &[&RecordCheck]) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for check in checks {
        if let Finding::CouldNotCheck { reason } = &check.finding
            && !reasons.contains(&reason.as_str())
        {
            reasons.push(reason);
        }
    }
    reasons.join("; ")
}

/// "the record" or "all 3 records".
fn all_records(count: usize) -> String {
    if count == 1 {
        "the record".to_owned()
    } else {
        format!("all {count} records")
    }
}

fn need_fixing(count: usize) -> String {
    if count == 1 {
        "1 record needs fixing".to_owned()
    } else {
        format!("{count} records need fixing")
    }
}

fn broken_headline(count: usize) -> String {
    if count == 1 {
        "A DKIM record is broken".to_owned()
    } else {
        format!("{count} DKIM records are broken")
    }
}

/// Where one of SES's 72-hour searches stands.
struct Countdown {
    /// Seconds since it began.
    elapsed: UnixSeconds,
    /// Seconds until SES gives up; zero or less once it has.
    left: UnixSeconds,
    /// The start is dkimdash's first sight of the status, which may be later than SES's.
    from_first_sight: bool,
}

impl Countdown {
    fn new(since: UnixSeconds, now: UnixSeconds, from_first_sight: bool) -> Self {
        Self {
            elapsed: (now - since).max(0),
            left: since + PENDING_LIMIT_SECS - now,
            from_first_sight,
        }
    }

    /// Counted from [`pending_since`]: Easy DKIM's key generation when that is the earlier
    /// evidence, else dkimdash's first sight of PENDING.
    fn pending(identity: &Identity, now: UnixSeconds) -> Self {
        let since = pending_since(identity);
        let from_key_generation = identity.dkim.origin == Some(SigningOrigin::EasyDkim)
            && identity.dkim.last_key_generation == Some(since);
        Self::new(since, now, !from_key_generation)
    }

    fn is_over(&self) -> bool {
        self.left <= 0
    }

    fn is_urgent(&self) -> bool {
        self.left < URGENT_SECS
    }

    /// "for 11 hours" (with the caveat when the start is only dkimdash's first sight).
    fn elapsed_words(&self) -> String {
        let caveat = if self.from_first_sight {
            " (counted from when dkimdash first saw this status)"
        } else {
            ""
        };
        format!("for {}{caveat}", hours(self.elapsed))
    }

    /// "61 hours left of SES's 72" or "SES's 72 hours ran out 8 hours ago".
    fn left_words(&self) -> String {
        if self.is_over() {
            format!("SES's 72 hours ran out {}", ago(-self.left))
        } else {
            format!("{} left of SES's 72", hours(self.left))
        }
    }
}

/// " SES last checked 2 hours ago." when SES says, else nothing.
fn last_checked(identity: &Identity, now: UnixSeconds) -> String {
    identity
        .verification
        .as_ref()
        .and_then(|v| v.last_checked)
        .map(|at| format!(" SES last checked {}.", ago(now - at)))
        .unwrap_or_default()
}

/// Whole hours, rounded down so a countdown never promises time that is not there.
fn hours(secs: UnixSeconds) -> String {
    match secs / HOUR {
        ..=0 => "less than an hour".to_owned(),
        1 => "1 hour".to_owned(),
        n => format!("{n} hours"),
    }
}

/// "2 hours ago", "3 days ago".
fn ago(secs: UnixSeconds) -> String {
    const DAY: UnixSeconds = 24 * HOUR;
    match secs {
        ..HOUR => "less than an hour ago".to_owned(),
        _ if secs < 2 * DAY => format!("{} ago", hours(secs)),
        _ => format!("{} days ago", secs / DAY),
    }
}

/// " (the parent identity's, in us-east-1)" for a DEED replica, else nothing.
fn parent_records(identity: &Identity) -> String {
    match &identity.dkim.origin {
        Some(SigningOrigin::Replica { parent_region }) => {
            format!(" (the parent identity's, in {parent_region})")
        }
        _ => String::new(),
    }
}

/// The domain of an email-address identity; `None` for domains.
fn address_domain(identity: &Identity) -> Option<&str> {
    if identity.identity_type != IdentityType::EmailAddress {
        return None;
    }
    identity.name.rsplit_once('@').map(|(_, domain)| domain)
}

fn domain_of(identity: &Identity) -> &str {
    address_domain(identity).unwrap_or(&identity.name)
}

/// BYODKIM's selector: SES reports it as the only token.
fn selector(identity: &Identity) -> &str {
    identity.dkim.tokens.first().map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DkimState, DnsRecord, RecordType, Verification};

    const SEEN: UnixSeconds = 1_000_000;

    fn identity(status: DkimStatus, origin: SigningOrigin) -> Identity {
        let tokens = match origin {
            SigningOrigin::Byodkim => vec!["sel1".to_owned()],
            _ => vec!["tok1".to_owned(), "tok2".to_owned(), "tok3".to_owned()],
        };
        Identity {
            name: "example.com".into(),
            identity_type: IdentityType::Domain,
            region: "eu-west-1".into(),
            account: "prod".into(),
            dkim: DkimState {
                signing_enabled: true,
                status,
                tokens,
                origin: Some(origin),
                current_key_length: Some(KeyLength::Rsa2048),
                next_key_length: Some(KeyLength::Rsa2048),
                ..DkimState::not_started()
            },
            verification: None,
            read_at: SEEN,
            details_read_at: Some(SEEN),
            status_seen_since: SEEN,
        }
    }

    fn easy(status: DkimStatus) -> Identity {
        identity(status, SigningOrigin::EasyDkim)
    }

    fn with_error(mut identity: Identity, code: &str) -> Identity {
        identity.verification = Some(Verification {
            status: Some(identity.dkim.status.clone()),
            verified_for_sending: false,
            error_type: Some(code.to_owned()),
            last_checked: Some(SEEN),
            last_success: None,
        });
        identity
    }

    fn name(token: &str) -> String {
        format!("{token}._domainkey.example.com")
    }

    /// A report on the three Easy DKIM records with these findings, in order.
    fn report(findings: [Finding; 3]) -> DnsReport {
        let records = ["tok1", "tok2", "tok3"]
            .into_iter()
            .zip(findings)
            .map(|(token, finding)| RecordCheck {
                record: DnsRecord {
                    record_type: RecordType::Cname,
                    name: name(token),
                    value: Some(format!("{token}.dkim.amazonses.com")),
                },
                finding,
            })
            .collect();
        DnsReport {
            records,
            checked_at: SEEN,
            fresh_until: SEEN + 300,
        }
    }

    fn all_ok() -> DnsReport {
        report([Finding::Ok, Finding::Ok, Finding::Ok])
    }

    fn one_missing() -> DnsReport {
        report([
            Finding::Ok,
            Finding::Missing { nxdomain: true },
            Finding::Ok,
        ])
    }

    fn unreachable() -> DnsReport {
        let timeout = || Finding::CouldNotCheck {
            reason: "SERVFAIL".into(),
        };
        report([timeout(), timeout(), timeout()])
    }

    fn all_text(d: &Diagnosis) -> String {
        format!(
            "{} {} {} {}",
            d.headline,
            d.explanation,
            d.next_step,
            d.notes.join(" ")
        )
    }

    const H: UnixSeconds = HOUR;

    #[test]
    fn pending_with_every_record_published_counts_down_ses_72_hours() {
        let d = diagnose(&easy(DkimStatus::Pending), Some(&all_ok()), SEEN + 11 * H);
        assert_eq!(d.severity, Severity::Info);
        assert_eq!(d.action, None);
        assert!(d.headline.contains("published"), "{}", d.headline);
        assert!(d.explanation.contains("all 3 records"), "{}", d.explanation);
        assert!(d.explanation.contains("periodically"), "{}", d.explanation);
        assert!(d.explanation.contains("for 11 hours"), "{}", d.explanation);
        assert!(d.explanation.contains("61 hours left"), "{}", d.explanation);
        // No key generation to go by: the count is dkimdash's first sight, and says so.
        assert!(d.explanation.contains("first saw"), "{}", d.explanation);
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn pending_counts_from_easy_dkim_key_generation_when_earlier() {
        let mut pending = easy(DkimStatus::Pending);
        pending.dkim.last_key_generation = Some(SEEN - 30 * H);
        pending.verification = Some(Verification {
            status: Some(DkimStatus::Pending),
            verified_for_sending: false,
            error_type: None,
            last_checked: Some(SEEN - 2 * H),
            last_success: None,
        });
        let d = diagnose(&pending, Some(&all_ok()), SEEN);
        assert!(d.explanation.contains("for 30 hours"), "{}", d.explanation);
        assert!(d.explanation.contains("42 hours left"), "{}", d.explanation);
        assert!(!d.explanation.contains("first saw"), "{}", d.explanation);
        assert!(
            d.explanation.contains("last checked 2 hours ago"),
            "{}",
            d.explanation
        );
    }

    #[test]
    fn pending_with_a_missing_record_names_it_and_how_to_fix_it() {
        let dns = report([
            Finding::Ok,
            Finding::Missing { nxdomain: true },
            Finding::WrongValue {
                found: vec!["old.dkim.amazonses.com".into()],
            },
        ]);
        let d = diagnose(&easy(DkimStatus::Pending), Some(&dns), SEEN + 20 * H);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.action, None);
        assert!(
            d.headline.contains("2 records need fixing"),
            "{}",
            d.headline
        );
        assert!(d.headline.contains("52 hours left"), "{}", d.headline);
        assert!(
            d.explanation
                .contains(&format!("{} (missing)", name("tok2"))),
            "{}",
            d.explanation
        );
        assert!(
            d.explanation
                .contains(&format!("{} (wrong value)", name("tok3"))),
            "{}",
            d.explanation
        );
        assert!(!d.explanation.contains(&name("tok1")), "{}", d.explanation);
        assert!(
            d.next_step
                .contains(&Finding::Missing { nxdomain: true }.explain()),
            "{}",
            d.next_step
        );
        assert!(
            d.next_step.contains("old.dkim.amazonses.com"),
            "{}",
            d.next_step
        );
        assert!(d.next_step.contains("52 hours"), "{}", d.next_step);
    }

    #[test]
    fn pending_with_wrong_records_turns_critical_near_and_past_the_deadline() {
        let pending = easy(DkimStatus::Pending);
        let near = diagnose(&pending, Some(&one_missing()), SEEN + 65 * H);
        assert_eq!(near.severity, Severity::Critical);
        assert!(near.headline.contains("7 hours left"), "{}", near.headline);

        let over = diagnose(&pending, Some(&one_missing()), SEEN + 80 * H);
        assert_eq!(over.severity, Severity::Critical);
        assert!(
            over.headline.contains("72 hours are over"),
            "{}",
            over.headline
        );
        assert!(
            over.explanation.contains("ran out 8 hours ago"),
            "{}",
            over.explanation
        );
        assert!(
            over.next_step.contains("restart verification"),
            "{}",
            over.next_step
        );

        let early = diagnose(&pending, Some(&one_missing()), SEEN + 59 * H);
        assert_eq!(early.severity, Severity::Warning);
    }

    #[test]
    fn pending_past_72_hours_with_records_right_is_a_warning() {
        let d = diagnose(&easy(DkimStatus::Pending), Some(&all_ok()), SEEN + 75 * H);
        assert_eq!(d.severity, Severity::Warning);
        assert!(d.headline.contains("still PENDING"), "{}", d.headline);
        assert!(d.next_step.contains("nameserver"), "{}", d.next_step);
    }

    #[test]
    fn failed_with_dns_right_now_says_restart_verification() {
        let d = diagnose(&easy(DkimStatus::Failed), Some(&all_ok()), SEEN + H);
        assert_eq!(d.severity, Severity::Critical);
        assert_eq!(d.action, Some(NextAction::RestartEasyDkim));
        assert_eq!(
            d.action.as_ref().map(NextAction::ses_operation),
            Some("VerifyDomainDkim")
        );
        assert!(d.headline.contains("stopped looking"), "{}", d.headline);
        assert!(
            d.explanation.contains("not DKIM-signed"),
            "{}",
            d.explanation
        );
        assert!(
            d.next_step
                .starts_with("DNS is right now; restart verification"),
            "{}",
            d.next_step
        );
        assert!(d.next_step.contains("another 72 hours"), "{}", d.next_step);
        assert!(
            d.next_step.contains("records stay the same"),
            "{}",
            d.next_step
        );
    }

    #[test]
    fn failed_with_broken_records_lists_what_to_fix_before_restarting() {
        let d = diagnose(&easy(DkimStatus::Failed), Some(&one_missing()), SEEN + H);
        assert_eq!(d.severity, Severity::Critical);
        assert_eq!(d.action, Some(NextAction::RestartEasyDkim));
        assert!(
            d.explanation
                .contains(&format!("{} (missing)", name("tok2"))),
            "{}",
            d.explanation
        );
        let fix_at = d.next_step.find(&name("tok2")).expect("names the record");
        let restart_at = d
            .next_step
            .find("Then restart verification")
            .expect("restart comes after the fix");
        assert!(fix_at < restart_at, "{}", d.next_step);
        assert!(!d.next_step.contains("DNS is right now"), "{}", d.next_step);
    }

    #[test]
    fn failed_byodkim_asks_for_the_key_again() {
        let d = diagnose(
            &identity(DkimStatus::Failed, SigningOrigin::Byodkim),
            None,
            SEEN + H,
        );
        assert_eq!(
            d.action,
            Some(NextAction::RestartByodkim {
                selector: "sel1".into()
            })
        );
        assert!(d.next_step.contains("sel1"), "{}", d.next_step);
        assert!(d.next_step.contains("private key again"), "{}", d.next_step);
        assert!(d.explanation.contains("not checked"), "{}", d.explanation);
    }

    #[test]
    fn temporary_failure_with_records_right_points_at_transient_causes() {
        let d = diagnose(
            &easy(DkimStatus::TemporaryFailure),
            Some(&all_ok()),
            SEEN + 10 * H,
        );
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.action, None);
        assert!(d.explanation.contains("transient"), "{}", d.explanation);
        assert!(d.explanation.contains("nameservers"), "{}", d.explanation);
        assert!(d.explanation.contains("62 hours left"), "{}", d.explanation);
    }

    #[test]
    fn temporary_failure_with_broken_records_is_critical_and_names_them() {
        let d = diagnose(
            &easy(DkimStatus::TemporaryFailure),
            Some(&one_missing()),
            SEEN + 10 * H,
        );
        assert_eq!(d.severity, Severity::Critical);
        assert!(
            d.headline.contains("1 record needs fixing"),
            "{}",
            d.headline
        );
        assert!(
            d.explanation
                .contains(&format!("{} (missing)", name("tok2"))),
            "{}",
            d.explanation
        );
        assert!(d.next_step.contains(&name("tok2")), "{}", d.next_step);
    }

    #[test]
    fn temporary_failure_when_dkimdash_cannot_check_either_points_at_the_nameservers() {
        let d = diagnose(
            &easy(DkimStatus::TemporaryFailure),
            Some(&unreachable()),
            SEEN + H,
        );
        assert_eq!(d.severity, Severity::Warning);
        assert!(d.headline.contains("nameservers"), "{}", d.headline);
        assert!(d.explanation.contains("SERVFAIL"), "{}", d.explanation);
        assert!(
            d.next_step.contains("nameservers of example.com"),
            "{}",
            d.next_step
        );
        assert!(!all_text(&d).contains("missing"), "{}", all_text(&d));
    }

    #[test]
    fn success_with_a_broken_record_warns_that_signing_will_stop() {
        let d = diagnose(&easy(DkimStatus::Success), Some(&one_missing()), SEEN);
        assert_eq!(d.severity, Severity::Critical);
        assert!(d.headline.contains("will stop signing"), "{}", d.headline);
        assert!(
            d.explanation
                .contains(&format!("{} (missing)", name("tok2"))),
            "{}",
            d.explanation
        );
        assert!(d.explanation.contains("revokes DKIM"), "{}", d.explanation);
        assert!(d.next_step.contains(&name("tok2")), "{}", d.next_step);
    }

    #[test]
    fn success_with_records_in_place_is_good() {
        let d = diagnose(&easy(DkimStatus::Success), Some(&all_ok()), SEEN);
        assert_eq!(d.severity, Severity::Good);
        assert_eq!(d.action, None);
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn without_a_dns_check_ses_state_alone_decides() {
        let verified = diagnose(&easy(DkimStatus::Success), None, SEEN);
        assert_eq!(verified.severity, Severity::Good);
        assert!(
            verified.explanation.contains("not checked"),
            "{}",
            verified.explanation
        );

        let empty = DnsReport {
            records: Vec::new(),
            checked_at: SEEN,
            fresh_until: SEEN,
        };
        let pending = diagnose(&easy(DkimStatus::Pending), Some(&empty), SEEN + H);
        assert_eq!(pending.severity, Severity::Info);
        assert!(
            pending.headline.contains("71 hours left"),
            "{}",
            pending.headline
        );
    }

    #[test]
    fn a_check_that_could_not_run_is_never_called_a_failure() {
        let pending = diagnose(&easy(DkimStatus::Pending), Some(&unreachable()), SEEN + H);
        assert_eq!(pending.severity, Severity::Info);
        assert!(
            pending.explanation.contains("could not check"),
            "{}",
            pending.explanation
        );
        assert!(
            pending.explanation.contains("SERVFAIL"),
            "{}",
            pending.explanation
        );
        assert!(!pending.headline.contains("fixing"), "{}", pending.headline);

        let partly = report([
            Finding::Ok,
            Finding::CouldNotCheck {
                reason: "timeout".into(),
            },
            Finding::Ok,
        ]);
        let verified = diagnose(&easy(DkimStatus::Success), Some(&partly), SEEN);
        assert_eq!(verified.severity, Severity::Good);
        assert!(
            verified.explanation.contains("could not check 1 of the 3"),
            "{}",
            verified.explanation
        );
        assert!(
            verified.explanation.contains(&name("tok2")),
            "{}",
            verified.explanation
        );
    }

    #[test]
    fn a_stale_cache_is_not_a_problem_and_says_when_it_clears() {
        let dns = report([
            Finding::Ok,
            Finding::StaleCache {
                recursive: vec![],
                authoritative: vec!["tok2.dkim.amazonses.com".into()],
                ttl: 300,
            },
            Finding::Ok,
        ]);
        let d = diagnose(&easy(DkimStatus::Pending), Some(&dns), SEEN + H);
        assert_eq!(d.severity, Severity::Info);
        assert!(d.headline.contains("published"), "{}", d.headline);
        assert_eq!(d.notes.len(), 1, "{:?}", d.notes);
        assert!(d.notes[0].contains(&name("tok2")), "{}", d.notes[0]);
        assert!(d.notes[0].contains("5 minutes"), "{}", d.notes[0]);
    }

    #[test]
    fn not_started_offers_to_set_dkim_up() {
        let mut bare = easy(DkimStatus::NotStarted);
        bare.dkim = DkimState::not_started();
        let d = diagnose(&bare, None, SEEN);
        assert_eq!(d.severity, Severity::Info);
        assert_eq!(d.action, Some(NextAction::SetUpDkim));
        assert!(d.explanation.contains("eu-west-1"), "{}", d.explanation);
        assert!(d.next_step.contains("Manage DKIM"), "{}", d.next_step);
        // Signing being off is implied; no note repeats it and no other button is offered.
        assert!(d.notes.is_empty(), "{:?}", d.notes);

        bare.verification = Some(Verification {
            status: Some(DkimStatus::Success),
            verified_for_sending: true,
            error_type: None,
            last_checked: None,
            last_success: None,
        });
        let sending = diagnose(&bare, None, SEEN);
        assert_eq!(sending.severity, Severity::Warning);
        assert!(
            sending.explanation.contains("without a DKIM signature"),
            "{}",
            sending.explanation
        );
    }

    #[test]
    fn email_addresses_point_at_their_domain() {
        let mut address = easy(DkimStatus::NotStarted);
        address.name = "ops@mail.example.com".into();
        address.identity_type = IdentityType::EmailAddress;
        address.dkim = DkimState::not_started();
        let none = diagnose(&address, None, SEEN);
        assert_eq!(none.action, None);
        assert!(
            none.headline.contains("mail.example.com"),
            "{}",
            none.headline
        );
        assert!(
            none.next_step.contains("mail.example.com domain identity"),
            "{}",
            none.next_step
        );

        address.dkim = easy(DkimStatus::Failed).dkim;
        let failed = diagnose(&address, None, SEEN);
        assert_eq!(failed.action, None);
        assert!(
            failed
                .next_step
                .contains("mail.example.com domain identity"),
            "{}",
            failed.next_step
        );
        assert!(
            failed
                .notes
                .iter()
                .any(|n| n.contains("email-address identity")),
            "{:?}",
            failed.notes
        );
    }

    #[test]
    fn signing_off_is_noted_and_offered_as_the_action() {
        let mut off = easy(DkimStatus::Pending);
        off.dkim.signing_enabled = false;
        let pending = diagnose(&off, Some(&all_ok()), SEEN + H);
        assert_eq!(pending.action, Some(NextAction::TurnSigningOn));
        assert!(
            pending
                .notes
                .iter()
                .any(|n| n.contains("without a DKIM signature")),
            "{:?}",
            pending.notes
        );

        off.dkim.status = DkimStatus::Success;
        let verified = diagnose(&off, Some(&all_ok()), SEEN);
        assert_eq!(verified.severity, Severity::Warning);
        assert_eq!(verified.action, Some(NextAction::TurnSigningOn));
        assert!(
            verified.headline.contains("signing is turned off"),
            "{}",
            verified.headline
        );
        assert!(verified.notes.is_empty(), "{:?}", verified.notes);

        // A restart matters more than the switch; the note still says it.
        off.dkim.status = DkimStatus::Failed;
        let failed = diagnose(&off, Some(&all_ok()), SEEN);
        assert_eq!(failed.action, Some(NextAction::RestartEasyDkim));
        assert!(
            failed
                .notes
                .iter()
                .any(|n| n.contains("Signing is turned off")),
            "{:?}",
            failed.notes
        );
    }

    #[test]
    fn a_byodkim_key_unknown_to_dkimdash_is_noted_not_counted_as_a_problem() {
        let byodkim = identity(DkimStatus::Pending, SigningOrigin::Byodkim);
        let dns = DnsReport {
            records: vec![RecordCheck {
                record: DnsRecord {
                    record_type: RecordType::Txt,
                    name: "sel1._domainkey.example.com".into(),
                    value: None,
                },
                finding: Finding::PresentUnknownKey {
                    found: "v=DKIM1; k=rsa; p=MIIB".into(),
                },
            }],
            checked_at: SEEN,
            fresh_until: SEEN,
        };
        let d = diagnose(&byodkim, Some(&dns), SEEN + H);
        assert_eq!(d.severity, Severity::Info);
        assert!(
            d.explanation.contains("the record published"),
            "{}",
            d.explanation
        );
        assert_eq!(d.notes.len(), 1, "{:?}", d.notes);
        assert!(
            d.notes[0].contains("sel1._domainkey.example.com"),
            "{}",
            d.notes[0]
        );
        assert!(d.notes[0].contains("only its syntax"), "{}", d.notes[0]);
    }

    #[test]
    fn a_1024_bit_key_suggests_2048_unless_already_scheduled() {
        let mut short = easy(DkimStatus::Success);
        short.dkim.current_key_length = Some(KeyLength::Rsa1024);
        short.dkim.next_key_length = Some(KeyLength::Rsa1024);
        let d = diagnose(&short, Some(&all_ok()), SEEN);
        assert_eq!(d.severity, Severity::Good);
        assert_eq!(d.notes.len(), 1, "{:?}", d.notes);
        assert!(d.notes[0].contains("1024-bit"), "{}", d.notes[0]);
        assert!(d.notes[0].contains("Choose 2048-bit"), "{}", d.notes[0]);

        short.dkim.next_key_length = Some(KeyLength::Rsa2048);
        let scheduled = diagnose(&short, Some(&all_ok()), SEEN);
        assert!(
            scheduled.notes[0].contains("next key SES generates will be 2048-bit"),
            "{}",
            scheduled.notes[0]
        );
    }

    #[test]
    fn ses_verification_errors_are_translated() {
        let pending = with_error(easy(DkimStatus::Pending), "HOST_NOT_FOUND");
        let d = diagnose(&pending, None, SEEN + 3 * H);
        let note = d
            .notes
            .iter()
            .find(|n| n.contains("HOST_NOT_FOUND"))
            .expect("a note on the error");
        assert!(note.contains("names shown"), "{note}");
        assert!(note.contains("3 hours ago"), "{note}");

        let codes = [
            "HOST_NOT_FOUND",
            "TYPE_NOT_FOUND",
            "INVALID_VALUE",
            "SERVICE_ERROR",
            "DNS_SERVER_ERROR",
            "REPLICATION_ACCESS_DENIED",
            "REPLICATION_PRIMARY_NOT_FOUND",
            "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED",
            "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED",
            "REPLICATION_PRIMARY_INVALID_REGION",
        ];
        let unknown = verification_error_words("SOMETHING_NEW");
        let mut seen = std::collections::HashSet::new();
        for code in codes {
            let words = verification_error_words(code);
            assert_ne!(words, unknown, "{code} has its own words");
            assert!(seen.insert(words), "{code} repeats another code's words");
        }

        // Once verified, an old error no longer matters.
        let verified = with_error(easy(DkimStatus::Success), "HOST_NOT_FOUND");
        assert!(diagnose(&verified, Some(&all_ok()), SEEN).notes.is_empty());
    }

    #[test]
    fn a_replica_whose_parent_is_missing_says_so() {
        let replica = with_error(
            identity(
                DkimStatus::Failed,
                SigningOrigin::Replica {
                    parent_region: "us-east-1".into(),
                },
            ),
            "REPLICATION_PRIMARY_NOT_FOUND",
        );
        let d = diagnose(&replica, Some(&all_ok()), SEEN);
        assert_eq!(d.severity, Severity::Critical);
        assert_eq!(d.action, None);
        assert!(
            d.headline.contains("Parent identity missing in us-east-1"),
            "{}",
            d.headline
        );
        assert!(d.explanation.contains("DEED replica"), "{}", d.explanation);
        assert!(d.next_step.contains("us-east-1"), "{}", d.next_step);
        // The main text explains the code; no note repeats it.
        assert!(d.notes.is_empty(), "{:?}", d.notes);

        for code in [
            "REPLICATION_ACCESS_DENIED",
            "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED",
            "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED",
            "REPLICATION_PRIMARY_INVALID_REGION",
            "REPLICATION_SOMETHING_NEW",
        ] {
            let other = with_error(replica.clone(), code);
            let d = diagnose(&other, None, SEEN);
            assert!(
                all_text(&d).contains("us-east-1"),
                "{code}: {}",
                all_text(&d)
            );
            assert_eq!(d.action, None, "{code}");
        }
    }

    #[test]
    fn a_replica_pending_says_its_records_are_the_parents() {
        let replica = identity(
            DkimStatus::Pending,
            SigningOrigin::Replica {
                parent_region: "us-east-1".into(),
            },
        );
        let d = diagnose(&replica, Some(&all_ok()), SEEN + H);
        assert_eq!(d.severity, Severity::Info);
        assert!(
            d.explanation.contains("parent identity's, in us-east-1"),
            "{}",
            d.explanation
        );
        let failed = diagnose(
            &identity(
                DkimStatus::Failed,
                SigningOrigin::Replica {
                    parent_region: "us-east-1".into(),
                },
            ),
            Some(&all_ok()),
            SEEN,
        );
        assert_eq!(failed.action, None);
        assert!(
            failed.next_step.contains("us-east-1"),
            "{}",
            failed.next_step
        );
    }

    #[test]
    fn an_unknown_status_is_shown_as_is() {
        let d = diagnose(
            &easy(DkimStatus::Unknown("SOMETHING_NEW".into())),
            Some(&all_ok()),
            SEEN,
        );
        assert_eq!(d.severity, Severity::Info);
        assert!(d.headline.contains("SOMETHING_NEW"), "{}", d.headline);
        assert!(d.explanation.contains("all 3 records"), "{}", d.explanation);
    }

    #[test]
    fn a_diagnosis_survives_the_trip_to_the_browser() {
        let d = diagnose(
            &identity(DkimStatus::Failed, SigningOrigin::Byodkim),
            None,
            SEEN,
        );
        let json = serde_json::to_string(&d).expect("serializes");
        let back: Diagnosis = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, d);
        assert!(Severity::Critical > Severity::Warning && Severity::Info > Severity::Good);
    }
}
