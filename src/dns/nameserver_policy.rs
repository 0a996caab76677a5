//! Pure: which nameserver addresses dkimdash may send a question to. A domain's owner
//! chooses its NS records and their addresses; without this rule they could aim the checker
//! at hosts inside the network it runs in (the VPC resolver at 169.254.169.253, a
//! database on 10.0.0.5) or make it wait on addresses that go nowhere. Only globally
//! reachable unicast addresses are asked, plus ranges the operator allows on purpose (the
//! demo and the tests serve their zones on loopback).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Special-purpose IPv4 ranges that are not globally reachable unicast (RFC 6890 and its
/// updates): "this network", private, shared (CGNAT), loopback, link-local, IETF protocol
/// assignments, documentation, benchmarking, multicast, reserved and broadcast.
const NON_PUBLIC_V4: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// The same for IPv6: unspecified, loopback, discard-only, documentation (both blocks),
/// unique local, link-local, site-local (deprecated, still routed internally) and multicast.
/// Addresses that embed an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
const NON_PUBLIC_V6: [(Ipv6Addr, u8); 9] = [
    (Ipv6Addr::UNSPECIFIED, 128),
    (Ipv6Addr::LOCALHOST, 128),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

/// Which nameserver addresses may be asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameserverPolicy {
    /// Ranges asked even though they are not public (`--dns-allow-nameservers`).
    allowed: Vec<IpNet>,
}

impl NameserverPolicy {
    /// Public addresses, plus `allowed`.
    pub fn allowing(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Whether a question may be sent to `address`.
    pub fn permits(&self, address: IpAddr) -> bool {
        is_public(address) || self.allowed.iter().any(|net| net.contains(&address))
    }
}

/// Whether `address` is a globally reachable unicast address.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => !NON_PUBLIC_V6.iter().any(|(network, prefix)| {
                Ipv6Net::new(*network, *prefix).is_ok_and(|net| net.contains(&v6))
            }),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4.iter().any(|(network, prefix)| {
        Ipv4Net::new(*network, *prefix).is_ok_and(|net| net.contains(&address))
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or
/// 6to4 (`2002:AABB:CCDD::`) address: each reaches that IPv4 host.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let octets = address.octets();
    if let Some(v4) = address.to_ipv4_mapped() {
        return Some(v4);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if segments[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn non_public_ranges_are_refused() {
        for address in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.5",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.253",
            "169.254.169.254",
            "127.0.0.1",
            "127.53.0.9",
            "192.0.0.8",
            "192.0.2.53",
            "198.51.100.7",
            "203.0.113.5",
            "198.18.0.1",
            "224.0.0.251",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::53",
            "fe80::1",
            "fec0::1",
            "ff02::fb",
            "2001:db8::53",
            "3fff::1",
            "100::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fd",
            "2002:c0a8:0101::1",
        ] {
            assert!(!is_public(ip(address)), "{address} is not public");
        }
    }

    #[test]
    fn public_addresses_are_asked() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "205.251.192.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.0.3.1",
            "2600:9000:5300::1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(address)), "{address} is public");
        }
    }

    #[test]
    fn allowed_ranges_are_asked_and_nothing_else_is() {
        let policy = NameserverPolicy::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(policy.permits(ip("127.0.0.2")));
        assert!(policy.permits(ip("8.8.8.8")));
        assert!(!policy.permits(ip("10.0.0.1")));
        assert!(!policy.permits(ip("::1")), "IPv6 loopback is another range");
        assert!(!NameserverPolicy::default().permits(ip("127.0.0.1")));
    }
}
