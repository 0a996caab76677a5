//! The home page: the inventory overview and the identities table (both re-read every few
//! seconds, and after "Refresh now"), then the server's own status.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{
    identities::list_identities,
    inventory::{RefreshInventory, get_inventory_summary},
    status::get_server_status,
};
use crate::table::query::TableQuery;
use crate::ui::{format::short_duration, identities::IdentitiesTable, overview::InventoryOverview};

/// How often the open page re-reads the (cached) inventory.
const POLL_EVERY: Duration = Duration::from_secs(10);

/// The overview and the table; the table's view lives in the URL query.
#[component]
pub fn HomePage() -> impl IntoView {
    let refresh = ServerAction::<RefreshInventory>::new();
    let tick = RwSignal::new(0_u32);
    // Browser only (effects do not run on the server): keep the numbers current.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|n| *n += 1), POLL_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| TableQuery::from_lookup(|key| p.get(key))));
    let summary = Resource::new(
        move || (refresh.version().get(), tick.get()),
        |_| get_inventory_summary(),
    );
    let table = Resource::new(
        move || (query.get(), refresh.version().get(), tick.get()),
        |(query, _, _)| list_identities(query),
    );
    view! {
        <InventoryOverview refresh summary />
        <IdentitiesTable query table />
        <ServerStatus />
    }
}

/// Server status, read through a `#[server]` function and re-read on demand.
#[component]
fn ServerStatus() -> impl IntoView {
    // Each click bumps the check number; the resource re-runs and echoes the number back
    // with the answer, so what is shown always says which check it belongs to.
    let check = RwSignal::new(1_u32);
    let status = Resource::new(
        move || check.get(),
        |n| async move { get_server_status().await.map(|status| (n, status)) },
    );

    view! {
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Server status"</h2>
            <Transition fallback=|| view! { <p>"Asking the server…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok((n, status)) => {
                            view! {
                                <dl class="facts" data-testid="server-status">
                                    <dt>"Version"</dt>
                                    <dd data-testid="server-version">{status.version}</dd>
                                    <dt>"Up for"</dt>
                                    <dd>{short_duration(status.uptime_secs)}</dd>
                                    <dt>"Answer to check"</dt>
                                    <dd data-testid="check-number">{format!("#{n}")}</dd>
                                </dl>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "The server did not answer: "
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
            <button type="button" on:click=move |_| check.update(|n| *n += 1)>
                "Check again"
            </button>
        </section>
    }
}
