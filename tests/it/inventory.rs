//! The inventory against the simulator over real HTTP: how many SES calls a sweep costs,
//! single-flight refreshes, throttling and faults that never reach the page.
use crate::support;

use std::{
    num::NonZeroU32,
    time::{Duration, Instant},
};

use support::{eventually, inventory_of as inventory, simulator};

use dkimdash::{
    inventory::{FORCED_REFRESH_COOLDOWN, ForcedRefresh, Inventory, RefreshSettings},
    model::{DkimStatus, SigningOrigin},
    ses::{budget::CallBudget, reader::SesConnection},
    sim::{Faults, RunningSimulator, identity::SimIdentity},
};

const REGION: &str = "us-east-1";

fn reader(sim: &RunningSimulator, region: &str, calls_per_second: u32) -> SesConnection {
    let budget = CallBudget::new(NonZeroU32::new(calls_per_second).unwrap())
        .with_base_backoff(Duration::from_millis(20));
    SesConnection::for_endpoint("test", region, &sim.endpoint_url(), budget)
}

fn bulk(sim: &RunningSimulator, region: &str, count: usize) {
    sim.simulator.with_regions(|regions, now| {
        for n in 0..count {
            let mut identity = SimIdentity::easy_dkim_domain(
                &format!("d{n:05}.example"),
                dkimdash::model::KeyLength::Rsa2048,
                now,
            );
            identity.set_status(DkimStatus::Success, now);
            identity.auto_verify = false;
            regions.insert(region, identity);
        }
    });
}

#[tokio::test]
async fn a_sweep_of_2500_costs_batches_not_identities() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 2500);
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);

    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    assert_eq!(snapshot.identities.len(), 2500);
    assert!(snapshot.targets[0].last_error.is_none());
    let stats = sim.simulator.stats();
    assert_eq!(stats.calls_of("ListEmailIdentities"), 3); // ceil(2500 / 1000)
    assert_eq!(stats.calls_of("GetIdentityDkimAttributes"), 25); // ceil(2500 / 100)
    assert_eq!(stats.calls_of("GetEmailIdentity"), 0);
    assert!(stats.total_calls() <= 25 + 3);
    assert!(
        snapshot
            .identities
            .iter()
            .all(|i| i.dkim.status == DkimStatus::Success && i.dkim.tokens.len() == 3)
    );

    // Change 7, add 3: the next sweep reads details for exactly those 10.
    sim.simulator.with_regions(|regions, now| {
        for n in 0..7 {
            regions
                .force_status(
                    REGION,
                    &format!("d{n:05}.example"),
                    DkimStatus::Failed,
                    None,
                    now,
                )
                .unwrap();
        }
        for n in 0..3 {
            regions
                .create(REGION, &format!("new{n}.example"), None, Vec::new(), now)
                .unwrap();
        }
    });
    sim.simulator.reset_stats();
    inventory.refresh_now().await;
    let stats = sim.simulator.stats();
    let n: u64 = 2503;
    assert_eq!(stats.calls_of("GetEmailIdentity"), 10);
    assert!(
        stats.total_calls() <= n.div_ceil(100) + n.div_ceil(1000) + 10,
        "{stats:?}"
    );
    let snapshot = inventory.snapshot();
    assert_eq!(snapshot.identities.len(), 2503);
    let failed = snapshot
        .identities
        .iter()
        .filter(|i| i.dkim.status == DkimStatus::Failed)
        .count();
    assert_eq!(failed, 7);
    let fresh = snapshot
        .identities
        .iter()
        .find(|i| i.name == "new0.example")
        .unwrap();
    assert_eq!(fresh.dkim.origin, Some(SigningOrigin::EasyDkim));
    assert!(fresh.details_read_at.is_some());
}

