//! Why a DNS provider call did not do what was asked, in words an operator can act on.

use serde::{Deserialize, Serialize};

use super::zone_choice::NoZone;

/// A provider's refusal or failure. Never holds a token or a secret: messages are built
/// from the provider's error code and text, which carry neither.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ProviderError {
    /// No zone of the provider holds the record (or the settings do not allow it).
    #[error("{0}")]
    NoZone(#[from] NoZone),
    /// The credentials lack a permission: which one, named.
    #[error("{provider} refused: {permission} is missing ({detail})")]
    Denied {
        provider: String,
        /// The IAM action (`route53:ChangeResourceRecordSets`) or the token scope
        /// (`Zone → DNS → Edit`) to grant.
        permission: String,
        detail: String,
    },
    /// The records are no longer what the preview showed; nothing was written.
    #[error("the zone changed since the preview, so nothing was written: {0}")]
    ChangedSincePreview(String),
    /// Still rate limited after the retries.
    #[error("{0} is rate limiting dkimdash; nothing was written. Try again in a minute.")]
    Throttled(String),
    /// The provider could not be reached or did not answer in time.
    #[error("{provider} could not be reached: {detail}")]
    Unreachable { provider: String, detail: String },
    /// A provider without batches (Cloudflare) failed part-way: what was written stays.
    #[error("{error} (after {} of the records were written: {})", written.len(), written.join(", "))]
    PartlyApplied {
        written: Vec<String>,
        error: Box<ProviderError>,
    },
    /// Any other refusal, with the provider's own code and words.
    #[error("{provider} refused ({code}): {message}")]
    Refused {
        provider: String,
        code: String,
        message: String,
    },
}
