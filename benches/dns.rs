//! DNS checks at fleet scale, against DNS servers on loopback: 10,000 identities, each in a
//! zone of its own, the zones spread over 4 DNS providers of 2 nameservers each, delegated
//! by a parent zone served by 2 servers; one more server plays the recursive resolver. All
//! servers share one port on their own 127.0.x.y address.
//!
//! 1. Limits lifted: the whole fleet's checks per second (the checker's own cost).
//! 2. Default limits, cold (a fresh checker): the first full pass; the resolver's questions
//!    per identity; the busiest second of every server against its limit.
//!    Goals: ≤ 15 minutes, ≤ 6 resolver questions per cold identity, no server over its
//!    limit in any second.
//! 3. Default limits, warm (the same checker again, on a slice): ≤ 3 resolver questions per
//!    identity.
//!
//! `cargo bench --features ssr --bench dns` (about 10 minutes on 2 cores)

use std::{
    net::{Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    time::{Duration, Instant},
};

use dkimdash::dns::authority::{RunningDnsServer, Zone, serve};
use dkimdash::dns::checker::{Checker, CheckerSettings};
use dkimdash::dns_check::{DnsHealth, DnsReport};
use dkimdash::model::{DnsRecord, RecordType};
use futures::StreamExt;

const IDENTITIES: usize = 10_000;
const PROVIDERS: usize = 4;
const TOKENS: usize = 3;
/// Identities of the warm pass.
const WARM_SLICE: usize = 500;

fn domain(identity: usize) -> String {
    format!("d{identity:05}.test")
}

fn provider_of(identity: usize) -> usize {
    identity % PROVIDERS
}

fn nameservers(provider: usize) -> [String; 2] {
    [1, 2].map(|n| format!("ns{n}.provider{provider}.test"))
}

/// Where provider `provider`'s nameserver `n` (0 or 1) listens.
fn provider_address(provider: usize, n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 2, u8::try_from(provider * 2 + n + 1).unwrap_or(0))
}

/// Where the parent zone's servers listen.
fn parent_address(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, u8::try_from(n + 1).unwrap_or(0))
}

fn records(identity: usize) -> Vec<DnsRecord> {
    (0..TOKENS)
        .map(|t| DnsRecord {
            record_type: RecordType::Cname,
            name: format!("tok{identity}x{t}._domainkey.{}", domain(identity)),
            value: Some(format!("tok{identity}x{t}.dkim.amazonses.com")),
        })
        .collect()
}

/// The zone of one identity, at its provider.
fn identity_zone(identity: usize) -> Zone {
    let apex = domain(identity);
    // An hour, as DNS providers commonly publish NS and glue (Route 53: two days).
    let mut zone = Zone::new(&apex).ttl(3600);
    for ns in nameservers(provider_of(identity)) {
        zone = zone.ns(&apex, &ns);
    }
    for record in records(identity) {
        zone = zone.cname(&record.name, record.value.as_deref().unwrap_or_default());
    }
    zone
}

/// `test.`, delegating every identity's zone to its provider, with the addresses of the
/// providers' and its own nameservers.
fn parent_zone() -> Zone {
    let mut zone = Zone::new("test").ttl(3600);
    for n in 0..2 {
        let ns = format!("ns{}.test", n + 1);
        zone = zone.ns("test", &ns).a(&ns, parent_address(n));
    }
    for provider in 0..PROVIDERS {
        for (n, ns) in nameservers(provider).iter().enumerate() {
            zone = zone.a(ns, provider_address(provider, n));
        }
    }
    for identity in 0..IDENTITIES {
        for ns in nameservers(provider_of(identity)) {
            zone = zone.ns(&domain(identity), &ns);
        }
    }
    zone
}

/// Every server of the world; the resolver first.
struct World {
    resolver: RunningDnsServer,
    parents: Vec<RunningDnsServer>,
    providers: Vec<RunningDnsServer>,
}

async fn world() -> World {
    let everything: Vec<Zone> = std::iter::once(parent_zone())
        .chain((0..IDENTITIES).map(identity_zone))
        .collect();
    let resolver = serve(SocketAddr::from(([127, 0, 0, 1], 0)), everything)
        .await
        .expect("resolver");
    let port = resolver.addr().port();
    let mut parents = Vec::new();
    for n in 0..2 {
        let at = SocketAddr::new(parent_address(n).into(), port);
        parents.push(serve(at, vec![parent_zone()]).await.expect("parent"));
    }
    let mut providers = Vec::new();
    for provider in 0..PROVIDERS {
        for n in 0..2 {
            let zones = (0..IDENTITIES)
                .filter(|i| provider_of(*i) == provider)
                .map(identity_zone)
                .collect();
            let at = SocketAddr::new(provider_address(provider, n).into(), port);
            providers.push(serve(at, zones).await.expect("provider"));
        }
    }
    World {
        resolver,
        parents,
        providers,
    }
}

