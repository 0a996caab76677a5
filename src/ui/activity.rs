//! `/activity`: every recorded change, newest first, narrowed by identity, user, region and
//! account (a plain GET form, so it works without JavaScript); and the table of changes the
//! identity page reuses for its own recent changes.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::activity::{SHOWN, list_activity};
use crate::audit::entry::{AuditEntry, AuditOutcome};
use crate::routes;
use crate::ui::format::utc_minute;

/// What the activity page is narrowed to, from its URL query (empty: any).
#[derive(Clone, Debug, PartialEq)]
struct ActivityFilter {
    identity: Option<String>,
    user: Option<String>,
    region: Option<String>,
    account: Option<String>,
}

/// The activity page.
#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let query = query.read();
        ActivityFilter {
            identity: query.get("identity"),
            user: query.get("user"),
            region: query.get("region"),
            account: query.get("account"),
        }
    };
    let entries = Resource::new(filter, |f| {
        list_activity(f.identity, f.user, f.region, f.account)
    });
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <section class="card" aria-labelledby="activity-heading">
            <h1 id="activity-heading">"Activity"</h1>
            <p class="muted">
                {format!("Every DKIM change made through dkimdash, newest first (up to {SHOWN}). Recorded before SES is asked, then completed with its answer.")}
            </p>
            <form method="get" action="/activity" class="filters" role="search">
                <div class="field">
                    <label for="activity-identity">"Identity"</label>
                    <input id="activity-identity" name="identity" value=move || filter().identity.unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="activity-user">"User"</label>
                    <input id="activity-user" name="user" value=move || filter().user.unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="activity-region">"Region"</label>
                    <input id="activity-region" name="region" value=move || filter().region.unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="activity-account">"Account"</label>
                    <input id="activity-account" name="account" value=move || filter().account.unwrap_or_default() />
                </div>
                <button type="submit">"Show"</button>
                <a href="/activity">"Clear"</a>
            </form>
            <Transition fallback=|| view! { <p aria-busy="true">"Reading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(entries) => view! { <ChangesTable entries link_identity=true /> }.into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Recorded changes as a table (or a line saying there are none).
#[component]
pub fn ChangesTable(entries: Vec<AuditEntry>, link_identity: bool) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted" data-testid="no-changes">"No changes recorded."</p> }
            .into_any();
    }
    let rows = entries
        .into_iter()
        .map(|entry| {
            let identity = if link_identity {
                let href = routes::identity_page(&entry.region, &entry.identity, Some(&entry.account));
                view! { <a href=href>{entry.identity.clone()}</a> }.into_any()
            } else {
                entry.identity.clone().into_any()
            };
            let who = match &entry.user_email {
                Some(email) => format!("{} ({email})", entry.user_name),
                None => entry.user_name.clone(),
            };
            let change = format!(
                "{} → {}",
                entry.before_signing,
                entry.after_signing.clone().unwrap_or_else(|| "—".to_owned())
            );
            view! {
                <tr id=format!("change-{}", entry.id) data-testid="change-row" data-outcome=entry.outcome.as_str()>
                    <td>{utc_minute(entry.at)}</td>
                    <td>{who}</td>
                    <td>{identity} <span class="muted">{format!(" {} / {}", entry.account, entry.region)}</span></td>
                    <td>{entry.action.clone()}</td>
                    <td>{change}</td>
                    <td><span class=format!("outcome outcome-{}", entry.outcome.as_str())>{outcome_label(entry.outcome)}</span></td>
                    <td>{entry.answer.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="changes">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Identity"</th>
                        <th scope="col">"Change"</th>
                        <th scope="col">"Signing before → after"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"SES's answer"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn outcome_label(outcome: AuditOutcome) -> &'static str {
    match outcome {
        AuditOutcome::Done => "Done",
        AuditOutcome::Refused => "Refused",
        AuditOutcome::Pending => "No answer recorded",
        AuditOutcome::Unknown => "Answer lost; state re-read",
    }
}
