//! The browser bundle under `/pkg`: served from the files the release build compressed
//! (`.br`, `.gz`) when the browser takes them, and cached for a year when their names
//! carry their content's hash (cargo-leptos `hash-files`), since a new build gets new
//! names. Unhashed names (a development build) are revalidated on every use. The files
//! are embedded in the binary or on disk (super::site).

use std::path::Path;

use axum::{
    Router,
    http::{
        HeaderValue, StatusCode,
        header::{CACHE_CONTROL, VARY},
    },
};
use leptos::config::LeptosOptions;
use tower::ServiceBuilder;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use super::site::SiteFiles;

/// Cache-Control of a file whose name changes with its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of a file whose name stays the same across builds.
pub const REVALIDATE: &str = "no-cache";
/// Cache-Control of everything else (pages, server function answers): the browser may keep
/// it, a shared cache (proxy, CDN) never; pages carry who is signed in and a nonce.
pub const PRIVATE: &str = "private, no-cache";

/// The routes serving the bundle under `/pkg` (the site's package directory).
pub fn routes<S: Clone + Send + Sync + 'static>(
    site: &SiteFiles,
    options: &LeptosOptions,
) -> Router<S> {
    // An embedded bundle is always hashed (super::site::bundle_name).
    let hashed = options.hash_files || matches!(site, SiteFiles::Embedded(_));
    let cache = HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE });
    let headers = ServiceBuilder::new()
        // Only what was found: a name missing now may be served by the next deploy.
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            move |response: &axum::http::Response<_>| {
                let status = response.status();
                (status.is_success() || status == StatusCode::NOT_MODIFIED).then(|| cache.clone())
            },
        ))
        // Every variant, the uncompressed one too: a shared cache must key on it.
        .layer(SetResponseHeaderLayer::if_not_present(
            VARY,
            HeaderValue::from_static("accept-encoding"),
        ));
    let mount = format!("/{}", options.site_pkg_dir.trim_matches('/'));
    let files = match site {
        // Its routes are the whole path, `/pkg` included.
        SiteFiles::Embedded(files) => {
            Router::new().route_service(&format!("{mount}/{{*file}}"), files.clone())
        }
        SiteFiles::Directory => {
            let root = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
            let files = ServeDir::new(root).precompressed_br().precompressed_gzip();
            Router::new().nest_service(&mount, files)
        }
    };
    files.layer(headers)
}

/// One of the other files of the site root (`public/`: the favicons) for `probe` (made by
/// [`file_probe`]), or `None` when
/// there is no such file (the router then renders its "not found" page). A file is served
/// here, outside Leptos: leptos_axum's `file_and_error_handler` answers one inside a
/// reactive owner that becomes a child of whatever page the thread last rendered, reads
/// that page's `ResponseOptions` and takes its headers, so a favicon fetched while a page
/// rendered left the page without its nonce policy (no script ran).
pub async fn site_file(
    state: &crate::server::state::AppState,
    probe: axum::extract::Request,
) -> Option<axum::response::Response> {
    use tower::ServiceExt;

    let file = match &state.site {
        SiteFiles::Embedded(files) => {
            let Ok(file) = files.clone().oneshot(probe).await;
            file
        }
        SiteFiles::Directory => {
            let root = Path::new(state.leptos_options.site_root.as_ref());
            let Ok(file) = ServeDir::new(root).oneshot(probe).await;
            file.map(axum::body::Body::new)
        }
    };
    let found = !matches!(
        file.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    );
    found.then_some(file)
}

/// `request` without its body, which a file look-up does not need (files are only read
/// with GET and HEAD).
pub fn file_probe(request: &axum::extract::Request) -> axum::extract::Request {
    let mut probe = axum::http::Request::new(axum::body::Body::empty());
    *probe.method_mut() = request.method().clone();
    *probe.uri_mut() = request.uri().clone();
    *probe.headers_mut() = request.headers().clone();
    probe
}
