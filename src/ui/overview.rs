//! The inventory at a glance: how many identities, per DKIM status, and how reading each
//! target has gone. Reads the cached snapshot only; "Refresh now" asks for a sweep.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::inventory::{InventorySummary, RefreshInventory, get_inventory_summary};
use crate::model::TargetStatus;
use crate::ui::{badge::StatusBadge, format::ago};

/// How often the open page re-reads the (cached) summary.
const POLL_EVERY: Duration = Duration::from_secs(10);

/// The overview card with its refresh control.
#[component]
pub fn InventoryOverview() -> impl IntoView {
    let refresh = ServerAction::<RefreshInventory>::new();
    let summary = Resource::new(move || refresh.version().get(), |_| get_inventory_summary());
    // Browser only (effects do not run on the server): keep the numbers current.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || summary.refetch(), POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });

    view! {
        <section class="card" aria-labelledby="inventory-heading">
            <div class="card-head">
                <h1 id="inventory-heading">"Identities"</h1>
                <ActionForm action=refresh>
                    <button type="submit" disabled=move || refresh.pending().get()>
                        "Refresh now"
                    </button>
                </ActionForm>
            </div>
            <Transition fallback=|| view! { <p>"Loading the inventory…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! { <Summary summary /> }.into_any(),
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "The dashboard server did not answer: " {error.to_string()}
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
    view! {
        <p class="total">
            <strong data-testid="identity-total">{summary.total}</strong>
            {if summary.total == 1 { " identity" } else { " identities" }}
            " in " {summary.targets.len()}
            {if summary.targets.len() == 1 { " account/region" } else { " accounts/regions" }}
        </p>
        <p aria-live="polite" class="muted">
            {summary.sweeping.then_some("Reading SES now…")}
            {(never_read && !summary.sweeping)
                .then_some("SES has not been read yet; the dashboard keeps trying every 15 seconds.")}
        </p>
        <ul class="status-counts" aria-label="Identities per DKIM status">
            {summary
                .by_status
                .into_iter()
                .map(|(status, count)| {
                    let id = format!("count-{}", status.as_ses());
                    view! {
                        <li data-testid=id>
                            <StatusBadge status />
                            <span class="count">{count}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
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
                {summary.targets.into_iter().map(|target| view! { <TargetRow target now /> }).collect_view()}
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
            <td>{last_read}</td>
            <td>{state}</td>
        </tr>
    }
}