#[tokio::test]
async fn viewers_of_an_identity_without_details_share_one_read() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 3);
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);
    inventory.refresh_now().await;
    let undetailed = inventory.snapshot().identities[1].clone();
    assert!(undetailed.details_read_at.is_none());
    sim.simulator.reset_stats();
    sim.simulator.set_faults(Faults {
        latency_ms: 100,
        error_rate: 0.0,
    });
    let viewers = (0..8).map(|_| inventory.with_details(undetailed.clone()));
    let read = futures::future::join_all(viewers).await;
    assert_eq!(sim.simulator.stats().calls_of("GetEmailIdentity"), 1);
    for identity in read {
        let identity = identity.unwrap();
        assert_eq!(identity.name, undetailed.name);
        assert!(identity.details_read_at.is_some());
    }
    // Once read, the snapshot's is shown as it is.
    let detailed = inventory.snapshot().identities[1].clone();
    let again = inventory.with_details(detailed.clone()).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&again, &detailed));
    assert_eq!(sim.simulator.stats().calls_of("GetEmailIdentity"), 1);
}

#[tokio::test]
async fn concurrent_refreshes_share_one_sweep() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 50);
    sim.simulator.set_faults(Faults {
        latency_ms: 100,
        error_rate: 0.0,
    });
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);
    tokio::join!(
        inventory.refresh_now(),
        inventory.refresh_now(),
        inventory.refresh_now()
    );
    assert_eq!(sim.simulator.stats().calls_of("ListEmailIdentities"), 1);
    assert_eq!(inventory.snapshot().identities.len(), 50);
}

#[tokio::test]
async fn ses_quota_of_one_call_a_second_never_surfaces_as_an_error() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 150);
    sim.simulator.set_quota(NonZeroU32::new(1));
    // Deliberately faster than SES allows, so throttling happens and must be absorbed.
    let inventory = inventory(vec![reader(&sim, REGION, 3)], 0);
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    assert!(
        snapshot.targets[0].last_error.is_none(),
        "{:?}",
        snapshot.targets[0].last_error
    );
    assert_eq!(snapshot.identities.len(), 150);
    let counts = inventory.call_counts();
    assert!(
        sim.simulator.stats().throttled > 0,
        "the test must actually provoke throttling"
    );
    assert_eq!(counts.throttled, sim.simulator.stats().throttled);
    assert_eq!(counts.retries, counts.throttled);
}

#[tokio::test]
async fn the_call_budget_paces_a_sweep_below_the_ses_quota() {
    const READER_PER_SECOND: u32 = 4;
    // A little above the reader's budget; also the simulator's burst.
    const SES_PER_SECOND: u32 = 5;
    // One list page and nine batches of 100: twice the simulator's burst.
    const CALLS: u64 = 10;
    let sim = simulator(false).await;
    bulk(&sim, REGION, 900);
    sim.simulator.set_quota(NonZeroU32::new(SES_PER_SECOND));
    let inventory = inventory(vec![reader(&sim, REGION, READER_PER_SECOND)], 0);

    let started = Instant::now();
    inventory.refresh_now().await;
    let took = started.elapsed();

    assert_eq!(inventory.snapshot().identities.len(), 900);
    let stats = sim.simulator.stats();
    assert_eq!(stats.total_calls(), CALLS, "{stats:?}");
    // Sent back to back, the calls after the burst would have been throttled.
    assert_eq!(
        stats.throttled, 0,
        "the reader outran SES's quota: {stats:?}"
    );
    assert_eq!(inventory.call_counts().retries, 0);
    // The first call at once, each next one a quarter second later.
    let paced = Duration::from_millis(250 * (CALLS - 1));
    assert!(took >= paced - Duration::from_millis(50), "{took:?}");
}

