//! The inventory at a glance: totals, the summary strip, and how reading each target has
//! gone. Server-rendered from the cached snapshot; "Refresh now" is an island, which also
//! says when newer figures are in.

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

use crate::api::inventory::{
    GetInventoryStamp, InventoryStamp, InventorySummary, RefreshAnswer, RefreshInventory,
};
use crate::app_error::AppError;
use crate::model::TargetStatus;
use crate::ui::{
    chart::StatusChart,
    format::ago,
    grid::TargetGrid,
    send::{Sender, post},
    strip::SummaryStrip,
};

/// The overview card with its refresh control.
#[component]
pub fn InventoryOverview(summary: Resource<Result<InventorySummary, AppError>>) -> impl IntoView {
    let location = use_location();
    // This page's own address, filters and all: where a plain post comes back to, and
    // what "show the newer figures" opens.
    let here = move || {
        let search = location.search.get_untracked();
        let query = search.trim_start_matches('?');
        if query.is_empty() {
            location.pathname.get_untracked()
        } else {
            format!("{}?{query}", location.pathname.get_untracked())
        }
    };
    view! {
        <section class="card" aria-labelledby="inventory-heading">
            <Transition fallback=|| view! { <p aria-busy="true">"Loading the inventory…"</p> }>
                {move || Suspend::new(async move {
                    let summary = summary.await;
                    let seen = summary.as_ref().map(InventorySummary::stamp).unwrap_or_default();
                    view! {
                        <div class="card-head">
                            <h1 id="inventory-heading">"DKIM overview"</h1>
                            <RefreshNow here=here() seen />
                        </div>
                        {match summary {
                            Ok(summary) => view! { <Summary summary /> }.into_any(),
                            Err(error) => view! {
                                <p class="error" role="alert">
                                    "The dashboard server did not answer: " {error.to_string()}
                                </p>
                            }
                            .into_any(),
                        }}
                    }
                })}
            </Transition>
        </section>
    }
}

/// How often the open overview asks whether newer figures are in.
const WATCH_EVERY: Duration = Duration::from_secs(10);
/// How often it asks while the sweep its own "Refresh now" started runs.
const WAIT_EVERY: Duration = Duration::from_secs(2);
/// How many times it asks before it stops waiting for that sweep (five minutes).
const WAIT_AT_MOST: u32 = 150;

/// "Refresh now", and what the open page knows about newer figures. After its own refresh
/// the page reloads once that sweep is done; figures that change by themselves (the
/// background sweep) are announced with a link instead, so nobody's reading or typing is
/// interrupted. `here` is this page's address; `seen` the stamp it was rendered from.
#[island]
fn RefreshNow(here: String, seen: InventoryStamp) -> impl IntoView {
    let refresh = Sender::<RefreshAnswer>::new();
    let value = refresh.answer;
    let pending = refresh.pending;
    let gave_up = RwSignal::new(false);
    let waiting = Memo::new(move |_| {
        let started = matches!(
            value.get(),
            Some(Ok(RefreshAnswer::Started | RefreshAnswer::Joined))
        );
        started && !gave_up.get()
    });
    let newer = RwSignal::new(false);
    // Effects run in the browser only. Nothing to ask once newer figures are announced.
    Effect::new(move |_| {
        let (waiting, announced) = (waiting.get(), newer.get());
        if announced && !waiting {
            return;
        }
        let every = if waiting { WAIT_EVERY } else { WATCH_EVERY };
        let asked = RwSignal::new(0_u32);
        let ask = move || {
            asked.update(|n| *n += 1);
            if waiting && asked.get_untracked() > WAIT_AT_MOST {
                gave_up.set(true);
                return;
            }
            leptos::task::spawn_local(async move {
                let Ok(now) = post::<InventoryStamp>(GetInventoryStamp::PATH, None).await else {
                    return;
                };
                if waiting && now.swept_since(&seen) {
                    let _ = window().location().reload();
                } else if now.newer_than(&seen) {
                    newer.set(true);
                }
            });
        };
        if let Ok(handle) = set_interval_with_handle(ask, every) {
            on_cleanup(move || handle.clear());
        }
    });
    let said = move || {
        let said = match value.get()? {
            Ok(RefreshAnswer::TooSoon { retry_after_secs }) => format!(
                "Refreshed less than a minute ago: the next refresh can start in {retry_after_secs} s."
            ),
            Ok(_) if gave_up.get() => {
                "Still reading SES after five minutes: reload the page later for the new figures."
                    .to_owned()
            }
            Ok(_) => "Reading SES now… the page reloads when it is done.".to_owned(),
            Err(error) => error.to_string(),
        };
        Some(view! { <p class="muted" role="status" data-testid="refresh-answer">{said}</p> })
    };
    let show_newer = here.clone();
    view! {
        <form action=RefreshInventory::PATH method="post" on:submit=refresh.submit()>
            <input type="hidden" name="back" value=here />
            <button type="submit" disabled=move || pending.get() || waiting.get()>
                {move || if pending.get() { "Starting…" } else { "Refresh now" }}
            </button>
        </form>
        {said}
        {move || (newer.get() && !waiting.get()).then(|| view! {
            <p class="muted" role="status" data-testid="newer-figures">
                "Newer figures are in. " <a href=show_newer.clone()>"Show them"</a>
            </p>
        })}
    }
}

#[component]
fn Summary(summary: InventorySummary) -> impl IntoView {
    let never_read = summary.targets.iter().all(|t| t.last_success.is_none());
    let now = summary.now;
    let last_read = summary.targets.iter().filter_map(|t| t.last_success).min();
    let targets = summary.targets.clone();
    let grid = summary.grid.clone();
    let daily = summary.daily.clone();
    view! {
        <p class="total">
            <strong data-testid="identity-total">{summary.total}</strong>
            {if summary.total == 1 { " identity" } else { " identities" }}
            " in " {summary.targets.len()}
            {if summary.targets.len() == 1 { " account/region" } else { " accounts/regions" }}
            {last_read.map(|at| format!(" · last refreshed {}", ago(now, at)))}
        </p>
        <p aria-live="polite" class="muted" data-testid="sweep-state">
            {summary.sweeping.then_some("Reading SES now…")}
            {(never_read && !summary.sweeping)
                .then_some("SES has not been read yet; the dashboard keeps trying every 15 seconds.")}
        </p>
        <DnsProgressLine progress=summary.dns_progress />
        {summary.changed_last_day.map(|changed| view! {
            <p class="muted" data-testid="changed-last-day">
                <a href="/?changed=24h">
                    {match changed {
                        1 => "1 identity".to_owned(),
                        n => format!("{n} identities"),
                    }}
                </a>
                " changed in the last 24 hours."
            </p>
        })}
        <SummaryStrip summary />
        <TargetGrid cells=grid />
        {daily.map(|days| view! { <StatusChart days now /> })}
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

/// "DNS: 3,200 of 10,000 checked; about 40 min left" while the checks are not through.
#[component]
pub fn DnsProgressLine(progress: Option<crate::dns_check::DnsProgress>) -> impl IntoView {
    progress.and_then(|p| p.describe()).map(|said| {
        view! { <p class="muted" data-testid="dns-progress" aria-live="polite">{said}</p> }
    })
}
