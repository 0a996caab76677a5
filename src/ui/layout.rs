//! The frame around every page.

use leptos::prelude::*;

/// The site header: the product name, linking home.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">"dkimdash"</a>
        </header>
    }
}
