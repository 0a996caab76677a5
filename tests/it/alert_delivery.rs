//! Alert delivery at fleet scale, over real HTTP to receivers on loopback: a storm of one
//! rule is one post per receiver (Alertmanager's list, Slack's digest), later news waits
//! for the group's interval, a receiver that never answers delays only itself, and one
//! that asks for time (`Retry-After`) gets it while the others carry on.
use crate::support;

use std::time::Duration;

use axum::http::StatusCode;
use dkimdash::{
    alerts::{bell::Bell, deliver::Deliverer, rules::AlertSettings, service::Alerts},
    audit::log::AuditLog,
    inventory::{Inventory, now},
    model::{DkimStatus, KeyLength},
    sim::{RunningSimulator, identity::SimIdentity},
};
use support::hook::{Receiver, deliverer, never_answering};
use tokio_util::sync::CancellationToken;

const EAST: &str = "us-east-1";

/// A simulator with `a.example` verified and `weak` verified domains signing with a
/// 1024-bit key (each raises the info-level DkimWeakKey), read once.
async fn fleet(weak: usize) -> (RunningSimulator, Inventory) {
    let (sim, inventory) = support::verified_domains(EAST, &["a.example"]).await;
    verified_keys(&sim, 0..weak, KeyLength::Rsa1024);
    inventory.refresh_now().await;
    (sim, inventory)
}

/// Domains `weakNNN.example` for each n of `numbers`, verified, signing with a key of
/// `length` (replacing any of the same name).
fn verified_keys(sim: &RunningSimulator, numbers: std::ops::Range<usize>, length: KeyLength) {
    sim.simulator.with_regions(|regions, now| {
        for n in numbers {
            let name = format!("weak{n:03}.example");
            let mut identity = SimIdentity::easy_dkim_domain(&name, length.clone(), now);
            identity.set_status(DkimStatus::Success, now);
            identity.held = true;
            regions.insert(EAST, identity);
        }
    });
}

/// Alerts by the receivers in `file`, in a new database of their own.
async fn alerts_from(name: &str, file: &str) -> Alerts {
    let path = database(name);
    let _ = std::fs::remove_file(&path);
    alerts_in(&path, file).await
}

fn database(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "dkimdash-delivery-{name}-{}.sqlite3",
        std::process::id()
    ))
}

/// Alerts by the receivers in `file`, kept in the database at `path`.
async fn alerts_in(path: &std::path::Path, file: &str) -> Alerts {
    let settings = AlertSettings::parse(file, |_| None).unwrap();
    Alerts::new(
        settings,
        AuditLog::open(path).await.unwrap(),
        "https://dkim.example.com",
    )
}

/// The alert names and identities of every alert in every body `receiver` took since the
/// last look, sorted.
fn alertnames(receiver: &Receiver) -> Vec<String> {
    let mut names: Vec<String> = receiver
        .take()
        .iter()
        .flat_map(|(_, body)| body["alerts"].as_array().cloned().unwrap_or_default())
        .map(|alert| {
            format!(
                "{} {}",
                alert["labels"]["alertname"].as_str().unwrap_or_default(),
                alert["labels"]["identity"].as_str().unwrap_or_default()
            )
        })
        .collect();
    names.sort();
    names
}

/// Ends the first start of `engine`'s database: a look at an inventory read in full with
/// nothing firing.
async fn past_the_first_start(
    engine: &mut dkimdash::alerts::engine::Engine,
    inventory: &Inventory,
    at: i64,
) {
    let changed = engine
        .evaluate(&inventory.snapshot(), None, at)
        .await
        .unwrap();
    assert_eq!(changed.fired, 0);
}

