//! The browser bundle under `/pkg`: precompressed files chosen by `Accept-Encoding`, a year
//! of caching for hashed names only, and pages never kept by a shared cache.
#![cfg(feature = "ssr")]

mod support;

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
