//! Why a change was not made (or may not have been): one variant per kind of failure, with
//! what an operator needs to act on it. The words are written once, in `Display`; the
//! browser gets them as an [`AppError`] whose status follows from the variant.

use std::fmt;

use crate::app_error::{AppError, Field};
use crate::change_answer::UNSIGNED_WHILE_PENDING;
use crate::model::DkimStatus;
use crate::publish::error::ProviderError;
use crate::ses::error::Error as SesError;

/// A change's failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeError {
    /// A field of the request is wrong; the message names it and says what would be right.
    Invalid {
        /// Which field.
        field: Field,
        /// What is wrong with it, starting with the field's label.
        message: String,
    },
    /// A change that can leave mail unsigned was sent without its confirmation.
    NotConfirmed(Unconfirmed),
    /// The identity cannot be changed here: an email address, or a DEED replica.
    NotOwnDomain {
        /// The identity.
        name: String,
        /// Where it takes its DKIM from instead.
        takes_dkim_from: DkimSource,
    },
    /// The identity is not in the inventory.
    NotFound {
        /// The identity asked for.
        name: String,
        /// Where it was looked for.
        region: String,
    },
    /// The name exists in several accounts and the request named none.
    InSeveralAccounts {
        /// The identity asked for.
        name: String,
        /// Where it was looked for.
        region: String,
        /// The accounts that have it.
        accounts: Vec<String>,
    },
    /// The dashboard has no connection to this account and region.
    NotManaged {
        /// The account asked for.
        account: String,
        /// The region asked for.
        region: String,
    },
    /// SES answered the call with an error.
    Ses {
        /// SES's answer.
        error: SesError,
        /// The identity the call was about.
        name: String,
        /// Its region.
        region: String,
        /// The SES API action, for the IAM permission an access denial names.
        action: &'static str,
    },
    /// The audit log could not record the change, so it was not sent to SES.
    AuditUnavailable {
        /// Where the log is (a path or a URL without credentials).
        place: String,
    },
    /// SES answered, but the audit log could not record the answer.
    AnswerUnrecorded {
        /// What SES's answer meant for the operator.
        answer: String,
        /// The entry that stays pending.
        entry: i64,
    },
    /// SES made the change, but reading the identity again failed.
    MadeButNotReread {
        /// What the change did.
        message: String,
        /// Why the read failed.
        error: String,
    },
    /// The change's task stopped before SES's answer was recorded.
    Interrupted,
    /// The DNS provider refused or failed: nothing was written, or (Cloudflare, which has
    /// no batches) what the error lists.
    Provider(ProviderError),
    /// No configured DNS provider holds the identity's zone; each provider's reason.
    NoDnsProvider {
        /// The identity.
        name: String,
        /// `provider: reason`, for providers that could not be asked or refused the zone.
        reasons: Vec<String>,
    },
    /// The identity has no record whose value is known.
    NothingToPublish(String),
    /// Restarting SES's verification would not help now.
    NotRestartable {
        /// The identity.
        name: String,
        /// What stands in the way.
        why: NotRestartable,
    },
}

/// Why SES's DKIM verification is not restarted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRestartable {
    /// SES has not given up: it is still looking, has found the records, or has not begun.
    NotFailed(DkimStatus),
    /// BYODKIM begins again when SES is given the key again, under this selector.
    Byodkim {
        /// The selector SES signs with.
        selector: String,
    },
    /// The identity has no Easy DKIM set up (or its details are not read yet).
    NoEasyDkim,
    /// The DNS check finds a record missing or wrong.
    RecordsWrong,
    /// The DNS check could not finish.
    RecordsUnchecked,
    /// The dashboard runs without DNS checks, so it cannot tell the records are right.
    DnsChecksOff,
}

/// Which confirmation is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unconfirmed {
    /// A switch of signing mode (or a new BYODKIM key).
    ModeSwitch,
    /// Turning signing off for the identity named.
    SigningOff(String),
    /// Replacing the values a DNS provider holds at a name.
    Replacement {
        /// The record's name.
        name: String,
        /// The values that would be removed.
        old: String,
    },
}

/// Where an identity that cannot be changed takes its DKIM from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DkimSource {
    /// An email address signs with its domain's DKIM.
    ItsDomain,
    /// A DEED replica signs with its parent's keys in this region.
    Parent(String),
}

