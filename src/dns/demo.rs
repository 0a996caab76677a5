//! The demo's DNS: authoritative servers on loopback for the demo domains, and a stand-in
//! for the recursive resolver, which the demo checker asks. Most records are published
//! right; some identities carry, on purpose, one of each mistake the checker finds, so the
//! demo shows every diagnosis.
//!
//! The servers, all on loopback: the domains' nameserver (127.0.0.1) and a second DNS
//! provider (127.0.0.2) on one port, as the checker asks every nameserver on one port; the
//! resolver's view on a port of its own; nothing at 127.0.0.3, a provider that is down.

use std::{
    collections::{BTreeMap, BTreeSet},
    io,
    net::{Ipv4Addr, SocketAddr},
};

use super::authority::{RunningDnsServer, Zone, serve};
use crate::model::{DnsRecord, Identity, RecordType, UnixSeconds};
use crate::sim::{Simulator, store::IdentityView};

/// The parent zone every demo domain sits under (`acme.example`, `acme-europe.example`).
const PARENT: &str = "example";
/// The demo domains' own nameserver, and the provider a moved domain is still delegated to.
const NAMESERVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const OLD_PROVIDER_NS: &str = "ns.dns-old.example";
/// The provider a moved domain's records were added at, which the parent does not name.
const NEW_PROVIDER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const NEW_PROVIDER_NS: &str = "ns.dns-new.example";
/// A provider that is down: nothing listens there.
const DOWN_PROVIDER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const DOWN_PROVIDER_NS: &str = "ns.dns-down.example";

/// A BYODKIM domain whose selector is a CNAME to a key a hosted-DKIM vendor publishes,
/// as such vendors work: read as right, from the vendor's zone.
const HOSTED_KEY_DOMAIN: &str = "support.acme.example";
const VENDOR: &str = "dkim-vendor.example";

/// A zone with a wildcard address (`*.acme.example A`): its missing CNAMEs must still read
/// as missing, not as proxied.
const WILDCARD_ZONE: &str = "acme.example";
const WILDCARD_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

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
    /// Published right, but the resolver still holds an older first record.
    StaleCache,
    /// The domain moved to a new DNS provider, where the records are, but the parent zone
    /// still delegates it to the old one, where they are not.
    NotDelegated,
    /// The domain's nameservers are down: the resolver answers SERVFAIL.
    Unreachable,
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
        "news.acme.example" => Mistake::StaleCache,
        "events.acme-europe.example" => Mistake::NotDelegated,
        "jobs.acme-europe.example" => Mistake::Unreachable,
        _ => return None,
    })
}

/// Whose view of DNS a set of zones is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    /// The domains' own nameserver (and the old provider of a moved domain).
    Published,
    /// The provider a moved domain's records were added at.
    NewProvider,
    /// The recursive resolver: what the world sees now.
    Resolver,
}

/// The demo's DNS servers; dropping this stops them.
pub struct DemoDns {
    /// The stand-in for the recursive resolver.
    resolver: RunningDnsServer,
    /// The nameservers, all on one port.
    nameservers: Vec<RunningDnsServer>,
    /// The demo identities and the BYODKIM keys made up for them, to build the zones again
    /// with the providers' records.
    identities: Vec<Identity>,
    keys: BTreeMap<String, String>,
}

impl DemoDns {
    /// Where the checker's recursive resolver is.
    pub fn resolver(&self) -> SocketAddr {
        self.resolver.addr()
    }

    /// The port every demo nameserver answers on.
    pub fn nameserver_port(&self) -> u16 {
        self.nameservers
            .first()
            .map_or(self.resolver.addr().port(), |server| server.addr().port())
    }
}

/// A record set a demo DNS provider (the Route 53 or Cloudflare simulator) holds: the
/// demo's DNS answers these at `name` instead of what it planted there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRecord {
    pub name: String,
    /// `CNAME` or `TXT` (others are not served by the overlay).
    pub record_type: String,
    /// CNAME targets; TXT values joined, unquoted.
    pub values: Vec<String>,
}