/// A first start on a fleet with weak keys, whose details (key lengths) are read two
/// identities a sweep, with a restart halfway: the reminders are shown, never posted, nor
/// is their resolution; the critical is posted. Once every identity has been read, a new
/// weak key is posted as usual.
#[tokio::test]
async fn a_first_start_posts_no_reminders_of_what_was_already_true() {
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, _) = support::verified_domains(EAST, &["a.example"]).await;
    verified_keys(&sim, 0..6, KeyLength::Rsa1024);
    support::set_status(&sim, EAST, "a.example", "FAILED").await;
    let inventory = support::unread_inventory(&sim, &[EAST], 2);
    let file = format!(
        r#"
        [[receiver]]
        name = "am"
        kind = "alertmanager"
        url = "{url}/am"
        group_by = ["..."]
        group_wait = "0s"
        group_interval = "0s"
        "#,
        url = receiver.url
    );
    let path = database("first-start");
    let _ = std::fs::remove_file(&path);
    let alerts = alerts_in(&path, &file).await;
    let mut engine = alerts.engine();
    let mut at = now();
    // As the server does: the engine looks at the unread start-up snapshot first.
    engine
        .evaluate(&inventory.snapshot(), None, at)
        .await
        .unwrap();
    let unread = |inventory: &Inventory| {
        inventory
            .snapshot()
            .identities
            .iter()
            .any(|i| i.details_read_at.is_none())
    };
    let mut sweeps = 0;
    while sweeps == 0 || unread(&inventory) {
        assert!(sweeps < 10, "the details are read within ten sweeps");
        inventory.refresh_now().await;
        at += 60;
        sweeps += 1;
        if sweeps == 2 {
            // A restart: the first start goes on.
            engine = alerts_in(&path, &file).await.engine();
        }
        engine
            .evaluate(&inventory.snapshot(), None, at)
            .await
            .unwrap();
    }
    assert!(
        sweeps >= 3,
        "the weak keys came to light over several sweeps"
    );
    let sender = deliverer(&alerts);
    sender.deliver_due(at).await.unwrap();
    assert_eq!(alertnames(&receiver), ["DkimFailed a.example"]);
    let overview = alerts.overview().await.unwrap();
    let shown = overview
        .firing
        .iter()
        .filter(|a| a.rule == "DkimWeakKey")
        .count();
    assert_eq!(shown, 6, "the reminders are on the Alerts page");
    let skipped = overview
        .deliveries
        .iter()
        .filter(|d| d.state.as_str() == "skipped")
        .count();
    assert_eq!(skipped, 6);

    // Over: a key fixed resolves quietly (its firing was never posted), a new weak key
    // is posted.
    verified_keys(&sim, 0..1, KeyLength::Rsa2048);
    verified_keys(&sim, 6..7, KeyLength::Rsa1024);
    inventory.refresh_now().await;
    at += 60;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, at)
        .await
        .unwrap();
    assert_eq!((changed.fired, changed.resolved), (1, 1));
    sender.deliver_due(at).await.unwrap();
    assert_eq!(alertnames(&receiver), ["DkimWeakKey weak006.example"]);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_storm_of_one_rule_is_one_post_per_receiver() {
    let receiver = Receiver::start(Vec::new()).await;
    let (sim, inventory) = fleet(0).await;
    let alerts = alerts_from(
        "storm",
        &format!(
            r#"
            [[receiver]]
            name = "am"
            kind = "alertmanager"
            url = "{url}/am/x"

            [[receiver]]
            name = "chat"
            kind = "slack"
            url = "{url}/chat/x"
            min_severity = "info"
            "#,
            url = receiver.url
        ),
    )
    .await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);

    let t = now();
    past_the_first_start(&mut engine, &inventory, t - 1).await;
    verified_keys(&sim, 0..40, KeyLength::Rsa1024);
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t)
        .await
        .unwrap();
    assert_eq!(changed.fired, 40);
    assert_eq!(
        sender.deliver_due(t + 29).await.unwrap(),
        0,
        "the group waits 30 s"
    );
    assert_eq!(
        sender.deliver_due(t + 30).await.unwrap(),
        2,
        "one post per receiver"
    );
    let got = receiver.take();
    let (_, am) = got
        .iter()
        .find(|(path, _)| path.starts_with("/am/"))
        .unwrap();
    assert_eq!(am["alerts"].as_array().unwrap().len(), 40);
    assert_eq!(
        am["groupLabels"],
        serde_json::json!({ "alertname": "DkimWeakKey" })
    );
    assert_eq!(am["groupKey"], r#"{}:{alertname="DkimWeakKey"}"#);
    assert_eq!(am["commonLabels"]["severity"], "info");
    assert_eq!(am["commonLabels"].get("identity"), None);
    let (_, chat) = got
        .iter()
        .find(|(path, _)| path.starts_with("/chat/"))
        .unwrap();
    let text = chat["text"].as_str().unwrap();
    assert!(
        text.starts_with(":large_blue_circle: *[FIRING:40] DkimWeakKey*"),
        "{text}"
    );
    assert!(text.contains("…and 20 more"), "{text}");
    assert!(
        text.ends_with("<https://dkim.example.com/alerts|Open the Alerts page>"),
        "{text}"
    );

    // Ten keys rotated a minute later: one post each again, but not before the group's
    // interval (5 minutes after its last post) is over.
    verified_keys(&sim, 0..10, KeyLength::Rsa2048);
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, t + 60)
        .await
        .unwrap();
    assert_eq!(changed.resolved, 10);
    assert_eq!(
        sender.deliver_due(t + 329).await.unwrap(),
        0,
        "within the interval"
    );
    assert_eq!(sender.deliver_due(t + 330).await.unwrap(), 2);
    let got = receiver.take();
    let (_, am) = got
        .iter()
        .find(|(path, _)| path.starts_with("/am/"))
        .unwrap();
    assert_eq!(am["status"], "resolved");
    assert_eq!(am["alerts"].as_array().unwrap().len(), 10);
    let (_, chat) = got
        .iter()
        .find(|(path, _)| path.starts_with("/chat/"))
        .unwrap();
    assert!(
        chat["text"]
            .as_str()
            .unwrap()
            .starts_with(":large_green_circle: *[RESOLVED:10] DkimWeakKey*"),
        "{chat}"
    );
}

