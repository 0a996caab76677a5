//! Fleet repair through the `repair/*` server functions and the background runner: the
//! SES simulator through the real SDK, the project's Route 53 simulator through the AWS
//! SDK and its Cloudflare simulator over HTTP, the demo's DNS on loopback.

use std::time::Duration;

use axum::http::StatusCode;
use dkimdash::{
    api::repair::{RepairPlanView, RunView},
    audit::log::AuditLog,
    cloudflare_sim::{self, RunningCloudflare, TokenScopes, store::Zone as CfZone},
    inventory::Inventory,
    model::{DkimStatus, KeyLength, SesBackend},
    publish::{
        cloudflare::CloudflareProvider,
        config::CloudflareSettings,
        provider::{Provider, Providers},
        route53::Route53Provider,
    },
    repair::runner::Repairs,
    route53_sim::{self, Route53Config, RunningRoute53, store::Zone},
    server::state::AppState,
    sim::{RunningSimulator, identity::SimIdentity},
};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::support::{self, eventually, post};

const REGION: &str = "eu-west-1";
const TOKEN: &str = "cf-fleet-token-0123456789";
/// Zones: two at Route 53, one at Cloudflare.
const ROUTE53_ZONES: [(&str, &str); 2] = [("ZALPHA", "alpha.example"), ("ZBETA", "beta.example")];
const CLOUDFLARE_ZONE: (&str, &str) = ("cf-gamma", "gamma.example");

struct Fleet {
    sim: RunningSimulator,
    route53: RunningRoute53,
    cloudflare: RunningCloudflare,
    state: AppState,
    app: axum::Router,
}

/// 200 Easy DKIM domains over the three zones (one in six FAILED), one outside them, and
/// three whose first name already holds another value (left for a decision).
async fn fleet(audit: AuditLog) -> Fleet {
    let sim = support::simulator(false).await;
    sim.simulator.with_regions(|regions, now| {
        for i in 0..200 {
            let zone = ["alpha", "beta", "gamma"][i % 3];
            let name = format!("d{i}.{zone}.example");
            let mut identity = SimIdentity::easy_dkim_domain(&name, KeyLength::Rsa2048, now);
            let status = if i % 6 == 0 {
                DkimStatus::Failed
            } else {
                DkimStatus::Pending
            };
            identity.set_status(status, now);
            identity.held = true;
            regions.insert(REGION, identity);
        }
        let mut outside =
            SimIdentity::easy_dkim_domain("lone.nowhere.example", KeyLength::Rsa2048, now);
        outside.held = true;
        regions.insert(REGION, outside);
    });
    let inventory = support::read_inventory(&sim, &[REGION], 1000).await;
    let route53 = route53_sim::spawn(Route53Config {
        in_sync_after: Duration::ZERO,
        ..Route53Config::default()
    })
    .await
    .unwrap();
    for (id, name) in ROUTE53_ZONES {
        route53
            .sim
            .store()
            .create_zone(Zone::public(id, name))
            .unwrap();
    }
    let cloudflare = cloudflare_sim::spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    cloudflare.sim.add_token(TOKEN, TokenScopes::all());
    cloudflare.sim.store().add_zone(CfZone {
        id: CLOUDFLARE_ZONE.0.into(),
        name: CLOUDFLARE_ZONE.1.into(),
        status: "active".into(),
        zone_type: "full".into(),
        name_servers: vec!["ada.ns.cloudflare.com".into()],
    });
    let providers = Providers::new(vec![
        Provider::Route53(Route53Provider::for_endpoint(
            "aws-dns",
            &route53.endpoint_url(),
            vec![],
        )),
        Provider::Cloudflare(CloudflareProvider::new(&CloudflareSettings {
            name: "cf-main".into(),
            token: SecretString::from(TOKEN.to_owned()),
            token_env: "CF_TOKEN".into(),
            zones: vec![],
            api_url: Some(cloudflare.api_url()),
        })),
    ]);
    let state = support::state_with(inventory.clone(), SesBackend::Simulator)
        .with_audit(audit)
        .with_dns_providers(providers);
    plant_conflicts(&inventory, &route53);
    let app = dkimdash::router::router(state.clone());
    Fleet {
        sim,
        route53,
        cloudflare,
        state,
        app,
    }
}

