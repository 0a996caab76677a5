//! The server side of dkimdash: configuration, state, router and the HTTP plumbing
//! around the Leptos app. Compiled only with the `ssr` feature.

pub mod allocator;
pub mod assets;
pub mod backend;
pub mod chunked;
pub mod config;
pub mod downloads;
pub mod health;
pub mod healthcheck;
pub mod huge_pages;
pub mod metrics_endpoint;
pub mod middleware;
pub mod notices;
pub mod page_cache;
pub mod security;
pub mod serve;
pub mod shutdown;
pub mod site;
pub mod state;
pub mod telemetry;

use std::net::SocketAddr;

/// Why the server could not start or stopped with an error; each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The Leptos site settings (LEPTOS_* variables) could not be read.
    #[error("cannot read the Leptos site settings (LEPTOS_* environment variables): {0}")]
    LeptosConfig(String),
    /// The listen address is taken or not ours to bind.
    #[error(
        "cannot listen on {addr}: {source}; choose another address with --listen or DKIMDASH_LISTEN"
    )]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The SES configuration is unusable; the message names the flag.
    #[error("{0}")]
    Config(String),
    /// The audit log could not be opened.
    #[error("{0}; choose another place with --audit-db or DKIMDASH_AUDIT_DB")]
    Audit(crate::audit::log::AuditError),
    /// The embedded SES simulator could not start.
    #[error("cannot start the embedded SES simulator: {0}")]
    Simulator(std::io::Error),
    /// The HTTP server failed while running.
    #[error("the HTTP server stopped with an error: {0}")]
    Serve(std::io::Error),
    /// Background work ended while the server ran, so it was stopped to be restarted.
    #[error("stopped because {0}; the server log above says more")]
    Background(String),
}
