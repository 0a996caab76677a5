//! `/metrics` behind the SSO proxy's sign-in, through the whole router built from the
//! server's own flags, in both proxy modes (`--auth trusted-header` and `--auth jwt`):
//! without `--metrics-token`, a signed-in user reads it and a signed-out request is
//! refused; with a token, a scraper gets in with the token alone and with nothing else;
//! the answer is never cached; and `dkimdash_target_up` tells a target whose SES fails from
//! one that answers. (`metrics::who_may_read_metrics` covers the token with `--auth none`
//! and the listener of its own.)
use crate::support;

use std::{collections::BTreeSet, net::SocketAddr, num::NonZeroU32, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Request, StatusCode, header},
};
use clap::Parser;
use dkimdash::{
    inventory::Inventory,
    model::SesBackend,
    monitoring::Metrics,
    router::router,
    server::config::Config,
    ses::{budget::CallBudget, reader::SesConnection},
    sim::Faults,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use support::{fetch, state_with};

const EAST: &str = "us-east-1";
/// Where the SSO proxy connects from (`--trusted-proxy`).
const PROXY: &str = "10.0.0.7:41000";
/// Prometheus, connecting straight to dkimdash (not through the proxy).
const SCRAPER: &str = "192.0.2.20:40000";
const TOKEN: &str = "scrape-token-0123456789";
const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "dkim.example.com";
const EC_PRIVATE: &str = include_str!("../fixtures/keys/ec-p256.pem");
const EC_PUBLIC_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keys/ec-p256-public.pem"
);

/// How the SSO proxy in front says who is signed in.
#[derive(Clone, Copy, Debug)]
enum SignIn {
    /// `--auth trusted-header`: identity headers, believed from the proxy's address only.
    TrustedHeader,
    /// `--auth jwt`: Pomerium's signed assertion (ES256, the key from a PEM file).
    Jwt,
}

impl SignIn {
    const BOTH: [Self; 2] = [Self::TrustedHeader, Self::Jwt];

    /// The server's flags for this mode.
    fn flags(self) -> Vec<&'static str> {
        match self {
            Self::TrustedHeader => {
                vec!["--auth", "trusted-header", "--trusted-proxy", "10.0.0.0/8"]
            }
            Self::Jwt => vec![
                "--auth",
                "jwt",
                "--jwt-preset",
                "pomerium",
                "--jwt-key-file",
                EC_PUBLIC_FILE,
                "--jwt-issuer",
                ISSUER,
                "--jwt-audience",
                AUDIENCE,
            ],
        }
    }

    /// What the proxy adds to the request of a signed-in user, Erin.
    fn identity(self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match self {
            Self::TrustedHeader => {
                headers.insert("x-forwarded-user", "erin".parse().unwrap());
                headers.insert("x-forwarded-email", "erin@example.com".parse().unwrap());
                headers.insert("x-forwarded-groups", "staff".parse().unwrap());
            }
            Self::Jwt => {
                let now = dkimdash::inventory::now();
                let claims = json!({
                    "iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "email": "erin@example.com",
                    "groups": ["staff"], "iat": now, "exp": now + 300,
                });
                let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
                let token = encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap();
                headers.insert("x-pomerium-jwt-assertion", token.parse().unwrap());
            }
        }
        headers
    }
}

/// The dashboard over `inventory` as `dkimdash <the mode's flags> <more>` serves it.
fn dashboard(inventory: Inventory, sign_in: SignIn, more: &[&str]) -> Router {
    let args = ["dkimdash"]
        .into_iter()
        .chain(sign_in.flags())
        .chain(more.iter().copied());
    let config = Config::try_parse_from(args).unwrap();
    let listen: SocketAddr = "0.0.0.0:3000".parse().unwrap();
    let state = state_with(inventory, SesBackend::Simulator)
        .with_auth(config.auth.auth(listen).unwrap())
        .with_security(config.security.security(listen, false))
        .with_metrics(Metrics::new(config.metrics.access().unwrap()));
    router(state)
}

