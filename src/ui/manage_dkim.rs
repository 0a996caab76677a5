//! The write controls on the identity page: switch signing mode or key, change the Easy
//! DKIM key length, turn signing on or off, create a DEED replica. `ActionForm`s: buttons
//! are disabled while a request runs, SES's answer is shown in words, and the private key
//! field is emptied after every submit (the other fields keep what was typed). With
//! JavaScript off the same forms post plainly and come back with the answer (`FormEcho`).

use leptos::{html, prelude::*};
use leptos_router::hooks::use_navigate;

use crate::api::dkim::{AddDomain, ChangeSigning, SetSigningEnabled};
use crate::change_answer::{ChangeAnswer, ChangeDone, FormEcho, UNSIGNED_WHILE_PENDING};
use crate::model::{Identity, IdentityType, SigningOrigin};

/// The server actions of the identity page.
#[derive(Clone, Copy)]
pub struct Writes {
    /// Signing mode, key or key length.
    pub change: ServerAction<ChangeSigning>,
    /// Signing on/off.
    pub enable: ServerAction<SetSigningEnabled>,
    /// A DEED replica of this identity.
    pub add: ServerAction<AddDomain>,
}

/// The "Manage DKIM" card for `identity`; `account` is sent when the page names one.
/// `typed` refills the signing form after a refused plain post; `replica_regions` are
/// where a DEED replica could be created.
#[component]
pub fn ManageDkim(
    identity: Identity,
    account: Option<String>,
    writes: Writes,
    typed: FormEcho,
    replica_regions: Vec<String>,
) -> impl IntoView {
    let Writes {
        change,
        enable,
        add,
    } = writes;
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
                    <ChangeAnswerPanel action_value=Signal::derive(move || change.value().get()) />
                    <SigningForm identity=identity.clone() account=account.clone() change typed />
                    <ChangeAnswerPanel action_value=Signal::derive(move || enable.value().get()) />
                    <EnabledForm identity=identity.clone() account enable />
                    {(!replica_regions.is_empty()).then(|| view! {
                        <ChangeAnswerPanel action_value=Signal::derive(move || add.value().get()) />
                        <ReplicaForm identity regions=replica_regions add />
                    })}
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
pub fn ChangeAnswerPanel(action_value: Signal<Option<ChangeAnswer>>) -> impl IntoView {
    move || {
        action_value
            .get()
            .map(|outcome| view! { <ChangeAnswerLine outcome /> })
    }
}

/// One answer, done or refused.
#[component]
pub fn ChangeAnswerLine(outcome: ChangeAnswer) -> impl IntoView {
    match outcome {
        Ok(ChangeDone { message, .. }) => {
            view! { <p class="notice" role="status" data-testid="write-outcome">{message}</p> }
                .into_any()
        }
        Err(why) => {
            view! { <p class="error" role="alert" data-testid="write-error">{why.to_string()}</p> }
                .into_any()
        }
    }
}

/// After a domain or replica is added, its own page (with its records) is next.
pub fn open_when_added(add: ServerAction<AddDomain>) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(ChangeDone { identity_href, .. })) = add.value().get() {
            navigate(&identity_href, Default::default());
        }
    });
}

/// Empties the private key field after every submit of `action`: a key never stays on
/// the page once it has been sent.
pub fn forget_key_after<A>(action: ServerAction<A>) -> NodeRef<html::Textarea>
where
    A: leptos::server_fn::ServerFn + Send + Sync + Clone + 'static,
    A::Output: Send + Sync + 'static,
    A::Error: Send + Sync + 'static,
{
    let key_field = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        action.version().get();
        if let Some(field) = key_field.get() {
            field.set_value("");
        }
    });
    key_field
}

