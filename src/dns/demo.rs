//! The demo's DNS: an authoritative server on loopback for the demo domains, which the demo
//! checker also uses as its resolver. Most records are published right; some identities
//! carry, on purpose, one of each mistake the checker finds, so the demo shows every
//! diagnosis.

use std::{collections::BTreeMap, io, net::Ipv4Addr, net::SocketAddr};

use super::authority::{RunningDnsServer, Zone, serve};
use crate::model::{DnsRecord, Identity, RecordType};
use crate::sim::Simulator;

/// The parent zone every demo domain sits under (`acme.example`, `acme-europe.example`).
const PARENT: &str = "example";

/// A mistake published on purpose for one demo identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mistake {
    /// No records at all.
    Missing,
    /// The first record under `NAME.ZONE`.
    ZoneAppended,
    /// The first record answered with an address (a proxied CNAME).
    Proxied,
    /// The first record pointing at an old token.
    OldToken,
    /// The TXT record published twice.
    TxtTwice,
    /// The TXT record cut at 255 characters.
    TxtCut,
    /// The TXT record pasted with its quotes.
    TxtQuoted,
}

/// Which demo identity shows which mistake; every other one is published right.
fn mistake_of(name: &str) -> Option<Mistake> {
    Some(match name {
        "shop.acme.example" | "internal.acme.example" => Mistake::Missing,
        "legacy.acme.example" => Mistake::ZoneAppended,
        "careers.acme.example" => Mistake::Proxied,
        "status.acme.example" | "old.acme-europe.example" => Mistake::OldToken,
        "legal.acme-europe.example" => Mistake::TxtTwice,
        "partners.acme.example" => Mistake::TxtCut,
        "vendor.acme-europe.example" => Mistake::TxtQuoted,
        "gdpr.acme-europe.example" => Mistake::Missing,
        _ => return None,
    })
}

/// Serves the demo domains' records, as the simulator holds them now, on a loopback port.
pub async fn start(simulator: &Simulator) -> io::Result<RunningDnsServer> {
    let identities = demo_identities(simulator);
    let ns_address = Ipv4Addr::LOCALHOST;
    let mut zones: BTreeMap<String, Zone> = BTreeMap::new();
    let mut parent = Zone::new(PARENT)
        .ns(PARENT, &format!("ns.{PARENT}"))
        .a(&format!("ns.{PARENT}"), ns_address);
    for identity in &identities {
        let apex = apex_of(&identity.name);
        let Some(apex) = apex else { continue };
        let zone = zones.entry(apex.clone()).or_insert_with(|| {
            let ns = format!("ns1.{apex}");
            parent = std::mem::replace(&mut parent, Zone::new(PARENT))
                .ns(&apex, &ns)
                .a(&ns, ns_address);
            Zone::new(&apex).ns(&apex, &ns).a(&ns, ns_address)
        });
        let taken = std::mem::replace(zone, Zone::new(&apex));
        *zone = publish(taken, identity, &apex);
    }
    let mut all: Vec<Zone> = zones.into_values().collect();
    all.push(parent);
    serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), all).await
}

/// The seeded domains as the dashboard would read them (email addresses use their
/// domain's records, which the domain identity publishes already).
fn demo_identities(simulator: &Simulator) -> Vec<Identity> {
    let now = simulator.now();
    let mut out = Vec::new();
    simulator.with_regions(|regions, _| {
        for (region, _) in crate::sim::seed::demo_counts() {
            let Ok(page) = regions.list(region, &Default::default(), 1000, None, now) else {
                continue;
            };
            out.extend(page.identities.into_iter().map(|view| Identity {
                name: view.name,
                identity_type: view.identity_type,
                region: region.to_owned(),
                account: String::new(),
                dkim: view.dkim,
                verification: None,
                read_at: now,
                details_read_at: Some(now),
                status_seen_since: now,
            }));
        }
    });
    out.retain(|i| !i.name.contains('@'));
    out
}

/// `shop.acme.example` → `acme.example`: the demo's zones are the last two labels.
fn apex_of(name: &str) -> Option<String> {
    let labels: Vec<&str> = name.split('.').collect();
    (labels.len() >= 2 && labels[labels.len() - 1] == PARENT)
        .then(|| labels[labels.len() - 2..].join("."))
}

/// Adds `identity`'s records to `zone`, with its mistake if it has one.
fn publish(mut zone: Zone, identity: &Identity, apex: &str) -> Zone {
    let records = crate::records::dkim_records(identity, None);
    let mistake = mistake_of(&identity.name);
    if mistake == Some(Mistake::Missing) {
        return zone;
    }
    for (index, record) in records.iter().enumerate() {
        let first = index == 0;
        zone = match (record.record_type, mistake) {
            (RecordType::Cname, Some(Mistake::ZoneAppended)) if first => {
                cname(zone, &format!("{}.{apex}", record.name), record)
            }
            (RecordType::Cname, Some(Mistake::Proxied)) if first => {
                zone.a(&record.name, Ipv4Addr::new(104, 16, 132, 229))
            }
            (RecordType::Cname, Some(Mistake::OldToken)) if first => zone.cname(
                &record.name,
                "oldtoken0000000000000000000000000.dkim.amazonses.com",
            ),
            (RecordType::Cname, _) => cname(zone, &record.name, record),
            (RecordType::Txt, _) => publish_key(zone, record, mistake),
        };
    }
    zone
}

fn cname(zone: Zone, name: &str, record: &DnsRecord) -> Zone {
    match &record.value {
        Some(target) => zone.cname(name, target),
        None => zone,
    }
}

/// A BYODKIM selector's TXT record: a key made up for the demo (the simulator keeps no
/// public keys, so the dashboard cannot compare it: "set elsewhere").
fn publish_key(zone: Zone, record: &DnsRecord, mistake: Option<Mistake>) -> Zone {
    let Ok(key) = crate::signing_key::generate() else {
        return zone;
    };
    let value = format!("v=DKIM1; k=rsa; p={}", key.public_key);
    let (head, tail) = value.split_at(200);
    match mistake {
        Some(Mistake::TxtTwice) => zone.txt(&record.name, &[head, tail]).txt(
            &record.name,
            &["v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"],
        ),
        Some(Mistake::TxtCut) => zone.txt(&record.name, &[&value[..255]]),
        Some(Mistake::TxtQuoted) => {
            let quoted = format!("\"{value}\"");
            let (head, tail) = quoted.split_at(200);
            zone.txt(&record.name, &[head, tail])
        }
        _ => zone.txt(&record.name, &[head, tail]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_zones_are_the_last_two_labels_under_example() {
        assert_eq!(
            apex_of("shop.acme.example").as_deref(),
            Some("acme.example")
        );
        assert_eq!(
            apex_of("acme-europe.example").as_deref(),
            Some("acme-europe.example")
        );
        assert_eq!(apex_of("elsewhere.com"), None);
    }
}
