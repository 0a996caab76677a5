//! Fleet repair pages: `/repair?<table query>`, the preview of repairing what the table
//! selects (grouped by provider and zone, with what is left out and why) and the form that
//! starts it; `/repair/runs/:id`, a run's progress and, once finished, its report. The run
//! page reloads itself while the run goes (a meta refresh: it works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::repair::{RepairPlanView, RunView, repair_preview, repair_run};
use crate::routes;
use crate::table::query::TableQuery;
use crate::ui::change_form::{ChangeForm, ChangeKind};
use crate::ui::format::utc_minute;

/// How often the run page reloads while the run goes, in seconds.
const RELOAD_SECS: &str = "2";

/// `/repair?<table query>`.
#[component]
pub fn RepairPage() -> impl IntoView {
    let query = use_query_map();
    let selection = move || TableQuery::from_lookup(|key| query.read().get(key)).to_query_string();
    let preview = Resource::new(selection, repair_preview);
    view! {
        <p class="breadcrumb"><a href=move || TableQuery::from_query_string(&selection()).href()>"← The selected identities"</a></p>
        <section class="card" aria-labelledby="repair-heading">
            <h2 id="repair-heading">"Repair the selected identities"</h2>
            <Transition fallback=|| view! { <p aria-busy="true">"Reading the DNS providers…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(preview) => view! { <Preview preview selection=selection() /> }.into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert" data-testid="repair-unavailable">{error.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Preview(preview: RepairPlanView, selection: String) -> impl IntoView {
    let plan = &preview.plan;
    let repaired: usize = plan.zones.iter().map(|z| z.identities.len()).sum();
    let creates: usize = plan.zones.iter().map(|z| z.creates()).sum();
    let summary = format!(
        "{} selected: {repaired} to repair in {} zone(s) ({creates} record(s) to create, {} verification(s) to restart), {} left out, {} with nothing to do.",
        preview.selected,
        plan.zones.len(),
        plan.restarts(),
        plan.unrepairable.len(),
        plan.nothing_to_do.len(),
    );
    let zones = plan
        .zones
        .iter()
        .map(|zone| {
            let names: Vec<String> = zone.identities.iter().map(|i| i.key.name.clone()).collect();
            let restarts = zone.identities.iter().filter(|i| i.restart).count();
            view! {
                <tr>
                    <td>{format!("{} '{}'", zone.provider_kind, zone.provider)}</td>
                    <td>{zone.zone.name.clone()}</td>
                    <td>{zone.identities.len()}</td>
                    <td>{zone.creates()}</td>
                    <td>{restarts}</td>
                    <td>{zone.batches().len()}</td>
                    <td class="record-name">{names.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let left_out = plan
        .unrepairable
        .iter()
        .map(|u| {
            let href = routes::identity_page(&u.key.region, &u.key.name, Some(&u.key.account));
            view! {
                <tr>
                    <td><a href=href>{u.key.name.clone()}</a></td>
                    <td>{u.why.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_left_out = !plan.unrepairable.is_empty();
    let does_anything = plan.does_anything();
    view! {
        <p data-testid="repair-summary">{summary}</p>
        {does_anything.then(|| view! {
            <div class="table-scroll">
                <table data-testid="repair-zones">
                    <thead><tr>
                        <th>"Provider"</th><th>"Zone"</th><th>"Identities"</th><th>"Records to create"</th>
                        <th>"Restarts"</th><th>"Batches"</th><th>"Which"</th>
                    </tr></thead>
                    <tbody>{zones}</tbody>
                </table>
            </div>
        })}
        {has_left_out.then(|| view! {
            <h3>"Left out"</h3>
            <div class="table-scroll">
                <table data-testid="repair-left-out">
                    <thead><tr><th>"Identity"</th><th>"Why"</th></tr></thead>
                    <tbody>{left_out}</tbody>
                </table>
            </div>
        })}
        {if does_anything {
            view! {
                <ChangeForm kind=ChangeKind::Repair testid="repair-form" submit="Start the repair" kept=None>
                    <input type="hidden" name="query" value=selection />
                    <input type="hidden" name="fingerprint" value=preview.fingerprint.clone() />
                    <p class="muted">
                        "Only missing records are created (never replaced) and only verifications SES gave up on are restarted, once the DNS check finds their records right. The repair goes on in the background; its page shows how far it is."
                    </p>
                </ChangeForm>
            }
            .into_any()
        } else {
            view! { <p class="notice" data-testid="repair-nothing">"Nothing to repair here."</p> }.into_any()
        }}
    }
}

/// `/repair/runs/:id`.
#[component]
pub fn RepairRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let run = Resource::new(id, repair_run);
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <Transition fallback=|| view! { <p aria-busy="true">"Loading the repair…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(Some(run)) => view! { <Run run /> }.into_any(),
                    Ok(None) => view! {
                        <section class="card"><p>"There is no such repair."</p></section>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <section class="card"><p class="error" role="alert">{error.to_string()}</p></section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Run(run: RunView) -> impl IntoView {
    let total: usize = run.counts.iter().map(|(_, n)| n).sum();
    let count = |state: &str| {
        run.counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    };
    let under_way = total - count("done") - count("restarted") - count("failed");
    let finished = run.finished_at.is_some();
    let progress = match run.finished_at {
        Some(at) => format!(
            "Finished {}: {} done, {} restarted, {} failed, of {total}.",
            utc_minute(at),
            count("done"),
            count("restarted"),
            count("failed"),
        ),
        None => format!(
            "Under way: {} of {total} finished, {under_way} to go.",
            total - under_way
        ),
    };
    let steps = run
        .steps
        .iter()
        .map(|step| {
            let page = routes::identity_page(&step.region, &step.name, Some(&step.account));
            let audit = format!("/activity?identity={}", routes::segment(&step.name));
            view! {
                <tr data-state=step.state.clone()>
                    <td><a href=page>{step.name.clone()}</a></td>
                    <td>{step.state.clone()}</td>
                    <td>{step.detail.clone().unwrap_or_default()}</td>
                    <td><a href=audit>"audit log"</a></td>
                </tr>
            }
        })
        .collect_view();
    let left_out = run
        .left_out
        .iter()
        .map(|(name, why)| view! { <tr><td>{name.clone()}</td><td>{why.clone()}</td></tr> })
        .collect_view();
    view! {
        {(!finished).then(|| view! { <Meta http_equiv="refresh" content=RELOAD_SECS /> })}
        <section class="card" aria-labelledby="run-heading">
            <h2 id="run-heading">{format!("Fleet repair #{}", run.id)}</h2>
            <p class="muted">
                {format!("Started {} by {}", utc_minute(run.started_at), run.started_by)}
            </p>
            <p data-testid="run-progress" aria-live="polite">{progress}</p>
            <div class="table-scroll">
                <table data-testid="run-steps">
                    <thead><tr><th>"Identity"</th><th>"State"</th><th>"What happened"</th><th>"Audit"</th></tr></thead>
                    <tbody>{steps}</tbody>
                </table>
            </div>
            {(!run.left_out.is_empty()).then(|| view! {
                <h3>"Left out of the repair"</h3>
                <div class="table-scroll">
                    <table data-testid="run-left-out">
                        <thead><tr><th>"Identity"</th><th>"Why"</th></tr></thead>
                        <tbody>{left_out}</tbody>
                    </table>
                </div>
            })}
        </section>
    }
}