impl ChangeError {
    /// A refusal of `field`, in `message` (which starts with the field's label).
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { message, .. } => f.write_str(message),
            Self::NotConfirmed(Unconfirmed::ModeSwitch) => {
                write!(f, "Confirm the change first: {UNSIGNED_WHILE_PENDING}")
            }
            Self::NotConfirmed(Unconfirmed::SigningOff(name)) => write!(
                f,
                "Confirm first: with signing off, mail from {name} goes out without a DKIM signature."
            ),
            Self::NotConfirmed(Unconfirmed::Replacement { name, old }) => write!(
                f,
                "Confirm first that {old} at {name} may be replaced: whatever relies on it stops working."
            ),
            Self::NotOwnDomain {
                name,
                takes_dkim_from: DkimSource::ItsDomain,
            } => write!(
                f,
                "{name} is an email address: it signs with its domain's DKIM. Change the domain's identity instead."
            ),
            Self::NotOwnDomain {
                name,
                takes_dkim_from: DkimSource::Parent(parent_region),
            } => write!(
                f,
                "{name} is a DEED replica: it signs with the keys of {name} in {parent_region}. Change the parent instead."
            ),
            Self::NotFound { name, region } => write!(
                f,
                "{name} is not in {region} in the inventory (deleted meanwhile?)."
            ),
            Self::InSeveralAccounts {
                name,
                region,
                accounts,
            } => write!(
                f,
                "{name} exists in {region} in several accounts ({}); open it from the table to pick one.",
                accounts.join(", ")
            ),
            Self::NotManaged { account, region } => write!(
                f,
                "The dashboard does not manage {account}/{region}; choose one of its configured accounts and regions."
            ),
            Self::Ses {
                error,
                name,
                region,
                action,
            } => explain_ses(f, error, name, region, action),
            Self::AuditUnavailable { place } => write!(
                f,
                "The change was not sent to SES: the audit log could not record it ({place}). Nothing was changed."
            ),
            Self::AnswerUnrecorded { answer, entry } => write!(
                f,
                "{answer} (The audit log could not record SES's answer, so entry {entry} stays 'pending'; tell whoever runs dkimdash.)"
            ),
            Self::MadeButNotReread { message, error } => write!(
                f,
                "{message} (Re-reading it from SES failed: {error}; the next sweep will show it.)"
            ),
            Self::Interrupted => f.write_str(
                "The change stopped before SES's answer was recorded; the Activity page shows what was recorded.",
            ),
            Self::Provider(error) => write!(f, "{error}"),
            Self::NoDnsProvider { name, reasons } if reasons.is_empty() => write!(
                f,
                "No configured DNS provider holds the zone of {name}: add the account that does to --dns-providers-file, or publish the records by hand."
            ),
            Self::NoDnsProvider { name, reasons } => write!(
                f,
                "No configured DNS provider could take the records of {name}: {}.",
                reasons.join("; ")
            ),
            Self::NothingToPublish(why) => f.write_str(why),
            Self::NotRestartable { name, why } => explain_not_restartable(f, name, why),
        }
    }
}

impl std::error::Error for ChangeError {}

/// Why a restart is refused, and what to do instead.
fn explain_not_restartable(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    why: &NotRestartable,
) -> fmt::Result {
    match why {
        NotRestartable::NotFailed(DkimStatus::Pending) => write!(
            f,
            "SES is still looking for the records of {name} (PENDING): nothing to restart."
        ),
        NotRestartable::NotFailed(DkimStatus::TemporaryFailure) => write!(
            f,
            "SES could not check {name} for a while (TEMPORARY_FAILURE) and keeps trying by itself: nothing to restart."
        ),
        NotRestartable::NotFailed(status) => write!(
            f,
            "{name} is {status}, not FAILED: only a verification SES gave up on is restarted."
        ),
        NotRestartable::Byodkim { selector } => write!(
            f,
            "{name} uses BYODKIM: SES looks for its record again when it is given the key again. Use the BYODKIM form with selector {selector} and the same private key."
        ),
        NotRestartable::NoEasyDkim => write!(
            f,
            "{name} has no Easy DKIM set up: set up DKIM with the signing form instead."
        ),
        NotRestartable::RecordsWrong => write!(
            f,
            "The DNS check does not find every record of {name} right: publish them first (the DNS card says which), or SES fails again in 72 hours."
        ),
        NotRestartable::RecordsUnchecked => write!(
            f,
            "The DNS check of {name} could not finish, so it cannot tell the records are right: check DNS again, then restart."
        ),
        NotRestartable::DnsChecksOff => write!(
            f,
            "DNS checks are off (--no-dns-checks), so dkimdash cannot tell the records of {name} are right: turn them on to restart from here."
        ),
    }
}

/// SES's refusal in words an operator can act on.
fn explain_ses(
    f: &mut fmt::Formatter<'_>,
    error: &SesError,
    name: &str,
    region: &str,
    action: &str,
) -> fmt::Result {
    match error {
        SesError::BadRequest(text) => write!(f, "SES refused the change: {text}"),
        SesError::NotFound(_) => write!(
            f,
            "SES no longer has {name} in {region}: it was deleted meanwhile. Nothing was changed."
        ),
        SesError::TooManyRequests => f.write_str(
            "SES is busy (still throttling after several retries); try again in a minute. Nothing was changed.",
        ),
        SesError::AlreadyExists(_) => write!(f, "{name} already exists in {region}."),
        SesError::AccessDenied(text) => write!(
            f,
            "SES denied access: the dashboard's AWS identity needs the IAM permission ses:{action} ({text})."
        ),
        SesError::Unavailable(text) => write!(
            f,
            "SES did not answer ({text}). The change may not have been made; reload the identity to see what SES reports."
        ),
        SesError::Other(text) => write!(f, "SES error: {text}"),
    }
}

