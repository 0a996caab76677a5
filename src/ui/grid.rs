//! The accounts × regions grid on the overview: one cell per target, coloured by its worst
//! state (with the state in words too), its counts per DKIM status, each a link to the
//! table filtered to it. Plain HTML and CSS: nothing for the browser to run.

use leptos::prelude::*;

use crate::grid::{GridCell, axes};
use crate::model::DkimStatus;
use crate::table::query::TableQuery;
use crate::ui::badge::StatusBadge;

/// The grid of `cells`.
#[component]
pub fn TargetGrid(cells: Vec<GridCell>) -> impl IntoView {
    let (accounts, regions) = axes(&cells);
    let header = regions
        .iter()
        .map(|region| view! { <th scope="col">{region.clone()}</th> })
        .collect_view();
    let rows = accounts
        .into_iter()
        .map(|account| {
            let row = regions
                .iter()
                .map(|region| {
                    let cell = cells
                        .iter()
                        .find(|c| c.account == account && c.region == *region)
                        .cloned();
                    match cell {
                        Some(cell) => view! { <td><Cell cell /></td> }.into_any(),
                        None => view! { <td class="muted">"not read"</td> }.into_any(),
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{account}</th>{row}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid="target-grid">
                <caption>"Accounts × regions: the worst state in each"</caption>
                <thead><tr><td></td>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Cell(cell: GridCell) -> impl IntoView {
    let worst = cell.worst();
    let (class, label) = worst.class_and_label();
    let filtered = |status: Option<DkimStatus>| {
        TableQuery {
            account: Some(cell.account.clone()),
            region: Some(cell.region.clone()),
            status,
            ..TableQuery::default()
        }
        .href()
    };
    let all = filtered(None);
    let total: usize = cell.counts.iter().map(|(_, n)| n).sum();
    let counts = cell
        .counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| {
            let href = filtered(Some(status.clone()));
            view! {
                <li>
                    <a href=href class="facet" data-testid="grid-count">
                        <StatusBadge status=status.clone() />
                        <span class="count">{*n}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <div
            class=format!("grid-cell {class}")
            data-testid="grid-cell"
            data-account=cell.account.clone()
            data-region=cell.region.clone()
            data-worst=class
        >
            <a href=all class="grid-state">
                <strong>{label}</strong>
                {format!(" · {total} {}", if total == 1 { "identity" } else { "identities" })}
            </a>
            <ul class="grid-counts">{counts}</ul>
        </div>
    }
}
