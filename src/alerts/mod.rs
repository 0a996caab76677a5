//! Alerts: rules applied to every sweep (an identity FAILED, TEMPORARY_FAILURE for several
//! reads, PENDING too long, signing off, broken DNS, old or weak keys, a target unreadable),
//! each alert firing once and resolving once, sent to Alertmanager-style webhooks and Slack
//! with retries, and logged for the Alerts page. The page's types are shared; the rest is
//! server-only.

#[cfg(feature = "ssr")]
pub mod bell;
#[cfg(feature = "ssr")]
pub mod deliver;
#[cfg(feature = "ssr")]
pub mod engine;
pub mod entry;
#[cfg(feature = "ssr")]
pub mod evaluate;
#[cfg(feature = "ssr")]
pub mod first_start;
#[cfg(feature = "ssr")]
pub mod grouping;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod payload;
#[cfg(feature = "ssr")]
pub mod rule;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
pub mod service;
pub mod silence;
#[cfg(feature = "ssr")]
pub mod silences;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod tracker;
