//! The alerts file (`--alerts-file`, TOML): which rules are on, their thresholds, and where
//! alerts are sent. Every rule has a default, so no file means the default rules and no
//! receivers (alerts are still shown on the Alerts page and in `/metrics`).
//!
//! ```toml
//! [rules]
//! temporary_failure_reads = 3    # 0 turns a rule with a number off
//! pending_hours = 48
//! key_age_days = 0
//!
//! [[receiver]]
//! name = "ops"
//! kind = "alertmanager"          # or "slack"
//! url_env = "DKIMDASH_OPS_WEBHOOK"   # or url = "https://…" (keep the file private)
//! min_severity = "info"          # the default for Alertmanager; Slack's is "warning"
//! alertnames = ["DkimFailed"]    # only these (default: every rule)
//! exclude = ["DkimKeyOld"]       # never these
//! group_by = ["alertname"]       # the default; [] is one group, ["..."] each alert alone
//! group_wait = "30s"             # a new group's first post waits this long for more
//! group_interval = "5m"          # then at most one post per group this often
//! ```

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::grouping::{Grouping, parse_duration};
use super::rule::{Rule, Severity};

/// The thresholds of every rule. A number of 0 (and `false`) turns that rule off.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// An identity whose DKIM status is FAILED (SES stopped looking for the records).
    pub failed: bool,
    /// TEMPORARY_FAILURE for this many reads in a row (one blip does not page anyone).
    pub temporary_failure_reads: u32,
    /// PENDING for longer than this many hours (SES gives up after 72).
    pub pending_hours: u32,
    /// A domain with DKIM set up whose signing is turned off.
    pub signing_off: bool,
    /// A SUCCESS identity whose DNS records no longer check out.
    pub dns_broken: bool,
    /// A reminder when the signing key is older than this many days.
    pub key_age_days: u32,
    /// A reminder for identities still signing with a 1024-bit key.
    pub weak_key: bool,
    /// A target (account and region) unreadable for longer than this many minutes.
    pub target_unreadable_minutes: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            failed: true,
            temporary_failure_reads: 3,
            pending_hours: 48,
            signing_off: true,
            dns_broken: true,
            key_age_days: 365,
            weak_key: true,
            target_unreadable_minutes: 30,
        }
    }
}

impl Rules {
    /// Each rule in effect, in words, for the Alerts page.
    pub fn describe(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if self.failed {
            rules.push("DKIM status FAILED (critical)".to_owned());
        }
        if self.temporary_failure_reads > 0 {
            rules.push(format!(
                "TEMPORARY_FAILURE for {} reads in a row (warning)",
                self.temporary_failure_reads
            ));
        }
        if self.pending_hours > 0 {
            rules.push(format!(
                "PENDING for {} hours (warning)",
                self.pending_hours
            ));
        }
        if self.signing_off {
            rules.push("Signing turned off on a domain with DKIM set up (warning)".to_owned());
        }
        if self.dns_broken {
            rules.push("SUCCESS, but the DNS check finds a record broken (critical)".to_owned());
        }
        if self.key_age_days > 0 {
            rules.push(format!("Key older than {} days (info)", self.key_age_days));
        }
        if self.weak_key {
            rules.push("1024-bit key (info)".to_owned());
        }
        if self.target_unreadable_minutes > 0 {
            rules.push(format!(
                "An account and region unreadable for {} minutes (warning)",
                self.target_unreadable_minutes
            ));
        }
        rules
    }
}

/// What a receiver takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    /// Alertmanager's webhook JSON (`version: "4"`), one alert per post.
    Alertmanager,
    /// A Slack incoming webhook: one readable message per alert.
    Slack,
}

impl ReceiverKind {
    /// The word used in the file and on the Alerts page.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Slack => "slack",
        }
    }

    /// The least severe alerts it gets unless the file says otherwise: every alert for
    /// Alertmanager (it routes them itself), warnings and up for Slack (people read it,
    /// and reminders about old keys are for the Alerts page).
    pub fn default_min_severity(self) -> Severity {
        match self {
            Self::Alertmanager => Severity::Info,
            Self::Slack => Severity::Warning,
        }
    }
}

/// Which alerts a receiver gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Alerts less severe than this are not sent.
    pub min_severity: Severity,
    /// Only these rules, when given.
    pub only: Option<Vec<Rule>>,
    /// Never these rules.
    pub exclude: Vec<Rule>,
}

impl Route {
    /// Every alert of `min_severity` and up.
    pub fn at_least(min_severity: Severity) -> Self {
        Self {
            min_severity,
            only: None,
            exclude: Vec::new(),
        }
    }

