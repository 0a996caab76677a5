//! The inventory at a glance: totals, the summary strip, and how reading each target has
//! gone. Reads the cached snapshot only; "Refresh now" asks for a sweep.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::inventory::{InventorySummary, RefreshAnswer, RefreshInventory};
use crate::app_error::AppError;
use crate::model::TargetStatus;
use crate::ui::{format::ago, strip::SummaryStrip};

/// The overview card with its refresh control; `summary` is re-read by the page.
#[component]
pub fn InventoryOverview(
    refresh: ServerAction<RefreshInventory>,
    summary: Resource<Result<InventorySummary, AppError>>,
) -> impl IntoView {
    let location = use_location();
    let back = move || {
        let search = location.search.get();
        let query = search.trim_start_matches('?');
        if query.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{query}", location.pathname.get())
        }
    };
    view! {
        <section class="card" aria-labelledby="inventory-heading">
            <div class="card-head">
                <h1 id="inventory-heading">"DKIM overview"</h1>
                <ActionForm action=refresh>
                    // Where a plain post comes back to, filters and all.
                    <input type="hidden" name="back" value=back />
                    <button type="submit" disabled=move || refresh.pending().get()>
                        {move || if refresh.pending().get() { "Starting…" } else { "Refresh now" }}
                    </button>
                </ActionForm>
                {move || {
                    let said = match refresh.value().get()? {
                        Ok(RefreshAnswer::TooSoon { retry_after_secs }) => format!(
                            "Refreshed less than a minute ago: the next refresh can start in {retry_after_secs} s."
                        ),
                        Ok(_) => return None,
                        Err(error) => error.to_string(),
                    };
                    Some(view! { <p class="muted" role="status" data-testid="refresh-answer">{said}</p> })
                }}
            </div>
            <Transition fallback=|| view! { <p aria-busy="true">"Loading the inventory…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! { <Summary summary /> }.into_any(),
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "The dashboard server did not answer: " {error.to_string()}
                                    " The page tries again every few seconds."
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Summary(summary: InventorySummary) -> impl IntoView {
    let never_read = summary.targets.iter().all(|t| t.last_success.is_none());
    let now = summary.now;
    let last_read = summary.targets.iter().filter_map(|t| t.last_success).min();
    let targets = summary.targets.clone();
    view! {
        <p class="total">
            <strong data-testid="identity-total">{summary.total}</strong>
            {if summary.total == 1 { " identity" } else { " identities" }}
            " in " {summary.targets.len()}
            {if summary.targets.len() == 1 { " account/region" } else { " accounts/regions" }}
            {last_read.map(|at| format!(" · last refreshed {}", ago(now, at)))}
        </p>
        <p aria-live="polite" class="muted" data-testid="sweep-state">
            {summary.sweeping.then_some("Reading SES now… the numbers update when it is done.")}
            {(never_read && !summary.sweeping)
                .then_some("SES has not been read yet; the dashboard keeps trying every 15 seconds.")}
        </p>
        <SummaryStrip summary />
        <table class="targets">
            <caption>"Where the identities are read from"</caption>
            <thead>
                <tr>
                    <th scope="col">"Account"</th>
                    <th scope="col">"Region"</th>
                    <th scope="col">"Identities"</th>
                    <th scope="col">"Last read"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                {targets.into_iter().map(|target| view! { <TargetRow target now /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn TargetRow(target: TargetStatus, now: i64) -> impl IntoView {
    let last_read = target
        .last_success
        .map_or_else(|| "not yet".to_owned(), |at| ago(now, at));
    let state = match (&target.last_error, target.details_pending) {
        (Some(error), _) => view! {
            <span class="error" role="alert">
                {format!("Last read failed {}: {}", ago(now, error.at), error.message)}
            </span>
        }
        .into_any(),
        (None, 0) => view! { <span>"Up to date"</span> }.into_any(),
        (None, pending) => {
            view! { <span>{format!("Reading details of {pending} more")}</span> }.into_any()
        }
    };
    view! {
        <tr>
            <td>{target.account}</td>
            <td>{target.region}</td>
            <td>{target.identities}</td>
            // The time itself too, so a test can tell that a sweep ran.
            <td data-testid="target-last-read" data-at=target.last_success.map(|at| at.to_string())>{last_read}</td>
            <td>{state}</td>
        </tr>
    }
}
