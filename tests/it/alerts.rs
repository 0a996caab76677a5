//! Alerts end to end: an identity's status changed through the simulator's control API,
//! read by a real sweep, raised by the engine into a real SQLite file, posted over real
//! HTTP to a webhook receiver on loopback. The exact firing JSON, the resolved JSON after
//! recovery, nothing sent twice after a restart, retries until the receiver takes it, and
//! the Alerts page, with the receivers' secret URLs nowhere to be seen.
use crate::support;

use axum::http::StatusCode;
use dkimdash::{
    alerts::{deliver::MAX_ATTEMPTS, entry::DeliveryState, rules::AlertSettings, service::Alerts},
    audit::log::AuditLog,
    inventory::{Inventory, now},
    model::{DkimStatus, SesBackend},
    sim::RunningSimulator,
};
use serde_json::{Value, json};
use support::hook::{Receiver, deliverer};
use support::{app_with, captured_logs, get, state_with, unread_inventory};

const EAST: &str = "us-east-1";
/// The secret part of the receivers' URLs: must never be shown, stored or logged.
const SECRET: &str = "s3cr3t-T0K3N";

/// The settings: default rules, an Alertmanager webhook and a Slack webhook on `receiver`.
fn alert_settings(receiver: &Receiver) -> AlertSettings {
    let text = format!(
        r#"
        [rules]
        key_age_days = 0

        [[receiver]]
        name = "ops-am"
        kind = "alertmanager"
        url = "{url}/alertmanager/{SECRET}"
        group_by = ["..."]
        group_wait = "0s"
        group_interval = "0s"

        [[receiver]]
        name = "ops-slack"
        kind = "slack"
        url_env = "ALERTS_TEST_SLACK"
        group_wait = "0s"
        group_interval = "0s"
        "#,
        url = receiver.url
    );
    let slack = format!("{}/slack/{SECRET}", receiver.url);
    AlertSettings::parse(&text, |name| {
        (name == "ALERTS_TEST_SLACK").then(|| slack.clone())
    })
    .unwrap()
}

/// Alerts to `receiver`'s Alertmanager webhook only, kept in the file at `path`.
async fn webhook_alerts(receiver: &Receiver, path: &std::path::Path) -> Alerts {
    let mut settings = alert_settings(receiver);
    settings.receivers.truncate(1);
    Alerts::new(settings, AuditLog::open(path).await.unwrap(), "http://x")
}

/// A simulator with two verified Easy DKIM domains, its inventory (read once), and an
/// audit log in a file of its own.
async fn setup(name: &str) -> (RunningSimulator, Inventory, std::path::PathBuf) {
    let (sim, inventory) = support::verified_domains(EAST, &["a.example", "b.example"]).await;
    inventory.refresh_now().await;
    let path = std::env::temp_dir().join(format!(
        "dkimdash-alerts-{name}-{}.sqlite3",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    (sim, inventory, path)
}

async fn set_status(sim: &RunningSimulator, name: &str, status: &str) {
    support::set_status(sim, EAST, name, status).await;
}

/// The firing (or resolved) Alertmanager body dkimdash must post for a.example.
fn alertmanager_body(status: &str, starts_at: &str, ends_at: &str, fingerprint: &str) -> Value {
    let labels = json!({
        "account": "demo",
        "alertname": "DkimFailed",
        "identity": "a.example",
        "region": "us-east-1",
        "severity": "critical",
    });
    let annotations = json!({
        "summary": "a.example: DKIM verification FAILED",
        "description": "SES stopped looking for the DKIM records and does not sign this identity's mail. Publish the records shown on its page, then start verification again (switch the signing mode, or re-create the identity).",
    });
    json!({
        "version": "4",
        "groupKey": "{}:{account=\"demo\", alertname=\"DkimFailed\", identity=\"a.example\", region=\"us-east-1\", severity=\"critical\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "ops-am",
        "groupLabels": labels,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "https://dkim.example.com",
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts_at,
            "endsAt": ends_at,
            "generatorURL": "https://dkim.example.com/identity/us-east-1/a.example?account=demo",
            "fingerprint": fingerprint,
        }],
    })
}

