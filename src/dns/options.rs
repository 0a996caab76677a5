//! The DNS checker's flags (each with an environment twin).

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::Args;
use ipnet::IpNet;

use super::checker::CheckerSettings;

/// How records are looked up.
#[derive(Debug, Clone, Args)]
pub struct DnsOptions {
    /// The recursive resolver to ask (`IP` or `IP:PORT`) [default: the system's, from
    /// /etc/resolv.conf; in the demo, the demo's own DNS server].
    #[arg(long, env = "DKIMDASH_DNS_RESOLVER", value_parser = parse_resolver)]
    pub dns_resolver: Option<SocketAddr>,

    /// Longest wait for one DNS answer, in milliseconds.
    #[arg(long, env = "DKIMDASH_DNS_TIMEOUT_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub dns_timeout_ms: u64,

    /// Most DNS queries per second to any one of the domains' nameservers (a polite rate
    /// for someone else's servers).
    #[arg(long, env = "DKIMDASH_DNS_QUERIES_PER_SECOND", default_value = "20")]
    pub dns_queries_per_second: NonZeroU32,

    /// Most DNS queries per second to the recursive resolver (your own: a VPC resolver or a
    /// local unbound takes far more than a domain's nameserver).
    #[arg(
        long,
        env = "DKIMDASH_DNS_RESOLVER_QUERIES_PER_SECOND",
        default_value = "200"
    )]
    pub dns_resolver_queries_per_second: NonZeroU32,

    /// Non-public address ranges whose nameservers may be asked anyway (comma-separated
    /// CIDRs, e.g. `127.0.0.0/8` for DNS servers on loopback). Without it a delegation to a
    /// loopback, private, link-local, shared or documentation address is refused: a
    /// domain's owner must not be able to aim dkimdash's questions inside your network.
    #[arg(long, env = "DKIMDASH_DNS_ALLOW_NAMESERVERS", value_delimiter = ',')]
    pub dns_allow_nameservers: Vec<IpNet>,

    /// Most identities checked at the same time.
    #[arg(long, env = "DKIMDASH_DNS_CONCURRENCY", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub dns_concurrency: u16,

    /// Port the zones' own nameservers are asked on (53; another only for test servers).
    #[arg(
        long,
        env = "DKIMDASH_DNS_NAMESERVER_PORT",
        default_value_t = 53,
        hide = true
    )]
    pub dns_nameserver_port: u16,

    /// Turn the DNS checks off (for a host that cannot reach DNS).
    #[arg(long, env = "DKIMDASH_NO_DNS_CHECKS")]
    pub no_dns_checks: bool,
}

impl DnsOptions {
    /// The checker's settings.
    pub fn settings(&self) -> CheckerSettings {
        CheckerSettings {
            resolver: self.dns_resolver,
            timeout: Duration::from_millis(self.dns_timeout_ms),
            resolver_rate: self.dns_resolver_queries_per_second,
            per_server_rate: self.dns_queries_per_second,
            concurrency: usize::from(self.dns_concurrency),
            nameserver_port: self.dns_nameserver_port,
            allowed_nameservers: self.dns_allow_nameservers.clone(),
        }
    }
}

/// `192.0.2.53` (port 53) or `192.0.2.53:5353` / `[2001:db8::53]:53`.
fn parse_resolver(value: &str) -> Result<SocketAddr, String> {
    value
        .parse::<SocketAddr>()
        .or_else(|_| {
            value
                .parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| format!("{value:?} is not an IP address or IP:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_takes_an_ip_with_or_without_port() {
        assert_eq!(parse_resolver("192.0.2.1").unwrap().port(), 53);
        assert_eq!(parse_resolver("192.0.2.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_resolver("[::1]:53").unwrap().ip().to_string(), "::1");
        assert!(
            parse_resolver("dns.example")
                .unwrap_err()
                .contains("dns.example")
        );
    }
}
