//! The audit log: every change sent to SES recorded (who, where, what, before → after,
//! SES's answer), readable after a restart, never holding key material; and no change sent
//! when the log cannot record it.
use crate::support;

use std::{path::PathBuf, time::Duration};

use axum::{Router, http::StatusCode};
use dkimdash::{
    audit::{
        entry::AuditOutcome,
        log::{Attempt, AuditLog, Filter},
    },
    changes::reconcile::{Reconciled, reconcile_pending},
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
    router::router,
    sim::{Faults, RunningSimulator},
    user::{Role, User},
};
use support::{get, post, read_inventory, simulator, state_with};

const KEY_PEM: &str = include_str!("../fixtures/keys/rsa-2048-pkcs1.pem");

/// A fresh file path for one test's log.
fn log_path(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dkimdash-audit-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested").join("audit.sqlite3")
}

async fn app(log: AuditLog) -> (RunningSimulator, Router) {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1", "eu-west-1"], 100).await;
    let state = state_with(inventory, SesBackend::Simulator).with_audit(log);
    (sim, router(state))
}

#[tokio::test]
async fn every_change_is_recorded_survives_a_restart_and_holds_no_key() {
    let path = log_path("restart");
    let (_sim, app) = app(AuditLog::open(&path).await.unwrap()).await;
    let byodkim = [
        ("region", "us-east-1"),
        ("name", "acme.example"),
        ("mode", "byodkim"),
        ("selector", "audit1"),
        ("private_key", KEY_PEM),
        ("confirm", "on"),
    ];
    assert_eq!(post(&app, "dkim/signing", &byodkim).await.0, StatusCode::OK);
    let off = [
        ("region", "us-east-1"),
        ("name", "acme.example"),
        ("enabled", "off"),
        ("confirm", "on"),
    ];
    assert_eq!(post(&app, "dkim/enabled", &off).await.0, StatusCode::OK);
    let add = [
        ("account", "demo"),
        ("region", "eu-west-1"),
        ("domain", "audited.example"),
        ("mode", "easy"),
        ("key_length", "1024"),
    ];
    assert_eq!(post(&app, "dkim/add", &add).await.0, StatusCode::OK);
    // SES refuses this one (it exists now): recorded as refused, with SES's answer.
    assert_eq!(post(&app, "dkim/add", &add).await.0, StatusCode::CONFLICT);
    // Refused before SES (no confirmation): not a change, not recorded.
    let unconfirmed = &byodkim[..5];
    assert_eq!(
        post(&app, "dkim/signing", unconfirmed).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The identity page and the activity page show them.
    let (_, page) = get(&app, "/identity/us-east-1/acme.example").await;
    assert!(page.contains("Recent changes"));
    assert!(
        page.contains("switch to BYODKIM (selector audit1)"),
        "{page}"
    );
    let (status, activity) = get(&app, "/activity?user=local").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(activity.matches(r#"data-testid="change-row""#).count(), 4);
    let (_, none) = get(&app, "/activity?user=somebody-else").await;
    assert!(none.contains("No changes recorded"));
    drop(app);

    // A restart: the same file opened afresh.
    let log = AuditLog::open(&path).await.unwrap();
    let entries = log.recent(&Filter::default(), 10).await.unwrap();
    let summary: Vec<(&str, &str, AuditOutcome)> = entries
        .iter()
        .rev()
        .map(|e| (e.identity.as_str(), e.action.as_str(), e.outcome))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "acme.example",
                "switch to BYODKIM (selector audit1)",
                AuditOutcome::Done
            ),
            ("acme.example", "turn signing off", AuditOutcome::Done),
            (
                "audited.example",
                "add domain with Easy DKIM (1024 bits)",
                AuditOutcome::Done
            ),
            (
                "audited.example",
                "add domain with Easy DKIM (1024 bits)",
                AuditOutcome::Refused
            ),
        ]
    );
    let first = entries.last().unwrap();
    assert_eq!(first.user_name, "local");
    assert_eq!(
        (first.account.as_str(), first.region.as_str()),
        ("demo", "us-east-1")
    );
    assert!(
        first
            .before_signing
            .starts_with("Easy DKIM, 2048 bits, signing on"),
        "{first:?}"
    );
    assert!(
        first
            .after_signing
            .as_deref()
            .unwrap()
            .starts_with("BYODKIM (selector audit1)"),
        "{first:?}"
    );
    assert!(
        entries[0]
            .answer
            .as_deref()
            .unwrap()
            .contains("already exists"),
        "{:?}",
        entries[0]
    );

    // No key material anywhere in the database file (WAL included).
    let mut stored = Vec::new();
    for file in std::fs::read_dir(path.parent().unwrap()).unwrap() {
        stored.extend(std::fs::read(file.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("audit1"), "the log was read");
    for line in KEY_PEM.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!stored.contains(line), "key material in the audit log");
    }
}

