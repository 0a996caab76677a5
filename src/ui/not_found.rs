//! The page for any unknown path; answers 404, not 200, so monitors notice.

use leptos::prelude::*;

/// Shown when no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>
                "Nothing lives at this address. " <a href="/">"Back to the dashboard"</a>
            </p>
        </section>
    }
}
