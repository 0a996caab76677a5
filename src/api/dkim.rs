//! DKIM changes: thin `#[server]` wrappers over `crate::changes`, which checks the input,
//! calls SES and re-reads the identity. POST only; answers carry words, never key material.
// One argument per form field, so the forms work as plain HTML posts too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::change_answer::{ChangeAnswer, Notice};
#[cfg(feature = "ssr")]
use crate::change_answer::{FormEcho, NoticeForm};
use crate::model::PastedKey;

/// The answer kept under `id` for a plain-HTML form post, if it is still kept.
#[server(endpoint = "dkim/notice")]
pub async fn get_notice(id: String) -> Result<Option<Notice>, ServerFnError> {
    let state = expect_context::<crate::server::state::AppState>();
    Ok(state.notices.get(&id))
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
) -> Result<ChangeAnswer, ServerFnError> {
    // Before anything else: a viewer's request never reaches SES.
    let user = crate::api::authorize::authorize_write()?;
    let state = expect_context::<crate::server::state::AppState>();
    let typed = FormEcho::from_fields([
        ("mode", Some(mode.as_str())),
        ("key_length", key_length.as_deref()),
        ("selector", selector.as_deref()),
        ("generate", generate.as_deref()),
    ]);
    let back_to = crate::routes::identity_page(&region, &name, account.as_deref());
    let form = SigningForm {
        mode: &mode,
        key_length,
        selector,
        private_key,
        generate,
        confirmed: confirm.is_some(),
    };
    let change = match form.change() {
        Ok(change) => change,
        Err(refused) => return Ok(answer(NoticeForm::Signing, refused, back_to, typed)),
    };
    let result = to_the_end({
        let (region, name, account) = (region.clone(), name.clone(), account.clone());
        async move {
            let actor = state.actor(&user);
            crate::changes::change_signing(&actor, &region, &name, account.as_deref(), change).await
        }
    })
    .await;
    Ok(answer(NoticeForm::Signing, outcome(result), back_to, typed))
}

/// Turn DKIM signing on (`enabled=on`) or off (`enabled=off`, with `confirm`).
#[server(endpoint = "dkim/enabled")]
pub async fn set_signing_enabled(
    region: String,
    name: String,
    account: Option<String>,
    enabled: String,
    confirm: Option<String>,
) -> Result<ChangeAnswer, ServerFnError> {
    // Before anything else: a viewer's request never reaches SES.
    let user = crate::api::authorize::authorize_write()?;
    let state = expect_context::<crate::server::state::AppState>();
    let back_to = crate::routes::identity_page(&region, &name, account.as_deref());
    let enabled = match enabled.as_str() {
        "on" => true,
        "off" => false,
        other => {
            let refused = ChangeAnswer::Refused(format!("Signing: '{other}' is not on or off"));
            return Ok(answer(
                NoticeForm::Enabled,
                refused,
                back_to,
                FormEcho::default(),
            ));
        }
    };
    let confirmed = confirm.is_some();
    let result = to_the_end({
        let (region, name, account) = (region.clone(), name.clone(), account.clone());
        async move {
            let actor = state.actor(&user);
            crate::changes::set_signing_enabled(
                &actor,
                &region,
                &name,
                account.as_deref(),
                enabled,
                confirmed,
            )
            .await
        }
    })
    .await;
    Ok(answer(
        NoticeForm::Enabled,
        outcome(result),
        back_to,
        FormEcho::default(),
    ))
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
) -> Result<ChangeAnswer, ServerFnError> {
    use crate::changes::{self, NewDomainSigning};

    // Before anything else: a viewer's request never reaches SES.
    let user = crate::api::authorize::authorize_write()?;
    let state = expect_context::<crate::server::state::AppState>();
    let typed = FormEcho::from_fields([
        ("account", Some(account.as_str())),
        ("region", Some(region.as_str())),
        ("domain", Some(domain.as_str())),
        ("mode", Some(mode.as_str())),
        ("key_length", key_length.as_deref()),
        ("selector", selector.as_deref()),
        ("generate", generate.as_deref()),
        ("parent_region", parent_region.as_deref()),
        ("tags", tags.as_deref()),
    ]);
    let back_to = crate::routes::ADD_DOMAIN_PAGE.to_owned();
    let signing = if mode == "replica" {
        NewDomainSigning::Replica {
            parent_region: parent_region.unwrap_or_default(),
        }
    } else {
        let form = SigningForm {
            mode: &mode,
            key_length,
            selector,
            private_key,
            generate,
            // Nothing signs with a new identity yet: no mail can go out unsigned.
            confirmed: true,
        };
        match form.change() {
            Ok(change) => NewDomainSigning::Own(change),
            Err(refused) => return Ok(answer(NoticeForm::AddDomain, refused, back_to, typed)),
        }
    };
    let result = to_the_end({
        let (account, region) = (account.clone(), region.clone());
        async move {
            let actor = state.actor(&user);
            changes::add_domain(&actor, &account, &region, &domain, signing, tags.as_deref()).await
        }
    })
    .await;
    Ok(answer(
        NoticeForm::AddDomain,
        outcome(result),
        back_to,
        typed,
    ))
}

