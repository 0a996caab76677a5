//! The simulator through the real AWS SDK for Rust over real HTTP on loopback: every
//! operation round-trips with SES's fields, and bad input gets SES's errors.
use crate::support;

use aws_sdk_ses::types::{IdentityType as V1IdentityType, VerificationStatus as V1Status};
use aws_sdk_sesv2::{
    error::ProvideErrorMetadata,
    types::{
        DkimSigningAttributes, DkimSigningAttributesOrigin, DkimSigningKeyLength, DkimStatus,
        IdentityType,
    },
};
use base64::{Engine, engine::general_purpose::STANDARD};
use dkimdash::{
    ses::client::SesClients,
    sim::{Faults, RunningSimulator},
};
use rsa::{RsaPrivateKey, pkcs1::EncodeRsaPrivateKey, pkcs8::EncodePrivateKey};
use support::{put_next_key_length, sim_clients};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

async fn simulator() -> RunningSimulator {
    support::simulator(false).await
}

fn clients(sim: &RunningSimulator, region: &str) -> SesClients {
    sim_clients(sim, region)
}

/// Creates an identity (Easy DKIM for a domain) that a test builds on.
async fn create(ses: &SesClients, name: impl Into<String>) {
    ses.v2
        .create_email_identity()
        .email_identity(name)
        .send()
        .await
        .expect("identity created");
}

fn rsa_key(bits: usize) -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), bits).expect("key generation")
}

fn byodkim(selector: &str, key_base64: &str) -> DkimSigningAttributes {
    DkimSigningAttributes::builder()
        .domain_signing_selector(selector)
        .domain_signing_private_key(key_base64)
        .build()
}

fn is_ses_token(token: &str) -> bool {
    token.len() == 32
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[tokio::test]
async fn easy_dkim_domain_round_trips() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);

    let created = ses
        .v2
        .create_email_identity()
        .email_identity("Example.COM")
        .send()
        .await
        .unwrap();
    assert_eq!(created.identity_type(), Some(&IdentityType::Domain));
    assert!(!created.verified_for_sending_status());
    let dkim = created.dkim_attributes().unwrap();
    assert_eq!(dkim.status(), Some(&DkimStatus::Pending));
    assert!(dkim.signing_enabled());
    assert_eq!(dkim.tokens().len(), 3);
    assert!(
        dkim.tokens().iter().all(|t| is_ses_token(t)),
        "{:?}",
        dkim.tokens()
    );

    let read = ses
        .v2
        .get_email_identity()
        .email_identity("example.com")
        .send()
        .await
        .unwrap();
    let details = read.dkim_attributes().unwrap();
    assert_eq!(details.tokens(), dkim.tokens());
    assert_eq!(
        details.signing_attributes_origin(),
        Some(&DkimSigningAttributesOrigin::AwsSes)
    );
    assert_eq!(
        details.current_signing_key_length(),
        Some(&DkimSigningKeyLength::Rsa2048Bit)
    );
    assert_eq!(
        details.next_signing_key_length(),
        Some(&DkimSigningKeyLength::Rsa2048Bit)
    );
    assert_eq!(details.signing_hosted_zone(), Some("dkim.amazonses.com"));
    let generated = details.last_key_generation_timestamp().unwrap().secs();
    assert!((generated - sim.simulator.now()).abs() < 60);
    assert_eq!(
        read.verification_status().map(|s| s.as_str()),
        Some("PENDING")
    );
}

