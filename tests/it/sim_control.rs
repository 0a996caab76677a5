//! The simulator's control API (`/_sim/`) driven over real HTTP, each endpoint's effect
//! checked through the real AWS SDK for Rust talking to the same simulator: stats and their
//! reset, the call quota, injected faults and latency, the clock, bulk loading, forced DKIM
//! statuses, and 4xx answers to malformed control requests.
use crate::support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sesv2::{
    error::{ProvideErrorMetadata, SdkError},
    types::{
        DkimSigningAttributes, DkimSigningAttributesOrigin, DkimSigningKeyLength, DkimStatus,
        IdentityFilterKey, VerificationError,
    },
};
use dkimdash::{
    ses::client::SesClients,
    sim::{self, RunningSimulator, SimConfig},
};
use reqwest::{Method, StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};
use support::{put_next_key_length, sim_clients, simulator};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// Most identities one bulk call may add (`MAX_BULK` in src/sim/control.rs, and the README).
const BULK_CAP: usize = 100_000;

/// The control API of one running simulator, asked over HTTP as a script or the demo would.
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    fn of(sim: &RunningSimulator) -> Self {
        // A proxy from the environment must not stand between the test and loopback.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client");
        Self {
            http,
            base: format!("{}/_sim", sim.endpoint_url()),
        }
    }

    /// Sends `body` as given (so malformed text reaches the simulator) with an optional
    /// content type; the status and body text.
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let response = request.send().await.expect("the control API answers");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// Sends a JSON request that must get `expected`; the body text.
    async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: Value,
        expected: StatusCode,
    ) -> String {
        let (status, text) = self
            .send_raw(
                method.clone(),
                path,
                Some("application/json"),
                &body.to_string(),
            )
            .await;
        assert_eq!(status, expected, "{method} {path} {body}: {text}");
        text
    }

    async fn stats(&self) -> Value {
        let (status, text) = self.send_raw(Method::GET, "/stats", None, "").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    async fn set_quota(&self, calls_per_second: Value) {
        let body = json!({ "calls_per_second": calls_per_second });
        self.send_json(Method::PUT, "/quota", body, StatusCode::NO_CONTENT)
            .await;
    }

    async fn set_faults(&self, faults: Value) {
        self.send_json(Method::PUT, "/faults", faults, StatusCode::NO_CONTENT)
            .await;
    }

    async fn advance_clock(&self, seconds: i64) {
        let body = json!({ "seconds": seconds });
        self.send_json(Method::POST, "/clock/advance", body, StatusCode::NO_CONTENT)
            .await;
    }

    async fn set_status(&self, region: &str, name: &str, body: Value) {
        let path = format!("/regions/{region}/identities/{name}/status");
        self.send_json(Method::PUT, &path, body, StatusCode::NO_CONTENT)
            .await;
    }
}

/// The stats of a simulator that has served nothing.
fn no_stats() -> Value {
    json!({ "calls": {}, "total_calls": 0, "throttled": 0, "injected_failures": 0 })
}

fn clients(sim: &RunningSimulator, region: &str) -> SesClients {
    sim_clients(sim, region)
}

/// The SES operations the tables make. Variant names are SES's operation names, which is
/// how the stats count them.
#[derive(Clone, Copy, Debug)]
enum Operation {
    CreateEmailIdentity,
    GetEmailIdentity,
    ListEmailIdentities,
    PutEmailIdentityDkimAttributes,
    DeleteEmailIdentity,
    /// API v1 (Query/XML), as the dashboard reads DKIM in batches.
    GetIdentityDkimAttributes,
}

/// How SES refused a call, as the SDK saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Refusal {
    status: u16,
    code: String,
}

impl Refusal {
    fn new(status: u16, code: &str) -> Self {
        Self {
            status,
            code: code.to_owned(),
        }
    }
}

