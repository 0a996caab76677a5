//! The frame around every page.

use leptos::prelude::*;

use crate::api::inventory::get_ses_backend;
use crate::model::SesBackend;

/// The site header: the product name, linking home, and which SES is being read.
#[component]
pub fn Header() -> impl IntoView {
    let backend = Resource::new(|| (), |_| get_ses_backend());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">"dkimdash"</a>
            <nav class="site-nav" aria-label="Pages">
                <a href="/add">"Add a domain"</a>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    backend
                        .await
                        .ok()
                        .map(|backend| {
                            view! {
                                <span
                                    class="backend"
                                    class:demo=backend == SesBackend::Simulator
                                    data-testid="ses-backend"
                                >
                                    {backend.label()}
                                </span>
                            }
                        })
                })}
            </Suspense>
        </header>
    }
}
