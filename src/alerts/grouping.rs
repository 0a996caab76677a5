//! How a receiver's alerts are batched (pure), in the spirit of Alertmanager's `group_by`,
//! `group_wait` and `group_interval`: alerts whose grouping labels agree form a group, and
//! one post carries everything that fired or resolved in a group within the wait. A storm
//! of 2,000 alerts of one rule is one post, not 2,000.

use std::collections::BTreeMap;

/// Which labels make a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// These labels (none: every alert of the receiver in one group).
    Labels(Vec<String>),
    /// Every label: each alert is a group of its own (Alertmanager's `group_by: ['...']`).
    Each,
}

/// A receiver's grouping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    /// Which labels make a group.
    pub by: GroupBy,
    /// How long a new group's first news waits for more (seconds).
    pub wait_secs: i64,
    /// The least time between two posts about one group (seconds).
    pub interval_secs: i64,
}

/// Alertmanager's defaults, grouped by rule: a fleet-wide problem is one post per rule.
impl Default for Grouping {
    fn default() -> Self {
        Self {
            by: GroupBy::Labels(vec!["alertname".to_owned()]),
            wait_secs: 30,
            interval_secs: 5 * 60,
        }
    }
}

impl Grouping {
    /// Reads the file's `group_by` list: `["..."]` is every label.
    pub fn by_from(names: Vec<String>) -> Result<GroupBy, String> {
        if names.iter().any(|name| name == "...") {
            return if names.len() == 1 {
                Ok(GroupBy::Each)
            } else {
                Err("group_by: \"...\" (every label) stands alone".to_owned())
            };
        }
        if let Some(odd) = names.iter().find(|name| !is_label_name(name)) {
            // Echoed only when it cannot be a URL pasted in the wrong place.
            let plain = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
            let shown = if odd.len() <= 40 && odd.chars().all(plain) {
                format!("{odd:?}")
            } else {
                "one".to_owned()
            };
            return Err(format!(
                "group_by: {shown} is not a label name (letters, digits and _)"
            ));
        }
        Ok(GroupBy::Labels(names))
    }

    /// The labels that name `labels`' group.
    pub fn group_labels(&self, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        match &self.by {
            GroupBy::Each => labels.clone(),
            GroupBy::Labels(names) => names
                .iter()
                .filter_map(|name| labels.get(name).map(|value| (name.clone(), value.clone())))
                .collect(),
        }
    }

    /// The group's key, as Alertmanager writes one: `{}:{alertname="DkimFailed"}`.
    pub fn key(&self, labels: &BTreeMap<String, String>) -> String {
        group_key(&self.group_labels(labels))
    }

    /// In words, for the Alerts page.
    pub fn describe(&self) -> String {
        let by = match &self.by {
            GroupBy::Each => "each alert on its own".to_owned(),
            GroupBy::Labels(names) if names.is_empty() => "all in one group".to_owned(),
            GroupBy::Labels(names) => format!("grouped by {}", names.join(", ")),
        };
        format!(
            "{by}, first post after {}, then at most every {}",
            words(self.wait_secs),
            words(self.interval_secs)
        )
    }
}

/// `{}:{name="value", …}`.
pub fn group_key(group_labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = group_labels
        .iter()
        .map(|(name, value)| format!("{name}={value:?}"))
        .collect();
    format!("{{}}:{{{}}}", pairs.join(", "))
}

/// A duration as the file writes it (`30s`, `5m`, `1h`, `0s`), at most a day.
pub fn parse_duration(field: &str, text: &str) -> Result<i64, String> {
    const DAY: u64 = 24 * 3600;
    let shown = if text.len() <= 20 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
        format!("{text:?}")
    } else {
        "that".to_owned()
    };
    let secs = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{field}: {shown} is not a duration such as \"30s\" or \"5m\""))?
        .as_secs();
    if secs > DAY {
        return Err(format!("{field}: at most a day (\"24h\")"));
    }
    Ok(i64::try_from(secs).unwrap_or(0))
}

fn is_label_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `30 s`, `5 min`, `1 h 30 min`.
fn words(secs: i64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("alertname".to_owned(), "DkimWeakKey".to_owned()),
            ("identity".to_owned(), "a.example".to_owned()),
            ("severity".to_owned(), "info".to_owned()),
        ])
    }

    #[test]
    fn the_key_names_the_group_labels_only() {
        let by_rule = Grouping::default();
        assert_eq!(by_rule.key(&labels()), r#"{}:{alertname="DkimWeakKey"}"#);
        let mut other = labels();
        other.insert("identity".to_owned(), "b.example".to_owned());
        assert_eq!(by_rule.key(&labels()), by_rule.key(&other));

        let each = Grouping {
            by: GroupBy::Each,
            ..Grouping::default()
        };
        assert_ne!(each.key(&labels()), each.key(&other));
        let all = Grouping {
            by: GroupBy::Labels(Vec::new()),
            ..Grouping::default()
        };
        assert_eq!(all.key(&labels()), "{}:{}");
    }

    #[test]
    fn group_by_is_checked() {
        assert_eq!(Grouping::by_from(vec!["...".into()]), Ok(GroupBy::Each));
        assert!(Grouping::by_from(vec!["...".into(), "alertname".into()]).is_err());
        let refused = Grouping::by_from(vec!["https://x/secret".into()]).unwrap_err();
        assert!(!refused.contains("secret"), "{refused}");
        let typo = Grouping::by_from(vec!["alert-name".into()]).unwrap_err();
        assert!(typo.contains("\"alert-name\""), "{typo}");
        let long = Grouping::by_from(vec!["x-".repeat(30)]).unwrap_err();
        assert!(!long.contains("x-x-"), "{long}");
    }

    #[test]
    fn durations_as_written() {
        assert_eq!(parse_duration("group_wait", "30s"), Ok(30));
        assert_eq!(parse_duration("group_wait", "5m"), Ok(300));
        assert_eq!(parse_duration("group_wait", "0s"), Ok(0));
        assert!(parse_duration("group_wait", "soon").is_err());
        assert!(parse_duration("group_wait", "2d").is_err());
        assert_eq!(
            Grouping::default().describe(),
            "grouped by alertname, first post after 30 s, then at most every 5 min"
        );
    }
}
