//! The DNS checker over real UDP and TCP against DNS servers on loopback: a "recursive
//! resolver", a parent zone (`test.`) that delegates, and the zones' own servers, each on
//! its own 127.0.0.x address and one shared port. One case per finding.

use crate::support;

use std::{
    net::{Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    time::Duration,
};

use dkimdash::dns::asker::{Asker, AskerSettings};
use dkimdash::dns::authority::{RunningDnsServer, Zone, serve};
use dkimdash::dns::checker::{Checker, CheckerSettings};
use dkimdash::dns::nameserver_policy::NameserverPolicy;
use dkimdash::dns_check::{DnsHealth, Finding, TxtProblem};
use dkimdash::model::{DnsRecord, RecordType};

const SES_ZONE: &str = "dkim.amazonses.com";

/// The loopback world; dropping it stops every server.
struct World {
    checker: Checker,
    _servers: Vec<RunningDnsServer>,
    /// Bound on an address outside the checker's allowed ranges, never answering: it
    /// must never receive a packet.
    private_ns: std::net::UdpSocket,
}

/// The address of `private.test`'s nameserver: loopback, but outside the allowed ranges.
const PRIVATE_NS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 99);

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
        .cname("hosted._domainkey.example.test", "sel.keys.vendor.test")
        .cname("twohops._domainkey.example.test", "hop.keys.vendor.test")
        .cname("gone._domainkey.example.test", "nothing.keys.vendor.test")
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
        .ns("sync.test", "ns1.sync.test")
        .ns("sync.test", "ns2.sync.test")
        .a("ns1.sync.test", Ipv4Addr::new(127, 0, 0, 7))
        .a("ns2.sync.test", Ipv4Addr::new(127, 0, 0, 8))
        .ns("private.test", "ns.private.test")
        .a("ns.private.test", PRIVATE_NS)
        .ns("vendor.test", "ns.vendor.test")
        .a("ns.vendor.test", Ipv4Addr::new(127, 0, 0, 9))
        .ns("wild.test", "ns.wild.test")
        .a("ns.wild.test", Ipv4Addr::new(127, 0, 0, 10))
}

/// A hosted-DKIM vendor's zone: the keys its customers' selectors point at with a CNAME.
fn vendor_zone() -> Zone {
    let value = key_record();
    let (head, tail) = value.split_at(200);
    Zone::new("vendor.test")
        .ns("vendor.test", "ns.vendor.test")
        .a("ns.vendor.test", Ipv4Addr::new(127, 0, 0, 9))
        .txt("sel.keys.vendor.test", &[head, tail])
        .cname("hop.keys.vendor.test", "sel.keys.vendor.test")
}

/// `wild.test`: a wildcard alias answers for every name under it, a wildcard address for
/// every name under `addr.wild.test`; only `real._domainkey.wild.test` is published.
fn wild_zone() -> Zone {
    Zone::new("wild.test")
        .ns("wild.test", "ns.wild.test")
        .a("ns.wild.test", Ipv4Addr::new(127, 0, 0, 10))
        .cname("*.wild.test", "parked.wild.test")
        .a("parked.wild.test", Ipv4Addr::new(203, 0, 113, 80))
        .a("*.addr.wild.test", Ipv4Addr::new(203, 0, 113, 5))
        .cname("real._domainkey.wild.test", &format!("real.{SES_ZONE}"))
}

/// `sync.test` with both its nameservers; `current` has the record, a secondary that
/// missed the last transfer does not.
fn sync_zone(current: bool) -> Zone {
    let zone = Zone::new("sync.test")
        .ns("sync.test", "ns1.sync.test")
        .ns("sync.test", "ns2.sync.test")
        .a("ns1.sync.test", Ipv4Addr::new(127, 0, 0, 7))
        .a("ns2.sync.test", Ipv4Addr::new(127, 0, 0, 8));
    if current {
        zone.cname("new._domainkey.sync.test", &format!("new.{SES_ZONE}"))
    } else {
        zone
    }
}

