//! What the server says about itself: version and how long it has been up.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;

/// The server's own state, shown on the home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The dkimdash version the server runs (may differ from the browser bundle mid-deploy).
    pub version: String,
    /// Whole seconds since the server started.
    pub uptime_secs: u64,
}

/// Reads the server's status from the shared application state.
#[server(endpoint = "server_status")]
pub async fn get_server_status() -> Result<ServerStatus, AppError> {
    use crate::server::state::AppState;

    let state = expect_context::<AppState>();
    Ok(ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_secs: state.started_at.elapsed().as_secs(),
    })
}
