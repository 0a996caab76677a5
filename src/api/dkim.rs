//! DKIM changes: thin `#[server]` wrappers over `crate::manage`, which checks the input,
//! calls SES and re-reads the identity. POST only; answers carry words, never key material.
// One argument per form field, so the forms work as plain HTML posts too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::PastedKey;

/// What a mode switch means for mail: shown where the operator confirms it, and in the
/// refusal when the confirmation is missing.
pub const UNSIGNED_WHILE_PENDING: &str = "while the new setup is PENDING, SES signs with neither the old nor the new key, so mail may go out unsigned until the new records are published and SES has found them.";

/// What a change did, in words. A refusal (bad input, SES said no) is a normal answer,
/// not an HTTP error: `ServerFnError` is left for requests that never got an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteOutcome {
    /// Made; what to do next, and the identity's page (where its new records are).
    Done {
        /// What happened and what to do next.
        message: String,
        /// The identity's page.
        identity_href: String,
    },
    /// Not made (or maybe not): why, in words an operator can act on.
    Refused(String),
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
    let mode = match Mode::parse(&mode) {
        Ok(mode) => mode,
        Err(error) => return Ok(WriteOutcome::Refused(error.0)),
    };
    let change = SigningChange {
        mode,
        key_length,
        selector,
        private_key: private_key.map(|PastedKey(text)| SecretString::from(text)),
        generate: generate.is_some(),
        confirmed: confirm.is_some(),
    };
    let result =
        manage::change_signing(&state.inventory, &region, &name, account.as_deref(), change).await;
    Ok(outcome(result))
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
            return Ok(WriteOutcome::Refused(format!(
                "Signing: '{other}' is not on or off"
            )));
        }
    };
    let result = crate::manage::set_signing_enabled(
        &state.inventory,
        &region,
        &name,
        account.as_deref(),
        enabled,
        confirm.is_some(),
    )
    .await;
    Ok(outcome(result))
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
        let mode = match Mode::parse(&mode) {
            Ok(mode) => mode,
            Err(error) => return Ok(WriteOutcome::Refused(error.0)),
        };
        NewDomainSigning::Own(SigningChange {
            mode,
            key_length,
            selector,
            private_key: private_key.map(|PastedKey(text)| SecretString::from(text)),
            generate: generate.is_some(),
            confirmed: true,
        })
    };
    let result = manage::add_domain(
        &state.inventory,
        &account,
        &region,
        &domain,
        signing,
        tags.as_deref(),
    )
    .await;
    Ok(outcome(result))
}

#[cfg(feature = "ssr")]
fn outcome(result: Result<crate::manage::Done, crate::manage::WriteError>) -> WriteOutcome {
    match result {
        Ok(done) => WriteOutcome::Done {
            identity_href: crate::ui::links::identity_page(
                &done.identity.region,
                &done.identity.name,
                None,
            ),
            message: done.message,
        },
        Err(refusal) => WriteOutcome::Refused(refusal.0),
    }
}
