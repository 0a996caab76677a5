//! The only code that talks to Amazon SES (or the simulator): SDK clients per target,
//! SDK calls turned into model types, and SES errors mapped into one [`Error`].

pub mod client;
pub mod target;
