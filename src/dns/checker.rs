//! Checks an identity's records: asks the recursive resolver (what the world sees) and the
//! nameservers the domain is delegated to (what is published), then classifies. Every
//! question to one nameserver goes through its rate limit; checks run a bounded number at
//! a time; each question has a timeout.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hickory_proto::{ProtoErrorKind, op::ResponseCode, rr::Name, rr::RecordType as WireType};
use hickory_resolver::{
    ResolveErrorKind, TokioResolver,
    config::{NameServerConfigGroup, ResolverConfig, ResolverOpts},
    name_server::TokioConnectionProvider,
};
use tokio::sync::Semaphore;

use super::answer::{Answer, normalize_name};
use super::classify::{Delegation, Evidence, classify};
use super::wire;
use crate::dns_check::{DnsReport, Finding, RecordCheck};
use crate::model::{DnsRecord, RecordType, UnixSeconds};

/// Shortest and longest reuse of a check's result, whatever the TTLs say: a TTL of 0 must
/// not make the background checker spin, and a day-long TTL must not hide a broken record.
const MIN_FRESH_SECS: u32 = 60;
const MAX_FRESH_SECS: u32 = 24 * 3600;
/// How long what was learned about a zone (its servers, its delegation) is reused.
const ZONE_INFO_TTL: Duration = Duration::from_secs(600);
/// Most nameservers of one zone asked (a zone lists two to eight; two answering is plenty).
const MAX_SERVERS: usize = 4;

/// How the checker looks things up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerSettings {
    /// The recursive resolver; `None`: the system's (`/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// Most questions per second to any one nameserver (the resolver included).
    pub per_server_rate: NonZeroU32,
    /// Most records checked at the same time.
    pub concurrency: usize,
    /// Port the zones' nameservers are asked on: 53, except for servers on loopback in
    /// the demo and the tests.
    pub nameserver_port: u16,
}

impl Default for CheckerSettings {
    fn default() -> Self {
        Self {
            resolver: None,
            timeout: Duration::from_secs(3),
            per_server_rate: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            concurrency: 32,
            nameserver_port: 53,
        }
    }
}

/// The nameservers of one zone, as far as they could be learned.
#[derive(Clone, Debug)]
struct Zone {
    apex: Name,
    /// Addresses of the servers to ask for records: the delegated ones when known.
    servers: Vec<SocketAddr>,
    delegation: Option<Delegation>,
    /// Addresses of the zone's own NS that the parent does not delegate to.
    undelegated_servers: Vec<SocketAddr>,
}

/// What was learned about a zone (or why nothing could be), and when.
type CachedZone = (Instant, Result<Zone, String>);

/// The DNS checker. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    inner: Arc<Inner>,
}

struct Inner {
    settings: CheckerSettings,
    resolver: TokioResolver,
    /// The resolver's address, for its rate limit.
    resolver_ip: IpAddr,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    slots: Semaphore,
    zones: Mutex<HashMap<Name, CachedZone>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl Checker {
    /// A checker with `settings`; fails only when the system resolver configuration
    /// cannot be read.
    pub fn new(settings: CheckerSettings) -> Result<Self, String> {
        let (config, mut options) = match settings.resolver {
            Some(address) => (
                ResolverConfig::from_parts(
                    None,
                    Vec::new(),
                    NameServerConfigGroup::from_ips_clear(&[address.ip()], address.port(), true),
                ),
                ResolverOpts::default(),
            ),
            None => hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("the system resolver configuration: {e}"))?,
        };
        let resolver_ip = config
            .name_servers()
            .first()
            .map(|ns| ns.socket_addr.ip())
            .ok_or("no recursive resolver is configured")?;
        // dkimdash keeps its own results for the TTL; the resolver must not add a second
        // cache in front of the answers it reports.
        options.cache_size = 0;
        options.timeout = settings.timeout;
        options.attempts = 1;
        options.preserve_intermediates = true;
        options.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
        let resolver =
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(options)
                .build();
        Ok(Self {
            inner: Arc::new(Inner {
                limiter: RateLimiter::keyed(
                    Quota::per_second(settings.per_server_rate).allow_burst(NonZeroU32::MIN),
                ),
                slots: Semaphore::new(settings.concurrency.max(1)),
                resolver,
                resolver_ip,
                zones: Mutex::default(),
                settings,
            }),
        })
    }