fn refusal<E: ProvideErrorMetadata + std::fmt::Debug>(error: SdkError<E>) -> Refusal {
    let status = match error.raw_response() {
        Some(response) => response.status().as_u16(),
        None => panic!("no HTTP answer: {error:?}"),
    };
    Refusal {
        status,
        code: error.code().unwrap_or_default().to_owned(),
    }
}

/// Makes one SDK call of `operation` on `identity` (ignored by listing).
async fn call(ses: &SesClients, operation: Operation, identity: &str) -> Result<(), Refusal> {
    match operation {
        Operation::CreateEmailIdentity => ses
            .v2
            .create_email_identity()
            .email_identity(identity)
            .send()
            .await
            .map(drop)
            .map_err(refusal),
        Operation::GetEmailIdentity => ses
            .v2
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
            .map(drop)
            .map_err(refusal),
        Operation::ListEmailIdentities => ses
            .v2
            .list_email_identities()
            .send()
            .await
            .map(drop)
            .map_err(refusal),
        Operation::PutEmailIdentityDkimAttributes => ses
            .v2
            .put_email_identity_dkim_attributes()
            .email_identity(identity)
            .signing_enabled(true)
            .send()
            .await
            .map(drop)
            .map_err(refusal),
        Operation::DeleteEmailIdentity => ses
            .v2
            .delete_email_identity()
            .email_identity(identity)
            .send()
            .await
            .map(drop)
            .map_err(refusal),
        Operation::GetIdentityDkimAttributes => ses
            .v1
            .get_identity_dkim_attributes()
            .identities(identity)
            .send()
            .await
            .map(drop)
            .map_err(refusal),
    }
}

/// Makes `count` ListEmailIdentities calls at once: how many SES answered and how many it
/// throttled. Any other answer fails the test.
async fn burst(ses: &SesClients, count: usize) -> (u64, u64) {
    let calls = (0..count).map(|_| call(ses, Operation::ListEmailIdentities, ""));
    let (mut answered, mut throttled) = (0, 0);
    for result in futures::future::join_all(calls).await {
        match result {
            Ok(()) => answered += 1,
            Err(refused) if refused == Refusal::new(429, "TooManyRequestsException") => {
                throttled += 1
            }
            Err(other) => panic!("neither answered nor throttled: {other:?}"),
        }
    }
    (answered, throttled)
}

/// Every identity of the region as ListEmailIdentities pages through them (100 a page):
/// name and verification status, and how many pages it took.
async fn list_all(ses: &SesClients) -> (Vec<(String, String)>, usize) {
    let pages = ses
        .v2
        .list_email_identities()
        .page_size(100)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("every page");
    let identities = pages
        .iter()
        .flat_map(|page| page.email_identities())
        .map(|identity| {
            let name = identity.identity_name().unwrap_or_default().to_owned();
            let status = identity
                .verification_status()
                .map(|s| s.as_str().to_owned());
            (name, status.unwrap_or_default())
        })
        .collect();
    (identities, pages.len())
}

async fn dkim_status(ses: &SesClients, name: &str) -> DkimStatus {
    let read = ses
        .v2
        .get_email_identity()
        .email_identity(name)
        .send()
        .await
        .expect("identity read");
    read.dkim_attributes()
        .and_then(|dkim| dkim.status())
        .cloned()
        .expect("a DKIM status")
}

/// Creates an Easy DKIM domain: when, by the simulator's clock, SES generated its key.
async fn create_stamped(ses: &SesClients, name: &str) -> i64 {
    let created = ses
        .v2
        .create_email_identity()
        .email_identity(name)
        .send()
        .await
        .expect("identity created");
    created
        .dkim_attributes()
        .and_then(|dkim| dkim.last_key_generation_timestamp())
        .expect("an Easy DKIM key generation time")
        .secs()
}