#[tokio::test]
async fn an_alert_fires_once_resolves_once_and_a_restart_sends_nothing_twice() {
    let logs = captured_logs();
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory, path) = setup("lifecycle").await;
    let open = || async {
        let log = AuditLog::open(&path).await.unwrap();
        Alerts::new(alert_settings(&receiver), log, "https://dkim.example.com/")
    };
    let alerts = open().await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);

    // All verified: nothing fires, nothing is sent.
    let t0 = now();
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t0)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));
    assert_eq!(sender.deliver_due(t0).await.unwrap(), 0);

    // a.example fails: one alert, posted once to each receiver.
    set_status(&sim, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    let t1 = t0 + 60;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t1)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (1, 0));
    assert_eq!(sender.deliver_due(t1).await.unwrap(), 2);
    let got = receiver.take();
    let paths: Vec<&str> = got.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/alertmanager/{SECRET}"),
            format!("/slack/{SECRET}")
        ]
    );
    let fingerprint = got[0].1["alerts"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fingerprint.len(), 16, "{fingerprint}");
    let starts_at = dkimdash::alerts::payload::rfc3339(t1);
    assert_eq!(
        got[0].1,
        alertmanager_body("firing", &starts_at, "0001-01-01T00:00:00Z", &fingerprint)
    );
    assert_eq!(
        got[1].1,
        json!({ "text": format!(
            ":red_circle: *[FIRING] a.example: DKIM verification FAILED*\n\
             DkimFailed · account demo · region us-east-1 · since {starts_at}\n\
             SES stopped looking for the DKIM records and does not sign this identity's mail. Publish the records shown on its page, then start verification again (switch the signing mode, or re-create the identity).\n\
             <https://dkim.example.com/identity/us-east-1/a.example?account=demo|Open in dkimdash>"
        ) })
    );

    // Still failing a minute later: nothing new.
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t1 + 60)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));
    assert_eq!(sender.deliver_due(t1 + 60).await.unwrap(), 0);

    // A restart: a new engine on the same database, before and after the first sweep.
    let alerts = open().await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);
    let fresh = unread_inventory(&sim, &[EAST], 100);
    let changed = engine
        .evaluate(&fresh.snapshot(), None, t1 + 120)
        .await
        .unwrap();
    assert_eq!(
        (changed.fired, changed.resolved),
        (0, 0),
        "an unread target keeps its alerts"
    );
    fresh.refresh_now().await;
    let changed = engine
        .evaluate(&fresh.snapshot(), None, t1 + 180)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));
    assert_eq!(sender.deliver_due(t1 + 180).await.unwrap(), 0);
    assert!(receiver.take().is_empty());

    // Recovery: resolved, once, with the same fingerprint and start.
    set_status(&sim, "a.example", "SUCCESS").await;
    fresh.refresh_now().await;
    let t2 = t1 + 600;
    let changed = engine.evaluate(&fresh.snapshot(), None, t2).await.unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 1));
    assert_eq!(sender.deliver_due(t2).await.unwrap(), 2);
    let got = receiver.take();
    assert_eq!(
        got[0].1,
        alertmanager_body(
            "resolved",
            &starts_at,
            &dkimdash::alerts::payload::rfc3339(t2),
            &fingerprint
        )
    );
    assert!(
        got[1].1["text"]
            .as_str()
            .unwrap()
            .starts_with(":large_green_circle: *[RESOLVED] a.example: DKIM verification FAILED*"),
        "{}",
        got[1].1
    );

    // Another restart after recovery: still nothing twice.
    let alerts = open().await;
    let mut engine = alerts.engine();
    let changed = engine
        .evaluate(&fresh.snapshot(), None, t2 + 60)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));
    assert_eq!(deliverer(&alerts).deliver_due(t2 + 60).await.unwrap(), 0);

    // The log: four posts delivered, newest first; no secret anywhere.
    let overview = alerts.overview().await.unwrap();
    let log: Vec<(&str, &str, &str)> = overview
        .deliveries
        .iter()
        .map(|d| (d.status.as_str(), d.receiver.as_str(), d.state.as_str()))
        .collect();
    assert_eq!(
        log,
        [
            ("resolved", "ops-slack", "delivered"),
            ("resolved", "ops-am", "delivered"),
            ("firing", "ops-slack", "delivered"),
            ("firing", "ops-am", "delivered"),
        ]
    );
    assert!(overview.firing.is_empty());
    let shown = serde_json::to_string(&overview).unwrap();
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!logs.text().contains(SECRET), "a webhook URL was logged");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_failed_post_is_retried_with_growing_pauses_then_given_up() {
    let logs = captured_logs();
    // The receiver is busy twice, then takes the firing post.
    let receiver = Receiver::start(vec![StatusCode::SERVICE_UNAVAILABLE; 2]).await;
    let (sim, inventory, path) = setup("retries").await;
    let alerts = webhook_alerts(&receiver, &path).await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);

    set_status(&sim, "b.example", "FAILED").await;
    inventory.refresh_now().await;
    let t = now();
    engine
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    assert_eq!(sender.deliver_due(t).await.unwrap(), 1);
    let state = || async { alerts.overview().await.unwrap().deliveries[0].clone() };
    let first = state().await;
    assert_eq!(first.state, DeliveryState::Retrying { next_at: t + 10 });
    assert_eq!(first.attempts, 1);
    assert_eq!(
        first.last_error.as_deref(),
        Some("HTTP 503 Service Unavailable: busy")
    );
    // Not due before its pause is over.
    assert_eq!(sender.deliver_due(t + 9).await.unwrap(), 0);
    assert_eq!(sender.deliver_due(t + 10).await.unwrap(), 1);
    assert_eq!(
        state().await.state,
        DeliveryState::Retrying { next_at: t + 30 }
    );
    assert_eq!(sender.deliver_due(t + 30).await.unwrap(), 1);
    let delivered = state().await;
    assert_eq!(delivered.state, DeliveryState::Delivered { at: t + 30 });
    assert_eq!(delivered.attempts, 3);
    assert_eq!(receiver.take().len(), 1);

    // A receiver that never answers well is given up after the last try.
    let down = Receiver::start(vec![StatusCode::INTERNAL_SERVER_ERROR; 100]).await;
    let alerts = webhook_alerts(&down, &path).await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);
    set_status(&sim, "b.example", "SUCCESS").await;
    inventory.refresh_now().await;
    engine
        .evaluate(&inventory.snapshot(), None, t + 60)
        .await
        .unwrap();
    let mut at = t + 60;
    for _ in 0..MAX_ATTEMPTS {
        assert_eq!(sender.deliver_due(at).await.unwrap(), 1);
        at += 3600;
    }
    assert_eq!(
        sender.deliver_due(at).await.unwrap(),
        0,
        "given up: not tried again"
    );
    let last = state().await;
    assert_eq!(last.status, "resolved");
    assert_eq!(last.attempts, MAX_ATTEMPTS);
    assert!(
        matches!(last.state, DeliveryState::GivenUp { .. }),
        "{last:?}"
    );
    assert!(!logs.text().contains(SECRET), "a webhook URL was logged");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_alerts_page_lists_what_fires_and_what_was_sent() {
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory, path) = setup("page").await;
    let log = AuditLog::open(&path).await.unwrap();
    let alerts = Alerts::new(alert_settings(&receiver), log.clone(), "http://x");
    set_status(&sim, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    let t = now();
    alerts
        .engine()
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    deliverer(&alerts).deliver_due(t).await.unwrap();

    let app = dkimdash::router::router(
        state_with(inventory, SesBackend::Simulator)
            .with_audit(log)
            .with_alerts(alerts),
    );
    let (status, html) = get(&app, "/alerts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("data-testid=\"firing-row\"").count(),
        1,
        "{html}"
    );
    assert!(html.contains("data-rule=\"DkimFailed\""), "{html}");
    assert!(
        html.contains("a.example: DKIM verification FAILED"),
        "{html}"
    );
    assert_eq!(
        html.matches("data-testid=\"delivery-row\" data-state=\"delivered\"")
            .count(),
        2,
        "{html}"
    );
    assert!(html.contains("ops-am"), "{html}");
    assert!(html.contains("http://127.0.0.1/…"), "{html}");
    assert!(!html.contains(SECRET), "{html}");

    // Without receivers the page says so, and the header links it.
    let (sim2, inventory2, _) = setup("page-empty").await;
    drop(sim2);
    let app = app_with(inventory2, SesBackend::Simulator);
    let (status, html) = get(&app, "/alerts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"none-firing\""), "{html}");
    assert!(html.contains("data-testid=\"no-receivers\""), "{html}");
    assert!(html.contains("href=\"/alerts\""), "{html}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn an_unreadable_target_fires_after_its_minutes_and_survives_a_restart() {
    use dkimdash::inventory::RefreshSettings;
    use dkimdash::ses::{budget::CallBudget, reader::SesConnection};
    use std::num::NonZeroU32;

    let receiver = Receiver::start(Vec::new()).await;
    let (sim, _, path) = setup("target").await;
    // Failures are retried in a blink, so a failed sweep ends at once.
    let inventory = || {
        let budget = CallBudget::new(NonZeroU32::new(1000).unwrap())
            .with_base_backoff(std::time::Duration::from_millis(1));
        Inventory::new(
            vec![SesConnection::for_endpoint(
                "demo",
                EAST,
                &sim.endpoint_url(),
                budget,
            )],
            RefreshSettings {
                interval: std::time::Duration::from_secs(3600),
                backfill_per_sweep: 0,
                continuous_backfill: false,
            },
        )
    };
    let open = || webhook_alerts(&receiver, &path);
    let alerts = open().await;
    let mut engine = alerts.engine();
    let first = inventory();
    first.refresh_now().await;

    // SES answers nothing but errors from now on.
    sim.simulator.set_faults(dkimdash::sim::Faults {
        latency_ms: 0,
        error_rate: 1.0,
    });
    first.refresh_now().await;
    let failed_at = first.snapshot().targets[0]
        .last_error
        .as_ref()
        .expect("the sweep failed")
        .at;
    let changed = engine
        .evaluate(&first.snapshot(), None, failed_at + 29 * 60)
        .await
        .unwrap();
    assert_eq!(changed.fired, 0, "not before 30 minutes");
    let changed = engine
        .evaluate(&first.snapshot(), None, failed_at + 30 * 60)
        .await
        .unwrap();
    assert_eq!(changed.fired, 1);
    let firing = alerts.overview().await.unwrap().firing;
    assert_eq!(firing[0].rule, "SesTargetUnreadable");
    assert_eq!(firing[0].identity, None);
    assert!(
        firing[0]
            .description
            .contains("SES is unreachable or failing"),
        "{firing:?}"
    );

    // A restart: not read yet, then failing again (its 30 minutes start over, but the
    // alert already firing stays).
    let alerts = open().await;
    let mut engine = alerts.engine();
    let second = inventory();
    let changed = engine
        .evaluate(&second.snapshot(), None, failed_at + 31 * 60)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));
    second.refresh_now().await;
    let changed = engine
        .evaluate(&second.snapshot(), None, dkimdash::inventory::now())
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 0));

    // Readable again: resolved.
    sim.simulator.set_faults(dkimdash::sim::Faults::default());
    second.refresh_now().await;
    let changed = engine
        .evaluate(&second.snapshot(), None, dkimdash::inventory::now())
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (0, 1));
    let log: Vec<String> = alerts
        .overview()
        .await
        .unwrap()
        .deliveries
        .iter()
        .map(|d| d.status.clone())
        .collect();
    assert_eq!(log, ["resolved", "firing"]);
    let _ = std::fs::remove_file(&path);
}

