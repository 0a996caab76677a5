//! The real `dkimdash` binary, started as a child process on a free loopback port and driven
//! over HTTP: sign-in through the SSO proxy's trusted headers and through a JWT checked
//! against a JWKS served here, `--log-format json`, a graceful stop on SIGTERM that lets a
//! request in flight finish, and `--request-timeout-secs`. The other tests drive the router
//! in-process; only these see the flags, `main`, the listener, the signal handling and the
//! log set-up together. With no SES target configured the binary reads its embedded
//! simulator (demo identities), so no AWS account is involved.
use std::{
    io::Read,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use axum::{Json, Router, routing::get};
use dkimdash::app_error::AppError;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

/// Longest wait for the binary to answer `/readyz`, and to exit once asked to stop.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// Longest wait for a log line.
const WAIT_DEADLINE: Duration = Duration::from_secs(60);
/// Between two looks at something awaited.
const POLL_EVERY: Duration = Duration::from_millis(50);
/// Longest any one request may take: nothing here hangs without an end.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// A seeded demo identity (Easy DKIM, signing on) and its region.
const REGION: &str = "us-east-1";
const IDENTITY: &str = "acme.example";
const IDENTITY_PAGE: &str = "/identity/us-east-1/acme.example";

/// Turns signing off for the demo identity, confirmed, as the identity page's form does.
const SIGNING_OFF: &[(&str, &str)] = &[
    ("region", REGION),
    ("name", IDENTITY),
    ("enabled", "off"),
    ("confirm", "on"),
];

/// Flags every test passes. No backfill: the identity page then reads its identity's
/// details from SES when opened, which the latency tests need, and SES is otherwise quiet.
const QUIET_SES: &[&str] = &["--details-backfill", "0"];

/// What the child wrote to one of its output streams, collected by a thread of its own.
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Captured {
    fn new(mut stream: impl Read + Send + 'static) -> Self {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(read) = stream.read(&mut chunk)
                && read > 0
            {
                sink.lock().unwrap().extend_from_slice(&chunk[..read]);
            }
        });
        Self {
            bytes,
            reader: Some(reader),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Everything the stream carried; call once the child has exited (the stream closed).
    fn all(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the output reader ends");
        }
        self.text()
    }
}

/// A running `dkimdash`, killed (and its scratch directory removed) when dropped.
struct Server {
    child: Child,
    base_url: String,
    stdout: Captured,
    stderr: Captured,
    /// Its working directory and audit log: nothing is written to the work tree.
    scratch: PathBuf,
    client: reqwest::Client,
}