/// `private.test`, as the resolver knows it: the record is there.
fn private_zone() -> Zone {
    Zone::new("private.test")
        .ns("private.test", "ns.private.test")
        .a("ns.private.test", PRIVATE_NS)
        .cname("p._domainkey.private.test", &format!("p.{SES_ZONE}"))
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
            .a("ns.silent.test", Ipv4Addr::new(127, 0, 0, 6))
            .cname("quiet._domainkey.silent.test", &format!("quiet.{SES_ZONE}")),
        sync_zone(true),
        private_zone(),
        vendor_zone(),
        wild_zone(),
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
        serve(at(7), vec![sync_zone(true)]).await.expect("primary"),
        serve(at(8), vec![sync_zone(false)])
            .await
            .expect("secondary"),
        serve(at(9), vec![vendor_zone()]).await.expect("vendor"),
        serve(at(10), vec![wild_zone()]).await.expect("wild.test"),
        resolver,
    ];
    let private_ns =
        std::net::UdpSocket::bind(SocketAddr::new(PRIVATE_NS.into(), port)).expect("private ns");
    // Bound, never answering: a nameserver that is down or firewalled.
    let silent = std::net::UdpSocket::bind(at(6)).expect("silent server");
    let checker = Checker::new(CheckerSettings {
        resolver: Some(at(1)),
        timeout,
        resolver_rate: NonZeroU32::new(1000).unwrap(),
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        concurrency: 8,
        nameserver_port: port,
        // 127.0.0.0-15: every server of this world but PRIVATE_NS.
        allowed_nameservers: vec!["127.0.0.0/28".parse().unwrap()],
    })
    .expect("checker");
    (
        World {
            checker,
            _servers: servers,
            private_ns,
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
        resolver_rate: NonZeroU32::new(1000).unwrap(),
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        concurrency: 4,
        nameserver_port: silent.local_addr().unwrap().port(),
        allowed_nameservers: vec!["127.0.0.0/8".parse().unwrap()],
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
async fn a_selector_aliased_to_a_hosted_key_is_read_where_it_leads() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    let expected = Some(key_record());
    assert_eq!(
        finding(
            &world,
            txt("hosted._domainkey.example.test", expected.clone())
        )
        .await,
        Finding::Ok,
        "the key is read at the vendor's servers"
    );
    assert_eq!(
        finding(
            &world,
            txt("twohops._domainkey.example.test", expected.clone())
        )
        .await,
        Finding::Ok,
        "a chain of two aliases is followed"
    );
    assert_eq!(
        finding(&world, txt("hosted._domainkey.example.test", None)).await,
        Finding::PresentUnknownKey {
            found: key_record()
        }
    );
    let gone = finding(&world, txt("gone._domainkey.example.test", expected)).await;
    assert!(
        matches!(gone, Finding::Missing { .. }),
        "an alias to a name the vendor does not have: {gone:?}"
    );
}

#[tokio::test]
async fn a_wildcard_zone_is_not_blamed_on_the_provider() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    assert_eq!(
        finding(&world, cname("real._domainkey.wild.test", "real")).await,
        Finding::Ok,
        "a published record beats the wildcard"
    );
    let missing = finding(&world, cname("tok._domainkey.addr.wild.test", "tok")).await;
    assert!(
        matches!(missing, Finding::Missing { .. }),
        "the wildcard's address is not a proxy: {missing:?}"
    );
    let aliased = finding(&world, cname("tok._domainkey.wild.test", "tok")).await;
    assert!(
        matches!(aliased, Finding::Missing { .. }),
        "the wildcard's alias is neither a wrong value nor the zone appended: {aliased:?}"
    );
}

#[tokio::test]
async fn a_secondary_behind_the_primary_is_named() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    assert_eq!(
        finding(&world, cname("new._domainkey.sync.test", "new")).await,
        Finding::OutOfSync {
            behind: vec!["ns2.sync.test".into()],
            found: vec![],
            current: vec!["ns1.sync.test".into()],
        }
    );
}

#[tokio::test]
async fn a_delegation_to_a_non_public_address_is_refused_and_never_asked() {
    let (world, _silent) = world(Duration::from_millis(500)).await;
    let refused = finding(&world, cname("p._domainkey.private.test", "p")).await;
    let Finding::CouldNotCheck { reason } = &refused else {
        panic!("{refused:?}")
    };
    assert!(
        reason.contains("ns.private.test") && reason.contains("non-public"),
        "{reason}"
    );
    assert!(
        !reason.contains(&PRIVATE_NS.to_string()),
        "the address itself is not repeated: {reason}"
    );
    world.private_ns.set_nonblocking(true).unwrap();
    let mut buffer = [0_u8; 512];
    assert_eq!(
        world
            .private_ns
            .recv_from(&mut buffer)
            .map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "not one packet reached the non-public nameserver"
    );
}

