//! Silences (pure): what one covers, how long, and why. An operator silences one alert,
//! every alert of an identity, or every alert of a rule, for a chosen time with a comment;
//! an alert covered still fires and is shown, but is not posted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::UnixSeconds;

/// The times a silence can be set for: (form value, seconds, words).
pub const DURATIONS: [(&str, i64, &str); 4] = [
    ("1h", 3_600, "1 hour"),
    ("4h", 4 * 3_600, "4 hours"),
    ("1d", 86_400, "1 day"),
    ("1w", 7 * 86_400, "1 week"),
];

/// The longest comment kept.
pub const COMMENT_CHARS: usize = 500;

/// A silence as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Its number.
    pub id: i64,
    /// Label = value pairs an alert must all have (`fingerprint` is the alert's own).
    pub matchers: BTreeMap<String, String>,
    /// What it covers, in words.
    pub scope: String,
    /// Why.
    pub comment: String,
    /// Who set it.
    pub created_by: String,
    /// When it was set.
    pub starts_at: UnixSeconds,
    /// When it ends (or ended).
    pub ends_at: UnixSeconds,
    /// Who ended it early, if anyone.
    pub ended_by: Option<String>,
}

impl Silence {
    /// Whether it is in effect at `now`.
    pub fn active(&self, now: UnixSeconds) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether it covers the alert with `labels` and `fingerprint` at `now`.
    pub fn covers(
        &self,
        labels: &BTreeMap<String, String>,
        fingerprint: &str,
        now: UnixSeconds,
    ) -> bool {
        self.active(now)
            && !self.matchers.is_empty()
            && self
                .matchers
                .iter()
                .all(|(name, value)| match name.as_str() {
                    "fingerprint" => fingerprint == value,
                    _ => labels.get(name) == Some(value),
                })
    }
}

/// Until when any of `silences` covers the alert, if one does.
pub fn silenced_until(
    silences: &[Silence],
    labels: &BTreeMap<String, String>,
    fingerprint: &str,
    now: UnixSeconds,
) -> Option<UnixSeconds> {
    silences
        .iter()
        .filter(|silence| silence.covers(labels, fingerprint, now))
        .map(|silence| silence.ends_at)
        .max()
}

/// What a silence asked for from the Alerts page covers, given the alert it was asked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// That alert only.
    Alert,
    /// Every alert of its identity (or of its target, for a target's alert).
    Identity,
    /// Every alert of its rule.
    Rule,
}

impl Scope {
    /// The form's value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "alert" => Some(Self::Alert),
            "identity" => Some(Self::Identity),
            "rule" => Some(Self::Rule),
            _ => None,
        }
    }

    /// The matchers and words for a silence of this scope asked on the alert with
    /// `labels` and `fingerprint`.
    pub fn matchers(
        self,
        labels: &BTreeMap<String, String>,
        fingerprint: &str,
    ) -> (BTreeMap<String, String>, String) {
        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
        let pick = |names: &[&str]| -> BTreeMap<String, String> {
            names
                .iter()
                .filter_map(|name| labels.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                .collect()
        };
        match self {
            Self::Alert => (
                BTreeMap::from([("fingerprint".to_owned(), fingerprint.to_owned())]),
                format!(
                    "{} on {}",
                    label("alertname"),
                    labels.get("identity").cloned().unwrap_or_else(|| format!(
                        "{} / {}",
                        label("account"),
                        label("region")
                    ))
                ),
            ),
            Self::Identity if labels.contains_key("identity") => (
                pick(&["account", "region", "identity"]),
                format!(
                    "every alert of {} ({} / {})",
                    label("identity"),
                    label("account"),
                    label("region")
                ),
            ),
            Self::Identity => (
                pick(&["account", "region"]),
                format!("every alert of {} / {}", label("account"), label("region")),
            ),
            Self::Rule => (
                pick(&["alertname"]),
                format!("every {} alert", label("alertname")),
            ),
        }
    }
}

/// The seconds a duration's form value stands for.
pub fn duration(value: &str) -> Option<(i64, &'static str)> {
    DURATIONS
        .iter()
        .find(|(given, _, _)| *given == value)
        .map(|(_, secs, words)| (*secs, *words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(identity: &str, rule: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("account".to_owned(), "prod".to_owned()),
            ("alertname".to_owned(), rule.to_owned()),
            ("identity".to_owned(), identity.to_owned()),
            ("region".to_owned(), "eu-west-1".to_owned()),
            ("severity".to_owned(), "info".to_owned()),
        ])
    }

    fn silence(scope: Scope, on: &BTreeMap<String, String>) -> Silence {
        let (matchers, words) = scope.matchers(on, "f1");
        Silence {
            id: 1,
            matchers,
            scope: words,
            comment: "rotating".to_owned(),
            created_by: "ops".to_owned(),
            starts_at: 100,
            ends_at: 200,
            ended_by: None,
        }
    }

    #[test]
    fn each_scope_covers_what_it_says_while_it_lasts() {
        let a_weak = labels("a.example", "DkimWeakKey");
        let a_old = labels("a.example", "DkimKeyOld");
        let b_weak = labels("b.example", "DkimWeakKey");

        let one = silence(Scope::Alert, &a_weak);
        assert_eq!(one.scope, "DkimWeakKey on a.example");
        assert!(one.covers(&a_weak, "f1", 150));
        assert!(!one.covers(&a_old, "f2", 150));
        assert!(!one.covers(&a_weak, "f1", 200), "ended");
        assert!(!one.covers(&a_weak, "f1", 99), "not begun");

        let identity = silence(Scope::Identity, &a_weak);
        assert!(identity.covers(&a_old, "f2", 150));
        assert!(!identity.covers(&b_weak, "f3", 150));

        let rule = silence(Scope::Rule, &a_weak);
        assert_eq!(rule.scope, "every DkimWeakKey alert");
        assert!(rule.covers(&b_weak, "f3", 150));
        assert!(!rule.covers(&a_old, "f2", 150));

        assert_eq!(silenced_until(&[one, rule], &b_weak, "f3", 150), Some(200));
    }

    #[test]
    fn only_the_offered_durations() {
        assert_eq!(duration("1d"), Some((86_400, "1 day")));
        assert_eq!(duration("10y"), None);
        assert_eq!(Scope::parse("everything"), None);
    }
}
