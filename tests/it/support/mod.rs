//! Shared by the router-level tests: the whole app without a socket, and an inventory read
//! from the embedded simulator over real HTTP.

pub mod hook;
pub mod publishing;

use std::{num::NonZeroU32, time::Duration};

use aws_sdk_sesv2::{
    operation::put_email_identity_dkim_signing_attributes::PutEmailIdentityDkimSigningAttributesError,
    types::{DkimSigningAttributes, DkimSigningAttributesOrigin, DkimSigningKeyLength},
};
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use dkimdash::ses::client::SesClients;
use dkimdash::{
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
    router::router,
    server::{config::HttpLimits, state::AppState},
    ses::{budget::CallBudget, reader::SesConnection},
    sim::{self, RunningSimulator, SimConfig},
};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use tower::ServiceExt;

/// The complete application over `inventory` (no authentication, as on loopback).
pub fn app_with(inventory: Inventory, backend: SesBackend) -> Router {
    router(state_with(inventory, backend))
}

/// The state `app_with` serves, to change before building the router.
pub fn state_with(inventory: Inventory, backend: SesBackend) -> AppState {
    let options = LeptosOptions::builder()
        .output_name("dkimdash")
        .site_root("target/site")
        .build();
    // Tests choose no authentication and an in-memory audit log on purpose; each test
    // that needs others replaces them (`with_auth`, `with_audit`).
    AppState::new(
        options,
        HttpLimits::default(),
        inventory,
        backend,
        dkimdash::auth::Auth::none(),
        dkimdash::audit::log::AuditLog::in_memory(),
    )
}

/// The real SDK clients (SES v2 and v1) for `region` of the simulator.
pub fn sim_clients(simulator: &RunningSimulator, region: &str) -> SesClients {
    SesClients::for_endpoint(&simulator.endpoint_url(), region)
}

/// Asks SES (API v2) for `length` as the next Easy DKIM key of `identity`; SES's refusal
/// as its typed error.
pub async fn put_next_key_length(
    ses: &SesClients,
    identity: &str,
    length: DkimSigningKeyLength,
) -> Result<(), PutEmailIdentityDkimSigningAttributesError> {
    ses.v2
        .put_email_identity_dkim_signing_attributes()
        .email_identity(identity)
        .signing_attributes_origin(DkimSigningAttributesOrigin::AwsSes)
        .signing_attributes(
            DkimSigningAttributes::builder()
                .next_signing_key_length(length)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|error| error.into_service_error())
}