impl Server {
    /// Starts the binary on a free loopback port with `args` (and `env` on top of a cleaned
    /// environment), and waits until `GET /readyz` answers 200 (once SES was read).
    async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let scratch = scratch_dir();
        let base_url = format!("http://127.0.0.1:{}", free_loopback_port());
        let mut command = Command::new(env!("CARGO_BIN_EXE_dkimdash"));
        command
            .arg("--listen")
            .arg(base_url.trim_start_matches("http://"))
            .arg("--audit-db")
            .arg(scratch.join("audit.sqlite3"))
            .args(args)
            .current_dir(&scratch)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_inherited_setting) {
                command.env_remove(name);
            }
        }
        command
            .env("LEPTOS_OUTPUT_NAME", "dkimdash")
            // Plain lines: log text is searched and shown in failure messages.
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        let mut child = command.spawn().expect("the dkimdash binary starts");
        let stdout = Captured::new(child.stdout.take().expect("stdout is piped"));
        let stderr = Captured::new(child.stderr.take().expect("stderr is piped"));
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_DEADLINE)
            .build()
            .expect("an HTTP client");
        let mut server = Self {
            child,
            base_url,
            stdout,
            stderr,
            scratch,
            client,
        };
        server.wait_until_ready().await;
        server
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                panic!(
                    "dkimdash exited ({status}) before /readyz answered:\n{}",
                    self.all_output()
                );
            }
            let ready = self
                .client
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if ready.is_ok_and(|response| response.status() == StatusCode::OK) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "/readyz did not answer 200 within {START_DEADLINE:?}:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything logged so far, both streams.
    fn log(&self) -> String {
        format!("{}{}", self.stdout.text(), self.stderr.text())
    }

    /// Everything logged, once the child has exited.
    fn all_output(&mut self) -> String {
        format!("{}{}", self.stdout.all(), self.stderr.all())
    }

    async fn get(&self, path: &str, credentials: &HeaderMap) -> (StatusCode, String) {
        let request = self.client.get(self.url(path)).headers(credentials.clone());
        self.answer(request, path).await
    }

    /// A server function post as the hydrated page sends it (a form from the same origin,
    /// JSON asked for).
    fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        credentials: &HeaderMap,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .headers(credentials.clone())
            .header("sec-fetch-site", "same-origin")
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        credentials: &HeaderMap,
    ) -> (StatusCode, String) {
        self.answer(self.post_form(path, form, credentials), path)
            .await
    }

    async fn answer(&self, request: reqwest::RequestBuilder, path: &str) -> (StatusCode, String) {
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{path}: {error}\n{}", self.log()));
        let status = response.status();
        let body = response.text().await.expect("the answer's body");
        (status, body)
    }

    /// The embedded simulator's address, from the line the binary logs at start.
    fn simulator_url(&self) -> String {
        let log = self.log();
        let marker = "reading the embedded SES simulator at ";
        let at = log
            .find(marker)
            .unwrap_or_else(|| panic!("no simulator address logged:\n{log}"));
        let rest = &log[at + marker.len()..];
        rest[..rest.find(' ').expect("the address ends")].to_owned()
    }

    /// Delays every SES answer of the simulator by `latency`.
    async fn set_ses_latency(&self, latency: Duration) {
        let response = self
            .client
            .put(format!("{}/_sim/faults", self.simulator_url()))
            .json(&json!({ "latency_ms": latency.as_millis() as u64 }))
            .send()
            .await
            .expect("the simulator's control API answers");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// Waits until a log line satisfies `wanted`.
    async fn wait_for_log_line(&self, what: &str, wanted: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + WAIT_DEADLINE;
        while !self.log().lines().any(&wanted) {
            assert!(
                Instant::now() < deadline,
                "no log line {what} within {WAIT_DEADLINE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Asks the process to stop, as an orchestrator does.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM: {status}");
    }

    async fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "dkimdash still running {START_DEADLINE:?} after SIGTERM:\n{}",
                self.log()
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Settings of the test's own environment that would change how the binary runs (its
/// flags' environment twins, Leptos', the log filter, proxies for its JWKS fetch).
fn is_inherited_setting(name: &str) -> bool {
    const PROXIES: [&str; 4] = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"];
    name.starts_with("DKIMDASH_")
        || name.starts_with("LEPTOS_")
        || name.starts_with("SERVER_FN_")
        || ["RUST_LOG", "NO_COLOR", "DISABLE_SERVER_FN_HASH"].contains(&name)
        || PROXIES.contains(&name.to_ascii_lowercase().as_str())
}

/// A port nothing listens on now (never 3000, which a CI run of the demo uses).
fn free_loopback_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// A fresh directory under the system's temporary directory.
fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dkimdash-binary-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                reqwest::header::HeaderName::from_static(name),
                value.parse().expect("a header value"),
            )
        })
        .collect()
}

/// The text of the element marked `data-testid="{testid}"`, if the page has one.
fn text_of<'a>(html: &'a str, testid: &str) -> Option<&'a str> {
    let at = html.find(&format!("data-testid=\"{testid}\""))?;
    let rest = &html[at..];
    let text = &rest[rest.find('>')? + 1..];
    Some(&text[..text.find('<')?])
}

