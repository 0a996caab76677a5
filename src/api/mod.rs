//! `#[server]` functions: the only way the browser reaches server state.
//! One file per concern; each function validates its input and maps errors for the browser.

pub mod activity;
pub mod dkim;
pub mod dns;
pub mod identities;
pub mod inventory;
pub mod session;
pub mod status;
