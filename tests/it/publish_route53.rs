//! Publishing to Route 53 through the real AWS SDK over HTTP, against the project's Route 53
//! simulator (which refuses what Route 53 refuses: a CREATE of an existing record set, a
//! DELETE of other values, a CNAME beside other data).

use std::time::Duration;

use aws_sdk_route53::{
    config::{Credentials, Region, SharedCredentialsProvider},
    types::HostedZoneConfig,
};
use dkimdash::{
    model::{DnsRecord, RecordType},
    publish::{
        error::ProviderError,
        plan::{Plan, Refusal, Step},
        provider::Provider,
        route53::Route53Provider,
        zone_choice::{NoZone, ZoneInfo},
    },
    route53_sim::{
        self, Faults, Route53Config, RunningRoute53,
        store::{Action, Change, ChangeInfo, RecordSet, Zone},
    },
};

const COMMENT: &str = "dkimdash: DKIM records for example.com";

async fn route53(in_sync_after: Duration) -> RunningRoute53 {
    route53_sim::spawn(Route53Config {
        in_sync_after,
        ..Route53Config::default()
    })
    .await
    .expect("Route 53 simulator")
}

fn add_zone(sim: &RunningRoute53, id: &str, name: &str, private: bool, ns: &[&str]) {
    sim.sim
        .store()
        .create_zone(Zone {
            id: id.into(),
            name: name.into(),
            caller_reference: id.into(),
            comment: None,
            private,
            name_servers: ns.iter().map(|s| s.to_string()).collect(),
            record_sets: Default::default(),
        })
        .unwrap();
}

/// Writes a record set straight into the simulator, as another tool would have.
fn put(sim: &RunningRoute53, zone: &str, name: &str, record_type: &str, values: &[&str]) {
    sim.sim
        .store()
        .change(
            zone,
            &[Change {
                action: Action::Upsert,
                record_set: RecordSet {
                    name: name.into(),
                    record_type: record_type.into(),
                    ttl: 300,
                    values: values.iter().map(|v| v.to_string()).collect(),
                },
            }],
            ChangeInfo {
                id: format!("CSETUP{name}"),
                submitted_at: 0,
                submitted_at_ms: 0,
                comment: None,
            },
        )
        .unwrap();
}

fn held_values(sim: &RunningRoute53, zone: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let store = sim.sim.store();
    let (sets, _) = store.record_sets(zone, Some(name), None, 300).unwrap();
    sets.iter()
        .filter(|s| s.name == format!("{name}."))
        .map(|s| (s.record_type.clone(), s.values.clone()))
        .collect()
}

fn cname(token: &str) -> DnsRecord {
    DnsRecord {
        record_type: RecordType::Cname,
        name: format!("{token}._domainkey.example.com"),
        value: Some(format!("{token}.dkim.amazonses.com")),
    }
}

fn provider(sim: &RunningRoute53) -> Route53Provider {
    Route53Provider::for_endpoint("aws-dns", &sim.endpoint_url(), vec![])
}