#[tokio::test]
async fn identities_are_kept_per_region_and_listed_in_pages() {
    let sim = simulator().await;
    let east = clients(&sim, EAST);
    let west = clients(&sim, WEST);
    for n in 0..25 {
        create(&east, format!("d{n:02}.example")).await;
    }
    create(&east, "ops@d00.example").await;
    create(&west, "only-west.example").await;

    let mut names = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = east
            .v2
            .list_email_identities()
            .page_size(10)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        names.extend(
            page.email_identities()
                .iter()
                .map(|i| i.identity_name().unwrap().to_owned()),
        );
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 26);
    assert!(!names.contains(&"only-west.example".to_owned()));

    let domains = east
        .v1
        .list_identities()
        .identity_type(V1IdentityType::Domain)
        .max_items(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(domains.identities().len(), 25);
    let first_page = east
        .v1
        .list_identities()
        .max_items(20)
        .send()
        .await
        .unwrap();
    assert_eq!(first_page.identities().len(), 20);
    let rest = east
        .v1
        .list_identities()
        .max_items(20)
        .set_next_token(first_page.next_token().map(str::to_owned))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.identities().len(), 6);
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn list_filters_by_name_type_and_status() {
    use aws_sdk_sesv2::types::IdentityFilterKey;
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    for name in ["alpha.example", "beta.example", "ops@alpha.example"] {
        create(&ses, name).await;
    }
    sim.simulator
        .with_regions(|regions, now| {
            regions.force_status(
                EAST,
                "beta.example",
                dkimdash::model::DkimStatus::Failed,
                None,
                now,
            )
        })
        .unwrap();
    let names = |filter: (IdentityFilterKey, &'static str)| {
        let request = ses
            .v2
            .list_email_identities()
            .filter(filter.0, filter.1)
            .send();
        async move {
            let page = request.await.unwrap();
            page.email_identities()
                .iter()
                .map(|i| i.identity_name().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names((IdentityFilterKey::IdentityNameContains, "ALPHA")).await,
        ["alpha.example", "ops@alpha.example"]
    );
    assert_eq!(
        names((IdentityFilterKey::IdentityType, "EMAIL_ADDRESS")).await,
        ["ops@alpha.example"]
    );
    assert_eq!(
        names((IdentityFilterKey::VerificationStatus, "FAILED")).await,
        ["beta.example"]
    );
}

#[tokio::test]
async fn older_clients_list_with_get_and_unsigned_requests_are_refused() {
    use axum::{body::Body, http::Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let sim = simulator().await;
    clients(&sim, EAST)
        .v2
        .create_email_identity()
        .email_identity("get.example")
        .send()
        .await
        .unwrap();
    let signed = Request::get("/v2/email/identities?PageSize=5")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0")
        .body(Body::empty())
        .unwrap();
    let response = sim.simulator.router().oneshot(signed).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("\"IdentityName\":\"get.example\""));

    let missing = Request::put("/_sim/regions/us-east-1/identities/nowhere.example/status")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"status":"FAILED"}"#))
        .unwrap();
    assert_eq!(
        sim.simulator
            .router()
            .oneshot(missing)
            .await
            .unwrap()
            .status(),
        404
    );

    let unsigned = Request::get("/v2/email/identities")
        .body(Body::empty())
        .unwrap();
    let response = sim.simulator.router().oneshot(unsigned).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
}

#[tokio::test]
async fn the_control_apis_bulk_add_is_bounded() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let sim = simulator().await;
    let bulk = |body: &str| {
        Request::post("/_sim/regions/us-east-1/bulk")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    for refused in [
        r#"{"count": 100000000}"#,
        r#"{"count": 0}"#,
        r#"{"count": 2, "prefix": "a.b\nc"}"#,
        r#"{"count": 2, "prefix": ""}"#,
    ] {
        let response = sim.simulator.router().oneshot(bulk(refused)).await.unwrap();
        assert_eq!(response.status(), 400, "{refused}");
        let text = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!text.is_empty(), "{refused}: the 400 says why");
    }
    assert_eq!(
        sim.simulator.regions().count("us-east-1"),
        0,
        "nothing was added"
    );
    let added = sim
        .simulator
        .router()
        .oneshot(bulk(r#"{"count": 3}"#))
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    assert_eq!(sim.simulator.regions().count("us-east-1"), 3);
}

#[tokio::test]
async fn v1_reads_dkim_for_many_identities_in_one_call() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    let tokens = ses
        .v1
        .verify_domain_dkim()
        .domain("v1.example")
        .send()
        .await
        .unwrap()
        .dkim_tokens()
        .to_vec();
    assert_eq!(tokens.len(), 3);
    let txt = ses
        .v1
        .verify_domain_identity()
        .domain("txt.example")
        .send()
        .await
        .unwrap();
    assert!(!txt.verification_token().is_empty());
    sim.simulator
        .with_regions(|regions, now| {
            regions.force_status(
                EAST,
                "v1.example",
                dkimdash::model::DkimStatus::Success,
                None,
                now,
            )
        })
        .unwrap();

    let attributes = ses
        .v1
        .get_identity_dkim_attributes()
        .identities("v1.example")
        .identities("txt.example")
        .send()
        .await
        .unwrap();
    let map = attributes.dkim_attributes();
    let v1 = &map["v1.example"];
    assert!(v1.dkim_enabled());
    assert_eq!(v1.dkim_verification_status(), &V1Status::Success);
    assert_eq!(v1.dkim_tokens(), tokens.as_slice());
    let txt_dkim = &map["txt.example"];
    assert!(!txt_dkim.dkim_enabled());
    assert_eq!(txt_dkim.dkim_verification_status(), &V1Status::NotStarted);

    let too_many: Vec<String> = (0..101).map(|n| format!("n{n}.example")).collect();
    let error = ses
        .v1
        .get_identity_dkim_attributes()
        .set_identities(Some(too_many))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.code(), Some("InvalidParameterValue"));
    assert!(
        error.message().unwrap().contains("at most 100"),
        "{error:?}"
    );
}