#[tokio::test]
async fn faults_keep_the_last_good_read_and_record_the_error() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 300);
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);
    inventory.refresh_now().await;
    assert_eq!(inventory.snapshot().identities.len(), 300);

    // 20 % errors: each sweep either completes (retries absorb them) or keeps the old read.
    sim.simulator.set_faults(Faults {
        latency_ms: 0,
        error_rate: 0.2,
    });
    // Sweeps make only a few calls, so go on until some failed (P(none in 30) ≈ 1e-12).
    for _ in 0..30 {
        inventory.refresh_now().await;
        let snapshot = inventory.snapshot();
        assert_eq!(snapshot.identities.len(), 300);
        assert!(snapshot.targets[0].last_success.is_some());
        if sim.simulator.stats().injected_failures >= 3 {
            break;
        }
    }
    assert!(sim.simulator.stats().injected_failures > 0);

    // SES down: the read is kept and the error says what happened.
    sim.simulator.set_faults(Faults {
        latency_ms: 0,
        error_rate: 1.0,
    });
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    assert_eq!(snapshot.identities.len(), 300);
    let error = snapshot.targets[0]
        .last_error
        .as_ref()
        .expect("error recorded");
    assert!(
        error.message.contains("unreachable or failing"),
        "{}",
        error.message
    );

    // Back up: the error clears.
    sim.simulator.set_faults(Faults::default());
    inventory.refresh_now().await;
    assert!(inventory.snapshot().targets[0].last_error.is_none());
}

#[tokio::test]
async fn first_start_shows_statuses_at_once_and_backfills_details() {
    let sim = simulator(true).await;
    let readers = vec![
        reader(&sim, "us-east-1", 1000),
        reader(&sim, "eu-west-1", 1000),
    ];
    let inventory = inventory(readers, 200);
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    // src/sim/seed.rs: 22 identities in us-east-1, 18 in eu-west-1.
    assert_eq!(snapshot.identities.len(), 40);
    assert!(
        snapshot
            .identities
            .iter()
            .all(|i| i.details_read_at.is_some())
    );
    assert!(snapshot.targets.iter().all(|t| t.details_pending == 0));
    let replica = snapshot
        .identities
        .iter()
        .find(|i| i.region == "eu-west-1" && i.name == "eu.acme.example")
        .unwrap();
    assert_eq!(
        replica.dkim.origin,
        Some(SigningOrigin::Replica {
            parent_region: "us-east-1".into()
        })
    );
    assert_eq!(replica.dkim.status, DkimStatus::Success);
}

#[tokio::test]
async fn unreachable_ses_on_first_start_is_recorded_not_fatal() {
    let sim = simulator(false).await;
    let url = sim.endpoint_url();
    drop(sim); // nothing listens there any more
    let budget =
        CallBudget::new(NonZeroU32::new(1000).unwrap()).with_base_backoff(Duration::from_millis(1));
    let reader = SesConnection::for_endpoint("t", REGION, &url, budget);
    let inventory = inventory(vec![reader], 0);
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    assert!(snapshot.identities.is_empty());
    assert!(snapshot.targets[0].last_success.is_none());
    assert!(snapshot.targets[0].last_error.is_some());
}

#[tokio::test]
async fn an_opened_identity_is_reread_at_once_and_a_deleted_one_dropped() {
    use dkimdash::model::IdentityKey;
    let sim = simulator(false).await;
    bulk(&sim, REGION, 5);
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);
    inventory.refresh_now().await;
    assert_eq!(inventory.snapshot().targets[0].details_pending, 5);

    let key = IdentityKey {
        account: "test".into(),
        region: REGION.into(),
        name: "d00001.example".into(),
    };
    sim.simulator
        .with_regions(|regions, now| {
            regions.force_status(REGION, &key.name, DkimStatus::TemporaryFailure, None, now)
        })
        .unwrap();
    let fresh = inventory.refresh_identity(&key).await.unwrap();
    assert_eq!(fresh.dkim.status, DkimStatus::TemporaryFailure);
    assert_eq!(fresh.dkim.origin, Some(SigningOrigin::EasyDkim));
    let snapshot = inventory.snapshot();
    let stored = snapshot.identities.iter().find(|i| i.key() == key).unwrap();
    assert_eq!(**stored, fresh);
    assert_eq!(snapshot.targets[0].details_pending, 4);

    sim.simulator
        .with_regions(|regions, _| regions.delete(REGION, &key.name))
        .unwrap();
    let gone = inventory.refresh_identity(&key).await.unwrap_err();
    assert!(
        matches!(gone, dkimdash::ses::error::Error::NotFound(_)),
        "{gone:?}"
    );
    let snapshot = inventory.snapshot();
    assert!(snapshot.identities.iter().all(|i| i.key() != key));
    assert_eq!(snapshot.targets[0].identities, 4);
}

