//! `/metrics` read by a Prometheus text-format parser and checked against the simulator's
//! own state: identities by status and origin, SES calls by operation (the simulator counts
//! what it served), sweeps, DNS findings from real look-ups on loopback, alerts firing,
//! HTTP requests; no per-identity series unless asked; who may read it.
use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use dkimdash::auth::host::HostPolicy;
use dkimdash::{
    dns::monitor::DnsMonitor,
    model::{DkimStatus, KeyLength, SesBackend},
    monitoring::{Metrics, MetricsAccess},
    server::metrics_endpoint::listener_router,
    sim::{RunningSimulator, identity::SimIdentity},
};
use secrecy::SecretString;
use support::{fetch, get, read_inventory, simulator, state_with};

/// One sample: its name and labels.
type Series = (String, BTreeMap<String, String>);

/// A parsed exposition: every sample's value, and each family's declared type.
#[derive(Debug)]
struct Exposition {
    samples: BTreeMap<Series, f64>,
    types: BTreeMap<String, String>,
}

impl Exposition {
    /// Parses the Prometheus text format (0.0.4), refusing anything malformed: a bad
    /// name, an unterminated label, a value that is not a number, a sample with no TYPE,
    /// the same series twice.
    fn parse(text: &str) -> Self {
        let mut samples = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                assert!(
                    types.insert(name.to_owned(), kind.to_owned()).is_none(),
                    "{line}"
                );
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = parse_sample(line);
            let family = family_of(&series.0, &types);
            assert!(types.contains_key(&family), "no TYPE for {line}");
            assert!(samples.insert(series, value).is_none(), "twice: {line}");
        }
        Self { samples, types }
    }

    /// The value of the series `name` with exactly `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// Every series of `name`, as label maps with values.
    fn family(&self, name: &str) -> Vec<(&BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|((_, labels), value)| (labels, *value))
            .collect()
    }
}

/// A histogram's `_bucket`, `_sum` and `_count` belong to its family.
fn family_of(name: &str, types: &BTreeMap<String, String>) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types
                .get(base)
                .is_some_and(|k| k == "histogram" || k == "summary")
        {
            return base.to_owned();
        }
    }
    name.to_owned()
}

fn parse_sample(line: &str) -> (Series, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic()
                    || c == '_'
                    || c == ':'
                    || (i > 0 && c.is_ascii_digit())),
        "bad name: {line}"
    );
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars
                .next()
                .unwrap_or_else(|| panic!("unterminated: {line}"));
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' if key.is_empty() => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                    let mut value = String::new();
                    loop {
                        let (_, c) = chars
                            .next()
                            .unwrap_or_else(|| panic!("unterminated: {line}"));
                        match c {
                            '"' => break,
                            '\\' => match chars.next().map(|(_, c)| c) {
                                Some('n') => value.push('\n'),
                                Some(escaped @ ('"' | '\\')) => value.push(escaped),
                                other => panic!("bad escape {other:?}: {line}"),
                            },
                            c => value.push(c),
                        }
                    }
                    assert!(
                        labels.insert(std::mem::take(&mut key), value).is_none(),
                        "{line}"
                    );
                }
                c if c.is_ascii_alphanumeric() || c == '_' => key.push(c),
                other => panic!("unexpected {other:?}: {line}"),
            }
        }
    }
    let value = rest.trim();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value {number:?}: {line}")),
    };
    ((name.to_owned(), labels), value)
}

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

/// A simulator holding a known set of Easy DKIM domains: in us-east-1 two SUCCESS and a
/// FAILED one; in eu-west-1 one SUCCESS.
async fn known_simulator() -> RunningSimulator {
    let sim = simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        let mut add = |region: &str, name: &str, status: DkimStatus| {
            let mut identity = SimIdentity::easy_dkim_domain(name, KeyLength::Rsa2048, now);
            identity.set_status(status, now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        };
        add(EAST, "a.example", DkimStatus::Success);
        add(EAST, "b.example", DkimStatus::Success);
        add(EAST, "c.example", DkimStatus::Failed);
        add(WEST, "d.example", DkimStatus::Success);
    });
    sim
}

