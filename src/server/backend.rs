//! Where identities come from: the configured AWS targets, or the embedded simulator
//! with demo data when none are configured.

use std::{net::SocketAddr, num::NonZeroU32, path::Path, time::Duration};

use serde::Deserialize;

use super::{
    StartError,
    config::{DetailsBackfill, SesMode, SesOptions, SimulatorOptions},
    shutdown,
};
use crate::{
    dns::demo::DemoDns,
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
    ses::{budget::CallBudget, client::SesClients, reader::SesConnection, target::Target},
    sim::{self, RunningSimulator, SimConfig},
};

/// The account label of the demo's simulated targets.
const DEMO_ACCOUNT: &str = "demo";

/// A started backend. Keep it alive: dropping it stops the embedded simulator.
pub struct Backend {
    /// The inventory over every target.
    pub inventory: Inventory,
    /// Which SES this is.
    pub kind: SesBackend,
    /// The embedded simulator, when in demo mode.
    pub simulator: Option<RunningSimulator>,
    /// The demo's DNS server on loopback, serving the demo domains' records (most right,
    /// some wrong on purpose), when in demo mode.
    pub demo_dns: Option<std::sync::Arc<DemoDns>>,
}

/// Resolves the targets and the SES to read, starting the simulator if that is it.
pub async fn start(options: &SesOptions) -> Result<Backend, StartError> {
    let targets = configured_targets(options)?;
    let use_simulator = match options.mode {
        SesMode::Auto => targets.is_empty(),
        SesMode::Simulator => true,
        SesMode::Aws if targets.is_empty() => {
            return Err(StartError::Config(
                "--ses aws needs at least one target: give --region (and --account) or --targets-file".into(),
            ));
        }
        SesMode::Aws => false,
    };
    let settings = RefreshSettings {
        interval: Duration::from_secs(options.refresh_interval_secs),
        backfill_per_sweep: match options.details_backfill {
            DetailsBackfill::PerSweep(limit) => limit,
            DetailsBackfill::Continuous => 0,
        },
        continuous_backfill: options.details_backfill == DetailsBackfill::Continuous,
    };
    let budget = || CallBudget::new(options.ses_calls_per_second);

    if !use_simulator {
        let mut readers = Vec::with_capacity(targets.len());
        for target in targets {
            let clients = SesClients::for_aws(&target).await;
            readers.push(SesConnection::new(target, clients, budget()));
        }
        return Ok(Backend {
            inventory: Inventory::new(readers, settings),
            kind: SesBackend::Aws,
            simulator: None,
            demo_dns: None,
        });
    }

    if !targets.is_empty() {
        tracing::warn!(
            "--ses simulator: the configured targets are ignored; reading the demo data"
        );
    }
    let simulator = sim::spawn(SimConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        // SES's default quota, or the raised one the dashboard is told it has (the
        // browser tests use that to read the demo's details sooner).
        calls_per_second: Some(options.ses_calls_per_second),
        auto_verify_after: Some(Duration::from_secs(options.demo_verify_after_secs)),
        seed_demo: true,
    })
    .await
    .map_err(StartError::Simulator)?;
    let url = simulator.endpoint_url();
    tracing::info!(
        "demo mode: reading the embedded SES simulator at {url} (no AWS account involved)"
    );
    let demo_dns = crate::dns::demo::start(&simulator.simulator)
        .await
        .map_err(StartError::Simulator)?;
    tracing::info!(
        "demo mode: the demo domains' DNS is served on loopback, port {}, and their resolver at {} (some records wrong on purpose)",
        demo_dns.nameserver_port(),
        demo_dns.resolver()
    );
    let readers = sim::seed::demo_counts()
        .into_iter()
        .map(|(region, _)| SesConnection::for_endpoint(DEMO_ACCOUNT, region, &url, budget()))
        .collect();
    Ok(Backend {
        inventory: Inventory::new(readers, settings),
        kind: SesBackend::Simulator,
        simulator: Some(simulator),
        demo_dns: Some(std::sync::Arc::new(demo_dns)),
    })
}

