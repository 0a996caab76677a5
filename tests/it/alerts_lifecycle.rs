//! An alert's life beyond the happy path, over real sweeps of the simulator, a real SQLite
//! file and real HTTP: PENDING too long raised by an engine started before the first sweep
//! of a restart, from the history's time; an alert resolved (and said so) when its identity
//! is deleted or its rule turned off; receivers that refuse or never answer, with the
//! webhooks' secret URLs nowhere; and broken DNS raised by the background loop from the
//! DNS checks' own reports.
use crate::support;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode, routing::post};
use dkimdash::{
    alerts::{
        deliver::Deliverer, engine::Engine, rules::AlertSettings, service::Alerts,
        store::StoredAlert,
    },
    audit::log::AuditLog,
    background::Background,
    dns::monitor::DnsMonitor,
    history::{recorder::Recorder, store::History},
    inventory::{Inventory, now},
    model::{DkimStatus, KeyLength, SesBackend, UnixSeconds},
    sim::{RunningSimulator, identity::SimIdentity},
};
use serde_json::Value;
use support::{captured_logs, get, read_inventory, state_with, unread_inventory};

// Delivery goes through these two functions only, so that a change to how posts are
// grouped and sent is followed here in one place.

/// Tries every post due at `now` once, as the server's deliverer does (its HTTP client:
/// the post timeout, no redirects).
async fn deliver_everything_due(alerts: &Alerts, now: UnixSeconds) {
    alerts
        .deliverer(Deliverer::client())
        .deliver_due(now)
        .await
        .expect("the outbox can be read");
}

/// The alerts about `identity` with `status` (`firing`, `resolved`) that `receiver` was
/// told of: every alert of every Alertmanager (version 4) body it got, however they were
/// grouped into posts.
fn told(receiver: &Receiver, identity: &str, status: &str) -> Vec<Value> {
    receiver
        .bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(|body| body["alerts"].as_array().cloned().unwrap_or_default())
        .filter(|alert| alert["labels"]["identity"] == identity && alert["status"] == status)
        .collect()
}

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const HOUR: UnixSeconds = 3600;

/// An Alertmanager webhook on loopback that takes every post and keeps its body.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start() -> Self {
        let bodies = Arc::<Mutex<Vec<Value>>>::default();
        let kept = bodies.clone();
        let app = Router::new().route(
            "/{*path}",
            post(move |body: String| {
                let kept = kept.clone();
                async move {
                    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                    kept.lock().unwrap().push(value);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, bodies }
    }
}

/// The settings: the `[rules]` lines `rules`, and an Alertmanager receiver per `(name, url)`.
fn settings(rules: &str, receivers: &[(&str, &str)]) -> AlertSettings {
    let mut text = format!("[rules]\n{rules}\n");
    for (name, url) in receivers {
        text.push_str(&format!(
            "\n[[receiver]]\nname = \"{name}\"\nkind = \"alertmanager\"\nurl = \"{url}\"\ngroup_wait = \"0s\"\ngroup_interval = \"0s\"\n"
        ));
    }
    AlertSettings::parse(&text, |_| None).unwrap()
}

/// A simulator holding Easy DKIM domains, each `(region, name, status)`, which keep their
/// status.
async fn simulator_holding(domains: &[(&str, &str, DkimStatus)]) -> RunningSimulator {
    let sim = support::simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        for (region, name, status) in domains {
            let mut identity = SimIdentity::easy_dkim_domain(name, KeyLength::Rsa2048, now);
            identity.set_status(status.clone(), now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        }
    });
    sim
}

/// A database file of the test's own, removed when the test ends.
struct Database(PathBuf);

