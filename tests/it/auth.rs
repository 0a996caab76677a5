//! Behind the SSO proxy: trusted-header authentication by TCP peer, roles from groups,
//! viewers refused on every write before SES is called. Through the whole router, with
//! the peer address set as the server sets it (`ConnectInfo`).
use crate::support;

use std::net::SocketAddr;

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use clap::Parser;
use dkimdash::{
    app_error::AppError, model::SesBackend, router::router, server::config::Config,
    sim::RunningSimulator,
};
use support::{fetch, read_inventory, simulator, state_with};

const PROXY: &str = "10.0.0.7:41000";
const OUTSIDER: &str = "192.0.2.10:41000";

/// The demo seed behind `--auth trusted-header --trusted-proxy 10.0.0.0/8
/// --operator-group dkim-operators`.
async fn behind_proxy() -> (RunningSimulator, Router) {
    behind_proxy_with(&[]).await
}

/// As `behind_proxy`, with more flags.
async fn behind_proxy_with(flags: &[&str]) -> (RunningSimulator, Router) {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1", "eu-west-1"], 100).await;
    let args = [
        "dkimdash",
        "--auth",
        "trusted-header",
        "--trusted-proxy",
        "10.0.0.0/8",
        "--operator-group",
        "dkim-operators",
    ];
    let config = Config::try_parse_from(args.iter().chain(flags)).unwrap();
    let auth = config.auth.auth("0.0.0.0:3000".parse().unwrap()).unwrap();
    let state = state_with(inventory, SesBackend::Simulator)
        .with_auth(auth)
        .with_security(
            config
                .security
                .security("0.0.0.0:3000".parse().unwrap(), false),
        );
    (sim, router(state))
}

const CAROL: Option<(&str, &str)> = Some(("carol", "dkim-operators"));
const SIGNING_OFF: &[(&str, &str)] = &[
    ("region", "us-east-1"),
    ("name", "acme.example"),
    ("enabled", "off"),
    ("confirm", "on"),
];

/// A request from `peer` as `user` (in `groups`), when given.
fn request(
    method: &str,
    path: &str,
    peer: &str,
    user: Option<(&str, &str)>,
    form: Option<&[(&str, &str)]>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "application/json");
    if let Some((name, groups)) = user {
        builder = builder
            .header("x-forwarded-user", name)
            .header("x-forwarded-email", format!("{name}@example.com"))
            .header("x-forwarded-groups", groups);
    }
    let body = match form {
        Some(form) => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(serde_urlencoded::to_string(form).unwrap())
        }
        None => Body::empty(),
    };
    let mut request = builder.body(body).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[tokio::test]
