//! The frame around every page.

use leptos::prelude::*;

use crate::api::{
    inventory::get_ses_backend, session::get_current_user, status::get_server_status,
};
use crate::model::SesBackend;
use crate::ui::format::short_duration;

/// The site header: the product name linking home, "Add a domain" for operators, which
/// SES is being read, and who is signed in.
#[component]
pub fn Header() -> impl IntoView {
    let frame = Resource::new(
        || (),
        |_| async {
            (
                get_ses_backend().await.ok(),
                get_current_user().await.ok().flatten(),
            )
        },
    );
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">"dkimdash"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (backend, user) = frame.await;
                    let operator = user.as_ref().is_some_and(|u| u.can_change());
                    view! {
                        <nav class="site-nav" aria-label="Pages">
                            <a href="/alerts">"Alerts"</a>
                            <a href="/activity">"Activity"</a>
                            {operator.then(|| view! { <a href="/add">"Add a domain"</a> })}
                        </nav>
                        {backend.map(|backend| view! {
                            <span
                                class="backend"
                                class:demo=backend == SesBackend::Simulator
                                data-testid="ses-backend"
                            >
                                {backend.label()}
                            </span>
                        })}
                        {user.map(|u| view! {
                            <span class="signed-in" data-testid="signed-in" title=u.email.clone().unwrap_or_default()>
                                {format!("{} ({})", u.name, u.role.label())}
                            </span>
                        })}
                    }
                })}
            </Suspense>
        </header>
    }
}

/// The site footer: which dkimdash version this server runs, and for how long.
#[component]
pub fn Footer() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_server_status());
    view! {
        <footer class="site-footer">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    status.await.ok().map(|status| view! {
                        <p class="muted" data-testid="server-status">
                            "dkimdash " <span data-testid="server-version">{status.version}</span>
                            " · up " {short_duration(status.uptime_secs)}
                        </p>
                    })
                })}
            </Suspense>
        </footer>
    }
}