/// `GET /metrics` from `peer` with `headers`, and `Authorization: Bearer {bearer}` when given.
fn scrape_request(peer: &str, headers: HeaderMap, bearer: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/metrics").body(Body::empty()).unwrap();
    request.headers_mut().extend(headers);
    if let Some(token) = bearer {
        let value = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// Asserts an answer carries the metrics, and that no cache may keep them.
fn assert_metrics(what: &str, status: StatusCode, headers: &HeaderMap, body: &str) {
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    assert!(body.contains("dkimdash_identities{"), "{what}: {body}");
    let cache = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok());
    assert_eq!(cache, Some("no-store"), "{what}");
}

/// Asserts an answer is a refusal that gives nothing away.
fn assert_refused(what: &str, status: StatusCode, body: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert!(!body.contains("dkimdash_"), "{what}: {body}");
}

/// A verified domain in the simulator, read once (the simulator must outlive the test).
async fn read_one_domain() -> (dkimdash::sim::RunningSimulator, Inventory) {
    let (sim, inventory) = support::verified_domains(EAST, &["a.example"]).await;
    inventory.refresh_now().await;
    (sim, inventory)
}

#[tokio::test]
async fn without_a_token_only_a_signed_in_user_reads_metrics() {
    let (_sim, inventory) = read_one_domain().await;
    for sign_in in SignIn::BOTH {
        let app = dashboard(inventory.clone(), sign_in, &[]);
        let what = |case: &str| format!("{sign_in:?}, {case}");

        let (status, _, body) = fetch(&app, scrape_request(PROXY, HeaderMap::new(), None)).await;
        assert_refused(&what("signed out"), status, &body);
        // A bearer token is no way in when none is configured.
        let (status, _, body) =
            fetch(&app, scrape_request(SCRAPER, HeaderMap::new(), Some(TOKEN))).await;
        assert_refused(&what("a made-up token"), status, &body);

        let (status, headers, body) =
            fetch(&app, scrape_request(PROXY, sign_in.identity(), None)).await;
        assert_metrics(&what("signed in"), status, &headers, &body);
    }
}

#[tokio::test]
async fn with_a_token_a_scraper_needs_the_token_and_nothing_else() {
    let (_sim, inventory) = read_one_domain().await;
    for sign_in in SignIn::BOTH {
        let app = dashboard(inventory.clone(), sign_in, &["--metrics-token", TOKEN]);
        let what = |case: &str| format!("{sign_in:?}, {case}");

        // Straight from the scraper, signed in nowhere: the token alone.
        let (status, headers, body) =
            fetch(&app, scrape_request(SCRAPER, HeaderMap::new(), Some(TOKEN))).await;
        assert_metrics(&what("the token"), status, &headers, &body);

        let wrong = "scrape-token-0123456780";
        let (status, _, body) =
            fetch(&app, scrape_request(SCRAPER, HeaderMap::new(), Some(wrong))).await;
        assert_refused(&what("a wrong token"), status, &body);
        let (status, _, body) = fetch(&app, scrape_request(PROXY, HeaderMap::new(), None)).await;
        assert_refused(&what("signed out, no token"), status, &body);
        // The token is then the only way in: signing in is not.
        let (status, _, body) = fetch(&app, scrape_request(PROXY, sign_in.identity(), None)).await;
        assert_refused(&what("signed in, no token"), status, &body);
    }
}

/// The value of the sample `name` whose labels are exactly `labels`, in the text format.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeSet<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (sample_name, labels) = series.split_once('{').unwrap_or((series, "}"));
            let labels: BTreeSet<String> = labels
                .strip_suffix('}')?
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(str::to_owned)
                .collect();
            (sample_name == name && labels == wanted).then(|| value.parse().ok())?
        })
}

#[tokio::test]
async fn target_up_tells_a_failing_target_from_a_working_one() {
    let (working, _) = support::verified_domains(EAST, &["a.example"]).await;
    let (failing, _) = support::verified_domains(EAST, &["b.example"]).await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // Failed calls are retried in a blink, so a failing sweep ends at once.
    let connect = |account: &str, endpoint: &str| {
        let budget = CallBudget::new(NonZeroU32::new(1000).unwrap())
            .with_base_backoff(Duration::from_millis(1));
        SesConnection::for_endpoint(account, EAST, endpoint, budget)
    };
    let inventory = support::inventory_of(
        vec![
            connect("working", &working.endpoint_url()),
            connect("unreachable", &format!("http://127.0.0.1:{closed_port}")),
            connect("failing", &failing.endpoint_url()),
        ],
        100,
    );
    inventory.refresh_now().await;
    // Read once, then SES answers nothing but errors.
    failing.simulator.set_faults(Faults {
        latency_ms: 0,
        error_rate: 1.0,
    });
    inventory.refresh_now().await;

    let app = dashboard(inventory, SignIn::Jwt, &["--metrics-token", TOKEN]);
    let (status, headers, body) =
        fetch(&app, scrape_request(SCRAPER, HeaderMap::new(), Some(TOKEN))).await;
    assert_metrics("the token", status, &headers, &body);
    let up = |account: &str| {
        sample(
            &body,
            "dkimdash_target_up",
            &[("account", account), ("region", EAST)],
        )
    };
    assert_eq!(up("working"), Some(1.0), "{body}");
    assert_eq!(up("unreachable"), Some(0.0), "never read: {body}");
    assert_eq!(up("failing"), Some(0.0), "read once, failing now: {body}");
}
