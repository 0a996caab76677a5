//! DNS checks (server only): are the records dkimdash asks for really published, asked of
//! the zone's own nameservers and of the recursive resolver; results cached, bounded.

pub mod answer;
pub mod authority;
pub mod checker;
pub mod classify;
pub mod demo;
pub mod dkim_txt;
pub mod monitor;
pub mod options;
pub mod wire;
