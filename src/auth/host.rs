//! DNS rebinding: a web page whose name an attacker re-points at 127.0.0.1 reaches a
//! dashboard on loopback as "same origin". The browser still sends the attacker's name as
//! `Host`, so only `Host` values naming this dashboard are answered: the loopback names
//! of the listener in `--auth none`, and the `--allowed-host` list in every mode.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Which `Host` values are answered.
#[derive(Clone, Debug, Default)]
pub struct HostPolicy {
    /// Exact `host` or `host:port` values (lower-case); an entry without a port matches
    /// that host on any port.
    allowed: Vec<String>,
    /// Set in `--auth none`: `localhost`, `127.0.0.1` and `[::1]` on this port.
    loopback_port: Option<u16>,
    /// Any IP address as `Host`: a page re-pointed by DNS rebinding always sends a name.
    addresses: bool,
}

impl HostPolicy {
    /// `allowed` hosts, plus the loopback names on `loopback_port` when given. With
    /// neither, every `Host` is answered (a proxy in front decides).
    pub fn new(allowed: &[String], loopback_port: Option<u16>) -> Self {
        Self {
            allowed: allowed
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            loopback_port,
            addresses: false,
        }
    }

    /// The same policy, also answering a `Host` that is an IP address: for the metrics
    /// listener, which scrapers (Prometheus in Kubernetes) ask by the pod's address.
    pub fn answering_addresses(self) -> Self {
        Self {
            addresses: true,
            ..self
        }
    }

    /// Whether a request with `host` (the header's value; `None` without one) is answered.
    /// A request without `Host` is not from a browser, which always sends one.
    pub fn allows(&self, host: Option<&str>) -> bool {
        if self.allowed.is_empty() && self.loopback_port.is_none() {
            return true;
        }
        let Some(host) = host else {
            return true;
        };
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host);
        let loopback = self.loopback_port.is_some_and(|port| {
            ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .any(|name| host == format!("{name}:{port}"))
        });
        let has_port = |entry: &str| host_name(entry) != entry;
        let address = self.addresses
            && name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok();
        loopback
            || address
            || self
                .allowed
                .iter()
                .any(|entry| *entry == host || (!has_port(entry) && entry == name))
    }
}

/// `example.com:8443` → `example.com`; `[::1]:3000` → `[::1]`.
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(at) if !host[at..].contains(']') => &host[..at],
        _ => host,
    }
}

/// Middleware: 421 Misdirected Request for a `Host` the policy does not allow. The
/// probes answer whatever the `Host` (orchestrators call them by address).
pub async fn guard(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let probe = path == "/livez" || path == "/readyz";
    let host = request
        .headers()
        .get(header::HOST)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"));
    if probe || policy.allows(host) {
        return next.run(request).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        "This Host is not one dkimdash answers to: open it by an address it listens on, or add the name with --allowed-host.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_listener_also_answers_by_address_never_by_another_name() {
        let hosts = ["dkim.example.com".to_owned()];
        let policy = HostPolicy::new(&hosts, None).answering_addresses();
        for host in [
            "10.1.2.3:9100",
            "[fd00::7]:9100",
            "10.1.2.3",
            "dkim.example.com",
        ] {
            assert!(policy.allows(Some(host)), "{host}");
        }
        for host in [
            "attacker.example:9100",
            "10.1.2.3.nip.io:9100",
            "[fd00::7].x:9100",
        ] {
            assert!(!policy.allows(Some(host)), "{host}");
        }
        let dashboard = HostPolicy::new(&hosts, None);
        assert!(
            !dashboard.allows(Some("10.1.2.3:3000")),
            "the dashboard's port is unchanged"
        );
    }

    #[test]
    fn auth_none_answers_only_its_loopback_names_on_its_port() {
        let policy = HostPolicy::new(&[], Some(3000));
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "LOCALHOST:3000",
        ] {
            assert!(policy.allows(Some(host)), "{host}");
        }
        for host in [
            "attacker.example:3000",
            "127.0.0.1:3001",
            "localhost",
            "127.0.0.1.nip.io:3000",
        ] {
            assert!(!policy.allows(Some(host)), "{host}");
        }
        assert!(policy.allows(None), "no Host: not a browser");
    }

    #[test]
    fn allowed_hosts_match_with_or_without_their_port() {
        let policy = HostPolicy::new(
            &["dkim.example.com".into(), "ops.example.com:8443".into()],
            None,
        );
        assert!(policy.allows(Some("dkim.example.com")));
        assert!(policy.allows(Some("DKIM.example.com:443")));
        assert!(policy.allows(Some("ops.example.com:8443")));
        assert!(!policy.allows(Some("ops.example.com:9000")));
        assert!(!policy.allows(Some("evil.example.com")));
        assert!(
            !policy.allows(Some("127.0.0.1:3000")),
            "loopback only in --auth none"
        );
    }

    #[test]
    fn without_a_list_outside_auth_none_every_host_is_answered() {
        assert!(HostPolicy::new(&[], None).allows(Some("anything.example")));
    }
}
