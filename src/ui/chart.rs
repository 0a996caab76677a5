//! The overview's 30-day chart: identities per DKIM status on each day, as stacked bars in
//! server-rendered SVG (no chart library, nothing for the browser to run), coloured by the
//! theme's status colours, with the figures as a table for screen readers and phones.

use leptos::prelude::*;

use crate::history::entry::{CHART_DAYS, DAY_SECS, DayCounts, day_of};
use crate::model::{DkimStatus, UnixSeconds};
use crate::ui::format::utc_day;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const SLOT: f64 = WIDTH / CHART_DAYS as f64;
const BAR: f64 = SLOT * 0.7;

/// The chart of `days` (oldest first) up to the day of `now`.
#[component]
pub fn StatusChart(days: Vec<DayCounts>, now: UnixSeconds) -> impl IntoView {
    let first = day_of(now) - (CHART_DAYS - 1) * DAY_SECS;
    let peak = days
        .iter()
        .map(|d| d.counts.iter().map(|(_, n)| n).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let bars = days
        .iter()
        .filter(|d| d.day >= first)
        .map(|d| {
            let slot = ((d.day - first) / DAY_SECS) as f64;
            let x = slot * SLOT + (SLOT - BAR) / 2.0;
            let mut top = HEIGHT;
            let segments = d
                .counts
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(status, n)| {
                    let height = *n as f64 / peak as f64 * HEIGHT;
                    top -= height;
                    view! {
                        <rect
                            class=format!("chart-{}", status_class(status))
                            x=format!("{x:.1}")
                            y=format!("{top:.1}")
                            width=format!("{BAR:.1}")
                            height=format!("{height:.1}")
                        >
                            <title>{format!("{}: {n} {status}", utc_day(d.day))}</title>
                        </rect>
                    }
                })
                .collect_view();
            view! { <g>{segments}</g> }
        })
        .collect_view();
    let rows = days
        .iter()
        .rev()
        .map(|d| {
            let cells = d
                .counts
                .iter()
                .take(DkimStatus::KNOWN.len())
                .map(|(_, n)| view! { <td>{*n}</td> })
                .collect_view();
            view! { <tr data-testid="chart-day"><th scope="row">{utc_day(d.day)}</th>{cells}</tr> }
        })
        .collect_view();
    let header = DkimStatus::KNOWN
        .iter()
        .map(|s| view! { <th scope="col">{s.as_ses().to_owned()}</th> })
        .collect_view();
    let legend = DkimStatus::KNOWN
        .iter()
        .map(|s| {
            view! {
                <li><span class=format!("chart-key chart-{}", status_class(s)) aria-hidden="true"></span>{s.as_ses().to_owned()}</li>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="status-chart">
            <figcaption>"Identities per DKIM status, last 30 days (UTC; each day as its last read saw it)"</figcaption>
            {if days.is_empty() {
                view! { <p class="muted">"No day recorded yet: the chart fills in as SES is read."</p> }.into_any()
            } else {
                // The bars stretch with the page; the words stay outside the drawing so
                // they never stretch with it.
                view! {
                    <p class="chart-scale muted">{format!("{peak} identities")}</p>
                    <svg
                        viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                        role="img"
                        aria-label=format!("Stacked bars: identities per DKIM status on each of the last {CHART_DAYS} days; the same figures are in the table below.")
                        preserveAspectRatio="none"
                    >
                        <line class="chart-axis" x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string() />
                        {bars}
                    </svg>
                    <p class="chart-days muted">
                        <span>{utc_day(first)}</span>
                        <span>{utc_day(day_of(now))}</span>
                    </p>
                }
                .into_any()
            }}
            <ul class="chart-legend">{legend}</ul>
            <details>
                <summary>"The figures"</summary>
                <div class="table-scroll">
                    <table class="chart-table">
                        <thead><tr><th scope="col">"Day"</th>{header}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
}

/// The CSS class suffix of a status.
fn status_class(status: &DkimStatus) -> &'static str {
    match status {
        DkimStatus::Success => "success",
        DkimStatus::Pending => "pending",
        DkimStatus::TemporaryFailure => "temporary-failure",
        DkimStatus::Failed => "failed",
        DkimStatus::NotStarted | DkimStatus::Unknown(_) => "not-started",
    }
}
