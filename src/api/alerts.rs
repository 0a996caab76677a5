//! The alerts as the Alerts page reads them.

use leptos::prelude::*;

use crate::alerts::entry::AlertsOverview;
use crate::app_error::AppError;

/// What is firing, what was sent, where alerts go and the rules in effect. Readable by
/// every signed-in user; receivers' URLs are cut to their scheme and host.
#[server(endpoint = "alerts")]
pub async fn get_alerts() -> Result<AlertsOverview, AppError> {
    let state = expect_context::<crate::server::state::AppState>();
    state.alerts.overview().await.map_err(|error| {
        tracing::error!(%error, "alerts read failed");
        AppError::Unavailable("The alerts could not be read; see the server log.".to_owned())
    })
}
