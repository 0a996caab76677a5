//! Pages and components. Nothing here imports server-only code: data arrives
//! through the `#[server]` functions in `crate::api`.

pub mod activity;
pub mod add_domain;
pub mod alerts;
pub mod badge;
pub mod change_form;
pub mod chart;
pub mod copy;
pub mod diagnosis;
pub mod dns_records;
pub mod format;
pub mod grid;
pub mod home;
pub mod identities;
pub mod identity;
pub mod layout;
pub mod manage_dkim;
pub mod not_found;
pub mod overview;
pub mod publish;
pub mod repair;
pub mod send;
pub mod strip;
pub mod timeline;