/// `dkimdash simulator`: serves only the simulator until SIGTERM or Ctrl-C.
pub async fn run_simulator(options: &SimulatorOptions) -> Result<(), StartError> {
    check_simulator_listen(options).map_err(StartError::Config)?;
    if !options.listen.ip().is_loopback() {
        tracing::warn!(
            "the simulator listens on {}, beyond this machine, without authentication (--allow-remote)",
            options.listen
        );
    }
    let running = sim::spawn(SimConfig {
        listen: options.listen,
        calls_per_second: NonZeroU32::new(options.calls_per_second),
        auto_verify_after: (options.verify_after_secs > 0)
            .then(|| Duration::from_secs(options.verify_after_secs)),
        seed_demo: !options.no_seed,
    })
    .await
    .map_err(|source| StartError::Bind {
        addr: options.listen,
        source,
    })?;
    tracing::info!(
        "SES simulator listening on {} (SES v2 REST/JSON and v1 Query/XML; region from the SigV4 scope; control API under /_sim/)",
        running.endpoint_url()
    );
    let following = match options.serve_dns {
        Some(port) => Some(serve_dns(&running.simulator, port).await?),
        None => None,
    };
    shutdown::signal().await;
    if let Some(following) = following {
        following.abort();
    }
    Ok(())
}

/// How often `--serve-dns` looks whether the simulator's identities changed in number.
const DNS_FOLLOW_EVERY: Duration = Duration::from_secs(3);

/// `--serve-dns`: the simulator's domains on loopback DNS, served again each time their
/// number changed and then held still for one look (while a fleet is being created).
async fn serve_dns(
    simulator: &sim::Simulator,
    port: u16,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let resolver_port = port.checked_add(1).filter(|_| port != 0).ok_or_else(|| {
        StartError::Config(format!(
            "--serve-dns {port}: the resolver takes the port after it; choose a port from 1 to 65534"
        ))
    })?;
    let mut dns = crate::dns::demo::serve_simulator(simulator, port, resolver_port)
        .await
        .map_err(|source| StartError::Bind {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            source,
        })?;
    tracing::info!(
        "DNS: the simulator's domains are served by nameservers at 127.0.0.1:{port}, and a resolver at 127.0.0.1:{resolver_port}"
    );
    let simulator = simulator.clone();
    let count = |simulator: &sim::Simulator| simulator.with_regions(|r, _| r.identity_count());
    Ok(tokio::spawn(async move {
        // What serve_simulator just served.
        let mut served = count(&simulator);
        let mut seen = served;
        loop {
            tokio::time::sleep(DNS_FOLLOW_EVERY).await;
            let now = count(&simulator);
            if now == seen && now != served {
                match crate::background::cpu_bound(|| dns.follow(&simulator)) {
                    Ok(identities) => {
                        tracing::info!("DNS: serving the records of {identities} identities");
                    }
                    Err(error) => {
                        tracing::warn!(%error, "DNS: cannot serve the simulator's domains")
                    }
                }
                served = now;
            }
            seen = now;
        }
    }))
}

/// The simulator answers anyone who reaches it: only loopback, unless told otherwise.
fn check_simulator_listen(options: &SimulatorOptions) -> Result<(), String> {
    if options.listen.ip().is_loopback() || options.allow_remote {
        Ok(())
    } else {
        Err(format!(
            "the simulator has no authentication and {} is not a loopback address: anyone who can reach it could rewrite its identities. Listen on 127.0.0.1, or add --allow-remote if that is what you want.",
            options.listen
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    target: Vec<Target>,
}

/// Targets from `--targets-file` and `--region`, checked for blanks and duplicates.
fn configured_targets(options: &SesOptions) -> Result<Vec<Target>, StartError> {
    let mut targets = match &options.targets_file {
        Some(path) => read_targets_file(path)?,
        None => Vec::new(),
    };
    // An empty DKIMDASH_REGIONS (a blank variable in compose) names no region.
    let regions = options
        .regions
        .iter()
        .filter(|region| !region.trim().is_empty());
    targets.extend(regions.map(|region| Target {
        account: options.account.clone(),
        region: region.trim().to_owned(),
        role_arn: None,
        external_id: None,
        profile: None,
        endpoint_url: None,
    }));
    check_targets(&targets).map_err(StartError::Config)?;
    Ok(targets)
}

/// No blank account or region, no target twice, no ExternalId without the role it is for.
fn check_targets(targets: &[Target]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for target in targets {
        if target.account.trim().is_empty() || target.region.trim().is_empty() {
            return Err(format!(
                "target '{}': account and region must not be empty",
                target.label()
            ));
        }
        crate::aws_access::check_external_id(
            target.role_arn.as_deref(),
            target.external_id.as_deref(),
        )
        .map_err(|why| format!("target '{}': {why}", target.label()))?;
        if !seen.insert((target.account.clone(), target.region.clone())) {
            return Err(format!("target '{}' is configured twice", target.label()));
        }
    }
    Ok(())
}

fn read_targets_file(path: &Path) -> Result<Vec<Target>, StartError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        StartError::Config(format!("--targets-file {}: {error}", path.display()))
    })?;
    parse_targets(&text)
        .map_err(|error| StartError::Config(format!("--targets-file {}: {error}", path.display())))
}

