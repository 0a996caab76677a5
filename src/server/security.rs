//! The browser-facing hardening settings: which other origins may post, HSTS, the per-user
//! change limit, and the Content-Security-Policy every page and answer carries.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc};

use clap::Args;

use crate::auth::{csrf::AllowedOrigins, host::HostPolicy, write_limit::WriteLimit};

/// Flags for what browsers may do with the dashboard.
#[derive(Debug, Clone, Args)]
pub struct SecurityOptions {
    /// An origin (`https://dkim.example.com`) whose pages may post to dkimdash besides its
    /// own `Host`: the public URL when the proxy rewrites `Host` (repeatable).
    #[arg(
        long = "allowed-origin",
        env = "DKIMDASH_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// A `Host` (`dkim.example.com`, or with `:port`) dkimdash answers to; any other gets
    /// 421 (DNS rebinding). Repeatable. With `--auth none` the listener's loopback names
    /// are always answered and nothing else unless listed here.
    #[arg(
        long = "allowed-host",
        env = "DKIMDASH_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Send `Strict-Transport-Security: max-age=N; includeSubDomains` (only when users
    /// reach dkimdash over HTTPS).
    #[arg(long, env = "DKIMDASH_HSTS_MAX_AGE_SECS")]
    pub hsts_max_age_secs: Option<u64>,

    /// Change requests a minute per user, refused ones included (more get 429).
    #[arg(long, env = "DKIMDASH_WRITES_PER_MINUTE", default_value_t = WriteLimit::DEFAULT_PER_MINUTE)]
    pub writes_per_minute: NonZeroU32,

    /// Change requests per user allowed in a quick burst.
    #[arg(long, env = "DKIMDASH_WRITE_BURST", default_value_t = WriteLimit::DEFAULT_BURST)]
    pub write_burst: NonZeroU32,
}

/// The settings as the server uses them.
#[derive(Debug, Default)]
pub struct Security {
    /// Origins allowed to post besides the request's own host.
    pub allowed_origins: Arc<AllowedOrigins>,
    /// `Strict-Transport-Security` max-age, when configured.
    pub hsts_max_age_secs: Option<u64>,
    /// The per-user change limit.
    pub write_limit: WriteLimit,
    /// Which `Host` values are answered.
    pub hosts: Arc<HostPolicy>,
}

impl SecurityOptions {
    /// The settings these flags describe, for a dashboard listening on `listen`;
    /// `loopback_only` (`--auth none`) answers the listener's loopback names besides
    /// `--allowed-host`.
    pub fn security(&self, listen: SocketAddr, loopback_only: bool) -> Security {
        Security {
            allowed_origins: Arc::new(AllowedOrigins(self.allowed_origins.clone())),
            hsts_max_age_secs: self.hsts_max_age_secs,
            write_limit: WriteLimit::new(self.writes_per_minute, self.write_burst),
            hosts: Arc::new(HostPolicy::new(
                &self.allowed_hosts,
                loopback_only.then_some(listen.port()),
            )),
        }
    }
}

/// The policy of an HTML page: scripts only with this response's nonce (and what they
/// load: the WebAssembly bundle), no inline styles, no framing, forms post only here.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Puts the page policy, with this response's script nonce, on the page being rendered.
/// Called from the HTML shell, so every page (404s too) has it.
pub fn set_page_policy() {
    use axum::http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
    use leptos::prelude::use_context;

    let nonce = leptos::nonce::use_nonce();
    let response = use_context::<leptos_axum::ResponseOptions>();
    if let (Some(nonce), Some(response)) = (nonce, response)
        && let Ok(policy) = HeaderValue::from_str(&page_policy(&nonce))
    {
        response.insert_header(CONTENT_SECURITY_POLICY, policy);
    }
}

/// The policy of everything else (server function answers, downloads, static files).
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_the_nonce_and_never_inline() {
        let policy = page_policy("abc123");
        assert!(policy.contains("script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