/// An alert that resolves and fires again while its first post waits for a retry: the
/// receiver hears its latest state once, never a "resolved" after a newer "firing".
#[tokio::test]
async fn a_receiver_hears_the_latest_state_in_order() {
    // Busy once: the firing post waits for its retry while the alert resolves and fires
    // again.
    let receiver = Receiver::start(vec![StatusCode::SERVICE_UNAVAILABLE]).await;
    let (sim, inventory, path) = setup("order").await;
    let alerts = webhook_alerts(&receiver, &path).await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);
    let mut evaluate_as = async |status: &str, at| {
        set_status(&sim, "a.example", status).await;
        inventory.refresh_now().await;
        engine
            .evaluate(&inventory.snapshot(), None, at)
            .await
            .unwrap()
    };

    let t = now();
    assert_eq!(evaluate_as("FAILED", t).await.fired, 1);
    assert_eq!(sender.deliver_due(t).await.unwrap(), 1, "tried, refused");
    assert_eq!(evaluate_as("SUCCESS", t + 5).await.resolved, 1);
    assert_eq!(evaluate_as("FAILED", t + 6).await.fired, 1);
    assert_eq!(
        sender.deliver_due(t + 6).await.unwrap(),
        0,
        "the news waits for the group's retry"
    );
    assert_eq!(sender.deliver_due(t + 10).await.unwrap(), 1);
    let got = receiver.take();
    assert_eq!(got.len(), 1);
    let alerts_posted = got[0].1["alerts"].as_array().unwrap();
    assert_eq!(alerts_posted.len(), 1, "{alerts_posted:?}");
    assert_eq!(alerts_posted[0]["status"], "firing");
    assert_eq!(
        alerts_posted[0]["startsAt"],
        dkimdash::alerts::payload::rfc3339(t + 6),
        "the newer firing"
    );
    assert_eq!(
        sender.deliver_due(t + 3600).await.unwrap(),
        0,
        "nothing older follows"
    );
    assert!(receiver.take().is_empty());
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn pending_for_hours_counts_from_before_a_restart() {
    use dkimdash::history::{recorder::Recorder, store::History};

    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory, path) = setup("pending").await;
    set_status(&sim, "b.example", "PENDING").await;
    inventory.refresh_now().await;
    let log = AuditLog::open(&path).await.unwrap();
    // An earlier run saw b.example PENDING 50 hours ago (its history's baseline).
    let t = now();
    Recorder::new(History::new(log.clone()))
        .record(&inventory.snapshot(), t - 50 * 3600)
        .await
        .unwrap();

    // This run has read it for the first time only now, but the history says 50 hours.
    let alerts = Alerts::new(alert_settings(&receiver), log, "http://x");
    let mut engine = alerts.engine();
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    assert_eq!(changed.fired, 1);
    let firing = alerts.overview().await.unwrap().firing;
    assert_eq!(
        (firing[0].rule.as_str(), firing[0].identity.as_deref()),
        ("DkimPendingTooLong", Some("b.example"))
    );
    assert_eq!(firing[0].summary, "b.example: DKIM PENDING for 50 hours");

    // Seen in another status, the old time is forgotten: PENDING again starts from now.
    set_status(&sim, "b.example", "SUCCESS").await;
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t + 60)
        .await
        .unwrap();
    assert_eq!(changed.resolved, 1);
    set_status(&sim, "b.example", "PENDING").await;
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t + 120)
        .await
        .unwrap();
    assert_eq!(changed.fired, 0);

    // After a restart (the history still says PENDING for 50 hours), b.example is deleted
    // and created anew: the old time belonged to the identity that went.
    let alerts = Alerts::new(
        alert_settings(&receiver),
        AuditLog::open(&path).await.unwrap(),
        "http://x",
    );
    let mut engine = alerts.engine();
    sim.simulator.with_regions(|regions, _| {
        regions.delete(EAST, "b.example").unwrap();
    });
    inventory.refresh_now().await;
    engine
        .evaluate(&inventory.snapshot(), None, t + 180)
        .await
        .unwrap();
    sim.simulator.with_regions(|regions, now| {
        regions
            .create(EAST, "b.example", None, Vec::new(), now)
            .unwrap();
    });
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    let created = snapshot.identities.iter().find(|i| i.name == "b.example");
    assert_eq!(created.map(|i| &i.dkim.status), Some(&DkimStatus::Pending));
    let changed = engine.evaluate(&snapshot, None, t + 240).await.unwrap();
    assert_eq!(changed.fired, 0, "a new identity is not 50 hours PENDING");
    let _ = std::fs::remove_file(&path);
}

