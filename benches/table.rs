//! What the identities table costs the server at 10,000 identities: the table's order
//! for a column and what the filters look at (each built once per change of the inventory
//! and shared), then one page per query walking them (filter and page: what every
//! overview request and poll does), the summary strip's counts (once per change), what a
//! publish of 20 changed identities costs them (orders carried over, the strip recounted
//! for those alone), and the zone file of every identity's records (the table's "download
//! all"). Prints the median and worst of repeated runs.
//!
//! Run: `cargo bench --bench table --features ssr` (options: `-- --identities N --runs R`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use dkimdash::{
    model::{DkimState, DkimStatus, Identity, IdentityType, KeyLength, SigningOrigin},
    records,
    table::{
        index::TableIndex,
        orders::TableOrders,
        query::{SortColumn, TableQuery},
        select::{facets, matches, page_of, table_order},
    },
};

fn arg(flag: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` read identities over four regions, statuses, origins and key lengths in turn.
fn identities(n: usize) -> Vec<Identity> {
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1"];
    (0..n)
        .map(|i| Identity {
            name: format!("team{:05}.example.com", (i * 7919) % n),
            identity_type: IdentityType::Domain,
            region: regions[i % regions.len()].to_owned(),
            account: format!("account-{}", i % 3),
            dkim: DkimState {
                signing_enabled: i % 11 != 0,
                status: DkimStatus::KNOWN[i % 5].clone(),
                tokens: (0..3).map(|t| format!("{i:030}{t:02}")).collect(),
                signing_hosted_zone: Some("dkim.amazonses.com".to_owned()),
                origin: Some(if i % 9 == 0 {
                    SigningOrigin::Byodkim
                } else {
                    SigningOrigin::EasyDkim
                }),
                current_key_length: Some(if i % 4 == 0 {
                    KeyLength::Rsa1024
                } else {
                    KeyLength::Rsa2048
                }),
                next_key_length: Some(KeyLength::Rsa2048),
                last_key_generation: Some(1_700_000_000 + i as i64),
            },
            verification: None,
            read_at: 1_790_000_000,
            details_read_at: Some(1_790_000_000),
            status_seen_since: 1_790_000_000 - i as i64,
        })
        .collect()
}

fn measure(runs: usize, mut work: impl FnMut() -> usize) -> (Duration, Duration, usize) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect();
    times.sort();
    let rows = work();
    (times[times.len() / 2], times[times.len() - 1], rows)
}

fn main() {
    let n = arg("--identities", 10_000);
    let runs = arg("--runs", 50);
    let all = identities(n);
    let now = 1_790_000_000;
    println!("identities table over {n} identities, {runs} runs each (median / worst):");
    let queries = [
        ("default view, page 1", ""),
        ("status filter, page 3", "status=FAILED&page=3"),
        ("text search", "q=team0012"),
        ("text search matching every name", "q=example"),
        (
            "region, 20th page by key generation",
            "region=eu-west-1&sort=keygen&page=20",
        ),
        (
            "sort by status desc, 200 per page",
            "sort=status&dir=desc&per=200",
        ),
        ("last page by key generation", "sort=keygen&page=100000"),
        ("needs attention", "attention=1"),
        ("DNS problems", "dns=problem"),
    ];
    // Every identity checked, one in seven with a DNS problem: the filter's worst case.
    let dns: dkimdash::dns_check::DnsHealths = all
        .iter()
        .enumerate()
        .map(|(i, identity)| {
            let health = if i % 7 == 0 {
                dkimdash::dns_check::DnsHealth::Problem
            } else {
                dkimdash::dns_check::DnsHealth::Ok
            };
            (identity.key(), health)
        })
        .collect();
    let (median, worst, _) = measure(runs, || table_order(&all, SortColumn::Name, false).len());
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}  (once per change, per column)",
        "the order of one column"
    );
    let (median, worst, _) = measure(runs, || TableIndex::new(&all).regions().len());
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}  (once per change of the identity set)",
        "what the filters look at (index)"
    );
    let index = TableIndex::new(&all);
    for (label, query_string) in queries {
        let query = TableQuery::from_query_string(query_string);
        let order = table_order(&all, query.sort, query.descending);
        let (median, worst, rows) = measure(runs, || {
            let candidates = index.candidates(&all, &query, None);
            let selected = matches(&all, &order, &candidates, &query, &dns, now);
            page_of(selected, all.len(), &query, &dns, now).rows.len()
        });
        println!("  {label:<36} {median:>10.2?} / {worst:>10.2?}  ({rows} rows)");
    }
    let (median, worst, _) = measure(runs, || facets(&all, &dns, now).attention);
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}",
        "summary strip counts"
    );
    // A publish of the details backfill: 20 identities changed, the rest shared.
    let shared: Vec<Arc<Identity>> = all.iter().cloned().map(Arc::new).collect();
    let mut next = shared.clone();
    let changed: Vec<u32> = (0..20u32).map(|i| i * (n as u32 / 20)).collect();
    for position in changed.iter().map(|p| *p as usize) {
        let mut identity = (*next[position]).clone();
        identity.dkim.status = DkimStatus::Failed;
        identity.read_at += 1;
        next[position] = Arc::new(identity);
    }
    let orders = TableOrders::default();
    for sort in SortColumn::ALL {
        orders.get(&shared, sort, false);
    }
    let (median, worst, _) = measure(runs, || {
        orders
            .following(&next, Some(&changed))
            .get(&next, SortColumn::Name, false)
            .len()
    });
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}  ({} orders carried)",
        "orders after 20 identities changed",
        SortColumn::ALL.len()
    );
    let counted = facets(&shared, &dns, now);
    let (median, worst, _) = measure(runs, || {
        let mut strip = counted.clone();
        for position in changed.iter().map(|p| *p as usize) {
            strip.count(&shared[position], &dns, now, false);
            strip.count(&next[position], &dns, now, true);
        }
        strip.attention
    });
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}",
        "strip after 20 identities changed"
    );
    // The "download all" zone file: every identity's records, each record once.
    let (median, worst, bytes) = measure(runs.min(10), || {
        let selected: Vec<&Identity> = all.iter().collect();
        let mut sight = records::FirstSight::new(&selected);
        selected
            .iter()
            .map(|identity| {
                let fresh = sight.fresh(identity, records::dkim_records(identity, None));
                records::zone_section(identity, &fresh, &records::unchecked).len()
            })
            .sum()
    });
    println!(
        "  {:<36} {median:>10.2?} / {worst:>10.2?}  ({bytes} bytes)",
        "zone file of every identity"
    );
}
