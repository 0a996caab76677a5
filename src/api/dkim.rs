//! DKIM changes: thin `#[server]` wrappers over `crate::manage`, which checks the input,
//! calls SES and re-reads the identity. POST only; answers carry words, never key material.
// One argument per form field, so the forms work as plain HTML posts too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::PastedKey;

/// What a change did, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    /// What happened and what to do next.
    pub message: String,
    /// The identity's page (where its new records are).
    pub identity_href: String,
}

/// Switch Easy DKIM ⇄ BYODKIM, update a BYODKIM key/selector, or change the Easy DKIM key
/// length. Form fields: `mode` (`easy`/`byodkim`), `key_length`, `selector`, `private_key`,
/// `generate`, `confirm` (checkboxes: present when ticked).
#[server(endpoint = "dkim/signing")]
pub async fn change_signing(
    region: String,
    name: String,
    account: Option<String>,
    mode: String,
    key_length: Option<String>,
    selector: Option<String>,
    private_key: Option<PastedKey>,
    generate: Option<String>,
    confirm: Option<String>,
) -> Result<WriteOutcome, ServerFnError> {
    use crate::manage::{self, Mode, SigningChange};
    use secrecy::SecretString;

    let state = expect_context::<crate::server::state::AppState>();
    let change = SigningChange {
        mode: Mode::parse(&mode).map_err(to_server_error)?,
        key_length,
        selector,
        private_key: private_key.map(|PastedKey(text)| SecretString::from(text)),
        generate: generate.is_some(),
        confirmed: confirm.is_some(),
    };
    let done = manage::change_signing(&state.inventory, &region, &name, account.as_deref(), change)
        .await
        .map_err(to_server_error)?;
    Ok(outcome(done))
}

/// Turn DKIM signing on (`enabled=on`) or off (`enabled=off`, with `confirm`).
#[server(endpoint = "dkim/enabled")]
pub async fn set_signing_enabled(
    region: String,
    name: String,
    account: Option<String>,
    enabled: String,
    confirm: Option<String>,
) -> Result<WriteOutcome, ServerFnError> {
    let state = expect_context::<crate::server::state::AppState>();
    let enabled = match enabled.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(ServerFnError::new(format!(
                "Signing: '{other}' is not on or off"
            )));
        }
    };
    let done = crate::manage::set_signing_enabled(
        &state.inventory,
        &region,
        &name,
        account.as_deref(),
        enabled,
        confirm.is_some(),
    )
    .await
    .map_err(to_server_error)?;
    Ok(outcome(done))
}

/// Add a domain identity: `mode` `easy` (with `key_length`), `byodkim` (with `selector` and
/// `private_key` or `generate`) or `replica` (with `parent_region`); `tags` optional.
#[server(endpoint = "dkim/add")]
pub async fn add_domain(
    account: String,
    region: String,
    domain: String,
    mode: String,
    key_length: Option<String>,
    selector: Option<String>,
    private_key: Option<PastedKey>,
    generate: Option<String>,
    parent_region: Option<String>,
    tags: Option<String>,
) -> Result<WriteOutcome, ServerFnError> {
    use crate::manage::{self, Mode, NewDomainSigning, SigningChange};
    use secrecy::SecretString;

    let state = expect_context::<crate::server::state::AppState>();
    let signing = if mode == "replica" {
        NewDomainSigning::Replica {
            parent_region: parent_region.unwrap_or_default(),
        }
    } else {
        NewDomainSigning::Own(SigningChange {
            mode: Mode::parse(&mode).map_err(to_server_error)?,
            key_length,
            selector,
            private_key: private_key.map(|PastedKey(text)| SecretString::from(text)),
            generate: generate.is_some(),
            confirmed: true,
        })
    };
    let done = manage::add_domain(
        &state.inventory,
        &account,
        &region,
        &domain,
        signing,
        tags.as_deref(),
    )
    .await
    .map_err(to_server_error)?;
    Ok(outcome(done))
}

#[cfg(feature = "ssr")]
fn to_server_error(error: crate::manage::WriteError) -> ServerFnError {
    ServerFnError::new(error.0)
}

#[cfg(feature = "ssr")]
fn outcome(done: crate::manage::Done) -> WriteOutcome {
    WriteOutcome {
        message: done.message,
        identity_href: crate::ui::links::identity_page(
            &done.identity.region,
            &done.identity.name,
            None,
        ),
    }
}
