//! The DNS checker over real UDP and TCP against DNS servers on loopback: a "recursive
//! resolver", a parent zone (`test.`) that delegates, and the zones' own servers, each on
//! its own 127.0.0.x address and one shared port. One case per finding.

#![cfg(feature = "ssr")]

mod support;

use std::{
    net::{Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    time::Duration,
};

use dkimdash::dns::authority::{RunningDnsServer, Zone, serve};
use dkimdash::dns::checker::{Checker, CheckerSettings};
use dkimdash::dns_check::{DnsHealth, Finding, TxtProblem};
use dkimdash::model::{DnsRecord, RecordType};

const SES_ZONE: &str = "dkim.amazonses.com";

/// The loopback world; dropping it stops every server.
struct World {
    checker: Checker,
    _servers: Vec<RunningDnsServer>,
}

fn key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| dkimdash::signing_key::generate().unwrap().public_key)
}

fn key_record() -> String {
    format!("v=DKIM1; k=rsa; p={}", key())
}

/// `example.test` as its own server publishes it; `stale` is the target of one record,
/// which the resolver's view holds at an older value.
fn example_zone(stale: &str) -> Zone {
    let value = key_record();
    let (head, tail) = value.split_at(200);
    let filler = "a".repeat(255);
    Zone::new("example.test")
        .ns("example.test", "ns1.example.test")
        .a("ns1.example.test", Ipv4Addr::new(127, 0, 0, 2))
        .cname("ok._domainkey.example.test", &format!("ok.{SES_ZONE}"))
        .cname("old._domainkey.example.test", &format!("other.{SES_ZONE}"))
        .cname(
            "app._domainkey.example.test.example.test",
            &format!("app.{SES_ZONE}"),
        )
        .a("prox._domainkey.example.test", Ipv4Addr::new(104, 16, 1, 1))
        .cname(
            "stale._domainkey.mail.example.test",
            &format!("{stale}.{SES_ZONE}"),
        )
        .txt("sel._domainkey.example.test", &[head, tail])
        .txt("two._domainkey.example.test", &[&value])
        .txt("two._domainkey.example.test", &["v=DKIM1; p=QUJD"])
        .txt("cut._domainkey.example.test", &[&value[..255]])
        .txt("else._domainkey.example.test", &[&value])
        .txt("big._domainkey.example.test", &[filler.as_str(); 6])
        .cname("Case._DomainKey.example.test", "CASE.DKIM.AMAZONSES.COM")
}

/// `moved.test` at its old provider, where the parent still delegates: without the record.
fn moved_old() -> Zone {
    Zone::new("moved.test").ns("moved.test", "ns-old.test")
}

/// `moved.test` at its new provider, which the resolver's view names: with the record.
fn moved_new() -> Zone {
    Zone::new("moved.test")
        .ns("moved.test", "ns-new.test")
        .cname("mv._domainkey.moved.test", &format!("mv.{SES_ZONE}"))
}

/// The parent zone, delegating `example.test`, `moved.test` (to the old provider) and
/// `silent.test` (to a server that never answers).
fn parent_zone() -> Zone {
    Zone::new("test")
        .ns("test", "ns.test")
        .a("ns.test", Ipv4Addr::new(127, 0, 0, 3))
        .ns("example.test", "ns1.example.test")
        .a("ns1.example.test", Ipv4Addr::new(127, 0, 0, 2))
        .ns("moved.test", "ns-old.test")
        .a("ns-old.test", Ipv4Addr::new(127, 0, 0, 4))
        .a("ns-new.test", Ipv4Addr::new(127, 0, 0, 5))
        .ns("silent.test", "ns.silent.test")
        .a("ns.silent.test", Ipv4Addr::new(127, 0, 0, 6))
}