#[tokio::test]
async fn a_change_the_log_cannot_record_is_not_sent() {
    let path = log_path("broken");
    let log = AuditLog::open(&path).await.unwrap();
    let (sim, app) = app(log).await;
    // Break the log behind the dashboard's back.
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("DROP TABLE changes")
        .execute(&raw)
        .await
        .unwrap();
    sim.simulator.reset_stats();
    let off = [
        ("region", "us-east-1"),
        ("name", "acme.example"),
        ("enabled", "off"),
        ("confirm", "on"),
    ];
    let (status, body) = post(&app, "dkim/enabled", &off).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        matches!(
            serde_json::from_str(&body),
            Ok(dkimdash::app_error::AppError::Unavailable(_))
        ),
        "{body}"
    );
    assert!(body.contains("audit log could not record it"), "{body}");
    assert_eq!(sim.simulator.stats().total_calls(), 0, "SES was not asked");
}

#[tokio::test]
async fn a_change_whose_request_goes_away_is_still_completed_in_the_log() {
    let log = AuditLog::in_memory();
    let (sim, app) = app(log.clone()).await;
    // SES answers slowly: the request is dropped (the browser left, or the request timed
    // out) while the change is on its way.
    sim.simulator.set_faults(Faults {
        latency_ms: 400,
        error_rate: 0.0,
    });
    let off = [
        ("region", "us-east-1"),
        ("name", "acme.example"),
        ("enabled", "off"),
        ("confirm", "on"),
    ];
    let dropped =
        tokio::time::timeout(Duration::from_millis(100), post(&app, "dkim/enabled", &off)).await;
    assert!(
        dropped.is_err(),
        "the request went away before SES answered"
    );

    // The change goes on without it, and its entry is completed with SES's answer.
    let entry = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let entries = log.recent(&Filter::default(), 10).await.unwrap();
            if let Some(entry) = entries
                .into_iter()
                .find(|e| e.outcome != AuditOutcome::Pending)
            {
                return entry;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the entry is completed, not left pending");
    assert_eq!(entry.outcome, AuditOutcome::Done);
    assert_eq!(entry.action, "turn signing off");
    assert!(
        entry
            .after_signing
            .as_deref()
            .is_some_and(|after| after.contains("signing off")),
        "{entry:?}"
    );
}

/// An operator who records changes in the log directly (no request, no SES).
fn operator(name: &str) -> User {
    User {
        name: name.into(),
        email: None,
        groups: Vec::new(),
        role: Role::Operator,
    }
}

#[tokio::test]
async fn changes_left_pending_by_a_stopped_server_are_settled_at_the_next_start() {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 100).await;
    let log = AuditLog::in_memory();
    let user = operator("erin");
    let attempt = |region: &'static str, identity: &'static str| Attempt {
        at: 1,
        user: &user,
        account: "demo",
        region,
        identity,
        action: "turn signing off".into(),
        before: "Easy DKIM, signing on, SUCCESS".into(),
    };
    let known = log
        .begin(&attempt("us-east-1", "acme.example"))
        .await
        .unwrap();
    let gone = log
        .begin(&attempt("us-east-1", "deleted-meanwhile.example"))
        .await
        .unwrap();
    let unmanaged = log
        .begin(&attempt("ap-south-1", "acme.example"))
        .await
        .unwrap();

    let result = reconcile_pending(&inventory, &log).await;
    assert_eq!(
        result,
        Reconciled {
            settled: 2,
            left: 1
        }
    );

    let entries = log.recent(&Filter::default(), 10).await.unwrap();
    let find = |id| entries.iter().find(|e| e.id == id).unwrap();
    assert_eq!(find(known).outcome, AuditOutcome::Unknown);
    assert!(
        find(known)
            .after_signing
            .as_deref()
            .is_some_and(|after| after.contains("signing on")),
        "{:?}",
        find(known)
    );
    assert_eq!(find(gone).outcome, AuditOutcome::Unknown);
    assert!(
        find(gone)
            .answer
            .as_deref()
            .unwrap()
            .contains("no longer had")
    );
    // A target this run does not read is left for a later start.
    assert_eq!(find(unmanaged).outcome, AuditOutcome::Pending);
    // Nothing is left to do the second time.
    assert_eq!(
        reconcile_pending(&inventory, &log).await,
        Reconciled {
            settled: 0,
            left: 1
        }
    );
}