/// The typed error a server function answered with.
fn app_error(body: &str) -> AppError {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

/// A user as the SSO proxy names them in its trusted headers.
fn proxy_user(name: &str, groups: &str) -> HeaderMap {
    headers(&[
        ("x-forwarded-user", name),
        ("x-forwarded-email", &format!("{name}@example.com")),
        ("x-forwarded-groups", groups),
    ])
}

#[tokio::test]
async fn trusted_headers_from_the_proxy_sign_in_operators_and_viewers() {
    let mut args = vec![
        "--auth",
        "trusted-header",
        "--trusted-proxy",
        "127.0.0.1",
        "--operator-group",
        "dkim-operators",
        "--no-dns-checks",
    ];
    args.extend_from_slice(QUIET_SES);
    let server = Server::start(&args, &[]).await;
    let operator = proxy_user("carol", "staff, dkim-operators");
    let viewer = proxy_user("victor", "staff");
    let nobody = HeaderMap::new();

    let (status, page) = server.get(IDENTITY_PAGE, &operator).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(text_of(&page, "identity-name"), Some(IDENTITY), "{page}");
    assert_eq!(text_of(&page, "signing"), Some("On"));
    assert!(page.contains("carol (operator)"), "{page}");
    assert!(
        page.contains("Turn signing off"),
        "operators get the switch"
    );

    let (status, page) = server.get(IDENTITY_PAGE, &viewer).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(text_of(&page, "identity-name"), Some(IDENTITY));
    assert!(page.contains("victor (viewer)"), "{page}");
    assert!(!page.contains("Turn signing off"), "viewers get no switch");

    let (status, body) = server.get(IDENTITY_PAGE, &nobody).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, body) = server.post("/api/dkim/enabled", SIGNING_OFF, &viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        matches!(app_error(&body), AppError::NotAllowed(_)),
        "refused by role, not as cross-site: {body}"
    );
    let (status, body) = server.post("/api/dkim/enabled", SIGNING_OFF, &nobody).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, body) = server
        .post("/api/dkim/enabled", SIGNING_OFF, &operator)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("DKIM signing is off"), "{body}");
    let (status, page) = server.get(IDENTITY_PAGE, &operator).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        text_of(&page, "signing"),
        Some("Off"),
        "SES made the change"
    );
}

const JWT_ISSUER: &str = "https://auth.example.com";
const JWT_AUDIENCE: &str = "dkim.example.com";
/// The proxy's signing key, published in the JWKS as `proxy-key`.
const PROXY_KEY: &str = include_str!("../fixtures/keys/rsa-2048-pkcs1.pem");
/// Another key, unknown to the JWKS.
const FORGER_KEY: &str = include_str!("../fixtures/keys/rsa-4096.pem");

/// The public half of the PKCS#1 RSA key `pem` as a JWK named `kid`.
/// Serves `jwks` on a loopback port, in this test's runtime; its URL.
async fn serve_jwks(jwks: Value) -> String {
    let app = Router::new().route(
        "/.well-known/pomerium/jwks.json",
        get(move || std::future::ready(Json(jwks.clone()))),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the JWKS");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the JWKS serves") });
    format!("http://{addr}/.well-known/pomerium/jwks.json")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// An RS256 assertion for erin (an operator), signed with `pem` under `kid`, expiring at
