//! The home page: the inventory overview, then the server's own status.

use leptos::prelude::*;

use crate::api::status::get_server_status;
use crate::ui::{format::short_duration, overview::InventoryOverview};

/// Server status, read through a `#[server]` function and re-read on demand.
#[component]
pub fn HomePage() -> impl IntoView {
    // Each click bumps the check number; the resource re-runs and echoes the number back
    // with the answer, so what is shown always says which check it belongs to.
    let check = RwSignal::new(1_u32);
    let status = Resource::new(
        move || check.get(),
        |n| async move { get_server_status().await.map(|status| (n, status)) },
    );

    view! {
        <InventoryOverview />
        <section class="card" aria-labelledby="status-heading">
            <h1 id="status-heading">"Server status"</h1>
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