async fn scrape(app: &axum::Router) -> Exposition {
    let (status, headers, body) =
        fetch(app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    Exposition::parse(&body)
}

#[tokio::test]
async fn metrics_agree_with_the_simulator() {
    let sim = known_simulator().await;
    let inventory = read_inventory(&sim, &[EAST, WEST], 100).await;
    let state = state_with(inventory.clone(), SesBackend::Simulator);
    // The FAILED identity raises an alert.
    state
        .alerts
        .engine()
        .evaluate(&inventory.snapshot(), None, dkimdash::inventory::now())
        .await
        .unwrap();
    let app = dkimdash::router::router(state);
    let metrics = scrape(&app).await;

    // Identities: as many per status as the simulator holds.
    let identities = |region: &str, status: &str| {
        metrics.value(
            "dkimdash_identities",
            &[
                ("account", "demo"),
                ("region", region),
                ("dkim_status", status),
                ("origin", "AWS_SES"),
            ],
        )
    };
    assert_eq!(identities(EAST, "SUCCESS"), Some(2.0));
    assert_eq!(identities(EAST, "FAILED"), Some(1.0));
    assert_eq!(identities(WEST, "SUCCESS"), Some(1.0));
    assert_eq!(
        identities(WEST, "FAILED"),
        None,
        "no series for what is not there"
    );
    let total: f64 = metrics
        .family("dkimdash_identities")
        .iter()
        .map(|(_, v)| v)
        .sum();
    let held = sim
        .simulator
        .with_regions(|regions, _| [EAST, WEST].iter().map(|r| regions.count(r)).sum::<usize>());
    assert_eq!(total, held as f64);
    assert_eq!(metrics.types["dkimdash_identities"], "gauge");

    // SES calls: exactly what the simulator says it served, per region and operation.
    let served = sim.simulator.stats().calls;
    let mut counted = 0;
    for (labels, value) in metrics.family("dkimdash_ses_calls_total") {
        let region = &labels["region"];
        let operation = &labels["operation"];
        assert_eq!(
            Some(value as u64),
            served
                .get(region)
                .and_then(|ops| ops.get(operation))
                .copied(),
            "{labels:?}"
        );
        counted += 1;
    }
    let served_kinds: usize = served.values().map(BTreeMap::len).sum();
    assert_eq!(counted, served_kinds, "{served:?}");
    assert_eq!(metrics.types["dkimdash_ses_calls_total"], "counter");
    assert_eq!(
        metrics.value(
            "dkimdash_ses_throttles_total",
            &[
                ("account", "demo"),
                ("region", EAST),
                ("operation", "ListEmailIdentities")
            ]
        ),
        Some(0.0)
    );

    // Sweeps and targets.
    assert_eq!(metrics.value("dkimdash_sweeps_total", &[]), Some(1.0));
    let snapshot = inventory.snapshot();
    for target in &snapshot.targets {
        let labels = [("account", "demo"), ("region", target.region.as_str())];
        assert_eq!(metrics.value("dkimdash_target_up", &labels), Some(1.0));
        assert_eq!(
            metrics.value("dkimdash_last_successful_sweep_timestamp_seconds", &labels),
            target.last_success.map(|at| at as f64)
        );
        let took = metrics
            .value("dkimdash_sweep_duration_seconds", &labels)
            .expect("a sweep duration");
        assert!(took > 0.0 && took < 60.0, "{took}");
    }

    // Alerts: the FAILED identity, and zero for every other rule.
    assert_eq!(
        metrics.value(
            "dkimdash_alerts_firing",
            &[
                ("alertname", "DkimFailed"),
                ("severity", "critical"),
                ("silenced", "false")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        metrics.value(
            "dkimdash_alerts_firing",
            &[
                ("alertname", "DkimPendingTooLong"),
                ("severity", "warning"),
                ("silenced", "false")
            ]
        ),
        Some(0.0)
    );

    // No identity label by default.
    assert!(
        metrics
            .samples
            .keys()
            .all(|(_, labels)| !labels.contains_key("identity")),
        "an identity label without --metrics-per-identity"
    );

    // HTTP requests: the first scrape is counted by the second, by route pattern.
    let (status, _) = get(&app, "/identity/us-east-1/a.example").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let metrics = scrape(&app).await;
    let requests = |route: &str, status: &str| {
        metrics.value(
            "dkimdash_http_requests_total",
            &[("route", route), ("method", "GET"), ("status", status)],
        )
    };
    assert_eq!(requests("/metrics", "200"), Some(1.0));
    assert_eq!(requests("/identity/{region}/{name}", "200"), Some(1.0));
    assert_eq!(requests("unmatched", "404"), Some(1.0));
    assert_eq!(
        metrics.value(
            "dkimdash_http_request_duration_seconds_count",
            &[("route", "/identity/{region}/{name}")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metrics.types["dkimdash_http_request_duration_seconds"],
        "histogram"
    );
}

#[tokio::test]
async fn per_identity_series_only_when_asked() {
    let sim = known_simulator().await;
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    let access = MetricsAccess {
        per_identity: true,
        ..MetricsAccess::default()
    };
    let app = dkimdash::router::router(
        state_with(inventory, SesBackend::Simulator).with_metrics(Metrics::new(access)),
    );
    let metrics = scrape(&app).await;
    let mut statuses: Vec<(String, String)> = metrics
        .family("dkimdash_identity_dkim_status")
        .into_iter()
        .map(|(labels, value)| {
            assert_eq!(value, 1.0);
            (labels["identity"].clone(), labels["dkim_status"].clone())
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("a.example".to_owned(), "SUCCESS".to_owned()),
            ("b.example".to_owned(), "SUCCESS".to_owned()),
            ("c.example".to_owned(), "FAILED".to_owned()),
        ]
    );
}

#[tokio::test]
async fn dns_findings_are_counted_by_class() {
    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = read_inventory(&sim, &[EAST], 1000).await;
    let monitor = DnsMonitor::new(checker);
    let snapshot = inventory.snapshot();
    for (n, name) in ["acme.example", "shop.acme.example"].iter().enumerate() {
        let identity = snapshot
            .identities
            .iter()
            .find(|i| i.name == *name)
            .unwrap_or_else(|| panic!("{name} in the demo"));
        monitor
            .check_now(&inventory, identity, &format!("user-{n}"))
            .await
            .unwrap();
    }
    let app =
        dkimdash::router::router(state_with(inventory, SesBackend::Simulator).with_dns(monitor));
    let metrics = scrape(&app).await;
    let records = |finding: &str| {
        metrics.value(
            "dkimdash_dns_records",
            &[("account", "demo"), ("region", EAST), ("finding", finding)],
        )
    };
    // acme.example's three CNAMEs are published; shop.acme.example's are missing.
    assert_eq!(records("ok"), Some(3.0));
    assert_eq!(records("missing"), Some(3.0));
    assert_eq!(metrics.family("dkimdash_dns_records").len(), 2);
}

#[tokio::test]
async fn who_may_read_metrics() {
    let sim = known_simulator().await;
    let inventory = read_inventory(&sim, &[EAST], 100).await;
    let token = "0123456789abcdef-token";
    let guarded = MetricsAccess {
        token: Some(SecretString::from(token.to_owned())),
        ..MetricsAccess::default()
    };
    let state =
        state_with(inventory.clone(), SesBackend::Simulator).with_metrics(Metrics::new(guarded));
    let app = dkimdash::router::router(state);
    let ask = |authorization: Option<&str>| {
        let mut request = Request::get("/metrics");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, headers, _) = fetch(&app, ask(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    let (status, _, _) = fetch(&app, ask(Some("Bearer wrong-token-wrong-token"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = fetch(&app, ask(Some(&format!("Bearer {token}")))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("dkimdash_identities{"), "{body}");

    // With a listener of its own, the dashboard's address does not serve it.
    let separate = MetricsAccess {
        separate_listener: true,
        ..MetricsAccess::default()
    };
    let state = state_with(inventory, SesBackend::Simulator).with_metrics(Metrics::new(separate));
    let (status, _) = get(&dkimdash::router::router(state.clone()), "/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // On loopback without sign-in, only this port's loopback names are answered there, as
    // on the dashboard's port: a page re-pointed here by DNS rebinding reads nothing.
    let listener = listener_router(state, Arc::new(HostPolicy::new(&[], Some(9464))));
    let with_host = |host: &str| {
        Request::get("/metrics")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = fetch(&listener, with_host("127.0.0.1:9464")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = fetch(&listener, with_host("rebound.example:9464")).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert!(!body.contains("dkimdash_identities"), "{body}");
}