#[tokio::test]
async fn a_silent_domain_costs_only_itself() {
    let (world, silent) = world(Duration::from_millis(1500)).await;
    // The silent domain's check waits on its nameserver; another domain's is answered
    // meanwhile.
    let slow = tokio::spawn({
        let checker = world.checker.clone();
        async move {
            let quiet = cname("quiet._domainkey.silent.test", "quiet");
            checker.check(&[quiet], 1_000).await
        }
    });
    assert_eq!(
        finding(&world, cname("ok._domainkey.example.test", "ok")).await,
        Finding::Ok
    );
    assert!(
        !slow.is_finished(),
        "the silent domain's check was still waiting"
    );
    assert_eq!(slow.await.unwrap().records[0].finding, Finding::Ok);

    // A nameserver that timed out twice rests: the next question to it is not sent.
    let asker = Asker::new(AskerSettings {
        resolver: Some(silent.local_addr().unwrap()),
        timeout: Duration::from_millis(200),
        resolver_rate: NonZeroU32::new(1000).unwrap(),
        per_server_rate: NonZeroU32::new(1000).unwrap(),
        policy: NameserverPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]),
    })
    .unwrap();
    let name = hickory_proto::rr::Name::from_ascii("quiet._domainkey.silent.test.").unwrap();
    let ask = || {
        asker.server(
            silent.local_addr().unwrap(),
            &name,
            hickory_proto::rr::RecordType::CNAME,
        )
    };
    for _ in 0..2 {
        assert_eq!(ask().await.unwrap_err(), "timeout");
    }
    silent.set_nonblocking(true).unwrap();
    let mut buffer = [0_u8; 512];
    while silent.recv_from(&mut buffer).is_ok() {}
    let resting = ask().await.unwrap_err();
    assert!(resting.contains("stopped answering"), "{resting}");
    assert_eq!(
        silent.recv_from(&mut buffer).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "the resting server was sent nothing"
    );
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

/// The table's DNS healths are built once per change and shared by every page: the same
/// answer while nothing changes, a new one with the report once a check makes one, and a
/// new one for a new snapshot.
#[tokio::test]
async fn the_healths_are_shared_until_a_report_or_the_snapshot_changes() {
    use dkimdash::dns::monitor::{CheckNow, DnsMonitor};
    use std::sync::Arc;

    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = support::read_inventory(&sim, &["us-east-1"], 1000).await;
    let monitor = DnsMonitor::new(checker);
    let first = monitor.healths(&inventory);
    let acme = inventory
        .snapshot()
        .identities
        .iter()
        .find(|i| i.name == "acme.example")
        .cloned()
        .unwrap();
    assert_eq!(
        first.get(&acme.key()),
        DnsHealth::Unchecked,
        "nothing checked yet"
    );
    assert!(
        Arc::ptr_eq(&first, &monitor.healths(&inventory)),
        "nothing changed: the same answer"
    );

    let checked = monitor
        .check_now(&inventory, &acme, "tester")
        .await
        .unwrap();
    assert!(matches!(checked, CheckNow::Checked(_)), "{checked:?}");
    let after_check = monitor.healths(&inventory);
    assert_ne!(
        after_check.get(&acme.key()),
        DnsHealth::Unchecked,
        "the new report is in the next answer"
    );
    assert!(Arc::ptr_eq(&after_check, &monitor.healths(&inventory)));

    inventory.refresh_identity(&acme.key()).await.unwrap();
    let reread = monitor.healths(&inventory);
    assert!(
        !Arc::ptr_eq(&after_check, &reread),
        "a new snapshot: built again"
    );
    assert_eq!(
        *after_check, *reread,
        "from the same reports, the same healths"
    );
}

