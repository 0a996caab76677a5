//! Fleet repair: one reviewed step that publishes the missing records of many identities
//! and restarts SES's verification of those it gave up on. The plan is pure
//! (`fleet_plan`); runs are stored (`store`) and carried out in the background (`runner`),
//! through the changes in `crate::changes::fleet_repair`.

pub mod fleet_plan;
#[cfg(feature = "ssr")]
pub mod runner;
#[cfg(feature = "ssr")]
pub mod store;
