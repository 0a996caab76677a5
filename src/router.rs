//! The complete HTTP application as one `Router`, so tests can drive it without a socket:
//! the top of the house, where the pages, the server functions and the server's plumbing
//! meet.

use axum::{Router, routing::get};
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell};
use crate::auth::write_gate::ReadFunctions;
use crate::server::{assets, downloads, health, middleware, state::AppState};

/// Probes, the Leptos pages and server functions, the browser bundle, other static files,
/// and every middleware.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let shell_options = state.leptos_options.clone();
    let app = Router::new()
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/download/{file}", get(downloads::table_records))
        .route(
            "/download/identity/{region}/{name}/{file}",
            get(downloads::identity_records),
        )
        .merge(assets::routes(&state.leptos_options))
        .leptos_routes(&state, routes, move || shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state.clone());
    middleware::apply(app, &state, ReadFunctions(crate::api::READ_FUNCTIONS))
}