/// The browser's view of a change's failure: the same words, with the status its kind has.
impl From<ChangeError> for AppError {
    fn from(error: ChangeError) -> Self {
        let message = error.to_string();
        match error {
            ChangeError::Invalid { field, .. } => AppError::invalid(field, message),
            ChangeError::NotConfirmed(_) => AppError::invalid(Field::Confirm, message),
            ChangeError::NotOwnDomain { .. } => AppError::invalid(Field::Identity, message),
            ChangeError::NotManaged { .. } => AppError::invalid(Field::Target, message),
            ChangeError::NotFound { .. } => AppError::NotFound(message),
            ChangeError::InSeveralAccounts { .. } => AppError::Conflict(message),
            ChangeError::Ses { error, .. } => match error {
                SesError::BadRequest(_) => AppError::Invalid {
                    field: None,
                    message,
                },
                SesError::NotFound(_) => AppError::NotFound(message),
                SesError::AlreadyExists(_) => AppError::Conflict(message),
                SesError::TooManyRequests | SesError::Unavailable(_) => {
                    AppError::Unavailable(message)
                }
                SesError::AccessDenied(_) | SesError::Other(_) => AppError::BadGateway(message),
            },
            ChangeError::AuditUnavailable { .. } => AppError::Unavailable(message),
            ChangeError::MadeButNotReread { .. } => AppError::BadGateway(message),
            ChangeError::AnswerUnrecorded { .. } | ChangeError::Interrupted => {
                AppError::Internal(message)
            }
            ChangeError::Provider(error) => match error {
                ProviderError::ChangedSincePreview(_) => AppError::Conflict(message),
                ProviderError::NoZone(_) => AppError::Invalid {
                    field: None,
                    message,
                },
                ProviderError::Throttled(_) | ProviderError::Unreachable { .. } => {
                    AppError::Unavailable(message)
                }
                ProviderError::Denied { .. }
                | ProviderError::PartlyApplied { .. }
                | ProviderError::Refused { .. } => AppError::BadGateway(message),
            },
            ChangeError::NoDnsProvider { .. }
            | ChangeError::NothingToPublish(_)
            | ChangeError::NotRestartable { .. } => AppError::Invalid {
                field: None,
                message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ses(error: SesError) -> ChangeError {
        ChangeError::Ses {
            error,
            name: "a.example".into(),
            region: "eu-west-1".into(),
            action: "PutEmailIdentityDkimAttributes",
        }
    }

    #[test]
    fn each_failure_reaches_the_browser_with_the_status_of_its_kind() {
        let cases = [
            (ChangeError::invalid(Field::Selector, "Selector: no"), 422),
            (ChangeError::NotConfirmed(Unconfirmed::ModeSwitch), 422),
            (
                ChangeError::NotManaged {
                    account: "a".into(),
                    region: "r".into(),
                },
                422,
            ),
            (
                ChangeError::NotFound {
                    name: "a.example".into(),
                    region: "r".into(),
                },
                404,
            ),
            (
                ChangeError::InSeveralAccounts {
                    name: "a.example".into(),
                    region: "r".into(),
                    accounts: vec!["1".into(), "2".into()],
                },
                409,
            ),
            (ses(SesError::BadRequest("no".into())), 422),
            (ses(SesError::NotFound("gone".into())), 404),
            (ses(SesError::AlreadyExists("x".into())), 409),
            (ses(SesError::TooManyRequests), 503),
            (ses(SesError::Unavailable("timeout".into())), 503),
            (ses(SesError::AccessDenied("no role".into())), 502),
            (
                ChangeError::AuditUnavailable {
                    place: "audit.db".into(),
                },
                503,
            ),
            (ChangeError::Interrupted, 500),
        ];
        for (error, status) in cases {
            let words = error.to_string();
            let answer = AppError::from(error.clone());
            assert_eq!(answer.status().as_u16(), status, "{error:?}");
            assert_eq!(
                answer.to_string(),
                words,
                "the same words reach the browser"
            );
        }
    }

    #[test]
    fn an_access_denial_names_the_permission_to_grant() {
        let words = ses(SesError::AccessDenied("no role".into())).to_string();
        assert!(
            words.contains("ses:PutEmailIdentityDkimAttributes (no role)"),
            "{words}"
        );
    }
}
