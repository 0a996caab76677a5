//! DKIM changes: thin `#[server]` wrappers over `crate::changes`, which checks the input,
//! calls SES and re-reads the identity. POST only; answers carry words, never key material.
// One argument per form field, so the forms work as plain HTML posts too.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::app_error::AppError;
#[cfg(feature = "ssr")]
use crate::app_error::Field;
#[cfg(feature = "ssr")]
use crate::change_answer::{ChangeAnswer, FormEcho, NoticeForm};
use crate::change_answer::{ChangeDone, Notice};
use crate::model::PastedKey;

/// The answer kept under `id` for a plain-HTML form post, if it is still kept; once
/// (the page load after the post shows it, a later reload does not).
#[server(endpoint = "dkim/notice")]
pub async fn get_notice(id: String) -> Result<Option<Notice>, AppError> {
    let state = expect_context::<crate::server::state::AppState>();
    Ok(state.notices.take(&id))
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
) -> Result<ChangeDone, AppError> {
    let typed = FormEcho::from_fields([
        ("mode", Some(mode.as_str())),
        ("key_length", key_length.as_deref()),
        ("selector", selector.as_deref()),
        ("generate", generate.as_deref()),
    ]);
    let back_to = crate::routes::identity_page(&region, &name, account.as_deref());
    let outcome = async {
        // Before anything else: a viewer's request never reaches SES.
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        let form = SigningForm {
            mode: &mode,
            key_length,
            selector,
            private_key,
            generate,
            confirmed: confirm.is_some(),
        };
        let change = form.change()?;
        let made = to_the_end(async move {
            let actor = state.actor(&user);
            crate::changes::change_signing(&actor, &region, &name, account.as_deref(), change).await
        })
        .await?;
        Ok::<_, AppError>(done(made))
    };
    answer(NoticeForm::Signing, outcome.await, back_to, typed)
}

/// Turn DKIM signing on (`enabled=on`) or off (`enabled=off`, with `confirm`).
#[server(endpoint = "dkim/enabled")]
pub async fn set_signing_enabled(
    region: String,
    name: String,
    account: Option<String>,
    enabled: String,
    confirm: Option<String>,
) -> Result<ChangeDone, AppError> {
    let back_to = crate::routes::identity_page(&region, &name, account.as_deref());
    let outcome = async {
        // Before anything else: a viewer's request never reaches SES.
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        let enabled = match enabled.as_str() {
            "on" => true,
            "off" => false,
            other => {
                return Err(AppError::invalid(
                    Field::Enabled,
                    format!("Signing: '{other}' is not on or off"),
                ));
            }
        };
        let confirmed = confirm.is_some();
        let made = to_the_end(async move {
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
        })
        .await?;
        Ok::<_, AppError>(done(made))
    };
    answer(
        NoticeForm::Enabled,
        outcome.await,
        back_to,
        FormEcho::default(),
    )
}

/// Restart SES's DKIM verification of a FAILED Easy DKIM domain. The records are checked
/// again first (the last check's result if one ran moments ago): SES is only asked once
/// the DNS check finds every record right.
#[server(endpoint = "dkim/restart")]
pub async fn restart_verification(
    region: String,
    name: String,
    account: Option<String>,
) -> Result<ChangeDone, AppError> {
    let back_to = crate::routes::identity_page(&region, &name, account.as_deref());
    let outcome = async {
        // Before anything else: a viewer's request never reaches SES.
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        let made = to_the_end(async move {
            let records_now =
                match state
                    .inventory
                    .snapshot()
                    .find(&region, &name, account.as_deref())
                {
                    crate::inventory::snapshot::Lookup::One(identity) => {
                        let why = format!("restart {}", identity.name);
                        crate::changes::restart::records_now(
                            state.dns.as_ref(),
                            &state.inventory,
                            identity,
                            &why,
                        )
                        .await
                    }
                    // The change itself says the identity is not there.
                    _ => None,
                };
            let actor = state.actor(&user);
            crate::changes::restart::restart_verification(
                &actor,
                &region,
                &name,
                account.as_deref(),
                records_now,
            )
            .await
        })
        .await?;
        Ok::<_, AppError>(done(made))
    };
    answer(
        NoticeForm::Restart,
        outcome.await,
        back_to,
        FormEcho::default(),
    )
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
) -> Result<ChangeDone, AppError> {
    use crate::changes::{self, NewDomainSigning};

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
    let outcome = async {
        // Before anything else: a viewer's request never reaches SES.
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
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
            NewDomainSigning::Own(form.change()?)
        };
        let made = to_the_end(async move {
            let actor = state.actor(&user);
            changes::add_domain(&actor, &account, &region, &domain, signing, tags.as_deref()).await
        })
        .await?;
        Ok::<_, AppError>(done(made))
    };
    answer(NoticeForm::AddDomain, outcome.await, back_to, typed)
}