/// The plan for `wanted`, from what the provider holds now (as a preview reads it).
async fn plan_for(provider: &Route53Provider, zone: &ZoneInfo, wanted: &[DnsRecord]) -> Plan {
    dkimdash::changes::publish::plan_at(&Provider::Route53(provider.clone()), zone, wanted)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_zone_is_the_longest_public_one_and_twins_go_by_delegation() {
    let sim = route53(Duration::ZERO).await;
    // Created through the real SDK, as any client would.
    let credentials = Credentials::new("AKID", "secret", None, None, "test");
    let config = aws_sdk_route53::Config::builder()
        .behavior_version_latest()
        .http_client(dkimdash::aws_access::https_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(sim.endpoint_url())
        .build();
    let sdk = aws_sdk_route53::Client::from_conf(config);
    let created = sdk
        .create_hosted_zone()
        .name("example.com")
        .caller_reference("one")
        .send()
        .await
        .unwrap();
    let zone_id = created.hosted_zone().unwrap().id().to_owned();
    assert!(zone_id.starts_with("/hostedzone/Z"), "{zone_id}");
    assert_eq!(created.delegation_set().unwrap().name_servers().len(), 4);
    sdk.create_hosted_zone()
        .name("mail.example.com")
        .caller_reference("private")
        .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
        .send()
        .await
        .unwrap();
    add_zone(&sim, "ZOTHER", "ample.com", false, &[]);

    let provider = provider(&sim);
    // The private mail.example.com is passed over for the public example.com.
    let zone = provider
        .zone_for("t._domainkey.mail.example.com", None)
        .await
        .unwrap();
    assert_eq!(zone.name, "example.com");
    assert_eq!(format!("/hostedzone/{}", zone.id), zone_id);
    assert_eq!(
        provider.zone_for("t._domainkey.other.org", None).await,
        Err(ProviderError::NoZone(NoZone::NotHeld(
            "t._domainkey.other.org".into()
        )))
    );

    // Two public zones named the same: the delegation decides, or nothing does.
    add_zone(
        &sim,
        "ZTWINA",
        "twin.example",
        false,
        &["ns-1.awsdns-1.com", "ns-2.awsdns-2.net"],
    );
    add_zone(
        &sim,
        "ZTWINB",
        "twin.example",
        false,
        &["ns-3.awsdns-3.com", "ns-4.awsdns-4.net"],
    );
    let delegated = [
        "ns-3.awsdns-3.com.".to_string(),
        "ns-4.awsdns-4.net.".into(),
    ];
    let zone = provider
        .zone_for("t._domainkey.twin.example", Some(&delegated))
        .await
        .unwrap();
    assert_eq!(zone.id, "ZTWINB");
    let ambiguous = provider.zone_for("t._domainkey.twin.example", None).await;
    assert!(
        matches!(
            ambiguous,
            Err(ProviderError::NoZone(NoZone::Ambiguous { count: 2, .. }))
        ),
        "{ambiguous:?}"
    );

    // A provider limited to other zones holds nothing here.
    let limited =
        Route53Provider::for_endpoint("aws-dns", &sim.endpoint_url(), vec!["other.com".into()]);
    assert!(matches!(
        limited
            .zone_for("t._domainkey.mail.example.com", None)
            .await,
        Err(ProviderError::NoZone(NoZone::NotAllowed(_)))
    ));
}

#[tokio::test]
async fn absent_records_are_created_in_one_batch_and_followed_to_insync() {
    let sim = route53(Duration::from_secs(1)).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let wanted = [cname("a"), cname("b"), cname("c")];
    let plan = plan_for(&provider, &zone, &wanted).await;
    assert!(
        plan.records.iter().all(|r| r.step == Step::Create),
        "{plan:?}"
    );

    let change = provider
        .apply(&zone, &plan, COMMENT)
        .await
        .unwrap()
        .expect("a change id");
    assert_eq!(
        sim.sim.stats().calls["ChangeResourceRecordSets"],
        1,
        "one batch for the zone"
    );
    for token in ["a", "b", "c"] {
        assert_eq!(
            held_values(&sim, "ZEX", &format!("{token}._domainkey.example.com")),
            [(
                "CNAME".to_string(),
                vec![format!("{token}.dkim.amazonses.com")]
            )]
        );
    }
    // PENDING first, then INSYNC within the wait.
    assert!(
        !provider
            .wait_in_sync(&change, Duration::ZERO)
            .await
            .unwrap()
    );
    assert!(
        provider
            .wait_in_sync(&change, Duration::from_secs(5))
            .await
            .unwrap()
    );

    // Published again: everything already right, nothing sent.
    let again = plan_for(&provider, &zone, &wanted).await;
    assert!(
        again.records.iter().all(|r| r.step == Step::AlreadyRight),
        "{again:?}"
    );
    assert_eq!(provider.apply(&zone, &again, COMMENT).await.unwrap(), None);
    assert_eq!(sim.sim.stats().calls["ChangeResourceRecordSets"], 1);
}

#[tokio::test]
async fn a_confirmed_replacement_deletes_exactly_what_was_seen() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    put(
        &sim,
        "ZEX",
        "a._domainkey.example.com",
        "CNAME",
        &["old.dkim.amazonses.com"],
    );
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a")]).await;
    let Step::Replace { old } = &plan.records[0].step else {
        panic!("{plan:?}")
    };
    assert_eq!(old.values, ["old.dkim.amazonses.com"]);
    assert_eq!(old.ttl, Some(300));
    provider.apply(&zone, &plan, COMMENT).await.unwrap();
    assert_eq!(
        held_values(&sim, "ZEX", "a._domainkey.example.com"),
        [(
            "CNAME".to_string(),
            vec!["a.dkim.amazonses.com".to_string()]
        )]
    );
}

#[tokio::test]
async fn a_record_changed_since_the_preview_fails_the_whole_batch() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    put(
        &sim,
        "ZEX",
        "a._domainkey.example.com",
        "CNAME",
        &["old.dkim.amazonses.com"],
    );
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a"), cname("b")]).await;
    // Someone else changes the record between the preview and the apply.
    put(
        &sim,
        "ZEX",
        "a._domainkey.example.com",
        "CNAME",
        &["newer.example.net"],
    );
    let refused = provider.apply(&zone, &plan, COMMENT).await.unwrap_err();
    let ProviderError::ChangedSincePreview(detail) = &refused else {
        panic!("{refused:?}")
    };
    assert!(
        detail.contains("do not match the current values"),
        "{detail}"
    );
    assert!(
        refused.to_string().contains("nothing was written"),
        "{refused}"
    );
    // b was in the same batch: not created.
    assert!(held_values(&sim, "ZEX", "b._domainkey.example.com").is_empty());
    assert_eq!(
        held_values(&sim, "ZEX", "a._domainkey.example.com"),
        [("CNAME".to_string(), vec!["newer.example.net".to_string()])]
    );
}

