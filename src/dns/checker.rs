//! Checks an identity's records: asks the recursive resolver (what the world sees) and
//! every nameserver the domain is delegated to (what is published), then classifies. The
//! questions go through the [`Asker`]'s limits; where a record is published comes from the
//! cached [`Zones`]; each record has one deadline, so a domain whose servers never answer
//! costs only its own checks.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc, time::Duration};

use hickory_proto::rr::{Name, RecordType as WireType};
use ipnet::IpNet;

use super::answer::{Answer, normalize_name};
use super::asker::{Asker, AskerSettings};
use super::classify::{Evidence, ServerAnswer, classify, same_set};
use super::nameserver_policy::NameserverPolicy;
use super::zones::{MAX_TTL_SECS, MIN_TTL_SECS, Server, Zone, ZoneError, Zones};
use crate::dns_check::{DnsReport, Finding, RecordCheck};
use crate::model::{DnsRecord, RecordType, UnixSeconds};

/// Most CNAME steps followed from a selector to its key (verifiers stop at about as many).
const MAX_ALIAS_HOPS: usize = 8;

/// A record's whole check (finding the zone, asking its servers, looking around) takes
/// at most this many single-question timeouts.
const DEADLINE_TIMEOUTS: u32 = 5;

/// How the checker looks things up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerSettings {
    /// The recursive resolver; `None`: the system's (`/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// Most questions per second to the recursive resolver.
    pub resolver_rate: NonZeroU32,
    /// Most questions per second to any one of the zones' nameservers.
    pub per_server_rate: NonZeroU32,
    /// Most identities checked at the same time in the background.
    pub concurrency: usize,
    /// Port the zones' nameservers are asked on: 53, except for servers on loopback in
    /// the demo and the tests.
    pub nameserver_port: u16,
    /// Non-public ranges whose nameservers may be asked anyway (the demo's and the tests'
    /// loopback servers); every other non-public address is refused.
    pub allowed_nameservers: Vec<IpNet>,
}

impl Default for CheckerSettings {
    fn default() -> Self {
        Self {
            resolver: None,
            timeout: Duration::from_secs(3),
            resolver_rate: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            per_server_rate: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            concurrency: 32,
            nameserver_port: 53,
            allowed_nameservers: Vec::new(),
        }
    }
}