#[tokio::test]
async fn a_fresh_read_during_the_backfill_is_not_overwritten_by_it() {
    use dkimdash::model::IdentityKey;
    let sim = simulator(false).await;
    bulk(&sim, REGION, 3);
    // Every call takes 400 ms: the backfill of two identities runs ~800 ms after the sweep.
    sim.simulator.set_faults(Faults {
        latency_ms: 400,
        error_rate: 0.0,
    });
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 2);
    let mut published = inventory.subscribe();
    let sweeping = tokio::spawn({
        let inventory = inventory.clone();
        async move { inventory.refresh_now().await }
    });
    tokio::time::timeout(
        Duration::from_secs(5),
        published.wait_for(|snapshot| !snapshot.identities.is_empty()),
    )
    .await
    .expect("the sweep publishes its list")
    .unwrap();

    // The sweep has published; the backfill is reading d00000 and d00001. An operator now
    // opens d00002, whose status changed in SES.
    let key = IdentityKey {
        account: "test".into(),
        region: REGION.into(),
        name: "d00002.example".into(),
    };
    sim.simulator
        .with_regions(|regions, now| {
            regions.force_status(REGION, &key.name, DkimStatus::Failed, None, now)
        })
        .unwrap();
    inventory.refresh_identity(&key).await.unwrap();
    sweeping.await.unwrap();

    let snapshot = inventory.snapshot();
    let opened = snapshot
        .identities
        .iter()
        .find(|i| i.has_key(&key))
        .unwrap();
    assert_eq!(
        opened.dkim.status,
        DkimStatus::Failed,
        "the backfill overwrote a fresher read"
    );
    assert!(opened.details_read_at.is_some());
    let backfilled = snapshot
        .identities
        .iter()
        .filter(|i| i.details_read_at.is_some())
        .count();
    assert_eq!(backfilled, 3);
}