fn wall_clock_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn stats_count_admitted_sdk_calls_by_region_and_operation() {
    use Operation::*;
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let (east, west) = (clients(&sim, EAST), clients(&sim, WEST));
    assert_eq!(control.stats().await, no_stats());

    let not_found = || Err(Refusal::new(404, "NotFoundException"));
    let calls = [
        (&east, CreateEmailIdentity, "a.example", Ok(())),
        (&east, CreateEmailIdentity, "b.example", Ok(())),
        (&east, GetEmailIdentity, "a.example", Ok(())),
        // Refused by SES after admission: still a call SES counts against the quota.
        (&east, GetEmailIdentity, "missing.example", not_found()),
        (&east, ListEmailIdentities, "", Ok(())),
        (&east, PutEmailIdentityDkimAttributes, "a.example", Ok(())),
        (&east, DeleteEmailIdentity, "b.example", Ok(())),
        (&east, GetIdentityDkimAttributes, "a.example", Ok(())),
        (&west, ListEmailIdentities, "", Ok(())),
    ];
    for (ses, operation, identity, expected) in calls {
        assert_eq!(
            call(ses, operation, identity).await,
            expected,
            "{operation:?} {identity}"
        );
    }

    // Reading the stats (above and here) is not an SES call, so it is not counted.
    assert_eq!(
        control.stats().await,
        json!({
            "calls": {
                EAST: {
                    "CreateEmailIdentity": 2,
                    "GetEmailIdentity": 2,
                    "ListEmailIdentities": 1,
                    "PutEmailIdentityDkimAttributes": 1,
                    "DeleteEmailIdentity": 1,
                    "GetIdentityDkimAttributes": 1,
                },
                WEST: { "ListEmailIdentities": 1 },
            },
            "total_calls": 9,
            "throttled": 0,
            "injected_failures": 0,
        })
    );
}

#[tokio::test]
async fn stats_reset_zeroes_calls_throttles_and_injected_failures() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    for _ in 0..2 {
        call(&ses, Operation::ListEmailIdentities, "")
            .await
            .unwrap();
    }
    control.set_faults(json!({ "error_rate": 1.0 })).await;
    call(&ses, Operation::ListEmailIdentities, "")
        .await
        .unwrap_err();
    control.set_faults(json!({})).await;
    control.set_quota(json!(1)).await;
    let (answered, throttled) = burst(&ses, 10).await;
    assert!(throttled > 0, "a burst of 10 over a quota of 1 a second");
    assert_eq!(
        control.stats().await,
        json!({
            "calls": { EAST: { "ListEmailIdentities": 2 + answered } },
            "total_calls": 2 + answered,
            "throttled": throttled,
            "injected_failures": 1,
        })
    );

    let (status, body) = control
        .send_raw(Method::POST, "/stats/reset", None, "")
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(control.stats().await, no_stats());

    // Counting starts afresh rather than stopping.
    control.set_quota(Value::Null).await;
    call(&ses, Operation::ListEmailIdentities, "")
        .await
        .unwrap();
    assert_eq!(
        control.stats().await,
        json!({
            "calls": { EAST: { "ListEmailIdentities": 1 } },
            "total_calls": 1,
            "throttled": 0,
            "injected_failures": 0,
        })
    );
}

#[tokio::test]
async fn a_quota_throttles_a_burst_with_too_many_requests_until_it_is_lifted() {
    const BURST: usize = 10;
    // `calls_per_second`, and whether a burst of 10 at once is throttled. A quota of 1 a
    // second admits one call, then one more per second: 10 calls do not take 9 seconds.
    let cases = [
        (json!(1), true),
        (json!(0), false), // 0 means no limit, as `--calls-per-second 0`.
        (Value::Null, false),
    ];
    for (calls_per_second, limited) in cases {
        let sim = simulator(false).await;
        let control = Control::of(&sim);
        let ses = clients(&sim, EAST);
        control.set_quota(calls_per_second.clone()).await;

        let (answered, throttled) = burst(&ses, BURST).await;
        assert_eq!(answered + throttled, BURST as u64);
        if limited {
            assert!(
                answered >= 1,
                "{calls_per_second}: a fresh quota admits one"
            );
            assert!(throttled >= 1, "{calls_per_second}: the rest of the burst");
        } else {
            assert_eq!(throttled, 0, "{calls_per_second}");
        }
        let stats = control.stats().await;
        assert_eq!(stats["throttled"], throttled, "{calls_per_second}");
        assert_eq!(stats["calls"][EAST]["ListEmailIdentities"], answered);
        if limited {
            // The quota is per region.
            call(&clients(&sim, WEST), Operation::ListEmailIdentities, "")
                .await
                .unwrap();
            control.set_quota(Value::Null).await;
            assert_eq!(burst(&ses, BURST).await, (BURST as u64, 0), "lifted");
        }
    }
}

