//! dkimdash: a self-hosted dashboard for DKIM across Amazon SES identities.
//!
//! One crate, two builds: the server (`ssr`) renders pages and runs the `#[server]`
//! functions; the browser build (`hydrate`) takes the server-rendered page over.
//! Server-only modules are gated here, once, so the browser build never sees them.

// Leptos views are deeply nested types; the identity page's exceeds the default limit in
// the release WebAssembly build.
#![recursion_limit = "256"]

pub mod alerts;
pub mod api;
pub mod app;
pub mod app_error;
pub mod attention;
pub mod audit;
pub mod change_answer;
pub mod diagnosis;
pub mod dns_check;
pub mod grid;
pub mod history;
pub mod model;
pub mod names;
pub mod publish;
pub mod records;
pub mod repair;
pub mod routes;
pub mod table;
pub mod ui;
pub mod user;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod aws_access;
#[cfg(feature = "ssr")]
pub mod background;
#[cfg(feature = "ssr")]
pub mod changes;
#[cfg(feature = "ssr")]
pub mod cloudflare_sim;
#[cfg(feature = "ssr")]
pub mod dns;
#[cfg(feature = "ssr")]
pub mod inventory;
#[cfg(feature = "ssr")]
pub mod memo;
#[cfg(feature = "ssr")]
pub mod monitoring;
#[cfg(feature = "ssr")]
pub mod overview;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod route53_sim;
#[cfg(feature = "ssr")]
pub mod router;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod ses;
#[cfg(feature = "ssr")]
pub mod signing_key;
#[cfg(feature = "ssr")]
pub mod sim;
#[cfg(feature = "ssr")]
pub mod unpoisoned;

/// Entry point of the WebAssembly bundle. The page is server-rendered; only its islands
/// (`#[island]` components) come alive here.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Leptos's loader hydrates the islands right after this returns, as one chain of
    // microtasks (none of them is a lazy island, which would load later); a timer runs
    // only once that chain is done. Tests and scripts wait for
    // the mark instead of guessing from an element the server may already have rendered.
    leptos::prelude::set_timeout(
        || {
            if let Some(root) = leptos::prelude::document().document_element() {
                let _ = root.set_attribute("data-hydrated", "");
            }
        },
        std::time::Duration::ZERO,
    );
}