/// Reports are kept in the database: after a restart the monitor has every report at
/// once, with nothing left to check, so it does not ask the fleet again. A kept report
/// made for tokens SES has since replaced is not shown as the identity's report: its
/// records are not the identity's records any more.
#[tokio::test]
async fn reports_survive_a_restart_but_not_a_change_of_tokens() {
    use dkimdash::audit::log::AuditLog;
    use dkimdash::dns::{monitor::DnsMonitor, store::ReportStore};

    const RECREATED: &str = "mail.acme.example";
    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = support::read_inventory(&sim, &["us-east-1"], 1000).await;
    let path = std::env::temp_dir().join(format!(
        "dkimdash-dns-restart-{}.sqlite3",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);

    let first = DnsMonitor::new(checker.clone());
    let store = ReportStore::new(AuditLog::open(&path).await.unwrap());
    assert_eq!(first.keep_in(store).await.unwrap(), 0, "a new database");
    let background = first.spawn(inventory.clone());
    support::eventually("every identity checked", Duration::from_secs(60), || {
        let progress = first.progress(&inventory);
        progress.with_records > 0 && progress.checked == progress.with_records
    })
    .await;
    background.abort();
    let before = first.reports(&inventory.snapshot(), &inventory);
    assert!(before.len() > 10, "{} reports", before.len());

    let restarted = DnsMonitor::new(checker.clone());
    let store = ReportStore::new(AuditLog::open(&path).await.unwrap());
    assert_eq!(restarted.keep_in(store).await.unwrap(), before.len());
    assert_eq!(restarted.reports(&inventory.snapshot(), &inventory), before);
    let progress = restarted.progress(&inventory);
    assert_eq!(
        (progress.checked, progress.seconds_left),
        (progress.with_records, None),
        "nothing left to check after the restart"
    );

    // While dkimdash is stopped, the identity is deleted and created again: new tokens.
    let old_key = before
        .keys()
        .find(|key| key.name == RECREATED)
        .expect("the demo identity was checked")
        .clone();
    sim.simulator.with_regions(|regions, now| {
        regions.delete("us-east-1", RECREATED).unwrap();
        regions
            .create("us-east-1", RECREATED, None, Vec::new(), now)
            .unwrap();
    });
    let inventory = support::read_inventory(&sim, &["us-east-1"], 1000).await;
    let recreated = inventory
        .snapshot()
        .identities
        .iter()
        .find(|i| i.key() == old_key)
        .cloned()
        .unwrap();
    assert!(recreated.dkim.origin.is_some(), "details read");

    let restarted = DnsMonitor::new(checker);
    let store = ReportStore::new(AuditLog::open(&path).await.unwrap());
    assert_eq!(restarted.keep_in(store).await.unwrap(), before.len());
    assert_eq!(restarted.report(&recreated, &inventory), None);
    let mut expected = before.clone();
    expected.remove(&old_key);
    assert_eq!(
        restarted.reports(&inventory.snapshot(), &inventory),
        expected
    );
    assert_eq!(
        restarted.healths(&inventory).get(&old_key),
        DnsHealth::Unchecked
    );
    let progress = restarted.progress(&inventory);
    assert_eq!(progress.checked, progress.with_records - 1, "{progress:?}");
    let _ = std::fs::remove_file(&path);
}

/// "Check DNS now" while the background pass works through thousands of identities at a
/// slow resolver limit: the operator's check goes ahead of the pass and answers with its
/// report within the deadline.
#[tokio::test]
async fn check_dns_now_goes_ahead_of_a_background_pass_of_thousands() {
    use dkimdash::dns::monitor::{CheckNow, DnsMonitor};

    const FLEET: usize = 3_000;
    let sim = support::simulator(true).await;
    sim.simulator.with_regions(|regions, now| {
        for n in 0..FLEET {
            let name = format!("d{n:04}.fleet.example");
            regions
                .create("us-east-1", &name, None, Vec::new(), now)
                .expect("created");
        }
    });
    let demo_dns = dkimdash::dns::demo::start(&sim.simulator).await.unwrap();
    let checker = Checker::new(CheckerSettings {
        resolver: Some(demo_dns.resolver()),
        timeout: Duration::from_secs(2),
        // Slow enough that the pass takes minutes.
        resolver_rate: NonZeroU32::new(40).unwrap(),
        per_server_rate: NonZeroU32::new(40).unwrap(),
        concurrency: 32,
        nameserver_port: demo_dns.nameserver_port(),
        allowed_nameservers: vec!["127.0.0.0/8".parse().unwrap()],
    })
    .unwrap();
    let inventory = support::read_inventory(&sim, &["us-east-1"], FLEET + 100).await;
    let monitor = DnsMonitor::with_answer_deadline(checker, Duration::from_secs(8));
    let background = monitor.spawn(inventory.clone());
    support::eventually("the pass is under way", Duration::from_secs(30), || {
        monitor.progress(&inventory).checked > 0
    })
    .await;

    let identity = inventory
        .snapshot()
        .identities
        .iter()
        .find(|i| i.name == "acme.example")
        .cloned()
        .expect("acme.example");
    let answer = monitor
        .check_now(&inventory, &identity, "operator")
        .await
        .unwrap();
    let CheckNow::Checked(report) = answer else {
        panic!("the check did not answer within its deadline: {answer:?}")
    };
    assert_eq!(report.records.len(), 3);
    assert!(
        report.records.iter().all(|r| r.finding == Finding::Ok),
        "{:?}",
        report.records
    );
    let progress = monitor.progress(&inventory);
    assert!(
        progress.checked < progress.with_records / 2,
        "the background pass was still under way: {progress:?}"
    );
    background.abort();
}

/// The home page (overview and table) says how far the DNS checks are while they are not
/// through, once, and nothing once every identity has its report.
#[tokio::test]
async fn the_home_page_says_how_far_the_checks_are() {
    use dkimdash::dns::monitor::DnsMonitor;

    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    let inventory = support::read_inventory(&sim, &["us-east-1"], 1000).await;
    let monitor = DnsMonitor::new(checker);
    let state = support::state_with(inventory.clone(), dkimdash::model::SesBackend::Simulator)
        .with_dns(monitor.clone());
    let app = dkimdash::router::router(state);
    let with_records = monitor.progress(&inventory).with_records;
    assert!(with_records > 10, "{with_records}");
    let said = format!("DNS: 0 of {with_records} checked");
    let (status, body) = support::get(&app, "/").await;
    assert_eq!(status, axum::http::StatusCode::OK);
    assert_eq!(
        body.matches(&said).count(),
        1,
        "the page says {said:?} once"
    );

    let background = monitor.spawn(inventory.clone());
    support::eventually("every identity checked", Duration::from_secs(60), || {
        let progress = monitor.progress(&inventory);
        progress.checked == progress.with_records
    })
    .await;
    background.abort();
    let (_, body) = support::get(&app, "/").await;
    assert!(!body.contains("data-testid=\"dns-progress\""));
}

/// What tells apart two hosted zones of one name at a DNS provider: the nameservers the
/// parent delegates the domain to, read from real DNS (the demo's, on loopback).
#[tokio::test]
async fn the_delegation_of_a_domain_is_read_from_its_parent() {
    let sim = support::simulator(true).await;
    let (_demo_dns, checker) = support::demo_dns_checker(&sim).await;
    assert_eq!(
        checker.delegation_of("shop.acme.example").await,
        Some(vec!["ns1.acme.example".to_owned()])
    );
    // Moved to a new provider, still delegated to the old one.
    assert_eq!(
        checker.delegation_of("events.acme-europe.example").await,
        Some(vec!["ns.dns-old.example".to_owned()])
    );
}

/// `dkimdash simulator --serve-dns`: the simulator's domains, in every region, served as
/// published right, checked by the real checker over loopback DNS; a domain created after
/// the start is served once followed.
#[tokio::test]
async fn the_simulators_domains_are_served_as_published() {
    use dkimdash::dns::monitor::DnsMonitor;

    let sim = support::simulator(false).await;
    let create = |region: &str, name: &str| {
        sim.simulator.with_regions(|regions, now| {
            regions.create(region, name, None, Vec::new(), now).unwrap();
        });
    };
    create("us-east-1", "one.example");
    create("eu-west-1", "one.example");
    let mut dns = dkimdash::dns::demo::serve_simulator(&sim.simulator, 0, 0)
        .await
        .unwrap();
    create("us-east-1", "later.example");
    assert_eq!(dns.follow(&sim.simulator).unwrap(), 3);

    let checker = support::loopback_checker(&dns);
    let inventory = support::read_inventory(&sim, &["us-east-1", "eu-west-1"], 1000).await;
    let monitor = DnsMonitor::new(checker);
    let background = monitor.spawn(inventory.clone());
    support::eventually("every identity checked", Duration::from_secs(60), || {
        let progress = monitor.progress(&inventory);
        progress.with_records == 3 && progress.checked == 3
    })
    .await;
    background.abort();
    let reports = monitor.reports(&inventory.snapshot(), &inventory);
    assert_eq!(reports.len(), 3);
    for (key, report) in &reports {
        assert_eq!(report.health(), DnsHealth::Ok, "{key:?}: {report:?}");
    }
}
