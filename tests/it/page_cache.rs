//! The home page served again while nothing it shows changed (`server::page_cache`):
//! every copy with a script nonce of its own in its HTML and policy, and a change to the
//! inventory shown by the very next request.
use std::collections::HashSet;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use dkimdash::model::SesBackend;

use crate::support::{self, app_with, fetch, set_status, table_row_names};

fn home() -> Request<Body> {
    Request::get("/?sort=status").body(Body::empty()).unwrap()
}

/// The nonce the page policy allows scripts with.
fn nonce_of(headers: &HeaderMap) -> String {
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let start = policy.find("'nonce-").expect("a page policy") + "'nonce-".len();
    let length = policy[start..].find('\'').unwrap();
    policy[start..start + length].to_owned()
}

#[tokio::test]
async fn every_copy_has_its_own_nonce_and_a_change_shows_at_once() {
    let (sim, inventory) =
        support::verified_domains("us-east-1", &["a.example", "b.example"]).await;
    inventory.refresh_now().await;
    let app = app_with(inventory.clone(), SesBackend::Simulator);

    let started = dkimdash::inventory::now();
    let mut pages = Vec::new();
    for _ in 0..3 {
        pages.push(fetch(&app, home()).await);
    }
    let same_second = dkimdash::inventory::now() == started;
    let nonces: HashSet<String> = pages
        .iter()
        .map(|(_, headers, _)| nonce_of(headers))
        .collect();
    assert_eq!(nonces.len(), 3, "a nonce per response");
    let mut without_nonces = HashSet::new();
    for (status, headers, html) in &pages {
        assert_eq!(*status, StatusCode::OK);
        let nonce = nonce_of(headers);
        // Every script and preload carries this response's nonce, none an earlier one.
        let carried = html.matches("nonce=\"").count();
        assert!(carried > 0, "{html}");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), carried);
        assert_eq!(table_row_names(html), ["a.example", "b.example"]);
        without_nonces.insert(html.replace(&nonce, "NONCE"));
    }
    if same_second {
        // Rendered once: the copies differ by their nonce alone.
        assert_eq!(without_nonces.len(), 1);
    }

    set_status(&sim, "us-east-1", "b.example", "FAILED").await;
    inventory.refresh_now().await;
    let (status, _, html) = fetch(&app, home()).await;
    assert_eq!(status, StatusCode::OK);
    // Failures sort first: the new figures, within the same second or not.
    assert_eq!(table_row_names(&html), ["b.example", "a.example"]);
}
