//! (shared) One row of the audit log as pages show it.

use serde::{Deserialize, Serialize};

/// How a recorded change ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditOutcome {
    /// Sent to SES; the answer was never recorded (the server stopped, or the log failed).
    Pending,
    /// SES made the change.
    Done,
    /// SES refused it, or did not answer.
    Refused,
    /// SES's answer was lost (dkimdash stopped before recording it); at the next start
    /// dkimdash read the identity again and recorded what SES reported then.
    Unknown,
}

impl AuditOutcome {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
        }
    }

    /// The stored form back; unknown text reads as pending (not known to be done).
    pub fn parse(text: &str) -> Self {
        match text {
            "done" => Self::Done,
            "refused" => Self::Refused,
            "unknown" => Self::Unknown,
            _ => Self::Pending,
        }
    }
}

/// A change as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its number in the log.
    pub id: i64,
    /// When SES was asked (unix seconds).
    pub at: i64,
    /// Who asked.
    pub user_name: String,
    /// Their email, when the proxy sent it.
    pub user_email: Option<String>,
    /// Where: account label and region.
    pub account: String,
    /// The AWS region.
    pub region: String,
    /// The identity changed.
    pub identity: String,
    /// What was asked, in words.
    pub action: String,
    /// Signing before the change.
    pub before_signing: String,
    /// Signing after it, as SES reported it.
    pub after_signing: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// SES's answer in words.
    pub answer: Option<String>,
}
