//! The browser bundle under `/pkg`: precompressed files chosen by `Accept-Encoding`, a year
//! of caching for hashed names only, and pages never kept by a shared cache.
use crate::support;

use std::path::PathBuf;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use dkimdash::{
    inventory::{Inventory, RefreshSettings},
    model::SesBackend,
    server::assets::{IMMUTABLE, PRIVATE, REVALIDATE},
};

const WASM: &str = "/pkg/dkimdash.0123abcd.wasm";

/// A site directory holding one bundle file and its build-time compressions; each file's
/// content names it, so a test can tell which one was served.
struct Site(PathBuf);

impl Site {
    fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("dkimdash-{name}-{}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for (suffix, content) in [("", "raw"), (".br", "brotli"), (".gz", "gzip")] {
            std::fs::write(pkg.join(format!("dkimdash.0123abcd.wasm{suffix}")), content).unwrap();
        }
        Self(root)
    }

    fn app(&self, hashed: bool) -> Router {
        let inventory = Inventory::new(Vec::new(), RefreshSettings::default());
        let mut state = support::state_with(inventory, SesBackend::Aws);
        state.leptos_options.site_root = self.0.to_string_lossy().as_ref().into();
        state.leptos_options.site_pkg_dir = "pkg".into();
        state.leptos_options.hash_files = hashed;
        dkimdash::router::router(state)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn get(app: &Router, path: &str, accept_encoding: &str) -> (StatusCode, HeaderMap, String) {
    let request = Request::get(path)
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .body(Body::empty())
        .unwrap();
    support::fetch(app, request).await
}

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .map_or("", |value| value.to_str().unwrap())
}

#[tokio::test]
async fn the_bundle_is_served_precompressed_as_the_browser_accepts() {
    let site = Site::new("precompressed");
    let app = site.app(true);
    let cases = [
        ("br, gzip", "brotli", "br"),
        ("gzip, deflate, br;q=0.5", "gzip", "gzip"),
        ("gzip", "gzip", "gzip"),
        ("identity", "raw", ""),
    ];
    for (accepted, body, encoding) in cases {
        let (status, headers, served) = get(&app, WASM, accepted).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(served, body, "{accepted}");
        assert_eq!(
            header_of(&headers, header::CONTENT_ENCODING),
            encoding,
            "{accepted}"
        );
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "application/wasm",
            "{accepted}"
        );
        assert_eq!(header_of(&headers, header::VARY), "accept-encoding");
    }
}

#[tokio::test]
async fn hashed_names_are_cached_for_a_year_and_unhashed_ones_revalidated() {
    let site = Site::new("cache");
    for (hashed, expected) in [(true, IMMUTABLE), (false, REVALIDATE)] {
        let (status, headers, _) = get(&site.app(hashed), WASM, "br").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header_of(&headers, header::CACHE_CONTROL),
            expected,
            "hashed: {hashed}"
        );
    }
}

#[tokio::test]
async fn a_missing_bundle_file_is_a_404_and_pages_stay_out_of_shared_caches() {
    let site = Site::new("missing");
    let app = site.app(true);
    let (status, headers, _) = get(&app, "/pkg/dkimdash.ffff.wasm", "br").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not kept a year: the next deploy may bring that name.
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), PRIVATE);
    for path in ["/", "/activity", "/no/such/page"] {
        let (_, headers, _) = get(&app, path, "gzip").await;
        assert_eq!(
            header_of(&headers, header::CACHE_CONTROL),
            PRIVATE,
            "{path}"
        );
    }
}

/// The page's nonce policy, or `None` for any other.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .map(str::to_owned)
}

/// A static file answered while a page renders on the same thread must not take the
/// page's headers: leptos_axum's static-file fallback made its reactive owner a child of
/// whatever page owner the thread last set up, read that page's `ResponseOptions`, and
/// took its nonce policy, so the page went out with `default-src 'none'` and no script ran.
#[tokio::test(flavor = "current_thread")]
async fn a_static_file_served_during_a_page_render_leaves_the_page_its_policy() {
    let site = Site::new("csp-race");
    std::fs::write(site.0.join("favicon.svg"), "<svg/>").unwrap();
    let sim = support::simulator(true).await;
    let inventory = support::read_inventory(&sim, &["us-east-1"], 0).await;
    let mut state = support::state_with(inventory, SesBackend::Simulator);
    state.leptos_options.site_root = site.0.to_string_lossy().as_ref().into();
    let app = dkimdash::router::router(state);
    for round in 0..20 {
        let page = tokio::spawn({
            let app = app.clone();
            async move { get(&app, "/", "identity").await }
        });
        for _ in 0..round % 5 {
            tokio::task::yield_now().await;
        }
        let (status, headers, _) = get(&app, "/favicon.svg", "identity").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            dkimdash::server::security::OTHER_POLICY,
            "round {round}: the file took a page's policy"
        );
        let (status, headers, html) = page.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let nonce = nonce_of(&headers)
            .unwrap_or_else(|| panic!("round {round}: the page lost its policy: {headers:?}"));
        let scripts = html.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts);
    }
}
