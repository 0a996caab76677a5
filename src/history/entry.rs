//! (shared) One change of an identity as its page shows it.

use serde::{Deserialize, Serialize};

use crate::model::UnixSeconds;

/// A field of an identity that changed between two reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the sweep saw it.
    pub at: UnixSeconds,
    /// What changed: `dkim_status`, `verification`, `signing`, `origin`, `key_length`,
    /// `tokens`, or `identity` (appeared, disappeared).
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
            "identity" => "Identity",
            other => other,
        }
    }
}
