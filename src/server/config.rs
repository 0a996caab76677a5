//! Command-line and environment configuration. Every flag has an environment twin so
//! the same binary runs from a shell, a systemd unit or a container.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

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

    /// Longest wait, in seconds, for a request's headers (and for the next request on an
    /// idle keep-alive connection) before the connection is closed.
    #[arg(long, env = "DKIMDASH_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout_secs: u64,

    /// Most connections open at once; more wait to be accepted.
    #[arg(long, env = "DKIMDASH_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// The audit log (SQLite; created with its directory if missing). Every change is
    /// recorded there before SES is asked.
    #[arg(long, env = "DKIMDASH_AUDIT_DB", default_value = "data/audit.sqlite3")]
    pub audit_db: PathBuf,

    /// How many days of identity history (every change seen between sweeps) to keep, in
    /// the audit log's database. Older changes are forgotten once a day.
    #[arg(long, env = "DKIMDASH_HISTORY_DAYS", default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..))]
    pub history_days: u32,

    /// Who may read `/metrics`, and what it includes.
    #[command(flatten)]
    pub metrics: crate::monitoring::MetricsOptions,

    /// Alert rules and where alerts are sent.
    #[command(flatten)]
    pub alerts: AlertOptions,

    /// Where identities come from and how often they are read.
    #[command(flatten)]
    pub ses: SesOptions,

    /// How DKIM records are checked in DNS.
    #[command(flatten)]
    pub dns: crate::dns::options::DnsOptions,

    /// Where DKIM records may be published.
    #[command(flatten)]
    pub publish: PublishOptions,

    /// Who is asking and what they may do.
    #[command(flatten)]
    pub auth: crate::auth::options::AuthOptions,

    /// What browsers may do with the dashboard.
    #[command(flatten)]
    pub security: super::security::SecurityOptions,

    /// Run something other than the dashboard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where DKIM records may be published.
#[derive(Debug, Clone, Args)]
pub struct PublishOptions {
    /// A TOML file of `[[dns_provider]]` tables (Route 53 or Cloudflare accounts) that
    /// operators may publish DKIM records to. Without it: no publish button.
    #[arg(long, env = "DKIMDASH_DNS_PROVIDERS_FILE")]
    pub dns_providers_file: Option<PathBuf>,
}

impl PublishOptions {
    /// The configured accounts, checked (Cloudflare tokens read from the environment).
    pub fn settings(&self) -> Result<Vec<crate::publish::config::ProviderSettings>, String> {
        match &self.dns_providers_file {
            Some(path) => crate::publish::config::read(path, |name| std::env::var(name).ok()),
            None => Ok(Vec::new()),
        }
    }
}

/// Alert rules, receivers, and the address alerts link to.
#[derive(Debug, Clone, Args)]
pub struct AlertOptions {
    /// A TOML file of alert rules (`[rules]`) and receivers (`[[receiver]]`: Alertmanager
    /// webhooks, Slack). Without it: the default rules, shown on the Alerts page, sent nowhere.
    #[arg(long, env = "DKIMDASH_ALERTS_FILE")]
    pub alerts_file: Option<PathBuf>,

    /// The dashboard's address as its users reach it (`https://dkim.example.com`), for the
    /// links in alerts [default: http:// and the listen address].
    #[arg(long, env = "DKIMDASH_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl AlertOptions {
    /// The rules and receivers: the file's, or the defaults.
    pub fn settings(&self) -> Result<crate::alerts::rules::AlertSettings, String> {
        match &self.alerts_file {
            Some(path) => crate::alerts::rules::AlertSettings::load(path),
            None => Ok(Default::default()),
        }
    }

    /// The address alerts link to, without a trailing slash.
    pub fn public_url(&self, listen: SocketAddr) -> Result<String, String> {
        let Some(url) = &self.public_url else {
            return Ok(format!("http://{listen}"));
        };
        match reqwest::Url::parse(url) {
            Ok(parsed)
                if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
            {
                Ok(url.trim_end_matches('/').to_owned())
            }
            _ => Err(format!(
                "--public-url {url:?} is not an http:// or https:// address"
            )),
        }
    }
}

/// Other things the binary can run.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run only the SES simulator (SES API v2 REST/JSON and v1 Query/XML), for other SES
    /// clients or a dashboard started elsewhere. Point clients at it with an endpoint URL.
    Simulator(SimulatorOptions),
    /// Ask a running dkimdash whether it is ready (`/readyz`; `--live`: `/livez`) and exit 0
    /// if it answers 200, else 1: a probe for images without curl. Without `--url` it asks
    /// the address `--listen` / `DKIMDASH_LISTEN` names (a wildcard address on loopback).
    Healthcheck(HealthcheckOptions),
}

/// `dkimdash healthcheck` options.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckOptions {
    /// The dashboard's base URL (default: where --listen says it listens).
    #[arg(long, env = "DKIMDASH_HEALTHCHECK_URL")]
    pub url: Option<String>,
    /// Ask /livez (the process answers) instead of /readyz (SES read, ready to serve).
    #[arg(long)]
    pub live: bool,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout_secs: u64,
}

/// Where identities come from.
#[derive(Debug, Clone, Args)]
pub struct SesOptions {
    /// `auto`: real SES when targets are configured, else the embedded simulator (demo).
    #[arg(long = "ses", env = "DKIMDASH_SES", value_enum, default_value_t = SesMode::Auto)]
    pub mode: SesMode,

