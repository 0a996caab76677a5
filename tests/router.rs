//! The whole router, driven without a socket: probes, the SSR page, server functions,
//! and the limits the middleware stack enforces.
#![cfg(feature = "ssr")]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use dkimdash::{
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
    server::config::HttpLimits,
};
use support::{app_with, read_inventory, simulator};
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
    // The version comes from the `server_status` server function, resolved during SSR.
    let version = format!(
        "data-testid=\"server-version\">{}</dd>",
        env!("CARGO_PKG_VERSION")
    );
    assert!(html.contains(&version), "no server status in:\n{html}");
    assert!(
        html.contains("data-testid=\"check-number\">#1</dd>"),
        "{html}"
    );
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
async fn oversize_body_is_refused_with_413() {
    let oversize = "a=".to_owned() + &"x".repeat(HttpLimits::default().max_body_bytes);
    let request = Request::post("/api/server_status")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, oversize.len())
        .body(Body::from(oversize))
        .unwrap();
    let (status, _) = send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
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

#[tokio::test]
async fn overview_shows_the_demo_inventory_with_its_status_counts() {
    use dkimdash::sim;

    let simulator = simulator(true).await;
    let regions: Vec<&str> = sim::seed::demo_counts()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let inventory = read_inventory(&simulator, &regions, 200).await;
    let expected = inventory.snapshot().status_counts();

    let (_, html) = support::get(&app_with(inventory, SesBackend::Simulator), "/").await;
    let seeded: usize = sim::seed::demo_counts().iter().map(|(_, n)| n).sum();
    assert!(
        html.contains(&format!("data-testid=\"identity-total\">{seeded}<")),
        "{html}"
    );
    assert!(html.contains("demo: simulated SES"), "{html}");
    for (status, count) in expected {
        let item = format!("data-testid=\"count-{}\"", status.as_ses());
        let at = html
            .find(&item)
            .unwrap_or_else(|| panic!("no {item} in {html}"));
        let item_html = &html[at..at + html[at..].find("</li>").expect("item ends")];
        let count_html = format!("<span class=\"count\">{count}</span>");
        assert!(
            item_html.contains(&count_html),
            "{status:?} should count {count}: {item_html}"
        );
    }
}