    /// Checks `records` (one identity's) at `now`.
    pub async fn check(&self, records: &[DnsRecord], now: UnixSeconds) -> DnsReport {
        let checks = futures::future::join_all(records.iter().map(|r| self.check_record(r))).await;
        let fresh = checks
            .iter()
            .filter_map(|(_, ttl)| *ttl)
            .min()
            .unwrap_or(MIN_FRESH_SECS)
            .clamp(MIN_FRESH_SECS, MAX_FRESH_SECS);
        DnsReport {
            records: checks.into_iter().map(|(check, _)| check).collect(),
            checked_at: now,
            fresh_until: now + i64::from(fresh),
        }
    }

    /// One record: its finding and how long the answers it rests on may be reused.
    async fn check_record(&self, record: &DnsRecord) -> (RecordCheck, Option<u32>) {
        let _slot = self.inner.slots.acquire().await;
        let (finding, ttl) =
            match Name::from_ascii(format!("{}.", record.name.trim_end_matches('.'))) {
                Ok(name) if name.num_labels() >= 2 => self.find(record, &name).await,
                _ => (
                    Finding::CouldNotCheck {
                        reason: format!("{:?} is not a valid DNS name", record.name),
                    },
                    None,
                ),
            };
        (
            RecordCheck {
                record: record.clone(),
                finding,
            },
            ttl,
        )
    }

    async fn find(&self, record: &DnsRecord, name: &Name) -> (Finding, Option<u32>) {
        let kind = match record.record_type {
            RecordType::Cname => WireType::CNAME,
            RecordType::Txt => WireType::TXT,
        };
        let recursive = self.recursive(name, kind).await;
        let zone = self.zone_of(name).await;
        let authoritative = match &zone {
            Ok(zone) => self.ask_first(&zone.servers, name, kind).await,
            Err(reason) => Answer::Failed(reason.clone()),
        };
        let ttl = authoritative.ttl().into_iter().chain(recursive.ttl()).min();
        let mut evidence = Evidence {
            authoritative,
            recursive,
            zone_appended: None,
            addresses: Vec::new(),
            delegation: zone.as_ref().ok().and_then(|z| z.delegation.clone()),
        };
        let missing = matches!(
            evidence.authoritative,
            Answer::NxDomain { .. } | Answer::NoData { .. }
        );
        if let (true, Ok(zone)) = (missing, &zone) {
            self.look_around(zone, name, kind, &mut evidence).await;
        }
        (classify(record, &evidence), ttl)
    }

    /// The record is not where it should be: look where operators' mistakes put it.
    async fn look_around(&self, zone: &Zone, name: &Name, kind: WireType, evidence: &mut Evidence) {
        if let Ok(appended) = name.clone().append_domain(&zone.apex)
            && self
                .ask_first(&zone.servers, &appended, kind)
                .await
                .values()
                .is_some()
        {
            evidence.zone_appended = Some(normalize_name(&appended.to_ascii()));
        }
        if kind == WireType::CNAME {
            for address_kind in [WireType::A, WireType::AAAA] {
                if let Some(values) = self
                    .ask_first(&zone.servers, name, address_kind)
                    .await
                    .values()
                {
                    evidence.addresses.extend_from_slice(values);
                }
            }
        }
        if let Some(delegation) = evidence.delegation.as_mut()
            && !zone.undelegated_servers.is_empty()
        {
            delegation.found_at_undelegated = self
                .ask_first(&zone.undelegated_servers, name, kind)
                .await
                .values()
                .is_some();
        }
    }