impl DemoDns {
    /// Serves the records the demo's DNS providers hold, over what was planted at those
    /// names, so a record published in the demo reads as published.
    pub fn overlay(&self, records: &[ProviderRecord]) -> io::Result<()> {
        let zones_for = |view| {
            let zones = zones(&self.identities, &self.keys, view);
            with_overlay(zones, records, view)
        };
        if let Some(published) = self.nameservers.first() {
            published.replace(zones_for(View::Published))?;
        }
        self.resolver.replace(zones_for(View::Resolver))
    }
}

/// `zones` with `records` at their names instead of what was there (not for the new
/// provider's view: the demo's providers serve the domains' own zones).
fn with_overlay(zones: Vec<Zone>, records: &[ProviderRecord], view: View) -> Vec<Zone> {
    if view == View::NewProvider || records.is_empty() {
        return zones;
    }
    let mut by_origin: BTreeMap<String, Zone> = zones
        .into_iter()
        .map(|zone| (zone.origin().to_owned(), zone))
        .collect();
    let names: BTreeSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
    for name in names {
        let Some(apex) = apex_of(name) else { continue };
        edit(&mut by_origin, &apex, |zone| {
            let mut zone = zone.without(name);
            for record in records.iter().filter(|r| r.name == name) {
                for value in &record.values {
                    zone = match record.record_type.as_str() {
                        "CNAME" => zone.cname(name, value),
                        "TXT" => zone.txt(name, &[value]),
                        _ => zone,
                    };
                }
            }
            zone
        });
    }
    by_origin.into_values().collect()
}

/// Serves the demo domains' records, as the simulator holds them now, on loopback.
pub async fn start(simulator: &Simulator) -> io::Result<DemoDns> {
    let identities = demo_identities(simulator);
    let keys = made_up_keys(&identities);
    serve_on(identities, keys, 0, 0).await
}

/// Serves the records of every domain `simulator` holds (in every region, the demo's
/// mistakes aside: all published right), the nameservers on loopback at
/// `nameserver_port`, the resolver at `resolver_port` (0: any free port). BYODKIM
/// records carry the public key the simulator was given. For `dkimdash simulator
/// --serve-dns`: the DNS checks measured against a whole fleet (scripts/bench-fleet.py).
pub async fn serve_simulator(
    simulator: &Simulator,
    nameserver_port: u16,
    resolver_port: u16,
) -> io::Result<DemoDns> {
    let (identities, keys) = simulator_domains(simulator);
    serve_on(identities, keys, nameserver_port, resolver_port).await
}

impl DemoDns {
    /// Serves `simulator`'s domains as they are now instead (see [`serve_simulator`]).
    /// Returns how many identities' records are served.
    pub fn follow(&mut self, simulator: &Simulator) -> io::Result<usize> {
        let (identities, keys) = simulator_domains(simulator);
        if let Some(published) = self.nameservers.first() {
            published.replace(zones(&identities, &keys, View::Published))?;
        }
        self.resolver
            .replace(zones(&identities, &keys, View::Resolver))?;
        let served = identities.len();
        (self.identities, self.keys) = (identities, keys);
        Ok(served)
    }
}

async fn serve_on(
    identities: Vec<Identity>,
    keys: BTreeMap<String, String>,
    nameserver_port: u16,
    resolver_port: u16,
) -> io::Result<DemoDns> {
    let zones_for = |view| zones(&identities, &keys, view);
    let published = serve(
        SocketAddr::from((NAMESERVER, nameserver_port)),
        zones_for(View::Published),
    )
    .await?;
    let port = published.addr().port();
    let resolver = serve(
        SocketAddr::from((Ipv4Addr::LOCALHOST, resolver_port)),
        zones_for(View::Resolver),
    )
    .await?;
    let mut nameservers = vec![published];
    // 127.0.0.2 is loopback on Linux; elsewhere it may not exist, and the demo goes on
    // without its one "not delegated" case rather than not at all.
    match serve(
        SocketAddr::from((NEW_PROVIDER, port)),
        zones_for(View::NewProvider),
    )
    .await
    {
        Ok(server) => nameservers.push(server),
        Err(error) => tracing::warn!(
            %error,
            "demo DNS: cannot serve the second provider at {NEW_PROVIDER}:{port}; \
             its records show as missing"
        ),
    }
    Ok(DemoDns {
        resolver,
        nameservers,
        identities,
        keys,
    })
}