#[tokio::test]
async fn an_injected_error_fails_each_operation_with_ses_internal_error_until_cleared() {
    use Operation::*;
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    call(&ses, CreateEmailIdentity, "fault.example")
        .await
        .unwrap();
    // SES v2 names a server-side failure InternalServiceErrorException (HTTP 500); the
    // Query protocol of v1 uses the common error InternalFailure.
    let v2_internal = || Refusal::new(500, "InternalServiceErrorException");
    let operations = [
        (CreateEmailIdentity, "new.example", v2_internal()),
        (GetEmailIdentity, "fault.example", v2_internal()),
        (ListEmailIdentities, "", v2_internal()),
        (
            PutEmailIdentityDkimAttributes,
            "fault.example",
            v2_internal(),
        ),
        (
            GetIdentityDkimAttributes,
            "fault.example",
            Refusal::new(500, "InternalFailure"),
        ),
        (DeleteEmailIdentity, "fault.example", v2_internal()),
    ];

    control.set_faults(json!({ "error_rate": 1.0 })).await;
    for (operation, identity, expected) in &operations {
        assert_eq!(
            call(&ses, *operation, identity).await,
            Err(expected.clone()),
            "{operation:?}"
        );
    }
    let stats = control.stats().await;
    assert_eq!(stats["injected_failures"], operations.len());
    assert_eq!(stats["total_calls"], 1, "only the set-up call was admitted");

    control.set_faults(json!({})).await;
    for (operation, identity, _) in &operations {
        assert_eq!(
            call(&ses, *operation, identity).await,
            Ok(()),
            "{operation:?} after clearing"
        );
    }
}

#[tokio::test]
async fn a_latency_fault_delays_every_answer_by_at_least_the_given_time() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    let cases = [
        (json!({ "latency_ms": 300 }), Ok(())),
        // The delay comes before the injected error too.
        (
            json!({ "latency_ms": 300, "error_rate": 1.0 }),
            Err(Refusal::new(500, "InternalServiceErrorException")),
        ),
    ];
    for (faults, expected) in cases {
        control.set_faults(faults.clone()).await;
        let started = Instant::now();
        let result = call(&ses, Operation::ListEmailIdentities, "").await;
        let waited = started.elapsed();
        assert_eq!(result, expected, "{faults}");
        // A lower bound only: an upper one would flake on a busy machine.
        assert!(waited >= Duration::from_millis(300), "{faults}: {waited:?}");
    }
    control.set_faults(json!({})).await;
    call(&ses, Operation::ListEmailIdentities, "")
        .await
        .unwrap();
}

#[tokio::test]
async fn clock_advance_moves_the_time_ses_stamps_new_keys_with() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    control.advance_clock(10 * DAY).await;

    let before = wall_clock_secs();
    let generated = create_stamped(&ses, "later.example").await;
    let after = wall_clock_secs();
    assert!(
        (before + 10 * DAY..=after + 10 * DAY).contains(&generated),
        "{generated} is not 10 days after {before}..={after}"
    );
}

