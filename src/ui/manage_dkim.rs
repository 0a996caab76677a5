//! The write controls on the identity page: switch signing mode or key, change the Easy
//! DKIM key length, turn signing on or off. `ActionForm`s: buttons are disabled while a
//! request runs, SES's answer is shown in words, and the private key field is emptied after
//! every submit (the other fields keep what was typed).

use leptos::{html, prelude::*};

use crate::api::dkim::{ChangeSigning, SetSigningEnabled, UNSIGNED_WHILE_PENDING, WriteOutcome};
use crate::model::{Identity, IdentityType, SigningOrigin};

/// The "Manage DKIM" card for `identity`; `account` is sent when the page names one.
#[component]
pub fn ManageDkim(
    identity: Identity,
    account: Option<String>,
    change: ServerAction<ChangeSigning>,
    enable: ServerAction<SetSigningEnabled>,
) -> impl IntoView {
    let refusal = match (&identity.identity_type, &identity.dkim.origin) {
        (IdentityType::EmailAddress, _) => Some(
            "An email address signs with its domain's DKIM: manage the domain's identity instead.",
        ),
        (_, Some(SigningOrigin::Replica { .. })) => {
            Some("A DEED replica signs with its parent's keys: manage the parent identity instead.")
        }
        _ => None,
    };
    view! {
        <section class="card" aria-labelledby="manage-heading">
            <h2 id="manage-heading">"Manage DKIM"</h2>
            {match refusal {
                Some(why) => view! { <p class="muted">{why}</p> }.into_any(),
                None => view! {
                    <Outcome action_value=Signal::derive(move || change.value().get()) />
                    <SigningForm identity=identity.clone() account=account.clone() change />
                    <Outcome action_value=Signal::derive(move || enable.value().get()) />
                    <EnabledForm identity account enable />
                }
                .into_any(),
            }}
        </section>
    }
}

/// Which identity a form is about: region, name, and the account when the page names one.
#[component]
fn IdentityFields(region: String, name: String, account: Option<String>) -> impl IntoView {
    view! {
        <input type="hidden" name="region" value=region />
        <input type="hidden" name="name" value=name />
        {account.map(|account| view! { <input type="hidden" name="account" value=account /> })}
    }
}

/// SES's answer to the last submit, or the reason it was refused.
#[component]
fn Outcome(action_value: Signal<Option<Result<WriteOutcome, ServerFnError>>>) -> impl IntoView {
    move || {
        action_value.get().map(|result| match result {
            Ok(WriteOutcome::Done { message, .. }) => view! { <p class="notice" role="status" data-testid="write-outcome">{message}</p> }.into_any(),
            Ok(WriteOutcome::Refused(why)) => view! { <p class="error" role="alert" data-testid="write-error">{why}</p> }.into_any(),
            Err(error) => view! { <p class="error" role="alert" data-testid="write-error">{plain(&error)}</p> }.into_any(),
        })
    }
}

/// A server function error without the framework's prefix.
fn plain(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => format!("The request did not reach the server: {other}"),
    }
}

#[component]
fn SigningForm(
    identity: Identity,
    account: Option<String>,
    change: ServerAction<ChangeSigning>,
) -> impl IntoView {
    let is_byodkim = identity.dkim.origin == Some(SigningOrigin::Byodkim);
    let is_easy = identity.dkim.origin == Some(SigningOrigin::EasyDkim);
    let key_field = NodeRef::<html::Textarea>::new();
    // Never keep a private key on the page once it has been sent.
    Effect::new(move |_| {
        change.version().get();
        if let Some(field) = key_field.get() {
            field.set_value("");
        }
    });
    let pending = change.pending();
    view! {
        <ActionForm action=change attr:class="manage-form" attr:data-testid="signing-form">
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <fieldset>
                <legend>"Signing mode"</legend>
                <label class="check">
                    <input type="radio" name="mode" value="easy" checked=!is_easy />
                    "Easy DKIM (SES manages the keys; three CNAME records)"
                </label>
                <label class="check">
                    <input type="radio" name="mode" value="byodkim" checked=is_easy />
                    {if is_byodkim { "BYODKIM: new selector or key" } else { "BYODKIM (your own key; one TXT record)" }}
                </label>
            </fieldset>
            <div class="field">
                <label for="key-length">"Easy DKIM key length"</label>
                <select id="key-length" name="key_length">
                    <option value="">"SES default"</option>
                    <option value="2048">"2048-bit"</option>
                    <option value="1024">"1024-bit"</option>
                </select>
            </div>
            <div class="field">
                <label for="selector">"BYODKIM selector"</label>
                <input id="selector" name="selector" autocomplete="off" placeholder="e.g. s2026" />
            </div>
            <div class="field">
                <label for="private-key">"BYODKIM private key (PEM or base64; never stored or shown)"</label>
                <textarea id="private-key" name="private_key" rows="4" autocomplete="off" spellcheck="false" node_ref=key_field></textarea>
            </div>
            <label class="check">
                <input type="checkbox" name="generate" />
                "Generate a 2048-bit key for me (the private key goes to SES only)"
            </label>
            <label class="check confirm">
                <input type="checkbox" name="confirm" />
                {format!("I understand: {UNSIGNED_WHILE_PENDING}")}
            </label>
            <p class="muted">
                {if is_easy {
                    "Choosing Easy DKIM with a key length only changes the length of the next key (SES allows one change per 24 hours; no confirmation needed)."
                } else {
                    ""
                }}
            </p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { "Asking SES…" } else { "Apply" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn EnabledForm(
    identity: Identity,
    account: Option<String>,
    enable: ServerAction<SetSigningEnabled>,
) -> impl IntoView {
    let enabled = identity.dkim.signing_enabled;
    let pending = enable.pending();
    view! {
        <ActionForm action=enable attr:class="manage-form" attr:data-testid="enabled-form">
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <input type="hidden" name="enabled" value=if enabled { "off" } else { "on" } />
            {enabled.then(|| view! {
                <label class="check confirm">
                    <input type="checkbox" name="confirm" />
                    {format!("I understand: mail from {} will go out without a DKIM signature.", identity.name)}
                </label>
            })}
            <button type="submit" disabled=move || pending.get()>
                {if enabled { "Turn signing off" } else { "Turn signing on" }}
            </button>
        </ActionForm>
    }
}
