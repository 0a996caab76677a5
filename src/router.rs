//! The complete HTTP application as one `Router`, so tests can drive it without a socket:
//! the top of the house, where the pages, the server functions and the server's plumbing
//! meet.

use axum::{Router, routing::get};
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell};
use crate::auth::write_gate::ReadFunctions;
use crate::monitoring::http;
use crate::server::metrics_endpoint as endpoint;
use crate::server::{assets, downloads, health, middleware, state::AppState};

/// Probes, the Leptos pages and server functions, the browser bundle, other static files,
/// `/metrics`, and every middleware.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let shell_options = state.leptos_options.clone();
    let access = state.metrics.access.clone();
    let metrics_here = !access.separate_listener;
    let mut app = Router::new();
    if metrics_here && access.token.is_none() {
        // Behind sign-in like any page: readable by every signed-in user.
        app = app.route("/metrics", get(endpoint::scrape));
    }
    let app = app
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/download/{file}", get(downloads::table_records))
        .route(
            "/download/identity/{region}/{name}/{file}",
            get(downloads::identity_records),
        )
        .merge(assets::routes(&state.site, &state.leptos_options))
        .leptos_routes(&state, routes, move || shell(shell_options.clone()))
        .fallback(site_file_or_not_found)
        .with_state(state.clone());
    let app = middleware::apply(app, &state, ReadFunctions(crate::api::READ_FUNCTIONS));
    let app = if metrics_here && access.token.is_some() {
        // The token is the scraper's sign-in: answered before the SSO checks, which a
        // scraper could not pass.
        Router::new()
            .route("/metrics", get(endpoint::scrape))
            .with_state(state.clone())
            .merge(app)
    } else {
        app
    };
    // Outermost, so every answer is counted, refusals included.
    app.layer(axum::middleware::from_fn_with_state(
        state.metrics.clone(),
        http::count,
    ))
}

/// A file of the site root, else the "not found" page.
async fn site_file_or_not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if let Some(file) = assets::site_file(&state, assets::file_probe(&request)).await {
        return file;
    }
    let uri = request.uri().clone();
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    not_found(uri, axum::extract::State(state), request).await
}
