//! Command-line and environment configuration. Every flag has an environment twin so
//! the same binary runs from a shell, a systemd unit or a container.

use std::{net::SocketAddr, time::Duration};

use clap::{Parser, ValueEnum};

/// dkimdash: DKIM status and management for Amazon SES identities.
#[derive(Debug, Clone, Parser)]
#[command(name = "dkimdash", version, about)]
pub struct Config {
    /// Address to serve the dashboard on [default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000].
    #[arg(long, env = "DKIMDASH_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Log line format: `human` for a terminal, `json` for a log pipeline.
    #[arg(long, env = "DKIMDASH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Longest a request may take, in seconds, before the server gives up with 503.
    #[arg(long, env = "DKIMDASH_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "DKIMDASH_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line.
    Json,
}

/// Bounds on what one HTTP request may cost the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// After this the server answers 503 instead of waiting on.
    pub request_timeout: Duration,
    /// Bodies larger than this are refused with 413 before they are read.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 64 * 1024,
        }
    }
}

impl Config {
    /// The address to bind: `--listen` wins over Leptos' own `LEPTOS_SITE_ADDR`.
    pub fn listen_addr(&self, leptos_site_addr: SocketAddr) -> SocketAddr {
        self.listen.unwrap_or(leptos_site_addr)
    }

    /// The per-request limits the middleware enforces.
    pub fn http_limits(&self) -> HttpLimits {
        HttpLimits {
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_body_bytes: self.max_body_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("dkimdash").chain(args.iter().copied()))
    }

    #[test]
    fn listen_flag_wins_over_leptos_site_addr() {
        let leptos: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let config = parse(&["--listen", "127.0.0.1:8080"]).unwrap();
        assert_eq!(config.listen_addr(leptos).to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn leptos_site_addr_is_the_fallback() {
        let leptos: SocketAddr = "127.0.0.1:3999".parse().unwrap();
        let config = parse(&[]).unwrap();
        assert_eq!(config.listen_addr(leptos), leptos);
    }

    #[test]
    fn rejects_a_listen_address_without_port() {
        let error = parse(&["--listen", "127.0.0.1"]).unwrap_err();
        assert!(error.to_string().contains("--listen"), "{error}");
    }

    #[test]
    fn rejects_a_zero_timeout() {
        assert!(parse(&["--request-timeout-secs", "0"]).is_err());
    }

    #[test]
    fn log_format_parses_json() {
        let config = parse(&["--log-format", "json"]).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
    }
}