/// 25 posts owed to a receiver that accepts the connection and never answers (each would
/// take the 10 s post timeout, one after another): a new critical alert still reaches a
/// healthy receiver within seconds.
#[tokio::test]
async fn a_receiver_that_never_answers_delays_only_itself() {
    let healthy = Receiver::start(Vec::new()).await;
    let (blackhole, accepted) = never_answering().await;
    let (sim, inventory) = fleet(0).await;
    let alerts = alerts_from(
        "blackhole",
        &format!(
            r#"
            [[receiver]]
            name = "blackhole"
            kind = "alertmanager"
            url = "{blackhole}/hook"
            group_by = ["..."]
            group_wait = "0s"

            [[receiver]]
            name = "healthy"
            kind = "alertmanager"
            url = "{url}/hook"
            min_severity = "critical"
            group_wait = "0s"
            "#,
            url = healthy.url
        ),
    )
    .await;
    let mut engine = alerts.engine();
    let bell = Bell::default();
    let stop = CancellationToken::new();
    let running = tokio::spawn(Deliverer::run(
        deliverer(&alerts),
        bell.clone(),
        stop.clone(),
    ));

    past_the_first_start(&mut engine, &inventory, now()).await;
    verified_keys(&sim, 0..25, KeyLength::Rsa1024);
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, now())
        .await
        .unwrap();
    assert_eq!(changed.fired, 25);
    bell.ring();
    // The blackholed receiver is busy with its first post before the critical comes.
    support::eventually(
        "the first post to the blackhole",
        Duration::from_secs(5),
        || accepted.load(std::sync::atomic::Ordering::SeqCst) > 0,
    )
    .await;

    support::set_status(&sim, EAST, "a.example", "FAILED").await;
    inventory.refresh_now().await;
    let changed = engine
        .evaluate(&inventory.snapshot(), None, now())
        .await
        .unwrap();
    assert_eq!(changed.fired, 1);
    bell.ring();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let got = loop {
        let got = healthy.take();
        if !got.is_empty() || tokio::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        got.len(),
        1,
        "the critical did not reach the healthy receiver in 5 s"
    );
    assert_eq!(got[0].1["alerts"][0]["labels"]["alertname"], "DkimFailed");
    let waiting = alerts
        .store()
        .deliveries(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.receiver == "blackhole" && d.state.as_str() != "delivered")
        .count();
    assert_eq!(
        waiting, 26,
        "the blackhole's posts (and the critical) are still owed"
    );
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the workers stop within the grace")
        .unwrap();
}

/// A 429 with `Retry-After: 120` pauses that receiver for two minutes, every group of it
/// (what arrives meanwhile in another group waits too); another receiver is posted to as
/// usual.
#[tokio::test]
async fn retry_after_slows_that_receiver_only() {
    let slow = Receiver::scripted(vec![(StatusCode::TOO_MANY_REQUESTS, Some("120"))]).await;
    let other = Receiver::start(Vec::new()).await;
    let (sim, inventory) = support::verified_domains(EAST, &["a.example", "b.example"]).await;
    inventory.refresh_now().await;
    let alerts = alerts_from(
        "retry-after",
        &format!(
            r#"
            [[receiver]]
            name = "slow"
            kind = "alertmanager"
            url = "{slow}/hook"
            group_by = ["..."]
            group_wait = "0s"
            group_interval = "0s"

            [[receiver]]
            name = "other"
            kind = "alertmanager"
            url = "{other}/hook"
            group_by = ["..."]
            group_wait = "0s"
            "#,
            slow = slow.url,
            other = other.url
        ),
    )
    .await;
    let mut engine = alerts.engine();
    let sender = deliverer(&alerts);
    let mut fail = async |name: &str, at| {
        support::set_status(&sim, EAST, name, "FAILED").await;
        inventory.refresh_now().await;
        engine
            .evaluate(&inventory.snapshot(), None, at)
            .await
            .unwrap()
    };

    let t = now();
    assert_eq!(fail("a.example", t).await.fired, 1);
    assert_eq!(sender.deliver_due(t).await.unwrap(), 2);
    assert_eq!(
        (slow.tries(), slow.take().len()),
        (1, 0),
        "refused with Retry-After"
    );
    assert_eq!(other.take().len(), 1);

    assert_eq!(fail("b.example", t + 60).await.fired, 1);
    assert_eq!(
        sender.deliver_due(t + 60).await.unwrap(),
        1,
        "only the other receiver"
    );
    assert_eq!(other.take().len(), 1);
    assert_eq!(slow.tries(), 1, "left alone for 120 s");
    assert_eq!(sender.deliver_due(t + 119).await.unwrap(), 0);

    // Both groups then: the one refused and the one that came during the pause.
    assert_eq!(sender.deliver_due(t + 120).await.unwrap(), 2);
    let got = slow.take();
    assert_eq!(got.len(), 2);
    let mut identities: Vec<&str> = got
        .iter()
        .filter_map(|(_, body)| body["alerts"][0]["labels"]["identity"].as_str())
        .collect();
    identities.sort_unstable();
    assert_eq!(identities, ["a.example", "b.example"]);
}
