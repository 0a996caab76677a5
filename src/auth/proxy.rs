//! `--auth trusted-header`: the user, email and groups an SSO proxy (oauth2-proxy,
//! Pomerium, …) puts in request headers, believed only when the TCP peer is one of the
//! `--trusted-proxy` networks. `X-Forwarded-For` is never consulted: anyone can send it.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

use super::{Claims, Denied, headers};

/// The proxy's addresses and header names.
#[derive(Clone, Debug)]
pub struct TrustedHeader {
    /// Networks the proxy connects from.
    pub proxies: Vec<IpNet>,
    /// The user name header (oauth2-proxy: `X-Forwarded-User`).
    pub user: HeaderName,
    /// The email header (`X-Forwarded-Email`).
    pub email: HeaderName,
    /// The groups header (`X-Forwarded-Groups`), comma-separated.
    pub groups: HeaderName,
}

impl TrustedHeader {
    /// Who the proxy says sent the request, if `peer` is the proxy.
    pub fn identify(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Result<Claims, Denied> {
        let peer = peer.ok_or(Denied::UntrustedPeer)?;
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = peer.ip().to_canonical();
        if !self.proxies.iter().any(|net| net.contains(&ip)) {
            return Err(Denied::UntrustedPeer);
        }
        // One value each, or nothing is believed: the proxy must replace (or strip) these
        // headers when a client sends them, not append its own beside them.
        for name in self.header_names() {
            if headers.get_all(&name).iter().nth(1).is_some() {
                return Err(Denied::RepeatedHeader(name));
            }
        }
        let name = headers::single_value(headers, &self.user)
            .ok_or_else(|| Denied::MissingUser(self.user.clone()))?;
        Ok(Claims {
            name,
            email: headers::single_value(headers, &self.email),
            groups: headers::groups(headers, &self.groups),
        })
    }

    /// The headers it reads.
    pub fn header_names(&self) -> Vec<HeaderName> {
        vec![self.user.clone(), self.email.clone(), self.groups.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxy() -> TrustedHeader {
        TrustedHeader {
            proxies: vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            user: HeaderName::from_static("x-forwarded-user"),
            email: HeaderName::from_static("x-forwarded-email"),
            groups: HeaderName::from_static("x-forwarded-groups"),
        }
    }

    fn signed_in() -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-forwarded-user", HeaderValue::from_static("alice"));
        map.insert(
            "x-forwarded-email",
            HeaderValue::from_static("alice@example.com"),
        );
        map.insert("x-forwarded-groups", HeaderValue::from_static("ops, staff"));
        map
    }

    #[test]
    fn only_the_proxy_is_believed() {
        let at = |ip: &str| Some(SocketAddr::new(ip.parse().unwrap(), 40000));
        let claims = proxy().identify(at("10.1.2.3"), &signed_in()).unwrap();
        assert_eq!(claims.name, "alice");
        assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
        assert_eq!(claims.groups, ["ops", "staff"]);
        assert!(
            proxy()
                .identify(at("::ffff:10.9.9.9"), &signed_in())
                .is_ok()
        );
        assert!(proxy().identify(at("::1"), &signed_in()).is_ok());
        assert_eq!(
            proxy().identify(at("192.168.1.5"), &signed_in()),
            Err(Denied::UntrustedPeer)
        );
        assert_eq!(
            proxy().identify(None, &signed_in()),
            Err(Denied::UntrustedPeer)
        );
    }

    #[test]
    fn x_forwarded_for_does_not_make_a_peer_trusted() {
        let mut headers = signed_in();
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        let outside = Some("203.0.113.7:5000".parse().unwrap());
        assert_eq!(
            proxy().identify(outside, &headers),
            Err(Denied::UntrustedPeer)
        );
    }

    #[test]
    fn a_repeated_identity_header_is_refused_not_merged() {
        let inside = Some("10.0.0.1:5000".parse().unwrap());
        for name in [
            "x-forwarded-groups",
            "x-forwarded-email",
            "x-forwarded-user",
        ] {
            let mut headers = signed_in();
            // What a proxy that appends would pass on: the client's header beside its own.
            headers.append(name, HeaderValue::from_static("dkim-operators"));
            assert_eq!(
                proxy().identify(inside, &headers),
                Err(Denied::RepeatedHeader(HeaderName::from_static(name))),
                "{name}"
            );
        }
    }

    #[test]
    fn the_proxy_must_name_the_user() {
        let mut headers = signed_in();
        headers.remove("x-forwarded-user");
        let inside = Some("10.0.0.1:5000".parse().unwrap());
        assert_eq!(
            proxy().identify(inside, &headers),
            Err(Denied::MissingUser(HeaderName::from_static(
                "x-forwarded-user"
            )))
        );
    }
}
