//! Publishing to Cloudflare over real HTTP, against the project's Cloudflare API simulator.

use dkimdash::{
    cloudflare_sim::{
        self, Faults, RunningCloudflare, TokenScopes,
        store::{RecordInput, Zone},
    },
    model::{DnsRecord, RecordType},
    publish::{
        cloudflare::CloudflareProvider,
        config::CloudflareSettings,
        error::ProviderError,
        plan::{Plan, Refusal, Step},
        provider::Provider,
        zone_choice::{NoZone, ZoneInfo},
    },
};
use secrecy::SecretString;

const TOKEN: &str = "cf-test-token-0123456789";
const COMMENT: &str = "dkimdash";

async fn cloudflare() -> RunningCloudflare {
    let cf = cloudflare_sim::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .expect("Cloudflare simulator");
    cf.sim.add_token(TOKEN, TokenScopes::all());
    for (id, name, status, zone_type) in [
        ("z-example", "example.com", "active", "full"),
        ("z-mail", "mail.example.com", "pending", "full"),
        ("z-partial", "partial.example", "active", "partial"),
    ] {
        cf.sim.store().add_zone(Zone {
            id: id.into(),
            name: name.into(),
            status: status.into(),
            zone_type: zone_type.into(),
            name_servers: vec![
                "ada.ns.cloudflare.com".into(),
                "bob.ns.cloudflare.com".into(),
            ],
        });
    }
    cf
}

fn provider_with(cf: &RunningCloudflare, token: &str) -> CloudflareProvider {
    CloudflareProvider::new(&CloudflareSettings {
        name: "cf-main".into(),
        token: SecretString::from(token.to_owned()),
        token_env: "CF_TOKEN".into(),
        zones: vec![],
        api_url: Some(cf.api_url()),
    })
}

fn cname(token: &str) -> DnsRecord {
    DnsRecord {
        record_type: RecordType::Cname,
        name: format!("{token}._domainkey.example.com"),
        value: Some(format!("{token}.dkim.amazonses.com")),
    }
}

fn put(cf: &RunningCloudflare, record_type: &str, name: &str, content: &str) -> String {
    cf.sim
        .store()
        .create(
            "z-example",
            RecordInput {
                record_type: Some(record_type.into()),
                name: Some(name.into()),
                content: Some(content.into()),
                proxied: Some(false),
                ttl: Some(300),
                comment: None,
            },
        )
        .unwrap()
        .id
}

fn contents(cf: &RunningCloudflare, name: &str) -> Vec<(String, String, bool)> {
    cf.sim
        .store()
        .records("z-example", Some(name), None)
        .iter()
        .map(|r| (r.record_type.clone(), r.content.clone(), r.proxied))
        .collect()
}

/// The plan for `wanted`, from what the provider holds now (as a preview reads it).
async fn plan_for(provider: &CloudflareProvider, zone: &ZoneInfo, wanted: &[DnsRecord]) -> Plan {
    dkimdash::changes::publish::plan_at(&Provider::Cloudflare(provider.clone()), zone, wanted)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_active_full_zones_hold_records() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    // mail.example.com is pending: its parent example.com holds the record.
    let zone = provider
        .zone_for("t._domainkey.mail.example.com", None)
        .await
        .unwrap();
    assert_eq!(zone.id, "z-example");
    assert_eq!(
        provider
            .zone_for("t._domainkey.partial.example", None)
            .await,
        Err(ProviderError::NoZone(NoZone::NotHeld(
            "t._domainkey.partial.example".into()
        )))
    );
}

#[tokio::test]
async fn records_are_created_unproxied_and_a_second_publish_writes_nothing() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let wanted = [cname("a"), cname("b"), cname("c")];
    let plan = plan_for(&provider, &zone, &wanted).await;
    assert!(
        plan.records.iter().all(|r| r.step == Step::Create),
        "{plan:?}"
    );
    let written = provider.apply(&zone, &plan, COMMENT).await.unwrap();
    assert_eq!(written.len(), 3);
    for token in ["a", "b", "c"] {
        assert_eq!(
            contents(&cf, &format!("{token}._domainkey.example.com")),
            [(
                "CNAME".to_string(),
                format!("{token}.dkim.amazonses.com"),
                false
            )]
        );
    }
    let stats = cf.sim.stats();
    assert_eq!(
        stats.proxied_unstated, 0,
        "proxied: false is said every time"
    );
    let record = &cf
        .sim
        .store()
        .records("z-example", Some("a._domainkey.example.com"), None)[0]
        .clone();
    assert_eq!(record.comment.as_deref(), Some(COMMENT));

    let again = plan_for(&provider, &zone, &wanted).await;
    assert!(
        again.records.iter().all(|r| r.step == Step::AlreadyRight),
        "{again:?}"
    );
    assert!(
        provider
            .apply(&zone, &again, COMMENT)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(cf.sim.stats().calls["POST /zones/:zone/dns_records"], 3);
}