async fn identity_headers_count_only_from_the_proxy() {
    let (_sim, app) = behind_proxy().await;
    let alice = Some(("alice", "staff, dkim-operators"));

    let (status, _, body) = fetch(&app, request("GET", "/", OUTSIDER, alice, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Why it was refused is for the log; the answer is the same whatever the reason.
    assert!(body.contains("could not tell who you are"), "{body}");
    assert!(!body.contains("proxy"), "{body}");
    assert!(
        !body.contains("alice"),
        "the refusal does not echo the headers"
    );

    let (status, _, no_user) = fetch(&app, request("GET", "/", PROXY, None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_user, body, "one answer whatever the reason");

    // X-Forwarded-For naming the proxy changes nothing.
    let mut spoofed = request("GET", "/", OUTSIDER, alice, None);
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "10.0.0.7".parse().unwrap());
    let (status, _, _) = fetch(&app, spoofed).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _, page) = fetch(&app, request("GET", "/", PROXY, alice, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("alice"), "the signed-in user is shown");
    assert!(page.contains("(operator)"), "{page}");
    assert!(
        page.contains(r#"href="/add""#),
        "operators get the add link"
    );

    // Probes need no credentials, from anywhere.
    for probe in ["/livez", "/readyz"] {
        let (status, _, _) = fetch(&app, request("GET", probe, OUTSIDER, None, None)).await;
        assert_eq!(status, StatusCode::OK, "{probe}");
    }
}

#[tokio::test]
async fn viewers_see_no_write_controls_and_every_write_is_refused_before_ses() {
    let (sim, app) = behind_proxy().await;
    let bob = Some(("bob", "staff"));

    let (status, _, page) = fetch(&app, request("GET", "/", PROXY, bob, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("(viewer)"), "{page}");
    assert!(!page.contains(r#"href="/add""#), "no add link for viewers");
    // The identity page itself (not the not-found page, which repeats the name): an
    // operator gets the write controls on it, a viewer does not.
    for (user, role, manages) in [(CAROL, "operator", true), (bob, "viewer", false)] {
        let (status, _, page) = fetch(
            &app,
            request("GET", "/identity/us-east-1/acme.example", PROXY, user, None),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{role}");
        assert!(
            page.contains(r#"<span data-testid="identity-name">acme.example</span>"#),
            "{role}: {page}"
        );
        assert_eq!(page.contains("Manage DKIM"), manages, "{role}");
    }

    sim.simulator.reset_stats();
    let writes: [(&str, &[(&str, &str)]); 5] = [
        (
            "dkim/signing",
            &[
                ("region", "us-east-1"),
                ("name", "acme.example"),
                ("mode", "byodkim"),
                ("selector", "s1"),
                ("generate", "on"),
                ("confirm", "on"),
            ],
        ),
        ("dkim/enabled", SIGNING_OFF),
        (
            "dkim/add",
            &[
                ("account", "demo"),
                ("region", "us-east-1"),
                ("domain", "viewer-made.example"),
                ("mode", "easy"),
            ],
        ),
        (
            "alerts/silence",
            &[
                ("fingerprint", "0123456789abcdef"),
                ("scope", "rule"),
                ("duration", "1w"),
                ("comment", "a viewer's silence"),
            ],
        ),
        ("alerts/unsilence", &[("id", "1")]),
    ];
    for (endpoint, form) in writes {
        let path = format!("/api/{endpoint}");
        let (status, _, body) = fetch(&app, request("POST", &path, PROXY, bob, Some(form))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint}: {body}");
        assert!(body.contains("Only operators"), "{endpoint}: {body}");
        // Unauthenticated: refused by the middleware before the function.
        let (status, _, _) = fetch(&app, request("POST", &path, OUTSIDER, bob, Some(form))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint}");
    }
    assert_eq!(
        sim.simulator.stats().total_calls(),
        0,
        "SES was never called"
    );

    // The same write from an operator reaches SES.
    let (status, _, body) = fetch(
        &app,
        request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("DKIM signing is off"), "{body}");
    assert_eq!(
        sim.simulator
            .stats()
            .calls_of("PutEmailIdentityDkimAttributes"),
        1
    );
}

#[tokio::test]
async fn every_server_function_but_the_listed_reads_refuses_a_viewer() {
    let (sim, app) = behind_proxy().await;
    let bob = Some(("bob", "staff"));
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    // The list of reads names only functions that exist.
    for read in dkimdash::api::READ_FUNCTIONS {
        assert!(
            registered.contains(&format!("/api/{read}")),
            "{read} is listed as a read but is not a server function"
        );
    }
    let writes: Vec<&String> = registered
        .iter()
        .filter(|path| {
            let endpoint = path.strip_prefix("/api/").unwrap_or(path);
            !dkimdash::api::READ_FUNCTIONS.contains(&endpoint)
        })
        .collect();
    for known in [
        "/api/dkim/signing",
        "/api/dkim/enabled",
        "/api/dkim/add",
        "/api/dkim/restart",
        "/api/repair/preview",
        "/api/repair/start",
    ] {
        assert!(writes.iter().any(|w| *w == known), "{known} is a write");
    }
    sim.simulator.reset_stats();
    for path in writes {
        // Even with a well-formed change, before the function reads its arguments.
        let (status, headers, body) =
            fetch(&app, request("POST", path, PROXY, bob, Some(SIGNING_OFF))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(body.contains("Only operators"), "{path}: {body}");
        assert!(headers.contains_key("serverfnerror"), "{path}");
    }
    assert_eq!(
        sim.simulator.stats().total_calls(),
        0,
        "SES was never called"
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_whoever_it_claims_to_be() {
    let (sim, app) = behind_proxy_with(&["--allowed-origin", "https://dkim.example.com"]).await;
    sim.simulator.reset_stats();
    let forged = [
        [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        [
            ("sec-fetch-site", "same-site"),
            ("origin", "https://other.example.com"),
        ],
        [
            ("origin", "https://evil.example"),
            ("host", "dkim.internal:3000"),
        ],
    ];
    for headers in forged {
        let mut post = request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF));
        for (name, value) in headers {
            post.headers_mut().insert(name, value.parse().unwrap());
        }
        let (status, _, body) = fetch(&app, post).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert!(body.contains("cross-origin"), "{body}");
    }
    assert_eq!(
        sim.simulator.stats().total_calls(),
        0,
        "SES was never called"
    );

    // From the dashboard's own pages (or the public origin) it goes through.
    let mut post = request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF));
    post.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    post.headers_mut()
        .insert("origin", "https://dkim.example.com".parse().unwrap());
    let (status, _, body) = fetch(&app, post).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sim.simulator
            .stats()
            .calls_of("PutEmailIdentityDkimAttributes"),
        1
    );
}

/// Behind a proxy that rewrites `Host`, a browser that sends no `Sec-Fetch-Site` is let
/// through by its `Origin` only when that is exactly an allowed origin.
#[tokio::test]
async fn without_fetch_metadata_only_an_allowed_origin_may_post() {
    let (sim, app) = behind_proxy_with(&["--allowed-origin", "https://dkim.example.com"]).await;
    sim.simulator.reset_stats();
    let mut allowed_posts = 0;
    for (origin, allowed) in [
        ("https://dkim.example.com", true),
        ("http://dkim.example.com", false),
        ("https://dkim.example.com:8443", false),
        ("https://dkim.example.com.evil.example", false),
        ("https://evil.example", false),
    ] {
        let mut post = request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF));
        post.headers_mut()
            .insert(header::HOST, "dkim.internal:3000".parse().unwrap());
        post.headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
        let (status, _, body) = fetch(&app, post).await;
        if allowed {
            allowed_posts += 1;
            assert_eq!(status, StatusCode::OK, "{origin}: {body}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
            assert!(body.contains("cross-origin"), "{origin}: {body}");
        }
    }
    assert_eq!(
        sim.simulator
            .stats()
            .calls_of("PutEmailIdentityDkimAttributes"),
        allowed_posts
    );
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_hsts_only_when_asked() {
    let (_sim, app) = behind_proxy().await;
    let (status, headers, page) = fetch(&app, request("GET", "/", PROXY, CAROL, None)).await;
    assert_eq!(status, StatusCode::OK);
    let policy = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce");
    assert!(nonce.len() >= 16, "{policy}");
    assert!(
        policy.contains("'strict-dynamic' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let scripts = page.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        page.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script has the nonce"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());

    // Another response, another nonce.
    let (_, again, _) = fetch(&app, request("GET", "/", PROXY, CAROL, None)).await;
    assert_ne!(
        again[header::CONTENT_SECURITY_POLICY],
        headers[header::CONTENT_SECURITY_POLICY]
    );
    // Answers that are not pages get the strictest policy.
    let (_, api, _) = fetch(&app, request("POST", "/api/me", PROXY, CAROL, Some(&[]))).await;
    assert_eq!(
        api[header::CONTENT_SECURITY_POLICY],
        "default-src 'none'; frame-ancestors 'none'"
    );

    let (_sim, app) = behind_proxy_with(&["--hsts-max-age-secs", "31536000"]).await;
    let (_, headers, _) = fetch(&app, request("GET", "/", PROXY, CAROL, None)).await;
    assert_eq!(
        headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn an_operator_over_the_change_limit_waits_and_nothing_reaches_ses() {
    let (sim, app) = behind_proxy_with(&["--writes-per-minute", "1", "--write-burst", "1"]).await;
    let (status, _, _) = fetch(
        &app,
        request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sim.simulator.reset_stats();
    let (status, headers, body) = fetch(
        &app,
        request("POST", "/api/dkim/enabled", PROXY, CAROL, Some(SIGNING_OFF)),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let refusal: AppError = serde_json::from_str(&body).unwrap();
    assert!(
        matches!(refusal, AppError::RateLimited { retry_after_secs } if retry_after_secs > 0),
        "{body}"
    );
    assert!(refusal.to_string().contains("Too many changes"), "{body}");
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(sim.simulator.stats().total_calls(), 0);
    // Another operator is not slowed down.
    let dave = Some(("dave", "dkim-operators"));
    let (status, _, _) = fetch(
        &app,
        request("POST", "/api/dkim/enabled", PROXY, dave, Some(SIGNING_OFF)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// `--auth none` on 127.0.0.1:3000, as `dkimdash` starts with no flags.
async fn loopback_dashboard(flags: &[&str]) -> (RunningSimulator, Router) {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 0).await;
    let config = Config::try_parse_from(["dkimdash"].iter().chain(flags)).unwrap();
    let listen = "127.0.0.1:3000".parse().unwrap();
    let auth = config.auth.auth(listen).unwrap();
    let security = config.security.security(listen, auth.is_none());
    let state = state_with(inventory, SesBackend::Simulator)
        .with_auth(auth)
        .with_security(security);
    (sim, router(state))
}

async fn status_for_host(app: &Router, method: &str, path: &str, host: &str) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(""))
        .unwrap();
    fetch(app, request).await.0
}

#[tokio::test]
async fn dns_rebinding_a_loopback_dashboard_gets_nothing() {
    let (_sim, app) = loopback_dashboard(&[]).await;
    assert_eq!(
        status_for_host(&app, "GET", "/", "127.0.0.1:3000").await,
        StatusCode::OK
    );
    assert_eq!(
        status_for_host(&app, "GET", "/", "localhost:3000").await,
        StatusCode::OK
    );
    // A page at attacker.example, re-pointed at 127.0.0.1: same origin for the browser,
    // but its Host is the attacker's name.
    for (method, path) in [("GET", "/"), ("POST", "/api/refresh_inventory")] {
        assert_eq!(
            status_for_host(&app, method, path, "attacker.example:3000").await,
            StatusCode::MISDIRECTED_REQUEST,
            "{method} {path}"
        );
    }
    // Probes answer by any name.
    assert_eq!(
        status_for_host(&app, "GET", "/livez", "10.1.2.3:3000").await,
        StatusCode::OK
    );

    // A name the operator lists is answered too.
    let (_sim, app) = loopback_dashboard(&["--allowed-host", "dkim.internal"]).await;
    assert_eq!(
        status_for_host(&app, "GET", "/", "dkim.internal:3000").await,
        StatusCode::OK
    );
    assert_eq!(
        status_for_host(&app, "GET", "/", "attacker.example:3000").await,
        StatusCode::MISDIRECTED_REQUEST
    );
}

#[tokio::test]
async fn in_the_default_mode_a_cross_site_post_changes_nothing() {
    // --auth none: everyone on loopback is the operator, so the only guard against a web
    // page posting to the local dashboard is the same-origin rule.
    let (sim, app) = loopback_dashboard(&[]).await;
    sim.simulator.reset_stats();
    let post = |site: Option<&str>, origin: Option<&str>| {
        let mut builder = Request::post("/api/dkim/enabled")
            .header("host", "127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(site) = site {
            builder = builder.header("sec-fetch-site", site);
        }
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        builder
            .body(Body::from(
                serde_urlencoded::to_string(SIGNING_OFF).unwrap(),
            ))
            .unwrap()
    };
    for (case, request) in [
        (
            "cross-site",
            post(Some("cross-site"), Some("https://evil.example")),
        ),
        (
            "same-site other origin",
            post(Some("same-site"), Some("http://127.0.0.1:8080")),
        ),
        (
            "no fetch metadata, foreign origin",
            post(None, Some("https://evil.example")),
        ),
    ] {
        let (status, _, _) = fetch(&app, request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
    }
    assert_eq!(
        sim.simulator.stats().total_calls(),
        0,
        "SES was never called"
    );

    // The dashboard's own page posting: the change is made.
    let (status, _, body) = fetch(
        &app,
        post(Some("same-origin"), Some("http://127.0.0.1:3000")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(support::change_answer(status, &body).is_ok(), "{body}");
    assert!(sim.simulator.stats().total_calls() > 0);
}
