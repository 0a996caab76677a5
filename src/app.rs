//! The HTML shell and the routes, shared by server rendering and hydration.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::ui::{
    activity::ActivityPage,
    add_domain::AddDomainPage,
    alerts::AlertsPage,
    home::HomePage,
    identity::IdentityPage,
    layout::{Footer, Header},
    not_found::NotFound,
    repair::{RepairPage, RepairRunPage},
};

/// The whole HTML document the server sends; the browser build hydrates its `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // The bundle's names carry their hashes in a release build.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: header plus the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="dkimdash" />
        <Router>
            <Header />
            <main id="main">
                <Routes fallback=NotFound>
                    // Async: the server sends each page complete (no streamed fragments), so
                    // it reads the same with JavaScript off and can answer 404 for a
                    // missing identity.
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/add") view=AddDomainPage ssr=SsrMode::Async />
                    <Route path=path!("/activity") view=ActivityPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts") view=AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("/repair") view=RepairPage ssr=SsrMode::Async />
                    <Route path=path!("/repair/runs/:id") view=RepairRunPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/identity/:region/:name")
                        view=IdentityPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