#[tokio::test]
async fn signing_mode_transitions_follow_ses() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    create(&ses, "switch.example").await;
    let key = STANDARD.encode(rsa_key(1024).to_pkcs8_der().unwrap().as_bytes());

    // Easy DKIM → BYODKIM: the selector becomes the one token, PENDING again.
    let out = ses
        .v2
        .put_email_identity_dkim_signing_attributes()
        .email_identity("switch.example")
        .signing_attributes_origin(DkimSigningAttributesOrigin::External)
        .signing_attributes(byodkim("sel1", &key))
        .send()
        .await
        .unwrap();
    assert_eq!(out.dkim_status(), Some(&DkimStatus::Pending));
    assert_eq!(out.dkim_tokens(), ["sel1"]);
    let read = ses
        .v2
        .get_email_identity()
        .email_identity("switch.example")
        .send()
        .await
        .unwrap();
    let dkim = read.dkim_attributes().unwrap();
    assert_eq!(
        dkim.signing_attributes_origin(),
        Some(&DkimSigningAttributesOrigin::External)
    );
    assert_eq!(dkim.next_signing_key_length(), None);

    // BYODKIM → Easy DKIM with 1024-bit keys: three fresh tokens.
    let out = ses
        .v2
        .put_email_identity_dkim_signing_attributes()
        .email_identity("switch.example")
        .signing_attributes_origin(DkimSigningAttributesOrigin::AwsSes)
        .signing_attributes(
            DkimSigningAttributes::builder()
                .next_signing_key_length(DkimSigningKeyLength::Rsa1024Bit)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.dkim_tokens().len(), 3);
    assert!(out.dkim_tokens().iter().all(|t| is_ses_token(t)));
    assert_eq!(out.signing_hosted_zone(), Some("dkim.amazonses.com"));

    // Easy DKIM key length: one change a day.
    let change = |length: DkimSigningKeyLength| put_next_key_length(&ses, "switch.example", length);
    change(DkimSigningKeyLength::Rsa2048Bit).await.unwrap();
    let read = ses
        .v2
        .get_email_identity()
        .email_identity("switch.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.dkim_attributes().unwrap().next_signing_key_length(),
        Some(&DkimSigningKeyLength::Rsa2048Bit)
    );
    assert_eq!(
        read.dkim_attributes().unwrap().current_signing_key_length(),
        Some(&DkimSigningKeyLength::Rsa1024Bit)
    );
    let refused = change(DkimSigningKeyLength::Rsa1024Bit).await.unwrap_err();
    assert!(refused.is_bad_request_exception(), "{refused:?}");
    assert!(
        refused.message().unwrap().contains("once per day"),
        "{refused:?}"
    );
    sim.simulator.advance_clock(24 * 3600).unwrap();
    change(DkimSigningKeyLength::Rsa1024Bit).await.unwrap();

    // Signing off and on.
    ses.v2
        .put_email_identity_dkim_attributes()
        .email_identity("switch.example")
        .signing_enabled(false)
        .send()
        .await
        .unwrap();
    let read = ses
        .v2
        .get_email_identity()
        .email_identity("switch.example")
        .send()
        .await
        .unwrap();
    assert!(!read.dkim_attributes().unwrap().signing_enabled());
}