    /// Whether an alert of `rule` is sent.
    pub fn takes(&self, rule: Rule) -> bool {
        rule.level() >= self.min_severity
            && self.only.as_ref().is_none_or(|only| only.contains(&rule))
            && !self.exclude.contains(&rule)
    }

    /// In words, for the Alerts page.
    pub fn describe(&self) -> String {
        let names = |rules: &[Rule]| {
            rules
                .iter()
                .map(|rule| rule.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut words = match self.min_severity {
            Severity::Info => "every severity".to_owned(),
            level => format!("{} and up", level.as_str()),
        };
        if let Some(only) = &self.only {
            words.push_str(&format!("; only {}", names(only)));
        }
        if !self.exclude.is_empty() {
            words.push_str(&format!("; not {}", names(&self.exclude)));
        }
        words
    }
}

/// Where alerts go. The URL is a secret (a Slack webhook URL is its own credential): it is
/// never logged, stored or shown, only its scheme and host.
#[derive(Clone, Debug)]
pub struct Receiver {
    /// The name deliveries are logged under.
    pub name: String,
    /// What it takes.
    pub kind: ReceiverKind,
    /// Which alerts it gets.
    pub route: Route,
    /// How its alerts are batched into posts.
    pub grouping: Grouping,
    /// Where to post.
    url: SecretString,
}

impl Receiver {
    /// A receiver posting to `url`.
    pub fn new(name: &str, kind: ReceiverKind, url: &str) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| format!("receiver {name:?}: the URL is not a valid absolute URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "receiver {name:?}: the URL must be http:// or https:// with a host"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            kind,
            route: Route::at_least(kind.default_min_severity()),
            grouping: Grouping::default(),
            url: SecretString::from(url.to_owned()),
        })
    }

    /// The same receiver, getting only the alerts `route` lets through.
    pub fn routed(self, route: Route) -> Self {
        Self { route, ..self }
    }

    /// The same receiver, its alerts batched by `grouping`.
    pub fn grouped(self, grouping: Grouping) -> Self {
        Self { grouping, ..self }
    }

    /// The URL to post to; only the sender reads it.
    pub(super) fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// The URL as it may be shown: scheme and host, the rest (the secret part) elided.
    pub fn redacted_url(&self) -> String {
        match reqwest::Url::parse(self.url()) {
            Ok(url) => format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or("?")),
            Err(_) => "…".to_owned(),
        }
    }
}

/// The rules and the receivers, as the server uses them.
#[derive(Clone, Debug, Default)]
pub struct AlertSettings {
    /// Which rules are on, with their thresholds.
    pub rules: Rules,
    /// Where alerts are sent (none: shown only).
    pub receivers: Vec<Receiver>,
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AlertsFile {
    rules: Rules,
    receiver: Vec<ReceiverEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiverEntry {
    name: String,
    kind: ReceiverKind,
    url: Option<String>,
    url_env: Option<String>,
    min_severity: Option<Severity>,
    alertnames: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    group_by: Option<Vec<String>>,
    group_wait: Option<String>,
    group_interval: Option<String>,
}

impl ReceiverEntry {
    /// The grouping its fields describe, Alertmanager's defaults where they are silent.
    fn grouping(&self) -> Result<Grouping, String> {
        let named = |error: String| format!("receiver {:?}: {error}", self.name);
        let defaults = Grouping::default();
        let secs = |field: &str, given: &Option<String>, default: i64| {
            given
                .as_deref()
                .map_or(Ok(default), |text| parse_duration(field, text))
                .map_err(named)
        };
        Ok(Grouping {
            by: match &self.group_by {
                Some(names) => Grouping::by_from(names.clone()).map_err(named)?,
                None => defaults.by,
            },
            wait_secs: secs("group_wait", &self.group_wait, defaults.wait_secs)?,
            interval_secs: secs(
                "group_interval",
                &self.group_interval,
                defaults.interval_secs,
            )?,
        })
    }

    /// The route its fields describe; an unknown alert name is refused, listing the known.
    fn route(&self) -> Result<Route, String> {
        let rules = |names: &[String]| -> Result<Vec<Rule>, String> {
            names
                .iter()
                .map(|name| {
                    Rule::named(name).ok_or_else(|| {
                        let known: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
                        // Echoed only when it cannot be a URL pasted in the wrong place.
                        let given = if is_plain_word(name) {
                            format!("{name:?}")
                        } else {
                            "that".to_owned()
                        };
                        format!(
                            "receiver {:?}: no alert is named {given}; the names are {}",
                            self.name,
                            known.join(", ")
                        )
                    })
                })
                .collect()
        };
        Ok(Route {
            min_severity: self
                .min_severity
                .unwrap_or(self.kind.default_min_severity()),
            only: self.alertnames.as_deref().map(rules).transpose()?,
            exclude: rules(&self.exclude)?,
        })
    }
}

impl AlertSettings {
    /// Reads the alerts file at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read the alerts file {}: {error}", path.display()))?;
        Self::parse(&text, |name| std::env::var(name).ok())
            .map_err(|error| format!("the alerts file {}: {error}", path.display()))
    }

    /// Parses an alerts file; `env` reads the variables `url_env` names.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        // TOML's own message quotes the offending line, which may hold a URL: only its
        // position and kind are kept.
        let file: AlertsFile = toml::from_str(text).map_err(|error| describe(&error))?;
        let mut receivers = Vec::with_capacity(file.receiver.len());
        for entry in file.receiver {
            if entry.name.trim().is_empty() {
                return Err("a [[receiver]] has an empty name".to_owned());
            }
            if receivers.iter().any(|r: &Receiver| r.name == entry.name) {
                return Err(format!("two receivers are named {:?}", entry.name));
            }
            let route = entry.route()?;
            let grouping = entry.grouping()?;
            let url = match (entry.url, entry.url_env) {
                (Some(url), None) => url,
                // A URL pasted here by mistake must not come back in the message.
                (None, Some(variable)) if !is_variable_name(&variable) => {
                    return Err(format!(
                        "receiver {:?}: url_env takes the name of an environment variable \
                         (letters, digits and _), not the URL itself",
                        entry.name
                    ));
                }
                (None, Some(variable)) => env(&variable).ok_or_else(|| {
                    format!(
                        "receiver {:?}: the environment variable {variable} is not set",
                        entry.name
                    )
                })?,
                _ => {
                    return Err(format!(
                        "receiver {:?}: give exactly one of url and url_env",
                        entry.name
                    ));
                }
            };
            receivers.push(
                Receiver::new(&entry.name, entry.kind, url.trim())?
                    .routed(route)
                    .grouped(grouping),
            );
        }
        Ok(Self {
            rules: file.rules,
            receivers,
        })
    }
}

