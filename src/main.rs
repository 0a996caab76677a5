//! The dkimdash server binary: configuration → state → router → serve.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use dkimdash::server::{
        backend,
        config::{Command, Config},
        telemetry,
    };

    let config = Config::parse();
    telemetry::init(config.log_format);
    let outcome = match &config.command {
        Some(Command::Simulator(options)) => backend::run_simulator(options).await,
        None => serve(config).await,
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
    use dkimdash::server::{StartError, backend, router::router, shutdown, state::AppState};
    use leptos::config::get_configuration;

    let mut leptos_options = get_configuration(None)
        .map_err(|error| StartError::LeptosConfig(error.to_string()))?
        .leptos_options;
    let addr = config.listen_addr(leptos_options.site_addr);
    leptos_options.site_addr = addr;
    let auth = config.auth.auth(addr).map_err(StartError::Config)?;
    let audit = dkimdash::audit::log::AuditLog::open(&config.audit_db)
        .await
        .map_err(StartError::Audit)?;

    // Kept alive until the server stops: it owns the embedded simulator in demo mode.
    let backend = backend::start(&config.ses).await?;
    let refresher = backend.inventory.spawn_refresher();
    let state = AppState::new(
        leptos_options,
        config.http_limits(),
        backend.inventory.clone(),
        backend.kind,
    )
    .with_auth(auth)
    .with_security(config.security.security())
    .with_audit(audit);
    let auth_mode = state.auth.mode_name();
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
    // The peer address is what trusted-header authentication believes, never a header.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await
        .map_err(StartError::Serve)?;
    refresher.abort();
    tracing::info!("stopped");
    Ok(())
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build starts from `dkimdash::hydrate`, not from here.
}