/// d3, d6 and d9 at alpha already hold another value at their first name.
fn plant_conflicts(inventory: &Inventory, route53: &RunningRoute53) {
    use dkimdash::route53_sim::store::{Action, Change, ChangeInfo, RecordSet};
    let snapshot = inventory.snapshot();
    for name in ["d3.alpha.example", "d6.alpha.example", "d9.alpha.example"] {
        let identity = match snapshot.find(REGION, name, None) {
            dkimdash::inventory::snapshot::Lookup::One(identity) => identity.clone(),
            other => panic!("{other:?}"),
        };
        let first = inventory.records_of(&identity).remove(0);
        route53
            .sim
            .store()
            .change(
                "ZALPHA",
                &[Change {
                    action: Action::Create,
                    record_set: RecordSet {
                        name: format!("{}.", first.name),
                        record_type: "CNAME".into(),
                        ttl: 300,
                        values: vec!["someone-else.example".into()],
                    },
                }],
                ChangeInfo {
                    id: format!("CPLANT{}", name.replace('.', "")),
                    submitted_at: 0,
                    submitted_at_ms: 0,
                    comment: None,
                },
            )
            .unwrap();
    }
}

impl Fleet {
    async fn preview(&self, query: &str) -> RepairPlanView {
        let (status, body) = post(&self.app, "repair/preview", &[("query", query)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    async fn run(&self, id: i64) -> RunView {
        let (status, body) = post(&self.app, "repair/run", &[("id", &id.to_string())]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let run: Option<RunView> = serde_json::from_str(&body).unwrap();
        run.expect("the run exists")
    }

    fn cloudflare_creates(&self) -> u64 {
        self.cloudflare
            .sim
            .stats()
            .calls
            .get("POST /zones/:zone/dns_records")
            .copied()
            .unwrap_or(0)
    }

    fn route53_batches(&self) -> u64 {
        self.route53
            .sim
            .stats()
            .calls
            .get("ChangeResourceRecordSets")
            .copied()
            .unwrap_or(0)
    }
}

fn count(run: &RunView, state: &str) -> usize {
    run.counts
        .iter()
        .find(|(s, _)| s == state)
        .map_or(0, |(_, n)| *n)
}

#[tokio::test]
async fn a_fleet_of_200_is_previewed_by_zone_and_repaired_in_batches() {
    let fleet = fleet(AuditLog::in_memory()).await;
    let preview = fleet.preview("").await;
    assert_eq!(preview.selected, 201);
    let zones: Vec<(&str, &str, usize)> = preview
        .plan
        .zones
        .iter()
        .map(|z| {
            (
                z.provider.as_str(),
                z.zone.name.as_str(),
                z.identities.len(),
            )
        })
        .collect();
    assert_eq!(
        zones,
        [
            ("aws-dns", "alpha.example", 64),
            ("aws-dns", "beta.example", 67),
            ("cf-main", "gamma.example", 66)
        ]
    );
    let left_out: Vec<(&str, &str)> = preview
        .plan
        .unrepairable
        .iter()
        .map(|u| (u.key.name.as_str(), u.why.as_str()))
        .collect();
    assert_eq!(left_out.len(), 4, "{left_out:?}");
    assert!(
        left_out
            .iter()
            .any(|(name, why)| *name == "d3.alpha.example"
                && why.contains("someone-else.example")
                && why.contains("decision"))
    );
    assert!(
        left_out
            .iter()
            .any(|(name, why)| *name == "lone.nowhere.example"
                && why.contains("no configured DNS provider holds the zone"))
    );
    assert_eq!(fleet.route53_batches(), 0, "the preview writes nothing");
    assert_eq!(fleet.cloudflare_creates(), 0, "the preview writes nothing");

    let (status, body) = post(
        &fleet.app,
        "repair/start",
        &[("query", ""), ("fingerprint", &preview.fingerprint)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("/repair/runs/1"), "{body}");
    let stop = CancellationToken::new();
    let runner = tokio::spawn(
        fleet
            .state
            .repairs
            .clone()
            .work(fleet.state.repair_workers(), stop.clone()),
    );
    let mut run = fleet.run(1).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while run.finished_at.is_none() {
        assert!(std::time::Instant::now() < deadline, "{:?}", run.counts);
        tokio::time::sleep(Duration::from_millis(100)).await;
        run = fleet.run(1).await;
    }
    stop.cancel();
    runner.await.unwrap();

    assert_eq!(fleet.route53_batches(), 2, "one batch per Route 53 zone");
    assert_eq!(
        fleet.cloudflare_creates(),
        66 * 3,
        "one call per Cloudflare record"
    );
    // Without DNS checks the FAILED ones are published but not restarted, and say why.
    let failed_ones = run.steps.iter().filter(|s| s.state == "failed").count();
    assert_eq!(count(&run, "done") + failed_ones, 197);
    assert!(failed_ones > 0);
    for step in run.steps.iter().filter(|s| s.state == "failed") {
        let detail = step.detail.as_deref().unwrap_or("");
        assert!(
            detail.starts_with("published, but not restarted")
                && detail.contains("--no-dns-checks"),
            "{detail}"
        );
    }
    for step in run.steps.iter().filter(|s| s.state == "done") {
        let detail = step.detail.as_deref().unwrap_or("");
        assert!(
            detail.starts_with("published (aws-dns: change ")
                || detail.starts_with("published (cf-main: records "),
            "the report says what was written: {detail}"
        );
    }
    assert_eq!(run.left_out.len(), 4);
    // Each publish is its own audit entry.
    let entries = fleet
        .state
        .audit
        .recent(&Default::default(), 1000)
        .await
        .unwrap();
    let publishes = entries
        .iter()
        .filter(|e| e.action.contains("(fleet repair #1)"))
        .count();
    assert_eq!(publishes, 197);
    drop(fleet.sim);
}

#[tokio::test]
async fn a_fleet_changed_since_the_preview_is_not_started() {
    let fleet = fleet(AuditLog::in_memory()).await;
    let preview = fleet.preview("q=beta").await;
    fleet
        .route53
        .sim
        .store()
        .create_zone(Zone::public("ZBETA2", "d1.beta.example"))
        .unwrap();
    let (status, body) = post(
        &fleet.app,
        "repair/start",
        &[("query", "q=beta"), ("fingerprint", &preview.fingerprint)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("changed since the preview"), "{body}");
    assert_eq!(
        fleet.state.repairs.store().unfinished().await.unwrap(),
        Vec::<i64>::new()
    );
}

/// A server stopped in the middle of a run goes on where it stood when it starts again,
/// and publishes nothing twice.
#[tokio::test]
async fn a_run_resumes_after_a_restart() {
    let path = std::env::temp_dir().join(format!(
        "dkimdash-fleet-repair-{}-{}.sqlite3",
        std::process::id(),
        dkimdash::inventory::now()
    ));
    let _ = std::fs::remove_file(&path);
    let fleet = fleet(AuditLog::open(&path).await.unwrap()).await;
    let preview = fleet.preview("").await;
    let user = dkimdash::user::User {
        name: "ops".into(),
        email: None,
        groups: vec![],
        role: dkimdash::user::Role::Operator,
    };
    let id = fleet
        .state
        .repairs
        .start(&user, "", &preview.plan)
        .await
        .unwrap();

    // The first server stops right after the first batch.
    let stop = CancellationToken::new();
    let first = {
        let stop = stop.clone();
        let route53 = fleet.route53.sim.clone();
        tokio::spawn(async move {
            eventually("the first batch", Duration::from_secs(30), || {
                route53
                    .stats()
                    .calls
                    .contains_key("ChangeResourceRecordSets")
            })
            .await;
            stop.cancel();
        })
    };
    fleet
        .state
        .repairs
        .clone()
        .work(fleet.state.repair_workers(), stop)
        .await;
    first.await.unwrap();
    let halfway = fleet.run(id).await;
    assert!(halfway.finished_at.is_none());
    assert!(count(&halfway, "waiting") > 0, "{:?}", halfway.counts);

    // A new server on the same database.
    let restarted = Repairs::new(AuditLog::open(&path).await.unwrap());
    let stop = CancellationToken::new();
    let runner = tokio::spawn(
        restarted
            .clone()
            .work(fleet.state.repair_workers(), stop.clone()),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while restarted
        .store()
        .run(id)
        .await
        .unwrap()
        .unwrap()
        .finished_at
        .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    runner.await.unwrap();
    let run = fleet.run(id).await;
    assert_eq!(count(&run, "waiting"), 0, "{:?}", run.counts);
    assert_eq!(
        run.steps
            .iter()
            .filter(|s| s.state == "failed"
                && !s.detail.as_deref().unwrap_or("").starts_with("published"))
            .count(),
        0,
        "nothing refused as a duplicate: {:?}",
        run.steps
            .iter()
            .filter(|s| s.state == "failed")
            .collect::<Vec<_>>()
    );
    assert_eq!(fleet.route53_batches(), 2);
    assert_eq!(fleet.cloudflare_creates(), 66 * 3);
    let _ = std::fs::remove_file(&path);
}

/// A run's progress is read again and again while it goes on (its page asks every
/// moment): reading it takes nothing from the operator's change limit.
#[tokio::test]
async fn reading_a_runs_progress_is_not_a_change() {
    let fleet = fleet(AuditLog::in_memory()).await;
    for _ in 0..100 {
        let (status, body) = post(&fleet.app, "repair/run", &[("id", "1")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