#[tokio::test]
async fn clock_advance_opens_the_next_daily_key_length_change() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    call(&ses, Operation::CreateEmailIdentity, "rotate.example")
        .await
        .unwrap();
    let change_key_length =
        |length: DkimSigningKeyLength| put_next_key_length(&ses, "rotate.example", length);
    change_key_length(DkimSigningKeyLength::Rsa1024Bit)
        .await
        .unwrap();

    // SES allows one Easy DKIM key length change a day.
    control.advance_clock(23 * HOUR).await;
    let refused = change_key_length(DkimSigningKeyLength::Rsa2048Bit)
        .await
        .unwrap_err();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    assert!(
        refused
            .message()
            .unwrap_or_default()
            .ends_with("try again in about 1 h"),
        "{refused:?}"
    );

    control.advance_clock(HOUR).await;
    change_key_length(DkimSigningKeyLength::Rsa2048Bit)
        .await
        .unwrap();
}

#[tokio::test]
async fn clock_advance_verifies_a_pending_identity_on_the_configured_schedule() {
    // The demo's schedule (`--verify-after-secs`): PENDING becomes SUCCESS after an hour.
    let sim = sim::spawn(SimConfig {
        calls_per_second: None,
        auto_verify_after: Some(Duration::from_secs(HOUR as u64)),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    let created_at = create_stamped(&ses, "soon.example").await;

    control.advance_clock(50 * 60).await;
    assert_eq!(dkim_status(&ses, "soon.example").await, DkimStatus::Pending);

    control.advance_clock(10 * 60).await;
    let read = ses
        .v2
        .get_email_identity()
        .email_identity("soon.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.dkim_attributes().and_then(|dkim| dkim.status()),
        Some(&DkimStatus::Success)
    );
    assert!(read.verified_for_sending_status());
    // Verified when the hour was up, not when it was read.
    let verified_at = read
        .verification_info()
        .and_then(|info| info.last_success_timestamp())
        .expect("a last success time")
        .secs();
    assert_eq!(verified_at, created_at + HOUR);
}

#[tokio::test]
async fn clock_advance_past_72_hours_fails_a_pending_identity() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    call(&ses, Operation::CreateEmailIdentity, "never.example")
        .await
        .unwrap();

    control.advance_clock(72 * HOUR - 60).await;
    assert_eq!(
        dkim_status(&ses, "never.example").await,
        DkimStatus::Pending
    );

    control.advance_clock(120).await;
    let read = ses
        .v2
        .get_email_identity()
        .email_identity("never.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.dkim_attributes().and_then(|dkim| dkim.status()),
        Some(&DkimStatus::Failed)
    );
    assert_eq!(
        read.verification_status().map(|s| s.as_str()),
        Some("FAILED")
    );
}

#[tokio::test]
async fn clock_advance_that_would_overflow_the_clock_is_refused() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    let (status, text) = control
        .send_raw(
            Method::POST,
            "/clock/advance",
            Some("application/json"),
            &json!({ "seconds": i64::MAX }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");

    let before = wall_clock_secs();
    let generated = create_stamped(&ses, "now.example").await;
    let after = wall_clock_secs();
    assert!(
        (before..=after).contains(&generated),
        "the clock moved: {generated} is not in {before}..={after}"
    );
}

#[tokio::test]
async fn bulk_adds_exactly_n_identities_that_a_paginated_list_sees() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, EAST);
    for name in ["own-1.example", "own-2.example", "own-3.example"] {
        call(&ses, Operation::CreateEmailIdentity, name)
            .await
            .unwrap();
    }
    // Request, how many it adds, their names' prefix, and the status they are listed with.
    let cases = [
        (
            json!({ "count": 250, "prefix": "load" }),
            250,
            "load",
            "SUCCESS",
        ),
        (json!({ "count": 1 }), 1, "bulk", "SUCCESS"),
        (
            json!({ "count": 7, "prefix": "held", "status": "PENDING" }),
            7,
            "held",
            "PENDING",
        ),
    ];
    for (request, added, prefix, status) in cases {
        let (before, _) = list_all(&ses).await;
        let answer = control
            .send_json(
                Method::POST,
                "/regions/us-east-1/bulk",
                request.clone(),
                StatusCode::CREATED,
            )
            .await;
        let (after, pages) = list_all(&ses).await;

        assert_eq!(after.len(), before.len() + added, "{request}");
        assert_eq!(answer, format!("{} identities in us-east-1", after.len()));
        assert_eq!(pages, after.len().div_ceil(100), "{request}");
        let new: Vec<_> = after.into_iter().filter(|i| !before.contains(i)).collect();
        let expected: Vec<_> = (0..added)
            .map(|n| (format!("{prefix}-{n:05}.example"), status.to_owned()))
            .collect();
        assert_eq!(new, expected, "{request}");
    }
}

