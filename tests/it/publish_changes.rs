//! Publishing as a change: an identity read from the SES simulator, its records previewed
//! and published at a Route 53 simulator through the real SDK, every publish in the audit
//! log.

use dkimdash::{
    audit::{
        entry::AuditOutcome,
        log::{AuditLog, Filter},
    },
    changes::{
        Actor, ChangeError,
        error::Unconfirmed,
        publish::{preview_publish, publish},
    },
    inventory::Inventory,
    publish::{
        error::ProviderError,
        plan::{Confirmation, Step},
        provider::Providers,
    },
    route53_sim::{
        self, RunningRoute53,
        store::{Action, Change, ChangeInfo, RecordSet},
    },
    user::{Role, User},
};

use crate::support::{publishing::route53_holding, verified_domains};

const REGION: &str = "eu-west-1";
const DOMAIN: &str = "shop.example";

fn operator() -> User {
    User {
        name: "ops@example.com".into(),
        email: None,
        groups: vec![],
        role: Role::Operator,
    }
}

async fn world() -> (
    dkimdash::sim::RunningSimulator,
    Inventory,
    RunningRoute53,
    Providers,
) {
    let (ses, inventory) = verified_domains(REGION, &[DOMAIN]).await;
    inventory.refresh_now().await;
    let (route53, providers) = route53_holding("ZSHOP", DOMAIN).await;
    (ses, inventory, route53, providers)
}

#[tokio::test]
async fn a_reviewed_publish_is_written_and_recorded_before_and_after() {
    let (_ses, inventory, route53, providers) = world().await;
    let audit = AuditLog::in_memory();
    let user = operator();
    let actor = Actor {
        inventory: &inventory,
        audit: &audit,
        user: &user,
    };
    let preview = preview_publish(&actor, &providers, REGION, DOMAIN, None, None)
        .await
        .unwrap();
    assert_eq!(preview.provider, "aws-dns");
    assert_eq!(preview.zone.name, DOMAIN);
    assert_eq!(preview.plan.records.len(), 3);
    assert!(preview.plan.records.iter().all(|r| r.step == Step::Create));
    assert!(
        audit
            .recent(&Filter::default(), 10)
            .await
            .unwrap()
            .is_empty(),
        "a preview writes nothing, not even to the log"
    );

    // An outdated fingerprint is refused before anything is written.
    let stale = publish(&actor, &providers, REGION, DOMAIN, None, None, "0000", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            ChangeError::Provider(ProviderError::ChangedSincePreview(_))
        ),
        "{stale:?}"
    );
    assert_eq!(
        route53.sim.stats().calls.get("ChangeResourceRecordSets"),
        None
    );

    let published = publish(
        &actor,
        &providers,
        REGION,
        DOMAIN,
        None,
        None,
        &preview.seen(),
        &[],
    )
    .await
    .unwrap();
    assert!(published.in_sync);
    assert!(published.applied.change_id.is_some());
    assert!(
        published.message.contains("Published"),
        "{}",
        published.message
    );
    let zone = &route53.sim.store().zones().next().unwrap().clone();
    assert_eq!(zone.record_sets.len(), 3);

    let entries = audit.recent(&Filter::default(), 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(
        entry.action,
        "publish DKIM records to Route 53 'aws-dns' zone shop.example"
    );
    assert_eq!(entry.outcome, AuditOutcome::Done);
    assert_eq!(entry.user_name, "ops@example.com");
    assert!(
        entry.before_signing.contains(": nothing"),
        "{}",
        entry.before_signing
    );
    let after = entry.after_signing.as_deref().unwrap();
    assert!(after.contains("dkim.amazonses.com"), "{after}");
    let answer = entry.answer.as_deref().unwrap();
    assert!(answer.starts_with("aws-dns: change C"), "{answer}");
}

