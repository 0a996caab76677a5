//! What the team's identities looked like over time: every change dkimdash saw between
//! sweeps (DKIM status, verification, signing, origin, key length, tokens or selector, an
//! identity appearing or disappearing), in the audit log's database. The entry type is
//! shared with the pages; comparing, storing and the recorder are server-only.

#[cfg(feature = "ssr")]
pub mod daily;
pub mod entry;
#[cfg(feature = "ssr")]
pub mod observed;
#[cfg(feature = "ssr")]
pub mod recent;
#[cfg(feature = "ssr")]
pub mod recorder;
#[cfg(feature = "ssr")]
pub mod seen_fields;
#[cfg(feature = "ssr")]
pub mod store;
