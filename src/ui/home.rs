//! The home page: the inventory overview and the identities table, server-rendered from
//! the cached snapshot. The table's view lives in the URL query.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{identities::list_identities, inventory::get_inventory_summary};
use crate::table::query::TableQuery;
use crate::ui::{identities::IdentitiesTable, overview::InventoryOverview};

/// The overview and the table.
#[component]
pub fn HomePage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| TableQuery::from_lookup(|key| p.get(key))));
    let summary = Resource::new(|| (), |_| get_inventory_summary());
    let table = Resource::new(move || query.get(), list_identities);
    view! {
        <InventoryOverview summary />
        <IdentitiesTable query table />
    }
}
