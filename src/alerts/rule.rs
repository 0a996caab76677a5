//! The alert rules by name and severity (pure): the `alertname` and `severity` labels,
//! shared by the rules' evaluation, the alerts file's receiver routes and the metrics.

use serde::Deserialize;

/// What an alert is about; its name is the `alertname` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// DKIM status FAILED.
    DkimFailed,
    /// TEMPORARY_FAILURE for several reads in a row.
    DkimTemporaryFailure,
    /// PENDING for too long.
    DkimPendingTooLong,
    /// Signing turned off on a domain set up for DKIM.
    DkimSigningOff,
    /// SUCCESS at SES, but the DNS records no longer check out.
    DkimDnsRecordBroken,
    /// The signing key is old.
    DkimKeyOld,
    /// The signing key is 1024-bit.
    DkimWeakKey,
    /// A target could not be read for too long.
    SesTargetUnreadable,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 8] = [
        Rule::DkimFailed,
        Rule::DkimTemporaryFailure,
        Rule::DkimPendingTooLong,
        Rule::DkimSigningOff,
        Rule::DkimDnsRecordBroken,
        Rule::DkimKeyOld,
        Rule::DkimWeakKey,
        Rule::SesTargetUnreadable,
    ];

    /// The `alertname` label.
    pub fn name(self) -> &'static str {
        match self {
            Self::DkimFailed => "DkimFailed",
            Self::DkimTemporaryFailure => "DkimTemporaryFailure",
            Self::DkimPendingTooLong => "DkimPendingTooLong",
            Self::DkimSigningOff => "DkimSigningOff",
            Self::DkimDnsRecordBroken => "DkimDnsRecordBroken",
            Self::DkimKeyOld => "DkimKeyOld",
            Self::DkimWeakKey => "DkimWeakKey",
            Self::SesTargetUnreadable => "SesTargetUnreadable",
        }
    }

    /// The `severity` label: mail goes unsigned (critical), may soon (warning), or a
    /// reminder (info).
    pub fn severity(self) -> &'static str {
        self.level().as_str()
    }

    /// How severe its alerts are.
    pub fn level(self) -> Severity {
        match self {
            Self::DkimFailed | Self::DkimDnsRecordBroken => Severity::Critical,
            Self::DkimTemporaryFailure
            | Self::DkimPendingTooLong
            | Self::DkimSigningOff
            | Self::SesTargetUnreadable => Severity::Warning,
            Self::DkimKeyOld | Self::DkimWeakKey => Severity::Info,
        }
    }

    /// The rule named `name` (an `alertname`).
    pub fn named(name: &str) -> Option<Rule> {
        Self::ALL.into_iter().find(|rule| rule.name() == name)
    }
}

/// How severe an alert is, least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A reminder.
    Info,
    /// Mail may soon go unsigned.
    Warning,
    /// Mail goes unsigned.
    Critical,
}

impl Severity {
    /// The `severity` label's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The severity a `severity` label names.
    pub fn from_label(label: &str) -> Option<Severity> {
        [Self::Info, Self::Warning, Self::Critical]
            .into_iter()
            .find(|s| s.as_str() == label)
    }
}
