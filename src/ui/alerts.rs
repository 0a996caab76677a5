//! `/alerts`: what is firing now, every post sent about alerts (the delivery log), where
//! alerts go (receivers, URLs cut to their host) and the rules in effect.

use leptos::prelude::*;

use crate::alerts::entry::{AlertsOverview, Delivery, DeliveryState, FiringAlert};
use crate::api::alerts::get_alerts;
use crate::routes;
use crate::ui::format::utc_minute;

/// The Alerts page.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_alerts());
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <Transition fallback=|| view! { <p aria-busy="true">"Reading the alerts…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <AlertsBody overview /> }.into_any(),
                    Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AlertsBody(overview: AlertsOverview) -> impl IntoView {
    let AlertsOverview {
        firing,
        deliveries,
        receivers,
        rules,
    } = overview;
    let receivers_view = if receivers.is_empty() {
        view! {
            <p class="muted" data-testid="no-receivers">
                "No receivers are configured: alerts are shown here and in /metrics, sent nowhere. Add [[receiver]] tables (Alertmanager webhooks or Slack) to the alerts file (--alerts-file)."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul data-testid="receivers">
                {receivers
                    .into_iter()
                    .map(|r| view! {
                        <li>
                            <strong>{r.name}</strong>
                            {format!(" ({}) {}", r.kind, r.url)}
                            <span class="muted">{format!(" · gets {} · {}", r.gets, r.grouping)}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="firing-heading">
            <h1 id="firing-heading">"Alerts"</h1>
            <h2>{format!("Firing now: {}", firing.len())}</h2>
            <FiringTable firing />
        </section>
        <section class="card" aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">"Sent"</h2>
            <p class="muted">"Each alert is announced once when it fires and once when it resolves, to every receiver that gets its severity and name; the alerts of one group that change together share one post. A receiver that fails is retried for about 50 minutes without holding up the others."</p>
            <DeliveriesTable deliveries />
        </section>
        <section class="card" aria-labelledby="receivers-heading">
            <h2 id="receivers-heading">"Receivers"</h2>
            {receivers_view}
            <h2>"Rules in effect"</h2>
            <ul data-testid="rules">{rules.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
        </section>
    }
}

#[component]
fn FiringTable(firing: Vec<FiringAlert>) -> impl IntoView {
    if firing.is_empty() {
        return view! { <p class="muted" data-testid="none-firing">"Nothing is firing."</p> }
            .into_any();
    }
    let rows = firing
        .into_iter()
        .map(|alert| {
            let subject = match &alert.identity {
                Some(name) => {
                    let href = routes::identity_page(&alert.region, name, Some(&alert.account));
                    view! { <a href=href>{name.clone()}</a> }.into_any()
                }
                None => "(the whole target)".into_any(),
            };
            view! {
                <tr data-testid="firing-row" data-rule=alert.rule.clone() data-fingerprint=alert.fingerprint.clone()>
                    <td><span class=format!("badge severity-{}", alert.severity)>{alert.severity.clone()}</span></td>
                    <td>
                        <strong>{alert.summary.clone()}</strong>
                        <br />
                        <span class="muted">{alert.description.clone()}</span>
                    </td>
                    <td>{subject} <span class="muted">{format!(" {} / {}", alert.account, alert.region)}</span></td>
                    <td><time class="nowrap">{utc_minute(alert.starts_at)}</time></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="alerts">
                <thead>
                    <tr>
                        <th scope="col">"Severity"</th>
                        <th scope="col">"Alert"</th>
                        <th scope="col">"Where"</th>
                        <th scope="col">"Since (UTC)"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn DeliveriesTable(deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="muted" data-testid="no-deliveries">"Nothing sent yet."</p> }
            .into_any();
    }
    let rows = deliveries
        .into_iter()
        .map(|delivery| {
            let state = match &delivery.state {
                DeliveryState::Delivered { at } => format!("delivered {}", utc_minute(*at)),
                DeliveryState::Queued { next_at } => {
                    format!("grouped, sent at {}", utc_minute(*next_at))
                }
                DeliveryState::Retrying { next_at } => {
                    format!("retrying at {}", utc_minute(*next_at))
                }
                DeliveryState::GivenUp { at } => format!("given up {}", utc_minute(*at)),
                DeliveryState::Skipped { at, why } => {
                    format!("not sent ({why}) {}", utc_minute(*at))
                }
            };
            view! {
                <tr data-testid="delivery-row" data-state=delivery.state.as_str() data-status=delivery.status.clone()>
                    <td><time class="nowrap">{utc_minute(delivery.created_at)}</time></td>
                    <td>{delivery.summary.clone()}</td>
                    <td>{delivery.status.clone()}</td>
                    <td>{delivery.receiver.clone()}</td>
                    <td>{state}</td>
                    <td>{delivery.attempts}</td>
                    <td>{delivery.last_error.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="deliveries">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Alert"</th>
                        <th scope="col">"Posted as"</th>
                        <th scope="col">"Receiver"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Tries"</th>
                        <th scope="col">"Last error"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
