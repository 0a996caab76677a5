//! What is posted about an alert (pure): Alertmanager's webhook JSON (version 4), so
//! anything that takes Alertmanager's webhooks takes dkimdash's, and a Slack message
//! readable without opening dkimdash. One alert per post: each fires once and resolves once.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::UnixSeconds;

/// Alertmanager's `endsAt` for an alert still firing (Go's zero time).
const STILL_FIRING: &str = "0001-01-01T00:00:00Z";

/// One alert as it is announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice<'a> {
    /// `firing` or `resolved`.
    pub status: &'a str,
    /// Its labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`).
    pub annotations: &'a BTreeMap<String, String>,
    /// When it started firing.
    pub starts_at: UnixSeconds,
    /// When it resolved; `None` while firing.
    pub ends_at: Option<UnixSeconds>,
    /// Its fingerprint.
    pub fingerprint: &'a str,
    /// The dashboard page about it (absolute).
    pub generator_url: &'a str,
}

/// The body Alertmanager posts to a webhook receiver, for this one alert.
pub fn alertmanager(receiver: &str, external_url: &str, notice: &Notice<'_>) -> Value {
    let ends_at = notice
        .ends_at
        .map_or_else(|| STILL_FIRING.to_owned(), rfc3339);
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{fingerprint=\"{}\"}}", notice.fingerprint),
        "truncatedAlerts": 0,
        "status": notice.status,
        "receiver": receiver,
        "groupLabels": {},
        "commonLabels": notice.labels,
        "commonAnnotations": notice.annotations,
        "externalURL": external_url,
        "alerts": [{
            "status": notice.status,
            "labels": notice.labels,
            "annotations": notice.annotations,
            "startsAt": rfc3339(notice.starts_at),
            "endsAt": ends_at,
            "generatorURL": notice.generator_url,
            "fingerprint": notice.fingerprint,
        }],
    })
}

/// A Slack incoming-webhook message: what, where, what to do, and a link.
pub fn slack(notice: &Notice<'_>) -> Value {
    let label = |name: &str| notice.labels.get(name).map(String::as_str).unwrap_or("");
    let annotation = |name: &str| {
        notice
            .annotations
            .get(name)
            .map(String::as_str)
            .unwrap_or("")
    };
    let (icon, state) = match notice.status {
        "resolved" => (":large_green_circle:", "RESOLVED"),
        _ if label("severity") == "critical" => (":red_circle:", "FIRING"),
        _ if label("severity") == "info" => (":large_blue_circle:", "FIRING"),
        _ => (":large_orange_circle:", "FIRING"),
    };
    let since = match notice.ends_at {
        Some(ends_at) => format!("from {} to {}", rfc3339(notice.starts_at), rfc3339(ends_at)),
        None => format!("since {}", rfc3339(notice.starts_at)),
    };
    let text = format!(
        "{icon} *[{state}] {}*\n{} · account {} · region {} · {since}\n{}\n<{}|Open in dkimdash>",
        escape(annotation("summary")),
        escape(label("alertname")),
        escape(label("account")),
        escape(label("region")),
        escape(annotation("description")),
        notice.generator_url,
    );
    json!({ "text": text })
}

/// Slack's three control characters in message text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `2026-12-04T13:00:00Z`.
pub fn rfc3339(at: UnixSeconds) -> String {
    use aws_sdk_sesv2::primitives::{DateTime, DateTimeFormat};
    DateTime::from_secs(at)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| STILL_FIRING.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("alertname".to_owned(), "DkimFailed".to_owned()),
            ("severity".to_owned(), "critical".to_owned()),
            ("account".to_owned(), "prod".to_owned()),
            ("region".to_owned(), "eu-west-1".to_owned()),
            ("identity".to_owned(), "a&b.example".to_owned()),
        ])
    }

    fn annotations() -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "summary".to_owned(),
                "a&b.example: DKIM verification FAILED".to_owned(),
            ),
            (
                "description".to_owned(),
                "Publish <the> records.".to_owned(),
            ),
        ])
    }

    #[test]
    fn alertmanager_shape_firing_and_resolved() {
        let (labels, annotations) = (labels(), annotations());
        let mut notice = Notice {
            status: "firing",
            labels: &labels,
            annotations: &annotations,
            starts_at: 1_764_000_000,
            ends_at: None,
            fingerprint: "0123456789abcdef",
            generator_url: "https://dkim.example.com/identity/eu-west-1/a%26b.example?account=prod",
        };
        let body = alertmanager("ops", "https://dkim.example.com", &notice);
        assert_eq!(body["version"], "4");
        assert_eq!(body["status"], "firing");
        assert_eq!(body["receiver"], "ops");
        assert_eq!(body["alerts"][0]["startsAt"], "2025-11-24T16:00:00Z");
        assert_eq!(body["alerts"][0]["endsAt"], STILL_FIRING);
        assert_eq!(body["alerts"][0]["labels"]["identity"], "a&b.example");
        assert_eq!(body["commonLabels"], body["alerts"][0]["labels"]);
        notice.status = "resolved";
        notice.ends_at = Some(1_764_000_600);
        let body = alertmanager("ops", "https://dkim.example.com", &notice);
        assert_eq!(body["status"], "resolved");
        assert_eq!(body["alerts"][0]["endsAt"], "2025-11-24T16:10:00Z");
    }

    #[test]
    fn slack_text_is_escaped_and_links_the_page() {
        let (labels, annotations) = (labels(), annotations());
        let notice = Notice {
            status: "firing",
            labels: &labels,
            annotations: &annotations,
            starts_at: 1_764_000_000,
            ends_at: None,
            fingerprint: "0123456789abcdef",
            generator_url: "https://dkim.example.com/identity/x",
        };
        assert_eq!(
            slack(&notice)["text"],
            ":red_circle: *[FIRING] a&amp;b.example: DKIM verification FAILED*\n\
             DkimFailed · account prod · region eu-west-1 · since 2025-11-24T16:00:00Z\n\
             Publish &lt;the&gt; records.\n\
             <https://dkim.example.com/identity/x|Open in dkimdash>"
        );
    }
}
