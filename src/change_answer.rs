//! (shared) What a change answered, as the write side, the server functions, the notices
//! kept for plain-HTML posts and the pages all see it: the answer itself, the form it
//! belongs to, and what was typed so the form can be filled again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app_error::AppError;

/// What a mode switch means for mail: shown where the operator confirms it, and in the
/// refusal when the confirmation is missing.
pub const UNSIGNED_WHILE_PENDING: &str = "while the new setup is PENDING, SES signs with neither the old nor the new key, so mail may go out unsigned until the new records are published and SES has found them.";

/// A change made: what to do next, and the identity's page (where its new records are).
/// A change not made is an [`AppError`], whose words say why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDone {
    /// What happened and what to do next.
    pub message: String,
    /// The identity's page.
    pub identity_href: String,
}

/// What a change answered: made, or not (and why).
pub type ChangeAnswer = Result<ChangeDone, AppError>;

/// The form a kept answer belongs to, so the page shows it (and refills) the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeForm {
    /// Signing mode, key or key length.
    Signing,
    /// Signing on/off.
    Enabled,
    /// Add a domain (or a DEED replica).
    AddDomain,
    /// Silence alerts, or end a silence (the Alerts page).
    Silence,
    /// Publish the records at a DNS provider.
    Publish,
    /// Restart SES's DKIM verification.
    Restart,
    /// Start a fleet repair.
    Repair,
}

/// The answer to a plain-HTML form post (JavaScript off), kept for the page the browser
/// is sent to next: what happened, and what was typed so the form can be filled again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Which form was sent.
    pub form: NoticeForm,
    /// SES's answer or the refusal.
    pub outcome: ChangeAnswer,
    /// The fields as typed; never the private key.
    pub typed: FormEcho,
}

/// Form fields as typed, by name (empty ones left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormEcho(pub BTreeMap<String, String>);

impl FormEcho {
    /// The non-empty fields among `fields`.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        Self(
            fields
                .into_iter()
                .filter_map(|(name, value)| {
                    value
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (name.to_owned(), v.to_owned()))
                })
                .collect(),
        )
    }

    /// What was typed into `field`, if anything.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}
