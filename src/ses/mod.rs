//! The only code that talks to Amazon SES (or the simulator): SDK clients per target,
//! a call budget per target, SDK calls turned into model types, and SES errors mapped
//! into one [`error::Error`].

pub mod budget;
pub mod client;
pub mod error;
pub mod reader;
pub mod target;
pub mod writer;