#[tokio::test]
async fn bulk_takes_its_cap_and_refuses_more_adding_nothing() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let ses = clients(&sim, WEST);
    let bulk = |count: usize, prefix: &str| json!({ "count": count, "prefix": prefix });

    for refused in [bulk(BULK_CAP + 1, "over"), bulk(0, "none")] {
        let (status, text) = control
            .send_raw(
                Method::POST,
                "/regions/eu-west-1/bulk",
                Some("application/json"),
                &refused.to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {text}");
        assert!(
            text.contains("count must be 1 to 100000"),
            "{refused}: {text}"
        );
    }
    assert!(list_all(&ses).await.0.is_empty(), "nothing was added");

    let answer = control
        .send_json(
            Method::POST,
            "/regions/eu-west-1/bulk",
            bulk(BULK_CAP, "cap"),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(answer, "100000 identities in eu-west-1");
    // One filtered call rather than paging through 100,000: the last one is there.
    let last = ses
        .v2
        .list_email_identities()
        .filter(IdentityFilterKey::IdentityNameContains, "cap-99999")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = last
        .email_identities()
        .iter()
        .filter_map(|identity| identity.identity_name())
        .collect();
    assert_eq!(names, ["cap-99999.example"]);
}

#[tokio::test]
async fn a_status_set_over_the_control_api_is_what_get_email_identity_reports() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let (east, west) = (clients(&sim, EAST), clients(&sim, WEST));
    for ses in [&east, &west] {
        call(ses, Operation::CreateEmailIdentity, "status.example")
            .await
            .unwrap();
    }
    // In turn on one identity: each status replaces the last, error type included.
    let cases = [
        (json!({ "status": "SUCCESS" }), DkimStatus::Success, None),
        (
            json!({ "status": "FAILED", "error_type": "TYPE_NOT_FOUND" }),
            DkimStatus::Failed,
            Some(VerificationError::TypeNotFound),
        ),
        (
            json!({ "status": "TEMPORARY_FAILURE", "error_type": "DNS_SERVER_ERROR" }),
            DkimStatus::TemporaryFailure,
            Some(VerificationError::DnsServerError),
        ),
        (
            json!({ "status": "NOT_STARTED" }),
            DkimStatus::NotStarted,
            None,
        ),
        (json!({ "status": "PENDING" }), DkimStatus::Pending, None),
    ];
    for (request, status, error_type) in cases {
        control
            .set_status(EAST, "status.example", request.clone())
            .await;
        let read = east
            .v2
            .get_email_identity()
            .email_identity("status.example")
            .send()
            .await
            .unwrap();
        assert_eq!(
            read.dkim_attributes().and_then(|dkim| dkim.status()),
            Some(&status),
            "{request}"
        );
        // A domain is verified by its DKIM records, so both statuses agree.
        assert_eq!(
            read.verification_status().map(|s| s.as_str()),
            Some(status.as_str()),
            "{request}"
        );
        assert_eq!(
            read.verified_for_sending_status(),
            status == DkimStatus::Success,
            "{request}"
        );
        assert_eq!(
            read.verification_info().and_then(|info| info.error_type()),
            error_type.as_ref(),
            "{request}"
        );
    }
    assert_eq!(
        dkim_status(&west, "status.example").await,
        DkimStatus::Pending,
        "the same name in another region is another identity"
    );
}

