//! Log set-up: `RUST_LOG` picks what is logged, `--log-format` how.

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the global subscriber. Defaults to `info` when `RUST_LOG` is unset or invalid.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
