//! Every question the DNS checker sends goes through here, under its limits: the recursive
//! resolver has its own rate (it is the operator's, sized for a whole network), each other
//! nameserver a polite per-address rate; a nameserver must be allowed by the
//! [`NameserverPolicy`]; and one that stopped answering is left alone for a while, so a
//! dead or hostile domain's servers cost one timeout, not one per question.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use hickory_proto::{
    ProtoErrorKind,
    op::{Message, ResponseCode},
    rr::{Name, RecordType},
};
use hickory_resolver::{
    ResolveErrorKind, TokioResolver,
    config::{NameServerConfigGroup, ResolverConfig, ResolverOpts},
    name_server::TokioConnectionProvider,
};

use super::answer::Answer;
use super::lanes::Lanes;
use super::nameserver_policy::NameserverPolicy;
use super::wire::{self, WireError};
use crate::unpoisoned::lock;

/// A negative answer without a TTL is remembered this long.
const DEFAULT_NEGATIVE_TTL: u32 = 60;
/// Timeouts in a row after which a nameserver is left alone for [`RESTING`].
const STRIKES: u32 = 2;
/// How long a nameserver that stopped answering is not asked.
const RESTING: Duration = Duration::from_secs(60);
/// Above this many remembered servers, the ones done resting are forgotten.
const MAX_REMEMBERED: usize = 10_000;

/// How the asker reaches DNS.
#[derive(Clone, Debug)]
pub struct AskerSettings {
    /// The recursive resolver; `None`: the system's (`/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// Most questions per second to the recursive resolver.
    pub resolver_rate: NonZeroU32,
    /// Most questions per second to any one other nameserver.
    pub per_server_rate: NonZeroU32,
    /// Which nameserver addresses may be asked.
    pub policy: NameserverPolicy,
}

/// See the module documentation.
pub struct Asker {
    resolver: TokioResolver,
    resolver_limit: DefaultDirectRateLimiter,
    server_limit: DefaultKeyedRateLimiter<IpAddr>,
    policy: NameserverPolicy,
    timeout: Duration,
    /// Nameservers that timed out, by address.
    silent: Mutex<HashMap<IpAddr, Silence>>,
    /// "Check DNS now" ahead of the background pass under both limits.
    lanes: Lanes,
}

/// Timeouts of one nameserver since it last answered.
#[derive(Clone, Copy)]
struct Silence {
    strikes: u32,
    last: Instant,
}

impl Asker {
    /// An asker with `settings`; fails only when the system resolver configuration cannot
    /// be read.
    pub fn new(settings: AskerSettings) -> Result<Self, String> {
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
        if config.name_servers().is_empty() {
            return Err("no recursive resolver is configured".into());
        }
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
            resolver,
            resolver_limit: RateLimiter::direct(
                Quota::per_second(settings.resolver_rate).allow_burst(NonZeroU32::MIN),
            ),
            server_limit: RateLimiter::keyed(
                Quota::per_second(settings.per_server_rate).allow_burst(NonZeroU32::MIN),
            ),
            policy: settings.policy,
            timeout: settings.timeout,
            silent: Mutex::default(),
            lanes: Lanes::default(),
        })
    }

    /// Which nameserver addresses may be asked.
    pub fn policy(&self) -> &NameserverPolicy {
        &self.policy
    }

    /// Asks the recursive resolver for `kind` at `name`. Records along a CNAME chain count
    /// (what a verifier reads) unless `own_only`, which keeps records owned by `name`.
    pub async fn resolver(&self, name: &Name, kind: RecordType, own_only: bool) -> Answer {
        self.lanes
            .take(|| {
                self.resolver_limit
                    .check()
                    .map_err(|later| later.wait_time_from(clock_now()))
            })
            .await;
        match self.resolver.lookup(name.clone(), kind).await {
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
                        let ttl = negative_ttl.unwrap_or(DEFAULT_NEGATIVE_TTL);
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

    /// One question to one nameserver (not the resolver): refused for an address the
    /// policy does not allow, answered at once for one resting after timeouts, else asked
    /// within its rate limit.
    pub async fn server(
        &self,
        server: SocketAddr,
        name: &Name,
        kind: RecordType,
    ) -> Result<Message, String> {
        let ip = server.ip();
        if !self.policy.permits(ip) {
            return Err("a non-public address, not asked".into());
        }
        if self.resting(ip) {
            return Err("timeout (the server stopped answering; asked again later)".into());
        }
        self.lanes
            .take(|| {
                self.server_limit
                    .check_key(&ip)
                    .map_err(|later| later.wait_time_from(clock_now()))
            })
            .await;
        match wire::ask(server, name, kind, false, self.timeout).await {
            Ok(message) => {
                lock(&self.silent).remove(&ip);
                Ok(message)
            }
            Err(WireError::Timeout) => {
                self.strike(ip);
                Err(WireError::Timeout.to_string())
            }
            Err(error) => Err(error.to_string()),
        }
    }

    fn resting(&self, ip: IpAddr) -> bool {
        lock(&self.silent)
            .get(&ip)
            .is_some_and(|s| s.strikes >= STRIKES && s.last.elapsed() < RESTING)
    }

    fn strike(&self, ip: IpAddr) {
        let mut silent = lock(&self.silent);
        if silent.len() >= MAX_REMEMBERED {
            silent.retain(|_, s| s.last.elapsed() < RESTING);
        }
        let now = Instant::now();
        let silence = silent.entry(ip).or_insert(Silence {
            strikes: 0,
            last: now,
        });
        // A server that rested is given a fresh start.
        if silence.last.elapsed() >= RESTING {
            silence.strikes = 0;
        }
        silence.strikes += 1;
        silence.last = now;
    }
}

/// Now on the rate limits' clock.
fn clock_now() -> governor::clock::QuantaInstant {
    governor::clock::Clock::now(&governor::clock::DefaultClock::default())
}