#[tokio::test]
async fn byodkim_at_creation_and_pkcs1_keys() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    let pkcs1 = STANDARD.encode(rsa_key(2048).to_pkcs1_der().unwrap().as_bytes());
    let created = ses
        .v2
        .create_email_identity()
        .email_identity("own-key.example")
        .dkim_signing_attributes(byodkim("s2048", &pkcs1))
        .send()
        .await
        .unwrap();
    let dkim = created.dkim_attributes().unwrap();
    assert_eq!(dkim.tokens(), ["s2048"]);
    assert_eq!(
        dkim.signing_attributes_origin(),
        Some(&DkimSigningAttributesOrigin::External)
    );
}

#[tokio::test]
async fn deed_replicas_use_the_parent_records_or_fail_with_the_reason() {
    let sim = simulator().await;
    let east = clients(&sim, EAST);
    let west = clients(&sim, WEST);
    let parent = east
        .v2
        .create_email_identity()
        .email_identity("multi.example")
        .send()
        .await
        .unwrap();
    let replica_of_east = || {
        DkimSigningAttributes::builder()
            .domain_signing_attributes_origin(DkimSigningAttributesOrigin::AwsSesUsEast1)
            .build()
    };
    let replica = west
        .v2
        .create_email_identity()
        .email_identity("multi.example")
        .dkim_signing_attributes(replica_of_east())
        .send()
        .await
        .unwrap();
    assert_eq!(
        replica.dkim_attributes().unwrap().tokens(),
        parent.dkim_attributes().unwrap().tokens()
    );
    let read = west
        .v2
        .get_email_identity()
        .email_identity("multi.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.dkim_attributes().unwrap().signing_attributes_origin(),
        Some(&DkimSigningAttributesOrigin::AwsSesUsEast1)
    );

    west.v2
        .create_email_identity()
        .email_identity("orphan.example")
        .dkim_signing_attributes(replica_of_east())
        .send()
        .await
        .unwrap();
    let orphan = west
        .v2
        .get_email_identity()
        .email_identity("orphan.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        orphan.dkim_attributes().unwrap().status(),
        Some(&DkimStatus::Failed)
    );
    assert_eq!(
        orphan
            .verification_info()
            .unwrap()
            .error_type()
            .map(|e| e.as_str()),
        Some("REPLICATION_PRIMARY_NOT_FOUND")
    );

    // DEED only at creation.
    let refused = east
        .v2
        .put_email_identity_dkim_signing_attributes()
        .email_identity("multi.example")
        .signing_attributes_origin(DkimSigningAttributesOrigin::AwsSesEuWest1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_bad_request_exception());
    assert!(
        refused
            .message()
            .unwrap()
            .contains("only be chosen when the identity is created")
    );
}

#[tokio::test]
async fn not_found_already_exists_and_delete() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    create(&ses, "dup.example").await;
    let dup = ses
        .v2
        .create_email_identity()
        .email_identity("dup.example")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(dup.is_already_exists_exception(), "{dup:?}");

    ses.v2
        .delete_email_identity()
        .email_identity("dup.example")
        .send()
        .await
        .unwrap();
    let gone = ses
        .v2
        .get_email_identity()
        .email_identity("dup.example")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_not_found_exception(), "{gone:?}");
    let put = ses
        .v2
        .put_email_identity_dkim_attributes()
        .email_identity("dup.example")
        .signing_enabled(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(put.is_not_found_exception());
}