/// A TOML error without the quoted source line, and without any value it quotes that is
/// not a plain word (such as a URL typed into `kind`: "unknown variant `https://…`").
fn describe(error: &toml::de::Error) -> String {
    let place = error
        .span()
        .map(|span| format!(" (at byte {})", span.start))
        .unwrap_or_default();
    let quoted: Vec<&str> = error.message().split('`').collect();
    let message: String = quoted
        .iter()
        .enumerate()
        .map(|(at, part)| {
            let inside_quotes = at % 2 == 1 && at + 1 < quoted.len();
            if inside_quotes && !is_plain_word(part) {
                "`…`".to_owned()
            } else if inside_quotes {
                format!("`{part}`")
            } else {
                (*part).to_owned()
            }
        })
        .collect();
    format!("{message}{place}")
}

/// Letters, digits, `_` and `-` only: a field or variant name, never a URL.
fn is_plain_word(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// An environment variable's name as shells write them.
fn is_variable_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let settings = AlertSettings::parse("", no_env).unwrap();
        assert_eq!(settings.rules, Rules::default());
        assert!(settings.receivers.is_empty());
    }

    #[test]
    fn rules_override_one_by_one() {
        let settings =
            AlertSettings::parse("[rules]\npending_hours = 24\nweak_key = false\n", no_env)
                .unwrap();
        assert_eq!(
            settings.rules,
            Rules {
                pending_hours: 24,
                weak_key: false,
                ..Rules::default()
            }
        );
    }

    #[test]
    fn receivers_take_a_url_or_a_variable() {
        let text = r#"
            [[receiver]]
            name = "am"
            kind = "alertmanager"
            url = "http://127.0.0.1:9093/api/webhook/secret-part"

            [[receiver]]
            name = "chat"
            kind = "slack"
            url_env = "SLACK_URL"
        "#;
        let env = |name: &str| {
            (name == "SLACK_URL").then(|| "https://hooks.slack.com/services/T0/B0/XYZ".to_owned())
        };
        let settings = AlertSettings::parse(text, env).unwrap();
        let shown: Vec<(String, &str, String)> = settings
            .receivers
            .iter()
            .map(|r| (r.name.clone(), r.kind.as_str(), r.redacted_url()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "am".to_owned(),
                    "alertmanager",
                    "http://127.0.0.1/…".to_owned()
                ),
                (
                    "chat".to_owned(),
                    "slack",
                    "https://hooks.slack.com/…".to_owned()
                ),
            ]
        );
        assert!(!format!("{settings:?}").contains("XYZ"), "{settings:?}");
    }

    #[test]
    fn receivers_get_what_their_route_lets_through() {
        let text = r#"
            [[receiver]]
            name = "am"
            kind = "alertmanager"
            url = "http://127.0.0.1/hook"

            [[receiver]]
            name = "chat"
            kind = "slack"
            url = "https://hooks.slack.com/x"

            [[receiver]]
            name = "pager"
            kind = "alertmanager"
            url = "http://127.0.0.1/pager"
            min_severity = "critical"
            exclude = ["DkimDnsRecordBroken"]

            [[receiver]]
            name = "keys"
            kind = "slack"
            url = "https://hooks.slack.com/y"
            min_severity = "info"
            alertnames = ["DkimWeakKey", "DkimKeyOld"]
        "#;
        let settings = AlertSettings::parse(text, no_env).unwrap();
        let takes = |name: &str| -> Vec<&str> {
            let receiver = settings.receivers.iter().find(|r| r.name == name).unwrap();
            Rule::ALL
                .into_iter()
                .filter(|rule| receiver.route.takes(*rule))
                .map(Rule::name)
                .collect()
        };
        assert_eq!(
            takes("am").len(),
            Rule::ALL.len(),
            "Alertmanager: everything"
        );
        assert_eq!(
            takes("chat"),
            [
                "DkimFailed",
                "DkimTemporaryFailure",
                "DkimPendingTooLong",
                "DkimSigningOff",
                "DkimDnsRecordBroken",
                "SesTargetUnreadable"
            ],
            "Slack: warning and up by default"
        );
        assert_eq!(takes("pager"), ["DkimFailed"]);
        assert_eq!(takes("keys"), ["DkimKeyOld", "DkimWeakKey"]);
        let described: Vec<String> = settings
            .receivers
            .iter()
            .map(|r| r.route.describe())
            .collect();
        assert_eq!(
            described,
            [
                "every severity",
                "warning and up",
                "critical and up; not DkimDnsRecordBroken",
                "every severity; only DkimWeakKey, DkimKeyOld"
            ]
        );
    }

    #[test]
    fn grouping_defaults_to_alertmanagers_and_reads_the_file() {
        let text = "[[receiver]]\nname = \"a\"\nkind = \"slack\"\nurl = \"https://h/a\"\n\
                    [[receiver]]\nname = \"b\"\nkind = \"alertmanager\"\nurl = \"https://h/b\"\n\
                    group_by = [\"...\"]\ngroup_wait = \"0s\"\ngroup_interval = \"1m\"\n";
        let settings = AlertSettings::parse(text, no_env).unwrap();
        assert_eq!(settings.receivers[0].grouping, Grouping::default());
        assert_eq!(
            settings.receivers[1].grouping,
            Grouping {
                by: super::super::grouping::GroupBy::Each,
                wait_secs: 0,
                interval_secs: 60,
            }
        );
    }

    #[test]
    fn mistakes_are_refused_without_echoing_the_url() {
        let cases = [
            ("[rules]\npending = 4\n", "unknown field"),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"pager\"\nurl = \"https://h/secret\"\n",
                "unknown variant",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\n",
                "exactly one of url and url_env",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl = \"ftp://h/secret\"\n",
                "http:// or https://",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl = \"not a url secret\"\n",
                "not a valid absolute URL",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"NOPE\"\n",
                "NOPE is not set",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"https://h/secret\"\nurl_env = \"A\"\n",
                "unknown variant `…`, expected `alertmanager` or `slack`",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"https://h/secret\"\n",
                "not the URL itself",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\nalertnames = [\"DkimFialed\"]\n",
                "no alert is named \"DkimFialed\"; the names are DkimFailed,",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\nexclude = [\"https://h/secret\"]\n",
                "no alert is named that",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\nmin_severity = \"loud\"\n",
                "unknown variant `loud`, expected one of `info`, `warning`, `critical`",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://h/a\"\n[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl = \"https://h/b\"\n",
                "two receivers are named",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\ngroup_by = [\"https://h/secret\"]\n",
                "receiver \"x\": group_by: one is not a label name",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\ngroup_wait = \"https://h/secret\"\n",
                "group_wait: that is not a duration",
            ),
            (
                "[[receiver]]\nname = \"x\"\nkind = \"slack\"\nurl_env = \"A\"\ngroup_interval = \"3d\"\n",
                "group_interval: at most a day",
            ),
        ];
        for (text, expected) in cases {
            let error = AlertSettings::parse(text, no_env).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(!error.contains("secret"), "{text:?}: {error}");
        }
    }
}