/// A simulator on a loopback port, without a quota.
pub async fn simulator(seed_demo: bool) -> RunningSimulator {
    sim::spawn(SimConfig {
        calls_per_second: None,
        seed_demo,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A simulator holding verified (SUCCESS) 2048-bit Easy DKIM domains `names` in
/// `region`, which never change by themselves, and its inventory, not read yet.
pub async fn verified_domains(region: &str, names: &[&str]) -> (RunningSimulator, Inventory) {
    use dkimdash::model::{DkimStatus, KeyLength};
    use dkimdash::sim::identity::SimIdentity;

    let sim = simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        for name in names {
            let mut identity = SimIdentity::easy_dkim_domain(name, KeyLength::Rsa2048, now);
            identity.set_status(DkimStatus::Success, now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        }
    });
    let inventory = unread_inventory(&sim, &[region], 100);
    (sim, inventory)
}

/// The demo's DNS servers for the demo simulator `sim` (keep it: dropping it stops them),
/// and a checker asking them, without a rate limit to wait on.
pub async fn demo_dns_checker(
    sim: &RunningSimulator,
) -> (
    dkimdash::dns::demo::DemoDns,
    dkimdash::dns::checker::Checker,
) {
    let demo_dns = dkimdash::dns::demo::start(&sim.simulator).await.unwrap();
    let checker = loopback_checker(&demo_dns);
    (demo_dns, checker)
}

/// A checker asking `dns` (the demo's servers, or the simulator's with `--serve-dns`),
/// without a rate limit to wait on.
pub fn loopback_checker(dns: &dkimdash::dns::demo::DemoDns) -> dkimdash::dns::checker::Checker {
    use dkimdash::dns::checker::{Checker, CheckerSettings};

    Checker::new(CheckerSettings {
        resolver: Some(dns.resolver()),
        timeout: Duration::from_secs(2),
        resolver_rate: NonZeroU32::new(1000).unwrap(),
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        concurrency: 4,
        nameserver_port: dns.nameserver_port(),
        allowed_nameservers: vec!["127.0.0.0/8".parse().unwrap()],
    })
    .unwrap()
}

/// An inventory of `regions` of the simulator (account "demo"), read once.
pub async fn read_inventory(
    simulator: &RunningSimulator,
    regions: &[&str],
    backfill_per_sweep: usize,
) -> Inventory {
    let inventory = unread_inventory(simulator, regions, backfill_per_sweep);
    inventory.refresh_now().await;
    inventory
}

/// An inventory of `regions` of the simulator (account "demo"), not read yet.
pub fn unread_inventory(
    simulator: &RunningSimulator,
    regions: &[&str],
    backfill_per_sweep: usize,
) -> Inventory {
    let readers = regions
        .iter()
        .map(|region| {
            let budget = CallBudget::new(NonZeroU32::new(1000).unwrap());
            SesConnection::for_endpoint("demo", region, &simulator.endpoint_url(), budget)
        })
        .collect();
    inventory_of(readers, backfill_per_sweep)
}

/// An inventory of `readers`, swept hourly (tests sweep when they want), reading up to
/// `backfill_per_sweep` identities' details per sweep.
pub fn inventory_of(readers: Vec<SesConnection>, backfill_per_sweep: usize) -> Inventory {
    Inventory::new(
        readers,
        RefreshSettings {
            interval: Duration::from_secs(3600),
            backfill_per_sweep,
            continuous_backfill: false,
        },
    )
}

/// Sends one request; returns the status, headers and body text.
pub async fn fetch(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// POSTs a form to a server function as the hydrated page does (JSON answer): status
/// and body.
pub async fn post(app: &Router, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let request = Request::post(format!("/api/{endpoint}"))
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(axum::http::header::ACCEPT, "application/json")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    let (status, _, body) = fetch(app, request).await;
    (status, body)
}

/// A change's answer as the browser decodes it: made (200), or the typed refusal that any
/// other status carries.
pub fn change_answer(status: StatusCode, body: &str) -> dkimdash::change_answer::ChangeAnswer {
    if status == StatusCode::OK {
        Ok(serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")))
    } else {
        Err(serde_json::from_str(body).unwrap_or_else(|e| panic!("{status} {e}: {body}")))
    }
}

/// `GET path`: status and body.
pub async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let (status, _, body) = fetch(app, Request::get(path).body(Body::empty()).unwrap()).await;
    (status, body)
}

/// Everything logged, at every level, from every crate (the SDK included).
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Every line so far.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line, at every level, from this call until the capture is dropped. One
/// process-wide subscriber (a thread-local one misses events when another test thread
/// caches a callsite's interest first), switched off between captures so that the other
/// tests of this binary neither pay for TRACE lines nor fill the buffer. The tests run one
/// at a time, so a capture holds its own test's lines.
pub fn captured_logs() -> LogCapture {
    use tracing_subscriber::{filter::LevelFilter, layer::SubscriberExt, reload};
    type Level = reload::Handle<LevelFilter, tracing_subscriber::Registry>;
    static CAPTURE: std::sync::OnceLock<(LogBuffer, Level)> = std::sync::OnceLock::new();
    let (buffer, level) = CAPTURE.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let (level, handle) = reload::Layer::new(LevelFilter::OFF);
        let subscriber = tracing_subscriber::registry().with(level).with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        (buffer, handle)
    });
    buffer.0.lock().unwrap().clear();
    level
        .modify(|level| *level = LevelFilter::TRACE)
        .expect("the capture's level");
    LogCapture {
        buffer: buffer.clone(),
        level: level.clone(),
    }
}

/// The lines logged since [`captured_logs`]; logging stops when dropped.
pub struct LogCapture {
    buffer: LogBuffer,
    level: tracing_subscriber::reload::Handle<
        tracing_subscriber::filter::LevelFilter,
        tracing_subscriber::Registry,
    >,
}

impl LogCapture {
    /// Every line so far.
    pub fn text(&self) -> String {
        self.buffer.text()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        let _ = self
            .level
            .modify(|level| *level = tracing_subscriber::filter::LevelFilter::OFF);
    }
}

/// An inventory of simulator-backed targets, each `(account label, simulator, region)`,
/// read once: the same name can then live in several accounts.
pub async fn read_targets(
    targets: &[(&str, &RunningSimulator, &str)],
    backfill_per_sweep: usize,
) -> Inventory {
    let readers = targets
        .iter()
        .map(|(account, simulator, region)| {
            let budget = CallBudget::new(NonZeroU32::new(1000).unwrap());
            SesConnection::for_endpoint(account, region, &simulator.endpoint_url(), budget)
        })
        .collect();
    let inventory = inventory_of(readers, backfill_per_sweep);
    inventory.refresh_now().await;
    inventory
}

/// Waits until `condition` holds, looking every few milliseconds; fails the test, saying
/// what was awaited, once `deadline` has passed.
pub async fn eventually(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let polled = tokio::time::timeout(deadline, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(polled.is_ok(), "{what}: not within {deadline:?}");
}

/// The identity names of the overview table's rows, in order.
pub fn table_row_names(html: &str) -> Vec<&str> {
    html.match_indices("<th scope=\"row\"><a href=\"")
        .map(|(at, marker)| {
            let rest = &html[at + marker.len()..];
            let text = &rest[rest.find('>').unwrap() + 1..];
            &text[..text.find('<').unwrap()]
        })
        .collect()
}

/// `html` without its line-break opportunities (`<wbr>`, which the page puts after the
/// dots of DNS names), so a name reads as one string again.
pub fn unbroken(html: &str) -> String {
    html.replace("<wbr>", "").replace("<wbr/>", "")
}

/// The text of the element marked `data-testid="{testid}"` (up to its first child tag).
pub fn text_of<'a>(html: &'a str, testid: &str) -> &'a str {
    let marker = format!("data-testid=\"{testid}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &html[at..];
    let text = &rest[rest.find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

/// The public half of the RSA private key `pem` (PKCS#1 or PKCS#8) as a JWK named `kid`.
pub fn rsa_jwk(pem: &str, kid: &str) -> serde_json::Value {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use rsa::{
        RsaPrivateKey, pkcs1::DecodeRsaPrivateKey, pkcs8::DecodePrivateKey, traits::PublicKeyParts,
    };
    let key = RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
        .expect("an RSA private key in PKCS#1 or PKCS#8");
    serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

/// Sets an identity's DKIM status through the simulator's control API, as an operator's
/// script would.
pub async fn set_status(sim: &RunningSimulator, region: &str, name: &str, status: &str) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .put(format!(
            "{}/_sim/regions/{region}/identities/{name}/status",
            sim.endpoint_url()
        ))
        .json(&serde_json::json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