/// Key length, BYODKIM selector and private key (or "generate"): shared by the signing
/// form and the add-domain form. Values set as properties too, so a form re-rendered
/// after a change shows the new state rather than what the browser kept.
#[component]
pub fn KeyFields(typed: FormEcho, key_field: NodeRef<html::Textarea>) -> impl IntoView {
    let key_length = typed.get("key_length").unwrap_or("").to_owned();
    let selector = typed.get("selector").unwrap_or("").to_owned();
    let generate = typed.get("generate").is_some();
    let option = move |value: &'static str, label: &'static str| {
        let selected = key_length == value;
        view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
    };
    view! {
        <div class="field">
            <label for="key-length">"Easy DKIM key length"</label>
            <select id="key-length" name="key_length">
                {option("", "SES default")}
                {option("2048", "2048-bit")}
                {option("1024", "1024-bit")}
            </select>
        </div>
        <div class="field">
            <label for="selector">"BYODKIM selector"</label>
            <input id="selector" name="selector" autocomplete="off" placeholder="e.g. s2026" value=selector.clone() prop:value=selector />
        </div>
        <div class="field">
            <label for="private-key">"BYODKIM private key (PEM or base64; never stored or shown)"</label>
            <textarea id="private-key" name="private_key" rows="4" autocomplete="off" spellcheck="false" node_ref=key_field></textarea>
        </div>
        <label class="check">
            <input type="checkbox" name="generate" checked=generate prop:checked=generate />
            "Generate a 2048-bit key for me (the private key goes to SES only)"
        </label>
    }
}

#[component]
fn SigningForm(
    identity: Identity,
    account: Option<String>,
    change: ServerAction<ChangeSigning>,
    typed: FormEcho,
) -> impl IntoView {
    let is_byodkim = identity.dkim.origin == Some(SigningOrigin::Byodkim);
    let is_easy = identity.dkim.origin == Some(SigningOrigin::EasyDkim);
    // The other mode is the likely next step, unless a refused post said otherwise.
    let byodkim_checked = typed.get("mode").map_or(is_easy, |mode| mode == "byodkim");
    let key_field = forget_key_after(change);
    let pending = change.pending();
    view! {
        <ActionForm action=change attr:class="manage-form" attr:data-testid="signing-form">
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <fieldset>
                <legend>"Signing mode"</legend>
                <label class="check">
                    <input type="radio" name="mode" value="easy" checked=!byodkim_checked prop:checked=!byodkim_checked />
                    "Easy DKIM (SES manages the keys; three CNAME records)"
                </label>
                <label class="check">
                    <input type="radio" name="mode" value="byodkim" checked=byodkim_checked prop:checked=byodkim_checked />
                    {if is_byodkim { "BYODKIM: new selector or key" } else { "BYODKIM (your own key; one TXT record)" }}
                </label>
            </fieldset>
            <KeyFields typed key_field />
            <label class="check confirm">
                // Never ticked for the operator, not even after a re-render.
                <input type="checkbox" name="confirm" prop:checked=false />
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
                    <input type="checkbox" name="confirm" prop:checked=false />
                    {format!("I understand: mail from {} will go out without a DKIM signature.", identity.name)}
                </label>
            })}
            <button type="submit" disabled=move || pending.get()>
                {if enabled { "Turn signing off" } else { "Turn signing on" }}
            </button>
        </ActionForm>
    }
}

/// Create a DEED replica of this (Easy DKIM) identity in another region of its account.
#[component]
fn ReplicaForm(
    identity: Identity,
    regions: Vec<String>,
    add: ServerAction<AddDomain>,
) -> impl IntoView {
    open_when_added(add);
    let pending = add.pending();
    view! {
        <ActionForm action=add attr:class="manage-form" attr:data-testid="replica-form">
            <input type="hidden" name="account" value=identity.account.clone() />
            <input type="hidden" name="domain" value=identity.name.clone() />
            <input type="hidden" name="mode" value="replica" />
            <input type="hidden" name="parent_region" value=identity.region.clone() />
            <div class="field">
                <label for="replica-region">"Create a DEED replica in"</label>
                <select id="replica-region" name="region">
                    {regions.into_iter().map(|region| view! { <option value=region.clone()>{region.clone()}</option> }).collect_view()}
                </select>
            </div>
            <p class="muted">"The replica signs with this identity's keys and records: nothing new to publish."</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { "Asking SES…" } else { "Create replica" }}
            </button>
        </ActionForm>
    }
}