/// The zones `view` holds.
fn zones(identities: &[Identity], keys: &BTreeMap<String, String>, view: View) -> Vec<Zone> {
    let mut zones: BTreeMap<String, Zone> = BTreeMap::new();
    let mut apexes = BTreeSet::new();
    for identity in identities {
        let Some(apex) = apex_of(&identity.name) else {
            continue;
        };
        let name = identity.name.as_str();
        let key = keys.get(name).map(String::as_str);
        let mistake = mistake_of(name);
        if view != View::NewProvider {
            apexes.insert(apex.clone());
            edit(&mut zones, &apex, |zone| match mistake {
                Some(Mistake::NotDelegated) => zone.ns(name, OLD_PROVIDER_NS),
                Some(Mistake::Unreachable) => zone.ns(name, DOWN_PROVIDER_NS),
                _ => zone,
            });
        }
        // A domain with a mistake in its delegation is a zone of its own, at another provider.
        let own_zone = Zone::new(name);
        match (mistake, view) {
            (Some(Mistake::NotDelegated), View::Published) => {
                zones.insert(name.to_owned(), own_zone.ns(name, OLD_PROVIDER_NS));
            }
            // The resolver has read the zone at the new provider (its NS set names it).
            (Some(Mistake::NotDelegated), View::NewProvider | View::Resolver) => {
                let zone = own_zone.ns(name, NEW_PROVIDER_NS);
                zones.insert(name.to_owned(), publish(zone, identity, key, None, view));
            }
            (Some(Mistake::Unreachable), View::Resolver) => {
                zones.insert(name.to_owned(), own_zone.failing());
            }
            (Some(Mistake::Unreachable), _) | (_, View::NewProvider) => {}
            _ => edit(&mut zones, &apex, |zone| {
                publish(zone, identity, key, mistake, view)
            }),
        }
        if let (HOSTED_KEY_DOMAIN, Some(key), false) = (name, key, view == View::NewProvider) {
            apexes.insert(VENDOR.to_owned());
            for record in crate::records::dkim_records(identity, None) {
                edit(&mut zones, VENDOR, |zone| {
                    publish_key(zone, &hosted_key_name(&record.name), key, None)
                });
            }
        }
    }
    if view != View::NewProvider {
        edit(&mut zones, WILDCARD_ZONE, |zone| {
            zone.a(&format!("*.{WILDCARD_ZONE}"), WILDCARD_ADDRESS)
        });
        zones.insert(PARENT.to_owned(), parent_zone(&apexes));
    }
    zones.into_values().collect()
}

/// Changes the demo domain zone at `origin`, creating it with its nameserver first.
fn edit(zones: &mut BTreeMap<String, Zone>, origin: &str, change: impl FnOnce(Zone) -> Zone) {
    let zone = zones.remove(origin).unwrap_or_else(|| {
        let ns = format!("ns1.{origin}");
        Zone::new(origin).ns(origin, &ns).a(&ns, NAMESERVER)
    });
    zones.insert(origin.to_owned(), change(zone));
}

/// `example`: delegates each demo domain to its nameserver, and names every provider.
fn parent_zone(apexes: &BTreeSet<String>) -> Zone {
    let ns = format!("ns.{PARENT}");
    let mut zone = Zone::new(PARENT)
        .ns(PARENT, &ns)
        .a(&ns, NAMESERVER)
        .a(OLD_PROVIDER_NS, NAMESERVER)
        .a(NEW_PROVIDER_NS, NEW_PROVIDER)
        .a(DOWN_PROVIDER_NS, DOWN_PROVIDER);
    for apex in apexes {
        let ns = format!("ns1.{apex}");
        zone = zone.ns(apex, &ns).a(&ns, NAMESERVER);
    }
    zone
}

/// A key made up for each BYODKIM demo domain, the same in every view (the simulator
/// keeps no public keys, so the dashboard cannot compare it: "set elsewhere").
fn made_up_keys(identities: &[Identity]) -> BTreeMap<String, String> {
    identities
        .iter()
        .filter(|identity| {
            crate::records::dkim_records(identity, None)
                .iter()
                .any(|record| record.record_type == RecordType::Txt)
        })
        .filter_map(|identity| {
            let key = crate::signing_key::generate().ok()?;
            Some((
                identity.name.clone(),
                format!("v=DKIM1; k=rsa; p={}", key.public_key),
            ))
        })
        .collect()
}

