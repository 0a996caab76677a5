//! Who may read `/metrics` and what it includes: on the dashboard's own address (behind the
//! SSO proxy, so any signed-in user), with a bearer token (for Prometheus, which cannot sign
//! in), or on a separate listen address of its own.

use std::net::SocketAddr;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Flags for `/metrics`. Its `Debug` leaves the token out.
#[derive(Clone, Args)]
pub struct MetricsOptions {
    /// Serve `/metrics` on this address instead of the dashboard's (e.g. an internal
    /// interface Prometheus reaches). Nothing else is served there.
    #[arg(long, env = "DKIMDASH_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// A bearer token `/metrics` requires (`Authorization: Bearer TOKEN`); with it, the
    /// token alone lets a scraper in, without signing in. At least 16 characters.
    #[arg(long, env = "DKIMDASH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Also export one series per identity (`dkimdash_identity_dkim_status`): one per
    /// identity and status, so mind the cardinality with thousands of identities.
    #[arg(long, env = "DKIMDASH_METRICS_PER_IDENTITY")]
    pub metrics_per_identity: bool,
}

impl std::fmt::Debug for MetricsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsOptions")
            .field("metrics_listen", &self.metrics_listen)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "…"))
            .field("metrics_per_identity", &self.metrics_per_identity)
            .finish()
    }
}

/// Shortest token accepted: guessing must be hopeless.
const MIN_TOKEN_CHARS: usize = 16;

impl MetricsOptions {
    /// The settings these flags describe.
    pub fn access(&self) -> Result<MetricsAccess, String> {
        let token = match &self.metrics_token {
            Some(token) if token.trim().chars().count() < MIN_TOKEN_CHARS => {
                return Err(format!(
                    "--metrics-token must be at least {MIN_TOKEN_CHARS} characters"
                ));
            }
            Some(token) => Some(SecretString::from(token.trim().to_owned())),
            None => None,
        };
        Ok(MetricsAccess {
            token,
            separate_listener: self.metrics_listen.is_some(),
            per_identity: self.metrics_per_identity,
        })
    }
}

/// Who may read `/metrics`, as the server uses it.
#[derive(Debug, Default)]
pub struct MetricsAccess {
    /// Required as a bearer token, when set.
    pub token: Option<SecretString>,
    /// Served on its own listener rather than the dashboard's.
    pub separate_listener: bool,
    /// One series per identity too.
    pub per_identity: bool,
}

impl MetricsAccess {
    /// Whether an `Authorization` header value carries the token (compared in constant
    /// time). Always true without a token.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let Some(given) = authorization.and_then(|value| value.strip_prefix("Bearer ")) else {
            return false;
        };
        given
            .trim()
            .as_bytes()
            .ct_eq(token.expose_secret().as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(token: Option<&str>) -> Result<MetricsAccess, String> {
        MetricsOptions {
            metrics_listen: None,
            metrics_token: token.map(str::to_owned),
            metrics_per_identity: false,
        }
        .access()
    }

    #[test]
    fn the_token_is_checked_exactly() {
        let open = access(None).unwrap();
        assert!(open.admits(None));
        let guarded = access(Some("0123456789abcdef")).unwrap();
        assert!(guarded.admits(Some("Bearer 0123456789abcdef")));
        assert!(!guarded.admits(None));
        assert!(!guarded.admits(Some("Bearer 0123456789abcdeX")));
        assert!(!guarded.admits(Some("Bearer 0123456789abcde")));
        assert!(!guarded.admits(Some("Basic 0123456789abcdef")));
        assert!(access(Some("short")).is_err());
        assert!(!format!("{guarded:?}").contains("0123456789abcdef"));
        let options = MetricsOptions {
            metrics_listen: None,
            metrics_token: Some("0123456789abcdef".to_owned()),
            metrics_per_identity: false,
        };
        assert!(!format!("{options:?}").contains("0123456789abcdef"));
    }
}
