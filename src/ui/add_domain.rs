//! `/add`: add a domain identity to one of the configured accounts and regions, with Easy
//! DKIM, BYODKIM, or as a DEED replica. Once added, the browser opens the new identity's
//! page, which shows its records. A refused plain post (JavaScript off) comes back here
//! with what was typed.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::dkim::get_notice;
use crate::api::inventory::{TargetChoice, list_targets};
use crate::api::session::get_current_user;
use crate::app_error::AppError;
use crate::change_answer::{FormEcho, Notice, NoticeForm};
use crate::ui::change_form::{ChangeForm, ChangeKind};
use crate::ui::manage_dkim::KeyFields;

/// The add-domain page.
#[component]
pub fn AddDomainPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || query.read().get("notice"),
        |id| async move {
            let can_change = get_current_user().await?.is_some_and(|u| u.can_change());
            let targets = list_targets().await?;
            let notice = match id {
                Some(id) => get_notice(id).await?,
                None => None,
            };
            Ok::<_, AppError>((can_change, targets, notice))
        },
    );
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <section class="card" aria-labelledby="add-heading">
            <h1 id="add-heading">"Add a domain"</h1>
            <Transition fallback=|| view! { <p aria-busy="true">"Loading the accounts and regions…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok((false, _, _)) => view! {
                            <p role="alert">"Only operators can add domains; you are signed in as a viewer."</p>
                        }
                        .into_any(),
                        Ok((true, targets, notice)) => view! { <AddDomainForm targets notice /> }.into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert">"Could not load the accounts and regions: " {error.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AddDomainForm(targets: Vec<TargetChoice>, notice: Option<Notice>) -> impl IntoView {
    let (kept, typed) = match notice {
        Some(Notice {
            form: NoticeForm::AddDomain,
            outcome,
            typed,
        }) => (Some(outcome), typed),
        _ => (None, FormEcho::default()),
    };
    let accounts = distinct(targets.iter().map(|t| t.account.clone()));
    let regions = distinct(targets.iter().map(|t| t.region.clone()));
    let chosen = |field: &str| typed.get(field).unwrap_or("").to_owned();
    let (account, region, parent) = (chosen("account"), chosen("region"), chosen("parent_region"));
    let domain = chosen("domain");
    let tags = chosen("tags");
    let mode = typed.get("mode").unwrap_or("easy").to_owned();
    let options = |values: &[String], chosen: &str| {
        values
            .iter()
            .map(|value| {
                let selected = value == chosen;
                view! { <option value=value.clone() selected=selected>{value.clone()}</option> }
            })
            .collect_view()
    };
    let mode_choice = move |value: &'static str, label: &'static str| {
        let checked = mode == value;
        view! {
            <label class="check">
                <input type="radio" name="mode" value=value checked=checked />
                {label}
            </label>
        }
    };
    view! {
        <ChangeForm kind=ChangeKind::Add testid="add-domain-form" submit="Add domain" kept>
            <div class="field">
                <label for="add-account">"Account"</label>
                <select id="add-account" name="account">{options(&accounts, &account)}</select>
            </div>
            <div class="field">
                <label for="add-region">"Region"</label>
                <select id="add-region" name="region">{options(&regions, &region)}</select>
            </div>
            <div class="field">
                <label for="add-domain">"Domain"</label>
                <input id="add-domain" name="domain" required autocomplete="off" placeholder="mail.example.com" value=domain />
            </div>
            <fieldset>
                <legend>"Signing"</legend>
                {mode_choice("easy", "Easy DKIM (SES makes the keys; three CNAME records)")}
                {mode_choice("byodkim", "BYODKIM (your own key; one TXT record)")}
                {mode_choice("replica", "DEED replica of the same domain in another region")}
            </fieldset>
            <KeyFields typed=typed.clone() />
            <div class="field">
                <label for="add-parent-region">"DEED parent region"</label>
                <select id="add-parent-region" name="parent_region">
                    <option value="">"—"</option>
                    {options(&regions, &parent)}
                </select>
            </div>
            <div class="field">
                <label for="add-tags">"Tags (optional: key=value, comma-separated)"</label>
                <input id="add-tags" name="tags" autocomplete="off" value=tags />
            </div>
        </ChangeForm>
    }
}

/// `values` without repeats, in their first order.
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}
