//! Silences end to end: an operator silences a firing alert from the Alerts page (a plain
//! form post, as with JavaScript off); it stays firing, marked, counted in `/metrics`
//! under `silenced="true"`, and is not posted; ended early, the alert (still firing) is
//! posted then. Both are in the audit log with the user, and pruning keeps what is firing
//! and the silences in effect. (Viewers are refused: tests/it/auth.rs.)
use crate::support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use dkimdash::{
    alerts::{rules::AlertSettings, service::Alerts},
    audit::log::{AuditLog, Filter},
    inventory::now,
    model::SesBackend,
    user::{Role, User},
};
use support::hook::{Receiver, deliverer};

const EAST: &str = "us-east-1";

fn user(role: Role) -> User {
    User {
        name: "pat".to_owned(),
        email: None,
        groups: Vec::new(),
        role,
    }
}

/// The browser's own post of the silence form (JavaScript off).
async fn post_form(
    app: &axum::Router,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    let (status, headers, _) = support::fetch(app, request).await;
    let location = headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

#[tokio::test]
async fn a_silenced_alert_still_fires_and_is_posted_only_after_its_silence() {
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory) = support::verified_domains(EAST, &["a.example"]).await;
    inventory.refresh_now().await;
    let path =
        std::env::temp_dir().join(format!("dkimdash-silences-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let log = AuditLog::open(&path).await.unwrap();
    let file = format!(
        "[[receiver]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{}/am\"\ngroup_wait = \"0s\"\ngroup_interval = \"0s\"\n",
        receiver.url
    );
    let alerts = Alerts::new(
        AlertSettings::parse(&file, |_| None).unwrap(),
        log.clone(),
        "http://x",
    );
    let mut engine = alerts.engine();
    let t = now();
    engine
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    support::set_status(&sim, EAST, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    assert_eq!(
        engine
            .evaluate(&inventory.snapshot(), None, t)
            .await
            .unwrap()
            .fired,
        1
    );
    let fingerprint = alerts.store().firing().await.unwrap()[0]
        .fingerprint
        .clone();

    // Silenced from the page before its post went out.
    let app = dkimdash::router::router(
        support::state_with(inventory.clone(), SesBackend::Simulator)
            .with_audit(log.clone())
            .with_alerts(alerts.clone()),
    );
    let (status, location) = post_form(
        &app,
        "alerts/silence",
        &[
            ("fingerprint", fingerprint.as_str()),
            ("scope", "identity"),
            ("duration", "4h"),
            ("comment", "DNS move tonight"),
        ],
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    assert!(location.starts_with("/alerts?notice="), "{location}");
    let (_, html) = support::get(&app, &location).await;
    assert!(
        html.contains("Silenced every alert of a.example (demo / us-east-1) for 4 hours."),
        "{html}"
    );
    assert!(html.contains("data-testid=\"silenced\""), "{html}");
    assert!(html.contains("DNS move tonight"), "{html}");

    let sender = deliverer(&alerts);
    sender.deliver_due(t + 1).await.unwrap();
    assert!(receiver.take().is_empty(), "a silenced alert is not posted");
    let (_, metrics) = support::get(&app, "/metrics").await;
    assert!(
        metrics.contains(
            "dkimdash_alerts_firing{alertname=\"DkimFailed\",severity=\"critical\",silenced=\"true\"} 1"
        ),
        "{metrics}"
    );

    // Ended early, while it still fires: posted then.
    let silence = alerts.store().active_silences(now()).await.unwrap()[0].id;
    let (status, _) = post_form(&app, "alerts/unsilence", &[("id", &silence.to_string())]).await;
    assert!(status.is_redirection(), "{status}");
    let changed = engine
        .evaluate(&inventory.snapshot(), None, now())
        .await
        .unwrap();
    assert_eq!(changed.unsilenced, 1);
    sender.deliver_due(now()).await.unwrap();
    let got = receiver.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["alerts"][0]["labels"]["alertname"], "DkimFailed");

    let entries = log.recent(&Filter::default(), 10).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("silence every alert of a.example")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("end silence")),
        "{actions:?}"
    );

    // Pruning everything older than now keeps the alert firing and a silence in effect.
    alerts
        .silence(&user(Role::Operator), &fingerprint, "rule", "1w", "known")
        .await
        .unwrap();
    alerts.store().prune(now() + 1).await.unwrap();
    assert_eq!(alerts.store().firing().await.unwrap().len(), 1);
    let kept = alerts.store().recent_silences().await.unwrap();
    assert_eq!(
        kept.len(),
        1,
        "the ended one went, the one in effect stayed"
    );
    assert_eq!(kept[0].scope, "every DkimFailed alert");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn bad_silences_are_refused_by_what_is_wrong() {
    let (sim, inventory) = support::verified_domains(EAST, &["a.example"]).await;
    support::set_status(&sim, EAST, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    let alerts = Alerts::new(AlertSettings::default(), AuditLog::in_memory(), "http://x");
    alerts
        .engine()
        .evaluate(&inventory.snapshot(), None, now())
        .await
        .unwrap();
    let fingerprint = alerts.store().firing().await.unwrap()[0]
        .fingerprint
        .clone();

    // (A viewer is refused by the server function before this: tests/it/auth.rs.)
    let operator = user(Role::Operator);
    for (scope, duration, comment, expected) in [
        ("everything", "1h", "x", "Choose what to silence."),
        ("alert", "10y", "x", "Choose how long"),
        ("alert", "1h", "  ", "Say why in the comment"),
    ] {
        let refused = alerts
            .silence(&operator, &fingerprint, scope, duration, comment)
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains(expected), "{refused}");
    }
    let refused = alerts
        .silence(&operator, "0000000000000000", "alert", "1h", "x")
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no longer firing"), "{refused}");
}
