//! `#[server]` functions: the only way the browser reaches server state.
//! One file per concern; each function validates its input and maps errors for the browser.

pub mod activity;
pub mod alerts;
#[cfg(feature = "ssr")]
pub mod authorize;
pub mod dkim;
pub mod dns;
pub mod history;
pub mod identities;
pub mod inventory;
pub mod publish;
pub mod repair;
pub mod session;
pub mod status;

/// The server functions that change nothing, by endpoint: open to viewers. Every other
/// server function counts as a write and is refused to viewers before it runs
/// (`auth::write_gate`), whether or not it checks for itself. `refresh_inventory` and
/// `check_dns` only read (SES, DNS) and are rate-limited instead.
pub const READ_FUNCTIONS: &[&str] = &[
    "me",
    "server_status",
    "inventory_summary",
    "inventory_stamp",
    "targets",
    "ses_backend",
    "refresh_inventory",
    "identities",
    "identity",
    "activity",
    "alerts",
    "identity_history",
    "check_dns",
    "dkim/notice",
];

/// Whether the request is the browser's own form submission (JavaScript off), which asks
/// for HTML and is answered with a redirect to a page; the server function client does not
/// ask for HTML. Read by every server function a plain form can post to.
#[cfg(feature = "ssr")]
pub(crate) fn plain_form_post() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/html"))
    })
}