/// Every domain of every region of `simulator` under the demo's parent zone, and the
/// BYODKIM public keys it was given for them.
fn simulator_domains(simulator: &Simulator) -> (Vec<Identity>, BTreeMap<String, String>) {
    let now = simulator.now();
    let mut identities = Vec::new();
    let mut keys = BTreeMap::new();
    simulator.with_regions(|regions, _| {
        for region in regions.region_names() {
            let mut next_token = None;
            while let Ok(page) = regions.list(
                &region,
                &Default::default(),
                1000,
                next_token.as_deref(),
                now,
            ) {
                for view in page.identities {
                    if view.name.contains('@') || apex_of(&view.name).is_none() {
                        continue;
                    }
                    if let Some(key) = regions.byodkim_public_key(&region, &view.name) {
                        keys.insert(view.name.clone(), format!("v=DKIM1; k=rsa; p={key}"));
                    }
                    identities.push(as_read(view, &region, now));
                }
                match page.next_token {
                    Some(token) => next_token = Some(token),
                    None => break,
                }
            }
        }
    });
    (identities, keys)
}

/// A simulator identity of `region` as the dashboard reads it, details included.
fn as_read(view: IdentityView, region: &str, now: UnixSeconds) -> Identity {
    Identity {
        name: view.name,
        identity_type: view.identity_type,
        region: region.to_owned(),
        account: String::new(),
        dkim: view.dkim,
        verification: None,
        read_at: now,
        details_read_at: Some(now),
        status_seen_since: now,
    }
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
            out.extend(
                page.identities
                    .into_iter()
                    .map(|view| as_read(view, region, now)),
            );
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

/// Adds `identity`'s records to `zone` as `view` sees them, with its mistake if it has one.
fn publish(
    mut zone: Zone,
    identity: &Identity,
    key: Option<&str>,
    mistake: Option<Mistake>,
    view: View,
) -> Zone {
    let records = crate::records::dkim_records(identity, None);
    if mistake == Some(Mistake::Missing) {
        return zone;
    }
    let apex = zone_origin(&identity.name);
    for (index, record) in records.iter().enumerate() {
        let first = index == 0;
        zone = match (record.record_type, mistake) {
            (RecordType::Cname, Some(Mistake::ZoneAppended)) if first => {
                cname(zone, &format!("{}.{apex}", record.name), record)
            }
            (RecordType::Cname, Some(Mistake::Proxied)) if first => {
                zone.a(&record.name, Ipv4Addr::new(104, 16, 132, 229))
            }
            (RecordType::Cname, Some(Mistake::OldToken)) if first => {
                zone.cname(&record.name, OLD_TARGET)
            }
            (RecordType::Cname, Some(Mistake::StaleCache)) if first && view == View::Resolver => {
                zone.cname(&record.name, OLD_TARGET)
            }
            (RecordType::Cname, _) => cname(zone, &record.name, record),
            (RecordType::Txt, _) => match key {
                Some(_) if identity.name == HOSTED_KEY_DOMAIN => {
                    zone.cname(&record.name, &hosted_key_name(&record.name))
                }
                Some(key) => publish_key(zone, &record.name, key, mistake),
                None => zone,
            },
        };
    }
    zone
}

/// Where the hosted-DKIM vendor publishes the key of selector record `name`:
/// `sel._domainkey.support.acme.example` → `sel.support.acme.example.keys.dkim-vendor.example`.
fn hosted_key_name(name: &str) -> String {
    format!("{}.keys.{VENDOR}", name.replacen("._domainkey", "", 1))
}

/// The target of a record left from before a change of token.
const OLD_TARGET: &str = "oldtoken0000000000000000000000000.dkim.amazonses.com";

/// The zone a demo identity's records are in: its own when it has one, else its apex.
fn zone_origin(name: &str) -> String {
    match mistake_of(name) {
        Some(Mistake::NotDelegated | Mistake::Unreachable) => name.to_owned(),
        _ => apex_of(name).unwrap_or_else(|| name.to_owned()),
    }
}

fn cname(zone: Zone, name: &str, record: &DnsRecord) -> Zone {
    match &record.value {
        Some(target) => zone.cname(name, target),
        None => zone,
    }
}

/// A BYODKIM selector's TXT record `value`, published with `mistake`.
fn publish_key(zone: Zone, name: &str, value: &str, mistake: Option<Mistake>) -> Zone {
    let (head, tail) = value.split_at(200);
    match mistake {
        Some(Mistake::TxtTwice) => zone.txt(name, &[head, tail]).txt(
            name,
            &["v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"],
        ),
        Some(Mistake::TxtCut) => zone.txt(name, &[&value[..255]]),
        Some(Mistake::TxtQuoted) => {
            let quoted = format!("\"{value}\"");
            let (head, tail) = quoted.split_at(200);
            zone.txt(name, &[head, tail])
        }
        _ => zone.txt(name, &[head, tail]),
    }
}

#[cfg(test)]
mod tests {
    use std::{num::NonZeroU32, time::Duration};

    use super::*;
    use crate::dns::checker::{Checker, CheckerSettings};
    use crate::sim::SimConfig;

    /// The finding the demo plants for `name` on its first record, by code.
    fn planted(name: &str) -> &'static str {
        match mistake_of(name) {
            None => "ok",
            Some(Mistake::Missing) => "missing",
            Some(Mistake::ZoneAppended) => "zone_appended",
            Some(Mistake::Proxied) => "proxied",
            Some(Mistake::OldToken) => "wrong_value",
            Some(Mistake::TxtTwice | Mistake::TxtCut | Mistake::TxtQuoted) => "txt_malformed",
            Some(Mistake::StaleCache) => "stale_cache",
            Some(Mistake::NotDelegated) => "not_delegated",
            Some(Mistake::Unreachable) => "could_not_check",
        }
    }

    #[tokio::test]
    async fn the_demo_dns_shows_each_planted_mistake_and_nothing_else() {
        let simulator = Simulator::new(&SimConfig {
            seed_demo: true,
            ..SimConfig::default()
        });
        let dns = start(&simulator).await.expect("the demo DNS starts");
        let checker = Checker::new(CheckerSettings {
            resolver: Some(dns.resolver()),
            timeout: Duration::from_secs(2),
            resolver_rate: NonZeroU32::new(1000).unwrap(),
            per_server_rate: NonZeroU32::new(1000).unwrap(),
            concurrency: 16,
            nameserver_port: dns.nameserver_port(),
            allowed_nameservers: vec!["127.0.0.0/8".parse().unwrap()],
        })
        .unwrap();
        let mut planted_seen = BTreeSet::new();
        for identity in demo_identities(&simulator) {
            let records = crate::records::dkim_records(&identity, None);
            let Some(first) = records.first() else {
                continue;
            };
            let report = checker.check(&records, 0).await;
            let codes: Vec<&str> = report.records.iter().map(|r| r.finding.code()).collect();
            let mut want = planted(&identity.name);
            // A key the dashboard did not set can only be judged by its syntax.
            if want == "ok" && first.record_type == RecordType::Txt {
                want = "present_unknown_key";
            }
            assert_eq!(codes[0], want, "{}: {:?}", identity.name, report.records);
            // Only the first record carries a mistake, except where the whole domain has one.
            let whole_domain = matches!(want, "missing" | "not_delegated" | "could_not_check");
            for code in &codes[1..] {
                assert_eq!(
                    *code,
                    if whole_domain { want } else { "ok" },
                    "{}: {:?}",
                    identity.name,
                    report.records
                );
            }
            if let crate::dns_check::Finding::NotDelegated {
                delegated_to,
                found_at,
            } = &report.records[0].finding
            {
                assert_eq!(delegated_to, &[OLD_PROVIDER_NS]);
                assert_eq!(found_at, &[NEW_PROVIDER_NS]);
            }
            planted_seen.insert(want);
        }
        // Every class the checker knows appears at least once in the demo.
        for code in [
            "ok",
            "present_unknown_key",
            "missing",
            "zone_appended",
            "proxied",
            "wrong_value",
            "txt_malformed",
            "stale_cache",
            "not_delegated",
            "could_not_check",
        ] {
            assert!(planted_seen.contains(code), "no demo identity shows {code}");
        }
    }

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
