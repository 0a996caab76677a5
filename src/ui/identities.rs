//! The identities table: a plain GET form for the filters (works without JavaScript),
//! sortable column links, paging, and downloads of the filtered table. The server does the
//! filtering; this renders one page.

use leptos::prelude::*;
use leptos_router::components::Form;

use crate::api::identities::IdentitiesView;
use crate::app_error::AppError;
use crate::dns_check::DnsHealth;
use crate::model::{DkimStatus, Identity, IdentityType};
use crate::routes;
use crate::table::{
    query::{ChangedWithin, OriginFilter, PER_PAGE_CHOICES, SortColumn, TableQuery},
    select::TableRow,
};
use crate::ui::{
    badge::StatusBadge,
    format::{ago, utc_day, utc_minute},
};

/// The table card for `query`, from the `table` resource the page keeps current.
#[component]
pub fn IdentitiesTable(
    query: Memo<TableQuery>,
    table: Resource<Result<IdentitiesView, AppError>>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="table-heading">
            <h2 id="table-heading">"Identities"</h2>
            <Transition fallback=|| view! { <p aria-busy="true">"Loading identities…"</p> }>
                {move || Suspend::new(async move {
                    let query = query.get_untracked();
                    match table.await {
                        Ok(view) => view! { <Filters query=query.clone() view=view.clone() /> <Rows query view /> }.into_any(),
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    "Could not load the identities: " {error.to_string()}
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

/// The filter form. Its values come from the URL; submitting it changes the URL.
#[component]
fn Filters(query: TableQuery, view: IdentitiesView) -> impl IntoView {
    let statuses: Vec<(String, String)> = DkimStatus::KNOWN
        .iter()
        .map(|s| (s.as_ses().to_owned(), s.as_ses().to_owned()))
        .collect();
    let origins: Vec<(String, String)> = OriginFilter::ALL
        .iter()
        .map(|o| (o.as_param().to_owned(), o.label().to_owned()))
        .collect();
    let regions: Vec<(String, String)> = view
        .regions
        .iter()
        .map(|r| (r.clone(), r.clone()))
        .collect();
    let accounts: Vec<(String, String)> = view
        .accounts
        .iter()
        .map(|a| (a.clone(), a.clone()))
        .collect();
    let types: Vec<(String, String)> = [
        IdentityType::Domain,
        IdentityType::EmailAddress,
        IdentityType::ManagedDomain,
    ]
    .iter()
    .map(|t| (t.as_ses().to_owned(), type_label(t).to_owned()))
    .collect();
    let signing = vec![
        ("on".to_owned(), "On".to_owned()),
        ("off".to_owned(), "Off".to_owned()),
    ];
    let keys = vec![
        ("1024".to_owned(), "1024-bit".to_owned()),
        ("2048".to_owned(), "2048-bit".to_owned()),
    ];
    let per_page: Vec<(String, String)> = PER_PAGE_CHOICES
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .collect();
    let chosen_signing = query
        .signing
        .map(|on| if on { "on" } else { "off" }.to_owned());
    let chosen_key = query.key_length.as_ref().map(|k| k.bits().to_owned());
    let dns_choices: Vec<(String, String)> =
        [DnsHealth::Ok, DnsHealth::Problem, DnsHealth::Unchecked]
            .iter()
            .map(|h| (h.as_param().to_owned(), h.label().to_owned()))
            .collect();
    let changed_choices: Vec<(String, String)> = ChangedWithin::ALL
        .iter()
        .map(|c| (c.as_param().to_owned(), c.label().to_owned()))
        .collect();
    let filtered = query.is_filtered();
    view! {
        <Form method="GET" action="/">
            <div class="filters" role="search">
                <div class="field search">
                    <label for="filter-q">"Search"</label>
                    <input type="search" id="filter-q" name="q" value=query.text.clone() placeholder="domain or address" />
                </div>
                <Choice name="status" label="Status" options=statuses chosen=query.status.as_ref().map(|s| s.as_ses().to_owned()) />
                <Choice name="origin" label="Origin" options=origins chosen=query.origin.map(|o| o.as_param().to_owned()) />
                <Choice name="region" label="Region" options=regions chosen=query.region.clone() />
                <Choice name="account" label="Account" options=accounts chosen=query.account.clone() />
                <Choice name="type" label="Type" options=types chosen=query.identity_type.as_ref().map(|t| t.as_ses().to_owned()) />
                <Choice name="signing" label="Signing" options=signing chosen=chosen_signing />
                <Choice name="key" label="Key" options=keys chosen=chosen_key />
                <Choice name="dns" label="DNS" options=dns_choices chosen=query.dns.map(|d| d.as_param().to_owned()) />
                <Choice name="changed" label="Changed" options=changed_choices chosen=query.changed.map(|c| c.as_param().to_owned()) />
                <label class="check">
                    <input type="checkbox" name="attention" value="1" checked=query.attention />
                    "Needs attention"
                </label>
                <div class="field">
                    <label for="filter-per">"Per page"</label>
                    <select name="per" id="filter-per">
                        {per_page
                            .into_iter()
                            .map(|(value, text)| {
                                let selected = value == query.per_page.to_string();
                                view! { <option value=value selected=selected>{text}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                // The sort survives a new filter; the page starts again at 1.
                <input type="hidden" name="sort" value=query.sort.as_param() />
                <input type="hidden" name="dir" value=if query.descending { "desc" } else { "asc" } />
                <div class="filter-actions">
                    <button type="submit">"Apply"</button>
                    {filtered.then(|| view! { <a href="/" class="button-link">"Clear filters"</a> })}
                </div>
            </div>
        </Form>
    }
}

/// A labelled select whose first option is "Any".
#[component]
fn Choice(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    chosen: Option<String>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select name=name id=id>
                <option value="" selected=chosen.is_none()>"Any"</option>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let selected = chosen.as_deref() == Some(value.as_str());
                        view! { <option value=value selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The count line, the table, the pager and the downloads.
#[component]
fn Rows(query: TableQuery, view: IdentitiesView) -> impl IntoView {
    let page = view.page;
    let now = view.now;
    let show_account = view.accounts.len() > 1;
    let first = (page.page - 1) * page.per_page + 1;
    let last = first + page.rows.len() - 1;
    let count_line = match (page.total, page.matching) {
        (0, _) => "No identities yet. Once SES has been read, every identity of the configured accounts and regions appears here.".to_owned(),
        (total, 0) => format!("No identity matches these filters ({total} in all)."),
        (total, matching) if matching == total => format!("Showing {first}–{last} of {total}"),
        (total, matching) => format!("Showing {first}–{last} of {matching} matching ({total} in all)"),
    };
    let query_string = query.to_query_string();
    let header = |column: SortColumn, text: &'static str| {
        let sorted = query.sort == column;
        let aria = sorted.then_some(if query.descending {
            "descending"
        } else {
            "ascending"
        });
        let arrow = match (sorted, query.descending) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        };
        let href = query.sorted_by(column).href();
        view! {
            <th scope="col" aria-sort=aria>
                <a href=href>{text}{arrow}</a>
            </th>
        }
    };
    let rows = page
        .rows
        .into_iter()
        .map(|row| view! { <Row row now show_account /> })
        .collect_view();
    view! {
        <p class="muted" data-testid="table-count" aria-live="polite">{count_line}</p>
        <div class="table-scroll">
            <table class="identities" data-testid="identities">
                <caption class="visually-hidden">"Identities, one page, sortable by column"</caption>
                <thead>
                    <tr>
                        {header(SortColumn::Name, "Identity")}
                        {header(SortColumn::Type, "Type")}
                        {header(SortColumn::Location, "Account / region")}
                        {header(SortColumn::Status, "DKIM status")}
                        <th scope="col">"DNS"</th>
                        {header(SortColumn::Origin, "Origin")}
                        {header(SortColumn::KeyLength, "Key length")}
                        {header(SortColumn::Signing, "Signing")}
                        {header(SortColumn::KeyGenerated, "Last key generation")}
                        {header(SortColumn::Read, "Last read")}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <Pager query=query.clone() page=page.page pages=page.pages />
        <p class="downloads">
            "Records of " {if query.is_filtered() { "the filtered identities" } else { "all identities" }} ": "
            <a href=routes::table_download(&query_string, "csv") download>"CSV"</a>
            " · "
            <a href=routes::table_download(&query_string, "zone") download>"BIND zone"</a>
            " · "
            <a href=routes::table_download(&query_string, "json") download>"JSON"</a>
        </p>
        {view.can_repair.then(|| view! {
            <p class="repair-link">
                <a href=routes::repair_page(&query_string) data-testid="repair-link">
                    {if query.is_filtered() { "Repair the filtered identities…" } else { "Repair all identities…" }}
                </a>
                " (a preview first: nothing is written until you start it)"
            </p>
        })}
    }
}

#[component]
fn Row(row: TableRow, now: i64, show_account: bool) -> impl IntoView {
    let TableRow {
        identity,
        attention,
        dns,
    } = row;
    let (dns_class, dns_label) = match dns {
        Some(health @ DnsHealth::Ok) => ("dns-ok", health.label()),
        Some(health @ DnsHealth::Problem) => ("dns-problem", health.label()),
        Some(health @ DnsHealth::Unchecked) => ("dns-unchecked", health.label()),
        None => ("dns-unchecked", "—"),
    };
    let Identity {
        name,
        identity_type,
        region,
        account,
        dkim,
        read_at,
        ..
    } = identity;
    let href = routes::identity_page(&region, &name, show_account.then_some(account.as_str()));
    let origin = match &dkim.origin {
        Some(origin) => origin.label(),
        None => "not read yet".to_owned(),
    };
    let keys = match (&dkim.current_key_length, &dkim.next_key_length) {
        (Some(current), Some(next)) if current != next => {
            format!("{} → {}", current.bits(), next.bits())
        }
        (Some(current), _) => current.bits().to_owned(),
        (None, _) => "—".to_owned(),
    };
    // The day fits the column; the minute is in the tooltip.
    let generated = dkim.last_key_generation.map_or_else(
        || "—".into_any(),
        |at| view! { <time title=utc_minute(at)>{utc_day(at)}</time> }.into_any(),
    );
    view! {
        <tr data-status=dkim.status.as_ses().to_owned()>
            <th scope="row">
                <a href=href>{name.clone()}</a>
                {attention.map(|a| view! { <span class="attention" title="Needs attention">{a.label()}</span> })}
            </th>
            <td>{type_label(&identity_type).to_owned()}</td>
            <td><span class="nowrap">{account}</span> " · " <span class="nowrap">{region}</span></td>
            <td><StatusBadge status=dkim.status.clone() /></td>
            <td class=dns_class data-testid="dns-health">{dns_label}</td>
            <td>{origin}</td>
            <td>{keys}</td>
            <td>{if dkim.signing_enabled { "On" } else { "Off" }}</td>
            <td>{generated}</td>
            <td class="nowrap">{ago(now, read_at)}</td>
        </tr>
    }
}

/// Previous / next and a few page numbers around the current one.
#[component]
fn Pager(query: TableQuery, page: usize, pages: usize) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let link = |target: usize, text: String| {
        let href = query.with_page(target).href();
        let current = target == page;
        view! {
            <li>
                <a href=href aria-current=current.then_some("page") class:current=current>{text}</a>
            </li>
        }
    };
    let window: Vec<usize> = (1..=pages)
        .filter(|p| *p == 1 || *p == pages || p.abs_diff(page) <= 2)
        .collect();
    let mut items = Vec::new();
    if page > 1 {
        items.push(link(page - 1, "← Previous".to_owned()).into_any());
    }
    let mut last_shown = 0;
    for p in window {
        if p > last_shown + 1 {
            items.push(view! { <li aria-hidden="true">"…"</li> }.into_any());
        }
        items.push(link(p, p.to_string()).into_any());
        last_shown = p;
    }
    if page < pages {
        items.push(link(page + 1, "Next →".to_owned()).into_any());
    }
    view! {
        <nav class="pager" aria-label="Pages">
            <ul>{items}</ul>
        </nav>
    }
    .into_any()
}

/// What the table and the identity page call an identity type.
pub fn type_label(identity_type: &IdentityType) -> &str {
    match identity_type {
        IdentityType::Domain => "Domain",
        IdentityType::EmailAddress => "Email address",
        IdentityType::ManagedDomain => "Managed domain",
        IdentityType::Unknown(other) => other,
    }
}