    /// Asks the recursive resolver. Records of `kind` along a CNAME chain count (what a
    /// verifier would read).
    async fn recursive(&self, name: &Name, kind: WireType) -> Answer {
        self.ask_resolver(name, kind, false).await
    }

    /// Asks the recursive resolver; `own_only` keeps only records owned by `name` itself.
    async fn ask_resolver(&self, name: &Name, kind: WireType, own_only: bool) -> Answer {
        self.inner
            .limiter
            .until_key_ready(&self.inner.resolver_ip)
            .await;
        match self.inner.resolver.lookup(name.clone(), kind).await {
            Ok(lookup) => Answer::from_records(
                lookup
                    .records()
                    .iter()
                    .filter(|r| r.record_type() == kind && (!own_only || r.name() == name)),
                kind,
            ),
            Err(error) => match error.kind() {
                ResolveErrorKind::Proto(proto) => match proto.kind() {
                    ProtoErrorKind::NoRecordsFound {
                        response_code,
                        negative_ttl,
                        ..
                    } => {
                        let ttl = negative_ttl.unwrap_or(MIN_FRESH_SECS);
                        match *response_code {
                            ResponseCode::NXDomain => Answer::NxDomain { ttl },
                            ResponseCode::NoError => Answer::NoData { ttl },
                            other => Answer::Failed(other.to_str().to_owned()),
                        }
                    }
                    ProtoErrorKind::Timeout => Answer::Failed("timeout".into()),
                    _ => Answer::Failed(proto.to_string()),
                },
                _ => Answer::Failed(error.to_string()),
            },
        }
    }

    /// Asks each server in turn until one answers.
    async fn ask_first(&self, servers: &[SocketAddr], name: &Name, kind: WireType) -> Answer {
        let mut last = Answer::Failed("no nameserver address found".into());
        for server in servers {
            last = self.ask(*server, name, kind).await;
            if last.answered() {
                break;
            }
        }
        last
    }

    /// One question to one of a zone's nameservers.
    async fn ask(&self, server: SocketAddr, name: &Name, kind: WireType) -> Answer {
        self.inner.limiter.until_key_ready(&server.ip()).await;
        match wire::ask(server, name, kind, false, self.inner.settings.timeout).await {
            Ok(message) => Answer::from_message(&message, kind, true),
            Err(error) => Answer::Failed(format!("{server}: {error}")),
        }
    }

    /// The zone holding `name`, its servers and its delegation (cached per domain).
    async fn zone_of(&self, name: &Name) -> Result<Zone, String> {
        let domain = owner_domain(name);
        if let Some((at, zone)) = lock(&self.inner.zones).get(&domain)
            && at.elapsed() < ZONE_INFO_TTL
        {
            return zone.clone();
        }
        let zone = self.read_zone(&domain).await;
        lock(&self.inner.zones).insert(domain, (Instant::now(), zone.clone()));
        zone
    }

    async fn read_zone(&self, domain: &Name) -> Result<Zone, String> {
        let (apex, zone_ns) = self.apex_of(domain).await?;
        let delegated = self.delegation_of(&apex).await;
        let Some(delegated_to) = delegated.filter(|d| !d.is_empty()) else {
            return Ok(Zone {
                servers: self.addresses(&zone_ns).await,
                apex,
                delegation: None,
                undelegated_servers: Vec::new(),
            });
        };
        let undelegated: Vec<String> = zone_ns
            .iter()
            .filter(|ns| !delegated_to.contains(ns))
            .cloned()
            .collect();
        Ok(Zone {
            servers: self.addresses(&delegated_to).await,
            undelegated_servers: self.addresses(&undelegated).await,
            delegation: Some(Delegation {
                delegated_to,
                zone_ns,
                found_at_undelegated: false,
            }),
            apex,
        })
    }

