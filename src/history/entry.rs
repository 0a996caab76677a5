//! (shared) One change of an identity as its page shows it.

use serde::{Deserialize, Serialize};

use crate::model::UnixSeconds;

/// A field of an identity that changed between two reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the sweep saw it.
    pub at: UnixSeconds,
    /// What changed: `dkim_status`, `verification`, `signing`, `origin`, `key_length`,
    /// `tokens`, `dns` (what the DNS check found), or `identity` (appeared, disappeared).
    pub field: String,
    /// The value before; `None` when the identity appeared.
    pub before: Option<String>,
    /// The value after; `None` when the identity disappeared.
    pub after: Option<String>,
    /// The audit entry of the change made through dkimdash that caused it, if one did.
    pub change_id: Option<i64>,
}

impl HistoryEntry {
    /// The field in words.
    pub fn field_label(&self) -> &str {
        match self.field.as_str() {
            "dkim_status" => "DKIM status",
            "verification" => "Verification",
            "signing" => "DKIM signing",
            "origin" => "Origin",
            "key_length" => "Key length",
            "tokens" => "Tokens or selector",
            "dns" => "DNS check",
            "identity" => "Identity",
            other => other,
        }
    }
}

/// Identities per DKIM status on one day (UTC), summed over every target read that day,
/// as the day's last read saw them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounts {
    /// The day's 00:00 UTC.
    pub day: UnixSeconds,
    /// SES's five statuses in a fixed order (zeros included), then any others.
    pub counts: Vec<(crate::model::DkimStatus, usize)>,
}

/// Days of daily counts the overview carries for its chart, today included.
pub const CHART_DAYS: i64 = 30;

/// Seconds in a day.
pub const DAY_SECS: UnixSeconds = 24 * 60 * 60;

/// 00:00 UTC of the day `at` falls on.
pub fn day_of(at: UnixSeconds) -> UnixSeconds {
    at - at.rem_euclid(DAY_SECS)
}