#[tokio::test]
async fn invalid_input_gets_bad_request_naming_the_field() {
    let sim = simulator().await;
    let ses = clients(&sim, EAST);
    create(&ses, "target.example").await;
    let small_key = STANDARD.encode(rsa_key(512).to_pkcs1_der().unwrap().as_bytes());
    let valid_key = STANDARD.encode(rsa_key(1024).to_pkcs1_der().unwrap().as_bytes());

    let put = |origin: DkimSigningAttributesOrigin, attributes: DkimSigningAttributes| {
        ses.v2
            .put_email_identity_dkim_signing_attributes()
            .email_identity("target.example")
            .signing_attributes_origin(origin)
            .signing_attributes(attributes)
            .send()
    };
    let cases = [
        (
            put(
                DkimSigningAttributesOrigin::External,
                byodkim("bad_selector", &valid_key),
            )
            .await,
            "DomainSigningSelector",
        ),
        (
            put(
                DkimSigningAttributesOrigin::External,
                byodkim(&"s".repeat(64), &valid_key),
            )
            .await,
            "DomainSigningSelector",
        ),
        (
            put(
                DkimSigningAttributesOrigin::External,
                byodkim("sel", "not base64!"),
            )
            .await,
            "DomainSigningPrivateKey",
        ),
        (
            put(
                DkimSigningAttributesOrigin::External,
                byodkim("sel", &small_key),
            )
            .await,
            "512 bits",
        ),
        (
            put(
                DkimSigningAttributesOrigin::External,
                byodkim("sel", "QUJDRA=="),
            )
            .await,
            "DomainSigningPrivateKey",
        ),
        (
            put(
                DkimSigningAttributesOrigin::AwsSes,
                DkimSigningAttributes::builder()
                    .next_signing_key_length(DkimSigningKeyLength::from("RSA_4096_BIT"))
                    .build(),
            )
            .await,
            "NextSigningKeyLength",
        ),
        (
            put(
                DkimSigningAttributesOrigin::from("AWS_SES_NOWHERE"),
                DkimSigningAttributes::builder().build(),
            )
            .await,
            "SigningAttributesOrigin",
        ),
    ];
    for (result, field) in cases {
        let error = result.unwrap_err().into_service_error();
        assert!(error.is_bad_request_exception(), "{field}: {error:?}");
        assert!(
            error.message().unwrap().contains(field),
            "{field}: {:?}",
            error.message()
        );
    }

    let bad_domain = ses
        .v2
        .create_email_identity()
        .email_identity("not a domain")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_domain.is_bad_request_exception());
    assert!(bad_domain.message().unwrap().starts_with("EmailIdentity"));
    let bad_page = ses
        .v2
        .list_email_identities()
        .page_size(1001)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_page.message().unwrap().contains("PageSize"));
    let bad_token = ses
        .v2
        .list_email_identities()
        .next_token("%%%")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_token.message().unwrap().contains("NextToken"));

    // The private key never comes back in an error.
    let rejected = put(
        DkimSigningAttributesOrigin::External,
        byodkim("bad_selector", &valid_key),
    )
    .await
    .unwrap_err();
    assert!(!format!("{rejected:?}").contains(&valid_key[..40]));
}

#[tokio::test]
async fn quota_throttles_in_both_protocols() {
    let sim = simulator().await;
    sim.simulator.set_quota(std::num::NonZeroU32::new(1));
    let ses = clients(&sim, EAST);
    ses.v2.list_email_identities().send().await.unwrap();
    let throttled = ses
        .v2
        .list_email_identities()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(throttled.is_too_many_requests_exception(), "{throttled:?}");
    let v1 = ses
        .v1
        .list_identities()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(v1.code(), Some("Throttling"));
    // Other regions have their own quota.
    clients(&sim, WEST)
        .v2
        .list_email_identities()
        .send()
        .await
        .unwrap();
    let stats = sim.simulator.stats();
    assert_eq!(stats.throttled, 2);
    assert_eq!(stats.total_calls(), 2);
}

#[tokio::test]
async fn injected_faults_reach_the_client_as_server_errors() {
    let sim = simulator().await;
    sim.simulator.set_faults(Faults {
        latency_ms: 0,
        error_rate: 1.0,
    });
    let ses = clients(&sim, EAST);
    let error = ses.v2.list_email_identities().send().await.unwrap_err();
    let raw = error.raw_response().expect("an HTTP answer");
    assert_eq!(raw.status().as_u16(), 500);
    assert_eq!(sim.simulator.stats().injected_failures, 1);
}
