//! Publishing an identity's DKIM records at the DNS provider that holds its zone: what it
//! would change (a plan an operator reviews), which zone it goes to, and (server only) the
//! providers' APIs.

pub mod plan;
pub mod txt;
pub mod zone_choice;

#[cfg(feature = "ssr")]
pub mod cloudflare;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod provider;
#[cfg(feature = "ssr")]
pub mod route53;
