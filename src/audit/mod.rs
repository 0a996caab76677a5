//! The audit log: who changed which identity's DKIM, when, from what to what, and what SES
//! answered. The entry type is shared with the pages; the SQLite log is server-only.

pub mod entry;
#[cfg(feature = "ssr")]
pub mod log;
