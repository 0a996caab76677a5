//! The complete HTTP application as one `Router`, so tests can drive it without a socket.

use axum::{Router, routing::get};
use leptos_axum::{LeptosRoutes, generate_route_list};

use super::{downloads, health, middleware, state::AppState};
use crate::app::{App, shell};
use crate::auth::write_gate::ReadFunctions;

/// Probes, the Leptos pages and server functions, static files, and the middleware stack.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let limits = state.limits;
    let auth = state.auth.clone();
    let security = state.security.clone();
    let shell_options = state.leptos_options.clone();

    let app = Router::new()
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/download/{file}", get(downloads::table_records))
        .route(
            "/download/identity/{region}/{name}/{file}",
            get(downloads::identity_records),
        )
        .leptos_routes(&state, routes, move || shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // Inside authentication, which puts the user in the request.
        .layer(axum::middleware::from_fn_with_state(
            ReadFunctions(crate::api::READ_FUNCTIONS),
            crate::auth::write_gate::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth.clone(),
            crate::auth::middleware::authenticate,
        ))
        // Outside authentication: a forged cross-site post is refused whoever it claims to be.
        .layer(axum::middleware::from_fn_with_state(
            security.allowed_origins.clone(),
            crate::auth::csrf::protect,
        ))
        // Outermost: a request for a name dkimdash does not answer to (DNS rebinding)
        // reaches nothing.
        .layer(axum::middleware::from_fn_with_state(
            security.hosts.clone(),
            crate::auth::host::guard,
        ));

    middleware::apply(
        app,
        &limits,
        &auth.identity_headers(),
        security.hsts_max_age_secs,
    )
}