/// Runs a change in a task of its own, to its end: if the request goes away (the browser
/// left, or the request timed out while SES was being retried), the change still completes
/// and its audit entry records SES's answer instead of staying pending.
#[cfg(feature = "ssr")]
async fn to_the_end(
    change: impl std::future::Future<
        Output = Result<crate::changes::ChangeMade, crate::changes::WriteError>,
    > + Send
    + 'static,
) -> Result<crate::changes::ChangeMade, crate::changes::WriteError> {
    tokio::spawn(change).await.unwrap_or_else(|error| {
        tracing::error!(%error, "a change stopped before it ended");
        Err(crate::changes::WriteError(
            "The change stopped before SES's answer was recorded; the Activity page shows what was recorded.".to_owned(),
        ))
    })
}

/// The signing fields both the signing form and the add-domain form send.
#[cfg(feature = "ssr")]
struct SigningForm<'a> {
    mode: &'a str,
    key_length: Option<String>,
    selector: Option<String>,
    private_key: Option<PastedKey>,
    generate: Option<String>,
    confirmed: bool,
}

#[cfg(feature = "ssr")]
impl SigningForm<'_> {
    /// The change they ask for, or the refusal of an unknown mode.
    fn change(self) -> Result<crate::changes::SigningChange, ChangeAnswer> {
        let mode =
            crate::changes::Mode::parse(self.mode).map_err(|e| ChangeAnswer::Refused(e.0))?;
        Ok(crate::changes::SigningChange {
            mode,
            key_length: self.key_length,
            selector: self.selector,
            private_key: self
                .private_key
                .map(|PastedKey(text)| secrecy::SecretString::from(text)),
            generate: self.generate.is_some(),
            confirmed: self.confirmed,
        })
    }
}

#[cfg(feature = "ssr")]
fn outcome(result: Result<crate::changes::ChangeMade, crate::changes::WriteError>) -> ChangeAnswer {
    use crate::inventory::snapshot::Lookup;

    match result {
        Ok(done) => {
            let identity = &done.identity;
            let state = expect_context::<crate::server::state::AppState>();
            // Name the account only when the name alone would be ambiguous.
            let account =
                match state
                    .inventory
                    .snapshot()
                    .find(&identity.region, &identity.name, None)
                {
                    Lookup::Several(_) => Some(identity.account.as_str()),
                    _ => None,
                };
            ChangeAnswer::Done {
                identity_href: crate::routes::identity_page(
                    &identity.region,
                    &identity.name,
                    account,
                ),
                message: done.message,
            }
        }
        Err(refusal) => ChangeAnswer::Refused(refusal.0),
    }
}

/// A script-driven post gets `outcome` as its answer. A plain form post (JavaScript off)
/// is sent on to the identity's page (done) or `back_to` (refused), which shows the
/// outcome kept for it and refills the form with what was typed. A new domain's page
/// shows how it was added whichever way the form was sent, so that answer is always kept.
#[cfg(feature = "ssr")]
fn answer(
    form: NoticeForm,
    outcome: ChangeAnswer,
    back_to: String,
    typed: FormEcho,
) -> ChangeAnswer {
    let plain = plain_form_post();
    let added = form == NoticeForm::AddDomain && matches!(outcome, ChangeAnswer::Done { .. });
    if !plain && !added {
        return outcome;
    }
    let state = expect_context::<crate::server::state::AppState>();
    let id = state.notices.put(Notice {
        form,
        outcome: outcome.clone(),
        typed,
    });
    let (outcome, next) = match outcome {
        ChangeAnswer::Done {
            message,
            identity_href,
        } => {
            let identity_href = crate::routes::with_notice(&identity_href, &id);
            let next = identity_href.clone();
            let done = ChangeAnswer::Done {
                message,
                identity_href,
            };
            (done, next)
        }
        refused @ ChangeAnswer::Refused(_) => (refused, crate::routes::with_notice(&back_to, &id)),
    };
    if plain {
        leptos_axum::redirect(&next);
    }
    outcome
}

/// A browser's own form submission asks for HTML; the server function client does not.
#[cfg(feature = "ssr")]
pub(crate) fn plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/html"))
    })
}
