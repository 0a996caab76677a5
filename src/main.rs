//! The dkimdash server binary: configuration → state → router → serve.

/// Stack of each runtime thread. Rendering a page polls the nested futures of its whole
/// view tree on one worker's stack: the identity page came within reach of the 2 MiB
/// default (a release build overflowed it), so the workers get room to spare.
#[cfg(feature = "ssr")]
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// mimalloc instead of glibc's allocator: pages are rendered into many short-lived
/// strings on every worker, and glibc's arenas held on to what bursts of them freed.
#[cfg(all(feature = "ssr", not(feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    dkimdash::server::huge_pages::turn_off();
    #[cfg(not(feature = "system-allocator"))]
    dkimdash::server::allocator::release_freed_memory_promptly();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn run() -> std::process::ExitCode {
    use clap::Parser;
    use dkimdash::server::{
        backend,
        config::{Command, Config},
        telemetry,
    };

    let config = Config::parse();
    let outcome = match &config.command {
        // No log set-up: the probe's one line is its answer.
        Some(Command::Healthcheck(options)) => {
            return dkimdash::server::healthcheck::run(options, config.listen).await;
        }
        Some(Command::Simulator(options)) => {
            telemetry::init(config.log_format);
            backend::run_simulator(options).await
        }
        None => {
            telemetry::init(config.log_format);
            serve(config).await
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn serve(
    config: dkimdash::server::config::Config,
) -> Result<(), dkimdash::server::StartError> {
    use dkimdash::background::{Background, STOP_GRACE};
    use dkimdash::router::router;
    use dkimdash::server::{StartError, backend, shutdown, state::AppState};
    use leptos::config::get_configuration;

    let mut leptos_options = get_configuration(None)
        .map_err(|error| StartError::LeptosConfig(error.to_string()))?
        .leptos_options;
    let site = dkimdash::server::site::SiteFiles::for_server(
        &mut leptos_options,
        std::env::current_exe().ok().as_deref(),
    );
    tracing::info!(
        "serving the site's files {}",
        site.describe(&leptos_options)
    );
    let addr = config.listen_addr(leptos_options.site_addr);
    leptos_options.site_addr = addr;
    let auth = config.auth.auth(addr).map_err(StartError::Config)?;
    let loopback_only = auth.is_none();
    let audit = dkimdash::audit::log::AuditLog::open(&config.audit_db)
        .await
        .map_err(StartError::Audit)?;

    // Kept alive until the server stops: it owns the embedded simulator in demo mode.
    let backend = backend::start(&config.ses).await?;
    let mut background = Background::new();
    background.adopt("SES sweeps", backend.inventory.spawn_refresher());
    // The history, and the alerts that resolved, are kept this long.
    let retention = std::time::Duration::from_secs(u64::from(config.history_days) * 24 * 60 * 60);
    let dns = dns_monitor(&config, &backend)?;
    if let Some(dns) = &dns {
        // Read the last reports before the loop starts, so a restart asks only what is due.
        let store = dkimdash::dns::store::ReportStore::new(audit.clone());
        match dns.keep_in(store).await {
            Ok(count) => tracing::info!(reports = count, "DNS reports read from the database"),
            Err(error) => {
                tracing::error!(%error, "DNS reports cannot be kept in the database; they live in memory until the next restart");
            }
        }
        background.adopt("DNS checks", dns.spawn(backend.inventory.clone()));
    }
    let alerts = dkimdash::alerts::service::Alerts::new(
        config.alerts.settings().map_err(StartError::Config)?,
        audit.clone(),
        &config.alerts.public_url(addr).map_err(StartError::Config)?,
    );
    alerts.start(&mut background, backend.inventory.clone(), dns.clone());
    let alert_store = alerts.store().clone();
    // Changes an earlier run left pending are settled with what SES reports now.
    background.spawn_once("settling pending changes", {
        let (inventory, audit) = (backend.inventory.clone(), audit.clone());
        async move {
            dkimdash::changes::reconcile::reconcile_pending(&inventory, &audit).await;
        }
    });
    let state = AppState::new(
        leptos_options,
        config.http_limits(),
        backend.inventory.clone(),
        backend.kind,
        auth,
        audit,
    )
    .with_security(config.security.security(addr, loopback_only))
    .with_alerts(alerts)
    .with_site(site)
    .with_metrics(dkimdash::monitoring::Metrics::new(
        config.metrics.access().map_err(StartError::Config)?,
    ));
    let state = match dns {
        Some(dns) => state.with_dns(dns),
        None => state,
    };
    // The recorder writes through the state's history, so the figures the pages read
    // from memory follow what it writes.
    let recorder = dkimdash::history::recorder::Recorder::new(state.history());
    let recorder = match &state.dns {
        Some(dns) => recorder.with_dns(dns.clone(), backend.inventory.clone()),
        None => recorder,
    };
    background.adopt("history", recorder.spawn(backend.inventory.clone()));
    let retained = dkimdash::retention::Retained {
        daily: dkimdash::history::daily::DailyCounts::new(state.audit.clone()),
        history: state.history(),
        alerts: alert_store,
    };
    background.spawn("pruning", retained.prune_forever(retention));
    let provider_settings = config.publish.settings().map_err(StartError::Config)?;
    let providers = match (&backend.demo_dns, provider_settings.is_empty()) {
        // The demo publishes to its own Route 53 and Cloudflare, which its DNS mirrors.
        (Some(demo_dns), true) => {
            let demo = dkimdash::publish::demo::start()
                .await
                .map_err(StartError::Simulator)?;
            let providers = demo.providers.clone();
            demo.mirror_into(demo_dns.clone());
            // They serve as long as this task holds them, which the server stops with the rest.
            background.spawn("demo DNS providers", async move {
                let _serving = demo;
                std::future::pending::<()>().await
            });
            providers
        }
        _ => dkimdash::publish::provider::Providers::connect(&provider_settings).await,
    };
    let state = state.with_dns_providers(providers);
    // Fleet repairs run one at a time, resuming a run an earlier start left unfinished.
    background.spawn_stoppable("fleet repairs", {
        let (repairs, workers) = (state.repairs.clone(), state.repair_workers());
        move |stop| repairs.work(workers, stop)
    });
    let auth_mode = state.auth.mode_name();
    if let Some(metrics_addr) = config.metrics.metrics_listen {
        let (listener, metrics_app) =
            metrics_listener(metrics_addr, &state, &config, loopback_only).await?;
        let limits = config.connection_limits();
        background.spawn_stoppable("metrics listener", move |stop| async move {
            let stopped = stop.cancelled_owned();
            if let Err(error) =
                dkimdash::server::serve::serve(listener, metrics_app, limits, stopped).await
            {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
    }
    let app = router(state);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(
        "dkimdash {} listening on http://{addr} ({}; --auth {auth_mode}; audit log {})",
        env!("CARGO_PKG_VERSION"),
        backend.kind.label(),
        config.audit_db.display()
    );
    // A signal stops the server; so does background work that ended.
    let failed = background.failed();
    let stop = async move {
        tokio::select! {
            () = shutdown::signal() => {}
            () = failed => {}
        }
    };
    dkimdash::server::serve::serve(listener, app, config.connection_limits(), stop)
        .await
        .map_err(StartError::Serve)?;
    let failures = background.stop(STOP_GRACE).await;
    if !failures.is_empty() {
        return Err(StartError::Background(failures.join("; ")));
    }
    tracing::info!("stopped");
    Ok(())
}

/// The listener of `--metrics-listen`, bound, and what it serves: `/metrics` alone, with
/// the dashboard's connection limits and `Host` rules (in `--auth none`, the loopback
/// names of this port).
#[cfg(feature = "ssr")]
async fn metrics_listener(
    addr: std::net::SocketAddr,
    state: &dkimdash::server::state::AppState,
    config: &dkimdash::server::config::Config,
    loopback_only: bool,
) -> Result<(tokio::net::TcpListener, axum::Router), dkimdash::server::StartError> {
    use dkimdash::server::StartError;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    if !addr.ip().is_loopback() && state.metrics.access.token.is_none() {
        tracing::warn!(
            "/metrics is served on {addr} to anyone who reaches it: set --metrics-token, or keep that address internal"
        );
    }
    tracing::info!("metrics on http://{addr}/metrics");
    let hosts = dkimdash::auth::host::HostPolicy::new(
        &config.security.allowed_hosts,
        loopback_only.then_some(addr.port()),
    )
    .answering_addresses();
    let app = dkimdash::server::metrics_endpoint::listener_router(
        state.clone(),
        std::sync::Arc::new(hosts),
    );
    Ok((listener, app))
}

/// Where the demo's DNS servers listen.
#[cfg(feature = "ssr")]
const DEMO_NAMESERVERS: ipnet::IpNet = ipnet::IpNet::new_assert(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 0)),
    8,
);
/// Queries per second the demo's own DNS server takes.
#[cfg(feature = "ssr")]
const DEMO_QUERIES_PER_SECOND: std::num::NonZeroU32 = std::num::NonZeroU32::new(500).unwrap();

/// The DNS checker, asking the demo's own DNS server in demo mode; `None` when turned off.
#[cfg(feature = "ssr")]
fn dns_monitor(
    config: &dkimdash::server::config::Config,
    backend: &dkimdash::server::backend::Backend,
) -> Result<Option<dkimdash::dns::monitor::DnsMonitor>, dkimdash::server::StartError> {
    use dkimdash::dns::{checker::Checker, monitor::DnsMonitor};
    use dkimdash::server::StartError;

    if config.dns.no_dns_checks {
        tracing::info!("DNS checks are off (--no-dns-checks)");
        return Ok(None);
    }
    let mut settings = config.dns.settings();
    if let Some(demo) = &backend.demo_dns {
        settings.resolver = settings.resolver.or(Some(demo.resolver()));
        settings.nameserver_port = demo.nameserver_port();
        // A few loopback servers play every nameserver: let the whole demo fleet be
        // checked in a second or two rather than at one real nameserver's pace.
        settings.per_server_rate = settings.per_server_rate.max(DEMO_QUERIES_PER_SECOND);
        settings.resolver_rate = settings.resolver_rate.max(DEMO_QUERIES_PER_SECOND);
        // The demo's nameservers are its own, on loopback, which is otherwise refused.
        settings.allowed_nameservers.push(DEMO_NAMESERVERS);
    }
    let checker = Checker::new(settings).map_err(|error| {
        StartError::Config(format!(
            "DNS checks: {error}; name a resolver with --dns-resolver, or turn the checks off with --no-dns-checks"
        ))
    })?;
    // "Check DNS now" answers well before the request would time out (a 503).
    let request_timeout = std::time::Duration::from_secs(config.request_timeout_secs);
    let answer_deadline = dkimdash::dns::monitor::CHECK_NOW_DEADLINE.min(request_timeout * 2 / 3);
    Ok(Some(DnsMonitor::with_answer_deadline(
        checker,
        answer_deadline,
    )))
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build starts from `dkimdash::hydrate`, not from here.
}