/// The DNS checker. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    settings: Arc<CheckerSettings>,
    asker: Arc<Asker>,
    zones: Zones,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Checker {
    /// A checker with `settings`; fails only when the system resolver configuration
    /// cannot be read.
    pub fn new(settings: CheckerSettings) -> Result<Self, String> {
        let asker = Arc::new(Asker::new(AskerSettings {
            resolver: settings.resolver,
            timeout: settings.timeout,
            resolver_rate: settings.resolver_rate,
            per_server_rate: settings.per_server_rate,
            policy: NameserverPolicy::allowing(settings.allowed_nameservers.clone()),
        })?);
        Ok(Self {
            zones: Zones::new(asker.clone(), settings.nameserver_port),
            asker,
            settings: Arc::new(settings),
        })
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &CheckerSettings {
        &self.settings
    }

    /// The nameservers the zone holding `name` is delegated to (lower case, no final dot),
    /// as its parent names them, or the zone's own when the parent could not be read:
    /// what tells apart two hosted zones of one name at a DNS provider.
    pub async fn delegation_of(&self, name: &str) -> Option<Vec<String>> {
        let name = Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).ok()?;
        let zone = self.zones.zone_of(&name).await.ok()?;
        let servers = match &zone.delegation {
            Some(delegation) => delegation.delegated_to.clone(),
            None => zone.servers.iter().map(|s| s.name.clone()).collect(),
        };
        (!servers.is_empty()).then_some(servers)
    }

    /// Checks `records` (one identity's, side by side) at `now`.
    pub async fn check(&self, records: &[DnsRecord], now: UnixSeconds) -> DnsReport {
        let checks = futures::future::join_all(records.iter().map(|r| self.check_record(r))).await;
        let fresh = checks
            .iter()
            .filter_map(|(_, ttl)| *ttl)
            .min()
            .unwrap_or(MIN_TTL_SECS)
            .clamp(MIN_TTL_SECS, MAX_TTL_SECS);
        DnsReport {
            records: checks.into_iter().map(|(check, _)| check).collect(),
            checked_at: now,
            fresh_until: now + i64::from(fresh),
        }
    }

    /// One record: its finding and how long the answers it rests on may be reused.
    async fn check_record(&self, record: &DnsRecord) -> (RecordCheck, Option<u32>) {
        let deadline = self.settings.timeout * DEADLINE_TIMEOUTS;
        let (finding, ttl) =
            match Name::from_ascii(format!("{}.", record.name.trim_end_matches('.'))) {
                Ok(name) if name.num_labels() >= 2 => {
                    tokio::time::timeout(deadline, self.find(record, &name))
                        .await
                        .unwrap_or_else(|_| {
                            let reason =
                                format!("no answer within {} s", deadline.as_secs_f32().ceil());
                            (Finding::CouldNotCheck { reason }, None)
                        })
                }
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
        let owner = owner_domain(name);
        let (recursive, zone) = tokio::join!(
            self.asker.resolver(name, kind, false),
            self.zones.zone_of(&owner)
        );
        let answers = match &zone {
            Ok(zone) => self.ask_all(&zone.servers, name, kind).await,
            // Delegated into a private network: whatever the resolver says, the record is
            // not what the world can read, and dkimdash does not look further.
            Err(ZoneError::NonPublic(reason)) => {
                let reason = reason.clone();
                return (Finding::CouldNotCheck { reason }, None);
            }
            Err(ZoneError::Unknown(reason)) => vec![ServerAnswer {
                server: String::new(),
                answer: Answer::Failed(reason.clone()),
            }],
        };
        let (mut first, mut other_servers) = primary(answers);
        if let (WireType::TXT, Answer::NoData { .. }, Ok(zone)) = (kind, &first.answer, &zone) {
            // A selector delegated to a key hosted elsewhere (`CNAME sel.keys.vendor.net`):
            // the zone's servers answer only the CNAME; read the key where it leads.
            if let Some(followed) = self.follow_alias(zone, name).await {
                first.answer = followed;
                // The other servers were asked about the alias, not the key.
                other_servers.clear();
            }
        }
        if let (Some(values), Ok(zone)) = (first.answer.values(), &zone)
            && !publishes(record, values)
            && self.wildcard_gives(zone, name, kind, values).await
        {
            // A wildcard answers for every name: the record itself is not published.
            let ttl = first.answer.ttl().unwrap_or(MIN_TTL_SECS);
            first.answer = Answer::NoData { ttl };
            other_servers.clear();
        }
        let ttl = first.answer.ttl().into_iter().chain(recursive.ttl()).min();
        let mut evidence = Evidence {
            authoritative: first.answer,
            authoritative_server: first.server,
            other_servers,
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

    /// Where a CNAME at `name` leads, the TXT records there, asked of the target zone's
    /// own servers, hop by hop (at most [`MAX_ALIAS_HOPS`], a loop refused); `None` when
    /// `name` is no alias.
    async fn follow_alias(&self, zone: &Zone, name: &Name) -> Option<Answer> {
        let mut target = self.alias_at(&zone.servers, name).await?;
        let mut seen = vec![name.to_lowercase()];
        for _ in 0..MAX_ALIAS_HOPS {
            if seen.contains(&target.to_lowercase()) {
                return Some(Answer::Failed(format!(
                    "the CNAME chain from {} loops at {}",
                    normalize_name(&name.to_ascii()),
                    normalize_name(&target.to_ascii())
                )));
            }
            seen.push(target.to_lowercase());
            let zone = match self.zones.zone_of(&target).await {
                Ok(zone) => zone,
                Err(error) => return Some(Answer::Failed(error.to_string())),
            };
            let answer = self.ask_any(&zone.servers, &target, WireType::TXT).await;
            if !matches!(answer, Answer::NoData { .. }) {
                return Some(answer);
            }
            match self.alias_at(&zone.servers, &target).await {
                Some(next) => target = next,
                None => return Some(answer),
            }
        }
        Some(Answer::Failed(format!(
            "the CNAME chain from {} is longer than {MAX_ALIAS_HOPS} steps",
            normalize_name(&name.to_ascii())
        )))
    }

    /// The target of a CNAME at `name`, if the servers have one.
    async fn alias_at(&self, servers: &[Server], name: &Name) -> Option<Name> {
        let answer = self.ask_any(servers, name, WireType::CNAME).await;
        let target = answer.values()?.first()?;
        Name::from_ascii(format!("{target}.")).ok()
    }

    /// Whether a name that is surely not published (a random label beside `name`) gets
    /// the same `values`: then they come from a wildcard, not from a record at `name`.
    async fn wildcard_gives(
        &self,
        zone: &Zone,
        name: &Name,
        kind: WireType,
        values: &[String],
    ) -> bool {
        let Some(probe) = random_sibling(name) else {
            return false;
        };
        let answer = self.ask_any(&zone.servers, &probe, kind).await;
        answer
            .values()
            .is_some_and(|probed| same_set(probed, values))
    }

    /// The record is not where it should be: look where operators' mistakes put it.
    async fn look_around(&self, zone: &Zone, name: &Name, kind: WireType, evidence: &mut Evidence) {
        let appended = name.clone().append_domain(&zone.apex).ok();
        let is_cname = kind == WireType::CNAME;
        let check_undelegated =
            evidence.delegation.is_some() && !zone.undelegated_servers.is_empty();
        let (at_appended, v4, v6, at_undelegated) = tokio::join!(
            async {
                match &appended {
                    Some(appended) => self.ask_any(&zone.servers, appended, kind).await,
                    None => Answer::Failed(String::new()),
                }
            },
            async {
                if is_cname {
                    self.ask_any(&zone.servers, name, WireType::A).await
                } else {
                    Answer::Failed(String::new())
                }
            },
            async {
                if is_cname {
                    self.ask_any(&zone.servers, name, WireType::AAAA).await
                } else {
                    Answer::Failed(String::new())
                }
            },
            async {
                if check_undelegated {
                    self.ask_any(&zone.undelegated_servers, name, kind).await
                } else {
                    Answer::Failed(String::new())
                }
            },
        );
        if let (Some(appended), Some(values)) = (&appended, at_appended.values())
            && !self.wildcard_gives(zone, appended, kind, values).await
        {
            evidence.zone_appended = Some(normalize_name(&appended.to_ascii()));
        }
        for answer in [v4, v6] {
            evidence
                .addresses
                .extend_from_slice(answer.values().unwrap_or_default());
        }
        // Addresses a wildcard gives every name say nothing about a proxy.
        if !evidence.addresses.is_empty()
            && self
                .wildcard_gives(zone, name, WireType::A, &evidence.addresses)
                .await
        {
            evidence.addresses.clear();
        }
        if let Some(delegation) = evidence.delegation.as_mut() {
            delegation.found_at_undelegated = at_undelegated.values().is_some();
        }
    }

    /// Asks every server side by side; their answers in the servers' order.
    async fn ask_all(&self, servers: &[Server], name: &Name, kind: WireType) -> Vec<ServerAnswer> {
        if servers.is_empty() {
            return vec![ServerAnswer {
                server: String::new(),
                answer: Answer::Failed("no nameserver address found".into()),
            }];
        }
        futures::future::join_all(servers.iter().map(|server| async move {
            ServerAnswer {
                server: server.name.clone(),
                answer: self.ask(server.address, name, kind).await,
            }
        }))
        .await
    }

    /// The first server's answer; when it gives none, the first answer of the others,
    /// asked side by side.
    async fn ask_any(&self, servers: &[Server], name: &Name, kind: WireType) -> Answer {
        let Some((first, rest)) = servers.split_first() else {
            return Answer::Failed("no nameserver address found".into());
        };
        let answer = self.ask(first.address, name, kind).await;
        if answer.answered() || rest.is_empty() {
            return answer;
        }
        primary(self.ask_all(rest, name, kind).await).0.answer
    }

    /// One question to one of a zone's nameservers, which must answer with authority.
    async fn ask(&self, server: SocketAddr, name: &Name, kind: WireType) -> Answer {
        match self.asker.server(server, name, kind).await {
            Ok(message) => Answer::from_message(&message, kind, true),
            Err(reason) => Answer::Failed(reason),
        }
    }
}

/// The answer to judge by (the first server's that answered, else the first failure) and
/// the other servers' answers.
fn primary(mut answers: Vec<ServerAnswer>) -> (ServerAnswer, Vec<ServerAnswer>) {
    if answers.is_empty() {
        let none = ServerAnswer {
            server: String::new(),
            answer: Answer::Failed("no nameserver address found".into()),
        };
        return (none, answers);
    }
    let at = answers
        .iter()
        .position(|a| a.answer.answered())
        .unwrap_or(0);
    let first = answers.remove(at);
    answers.retain(|a| a.answer.answered());
    (first, answers)
}

/// Whether `values` are exactly the record dkimdash asks for (a key it does not know
/// counts when it is there at all).
fn publishes(record: &DnsRecord, values: &[String]) -> bool {
    match (&record.record_type, &record.value) {
        (RecordType::Cname, Some(want)) => values.len() == 1 && values[0] == normalize_name(want),
        (RecordType::Txt, Some(want)) => values.iter().any(|v| v == want),
        (RecordType::Txt, None) => values.iter().any(|v| v.contains("p=")),
        (RecordType::Cname, None) => false,
    }
}

/// A name beside `name` that no one publishes: `_dkimdash-probe-<random>` in place of its
/// first label.
fn random_sibling(name: &Name) -> Option<Name> {
    let label = format!("_dkimdash-probe-{:016x}", rand::random::<u64>());
    Name::from_ascii(label)
        .ok()?
        .append_domain(&name.base_name())
        .ok()
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