    /// An AWS region to read (repeatable, or comma-separated in the environment).
    #[arg(long = "region", env = "DKIMDASH_REGIONS", value_delimiter = ',')]
    pub regions: Vec<String>,

    /// Label for the account the `--region` targets belong to.
    #[arg(long, env = "DKIMDASH_ACCOUNT", default_value = "default")]
    pub account: String,

    /// A TOML file of `[[target]]` tables (account, region, role_arn, external_id, profile,
    /// endpoint_url).
    #[arg(long, env = "DKIMDASH_TARGETS_FILE")]
    pub targets_file: Option<PathBuf>,

    /// SES management calls per second per target (SES allows about one). In demo mode the
    /// embedded simulator allows as many.
    #[arg(long, env = "DKIMDASH_SES_CALLS_PER_SECOND", default_value = "1")]
    pub ses_calls_per_second: NonZeroU32,

    /// Seconds between background sweeps of every target.
    #[arg(long, env = "DKIMDASH_REFRESH_INTERVAL_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub refresh_interval_secs: u64,

    /// Identities per target whose missing details are read after each sweep (0: none),
    /// or `continuous`: all of them, as fast as SES's call budget allows after sweeps and
    /// operators, those that are not SUCCESS first.
    #[arg(long, env = "DKIMDASH_DETAILS_BACKFILL", default_value = "continuous",
          value_parser = parse_details_backfill)]
    pub details_backfill: DetailsBackfill,

    /// Embedded simulator (demo): seconds after which a PENDING change verifies.
    #[arg(long, env = "DKIMDASH_DEMO_VERIFY_AFTER_SECS", default_value_t = 120)]
    pub demo_verify_after_secs: u64,
}

/// Which SES the dashboard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SesMode {
    /// Real SES if targets are configured, else the embedded simulator.
    Auto,
    /// The embedded simulator with demo data.
    Simulator,
    /// Real SES through the standard AWS credential chain.
    Aws,
}

/// `dkimdash simulator` options.
#[derive(Debug, Clone, Args)]
pub struct SimulatorOptions {
    /// Address to serve SES on.
    #[arg(
        long,
        env = "DKIMDASH_SIMULATOR_LISTEN",
        default_value = "127.0.0.1:4566"
    )]
    pub listen: SocketAddr,
    /// Calls per second per region before TooManyRequests (0: no limit).
    #[arg(long, default_value_t = 1)]
    pub calls_per_second: u32,
    /// Seconds after which a PENDING change verifies (0: never by itself).
    #[arg(long, default_value_t = 120)]
    pub verify_after_secs: u64,
    /// Start empty instead of with the demo identities.
    #[arg(long)]
    pub no_seed: bool,
    /// Also serve the DKIM records of the simulator's domains under `.example`, all
    /// published right, on loopback DNS: their nameservers at 127.0.0.1:PORT, a recursive
    /// resolver at 127.0.0.1:PORT+1 (for `--dns-resolver`). Identities created later are
    /// served once their number has held still for a few seconds. For trying the DNS checks
    /// on a fleet of any size (scripts/bench-fleet.py).
    #[arg(long, value_name = "PORT")]
    pub serve_dns: Option<u16>,
    /// Allow a --listen address other than loopback. The simulator has no authentication:
    /// whoever reaches it can read and rewrite every identity through its control API.
    #[arg(long, env = "DKIMDASH_SIMULATOR_ALLOW_REMOTE")]
    pub allow_remote: bool,
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

    /// The limits on connections.
    pub fn connection_limits(&self) -> super::serve::ConnectionLimits {
        super::serve::ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
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
    fn regions_repeat_and_ses_mode_defaults_to_auto() {
        let config = parse(&["--region", "eu-west-1", "--region", "us-east-1"]).unwrap();
        assert_eq!(config.ses.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(config.ses.mode, SesMode::Auto);
        assert!(parse(&["--ses-calls-per-second", "0"]).is_err());
    }

    #[test]
    fn simulator_subcommand() {
        let config = parse(&["simulator", "--listen", "127.0.0.1:9999", "--no-seed"]).unwrap();
        let Some(Command::Simulator(options)) = config.command else {
            panic!("no subcommand")
        };
        assert_eq!(options.listen.port(), 9999);
        assert!(options.no_seed);
    }

    #[test]
    fn public_url_defaults_to_the_listener_and_must_be_http() {
        let listen: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let config = parse(&[]).unwrap();
        assert_eq!(
            config.alerts.public_url(listen).unwrap(),
            "http://127.0.0.1:3000"
        );
        let config = parse(&["--public-url", "https://dkim.example.com/"]).unwrap();
        assert_eq!(
            config.alerts.public_url(listen).unwrap(),
            "https://dkim.example.com"
        );
        let config = parse(&["--public-url", "dkim.example.com"]).unwrap();
        assert!(config.alerts.public_url(listen).is_err());
    }

    #[test]
    fn log_format_parses_json() {
        let config = parse(&["--log-format", "json"]).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
    }
}

/// How the details SES's bulk reads leave out are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailsBackfill {
    /// All of them, continuously, in the background lane of the call budget.
    Continuous,
    /// At most this many per target after each sweep.
    PerSweep(usize),
}

fn parse_details_backfill(value: &str) -> Result<DetailsBackfill, String> {
    if value.eq_ignore_ascii_case("continuous") {
        return Ok(DetailsBackfill::Continuous);
    }
    value.parse().map(DetailsBackfill::PerSweep).map_err(|_| {
        format!("{value:?}: give a number of identities per sweep (0 for none) or \"continuous\"")
    })
}
