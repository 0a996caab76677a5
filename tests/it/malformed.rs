//! Malformed requests get a 4xx that names the problem, never a 5xx: every registered
//! server function (walked from the registry, so a new one is covered without editing
//! this file) with a broken body, and random methods, paths, queries and bodies thrown at
//! the whole router.
use crate::support;

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use dkimdash::{app_error::AppError, model::SesBackend};
use proptest::prelude::*;
use support::{app_with, fetch, read_inventory, simulator};

async fn app() -> Router {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 100).await;
    // The simulator must outlive the test's requests.
    std::mem::forget(sim);
    app_with(inventory, SesBackend::Simulator)
}

fn post(path: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(path).header("sec-fetch-site", "same-origin");
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

#[tokio::test]
async fn every_server_function_answers_a_broken_body_with_a_4xx() {
    let app = app().await;
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    assert!(paths.len() >= 10, "{paths:?}");
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("invalid form encoding", Some(FORM), "region=%ZZ&name=%"),
        ("invalid JSON", Some(JSON), "{\"region\":"),
        ("a JSON array", Some(JSON), "[1, 2, 3]"),
        ("binary", Some(FORM), "\u{0}\u{1}\u{fffd}=\u{0}"),
        (
            "a field of the wrong type",
            Some(JSON),
            "{\"region\": 5, \"name\": []}",
        ),
        ("no content type", None, "region=us-east-1"),
    ];
    for path in &paths {
        for (case, content_type, body) in &cases {
            let (status, _, answer) = fetch(&app, post(path, *content_type, body)).await;
            assert!(
                !status.is_server_error(),
                "{path} with {case}: {status} {answer}"
            );
            // An unreadable form is the caller's mistake, typed as such for the page.
            if status == StatusCode::BAD_REQUEST && *content_type == Some(FORM) {
                assert!(
                    matches!(serde_json::from_str(&answer), Ok(AppError::BadRequest(_))),
                    "{path} with {case}: {answer}"
                );
            }
        }
    }
    // Functions that take arguments name the one that is missing.
    let (status, _, answer) = fetch(&app, post("/api/dkim/add", Some(FORM), "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    match serde_json::from_str(&answer) {
        Ok(AppError::BadRequest(why)) => assert!(why.contains("account"), "{why}"),
        other => panic!("{other:?}: {answer}"),
    }
    let (status, _, answer) = fetch(&app, post("/api/dkim/add", Some(FORM), "account=%ZZ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // Anything but a form is the wrong media type, named as such.
    for content_type in [Some(JSON), Some("text/plain"), None] {
        let (status, _, answer) =
            fetch(&app, post("/api/dkim/add", content_type, "{\"region\":")).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}: {answer}"
        );
        assert!(answer.contains(FORM), "{answer}");
    }
    // A form with a charset parameter is a form.
    let (status, _, answer) = fetch(
        &app,
        post(
            "/api/dkim/add",
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // The wrong method.
    let get = Request::get("/api/dkim/add").body(Body::empty()).unwrap();
    assert_eq!(fetch(&app, get).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

/// A request of any method to any path with any query and body.
fn any_request() -> impl Strategy<Value = Request<Body>> {
    let method = prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
    ]);
    let known = prop::sample::select(vec![
        "/",
        "/add",
        "/activity",
        "/identity/us-east-1/acme.example",
        "/download/identities.csv",
        "/download/identity/us-east-1/acme.example/records.zone",
        "/api/identities",
        "/api/identity",
        "/api/dkim/add",
        "/api/dkim/signing",
        "/api/check_dns",
        "/api/refresh_inventory",
    ]);
    let tail = "[a-zA-Z0-9%./_~-]{0,30}";
    let query = "[a-zA-Z0-9%=&+._-]{0,40}";
    let body = prop::collection::vec(any::<u8>(), 0..200);
    (method, known, tail, query, body).prop_map(|(method, known, tail, query, body)| {
        let path = format!("{known}{tail}");
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        Request::builder()
            .method(method)
            .uri(uri)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, FORM)
            .body(Body::from(body))
            .unwrap_or_else(|_| Request::new(Body::empty()))
    })
}

proptest! {
    // A fixed seed: the same 256 requests every run, so the suite stays deterministic.
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xd41d_2026),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_request_gets_a_5xx_or_hangs(request in any_request()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let described = format!("{} {}", request.method(), request.uri());
        let status = runtime.block_on(async {
            let app = shared_app().await;
            tokio::time::timeout(Duration::from_secs(10), fetch(&app, request))
                .await
        });
        let (status, _, answer) = status.map_err(|_| TestCaseError::fail(format!("{described}: no answer in 10 s")))?;
        prop_assert!(!status.is_server_error(), "{} answered {} {}", described, status, answer);
    }
}

/// One app for all the property's cases (each case runs on a runtime of its own, so the
/// app's simulator gets its own runtime thread).
async fn shared_app() -> Router {
    static APP: std::sync::OnceLock<Router> = std::sync::OnceLock::new();
    if let Some(app) = APP.get() {
        return app.clone();
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            sender.send(app().await).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let app = receiver.recv().unwrap();
    APP.get_or_init(|| app).clone()
}
