//! The write controls on the identity page: switch signing mode or key, change the Easy
//! DKIM key length, turn signing on or off, create a DEED replica. Rendered on the server;
//! each form's sending is the `ChangeForm` island. A refused post (either way) shows its
//! answer above its form and refills what was typed (`FormEcho`), never the private key.

use leptos::prelude::*;

use crate::change_answer::{ChangeAnswer, FormEcho, UNSIGNED_WHILE_PENDING};
use crate::model::{DkimStatus, Identity, IdentityType, SigningOrigin};
use crate::ui::change_form::{ChangeForm, ChangeKind};

/// The answers a page kept for its forms (from the last plain post, or the change just
/// made), by form.
#[derive(Clone, Debug, Default)]
pub struct KeptAnswers {
    /// For the signing form.
    pub signing: Option<ChangeAnswer>,
    /// For the signing on/off form.
    pub enabled: Option<ChangeAnswer>,
    /// For the publish form: a refusal (a publish made is told at the top of the page).
    pub publish: Option<ChangeAnswer>,
    /// For the restart-verification form.
    pub restart: Option<ChangeAnswer>,
}

/// The "Manage DKIM" card for `identity`; `account` is sent when the page names one.
/// `typed` refills the signing form after a refused post; `replica_regions` are where a
/// DEED replica could be created.
#[component]
pub fn ManageDkim(
    identity: Identity,
    account: Option<String>,
    kept: KeptAnswers,
    typed: FormEcho,
    replica_regions: Vec<String>,
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
                    {(identity.dkim.status == DkimStatus::Failed).then(|| view! {
                        <RestartForm identity=identity.clone() account=account.clone() kept=kept.restart />
                    })}
                    <SigningForm identity=identity.clone() account=account.clone() kept=kept.signing typed />
                    <EnabledForm identity=identity.clone() account kept=kept.enabled />
                    {(!replica_regions.is_empty()).then(|| view! {
                        <ReplicaForm identity regions=replica_regions />
                    })}
                }
                .into_any(),
            }}
        </section>
    }
}

/// Which identity a form is about: region, name, and the account when the page names one.
#[component]
pub fn IdentityFields(region: String, name: String, account: Option<String>) -> impl IntoView {
    view! {
        <input type="hidden" name="region" value=region />
        <input type="hidden" name="name" value=name />
        {account.map(|account| view! { <input type="hidden" name="account" value=account /> })}
    }
}

/// Key length, BYODKIM selector and private key (or "generate"): shared by the signing
/// form and the add-domain form; `typed` is what a refused post had in them.
#[component]
pub fn KeyFields(typed: FormEcho) -> impl IntoView {
    let key_length = typed.get("key_length").unwrap_or("").to_owned();
    let selector = typed.get("selector").unwrap_or("").to_owned();
    let generate = typed.get("generate").is_some();
    let option = move |value: &'static str, label: &'static str| {
        let selected = key_length == value;
        view! { <option value=value selected=selected>{label}</option> }
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
            <input id="selector" name="selector" autocomplete="off" placeholder="e.g. s2026" value=selector />
        </div>
        <div class="field">
            <label for="private-key">"BYODKIM private key (PEM or base64; never stored or shown)"</label>
            <textarea id="private-key" name="private_key" rows="4" autocomplete="off" spellcheck="false"></textarea>
        </div>
        <label class="check">
            <input type="checkbox" name="generate" checked=generate />
            "Generate a 2048-bit key for me (the private key goes to SES only)"
        </label>
    }
}

#[component]
fn SigningForm(
    identity: Identity,
    account: Option<String>,
    kept: Option<ChangeAnswer>,
    typed: FormEcho,
) -> impl IntoView {
    let is_byodkim = identity.dkim.origin == Some(SigningOrigin::Byodkim);
    let is_easy = identity.dkim.origin == Some(SigningOrigin::EasyDkim);
    // The other mode is the likely next step, unless a refused post said otherwise.
    let byodkim_checked = typed.get("mode").map_or(is_easy, |mode| mode == "byodkim");
    view! {
        <ChangeForm kind=ChangeKind::Signing testid="signing-form" submit="Apply" kept>
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <fieldset>
                <legend>"Signing mode"</legend>
                <label class="check">
                    <input type="radio" name="mode" value="easy" checked=!byodkim_checked />
                    "Easy DKIM (SES manages the keys; three CNAME records)"
                </label>
                <label class="check">
                    <input type="radio" name="mode" value="byodkim" checked=byodkim_checked />
                    {if is_byodkim { "BYODKIM: new selector or key" } else { "BYODKIM (your own key; one TXT record)" }}
                </label>
            </fieldset>
            <KeyFields typed />
            <label class="check confirm">
                // Never ticked for the operator: each change is confirmed on its own.
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
        </ChangeForm>
    }
}

/// SES gave up looking for the records (FAILED): ask it to look again once they are
/// right. A BYODKIM domain starts again when SES is given its key again (the signing form).
#[component]
fn RestartForm(
    identity: Identity,
    account: Option<String>,
    kept: Option<ChangeAnswer>,
) -> impl IntoView {
    if identity.dkim.origin == Some(SigningOrigin::Byodkim) {
        return view! {
            <p class="notice" data-testid="restart-byodkim">
                "SES gave up looking for the TXT record (FAILED). Once the record is right, give SES the key again below (BYODKIM, the same selector and private key): it then looks again for up to 72 hours."
            </p>
        }
        .into_any();
    }
    view! {
        <ChangeForm kind=ChangeKind::Restart testid="restart-form" submit="Restart verification" kept>
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <p>
                "SES gave up looking for the records (FAILED) and does not look again by itself. Once they are published right, ask SES to look again: it searches for up to 72 hours, with the same tokens. dkimdash checks the records first and asks SES only if they are all right."
            </p>
        </ChangeForm>
    }
    .into_any()
}

#[component]
fn EnabledForm(
    identity: Identity,
    account: Option<String>,
    kept: Option<ChangeAnswer>,
) -> impl IntoView {
    let enabled = identity.dkim.signing_enabled;
    let submit = if enabled {
        "Turn signing off"
    } else {
        "Turn signing on"
    };
    view! {
        <ChangeForm kind=ChangeKind::Enabled testid="enabled-form" submit=submit kept>
            <IdentityFields region=identity.region.clone() name=identity.name.clone() account />
            <input type="hidden" name="enabled" value=if enabled { "off" } else { "on" } />
            {enabled.then(|| view! {
                <label class="check confirm">
                    <input type="checkbox" name="confirm" />
                    {format!("I understand: mail from {} will go out without a DKIM signature.", identity.name)}
                </label>
            })}
        </ChangeForm>
    }
}

/// Create a DEED replica of this (Easy DKIM) identity in another region of its account.
#[component]
fn ReplicaForm(identity: Identity, regions: Vec<String>) -> impl IntoView {
    view! {
        <ChangeForm kind=ChangeKind::Add testid="replica-form" submit="Create replica" kept=None>
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
        </ChangeForm>
    }
}