impl World {
    fn checker(&self, resolver_rate: NonZeroU32, per_server_rate: NonZeroU32) -> Checker {
        Checker::new(CheckerSettings {
            resolver: Some(self.resolver.addr()),
            resolver_rate,
            per_server_rate,
            nameserver_port: self.resolver.addr().port(),
            allowed_nameservers: vec!["127.0.0.0/8".parse().expect("a CIDR")],
            ..CheckerSettings::default()
        })
        .expect("checker")
    }

    fn resolver_questions(&self) -> u64 {
        self.resolver.queries()
    }

    /// The busiest second of the resolver and of the busiest other server.
    fn busiest(&self) -> (u32, u32) {
        let others = self
            .parents
            .iter()
            .chain(&self.providers)
            .map(RunningDnsServer::busiest_second)
            .max()
            .unwrap_or(0);
        (self.resolver.busiest_second(), others)
    }
}

/// Checks `identities` as the monitor does: a bounded number at a time.
async fn pass(checker: &Checker, identities: std::ops::Range<usize>) -> (Vec<DnsReport>, Duration) {
    let started = Instant::now();
    let reports = futures::stream::iter(identities)
        .map(|i| {
            let checker = checker.clone();
            async move { checker.check(&records(i), 0).await }
        })
        .buffer_unordered(checker.settings().concurrency)
        .collect::<Vec<_>>()
        .await;
    (reports, started.elapsed())
}

fn ok_count(reports: &[DnsReport]) -> usize {
    reports
        .iter()
        .filter(|r| r.health() == DnsHealth::Ok)
        .count()
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

#[tokio::main]
async fn main() {
    println!(
        "DNS checks on loopback: {IDENTITIES} identities × {TOKENS} CNAMEs, each identity its own zone, over {PROVIDERS} providers × 2 nameservers, a parent zone on 2 servers"
    );
    let checks = IDENTITIES * TOKENS;

    let lifted_world = world().await;
    let lifted = lifted_world.checker(NonZeroU32::MAX, NonZeroU32::MAX);
    let (reports, elapsed) = pass(&lifted, 0..IDENTITIES).await;
    println!(
        "  limits lifted: {checks} checks in {elapsed:.2?} ({:.0} checks/s), {}/{IDENTITIES} identities OK",
        checks as f64 / elapsed.as_secs_f64(),
        ok_count(&reports)
    );
    drop(lifted_world);

    // Fresh servers, so their counts are the polite passes' alone.
    let world = world().await;
    let defaults = CheckerSettings::default();
    let polite = world.checker(defaults.resolver_rate, defaults.per_server_rate);
    let (reports, elapsed) = pass(&polite, 0..IDENTITIES).await;
    let cold_questions = world.resolver_questions();
    let per_cold = cold_questions as f64 / IDENTITIES as f64;
    let (resolver_busiest, server_busiest) = world.busiest();
    println!(
        "  default limits ({} queries/s to the resolver, {} to each other server, {} identities at a time), cold:",
        defaults.resolver_rate, defaults.per_server_rate, defaults.concurrency
    );
    println!(
        "    first pass: {elapsed:.0?} ({:.0} identities/s), {}/{IDENTITIES} identities OK; goal ≤ 15 min: {}",
        IDENTITIES as f64 / elapsed.as_secs_f64(),
        ok_count(&reports),
        verdict(elapsed <= Duration::from_secs(15 * 60))
    );
    println!(
        "    resolver questions: {cold_questions} ({per_cold:.2} per identity); goal ≤ 6: {}",
        verdict(per_cold <= 6.0)
    );
    println!(
        "    busiest second: resolver {resolver_busiest} (limit {}), other servers {server_busiest} (limit {}): {}",
        defaults.resolver_rate,
        defaults.per_server_rate,
        if resolver_busiest <= defaults.resolver_rate.get()
            && server_busiest <= defaults.per_server_rate.get()
        {
            "within the limits"
        } else {
            "OVER A LIMIT"
        }
    );

    let (reports, elapsed) = pass(&polite, 0..WARM_SLICE).await;
    let warm_questions = world.resolver_questions() - cold_questions;
    let per_warm = warm_questions as f64 / WARM_SLICE as f64;
    println!(
        "  warm (the same checker again, {WARM_SLICE} identities): {elapsed:.1?}, {}/{WARM_SLICE} OK, resolver questions {warm_questions} ({per_warm:.2} per identity); goal ≤ 3: {}",
        ok_count(&reports),
        verdict(per_warm <= 3.0)
    );
    let (resolver_busiest, server_busiest) = world.busiest();
    println!(
        "  busiest second over both passes: resolver {resolver_busiest}, other servers {server_busiest}"
    );
}
