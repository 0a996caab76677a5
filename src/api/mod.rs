//! `#[server]` functions: the only way the browser reaches server state.
//! One file per concern; each function validates its input and maps errors for the browser.

pub mod activity;
#[cfg(feature = "ssr")]
pub mod authorize;
pub mod dkim;
pub mod dns;
pub mod identities;
pub mod inventory;
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
    "targets",
    "ses_backend",
    "refresh_inventory",
    "identities",
    "identity",
    "activity",
    "check_dns",
    "dkim/notice",
];