async fn world(timeout: Duration) -> (World, std::net::UdpSocket) {
    // The resolver's view: the parent, example.test with one stale answer, moved.test at
    // its new provider, silent.test as a cache still remembers it.
    let resolver_view = vec![
        parent_zone(),
        example_zone("older"),
        moved_new(),
        Zone::new("silent.test")
            .ns("silent.test", "ns.silent.test")
            .cname("quiet._domainkey.silent.test", &format!("quiet.{SES_ZONE}")),
    ];
    let resolver = serve(SocketAddr::from(([127, 0, 0, 1], 0)), resolver_view)
        .await
        .expect("resolver");
    let port = resolver.addr().port();
    let at = |last: u8| SocketAddr::from(([127, 0, 0, last], port));
    let servers = vec![
        serve(at(2), vec![example_zone("stale")])
            .await
            .expect("example.test"),
        serve(at(3), vec![parent_zone()]).await.expect("test."),
        serve(at(4), vec![moved_old()]).await.expect("old provider"),
        serve(at(5), vec![moved_new()]).await.expect("new provider"),
        resolver,
    ];
    // Bound, never answering: a nameserver that is down or firewalled.
    let silent = std::net::UdpSocket::bind(at(6)).expect("silent server");
    let checker = Checker::new(CheckerSettings {
        resolver: Some(at(1)),
        timeout,
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        concurrency: 8,
        nameserver_port: port,
    })
    .expect("checker");
    (
        World {
            checker,
            _servers: servers,
        },
        silent,
    )
}

fn cname(name: &str, token: &str) -> DnsRecord {
    DnsRecord {
        record_type: RecordType::Cname,
        name: name.into(),
        value: Some(format!("{token}.{SES_ZONE}")),
    }
}

fn txt(name: &str, value: Option<String>) -> DnsRecord {
    DnsRecord {
        record_type: RecordType::Txt,
        name: name.into(),
        value,
    }
}

async fn finding(world: &World, record: DnsRecord) -> Finding {
    let report = world.checker.check(&[record], 1_000).await;
    report.records[0].finding.clone()
}

#[tokio::test]
async fn every_finding_against_real_servers() {
    let (world, _silent) = world(Duration::from_millis(500)).await;

    assert_eq!(
        finding(&world, cname("ok._domainkey.example.test", "ok")).await,
        Finding::Ok
    );
    assert_eq!(
        finding(&world, cname("case._domainkey.example.test", "case")).await,
        Finding::Ok,
        "names and targets compare without case"
    );
    assert_eq!(
        finding(&world, cname("miss._domainkey.example.test", "miss")).await,
        Finding::Missing { nxdomain: true }
    );
    assert_eq!(
        finding(&world, cname("old._domainkey.example.test", "old")).await,
        Finding::WrongValue {
            found: vec![format!("other.{SES_ZONE}")]
        }
    );
    assert_eq!(
        finding(&world, cname("app._domainkey.example.test", "app")).await,
        Finding::ZoneAppended {
            found_at: "app._domainkey.example.test.example.test".into()
        }
    );
    assert_eq!(
        finding(&world, cname("prox._domainkey.example.test", "prox")).await,
        Finding::Proxied {
            addresses: vec!["104.16.1.1".into()]
        }
    );
    assert_eq!(
        // Under a subdomain of the zone: the zone is found by walking up to its apex.
        finding(&world, cname("stale._domainkey.mail.example.test", "stale")).await,
        Finding::StaleCache {
            recursive: vec![format!("older.{SES_ZONE}")],
            authoritative: vec![format!("stale.{SES_ZONE}")],
            ttl: 300,
        }
    );
    assert_eq!(
        finding(&world, cname("mv._domainkey.moved.test", "mv")).await,
        Finding::NotDelegated {
            delegated_to: vec!["ns-old.test".into()],
            found_at: vec!["ns-new.test".into()],
        }
    );
}

#[tokio::test]
async fn txt_records_are_judged_by_key_and_syntax() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    let expected = Some(key_record());

    assert_eq!(
        finding(&world, txt("sel._domainkey.example.test", expected.clone())).await,
        Finding::Ok,
        "a key split into two strings is whole"
    );
    let two = finding(&world, txt("two._domainkey.example.test", expected.clone())).await;
    assert!(
        matches!(&two, Finding::TxtMalformed { problems, .. } if problems == &[TxtProblem::SeveralRecords(2)]),
        "{two:?}"
    );
    let cut = finding(&world, txt("cut._domainkey.example.test", expected.clone())).await;
    assert!(
        matches!(&cut, Finding::TxtMalformed { problems, .. } if matches!(problems[..], [TxtProblem::KeyTruncated { .. }])),
        "{cut:?}"
    );
    assert_eq!(
        finding(&world, txt("else._domainkey.example.test", None)).await,
        Finding::PresentUnknownKey {
            found: key_record()
        }
    );
}

