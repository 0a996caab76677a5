//! The identities' history: a scripted sequence of changes in the simulator, read by real
//! sweeps, recorded in a real SQLite file, shown on the identity page; a baseline, not a
//! flood, on the first read; nothing recorded twice after a restart; a change made through
//! dkimdash linked to its audit entry.
use crate::support;

use dkimdash::{
    audit::log::AuditLog,
    history::{entry::HistoryEntry, recorder::Recorder, store::History},
    inventory::Inventory,
    model::{DkimStatus, SesBackend},
    sim::RunningSimulator,
};
use support::{change_answer, get, post, table_row_names, text_of};

const EAST: &str = "us-east-1";

/// A simulator holding two verified Easy DKIM domains, and its inventory, not read yet.
async fn setup() -> (RunningSimulator, Inventory) {
    support::verified_domains(EAST, &["a.example", "b.example"]).await
}

/// An audit log (and so a history) in a file of its own, as a server keeps it.
async fn log_file(name: &str) -> (AuditLog, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "dkimdash-history-{name}-{}.sqlite3",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    (AuditLog::open(&path).await.unwrap(), path)
}

async fn timeline(history: &History, name: &str) -> Vec<(String, Option<String>, Option<String>)> {
    history
        .timeline("demo", EAST, name, 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(
            |HistoryEntry {
                 field,
                 before,
                 after,
                 ..
             }| (field, before, after),
        )
        .collect()
}

fn seen(
    field: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (
        field.to_owned(),
        before.map(str::to_owned),
        after.map(str::to_owned),
    )
}

#[tokio::test]
async fn a_scripted_sequence_of_changes_is_recorded_once_each() {
    let (sim, inventory) = setup().await;
    let (log, path) = log_file("sequence").await;
    let history = History::new(log.clone());
    let mut recorder = Recorder::new(history.clone());

    // The first read is the baseline: two identities, no change recorded.
    inventory.refresh_now().await;
    recorder.record(&inventory.snapshot(), 1_000).await.unwrap();
    assert_eq!(timeline(&history, "a.example").await, []);
    assert_eq!(timeline(&history, "b.example").await, []);

    // a.example fails, c.example appears, b.example is deleted.
    sim.simulator.with_regions(|regions, now| {
        regions
            .force_status(EAST, "a.example", DkimStatus::Failed, None, now)
            .unwrap();
        regions
            .create(EAST, "c.example", None, Vec::new(), now)
            .unwrap();
        regions.delete(EAST, "b.example").unwrap();
    });
    inventory.refresh_now().await;
    recorder.record(&inventory.snapshot(), 2_000).await.unwrap();
    // SES's verification of a domain follows its DKIM: both are seen.
    assert_eq!(
        timeline(&history, "a.example").await,
        [
            seen("dkim_status", Some("SUCCESS"), Some("FAILED")),
            seen("verification", Some("SUCCESS"), Some("FAILED")),
        ]
    );
    assert_eq!(
        timeline(&history, "c.example").await,
        [seen("identity", None, Some("appeared"))]
    );
    assert_eq!(
        timeline(&history, "b.example").await,
        [seen("identity", Some("present"), None)]
    );
    let at: Vec<i64> = history
        .timeline("demo", EAST, "a.example", 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(at, [2_000, 2_000]);

    // The same read again, and again after a restart (a new recorder on the same file):
    // nothing new.
    recorder.record(&inventory.snapshot(), 3_000).await.unwrap();
    drop(recorder);
    let reopened = History::new(AuditLog::open(&path).await.unwrap());
    let mut restarted = Recorder::new(reopened.clone());
    restarted
        .record(&inventory.snapshot(), 4_000)
        .await
        .unwrap();
    assert_eq!(timeline(&reopened, "a.example").await.len(), 2);
    assert_eq!(timeline(&reopened, "c.example").await.len(), 1);

    // Recovery is a change too; older changes go with the retention.
    sim.simulator.with_regions(|regions, now| {
        regions
            .force_status(EAST, "a.example", DkimStatus::Success, None, now)
            .unwrap();
    });
    inventory.refresh_now().await;
    restarted
        .record(&inventory.snapshot(), 5_000)
        .await
        .unwrap();
    let recovered = [
        seen("dkim_status", Some("FAILED"), Some("SUCCESS")),
        seen("verification", Some("FAILED"), Some("SUCCESS")),
    ];
    assert_eq!(timeline(&reopened, "a.example").await[2..], recovered);
    // a.example's two changes, c.example appearing, b.example disappearing.
    assert_eq!(reopened.prune(2_500).await.unwrap(), 4);
    assert_eq!(timeline(&reopened, "a.example").await, recovered);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_change_made_here_links_to_its_audit_entry_and_the_page_shows_the_timeline() {
    let (_sim, inventory) = setup().await;
    inventory.refresh_now().await;
    let log = AuditLog::in_memory();
    let mut recorder = Recorder::new(History::new(log.clone()));
    recorder
        .record(&inventory.snapshot(), dkimdash::inventory::now())
        .await
        .unwrap();
    let state =
        support::state_with(inventory.clone(), SesBackend::Simulator).with_audit(log.clone());
    let app = dkimdash::router::router(state);

    let (status, body) = post(
        &app,
        "dkim/enabled",
        &[
            ("region", EAST),
            ("name", "a.example"),
            ("enabled", "off"),
            ("confirm", "on"),
        ],
    )
    .await;
    change_answer(status, &body).unwrap();
    recorder
        .record(&inventory.snapshot(), dkimdash::inventory::now())
        .await
        .unwrap();

    let audit = log
        .recent(&dkimdash::audit::log::Filter::default(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    let entries = History::new(log)
        .timeline("demo", EAST, "a.example", 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0].field.as_str(), entries[0].after.as_deref()),
        ("signing", Some("off"))
    );
    assert_eq!(entries[0].change_id, Some(audit[0].id));

    let (_, page) = get(&app, "/identity/us-east-1/a.example").await;
    assert_eq!(text_of(&page, "timeline-change"), "on → off");
    assert!(
        page.contains(&format!("#change-{}", audit[0].id)),
        "the audit link: {page}"
    );
    let (_, page) = get(&app, "/identity/us-east-1/b.example").await;
    assert!(page.contains("data-testid=\"timeline-empty\""), "{page}");

    // The overview counts it and the table's `changed` filter selects it, the records
    // download too.
    let (_, home) = get(&app, "/").await;
    assert!(
        home.contains(r#"<a href="/?changed=24h">1 identity</a> changed in the last 24 hours."#),
        "{home}"
    );
    assert_eq!(table_row_names(&home), ["a.example", "b.example"]);
    for window in ["24h", "7d"] {
        let (_, filtered) = get(&app, &format!("/?changed={window}")).await;
        assert_eq!(table_row_names(&filtered), ["a.example"], "{window}");
    }
    let (_, csv) = get(&app, "/download/identities.csv?changed=24h").await;
    assert!(csv.contains("a.example"), "{csv}");
    assert!(!csv.contains("b.example"), "{csv}");
}

#[tokio::test]
async fn each_day_keeps_its_last_counts_and_the_overview_charts_them() {
    use dkimdash::history::{
        daily::DailyCounts,
        entry::{DAY_SECS, DayCounts},
    };

    let (sim, inventory) = setup().await;
    let log = AuditLog::in_memory();
    let history = History::new(log.clone());
    let mut recorder = Recorder::new(history.clone());
    let today = dkimdash::history::entry::day_of(dkimdash::inventory::now());
    let yesterday = today - DAY_SECS;
    // The figures the pages read are in memory from their first read on; from then on
    // the recorder keeps them current.
    assert_eq!(history.daily_counts(today + 60, 30).await.unwrap(), []);

    // Yesterday: both verified, then a.example failed (the day's last read stands).
    inventory.refresh_now().await;
    recorder
        .record(&inventory.snapshot(), yesterday + 60)
        .await
        .unwrap();
    sim.simulator.with_regions(|regions, now| {
        regions
            .force_status(EAST, "a.example", DkimStatus::Failed, None, now)
            .unwrap();
    });
    inventory.refresh_now().await;
    recorder
        .record(&inventory.snapshot(), yesterday + 120)
        .await
        .unwrap();
    // Today: b.example pending as well.
    sim.simulator.with_regions(|regions, now| {
        regions
            .force_status(EAST, "b.example", DkimStatus::Pending, None, now)
            .unwrap();
    });
    inventory.refresh_now().await;
    recorder
        .record(&inventory.snapshot(), today + 60)
        .await
        .unwrap();

    let days = history.daily_counts(today + 60, 30).await.unwrap();
    // What a server started now reads from the database.
    let read = History::new(log.clone());
    assert_eq!(read.daily_counts(today + 60, 30).await.unwrap(), days);
    let shown = |days: &[DayCounts]| -> Vec<(i64, Vec<(String, usize)>)> {
        days.iter()
            .map(|d| {
                (
                    d.day,
                    d.counts
                        .iter()
                        .filter(|(_, n)| *n > 0)
                        .map(|(s, n)| (s.as_ses().to_owned(), *n))
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        shown(&days),
        [
            (
                yesterday,
                vec![("SUCCESS".to_owned(), 1), ("FAILED".to_owned(), 1)]
            ),
            (
                today,
                vec![("PENDING".to_owned(), 1), ("FAILED".to_owned(), 1)]
            ),
        ]
    );
    // A day outside the window is left out; pruning forgets it, in both.
    assert_eq!(history.daily_counts(today + 60, 1).await.unwrap().len(), 1);
    assert_eq!(DailyCounts::new(log.clone()).prune(today).await.unwrap(), 2);
    history.prune(today).await.unwrap();
    assert_eq!(history.daily_counts(today + 60, 30).await.unwrap().len(), 1);
    let read = History::new(log.clone());
    assert_eq!(read.daily_counts(today + 60, 30).await.unwrap().len(), 1);

    // The overview draws today's bar and lists its figures.
    let app = dkimdash::router::router(
        support::state_with(inventory, SesBackend::Simulator).with_audit(log),
    );
    let (_, home) = get(&app, "/").await;
    assert!(home.contains("data-testid=\"status-chart\""), "{home}");
    assert_eq!(
        home.matches("data-testid=\"chart-day\"").count(),
        1,
        "{home}"
    );
    assert_eq!(home.matches("<rect ").count(), 2, "{home}");
    assert!(home.contains("1 FAILED</title>"), "{home}");
}

/// `name` PENDING in the simulator, held there (no verifying, no failing by itself).
fn hold_pending(sim: &RunningSimulator, name: &str) {
    sim.simulator.with_regions(|regions, now| {
        regions
            .force_status(EAST, name, DkimStatus::Pending, None, now)
            .unwrap();
    });
}

/// The identity page's headline and "Status since" line of `name`, and whether it says
/// it needs attention for being PENDING over 72 hours.
async fn pending_page(app: &axum::Router, name: &str) -> (String, String, bool) {
    let (_, page) = get(app, &format!("/identity/{EAST}/{name}")).await;
    (
        text_of(&page, "diagnosis-headline").to_owned(),
        text_of(&page, "status-since").to_owned(),
        // The end of "Needs attention: pending over 72 h".
        page.contains(">pending over 72 h</p>"),
    )
}

/// The overview's "Needs attention" count and the names its link selects.
async fn attention(app: &axum::Router) -> (String, Vec<String>) {
    let (_, home) = get(app, "/").await;
    let item = &home[home
        .find("data-testid=\"facet-attention\"")
        .expect("the count")..];
    let item = &item[..item.find("</li>").expect("its end")];
    let count = &item[item.find("<span class=\"count\">").expect("a number")..];
    let (_, rows) = get(app, "/?attention=1").await;
    (
        count[count.find('>').unwrap() + 1..count.find("</").unwrap()].to_owned(),
        table_row_names(&rows)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    )
}

#[tokio::test]
async fn pending_since_counts_from_the_history_across_a_restart() {
    use dkimdash::ui::format::utc_minute;
    use std::time::Duration;

    const HOUR: i64 = 3600;
    let (sim, first_run) = setup().await;
    let (log, path) = log_file("pending-since").await;
    let t = dkimdash::inventory::now();
    // An earlier run took its baseline 75 hours ago with a.example PENDING already, and saw
    // b.example turn PENDING 49 h 50 min ago (whole hours round down: 22 of SES's 72 left).
    let baseline = t - 75 * HOUR;
    let turned = t - 50 * HOUR + 10 * 60;
    let mut recorder = Recorder::new(History::new(log));
    hold_pending(&sim, "a.example");
    first_run.refresh_now().await;
    recorder
        .record(&first_run.snapshot(), baseline)
        .await
        .unwrap();
    hold_pending(&sim, "b.example");
    first_run.refresh_now().await;
    recorder
        .record(&first_run.snapshot(), turned)
        .await
        .unwrap();
    drop((recorder, first_run));

    // A restart: a new inventory and server over the same file. Read before the history
    // is (it is unreadable, or not read yet), both count from now, and the page says so.
    let restarted = support::unread_inventory(&sim, &[EAST], 100);
    restarted.refresh_now().await;
    let log = AuditLog::open(&path).await.unwrap();
    let state = support::state_with(restarted.clone(), SesBackend::Simulator);
    let app = dkimdash::router::router(state.with_audit(log.clone()));
    let (headline, since, overdue) = pending_page(&app, "b.example").await;
    // 72 hours, or 71 once the read is a second old.
    assert!(
        ["72 hours left", "71 hours left"]
            .iter()
            .any(|left| headline == format!("Waiting for SES to find the records — {left}")),
        "{headline}"
    );
    assert!(
        since.ends_with("(first seen since dkimdash started: its history is not available)"),
        "{since}"
    );
    assert!(!overdue);
    assert_eq!(attention(&app).await, ("0".to_owned(), Vec::new()));

    // The history read (as the server's recorder does at start): b.example has 22 hours
    // left, a.example is past SES's 72 hours and counted as needing attention.
    let recording = Recorder::new(History::new(log.clone())).spawn(restarted.clone());
    support::eventually("the history's times", Duration::from_secs(10), || {
        restarted.snapshot().identities[1].status_seen_since == turned
    })
    .await;
    let (headline, since, overdue) = pending_page(&app, "b.example").await;
    assert_eq!(
        headline,
        "Waiting for SES to find the records — 22 hours left"
    );
    assert_eq!(
        since,
        format!(
            "{} (2 d 1 h ago) (first seen by dkimdash, from its history)",
            utc_minute(turned)
        )
    );
    assert!(!overdue);
    let (headline, since, overdue) = pending_page(&app, "a.example").await;
    assert!(
        headline.starts_with("Still PENDING after SES"),
        "{headline}"
    );
    assert!(since.starts_with(&utc_minute(baseline)), "{since}");
    assert!(overdue);
    assert_eq!(
        attention(&app).await,
        ("1".to_owned(), vec!["a.example".to_owned()])
    );
    recording.abort();

    // Another restart, the history read before SES is: the times wait for the first read.
    let again = support::unread_inventory(&sim, &[EAST], 100);
    let recording = Recorder::new(History::new(log.clone())).spawn(again.clone());
    support::eventually("the history read", Duration::from_secs(10), || {
        again.knows_status_since_before_start()
    })
    .await;
    again.refresh_now().await;
    let since: Vec<i64> = again
        .snapshot()
        .identities
        .iter()
        .map(|i| i.status_seen_since)
        .collect();
    assert_eq!(since, [baseline, turned]);
    recording.abort();
    let _ = std::fs::remove_file(&path);
}
