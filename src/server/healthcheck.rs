//! `dkimdash healthcheck`: asks a running dkimdash whether it is ready (`/readyz`) or
//! alive (`/livez`) and exits 0 or 1, for container and Kubernetes exec probes in images
//! without curl. It reads the same `--listen` / `DKIMDASH_LISTEN` as the server, so in the
//! server's environment it needs no flags.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    process::ExitCode,
    time::Duration,
};

use super::config::HealthcheckOptions;

/// The port the server listens on when nothing says otherwise.
const DEFAULT_PORT: u16 = 3000;

/// Asks, prints the answer (stdout) or the failure (stderr), and says how to exit.
pub async fn run(options: &HealthcheckOptions, listen: Option<SocketAddr>) -> ExitCode {
    let url = probe_url(options, listen);
    match ask(&url, Duration::from_secs(options.timeout_secs)).await {
        Ok(answer) => {
            println!("{url}: {answer}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{url}: {why}");
            ExitCode::FAILURE
        }
    }
}

async fn ask(url: &str, timeout: Duration) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {} s", timeout.as_secs())
        } else {
            format!("no answer ({})", e.without_url())
        }
    })?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let body = body.trim();
    if status.is_success() {
        Ok(body.to_owned())
    } else {
        Err(format!("{status} {body}"))
    }
}

/// `--url` when given, else the server's own listen address (a wildcard address asked on
/// loopback), with `/livez` or `/readyz`.
fn probe_url(options: &HealthcheckOptions, listen: Option<SocketAddr>) -> String {
    let base = match &options.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let listen =
                listen.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)));
            let ip = match listen.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            format!("http://{}", SocketAddr::new(ip, listen.port()))
        }
    };
    let path = if options.live { "/livez" } else { "/readyz" };
    format!("{base}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: Option<&str>, live: bool) -> HealthcheckOptions {
        HealthcheckOptions {
            url: url.map(str::to_owned),
            live,
            timeout_secs: 5,
        }
    }

    #[test]
    fn the_server_is_asked_where_it_listens() {
        assert_eq!(
            probe_url(&options(None, false), None),
            "http://127.0.0.1:3000/readyz"
        );
        assert_eq!(
            probe_url(&options(None, true), Some("0.0.0.0:8080".parse().unwrap())),
            "http://127.0.0.1:8080/livez"
        );
        assert_eq!(
            probe_url(&options(None, false), Some("[::]:3000".parse().unwrap())),
            "http://[::1]:3000/readyz"
        );
        assert_eq!(
            probe_url(&options(Some("http://dash:3000/"), false), None),
            "http://dash:3000/readyz"
        );
    }
}