impl Database {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "dkimdash-alerts-lifecycle-{name}-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    async fn open(&self) -> AuditLog {
        AuditLog::open(&self.0).await.unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Each alert firing, as (alertname, identity or "").
fn names(firing: &[StoredAlert]) -> Vec<(String, String)> {
    let label =
        |alert: &StoredAlert, name: &str| alert.labels.get(name).cloned().unwrap_or_default();
    firing
        .iter()
        .map(|alert| (label(alert, "alertname"), label(alert, "identity")))
        .collect()
}

/// The alerts firing, as [`names`] gives them.
async fn firing(alerts: &Alerts) -> Vec<(String, String)> {
    names(&alerts.store().firing().await.unwrap())
}

/// The alerts firing once `condition` holds of them, looking every 20 ms; fails the test,
/// saying what was awaited, after `deadline`.
async fn firing_once(
    alerts: &Alerts,
    what: &str,
    deadline: Duration,
    condition: impl Fn(&[StoredAlert]) -> bool,
) -> Vec<StoredAlert> {
    let start = Instant::now();
    loop {
        let firing = alerts.store().firing().await.unwrap();
        if condition(&firing) {
            return firing;
        }
        assert!(
            start.elapsed() < deadline,
            "{what}: not within {deadline:?}; firing: {:?}",
            names(&firing)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The alert `alertname` about `identity` once it fires; fails the test after `deadline`.
async fn fired(
    alerts: &Alerts,
    alertname: &str,
    identity: &str,
    deadline: Duration,
) -> StoredAlert {
    let label = |alert: &StoredAlert, name: &str| alert.labels.get(name).cloned();
    let wanted = |alert: &StoredAlert| {
        label(alert, "alertname").as_deref() == Some(alertname)
            && label(alert, "identity").as_deref() == Some(identity)
    };
    let what = format!("{alertname} for {identity}");
    let firing = firing_once(alerts, &what, deadline, |firing| firing.iter().any(wanted)).await;
    firing.into_iter().find(wanted).unwrap()
}

/// An (alertname, identity) as [`names`] lists it.
fn pair(alertname: &str, identity: &str) -> (String, String) {
    (alertname.to_owned(), identity.to_owned())
}

/// How long an identity has been PENDING survives a restart even when the engine starts,
/// as the server starts it, before the first sweep: its first look, at targets not read
/// yet, must not forget what the history says.
#[tokio::test]
async fn pending_too_long_fires_after_the_first_sweep_of_a_restart() {
    let sim = simulator_holding(&[
        (EAST, "b.example", DkimStatus::Pending),
        (WEST, "c.example", DkimStatus::Failed),
    ])
    .await;
    let db = Database::new("pending-at-start");
    let log = db.open().await;
    let alerts = Alerts::new(settings("pending_hours = 48", &[]), log.clone(), "http://x");

    // An earlier run read both regions 50 hours ago: b.example PENDING (not for long yet),
    // c.example FAILED (which fired).
    let earlier_at = now() - 50 * HOUR;
    let earlier = read_inventory(&sim, &[EAST, WEST], 100).await;
    Recorder::new(History::new(log.clone()))
        .record(&earlier.snapshot(), earlier_at)
        .await
        .unwrap();
    alerts
        .engine()
        .evaluate(&earlier.snapshot(), None, earlier_at)
        .await
        .unwrap();
    assert_eq!(firing(&alerts).await, [pair("DkimFailed", "c.example")]);

    // This run reads us-east-1 only (eu-west-1 was dropped from the configuration), and
    // starts the alerts as the server does, before its first sweep. Not the history's
    // recorder, which would lay the same times over the inventory's snapshots: the alert
    // must not hang on which of the two reads the history first.
    let inventory = unread_inventory(&sim, &[EAST], 100);
    let mut background = Background::new();
    alerts.start(&mut background, inventory.clone(), None);
    // Its first evaluation, on the unread snapshot, resolves the alert of the region no
    // longer read, and raises nothing: b.example has not been read yet.
    firing_once(
        &alerts,
        "the first evaluation",
        Duration::from_secs(10),
        <[_]>::is_empty,
    )
    .await;

    inventory.refresh_now().await;
    let alert = fired(
        &alerts,
        "DkimPendingTooLong",
        "b.example",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        alert.annotations["summary"],
        "b.example: DKIM PENDING for 50 hours"
    );
    assert_eq!(
        background.stop(Duration::from_secs(5)).await,
        Vec::<String>::new()
    );
}

/// Applies the rules to what `inventory` holds at `at`, then sends the posts that queued.
async fn evaluate_and_deliver(
    alerts: &Alerts,
    engine: &mut Engine,
    inventory: &Inventory,
    at: UnixSeconds,
) {
    engine
        .evaluate(&inventory.snapshot(), None, at)
        .await
        .unwrap();
    deliver_everything_due(alerts, at).await;
}

/// Asserts that `receiver` was told once that a.example's DkimFailed is `status`.
fn assert_told_once(receiver: &Receiver, status: &str) {
    let about = told(receiver, "a.example", status);
    assert_eq!(about.len(), 1, "{status}: {about:?}");
    assert_eq!(about[0]["labels"]["alertname"], "DkimFailed", "{status}");
}

#[tokio::test]
async fn deleting_an_identity_resolves_its_alert_and_says_so() {
    let receiver = Receiver::start().await;
    let sim = simulator_holding(&[
        (EAST, "a.example", DkimStatus::Failed),
        (EAST, "b.example", DkimStatus::Success),
    ])
    .await;
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    let db = Database::new("deleted");
    let ops = [("ops", receiver.url.as_str())];
    let alerts = Alerts::new(settings("", &ops), db.open().await, "http://x");
    let mut engine = alerts.engine();
    let t = now();
    evaluate_and_deliver(&alerts, &mut engine, &inventory, t).await;
    assert_eq!(firing(&alerts).await, [pair("DkimFailed", "a.example")]);
    assert_told_once(&receiver, "firing");

    // Deleted through SES's API while its alert fires; then the next sweep.
    support::sim_clients(&sim, EAST)
        .v2
        .delete_email_identity()
        .email_identity("a.example")
        .send()
        .await
        .unwrap();
    inventory.refresh_now().await;
    evaluate_and_deliver(&alerts, &mut engine, &inventory, t + 60).await;
    assert!(firing(&alerts).await.is_empty());
    assert_told_once(&receiver, "resolved");
}

#[tokio::test]
async fn a_rule_turned_off_at_a_restart_resolves_its_alert_and_says_so() {
    let receiver = Receiver::start().await;
    let sim = simulator_holding(&[(EAST, "a.example", DkimStatus::Failed)]).await;
    let db = Database::new("rule-off");
    let ops = [("ops", receiver.url.as_str())];
    let alerts = Alerts::new(settings("", &ops), db.open().await, "http://x");
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    let t = now();
    evaluate_and_deliver(&alerts, &mut alerts.engine(), &inventory, t).await;
    assert_eq!(firing(&alerts).await, [pair("DkimFailed", "a.example")]);
    assert_told_once(&receiver, "firing");

    // Restarted on the same database with `failed = false`, a.example still FAILED.
    let alerts = Alerts::new(
        settings("failed = false", &ops),
        db.open().await,
        "http://x",
    );
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    evaluate_and_deliver(&alerts, &mut alerts.engine(), &inventory, t + 60).await;
    assert!(firing(&alerts).await.is_empty());
    assert_told_once(&receiver, "resolved");
}

/// The secret parts of the receivers' URLs.
const SECRETS: [&str; 2] = ["s3cr3t-path", "t0ken-value"];

/// A receiver that refuses the connection and one that takes it and never answers: what
/// went wrong is kept, logged and shown, and the URLs' secrets are not.
#[tokio::test]
async fn receivers_that_fail_never_reveal_their_urls() {
    let logs = captured_logs();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let held = held.clone();
        async move {
            while let Ok((socket, _)) = silent.accept().await {
                held.lock().unwrap().push(socket);
            }
        }
    });
    let url = |port: u16| format!("http://127.0.0.1:{port}/hook/s3cr3t-path?token=t0ken-value");
    let (closed_url, silent_url) = (url(closed_port), url(silent_port));
    let receivers = [
        ("refusing", closed_url.as_str()),
        ("silent", silent_url.as_str()),
    ];

    let sim = simulator_holding(&[(EAST, "a.example", DkimStatus::Failed)]).await;
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    let db = Database::new("secrets");
    let log = db.open().await;
    let alerts = Alerts::new(settings("", &receivers), log.clone(), "http://x");
    let t = now();
    alerts
        .engine()
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    // The silent one takes the post timeout.
    deliver_everything_due(&alerts, t).await;
    assert_eq!(
        held.lock().unwrap().len(),
        1,
        "the silent receiver was posted to"
    );

    let deliveries = alerts.store().deliveries(10).await.unwrap();
    let mut tried: Vec<&str> = deliveries.iter().map(|d| d.receiver.as_str()).collect();
    tried.sort();
    assert_eq!(tried, ["refusing", "silent"]);
    for delivery in &deliveries {
        assert_eq!(delivery.attempts, 1, "{delivery:?}");
        // Each failed for its own reason, and says so.
        let why = match delivery.receiver.as_str() {
            "refusing" => "Connection refused",
            _ => "timed out",
        };
        let error = delivery.last_error.as_deref().unwrap_or_default();
        assert!(error.contains(why), "{delivery:?}");
        for secret in SECRETS {
            assert!(!error.contains(secret), "{secret} kept: {error}");
        }
    }

    let logged = logs.text();
    assert!(logged.contains("alert post failed"), "{logged}");
    for secret in SECRETS {
        assert!(!logged.contains(secret), "{secret} logged: {logged}");
    }

    let app = dkimdash::router::router(
        state_with(inventory, SesBackend::Simulator)
            .with_audit(log)
            .with_alerts(alerts),
    );
    let (status, html) = get(&app, "/alerts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("data-testid=\"delivery-row\" data-state=\"retrying\"")
            .count(),
        2,
        "{html}"
    );
    for secret in SECRETS {
        assert!(!html.contains(secret), "{secret} shown: {html}");
    }
}

/// A SUCCESS identity whose record the DNS checks find proxied: the background loop,
/// woken by the checks' new reports, raises DkimDnsRecordBroken by itself.
#[tokio::test]
async fn broken_dns_fires_from_the_background_checks() {
    const CAREERS: &str = "careers.acme.example";
    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = read_inventory(&sim, &[EAST], 1000).await;
    let db = Database::new("dns-broken");
    let alerts = Alerts::new(settings("", &[]), db.open().await, "http://x");
    let dns = DnsMonitor::new(checker);

    // Started as the server starts them: the DNS checks, then the alerts.
    let mut background = Background::new();
    background.adopt("DNS checks", dns.spawn(inventory.clone()));
    alerts.start(&mut background, inventory.clone(), Some(dns));
    let alert = fired(
        &alerts,
        "DkimDnsRecordBroken",
        CAREERS,
        Duration::from_secs(30),
    )
    .await;
    let description = &alert.annotations["description"];
    assert!(description.contains("proxied"), "{description}");
    assert_eq!(
        background.stop(Duration::from_secs(5)).await,
        Vec::<String>::new()
    );
}