/// Runs a change in a task of its own, to its end: if the request goes away (the browser
/// left, or the request timed out while SES was being retried), the change still completes
/// and its audit entry records SES's answer instead of staying pending.
/// Runs a change in its own task, so a request that goes away still completes it (and its
/// audit entry).
#[cfg(feature = "ssr")]
pub(super) async fn to_the_end<T: Send + 'static>(
    change: impl std::future::Future<Output = Result<T, crate::changes::ChangeError>> + Send + 'static,
) -> Result<T, crate::changes::ChangeError> {
    tokio::spawn(change).await.unwrap_or_else(|error| {
        tracing::error!(%error, "a change stopped before it ended");
        Err(crate::changes::ChangeError::Interrupted)
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
    fn change(self) -> Result<crate::changes::SigningChange, crate::changes::ChangeError> {
        Ok(crate::changes::SigningChange {
            mode: crate::changes::Mode::parse(self.mode)?,
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

/// A change made, as the browser sees it: the message and the identity's page.
#[cfg(feature = "ssr")]
fn done(made: crate::changes::ChangeMade) -> ChangeDone {
    done_at(&made.identity, made.message)
}

/// `message`, with the way back to `identity`'s page.
#[cfg(feature = "ssr")]
pub(super) fn done_at(identity: &crate::model::Identity, message: String) -> ChangeDone {
    use crate::inventory::snapshot::Lookup;

    let state = expect_context::<crate::server::state::AppState>();
    // Name the account only when the name alone would be ambiguous.
    let account = match state
        .inventory
        .snapshot()
        .find(&identity.region, &identity.name, None)
    {
        Lookup::Several(_) => Some(identity.account.as_str()),
        _ => None,
    };
    ChangeDone {
        identity_href: crate::routes::identity_page(&identity.region, &identity.name, account),
        message,
    }
}

/// A change made is kept, and its answer's `identity_href` opens the identity's page with
/// it: the page shows SES's answer next to the new state, whichever way the form was sent.
/// A refusal sent by script is answered as is (with its own status; the page shows it in
/// place). A refused plain form post (JavaScript off) is kept too and sent back to
/// `back_to`, which shows it and refills the form with what was typed.
/// What a form post gets: the answer, kept for the page a plain post is sent back to.
#[cfg(feature = "ssr")]
pub(super) fn answer(
    form: NoticeForm,
    outcome: ChangeAnswer,
    back_to: String,
    typed: FormEcho,
) -> ChangeAnswer {
    let plain = crate::api::plain_form_post();
    if !plain && outcome.is_err() {
        return outcome;
    }
    let state = expect_context::<crate::server::state::AppState>();
    let id = state.notices.put(Notice {
        form,
        outcome: outcome.clone(),
        typed,
    });
    let (outcome, next) = match outcome {
        Ok(ChangeDone {
            message,
            identity_href,
        }) => {
            let identity_href = crate::routes::with_notice(&identity_href, &id);
            let next = identity_href.clone();
            let done = ChangeDone {
                message,
                identity_href,
            };
            (Ok(done), next)
        }
        Err(refusal) => (Err(refusal), crate::routes::with_notice(&back_to, &id)),
    };
    if plain {
        leptos_axum::redirect(&next);
    }
    outcome
}
