//! Serving `/metrics`: the live counters followed by the scrape's own series, in the
//! Prometheus text format. Behind the SSO proxy's sign-in like any page, unless a token
//! is set (then the token alone lets a scraper in) or a listener of its own serves it.

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::background::cpu_bound;
use crate::monitoring::gauges::{Scrape, write};
use crate::monitoring::per_identity;
use crate::server::state::AppState;

/// The text format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`, checking the token when one is set.
pub async fn scrape(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if !state.metrics.access.admits(authorization) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "401 Unauthorized: /metrics needs the bearer token set by --metrics-token.\n",
        )
            .into_response();
    }
    let now = crate::inventory::now();
    let read = async {
        let store = state.alerts.store();
        Ok::<_, crate::audit::log::AuditError>((
            store.firing().await?,
            store.active_silences(now).await?,
        ))
    };
    let (firing, silences) = match read.await {
        Ok(read) => read,
        Err(error) => {
            tracing::error!(%error, "metrics: could not read the alerts firing");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable: the alerts could not be read; see the server log.\n",
            )
                .into_response();
        }
    };
    let snapshot = state.inventory.snapshot();
    let scrape = Scrape {
        inventory: &state.inventory,
        snapshot: &snapshot,
        // The view the history and the alerts share: no copy of every report per scrape.
        dns: state
            .dns
            .as_ref()
            .map(|dns| dns.view(&snapshot, &state.inventory)),
        firing: &firing,
        silences: &silences,
        now,
    };
    // At 100,000 identities the text takes a few hundred milliseconds to write.
    let body = cpu_bound(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || write(&scrape));
        let mut body = state.metrics.render_live();
        body.push_str(&recorder.handle().render());
        if state.metrics.access.per_identity {
            per_identity::write(&snapshot, &mut body);
        }
        body
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// The listener of `--metrics-listen`: `/metrics` and nothing else, for the `Host` values
/// `hosts` allows (a page re-pointed at this port by DNS rebinding gets 421, as on the
/// dashboard's own port).
pub fn listener_router(
    state: AppState,
    hosts: std::sync::Arc<crate::auth::host::HostPolicy>,
) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            crate::auth::host::guard,
        ))
}
