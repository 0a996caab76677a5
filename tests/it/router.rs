//! The whole router, driven without a socket: probes, the SSR page, server functions,
//! and the limits the middleware stack enforces.
use crate::support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use dkimdash::{
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
};
use support::{app_with, read_inventory, simulator, table_row_names, text_of};
use tower::ServiceExt;

/// An app with no targets configured: nothing to read.
fn app() -> Router {
    app_with(
        Inventory::new(Vec::new(), RefreshSettings::default()),
        SesBackend::Aws,
    )
}

async fn send(request: Request<Body>) -> (StatusCode, String) {
    let (status, _, body) = support::fetch(&app(), request).await;
    (status, body)
}

async fn get(path: &str) -> (StatusCode, String) {
    support::get(&app(), path).await
}

#[tokio::test]
async fn probes_answer_200() {
    assert_eq!(get("/livez").await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(get("/readyz").await, (StatusCode::OK, "ready".to_owned()));
}

/// A new instance is not ready until it has read SES once: behind a load balancer it would
/// otherwise serve an empty inventory. Alive all the same.
#[tokio::test]
async fn ready_only_once_every_target_was_read() {
    let sim = support::simulator(true).await;
    let inventory = support::unread_inventory(&sim, &["us-east-1", "eu-west-1"], 0);
    let app = support::app_with(inventory.clone(), SesBackend::Simulator);
    assert_eq!(
        support::get(&app, "/readyz").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "reading SES for the first time".to_owned()
        )
    );
    assert_eq!(support::get(&app, "/livez").await.0, StatusCode::OK);
    inventory.refresh_now().await;
    assert_eq!(
        support::get(&app, "/readyz").await,
        (StatusCode::OK, "ready".to_owned())
    );
}

#[tokio::test]
async fn home_page_is_rendered_with_the_server_function_output() {
    let (status, html) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<header class=\"site-header\">"), "{html}");
    // The footer's version comes from the `server_status` server function, run during SSR.
    let version = format!(
        "data-testid=\"server-version\">{}</span>",
        env!("CARGO_PKG_VERSION")
    );
    assert!(html.contains(&version), "no server status in:\n{html}");
    // Islands mode: the loader that hydrates islands, and only islands, is on the page.
    assert!(html.contains("__hydrateIsland"), "{html}");
    assert!(html.contains("<leptos-island"), "no island in:\n{html}");
}

#[tokio::test]
async fn unknown_page_is_a_404_page() {
    let (status, html) = get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn server_function_answers_over_http() {
    let request = Request::post("/api/server_status")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(body.contains(&expected), "{body}");
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    for (bytes, refused) in [(64 * 1024, false), (64 * 1024 + 1, true)] {
        let body = "a=".to_owned() + &"x".repeat(bytes - 2);
        let request = Request::post("/api/server_status")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();
        let (status, _) = send(request).await;
        assert_eq!(
            status == StatusCode::PAYLOAD_TOO_LARGE,
            refused,
            "{bytes} bytes: {status}"
        );
    }
}

#[tokio::test]
async fn responses_carry_basic_security_headers() {
    let response = app()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

/// Counted by hand from src/sim/seed.rs. An address has its domain's DKIM status (none
/// when its domain is not an identity in that region); a DEED replica its parent's, or
/// FAILED without one.
const DEMO_STATUS_COUNTS: [(&str, usize); 5] = [
    ("SUCCESS", 24),
    ("PENDING", 5),
    ("TEMPORARY_FAILURE", 3),
    // shop.acme.example and its address bounce@, internal.acme.example, dr.acme.example
    // (replica without a parent), old.acme-europe.example.
    ("FAILED", 5),
    // beta.acme.example and notify.acme-europe.example (no DKIM yet), and
    // alerts@acme.example in eu-west-1, where acme.example is not an identity.
    ("NOT_STARTED", 3),
];

/// The demo seed's identities that need attention, by hand from src/sim/seed.rs: the
/// FAILED and TEMPORARY_FAILURE ones, Easy DKIM PENDING for over 72 hours (legacy: 5
/// days, gdpr: 4), and verified domains with signing off (alerts., press.).
const DEMO_NEEDING_ATTENTION: [&str; 12] = [
    "alerts.acme.example",
    "billing.acme-europe.example",
    "bounce@shop.acme.example",
    "dr.acme.example",
    "gdpr.acme-europe.example",
    "internal.acme.example",
    "legacy.acme.example",
    "old.acme-europe.example",
    "press.acme-europe.example",
    "promo.acme.example",
    "shop.acme.example",
    "vendor.acme-europe.example",
];

/// The count the summary strip shows in its item marked `testid`.
fn strip_count(html: &str, testid: &str) -> usize {
    let marker = format!("data-testid=\"{testid}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let item = &html[at..at + html[at..].find("</li>").expect("item ends")];
    let count = "<span class=\"count\">";
    let from = item
        .find(count)
        .unwrap_or_else(|| panic!("no count: {item}"))
        + count.len();
    let digits = &item[from..from + item[from..].find('<').unwrap()];
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{testid}: {item}"))
}

#[tokio::test]
async fn overview_shows_the_demo_inventory_with_its_status_and_attention_counts() {
    let simulator = simulator(true).await;
    let inventory = read_inventory(&simulator, &["us-east-1", "eu-west-1"], 200).await;
    let app = app_with(inventory, SesBackend::Simulator);

    let (_, html) = support::get(&app, "/").await;
    // src/sim/seed.rs: 22 identities in us-east-1, 18 in eu-west-1.
    assert_eq!(text_of(&html, "identity-total"), "40");
    assert!(html.contains("demo: simulated SES"), "{html}");
    for (status, count) in DEMO_STATUS_COUNTS {
        assert_eq!(
            strip_count(&html, &format!("count-{status}")),
            count,
            "{status}"
        );
    }
    // The twelve of DEMO_NEEDING_ATTENTION.
    assert_eq!(strip_count(&html, "facet-attention"), 12);

    // The rows the count links to are those identities.
    let (_, html) = support::get(&app, "/?attention=1&per=200").await;
    let mut names = table_row_names(&html);
    names.sort_unstable();
    assert_eq!(names, DEMO_NEEDING_ATTENTION);
}

#[tokio::test]
async fn the_inventory_stamp_answers_the_overview_island_as_it_asks() {
    // The island posts an empty form: a form body (the content type) all the same.
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 0).await;
    let app = app_with(inventory.clone(), SesBackend::Simulator);
    let (status, body) = support::post(&app, "inventory_stamp", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, r#"{"sweeping":false,"sweeps":1}"#);
    inventory.refresh_now().await;
    let (_, body) = support::post(&app, "inventory_stamp", &[]).await;
    assert_eq!(body, r#"{"sweeping":false,"sweeps":2}"#);
}