#[tokio::test]
async fn malformed_control_requests_get_a_4xx_and_change_nothing() {
    let sim = simulator(false).await;
    let control = Control::of(&sim);
    let (east, west) = (clients(&sim, EAST), clients(&sim, WEST));
    call(&east, Operation::CreateEmailIdentity, "target.example")
        .await
        .unwrap();
    west.v2
        .create_email_identity()
        .email_identity("replica.example")
        .dkim_signing_attributes(
            DkimSigningAttributes::builder()
                .domain_signing_attributes_origin(DkimSigningAttributesOrigin::AwsSesUsEast1)
                .build(),
        )
        .send()
        .await
        .unwrap();

    const JSON: Option<&str> = Some("application/json");
    let status_of =
        |region: &str, name: &str| format!("PUT /regions/{region}/identities/{name}/status");
    let (target, nowhere) = (
        status_of(EAST, "target.example"),
        status_of(EAST, "nowhere.example"),
    );
    // The identity exists, but in another region.
    let elsewhere = status_of(WEST, "target.example");
    // A DEED replica's status is its parent's.
    let replica = status_of(WEST, "replica.example");
    let failed = r#"{"status": "FAILED"}"#;
    let bulk = "POST /regions/us-east-1/bulk";
    // Request line, content type, body, and the answer. axum's JSON extractor answers 400
    // for text that is not JSON, 422 for JSON of the wrong shape, 415 without the type.
    let requests = [
        ("PUT /quota", JSON, r#"{"calls_per_second": 1"#, 400),
        ("PUT /quota", JSON, "", 400),
        ("PUT /quota", JSON, r#"{"calls_per_second": -1}"#, 422),
        ("PUT /quota", JSON, r#"{"calls_per_second": "fast"}"#, 422),
        ("PUT /quota", None, r#"{"calls_per_second": 1}"#, 415),
        ("PUT /faults", JSON, r#"{"error_rate": 1.5}"#, 400),
        ("PUT /faults", JSON, r#"{"error_rate": -0.5}"#, 400),
        ("PUT /faults", JSON, r#"{"latency_ms": -1}"#, 422),
        ("PUT /faults", JSON, r#"{"latency_ms": "slow"}"#, 422),
        ("POST /clock/advance", JSON, "{}", 422),
        ("POST /clock/advance", JSON, r#"{"seconds": 1.5}"#, 422),
        (bulk, JSON, r#"{"count": -3}"#, 422),
        (bulk, JSON, r#"{"count": 2, "prefix": "a.b"}"#, 400),
        (&target, JSON, "not json", 400),
        (&target, JSON, "{}", 422),
        (&nowhere, JSON, failed, 404),
        (&elsewhere, JSON, failed, 404),
        (&replica, JSON, failed, 400),
        ("GET /no-such-control", None, "", 404),
        ("GET /quota", None, "", 405),
        ("DELETE /stats", None, "", 405),
    ];
    for (request_line, content_type, body, expected) in requests {
        let (method, path) = request_line.split_once(' ').expect("METHOD /path");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let (status, text) = control.send_raw(method, path, content_type, body).await;
        assert_eq!(status.as_u16(), expected, "{request_line} {body}: {text}");
    }

    assert_eq!(
        dkim_status(&east, "target.example").await,
        DkimStatus::Pending
    );
    // No quota or fault took (a burst is answered whole) and the clock did not move.
    assert_eq!(burst(&east, 5).await, (5, 0));
    let before = wall_clock_secs();
    let generated = create_stamped(&east, "probe.example").await;
    assert!(
        (before..=wall_clock_secs()).contains(&generated),
        "{generated}"
    );
    let (listed, _) = list_all(&east).await;
    let names: Vec<_> = listed.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["probe.example", "target.example"],
        "no bulk was added"
    );
}