/// Routes: every receiver gets only the severities and alert names it asks for (Slack,
/// warning and up unless told otherwise), so a fleet's old-key reminders reach no chat.
#[tokio::test]
async fn each_receiver_gets_only_what_its_route_takes() {
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory, path) = setup("routes").await;
    let text = format!(
        r#"
        [[receiver]]
        name = "everything"
        kind = "alertmanager"
        url = "{url}/everything/{SECRET}"

        [[receiver]]
        name = "people"
        kind = "slack"
        url = "{url}/people/{SECRET}"

        [[receiver]]
        name = "keys"
        kind = "alertmanager"
        url = "{url}/keys/{SECRET}"
        alertnames = ["DkimWeakKey"]
        "#,
        url = receiver.url
    );
    let settings = AlertSettings::parse(&text, |_| None).unwrap();
    let alerts = Alerts::new(settings, AuditLog::open(&path).await.unwrap(), "http://x");
    let mut engine = alerts.engine();
    // The first start (nothing firing) is over before the weak key is added.
    let at = now();
    engine
        .evaluate(&inventory.snapshot(), None, at - 1)
        .await
        .unwrap();
    sim.simulator.with_regions(|regions, now| {
        let mut weak = dkimdash::sim::identity::SimIdentity::easy_dkim_domain(
            "weak.example",
            dkimdash::model::KeyLength::Rsa1024,
            now,
        );
        weak.set_status(DkimStatus::Success, now);
        weak.held = true;
        regions.insert(EAST, weak);
    });
    set_status(&sim, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, at)
        .await
        .unwrap();
    assert_eq!(changed.fired, 2, "DkimFailed and DkimWeakKey");
    let sender = deliverer(&alerts);
    assert_eq!(
        sender.deliver_due(at + 29).await.unwrap(),
        0,
        "each group waits 30 s for more"
    );
    sender.deliver_due(at + 30).await.unwrap();

    let mut got: Vec<(String, String)> = receiver
        .take()
        .into_iter()
        .map(|(path, body)| {
            let receiver = path.split('/').nth(1).unwrap_or_default().to_owned();
            let alertname = body["alerts"][0]["labels"]["alertname"]
                .as_str()
                .map_or_else(|| "(slack message)".to_owned(), str::to_owned);
            (receiver, alertname)
        })
        .collect();
    got.sort();
    let expected = [
        ("everything", "DkimFailed"),
        ("everything", "DkimWeakKey"),
        ("keys", "DkimWeakKey"),
        ("people", "(slack message)"),
    ];
    assert_eq!(
        got,
        expected.map(|(r, a)| (r.to_owned(), a.to_owned())),
        "who got what"
    );
}
