//! What the Alerts page shows: the alerts firing now, the delivery log, the receivers
//! (URLs elided) and the rules in effect. Shared by the server and the page.

use serde::{Deserialize, Serialize};

use crate::model::UnixSeconds;

/// An alert firing now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringAlert {
    /// The `alertname` label.
    pub rule: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// The account label.
    pub account: String,
    /// The region.
    pub region: String,
    /// The identity, for an identity's alert.
    pub identity: Option<String>,
    /// One line.
    pub summary: String,
    /// What is wrong and what to do.
    pub description: String,
    /// When it started firing.
    pub starts_at: UnixSeconds,
    /// Its stable fingerprint.
    pub fingerprint: String,
    /// Its labels (what silences match).
    pub labels: std::collections::BTreeMap<String, String>,
    /// Until when a silence holds its posts back, if one does.
    pub silenced_until: Option<UnixSeconds>,
}

/// One alert's news (firing or resolved) for one receiver: sent (alone or in a group's
/// post), waiting, or skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its number.
    pub id: i64,
    /// The alert's one line.
    pub summary: String,
    /// The receiver's name.
    pub receiver: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// When the alert changed.
    pub created_at: UnixSeconds,
    /// Posts tried so far.
    pub attempts: i64,
    /// Where it stands.
    pub state: DeliveryState,
    /// The last failure, if any (never the URL).
    pub last_error: Option<String>,
}

/// Where a delivery stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// The receiver took it.
    Delivered {
        /// When.
        at: UnixSeconds,
    },
    /// Waiting for its group's first post (the group's wait or interval).
    Queued {
        /// When its group is posted.
        next_at: UnixSeconds,
    },
    /// Waiting for its next try.
    Retrying {
        /// When it is tried next.
        next_at: UnixSeconds,
    },
    /// Every try failed.
    GivenUp {
        /// When dkimdash stopped trying.
        at: UnixSeconds,
    },
    /// Not posted, on purpose.
    Skipped {
        /// When.
        at: UnixSeconds,
        /// `silenced`, `known at first start` or `firing never announced`.
        why: String,
    },
}

impl DeliveryState {
    /// A stable word for the page and tests.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Queued { .. } => "queued",
            Self::Retrying { .. } => "retrying",
            Self::GivenUp { .. } => "given-up",
            Self::Skipped { .. } => "skipped",
        }
    }
}

/// A configured receiver as it may be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverInfo {
    /// Its name.
    pub name: String,
    /// `alertmanager` or `slack`.
    pub kind: String,
    /// Scheme and host only: the rest is secret.
    pub url: String,
    /// Which alerts it gets, in words.
    pub gets: String,
    /// How its alerts are batched, in words.
    pub grouping: String,
}

/// Everything the Alerts page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsOverview {
    /// Firing now, most severe first, then oldest first.
    pub firing: Vec<FiringAlert>,
    /// The newest deliveries first.
    pub deliveries: Vec<Delivery>,
    /// Where alerts go.
    pub receivers: Vec<ReceiverInfo>,
    /// Each rule in effect, in words.
    pub rules: Vec<String>,
    /// The newest silences, in effect or ended.
    pub silences: Vec<crate::alerts::silence::Silence>,
    /// When this was read (which silences are in effect).
    pub now: UnixSeconds,
    /// Whether the reader may set and end silences (an operator).
    pub can_silence: bool,
}
