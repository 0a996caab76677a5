//! Where a record is published: the zone holding a name, the nameservers its parent zone
//! delegates it to, and their addresses. Everything learned is cached by what it belongs to
//! (NS sets by owner name, addresses by nameserver name, delegations and zones by apex) for
//! its TTL (at least a minute, at most a day), with one look-up in flight per key: a fleet of
//! thousands of zones served by a few providers costs the resolver about one question per
//! zone, and an identity's three records share one discovery.

use std::{
    hash::{Hash, Hasher},
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use hickory_proto::rr::{Name, RecordType};

use super::answer::{Answer, normalize_name};
use super::asker::Asker;
use super::cache::TtlCache;
use super::classify::Delegation;

/// Shortest and longest reuse of what was learned, whatever the TTLs say.
pub const MIN_TTL_SECS: u32 = 60;
pub const MAX_TTL_SECS: u32 = 24 * 3600;
/// How long a zone put together from the pieces above is kept: short enough that a fixed
/// delegation shows within minutes.
const ZONE_TTL: Duration = Duration::from_secs(600);
/// How long a failed look-up is remembered (so a burst of checks shares it).
const FAILED_TTL: Duration = Duration::from_secs(30);
/// Most nameservers of one zone asked (a zone lists two to eight; Route 53 gives four).
pub const MAX_SERVERS: usize = 4;
/// Most NS names of one zone whose addresses are looked up.
const MAX_NS_NAMES: usize = 8;
/// Most servers of a parent zone tried for a delegation, one after another.
const DELEGATION_TRIES: usize = 2;
/// Entries per cache: enough for 100,000 identities in distinct zones.
const CACHE_CAPACITY: u64 = 200_000;

/// One nameserver address, with the NS name it was found under (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// The NS name, lower-case, no trailing dot.
    pub name: String,
    /// Where it is asked.
    pub address: SocketAddr,
}

/// The nameservers of one zone, as far as they could be learned.
#[derive(Clone, Debug)]
pub struct Zone {
    /// The zone's apex.
    pub apex: Name,
    /// The servers to ask for records: the delegated ones when known (at most
    /// [`MAX_SERVERS`], IPv4 first).
    pub servers: Vec<Server>,
    /// How the parent delegates the zone, when that could be read.
    pub delegation: Option<Delegation>,
    /// Servers of the zone's own NS set that the parent does not delegate to.
    pub undelegated_servers: Vec<Server>,
}

/// Why a zone's servers cannot be asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// Every address of its nameservers is non-public: refused, never asked.
    #[error("{0}")]
    NonPublic(String),
    /// The zone or its servers could not be learned.
    #[error("{0}")]
    Unknown(String),
}

/// The addresses of one NS name: at most one IPv4 and one IPv6, the ones the policy
/// allows, and whether any were refused.
#[derive(Clone, Debug, Default)]
struct NsAddresses {
    allowed: Vec<IpAddr>,
    refused: bool,
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct Zones {
    asker: Arc<Asker>,
    /// The port nameservers are asked on (53, except for test servers on loopback).
    port: u16,
    ns_sets: TtlCache<Name, Answer>,
    addresses: TtlCache<Name, Arc<NsAddresses>>,
    delegations: TtlCache<Name, Option<Vec<String>>>,
    zones: TtlCache<Name, Result<Arc<Zone>, ZoneError>>,
}

impl Zones {
    /// Zones learned through `asker`, their servers asked on `port`.
    pub fn new(asker: Arc<Asker>, port: u16) -> Self {
        Self {
            asker,
            port,
            ns_sets: TtlCache::new(CACHE_CAPACITY),
            addresses: TtlCache::new(CACHE_CAPACITY),
            delegations: TtlCache::new(CACHE_CAPACITY),
            zones: TtlCache::new(CACHE_CAPACITY),
        }
    }

    /// The zone holding `domain`, or why it could not be learned.
    pub async fn zone_of(&self, domain: &Name) -> Result<Arc<Zone>, ZoneError> {
        let (apex, zone_ns) = self.apex_of(domain).await.map_err(ZoneError::Unknown)?;
        self.zones
            .get_with(apex.clone(), async {
                let zone = self.read_zone(apex, zone_ns).await;
                let ttl = if zone.is_ok() { ZONE_TTL } else { FAILED_TTL };
                (zone.map(Arc::new), ttl)
            })
            .await
    }

    async fn read_zone(&self, apex: Name, zone_ns: Vec<String>) -> Result<Zone, ZoneError> {
        let delegated = self.delegation_of(&apex).await;
        let Some(delegated_to) = delegated.filter(|d| !d.is_empty()) else {
            let servers = self.servers(&apex, &zone_ns).await?;
            return Ok(Zone {
                apex,
                servers,
                delegation: None,
                undelegated_servers: Vec::new(),
            });
        };
        let undelegated: Vec<String> = zone_ns
            .iter()
            .filter(|ns| !delegated_to.contains(ns))
            .cloned()
            .collect();
        let servers = self.servers(&apex, &delegated_to).await?;
        let undelegated_servers = self.servers(&apex, &undelegated).await.unwrap_or_default();
        Ok(Zone {
            apex,
            servers,
            undelegated_servers,
            delegation: Some(Delegation {
                delegated_to,
                zone_ns,
                found_at_undelegated: false,
            }),
        })
    }