/// One change recorded in each account and region: (account, region, identity).
const SPREAD: [(&str, &str, &str); 4] = [
    ("prod", "us-east-1", "east.prod.example"),
    ("prod", "eu-west-1", "west.prod.example"),
    ("staging", "us-east-1", "east.staging.example"),
    ("staging", "eu-west-1", "west.staging.example"),
];

/// A filter as the query's `(name, value)` pairs.
type QueryPairs = &'static [(&'static str, &'static str)];

/// Filters and the identities of `SPREAD` each one lists, by name.
const FILTERED: [(QueryPairs, &[&str]); 5] = [
    (
        &[("region", "us-east-1")],
        &["east.prod.example", "east.staging.example"],
    ),
    (
        &[("region", "eu-west-1")],
        &["west.prod.example", "west.staging.example"],
    ),
    (
        &[("account", "prod")],
        &["east.prod.example", "west.prod.example"],
    ),
    (
        &[("account", "staging")],
        &["east.staging.example", "west.staging.example"],
    ),
    (
        &[("region", "eu-west-1"), ("account", "prod")],
        &["west.prod.example"],
    ),
];

/// The app over an audit log holding `SPREAD` (no SES needed to list it).
async fn app_with_spread_log() -> Router {
    let log = AuditLog::in_memory();
    let user = operator("erin");
    for (account, region, identity) in SPREAD {
        let attempt = Attempt {
            at: 1,
            user: &user,
            account,
            region,
            identity,
            action: "turn signing off".into(),
            before: "Easy DKIM, signing on, SUCCESS".into(),
        };
        log.begin(&attempt).await.unwrap();
    }
    let no_targets = Inventory::new(Vec::new(), RefreshSettings::default());
    router(state_with(no_targets, SesBackend::Simulator).with_audit(log))
}

#[tokio::test]
async fn list_activity_narrows_to_a_region_and_an_account() {
    let app = app_with_spread_log().await;
    for (filter, expected) in FILTERED {
        let (status, body) = post(&app, "activity", filter).await;
        assert_eq!(status, StatusCode::OK, "{filter:?}: {body}");
        let entries: Vec<dkimdash::audit::entry::AuditEntry> =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let mut listed: Vec<&str> = entries.iter().map(|e| e.identity.as_str()).collect();
        listed.sort_unstable();
        assert_eq!(listed, expected, "{filter:?}");
    }
}

#[tokio::test]
async fn the_activity_page_narrows_to_a_region_and_an_account() {
    let app = app_with_spread_log().await;
    for (filter, expected) in FILTERED {
        let query = serde_urlencoded::to_string(filter).unwrap();
        let (status, page) = get(&app, &format!("/activity?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(
            page.matches(r#"data-testid="change-row""#).count(),
            expected.len(),
            "{query}"
        );
        for (_, _, identity) in SPREAD {
            let shown = page.contains(&format!(">{identity}</a>"));
            assert_eq!(shown, expected.contains(&identity), "{query}: {identity}");
        }
    }
}