#[tokio::test]
async fn other_data_at_a_cname_name_is_refused_in_the_plan() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    put(
        &sim,
        "ZEX",
        "a._domainkey.example.com",
        "TXT",
        &["\"v=DKIM1; p=old\""],
    );
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a"), cname("b")]).await;
    assert_eq!(
        plan.records[0].step,
        Step::Refused(Refusal::OtherTypesAtName(vec!["TXT".into()]))
    );
    assert_eq!(plan.records[1].step, Step::Create);
    // Applying writes only what can be written.
    provider.apply(&zone, &plan, COMMENT).await.unwrap();
    assert_eq!(
        held_values(&sim, "ZEX", "b._domainkey.example.com").len(),
        1
    );
    assert_eq!(
        held_values(&sim, "ZEX", "a._domainkey.example.com"),
        [("TXT".to_string(), vec!["\"v=DKIM1; p=old\"".to_string()])]
    );
}

#[tokio::test]
async fn throttling_is_retried_and_a_missing_permission_is_named() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a")]).await;

    sim.sim.set_faults(Faults {
        throttle: 1,
        prior_request_not_complete: 1,
        ..Faults::default()
    });
    provider
        .apply(&zone, &plan, COMMENT)
        .await
        .unwrap()
        .expect("made after the retries");
    let stats = sim.sim.stats();
    assert_eq!(stats.faults["Throttling"], 1);
    assert_eq!(stats.faults["PriorRequestNotComplete"], 1);
    assert_eq!(stats.calls["ChangeResourceRecordSets"], 1);

    sim.sim.set_faults(Faults {
        deny: vec!["route53:ChangeResourceRecordSets".into()],
        ..Faults::default()
    });
    let plan = plan_for(&provider, &zone, &[cname("b")]).await;
    let denied = provider.apply(&zone, &plan, COMMENT).await.unwrap_err();
    assert!(
        matches!(&denied, ProviderError::Denied { permission, .. } if permission == "route53:ChangeResourceRecordSets"),
        "{denied:?}"
    );
    assert!(
        denied
            .to_string()
            .contains("route53:ChangeResourceRecordSets is missing"),
        "{denied}"
    );
}

#[tokio::test]
async fn a_long_txt_key_is_split_into_strings_and_reads_back_whole() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    let provider = provider(&sim);
    let key = format!("v=DKIM1; k=rsa; p={}", "M".repeat(392));
    let wanted = [DnsRecord {
        record_type: RecordType::Txt,
        name: "sel._domainkey.example.com".into(),
        value: Some(key.clone()),
    }];
    let zone = provider.zone_for(&wanted[0].name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &wanted).await;
    provider.apply(&zone, &plan, COMMENT).await.unwrap();
    let held = held_values(&sim, "ZEX", "sel._domainkey.example.com");
    let stored = &held[0].1[0];
    assert_eq!(
        dkimdash::publish::txt::strings(stored).unwrap().len(),
        2,
        "{stored}"
    );
    let again = plan_for(&provider, &zone, &wanted).await;
    assert_eq!(again.records[0].step, Step::AlreadyRight);
}

/// Route 53 allows an account five requests a second: however fast dkimdash is asked to
/// write, no second holds more than five of its changes (clones of the provider share the
/// pace, as a fleet repair's batches and an operator's publish do).
#[tokio::test]
async fn no_second_holds_more_than_five_requests() {
    let sim = route53(Duration::ZERO).await;
    add_zone(&sim, "ZEX", "example.com", false, &[]);
    let provider = provider(&sim);
    let zone = provider.zone_for(&cname("p0").name, None).await.unwrap();
    let mut writes = Vec::new();
    for i in 0..8 {
        let (provider, zone) = (provider.clone(), zone.clone());
        let plan = plan_for(&provider, &zone, &[cname(&format!("p{i}"))]).await;
        writes.push(tokio::spawn(async move {
            provider.apply(&zone, &plan, COMMENT).await.unwrap()
        }));
    }
    for write in writes {
        assert!(write.await.unwrap().is_some());
    }
    let times = sim.sim.stats().change_times_ms;
    assert_eq!(times.len(), 8);
    for window in times.windows(6) {
        assert!(
            window[5] - window[0] >= 990,
            "six changes within a second: {times:?}"
        );
    }
}
