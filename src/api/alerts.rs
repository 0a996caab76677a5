//! The alerts as the Alerts page reads them, and the silences operators set there. The
//! silence forms are plain HTML posts (they work with JavaScript off): each answer is kept
//! and the browser is sent back to the Alerts page, which shows it.

use leptos::prelude::*;

use crate::alerts::entry::AlertsOverview;
use crate::app_error::AppError;

/// What is firing, what was sent, where alerts go, the rules in effect and the silences.
/// Readable by every signed-in user; receivers' URLs are cut to their scheme and host.
#[server(endpoint = "alerts")]
pub async fn get_alerts() -> Result<AlertsOverview, AppError> {
    let state = expect_context::<crate::server::state::AppState>();
    let can_silence = crate::api::authorize::current_user().is_some_and(|u| u.can_change());
    let mut overview = state.alerts.overview().await.map_err(|error| {
        tracing::error!(%error, "alerts read failed");
        AppError::Unavailable("The alerts could not be read; see the server log.".to_owned())
    })?;
    overview.can_silence = can_silence;
    Ok(overview)
}

/// Silences the firing alert `fingerprint` (`scope`: `alert`, `identity` or `rule`) for
/// `duration` (`1h`, `4h`, `1d`, `1w`) with `comment`. Operators only.
#[server(endpoint = "alerts/silence")]
pub async fn silence_alerts(
    fingerprint: String,
    scope: String,
    duration: String,
    comment: String,
) -> Result<String, AppError> {
    let outcome = async {
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        state
            .alerts
            .silence(&user, &fingerprint, &scope, &duration, &comment)
            .await
    };
    back_to_alerts(outcome.await)
}

/// Ends silence `id` now. Operators only.
#[server(endpoint = "alerts/unsilence")]
pub async fn end_silence(id: i64) -> Result<String, AppError> {
    let outcome = async {
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        state.alerts.end_silence(&user, id).await
    };
    back_to_alerts(outcome.await)
}

/// Keeps the answer for the Alerts page and sends a plain form post there.
#[cfg(feature = "ssr")]
fn back_to_alerts(outcome: Result<String, AppError>) -> Result<String, AppError> {
    use crate::change_answer::{ChangeDone, FormEcho, Notice, NoticeForm};

    if crate::api::plain_form_post() {
        let state = expect_context::<crate::server::state::AppState>();
        let id = state.notices.put(Notice {
            form: NoticeForm::Silence,
            outcome: outcome.clone().map(|message| ChangeDone {
                message,
                identity_href: "/alerts".to_owned(),
            }),
            typed: FormEcho::default(),
        });
        leptos_axum::redirect(&crate::routes::with_notice("/alerts", &id));
    }
    outcome
}