#[tokio::test]
async fn a_replacement_patches_the_record_seen_and_is_refused_if_it_changed() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    let old_id = put(
        &cf,
        "CNAME",
        "a._domainkey.example.com",
        "old.dkim.amazonses.com",
    );
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a")]).await;
    let Step::Replace { old } = &plan.records[0].step else {
        panic!("{plan:?}")
    };
    assert_eq!(old.ids, vec![old_id.clone()]);
    let written = provider.apply(&zone, &plan, COMMENT).await.unwrap();
    assert_eq!(written, vec![old_id], "the same record, changed");
    assert_eq!(
        contents(&cf, "a._domainkey.example.com"),
        [(
            "CNAME".to_string(),
            "a.dkim.amazonses.com".to_string(),
            false
        )]
    );

    // Changed by someone else between the preview and the apply: refused, left alone.
    put(
        &cf,
        "CNAME",
        "b._domainkey.example.com",
        "old.dkim.amazonses.com",
    );
    let plan = plan_for(&provider, &zone, &[cname("b")]).await;
    let Step::Replace { old } = &plan.records[0].step else {
        panic!("{plan:?}")
    };
    cf.sim
        .store()
        .patch(
            "z-example",
            &old.ids[0],
            RecordInput {
                content: Some("someone-else.example".into()),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let refused = provider.apply(&zone, &plan, COMMENT).await.unwrap_err();
    assert!(
        matches!(refused, ProviderError::ChangedSincePreview(_)),
        "{refused:?}"
    );
    assert_eq!(
        contents(&cf, "b._domainkey.example.com"),
        [(
            "CNAME".to_string(),
            "someone-else.example".to_string(),
            false
        )]
    );
}

#[tokio::test]
async fn a_conflicting_type_is_refused_and_one_appearing_after_the_preview_is_named() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    put(&cf, "TXT", "a._domainkey.example.com", "\"v=DKIM1; p=old\"");
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a"), cname("b")]).await;
    assert_eq!(
        plan.records[0].step,
        Step::Refused(Refusal::OtherTypesAtName(vec!["TXT".into()]))
    );
    // A record appears at b between the preview and the apply: Cloudflare refuses the
    // CNAME, and the error says so.
    put(&cf, "A", "b._domainkey.example.com", "192.0.2.1");
    let refused = provider.apply(&zone, &plan, COMMENT).await.unwrap_err();
    let ProviderError::ChangedSincePreview(detail) = &refused else {
        panic!("{refused:?}")
    };
    assert!(detail.contains("already exists"), "{detail}");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_a_token_without_dns_edit_is_named() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    let zone = provider.zone_for(&cname("a").name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &[cname("a")]).await;
    cf.sim.set_faults(Faults { rate_limit: 1 });
    assert_eq!(
        provider.apply(&zone, &plan, COMMENT).await.unwrap().len(),
        1
    );
    assert_eq!(cf.sim.stats().rate_limited, 1);

    let read_only = "cf-read-only-token";
    cf.sim.add_token(
        read_only,
        TokenScopes {
            zone_read: true,
            dns_read: true,
            dns_edit: false,
        },
    );
    let provider = provider_with(&cf, read_only);
    let plan = plan_for(&provider, &zone, &[cname("b")]).await;
    let denied = provider.apply(&zone, &plan, COMMENT).await.unwrap_err();
    let text = denied.to_string();
    assert!(text.contains("Zone → DNS → Edit"), "{text}");
    assert!(
        !text.contains(read_only),
        "the token is never in an error: {text}"
    );
    assert!(!format!("{provider:?}").contains(read_only));

    let no_zones = "cf-no-zone-read";
    cf.sim.add_token(no_zones, TokenScopes::default());
    let denied = provider_with(&cf, no_zones)
        .zone_for(&cname("a").name, None)
        .await
        .unwrap_err();
    assert!(
        denied.to_string().contains("Zone → Zone → Read"),
        "{denied}"
    );
}

#[tokio::test]
async fn a_long_txt_goes_as_strings_and_reads_back_whole() {
    let cf = cloudflare().await;
    let provider = provider_with(&cf, TOKEN);
    let key = format!("v=DKIM1; k=rsa; p={}", "M".repeat(392));
    let wanted = [DnsRecord {
        record_type: RecordType::Txt,
        name: "sel._domainkey.example.com".into(),
        value: Some(key.clone()),
    }];
    let zone = provider.zone_for(&wanted[0].name, None).await.unwrap();
    let plan = plan_for(&provider, &zone, &wanted).await;
    provider.apply(&zone, &plan, COMMENT).await.unwrap();
    let stored = contents(&cf, "sel._domainkey.example.com")[0].1.clone();
    assert_eq!(
        dkimdash::publish::txt::strings(&stored).unwrap().len(),
        2,
        "{stored}"
    );
    let again = plan_for(&provider, &zone, &wanted).await;
    assert_eq!(again.records[0].step, Step::AlreadyRight);
}