    /// The apex of the zone holding `domain` and its NS names, as the resolver sees them:
    /// the closest enclosing name that has NS records of its own. (Walking up by NS, rather
    /// than reading the owner of an SOA, works with servers that answer an SOA question
    /// for any name of the zone, and never follows a CNAME into another zone.)
    pub async fn apex_of(&self, domain: &Name) -> Result<(Name, Vec<String>), String> {
        let mut candidate = domain.clone();
        loop {
            match self.ns_set(&candidate).await {
                Answer::Records { mut values, .. } => {
                    values.sort();
                    return Ok((candidate, values));
                }
                // Not passed over: above a subzone whose servers fail, the parent's servers
                // would only refer back to them.
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

    /// The NS records owned by `name` itself (not by a CNAME's target), from the resolver.
    async fn ns_set(&self, name: &Name) -> Answer {
        self.ns_sets
            .get_with(name.clone(), async {
                let answer = self.asker.resolver(name, RecordType::NS, true).await;
                let ttl = ttl_of(&answer);
                (answer, ttl)
            })
            .await
    }

    /// The NS names the parent zone delegates `apex` to; `None` when that cannot be read.
    async fn delegation_of(&self, apex: &Name) -> Option<Vec<String>> {
        if apex.num_labels() < 2 {
            return None;
        }
        self.delegations
            .get_with(apex.clone(), async {
                let delegation = self.read_delegation(apex).await;
                let ttl = match &delegation {
                    Some((_, ttl)) => clamp_ttl(*ttl),
                    None => FAILED_TTL,
                };
                (delegation.map(|(names, _)| names), ttl)
            })
            .await
    }

    /// Asks the parent zone's servers (starting at one chosen by the apex, so a fleet's
    /// questions spread over them) for the delegation; names and their smallest TTL.
    async fn read_delegation(&self, apex: &Name) -> Option<(Vec<String>, u32)> {
        let (parent, parent_ns) = self.apex_of(&apex.base_name()).await.ok()?;
        let servers = self.servers(&parent, &parent_ns).await.ok()?;
        let start = spread(apex, servers.len());
        for server in servers.iter().cycle().skip(start).take(DELEGATION_TRIES) {
            let Ok(message) = self
                .asker
                .server(server.address, apex, RecordType::NS)
                .await
            else {
                continue;
            };
            // A referral carries the delegation in its authority section; a server
            // authoritative for both zones answers it directly.
            let records: Vec<_> = message
                .answers()
                .iter()
                .chain(message.name_servers())
                .filter(|r| r.record_type() == RecordType::NS && r.name() == apex)
                .collect();
            let ttl = records
                .iter()
                .map(|r| r.ttl())
                .min()
                .unwrap_or(MIN_TTL_SECS);
            let mut names: Vec<String> = records
                .iter()
                .filter_map(|r| r.data().as_ns().map(|ns| normalize_name(&ns.0.to_ascii())))
                .collect();
            names.sort();
            names.dedup();
            return Some((names, ttl));
        }
        None
    }

    /// The servers to ask among `names` (NS names of `apex`): at most one IPv4 and one
    /// IPv6 address per name, IPv4 first, at most [`MAX_SERVERS`], never an address the
    /// policy refuses. Fails when every address found was refused.
    async fn servers(&self, apex: &Name, names: &[String]) -> Result<Vec<Server>, ZoneError> {
        let names: Vec<&String> = names.iter().take(MAX_NS_NAMES).collect();
        let found =
            futures::future::join_all(names.iter().map(|name| self.ns_addresses(name))).await;
        let mut by_family: [Vec<Server>; 2] = [Vec::new(), Vec::new()];
        for (name, addresses) in names.iter().zip(&found) {
            for ip in &addresses.allowed {
                by_family[usize::from(ip.is_ipv6())].push(Server {
                    name: (*name).clone(),
                    address: SocketAddr::new(*ip, self.port),
                });
            }
        }
        let servers: Vec<Server> = by_family.into_iter().flatten().take(MAX_SERVERS).collect();
        let refused: Vec<&str> = names
            .iter()
            .zip(&found)
            .filter(|(_, a)| a.refused)
            .map(|(name, _)| name.as_str())
            .collect();
        if servers.is_empty() && !refused.is_empty() {
            return Err(ZoneError::NonPublic(format!(
                "the nameservers of {} ({}) have non-public addresses: dkimdash does not send questions into private networks",
                normalize_name(&apex.to_ascii()),
                refused.join(", ")
            )));
        }
        Ok(servers)
    }

    /// The addresses of one NS name, looked up once per TTL.
    async fn ns_addresses(&self, name: &str) -> Arc<NsAddresses> {
        let Ok(name) = Name::from_ascii(format!("{name}.")) else {
            return Arc::default();
        };
        self.addresses
            .get_with(name.clone(), async {
                let (v4, v6) = tokio::join!(
                    self.asker.resolver(&name, RecordType::A, true),
                    self.asker.resolver(&name, RecordType::AAAA, true)
                );
                let ttl = ttl_of(&v4).min(ttl_of(&v6));
                let mut addresses = NsAddresses::default();
                for answer in [v4, v6] {
                    let first = answer
                        .values()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.parse::<IpAddr>().ok())
                        .find(|ip| {
                            let allowed = self.asker.policy().permits(*ip);
                            addresses.refused |= !allowed;
                            allowed
                        });
                    addresses.allowed.extend(first);
                }
                (Arc::new(addresses), ttl)
            })
            .await
    }
}

/// How long an answer may be reused: its TTL within bounds; a failure briefly.
fn ttl_of(answer: &Answer) -> Duration {
    answer.ttl().map_or(FAILED_TTL, clamp_ttl)
}

fn clamp_ttl(ttl: u32) -> Duration {
    Duration::from_secs(u64::from(ttl.clamp(MIN_TTL_SECS, MAX_TTL_SECS)))
}

/// A starting index in `0..len` fixed by `name`, so questions about many zones spread
/// over a parent's servers while one zone always asks the same server first.
fn spread(name: &Name, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.to_lowercase().hash(&mut hasher);
    usize::try_from(hasher.finish() % len as u64).unwrap_or(0)
}
