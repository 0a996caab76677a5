//! DNS check throughput and politeness, against an authoritative server on loopback.
//! The fleet is spread over 100 zones of 100 domains each, as a company's usually is over a
//! few zones: hickory-server's in-memory zones answer "no such name" in time proportional
//! to the zone's size, which with one 30,000-record zone would measure the test server
//! rather than the checker.
//!
//! 1. 10,000 identities × 3 Easy DKIM CNAMEs with the rate limit lifted: how long the whole
//!    fleet takes, and checks (records) per second. Goal: the fleet in ≤ 60 s.
//! 2. With the default limit (20 queries/s per nameserver), a slice of the fleet: the most
//!    queries the nameserver received within one second, which must stay within the limit.
//!
//! `cargo bench --features ssr --bench dns`

use std::{net::SocketAddr, num::NonZeroU32, time::Instant};

use dkimdash::dns::authority::{Zone, serve};
use dkimdash::dns::checker::{Checker, CheckerSettings};
use dkimdash::dns_check::DnsHealth;
use dkimdash::model::{DnsRecord, RecordType};

const IDENTITIES: usize = 10_000;
const ZONES: usize = 100;
const TOKENS: usize = 3;
/// Identities checked under the default limit (each record costs a few queries).
const POLITE_SLICE: usize = 60;

fn records(identity: usize) -> Vec<DnsRecord> {
    (0..TOKENS)
        .map(|t| DnsRecord {
            record_type: RecordType::Cname,
            name: format!(
                "tok{identity}x{t}._domainkey.d{identity:05}.z{:02}.test",
                identity % ZONES
            ),
            value: Some(format!("tok{identity}x{t}.dkim.amazonses.com")),
        })
        .collect()
}

fn zones() -> Vec<Zone> {
    let loopback = std::net::Ipv4Addr::LOCALHOST;
    let mut parent = Zone::new("test")
        .ns("test", "ns.test")
        .a("ns.test", loopback);
    let mut zones: Vec<Zone> = (0..ZONES)
        .map(|z| {
            let (apex, ns) = (format!("z{z:02}.test"), format!("ns.z{z:02}.test"));
            parent = std::mem::replace(&mut parent, Zone::new("test"))
                .ns(&apex, &ns)
                .a(&ns, loopback);
            Zone::new(&apex).ns(&apex, &ns).a(&ns, loopback)
        })
        .collect();
    for identity in 0..IDENTITIES {
        let zone = &mut zones[identity % ZONES];
        for record in records(identity) {
            let taken = std::mem::replace(zone, Zone::new("test"));
            *zone = taken.cname(&record.name, record.value.as_deref().unwrap_or_default());
        }
    }
    zones.push(parent);
    zones
}

fn checker(server: SocketAddr, per_server_rate: NonZeroU32, concurrency: usize) -> Checker {
    Checker::new(CheckerSettings {
        resolver: Some(server),
        per_server_rate,
        concurrency,
        nameserver_port: server.port(),
        ..CheckerSettings::default()
    })
    .expect("checker")
}

#[tokio::main]
async fn main() {
    println!(
        "DNS checks against a loopback authoritative server ({IDENTITIES} identities × {TOKENS} CNAMEs in {ZONES} zones)"
    );

    let fleet = serve(SocketAddr::from(([127, 0, 0, 1], 0)), zones())
        .await
        .expect("server");
    let unlimited = checker(fleet.addr(), NonZeroU32::MAX, 64);
    let started = Instant::now();
    let reports = futures::future::join_all((0..IDENTITIES).map(|i| {
        let checker = unlimited.clone();
        async move { checker.check(&records(i), 0).await }
    }))
    .await;
    let elapsed = started.elapsed();
    let ok = reports
        .iter()
        .filter(|r| r.health() == DnsHealth::Ok)
        .count();
    let checks = IDENTITIES * TOKENS;
    println!(
        "  rate limit lifted: {checks} checks in {elapsed:.2?} ({:.0} checks/s), {ok}/{IDENTITIES} identities OK, goal ≤ 60 s: {}",
        checks as f64 / elapsed.as_secs_f64(),
        if elapsed.as_secs() <= 60 {
            "met"
        } else {
            "MISSED"
        }
    );

    // A fresh server, so its busiest second counts only the polite run.
    let polite_server = serve(SocketAddr::from(([127, 0, 0, 1], 0)), zones())
        .await
        .expect("server");
    let defaults = CheckerSettings::default();
    let polite = checker(
        polite_server.addr(),
        defaults.per_server_rate,
        defaults.concurrency,
    );
    let started = Instant::now();
    futures::future::join_all((0..POLITE_SLICE).map(|i| {
        let checker = polite.clone();
        async move { checker.check(&records(i), 0).await }
    }))
    .await;
    let busiest = polite_server.busiest_second();
    println!(
        "  default limit ({} queries/s per nameserver): {} checks in {:.2?}; busiest second at the nameserver: {busiest} queries ({})",
        defaults.per_server_rate,
        POLITE_SLICE * TOKENS,
        started.elapsed(),
        if busiest <= defaults.per_server_rate.get() {
            "within the limit"
        } else {
            "OVER THE LIMIT"
        }
    );
}