#[tokio::test]
async fn refresh_now_starts_a_sweep_joins_a_running_one_and_then_waits_a_minute() {
    let sim = simulator(false).await;
    bulk(&sim, REGION, 10);
    let inventory = inventory(vec![reader(&sim, REGION, 1000)], 0);
    // Every answer takes a second: the sweep is still running when asked again.
    sim.simulator.set_faults(Faults {
        latency_ms: 1000,
        error_rate: 0.0,
    });

    assert_eq!(inventory.force_refresh(), ForcedRefresh::Started);
    eventually("the sweep starts", Duration::from_secs(2), || {
        inventory.is_sweeping()
    })
    .await;
    assert_eq!(inventory.force_refresh(), ForcedRefresh::Joined);
    // Two calls of a second each.
    eventually("the sweep ends", Duration::from_secs(5), || {
        !inventory.is_sweeping()
    })
    .await;
    assert_eq!(inventory.snapshot().identities.len(), 10);
    let calls = sim.simulator.stats().total_calls();

    // Right after: refused, with the wait, and SES is not asked.
    match inventory.force_refresh() {
        ForcedRefresh::TooSoon { retry_after } => {
            assert!(retry_after <= FORCED_REFRESH_COOLDOWN, "{retry_after:?}");
            assert!(retry_after > Duration::ZERO);
        }
        other => panic!("expected TooSoon, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.simulator.stats().total_calls(), calls);
}

#[tokio::test]
async fn the_refresher_shows_a_change_in_ses_unasked() {
    const INTERVAL: Duration = Duration::from_millis(100);
    const UNASKED_DEADLINE: Duration = Duration::from_secs(30);
    let sim = simulator(false).await;
    bulk(&sim, REGION, 3);
    let inventory = Inventory::new(
        vec![reader(&sim, REGION, 1000)],
        RefreshSettings {
            interval: INTERVAL,
            backfill_per_sweep: 0,
            continuous_backfill: false,
        },
    );
    let mut published = inventory.subscribe();
    let refresher = inventory.spawn_refresher();
    let status_of = |snapshot: &dkimdash::inventory::snapshot::Snapshot| {
        snapshot
            .identities
            .iter()
            .find(|i| i.name == "d00001.example")
            .map(|i| i.dkim.status.clone())
    };
    // Generous deadlines: they only turn a refresher that never sweeps again (or sweeps
    // hourly, the default) into a failure instead of a hang.
    tokio::time::timeout(
        UNASKED_DEADLINE,
        published.wait_for(|s| status_of(s) == Some(DkimStatus::Success)),
    )
    .await
    .expect("the refresher's first sweep")
    .unwrap();

    // Changed in SES behind the dashboard's back; nobody asks for a refresh.
    sim.simulator
        .with_regions(|regions, now| {
            regions.force_status(REGION, "d00001.example", DkimStatus::Failed, None, now)
        })
        .unwrap();
    let seen = tokio::time::timeout(
        UNASKED_DEADLINE,
        published.wait_for(|s| status_of(s) == Some(DkimStatus::Failed)),
    )
    .await;
    refresher.abort();
    assert!(
        seen.is_ok(),
        "the change was not swept within {UNASKED_DEADLINE:?}"
    );
}

/// The server's default: details are read continuously in the background, not a bounded
/// number per sweep, and identities that are not SUCCESS come first, so a new region's DNS
/// checks are not held back by the sweep interval.
#[tokio::test]
async fn details_are_read_continuously_not_success_first() {
    let sim = simulator(false).await;
    // d00000-d00039 SUCCESS, d00040-d00059 PENDING: by name, SUCCESS would come first.
    bulk(&sim, REGION, 60);
    sim.simulator.with_regions(|regions, now| {
        for n in 40..60 {
            regions
                .force_status(
                    REGION,
                    &format!("d{n:05}.example"),
                    DkimStatus::Pending,
                    None,
                    now,
                )
                .unwrap();
        }
    });
    let inventory = Inventory::new(
        vec![reader(&sim, REGION, 40)],
        RefreshSettings {
            // One sweep in this test: the backfill does not wait for the next.
            interval: Duration::from_secs(3600),
            backfill_per_sweep: 0,
            continuous_backfill: true,
        },
    );
    let mut published = inventory.subscribe();
    let refresher = inventory.spawn_refresher();
    let first_details = tokio::time::timeout(
        Duration::from_secs(30),
        published.wait_for(|s| s.identities.iter().any(|i| i.details_read_at.is_some())),
    )
    .await
    .expect("details read")
    .unwrap()
    .clone();
    let read: Vec<&str> = first_details
        .identities
        .iter()
        .filter(|i| i.details_read_at.is_some())
        .map(|i| i.name.as_str())
        .collect();
    assert!(
        first_details
            .identities
            .iter()
            .filter(|i| i.details_read_at.is_some())
            .all(|i| i.dkim.status == DkimStatus::Pending),
        "PENDING first: {read:?}"
    );
    eventually("every identity's details", Duration::from_secs(30), || {
        let snapshot = inventory.snapshot();
        snapshot.identities.len() == 60
            && snapshot
                .identities
                .iter()
                .all(|i| i.details_read_at.is_some())
    })
    .await;
    assert_eq!(
        inventory.sweeps_completed(),
        1,
        "all within one sweep interval"
    );
    refresher.abort();
}