#[tokio::test]
async fn a_replacement_waits_for_a_confirmation_naming_the_old_value() {
    let (_ses, inventory, route53, providers) = world().await;
    let audit = AuditLog::in_memory();
    let user = operator();
    let actor = Actor {
        inventory: &inventory,
        audit: &audit,
        user: &user,
    };
    let first = preview_publish(&actor, &providers, REGION, DOMAIN, None, None)
        .await
        .unwrap();
    let name = first.plan.records[0].wanted.name.clone();
    route53
        .sim
        .store()
        .change(
            "ZSHOP",
            &[Change {
                action: Action::Create,
                record_set: RecordSet {
                    name: name.clone(),
                    record_type: "CNAME".into(),
                    ttl: 300,
                    values: vec!["old.dkim.amazonses.com".into()],
                },
            }],
            ChangeInfo {
                id: "CSETUP".into(),
                submitted_at: 0,
                submitted_at_ms: 0,
                comment: None,
            },
        )
        .unwrap();
    let preview = preview_publish(&actor, &providers, REGION, DOMAIN, None, None)
        .await
        .unwrap();
    assert!(matches!(preview.plan.records[0].step, Step::Replace { .. }));
    let unconfirmed = publish(
        &actor,
        &providers,
        REGION,
        DOMAIN,
        None,
        None,
        &preview.seen(),
        &[],
    )
    .await
    .unwrap_err();
    assert_eq!(
        unconfirmed,
        ChangeError::NotConfirmed(Unconfirmed::Replacement {
            name: name.clone(),
            old: "old.dkim.amazonses.com".into()
        })
    );
    assert!(unconfirmed.to_string().contains("old.dkim.amazonses.com"));
    let confirm = [Confirmation {
        name: name.clone(),
        old_values: vec!["old.dkim.amazonses.com".into()],
    }];
    publish(
        &actor,
        &providers,
        REGION,
        DOMAIN,
        None,
        None,
        &preview.seen(),
        &confirm,
    )
    .await
    .unwrap();
    let entries = audit.recent(&Filter::default(), 10).await.unwrap();
    assert!(
        entries[0]
            .before_signing
            .contains("CNAME old.dkim.amazonses.com"),
        "{}",
        entries[0].before_signing
    );
}

#[tokio::test]
async fn a_refused_publish_is_recorded_and_a_zone_nobody_holds_is_said_so() {
    let (_ses, inventory, route53, providers) = world().await;
    let audit = AuditLog::in_memory();
    let user = operator();
    let actor = Actor {
        inventory: &inventory,
        audit: &audit,
        user: &user,
    };
    let preview = preview_publish(&actor, &providers, REGION, DOMAIN, None, None)
        .await
        .unwrap();
    route53.sim.set_faults(route53_sim::Faults {
        deny: vec!["route53:ChangeResourceRecordSets".into()],
        ..Default::default()
    });
    let denied = publish(
        &actor,
        &providers,
        REGION,
        DOMAIN,
        None,
        None,
        &preview.seen(),
        &[],
    )
    .await
    .unwrap_err();
    assert!(
        denied
            .to_string()
            .contains("route53:ChangeResourceRecordSets"),
        "{denied}"
    );
    let entries = audit.recent(&Filter::default(), 10).await.unwrap();
    assert_eq!(entries[0].outcome, AuditOutcome::Refused);
    assert!(
        entries[0]
            .answer
            .as_deref()
            .unwrap()
            .contains("route53:ChangeResourceRecordSets")
    );

    let nobody = preview_publish(&actor, &Providers::default(), REGION, DOMAIN, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(nobody, ChangeError::NoDnsProvider { .. }),
        "{nobody:?}"
    );
    assert!(
        nobody.to_string().contains("--dns-providers-file"),
        "{nobody}"
    );
}

#[tokio::test]
async fn the_demo_dns_serves_what_the_demo_providers_hold() {
    use std::sync::Arc;

    use dkimdash::{dns_check::DnsHealth, inventory::snapshot::Lookup};

    let sim = crate::support::simulator(true).await;
    let (demo_dns, checker) = crate::support::demo_dns_checker(&sim).await;
    let demo = dkimdash::publish::demo::start().await.unwrap();
    demo.mirror_into(Arc::new(demo_dns));
    let inventory = crate::support::read_inventory(&sim, &["eu-west-1"], 0).await;
    let identity = match inventory
        .snapshot()
        .find("eu-west-1", "gdpr.acme-europe.example", None)
    {
        Lookup::One(identity) => identity.clone(),
        other => panic!("{other:?}"),
    };
    let records = inventory.records_of(&identity);
    let now = dkimdash::inventory::now();
    assert_eq!(
        checker.check(&records, now).await.health(),
        DnsHealth::Problem,
        "planted: missing"
    );

    let provider = demo.providers.named("demo Cloudflare").unwrap();
    let zone = provider.zone_for(&records[0].name, None).await.unwrap();
    let plan = dkimdash::changes::publish::plan_at(provider, &zone, &records)
        .await
        .unwrap();
    provider.apply(&zone, &plan, "dkimdash").await.unwrap();
    // Mirrored before the provider answered: the very next check finds the records.
    assert_eq!(checker.check(&records, now).await.health(), DnsHealth::Ok);
}
