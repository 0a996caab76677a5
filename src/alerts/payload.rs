//! What is posted about a group of alerts (pure): Alertmanager's webhook JSON (version 4),
//! so anything that takes Alertmanager's webhooks takes dkimdash's, and a Slack message
//! readable without opening dkimdash (one alert in full; a group as a digest with a count
//! and a link to the Alerts page).

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

/// Lines a Slack digest lists; the rest are counted and linked.
const SLACK_LINES: usize = 20;

/// The body Alertmanager posts to a webhook receiver about one group's news.
pub fn alertmanager(
    receiver: &str,
    external_url: &str,
    group_labels: &BTreeMap<String, String>,
    notices: &[Notice<'_>],
) -> Value {
    let alerts: Vec<Value> = notices
        .iter()
        .map(|notice| {
            let ends_at = notice
                .ends_at
                .map_or_else(|| STILL_FIRING.to_owned(), rfc3339);
            json!({
                "status": notice.status,
                "labels": notice.labels,
                "annotations": notice.annotations,
                "startsAt": rfc3339(notice.starts_at),
                "endsAt": ends_at,
                "generatorURL": notice.generator_url,
                "fingerprint": notice.fingerprint,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": super::grouping::group_key(group_labels),
        "truncatedAlerts": 0,
        "status": group_status(notices),
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common(notices.iter().map(|n| n.labels)),
        "commonAnnotations": common(notices.iter().map(|n| n.annotations)),
        "externalURL": external_url,
        "alerts": alerts,
    })
}

/// `firing` while any alert of the post fires.
fn group_status(notices: &[Notice<'_>]) -> &'static str {
    if notices.iter().any(|n| n.status == "firing") {
        "firing"
    } else {
        "resolved"
    }
}

/// The pairs every map holds alike.
fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut shared = first.clone();
    for map in maps {
        shared.retain(|name, value| map.get(name) == Some(value));
    }
    shared
}

/// A Slack message about one group's news: one alert in full, several as a digest.
pub fn slack_group(
    group_labels: &BTreeMap<String, String>,
    notices: &[Notice<'_>],
    alerts_page: &str,
) -> Value {
    if let [only] = notices {
        return slack(only);
    }
    let firing: Vec<&Notice<'_>> = notices.iter().filter(|n| n.status == "firing").collect();
    let resolved = notices.len() - firing.len();
    let worst = firing
        .iter()
        .map(|n| n.labels.get("severity").map_or("", String::as_str))
        .min_by_key(|severity| match *severity {
            "critical" => 0,
            "warning" => 1,
            _ => 2,
        });
    let icon = match worst {
        None => ":large_green_circle:",
        Some("critical") => ":red_circle:",
        Some("info") => ":large_blue_circle:",
        Some(_) => ":large_orange_circle:",
    };
    let title = if group_labels.is_empty() {
        "dkimdash alerts".to_owned()
    } else {
        group_labels
            .values()
            .map(|v| escape(v))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let mut counts = Vec::new();
    if !firing.is_empty() {
        counts.push(format!("FIRING:{}", firing.len()));
    }
    if resolved > 0 {
        counts.push(format!("RESOLVED:{resolved}"));
    }
    let mut text = format!("{icon} *[{}] {title}*", counts.join(" "));
    for notice in notices.iter().take(SLACK_LINES) {
        let label = |name: &str| notice.labels.get(name).map_or("", String::as_str);
        let summary = notice.annotations.get("summary").map_or("", String::as_str);
        let mark = if notice.status == "resolved" {
            " (resolved)"
        } else {
            ""
        };
        text.push_str(&format!(
            "\n• <{}|{}>{mark} · account {} · region {}",
            notice.generator_url,
            escape(summary),
            escape(label("account")),
            escape(label("region")),
        ));
    }
    if notices.len() > SLACK_LINES {
        text.push_str(&format!("\n…and {} more", notices.len() - SLACK_LINES));
    }
    text.push_str(&format!("\n<{alerts_page}|Open the Alerts page>"));
    json!({ "text": text })
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

/// The dashboard page about an alert: its identity's page, or the Alerts page for a
/// target's alert; `external_url` is the dashboard's address as its users reach it.
pub fn page_of(external_url: &str, labels: &BTreeMap<String, String>) -> String {
    let label = |name: &str| labels.get(name).map(String::as_str);
    let path = match (label("identity"), label("region")) {
        (Some(name), Some(region)) => crate::routes::identity_page(region, name, label("account")),
        _ => "/alerts".to_owned(),
    };
    format!("{}{path}", external_url.trim_end_matches('/'))
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
        let group = BTreeMap::from([("alertname".to_owned(), "DkimFailed".to_owned())]);
        let body = alertmanager("ops", "https://dkim.example.com", &group, &[notice.clone()]);
        assert_eq!(body["version"], "4");
        assert_eq!(body["groupKey"], r#"{}:{alertname="DkimFailed"}"#);
        assert_eq!(body["groupLabels"]["alertname"], "DkimFailed");
        assert_eq!(body["status"], "firing");
        assert_eq!(body["receiver"], "ops");
        assert_eq!(body["alerts"][0]["startsAt"], "2025-11-24T16:00:00Z");
        assert_eq!(body["alerts"][0]["endsAt"], STILL_FIRING);
        assert_eq!(body["alerts"][0]["labels"]["identity"], "a&b.example");
        assert_eq!(body["commonLabels"], body["alerts"][0]["labels"]);
        notice.status = "resolved";
        notice.ends_at = Some(1_764_000_600);
        let body = alertmanager("ops", "https://dkim.example.com", &group, &[notice]);
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

    #[test]
    fn a_group_is_one_body_with_what_its_alerts_share() {
        let (a, annotations) = (labels(), annotations());
        let mut b = labels();
        b.insert("identity".to_owned(), "b.example".to_owned());
        let notice = |labels, status, ends_at| Notice {
            status,
            labels,
            annotations: &annotations,
            starts_at: 1_764_000_000,
            ends_at,
            fingerprint: "0123456789abcdef",
            generator_url: "https://dkim.example.com/identity/x",
        };
        let group = BTreeMap::from([("alertname".to_owned(), "DkimFailed".to_owned())]);
        let both = [
            notice(&a, "firing", None),
            notice(&b, "resolved", Some(1_764_000_600)),
        ];
        let body = alertmanager("ops", "https://dkim.example.com", &group, &both);
        assert_eq!(body["status"], "firing");
        assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
        assert_eq!(body["alerts"][1]["status"], "resolved");
        assert_eq!(body["commonLabels"].get("identity"), None);
        assert_eq!(body["commonLabels"]["alertname"], "DkimFailed");

        let text = slack_group(&group, &both, "https://dkim.example.com/alerts")["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.starts_with(":red_circle: *[FIRING:1 RESOLVED:1] DkimFailed*\n"),
            "{text}"
        );
        assert!(text.contains("(resolved) · account prod"), "{text}");
        assert!(text.ends_with("\n<https://dkim.example.com/alerts|Open the Alerts page>"));

        let many: Vec<Notice<'_>> = (0..25).map(|_| notice(&a, "firing", None)).collect();
        let text = slack_group(&group, &many, "https://d/alerts")["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(text.contains("[FIRING:25]"), "{text}");
        assert_eq!(text.matches("\n• ").count(), SLACK_LINES);
        assert!(text.contains("…and 5 more"), "{text}");
    }
}
