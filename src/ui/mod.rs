//! Pages and components. Nothing here imports server-only code: data arrives
//! through the `#[server]` functions in `crate::api`.

pub mod badge;
pub mod format;
pub mod home;
pub mod layout;
pub mod not_found;
pub mod overview;
