//! The identities table as pure functions: what the URL query asks for ([`query`]), and
//! one page of the filtered, sorted table plus the counts behind the summary strip
//! ([`select`]) walking each column's order ([`orders`]) and what the filters look at
//! ([`index`]), with `crate::attention` deciding which identities need an operator. The
//! server runs these over the snapshot; the browser only ever receives one page.

#[cfg(feature = "ssr")]
pub mod index;
pub mod orders;
pub mod query;
pub mod select;
