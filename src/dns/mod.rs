//! DNS checks (server only): are the records dkimdash asks for really published, asked of
//! the zone's own nameservers and of the recursive resolver; results cached, bounded.

pub mod answer;
pub mod asker;
pub mod authority;
pub mod cache;
pub mod checker;
pub mod classify;
pub mod demo;
pub mod dkim_txt;
pub mod lanes;
pub mod monitor;
pub mod nameserver_policy;
pub mod options;
pub mod store;
pub mod wire;
pub mod zones;