/// `expires`.
fn assertion(pem: &str, kid: &str, expires: i64) -> String {
    let claims = json!({
        "iss": JWT_ISSUER, "aud": JWT_AUDIENCE, "sub": "u-1", "email": "erin@example.com",
        "groups": ["staff", "dkim-operators"], "iat": unix_now() - 600, "exp": expires,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA signing key");
    encode(&header, &claims, &key).expect("a signed token")
}

#[tokio::test]
async fn jwt_assertions_are_checked_against_the_proxys_jwks() {
    let jwks_url =
        serve_jwks(json!({ "keys": [crate::support::rsa_jwk(PROXY_KEY, "proxy-key")] })).await;
    let mut args = vec![
        "--auth",
        "jwt",
        "--jwt-preset",
        "pomerium",
        "--jwks-url",
        &jwks_url,
        "--jwt-issuer",
        JWT_ISSUER,
        "--jwt-audience",
        JWT_AUDIENCE,
        "--operator-group",
        "dkim-operators",
        "--no-dns-checks",
    ];
    args.extend_from_slice(QUIET_SES);
    let server = Server::start(&args, &[]).await;
    let with_token = |token: &str| headers(&[("x-pomerium-jwt-assertion", token)]);
    let in_five_minutes = unix_now() + 300;

    let valid = assertion(PROXY_KEY, "proxy-key", in_five_minutes);
    let (status, page) = server.get("/", &with_token(&valid)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("erin@example.com (operator)"), "{page}");

    // Past the 30 s leeway.
    let expired = assertion(PROXY_KEY, "proxy-key", unix_now() - 120);
    // The JWKS's key id, another key's signature.
    let forged = assertion(FORGER_KEY, "proxy-key", in_five_minutes);
    for (case, credentials) in [
        ("expired", with_token(&expired)),
        ("wrongly signed", with_token(&forged)),
        ("no token", HeaderMap::new()),
    ] {
        let (status, body) = server.get("/", &credentials).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert!(!body.contains("erin"), "{case}: {body}");
    }
}

#[tokio::test]
async fn json_log_format_writes_one_json_object_per_line() {
    // DNS checks on: their lines are in the log too.
    let mut args = vec!["--log-format", "json"];
    args.extend_from_slice(QUIET_SES);
    let mut server = Server::start(&args, &[]).await;
    let local = HeaderMap::new();

    let (status, _) = server.get(IDENTITY_PAGE, &local).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .get("/identity/us-east-1/missing.example", &local)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = server.post("/api/dkim/enabled", SIGNING_OFF, &local).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .post("/api/dkim/enabled", &[("region", REGION)], &local)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    server.terminate();
    let exit = server.wait_for_exit().await;
    let (stdout, stderr) = (server.stdout.all(), server.stderr.all());
    assert!(exit.success(), "{exit}:\n{stdout}{stderr}");

    let messages_of = |stream: &str, text: &str| -> Vec<String> {
        text.lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("{stream}: not JSON ({error}): {line:?}"));
                assert!(entry["level"].is_string(), "{stream}: {line}");
                entry["message"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    };
    let messages = messages_of("stdout", &stdout);
    messages_of("stderr", &stderr);
    for expected in [
        "listening on http://127.0.0.1:",
        "finished processing request",
        "shutdown requested",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "no {expected:?} among {messages:#?}"
        );
    }
    assert_eq!(messages.last().map(String::as_str), Some("stopped"));
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_0() {
    let mut args = vec!["--no-dns-checks"];
    args.extend_from_slice(QUIET_SES);
    // tower-http's line as each request starts shows when the slow one is in flight.
    let mut server = Server::start(&args, &[("RUST_LOG", "info,tower_http=debug")]).await;
    let local = HeaderMap::new();
    // The change makes several SES calls: it runs seconds longer than SIGTERM takes.
    server.set_ses_latency(Duration::from_millis(1500)).await;

    let slow = tokio::spawn(
        server
            .post_form("/api/dkim/enabled", SIGNING_OFF, &local)
            .send(),
    );
    server
        .wait_for_log_line("showing the change started", |line| {
            line.contains("started processing request") && line.contains("/api/dkim/enabled")
        })
        .await;
    assert!(!slow.is_finished(), "the change is still waiting on SES");
    server.terminate();

    let response = slow
        .await
        .expect("the request task")
        .unwrap_or_else(|error| panic!("the change in flight: {error}\n{}", server.log()));
    assert!(
        server.log().contains("shutdown requested"),
        "SIGTERM arrived while the change was in flight:\n{}",
        server.log()
    );
    let status = response.status();
    let body = response.text().await.expect("the answer's body");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("DKIM signing is off"), "{body}");

    let exit = server.wait_for_exit().await;
    let log = server.all_output();
    assert_eq!(exit.code(), Some(0), "{exit}:\n{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn a_request_longer_than_the_timeout_answers_503() {
    let mut args = vec!["--request-timeout-secs", "1", "--no-dns-checks"];
    args.extend_from_slice(QUIET_SES);
    let server = Server::start(&args, &[]).await;
    let local = HeaderMap::new();
    // Opening the page reads the identity's details from SES, which now takes a minute:
    // far beyond the 1 s timeout, so only the server's timeout can end it in time.
    server.set_ses_latency(Duration::from_secs(60)).await;

    let started = Instant::now();
    let (status, body) = server.get(IDENTITY_PAGE, &local).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(30),
        "answered after {took:?}: the server's timeout, not SES, ended it"
    );

    // The same page, once SES answers at once: it was the wait that failed.
    server.set_ses_latency(Duration::ZERO).await;
    let (status, page) = server.get(IDENTITY_PAGE, &local).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(text_of(&page, "identity-name"), Some(IDENTITY));
}

#[tokio::test]
async fn metrics_listen_serves_only_metrics_and_asks_for_the_token() {
    let token = "metrics-token-0123456789";
    let metrics_addr = format!("127.0.0.1:{}", free_loopback_port());
    let mut args = vec!["--metrics-listen", metrics_addr.as_str()];
    args.extend_from_slice(QUIET_SES);
    let server = Server::start(&args, &[("DKIMDASH_METRICS_TOKEN", token)]).await;

    // The dashboard's own address no longer serves it.
    let (status, _) = server.get("/metrics", &HeaderMap::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let scrape = |authorization: Option<String>| {
        let mut request = server.client.get(format!("http://{metrics_addr}/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    let refused = scrape(None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let answered = scrape(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    let body = answered.text().await.unwrap();
    assert!(
        body.contains("dkimdash_identities{account=\"demo\""),
        "{body}"
    );
    assert!(body.contains("dkimdash_alerts_firing{"), "{body}");
    let other = server
        .client
        .get(format!("http://{metrics_addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert!(
        server
            .log()
            .contains(&format!("metrics on http://{metrics_addr}/metrics"))
    );
    assert!(!server.log().contains(token), "the token was logged");
}

/// `dkimdash healthcheck`, as a container or Kubernetes exec probe runs it: 0 when the
/// server answers, 1 (and why, on stderr) when nothing does.
#[tokio::test]
async fn the_healthcheck_subcommand_exits_0_when_ready_and_1_when_nothing_answers() {
    let mut args = vec!["--no-dns-checks"];
    args.extend_from_slice(QUIET_SES);
    let server = Server::start(&args, &[]).await;
    let probe_with = |extra: &[&str], listen: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dkimdash"));
        command
            .arg("healthcheck")
            .args(extra)
            .env_remove("DKIMDASH_LISTEN");
        if let Some(listen) = listen {
            command.env("DKIMDASH_LISTEN", listen);
        }
        command.output().expect("the binary runs")
    };
    let probe = |extra: &[&str]| probe_with(extra, None);
    let ready = probe(&["--url", &server.base_url]);
    assert!(ready.status.success(), "{ready:?}");
    assert!(String::from_utf8_lossy(&ready.stdout).contains("/readyz"));
    let live = probe(&["--url", &server.base_url, "--live"]);
    assert!(live.status.success(), "{live:?}");
    // Without --url: the server's own DKIMDASH_LISTEN, as its environment gives it.
    let listen = server.base_url.trim_start_matches("http://").to_owned();
    let by_listen = probe_with(&[], Some(&listen));
    assert!(by_listen.status.success(), "{by_listen:?}");

    let nobody = format!("http://127.0.0.1:{}", free_loopback_port());
    let down = probe(&["--url", &nobody, "--timeout-secs", "2"]);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("no answer"),
        "{down:?}"
    );
}