    /// The apex of the zone holding `domain` and its NS names, as the resolver sees them:
    /// the closest enclosing name that has NS records of its own. (Walking up by NS, rather
    /// than reading the owner of an SOA, works with servers that answer an SOA question
    /// for any name of the zone, and never follows a CNAME into another zone.)
    async fn apex_of(&self, domain: &Name) -> Result<(Name, Vec<String>), String> {
        let mut candidate = domain.clone();
        loop {
            match self.ns_at(&candidate).await {
                Answer::Records { mut values, .. } => {
                    values.sort();
                    return Ok((candidate, values));
                }
                Answer::Failed(reason) => {
                    return Err(format!("finding the zone of {domain}: {reason}"));
                }
                Answer::NxDomain { .. } | Answer::NoData { .. } if candidate.num_labels() > 1 => {
                    candidate = candidate.base_name();
                }
                Answer::NxDomain { .. } | Answer::NoData { .. } => {
                    return Err(format!("no zone with nameservers holds {domain}"));
                }
            }
        }
    }

    /// The NS records owned by `name` itself (not by a CNAME's target).
    async fn ns_at(&self, name: &Name) -> Answer {
        self.ask_resolver(name, WireType::NS, true).await
    }

    /// The NS names the parent zone delegates `apex` to; `None` when that cannot be read.
    async fn delegation_of(&self, apex: &Name) -> Option<Vec<String>> {
        if apex.num_labels() < 2 {
            return None;
        }
        let (_, parent_ns) = self.apex_of(&apex.base_name()).await.ok()?;
        for server in self.addresses(&parent_ns).await {
            self.inner.limiter.until_key_ready(&server.ip()).await;
            let Ok(message) = wire::ask(
                server,
                apex,
                WireType::NS,
                false,
                self.inner.settings.timeout,
            )
            .await
            else {
                continue;
            };
            // A referral carries the delegation in its authority section; a server
            // authoritative for both zones answers it directly.
            let mut names: Vec<String> = message
                .answers()
                .iter()
                .chain(message.name_servers())
                .filter(|r| r.record_type() == WireType::NS && r.name() == apex)
                .filter_map(|r| r.data().as_ns().map(|ns| normalize_name(&ns.0.to_ascii())))
                .collect();
            names.sort();
            names.dedup();
            return Some(names);
        }
        None
    }

    /// Addresses of nameservers by name (at most [`MAX_SERVERS`]), on the nameserver port.
    async fn addresses(&self, names: &[String]) -> Vec<SocketAddr> {
        let mut addresses = Vec::new();
        for name in names.iter().take(MAX_SERVERS) {
            let Ok(name) = Name::from_ascii(format!("{name}.")) else {
                continue;
            };
            for kind in [WireType::A, WireType::AAAA] {
                if let Some(values) = self.recursive(&name, kind).await.values() {
                    addresses.extend(
                        values
                            .iter()
                            .filter_map(|v| v.parse::<IpAddr>().ok())
                            .map(|ip| SocketAddr::new(ip, self.inner.settings.nameserver_port)),
                    );
                }
            }
        }
        addresses
    }
}

/// The domain a DKIM record belongs to (`tok._domainkey.example.com` → `example.com`): the
/// SOA is asked there, not at the record itself, which a CNAME would lead elsewhere.
fn owner_domain(name: &Name) -> Name {
    let labels: Vec<&[u8]> = name.iter().collect();
    let skip = labels
        .iter()
        .position(|label| label.eq_ignore_ascii_case(b"_domainkey"))
        .map_or(1, |at| at + 1);
    if skip >= labels.len() {
        return name.base_name();
    }
    let mut domain = name.clone();
    for _ in 0..skip {
        domain = domain.base_name();
    }
    domain
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soa_is_asked_at_the_domain_not_at_the_record() {
        let name = Name::from_ascii("Tok._DomainKey.mail.example.com.").unwrap();
        assert_eq!(owner_domain(&name).to_ascii(), "mail.example.com.");
        let odd = Name::from_ascii("x.example.com.").unwrap();
        assert_eq!(owner_domain(&odd).to_ascii(), "example.com.");
    }
}
