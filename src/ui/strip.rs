//! The summary strip: every count is a link that filters the identities table to it.

use leptos::prelude::*;

use crate::api::inventory::InventorySummary;
use crate::dns_check::DnsHealth;
use crate::model::KeyLength;
use crate::table::query::TableQuery;
use crate::ui::badge::StatusBadge;

/// Counts per DKIM status, per origin, signing off, 1024-bit keys and needs attention.
#[component]
pub fn SummaryStrip(summary: InventorySummary) -> impl IntoView {
    let facets = summary.facets;
    let filter = |query: TableQuery| query.href();
    let statuses = summary
        .by_status
        .into_iter()
        .map(|(status, count)| {
            let href = filter(TableQuery {
                status: Some(status.clone()),
                ..TableQuery::default()
            });
            let testid = format!("count-{}", status.as_ses());
            view! {
                <li data-testid=testid>
                    <a href=href class="facet">
                        <StatusBadge status />
                        <span class="count">{count}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let origins = facets
        .by_origin
        .into_iter()
        .map(|(origin, count)| {
            let href = filter(TableQuery {
                origin: Some(origin),
                ..TableQuery::default()
            });
            let testid = format!("facet-origin-{}", origin.as_param());
            view! { <FacetLink href label=origin.label() count testid /> }
        })
        .collect_view();
    let signing_off = filter(TableQuery {
        signing: Some(false),
        ..TableQuery::default()
    });
    let key_1024 = filter(TableQuery {
        key_length: Some(KeyLength::Rsa1024),
        ..TableQuery::default()
    });
    let needs_attention = facets.attention > 0;
    let attention = filter(TableQuery {
        attention: true,
        ..TableQuery::default()
    });
    let dns_problems = filter(TableQuery {
        dns: Some(DnsHealth::Problem),
        ..TableQuery::default()
    });
    view! {
        <ul class="status-counts" aria-label="Identities per DKIM status">
            {statuses}
        </ul>
        <ul class="facets" aria-label="Identities per signing origin and risk">
            {origins}
            <FacetLink href=signing_off label="Signing off" count=facets.signing_off testid="facet-signing-off" />
            <FacetLink href=key_1024 label="1024-bit keys" count=facets.key_1024 testid="facet-key-1024" />
            <li data-testid="facet-dns-problem" class:alert=facets.dns_problem.gt(&0)>
                <a href=dns_problems class="facet">
                    <span class="facet-label">"DNS problems"</span>
                    <span class="count">{facets.dns_problem}</span>
                </a>
            </li>
            <li data-testid="facet-attention" class:alert=needs_attention>
                <a href=attention class="facet">
                    <span class="facet-label">"Needs attention"</span>
                    <span class="count">{facets.attention}</span>
                </a>
            </li>
        </ul>
    }
}

#[component]
fn FacetLink(
    href: String,
    #[prop(into)] label: String,
    count: usize,
    #[prop(into)] testid: String,
) -> impl IntoView {
    view! {
        <li data-testid=testid>
            <a href=href class="facet">
                <span class="facet-label">{label}</span>
                <span class="count">{count}</span>
            </a>
        </li>
    }
}