fn parse_targets(text: &str) -> Result<Vec<Target>, String> {
    toml::from_str::<TargetsFile>(text)
        .map(|file| file.target)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_simulator_listens_beyond_loopback_only_when_told() {
        let options = |args: &[&str]| {
            let config = crate::server::config::Config::try_parse_from(
                ["dkimdash", "simulator"].iter().chain(args),
            )
            .unwrap();
            match config.command {
                Some(crate::server::config::Command::Simulator(options)) => options,
                other => panic!("{other:?}"),
            }
        };
        assert!(check_simulator_listen(&options(&[])).is_ok());
        assert!(check_simulator_listen(&options(&["--listen", "[::1]:4566"])).is_ok());
        let refusal = check_simulator_listen(&options(&["--listen", "0.0.0.0:4566"])).unwrap_err();
        assert!(refusal.contains("--allow-remote"), "{refusal}");
        let allowed = options(&["--listen", "0.0.0.0:4566", "--allow-remote"]);
        assert!(check_simulator_listen(&allowed).is_ok());
    }

    #[test]
    fn targets_file_lists_accounts_regions_and_roles() {
        let targets = parse_targets(
            r#"
            [[target]]
            account = "production"
            region = "us-east-1"
            role_arn = "arn:aws:iam::111122223333:role/dkimdash-read"

            [[target]]
            account = "production"
            region = "eu-west-1"
            "#,
        )
        .unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(
            targets[0].role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/dkimdash-read")
        );
        assert_eq!(targets[1].label(), "production/eu-west-1");
    }

    #[test]
    fn a_blank_region_names_no_target() {
        let config =
            crate::server::config::Config::try_parse_from(["dkimdash", "--region", " "]).unwrap();
        assert_eq!(configured_targets(&config.ses).unwrap(), Vec::new());
        let config =
            crate::server::config::Config::try_parse_from(["dkimdash", "--region", "eu-west-1,"])
                .unwrap();
        let targets = configured_targets(&config.ses).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].region, "eu-west-1");
    }

    #[test]
    fn an_external_id_goes_with_its_role() {
        let targets = parse_targets(
            r#"
            [[target]]
            account = "customer-a"
            region = "us-east-1"
            role_arn = "arn:aws:iam::111122223333:role/dkimdash-read"
            external_id = "dkimdash-7f3a"
            "#,
        )
        .unwrap();
        assert_eq!(targets[0].external_id.as_deref(), Some("dkimdash-7f3a"));
        assert!(check_targets(&targets).is_ok());
        let without_role = parse_targets(
            "[[target]]\naccount = \"a\"\nregion = \"us-east-1\"\nexternal_id = \"x\"\n",
        )
        .unwrap();
        let refusal = check_targets(&without_role).unwrap_err();
        assert!(refusal.contains("role_arn"), "{refusal}");
    }

    #[test]
    fn targets_file_errors_name_the_problem() {
        let error = parse_targets("[[target]]\naccount = \"a\"\nregoin = \"x\"\n").unwrap_err();
        assert!(error.contains("regoin"), "{error}");
    }
}
