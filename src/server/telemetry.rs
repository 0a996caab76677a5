//! Log set-up: `RUST_LOG` picks what is logged, `--log-format` how.

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// What is logged when `RUST_LOG` is unset or invalid: `info`, but not the demo DNS
/// server's line per query nor the DNS libraries' chatter about each look-up.
const DEFAULT_FILTER: &str = "info,hickory_server=warn,hickory_proto=warn,hickory_resolver=warn";

/// Installs the global subscriber. Defaults to [`DEFAULT_FILTER`] when `RUST_LOG` is unset
/// or invalid.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    use std::io::IsTerminal;
    // Colours for a person at a terminal only, not for a journal or a log file.
    let colours = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
