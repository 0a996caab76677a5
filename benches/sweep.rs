//! Sweep cost at SES's scale: 10,000 identities in the simulator, quota scaled up so the
//! run is short, and SES calls counted on the simulator's side. Prints the batched sweep
//! against its lower bound and against the naive path (one GetEmailIdentity per identity),
//! and what each means at SES's real quota of one call per second. Then the continuous
//! details backfill of a new region: how long until every identity's details (which the
//! DNS checks need) are read, against SES's bound of one call per identity at the quota.
//!
//! Run: `cargo bench --features ssr --bench sweep` (options: `-- --identities N --rate R
//! --naive-sample M`).

use std::{
    num::NonZeroU32,
    time::{Duration, Instant},
};

use dkimdash::{
    inventory::{Inventory, RefreshSettings},
    model::{DkimStatus, KeyLength},
    ses::{budget::CallBudget, reader::SesConnection},
    sim::{self, SimConfig, identity::SimIdentity},
};

const REGION: &str = "us-east-1";

struct Options {
    identities: usize,
    rate: u32,
    naive_sample: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        identities: value("--identities", 10_000),
        rate: value("--rate", 100) as u32,
        naive_sample: value("--naive-sample", 1_000),
    }
}

fn reader(url: &str, rate: NonZeroU32) -> SesConnection {
    SesConnection::for_endpoint("bench", REGION, url, CallBudget::new(rate))
}

fn at_one_per_second(calls: u64) -> String {
    let secs = calls;
    if secs < 3600 {
        format!("{:.1} min", secs as f64 / 60.0)
    } else {
        format!("{:.1} h", secs as f64 / 3600.0)
    }
}

#[tokio::main]
async fn main() {
    let options = options();
    let rate = NonZeroU32::new(options.rate.max(1)).unwrap();
    let running = sim::spawn(SimConfig {
        calls_per_second: Some(rate),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let url = running.endpoint_url();
    running.simulator.with_regions(|regions, now| {
        for n in 0..options.identities {
            let mut identity =
                SimIdentity::easy_dkim_domain(&format!("d{n:05}.example"), KeyLength::Rsa2048, now);
            identity.set_status(DkimStatus::Success, now);
            regions.insert(REGION, identity);
        }
    });
    let n = options.identities as u64;
    let lower_bound = n.div_ceil(100) + n.div_ceil(1000);
    println!("identities: {n}, simulator quota and client rate: {rate} calls/s");

    // Batched sweep, as the inventory runs it (no details backfill).
    let inventory = Inventory::new(
        vec![reader(&url, rate)],
        RefreshSettings {
            interval: Duration::from_secs(3600),
            backfill_per_sweep: 0,
            continuous_backfill: false,
        },
    );
    let started = Instant::now();
    inventory.refresh_now().await;
    let elapsed = started.elapsed();
    let stats = running.simulator.stats();
    assert_eq!(
        inventory.snapshot().identities.len(),
        options.identities,
        "sweep read everything"
    );
    println!(
        "batched sweep: {} SES calls (lower bound ceil(N/100)+ceil(N/1000) = {lower_bound}), {} throttled, {:.2} s; at 1 call/s: {}",
        stats.total_calls(),
        stats.throttled,
        elapsed.as_secs_f64(),
        at_one_per_second(stats.total_calls()),
    );

    // Naive: list, then GetEmailIdentity per identity, measured on a sample.
    running.simulator.reset_stats();
    let naive = reader(&url, rate);
    let started = Instant::now();
    let listed = naive.list_identities().await.expect("list");
    let sample = options.naive_sample.min(listed.len());
    for (name, _) in listed.iter().take(sample) {
        naive.details(name, 0).await.expect("details");
    }
    let elapsed = started.elapsed();
    let calls = running.simulator.stats().total_calls();
    let list_calls = n.div_ceil(1000);
    let full_calls = list_calls + n;
    let per_call = elapsed.as_secs_f64() / calls.max(1) as f64;
    println!(
        "naive per-identity path: {calls} calls for {sample} identities in {:.2} s; for all {n}: {full_calls} calls, ~{:.0} s here; at 1 call/s: {}",
        elapsed.as_secs_f64(),
        per_call * full_calls as f64,
        at_one_per_second(full_calls),
    );

    // A new region, read by the server's default: one sweep, then details continuously.
    const NEW_REGION: &str = "eu-west-1";
    running.simulator.with_regions(|regions, now| {
        for n in 0..options.identities {
            let mut identity =
                SimIdentity::easy_dkim_domain(&format!("n{n:05}.example"), KeyLength::Rsa2048, now);
            // A tenth not SUCCESS, read first.
            if n % 10 != 0 {
                identity.set_status(DkimStatus::Success, now);
            }
            identity.auto_verify = false;
            regions.insert(NEW_REGION, identity);
        }
    });
    running.simulator.reset_stats();
    let fresh = Inventory::new(
        vec![SesConnection::for_endpoint(
            "bench",
            NEW_REGION,
            &url,
            CallBudget::new(rate),
        )],
        RefreshSettings {
            interval: Duration::from_secs(300),
            backfill_per_sweep: 0,
            continuous_backfill: true,
        },
    );
    let started = Instant::now();
    let refresher = fresh.spawn_refresher();
    let mut published = fresh.subscribe();
    let mut not_success_done = None;
    loop {
        let snapshot = published.borrow_and_update().clone();
        let read = |success: bool| {
            snapshot
                .identities
                .iter()
                .filter(|i| (i.dkim.status == DkimStatus::Success) == success)
                .all(|i| i.details_read_at.is_some())
        };
        if !snapshot.identities.is_empty() {
            if not_success_done.is_none() && read(false) {
                not_success_done = Some(started.elapsed());
            }
            if read(false) && read(true) {
                break;
            }
        }
        if published.changed().await.is_err() {
            break;
        }
    }
    let elapsed = started.elapsed();
    refresher.abort();
    let calls = running.simulator.stats().total_calls();
    let bound = n as f64 / f64::from(rate.get());
    // At this quota the timer's millisecond rounding adds a few percent per call; at SES's
    // one call a second the calls made are the time.
    println!(
        "continuous details backfill of a new region: all {n} identities' details in {:.1} s, the {} not SUCCESS in {:.1} s; SES's bound at this quota (one call per identity): {bound:.1} s, so {:.2} x the bound; {calls} calls ({:.3} x one per identity), so at 1 call/s: about {}",
        elapsed.as_secs_f64(),
        n.div_ceil(10),
        not_success_done.unwrap_or_default().as_secs_f64(),
        elapsed.as_secs_f64() / bound,
        calls as f64 / n as f64,
        at_one_per_second(calls),
    );
}
