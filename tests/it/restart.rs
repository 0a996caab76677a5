//! Restarting SES's DKIM verification through the `dkim/restart` server function: the
//! demo's simulator (through the real SDK, SES API v1 VerifyDomainDkim) and its DNS (real
//! DNS servers on loopback), the records checked before SES is asked.

use axum::{Router, http::StatusCode};
use dkimdash::{
    audit::{entry::AuditOutcome, log::Filter},
    dns::{
        demo::{DemoDns, ProviderRecord},
        monitor::DnsMonitor,
    },
    inventory::{Inventory, snapshot::Lookup},
    model::{DkimStatus, SesBackend},
    server::state::AppState,
    sim::RunningSimulator,
};

use crate::support::{self, post};

const EAST: &str = "us-east-1";
/// FAILED, Easy DKIM; the demo's DNS has none of its records.
const FAILED_MISSING: &str = "shop.acme.example";
/// FAILED, BYODKIM.
const FAILED_BYODKIM: &str = "internal.acme.example";
/// SUCCESS, Easy DKIM, its records right.
const VERIFIED: &str = "acme.example";

struct Demo {
    sim: RunningSimulator,
    demo_dns: DemoDns,
    inventory: Inventory,
    state: AppState,
    app: Router,
}

/// The demo simulator and its DNS, read into a dashboard with DNS checks (or without).
async fn demo(dns_checks: bool) -> Demo {
    let sim = support::simulator(true).await;
    let (demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = support::read_inventory(&sim, &[EAST], 1000).await;
    let mut state = support::state_with(inventory.clone(), SesBackend::Simulator);
    if dns_checks {
        state = state.with_dns(DnsMonitor::new(checker));
    }
    let app = dkimdash::router::router(state.clone());
    Demo {
        sim,
        demo_dns,
        inventory,
        state,
        app,
    }
}

impl Demo {
    fn sim_status(&self, name: &str) -> (DkimStatus, Vec<String>) {
        let view = self
            .sim
            .simulator
            .with_regions(|regions, now| regions.get(EAST, name, now))
            .unwrap();
        (view.dkim.status, view.dkim.tokens)
    }

    async fn restart(&self, name: &str) -> (StatusCode, String) {
        post(
            &self.app,
            "dkim/restart",
            &[("region", EAST), ("name", name)],
        )
        .await
    }

    /// Publishes the identity's records, right, in the demo's DNS.
    fn publish_right(&self, name: &str) {
        let identity = match self.inventory.snapshot().find(EAST, name, None) {
            Lookup::One(identity) => identity.clone(),
            other => panic!("{other:?}"),
        };
        let records: Vec<ProviderRecord> = self
            .inventory
            .records_of(&identity)
            .into_iter()
            .map(|record| ProviderRecord {
                name: record.name,
                record_type: record.record_type.as_str().to_owned(),
                values: vec![record.value.expect("Easy DKIM values are known")],
            })
            .collect();
        self.demo_dns.overlay(&records).unwrap();
    }

    async fn audit_of(&self, name: &str) -> Vec<dkimdash::audit::entry::AuditEntry> {
        let filter = Filter {
            identity: Some(name.to_owned()),
            ..Filter::default()
        };
        self.state.audit.recent(&filter, 10).await.unwrap()
    }
}

#[tokio::test]
async fn a_failed_domain_restarts_only_once_its_records_are_right() {
    let demo = demo(true).await;
    let (status, tokens) = demo.sim_status(FAILED_MISSING);
    assert_eq!(status, DkimStatus::Failed);

    let (code, body) = demo.restart(FAILED_MISSING).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("does not find every record"), "{body}");
    assert_eq!(demo.sim_status(FAILED_MISSING).0, DkimStatus::Failed);
    assert!(
        demo.audit_of(FAILED_MISSING).await.is_empty(),
        "refused before SES was asked: nothing to record"
    );

    demo.publish_right(FAILED_MISSING);
    let (code, body) = demo.restart(FAILED_MISSING).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(body.contains("looking for the records"), "{body}");
    assert_eq!(
        demo.sim_status(FAILED_MISSING),
        (DkimStatus::Pending, tokens),
        "SES searches again, with the same tokens"
    );
    match demo.inventory.snapshot().find(EAST, FAILED_MISSING, None) {
        Lookup::One(identity) => assert_eq!(identity.dkim.status, DkimStatus::Pending),
        other => panic!("{other:?}"),
    }
    let entries = demo.audit_of(FAILED_MISSING).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].action, "restart DKIM verification");
    assert_eq!(entries[0].outcome, AuditOutcome::Done);
}

#[tokio::test]
async fn only_a_failed_easy_dkim_domain_is_restarted() {
    let demo = demo(true).await;
    let (code, body) = demo.restart(VERIFIED).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("is SUCCESS, not FAILED"), "{body}");

    let (code, body) = demo.restart(FAILED_BYODKIM).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("uses BYODKIM") && body.contains("selector k1"),
        "{body}"
    );
    assert_eq!(demo.sim_status(FAILED_BYODKIM).0, DkimStatus::Failed);
}

#[tokio::test]
async fn without_dns_checks_the_restart_says_why_it_cannot_tell() {
    let demo = demo(false).await;
    demo.publish_right(FAILED_MISSING);
    let (code, body) = demo.restart(FAILED_MISSING).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("--no-dns-checks"), "{body}");
    assert_eq!(demo.sim_status(FAILED_MISSING).0, DkimStatus::Failed);
}

/// Another SES client (the SDK's v1 API, as boto3 or the CLI would call it) restarts a
/// FAILED domain the same way, and one SES has not given up on is left as it is.
#[tokio::test]
async fn verify_domain_dkim_begins_verification_again_as_documented() {
    let sim = support::simulator(true).await;
    let clients = support::sim_clients(&sim, EAST);
    let status = |name: &str| {
        sim.simulator
            .with_regions(|regions, now| regions.get(EAST, name, now))
            .unwrap()
            .dkim
    };
    let before = status(FAILED_MISSING);
    let answer = clients
        .v1
        .verify_domain_dkim()
        .domain(FAILED_MISSING)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.dkim_tokens(), before.tokens.as_slice());
    assert_eq!(status(FAILED_MISSING).status, DkimStatus::Pending);

    let verified = status(VERIFIED);
    clients
        .v1
        .verify_domain_dkim()
        .domain(VERIFIED)
        .send()
        .await
        .unwrap();
    assert_eq!(status(VERIFIED), verified);
}
