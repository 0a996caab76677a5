//! The identities table as pure functions: what the URL query asks for ([`query`]), which
//! identities need an operator ([`attention`]), and one page of the filtered, sorted table
//! plus the counts behind the summary strip ([`select`]). The server runs these over the
//! snapshot; the browser only ever receives one page.

pub mod attention;
pub mod query;
pub mod select;
