//! `/alerts`: what is firing now, every post sent about alerts (the delivery log), where
//! alerts go (receivers, URLs cut to their host) and the rules in effect.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use leptos_router::hooks::use_query_map;

use crate::alerts::entry::{AlertsOverview, Delivery, DeliveryState, FiringAlert};
use crate::alerts::silence::{DURATIONS, Silence};
use crate::api::alerts::{EndSilence, SilenceAlerts, get_alerts};
use crate::api::dkim::get_notice;
use crate::routes;
use crate::ui::format::utc_minute;

/// The Alerts page.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let overview = Resource::new(|| (), |_| get_alerts());
    // The answer to a silence form just sent, shown once.
    let notice = Resource::new(
        move || query.read().get("notice"),
        |id| async move {
            match id {
                Some(id) => get_notice(id).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                notice.await.map(|notice| match notice.outcome {
                    Ok(done) => view! { <p role="status" data-testid="silence-outcome">{done.message}</p> }.into_any(),
                    Err(error) => view! { <p class="error" role="alert" data-testid="silence-error">{error.to_string()}</p> }.into_any(),
                })
            })}
        </Transition>
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
        silences,
        now,
        can_silence,
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
            <FiringTable firing can_silence />
        </section>
        <section class="card" aria-labelledby="silences-heading">
            <h2 id="silences-heading">"Silences"</h2>
            <p class="muted">"A silenced alert still fires, shows here and counts in /metrics; it is not posted. If it still fires when the silence ends, it is posted then."</p>
            <SilencesTable silences now can_silence />
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
fn FiringTable(firing: Vec<FiringAlert>, can_silence: bool) -> impl IntoView {
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
                    <td>
                        {alert.silenced_until.map(|until| view! {
                            <span class="badge silenced" data-testid="silenced">{format!("silenced until {}", utc_minute(until))}</span>
                        })}
                        {can_silence.then(|| view! { <SilenceForm alert=alert.clone() /> })}
                    </td>
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
                        <th scope="col">"Silence"</th>
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

/// Silence this alert, its identity's or its rule's: a plain form (works without
/// JavaScript), folded away until opened.
#[component]
fn SilenceForm(alert: FiringAlert) -> impl IntoView {
    let whose = alert
        .identity
        .clone()
        .unwrap_or_else(|| format!("{} / {}", alert.account, alert.region));
    view! {
        <details class="silence">
            <summary>"Silence…"</summary>
            <form action=SilenceAlerts::PATH method="post" data-testid="silence-form">
                <input type="hidden" name="fingerprint" value=alert.fingerprint.clone() />
                <fieldset>
                    <legend>"What"</legend>
                    <label><input type="radio" name="scope" value="alert" checked /> "This alert"</label>
                    <label><input type="radio" name="scope" value="identity" /> {format!("Every alert of {whose}")}</label>
                    <label><input type="radio" name="scope" value="rule" /> {format!("Every {} alert", alert.rule)}</label>
                </fieldset>
                <label>
                    "For "
                    <select name="duration">
                        {DURATIONS
                            .iter()
                            .map(|(value, _, words)| view! { <option value=*value selected=*value == "1d">{*words}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>"Why " <input type="text" name="comment" required maxlength="500" placeholder="e.g. key rotation planned for Monday" /></label>
                <button type="submit">"Silence"</button>
            </form>
        </details>
    }
}

#[component]
fn SilencesTable(silences: Vec<Silence>, now: i64, can_silence: bool) -> impl IntoView {
    if silences.is_empty() {
        return view! { <p class="muted" data-testid="no-silences">"No silences."</p> }.into_any();
    }
    let rows = silences
        .into_iter()
        .map(|silence| {
            let active = silence.active(now);
            let state = match (&silence.ended_by, active) {
                (_, true) => format!("until {}", utc_minute(silence.ends_at)),
                (Some(by), false) => format!("ended {} by {by}", utc_minute(silence.ends_at)),
                (None, false) => format!("ended {}", utc_minute(silence.ends_at)),
            };
            let end = (can_silence && active).then(|| {
                view! {
                    <form action=EndSilence::PATH method="post">
                        <input type="hidden" name="id" value=silence.id />
                        <button type="submit">"End now"</button>
                    </form>
                }
            });
            view! {
                <tr data-testid="silence-row" data-active=active.to_string()>
                    <td>{silence.scope.clone()}</td>
                    <td>{silence.comment.clone()}</td>
                    <td>{silence.created_by.clone()}</td>
                    <td><time class="nowrap">{utc_minute(silence.starts_at)}</time></td>
                    <td>{state}</td>
                    <td>{end}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="silences">
                <thead>
                    <tr>
                        <th scope="col">"Covers"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"From (UTC)"</th>
                        <th scope="col">"Until"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