#[tokio::test]
async fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    // 6 × 255 bytes: more than the 1,232-byte UDP payload dkimdash offers.
    let found = finding(&world, txt("big._domainkey.example.test", None)).await;
    let Finding::TxtMalformed { found, problems } = found else {
        panic!("{found:?}")
    };
    assert_eq!(found[0].len(), 6 * 255, "the whole record arrived");
    assert_eq!(problems, [TxtProblem::MissingKey]);
}

#[tokio::test]
async fn a_server_that_never_answers_is_never_a_failure() {
    let (world, silent) = world(Duration::from_millis(300)).await;
    // The zone's own server is silent; the resolver still has the record: judged by it.
    assert_eq!(
        finding(&world, cname("quiet._domainkey.silent.test", "quiet")).await,
        Finding::Ok
    );
    // Nothing answers at all: could not check, which is not a problem.
    let nothing = Checker::new(CheckerSettings {
        resolver: Some(silent.local_addr().unwrap()),
        timeout: Duration::from_millis(300),
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        concurrency: 4,
        nameserver_port: silent.local_addr().unwrap().port(),
    })
    .unwrap();
    let report = nothing
        .check(&[cname("ok._domainkey.example.test", "ok")], 1_000)
        .await;
    assert!(
        matches!(&report.records[0].finding, Finding::CouldNotCheck { .. }),
        "{:?}",
        report.records[0].finding
    );
    assert_eq!(report.health(), DnsHealth::Unchecked);
}

#[tokio::test]
async fn a_name_that_is_not_a_dns_name_is_classified_not_fatal() {
    let (world, _silent) = world(Duration::from_millis(300)).await;
    let bad = finding(&world, cname("bad name!._domainkey.exa mple", "x")).await;
    assert!(
        matches!(&bad, Finding::CouldNotCheck { reason } if reason.contains("not a valid DNS name")),
        "{bad:?}"
    );
    let long = finding(
        &world,
        cname(&format!("{}.example.test", "a".repeat(300)), "x"),
    )
    .await;
    assert!(matches!(long, Finding::CouldNotCheck { .. }), "{long:?}");
}

#[tokio::test]
async fn reports_are_fresh_for_the_shortest_ttl() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    let report = world
        .checker
        .check(
            &[
                cname("ok._domainkey.example.test", "ok"),
                cname("miss._domainkey.example.test", "miss"),
            ],
            10_000,
        )
        .await;
    assert_eq!(report.checked_at, 10_000);
    // Every record and negative answer in these zones lives 300 s.
    assert_eq!(report.fresh_until, 10_300);
    assert_eq!(report.health(), DnsHealth::Problem);
}

/// "Check DNS now" over HTTP against the demo's DNS servers: a check answers with its
/// report, and asking too often is a normal answer saying when to come back (the page
/// decodes it), not an error status whose body the page cannot read.
#[tokio::test]
async fn check_dns_now_answers_and_says_when_to_ask_again() {
    use axum::http::StatusCode;
    use dkimdash::api::dns::DnsCheckAnswer;
    use dkimdash::dns::monitor::DnsMonitor;

    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = support::read_inventory(&sim, &["us-east-1"], 100).await;
    let state = support::state_with(inventory, dkimdash::model::SesBackend::Simulator)
        .with_dns(DnsMonitor::new(checker));
    let app = dkimdash::router::router(state);
    let form = [("region", "us-east-1"), ("name", "acme.example")];
    let mut answers = Vec::new();
    for _ in 0..6 {
        let (status, body) = support::post(&app, "check_dns", &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answer: DnsCheckAnswer =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        answers.push(answer);
    }
    match &answers[0] {
        DnsCheckAnswer::Checked { records, .. } => assert_eq!(*records, 3),
        other => panic!("{other:?}"),
    }
    // Five checks in a burst, then the sixth waits.
    assert!(
        answers[..5]
            .iter()
            .all(|a| matches!(a, DnsCheckAnswer::Checked { .. }))
    );
    assert!(
        matches!(answers[5], DnsCheckAnswer::TooSoon(secs) if (1..=10).contains(&secs)),
        "{:?}",
        answers[5]
    );
}
