//! The DNS monitor's memory at fleet size: 100,000 Easy DKIM domains (10 regions of 10,000
//! in the simulator, read by an inventory), each with a report of its three CNAMEs kept,
//! loaded from the report store as at a restart; then the view of them that the pages,
//! the history, the alerts and `/metrics` read, and the healths the table filters on.
//! The heap is counted by this bench's own allocator (the C library's, counted): SQLite's
//! own memory is not part of it.
//!
//! Run: `cargo bench --features ssr --bench dns_memory` (option: `-- --identities N`, a
//! multiple of 10).

use std::{
    alloc::{GlobalAlloc, Layout, System},
    num::NonZeroU32,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use dkimdash::{
    audit::log::AuditLog,
    dns::{
        checker::{Checker, CheckerSettings},
        monitor::DnsMonitor,
        store::{ReportStore, SesState},
    },
    dns_check::{DnsReport, Finding, RecordCheck},
    inventory::{Inventory, RefreshSettings},
    model::{DkimStatus, KeyLength},
    ses::{budget::CallBudget, reader::SesConnection},
    sim::{self, SimConfig, identity::SimIdentity},
};

const REGIONS: [&str; 10] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
];

/// The system allocator, with the bytes it holds for the program counted.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            HELD.fetch_add(layout.size(), Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(block, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            HELD.fetch_add(new_size, Ordering::Relaxed);
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held_mb() -> f64 {
    HELD.load(Ordering::Relaxed) as f64 / 1e6
}

fn identities_option() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--identities")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

#[tokio::main]
async fn main() {
    let total = identities_option();
    let per_region = total / REGIONS.len();
    let running = sim::spawn(SimConfig {
        calls_per_second: None,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    running.simulator.with_regions(|regions, now| {
        for region in REGIONS {
            for n in 0..per_region {
                let mut identity = SimIdentity::easy_dkim_domain(
                    &format!("d{n:05}.example"),
                    KeyLength::Rsa2048,
                    now,
                );
                identity.set_status(DkimStatus::Success, now);
                regions.insert(region, identity);
            }
        }
    });
    let url = running.endpoint_url();
    let rate = NonZeroU32::new(10_000).expect("not zero");
    let inventory = Inventory::new(
        REGIONS
            .iter()
            .map(|region| SesConnection::for_endpoint("bench", region, &url, CallBudget::new(rate)))
            .collect(),
        RefreshSettings {
            interval: Duration::from_secs(3600),
            backfill_per_sweep: 0,
            continuous_backfill: false,
        },
    );
    inventory.refresh_now().await;
    let snapshot = inventory.snapshot();
    assert_eq!(
        snapshot.identities.len(),
        total,
        "the sweep read everything"
    );

    // Every identity's report as a check that found its records right would keep it.
    let store = ReportStore::new(AuditLog::in_memory());
    for identity in &snapshot.identities {
        let records = inventory.records_of(identity);
        let report = DnsReport {
            records: records
                .into_iter()
                .map(|record| RecordCheck {
                    record,
                    finding: Finding::Ok,
                })
                .collect(),
            checked_at: 1_800_000_000,
            fresh_until: 1_800_003_600,
        };
        let state = SesState {
            status: identity.dkim.status.clone(),
            tokens: identity.dkim.tokens.clone(),
            zone: identity.dkim.signing_hosted_zone.clone(),
            origin: identity.dkim.origin.clone(),
            public_key: None,
        };
        store
            .save(&identity.key(), &report, &state, 0)
            .await
            .expect("saved");
    }

    let checker = Checker::new(CheckerSettings::default()).expect("checker");
    let monitor = DnsMonitor::new(checker);
    let before = held_mb();
    let loaded = monitor.keep_in(store).await.expect("loaded");
    assert_eq!(loaded, total);
    let kept = held_mb() - before;
    let before = held_mb();
    let view = monitor.view(&snapshot, &inventory);
    assert_eq!(view.len(), total, "every report is current");
    let viewed = held_mb() - before;
    let before = held_mb();
    let healths = monitor.healths(&inventory);
    let health = held_mb() - before;
    drop((view, healths));

    println!("{total} identities, a report of 3 CNAMEs each, heap held by the DNS monitor:");
    for (what, mb) in [
        ("the kept reports (loaded at start)", kept),
        ("the view the pages and rounds read", viewed),
        ("the healths the table filters on", health),
        ("in all", kept + viewed + health),
    ] {
        println!(
            "  {what:<40} {mb:7.1} MB  ({:.0} bytes an identity)",
            mb * 1e6 / total as f64
        );
    }
}
