//! The home page (the overview and a page of the table), kept once rendered: under load
//! most requests for `/` ask for a page rendered a moment before from the same figures.
//! A page is kept per URL and user, for the second it was rendered in and only while
//! what it was rendered from stays the same (the snapshot, the DNS findings, the history's
//! writes, the sweep in progress, the updates requests made); within the second only the
//! clock-driven parts ("read 5 s ago", the DNS progress) may lag, by less than a second.
//!
//! Requests that arrive while their page is being rendered wait for it instead of
//! rendering it again, unless the page before it may stand in: when what changed since
//! is only what time and the background change (the clock, details and DNS results read
//! in the background, the history's writes), the page of a moment before is served until
//! the new one is ready. At 100,000 identities under load, every request of each new
//! second (and of each background update) otherwise queued behind one render. A sweep,
//! and anything a request changed (an operator's own change), shows at once: pages from
//! before it never stand in. Each copy served carries a script nonce of its own, in its
//! HTML and its policy alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{
        HeaderMap, HeaderValue, Method, StatusCode,
        header::{CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::OnceCell;

use super::security::page_policy;
use super::state::AppState;
use crate::dns::monitor::DnsMonitor;
use crate::inventory::snapshot::Snapshot;
use crate::model::UnixSeconds;
use crate::unpoisoned::lock;
use crate::user::User;

/// The most pages kept at once (each URL and user within one second): past it, pages are
/// rendered for each request as if nothing were kept.
const CAPACITY: usize = 256;

/// Pages kept; cheap to clone (every clone shares them).
#[derive(Clone, Debug, Default)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<PageKey, Kept>>>,
}

/// Whose page, and which.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PageKey {
    path_and_query: String,
    user: Option<User>,
}

/// What a page was rendered from: it is served again only while all of it is current.
#[derive(Clone, Debug)]
struct RenderedFrom {
    second: UnixSeconds,
    /// With the DNS findings and the minute (in the second), what the overview's figures
    /// are built from: read without building them, so a request served a stand-in never
    /// waits for them to be built.
    snapshot: Weak<Snapshot>,
    dns_findings: u64,
    history_version: u64,
    sweeps: u64,
    sweeping: bool,
    requested_updates: u64,
}

impl RenderedFrom {
    /// Whether a page rendered from `self` may be served while the page of `newer`
    /// renders: what differs is what time and the background change, not a sweep nor
    /// what a request changed.
    fn may_stand_in_for(&self, newer: &Self) -> bool {
        self.sweeps == newer.sweeps
            && self.sweeping == newer.sweeping
            && self.requested_updates == newer.requested_updates
    }
}

impl PartialEq for RenderedFrom {
    fn eq(&self, other: &Self) -> bool {
        self.second == other.second
            && Weak::ptr_eq(&self.snapshot, &other.snapshot)
            && self.dns_findings == other.dns_findings
            && self.history_version == other.history_version
            && self.sweeps == other.sweeps
            && self.sweeping == other.sweeping
            && self.requested_updates == other.requested_updates
    }
}

#[derive(Debug)]
struct Kept {
    from: RenderedFrom,
    /// Set once by the request that renders it; `None` when its answer is not a page to
    /// keep (an error, another status).
    page: Arc<OnceCell<Option<Arc<Page>>>>,
    /// The page served until this one is rendered, if one may stand in.
    stand_in: Option<Arc<Page>>,
}

/// Where a request's page comes from.
enum Lookup {
    /// The cell it is (or is being) rendered into.
    Cell(Arc<OnceCell<Option<Arc<Page>>>>),
    /// A page of a moment before, while it is being rendered.
    StandIn(Arc<Page>),
}

/// A rendered page: its status, headers and HTML, and the nonce its scripts carry.
#[derive(Clone, Debug)]
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
    nonce: String,
}

/// Serves `GET /` from the kept pages when it can; every other request passes through.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_kept_page(&request) {
        return next.run(request).await;
    }
    let key = PageKey {
        path_and_query: request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string),
        user: request.extensions().get::<User>().cloned(),
    };
    // Read before rendering: a change after this point makes the page out of date, never
    // the other way round.
    let from = RenderedFrom {
        second: crate::inventory::now(),
        snapshot: Arc::downgrade(&state.inventory.snapshot()),
        dns_findings: state.dns.as_ref().map_or(0, DnsMonitor::findings),
        history_version: state.history().version(),
        sweeps: state.inventory.sweeps_completed(),
        sweeping: state.inventory.is_sweeping(),
        requested_updates: state.inventory.requested_updates(),
    };
    let cell = match state.page_cache.cell(&key, &from) {
        Some(Lookup::Cell(cell)) => cell,
        Some(Lookup::StandIn(page)) => return page.served(),
        None => return next.run(request).await,
    };
    let mut pending = Some((request, next));
    let mut own_answer = None;
    let page = cell
        .get_or_init(|| async {
            let (request, next) = pending.take().expect("rendered once");
            match Page::of(next.run(request).await).await {
                Ok(page) => Some(Arc::new(page)),
                Err(answer) => {
                    own_answer = Some(answer);
                    None
                }
            }
        })
        .await;
    if let Some(answer) = own_answer {
        return answer;
    }
    match (page, pending) {
        // Rendered by this request: it may stand in for a newer page still rendering.
        (Some(page), None) => {
            state.page_cache.offer(&key, &from, page);
            page.served()
        }
        (Some(page), Some(_)) => page.served(),
        // Rendered by another request, but not a page to keep: render this one.
        (None, Some((request, next))) => next.run(request).await,
        // This request rendered it, and kept its own answer above.
        (None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The home page, asked for plainly: not a form's answer (`notice=`, shown once).
fn is_kept_page(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && !request
            .uri()
            .query()
            .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("notice=")))
}

impl PageCache {
    /// The cell of the page `key` rendered from `from`: the one kept, or a new one to
    /// render into; or, while it renders, the page that stands in for it. `None` when too
    /// many pages are kept.
    fn cell(&self, key: &PageKey, from: &RenderedFrom) -> Option<Lookup> {
        let mut pages = lock(&self.pages);
        let kept = pages.get(key);
        if let Some(kept) = kept
            && kept.from == *from
        {
            return Some(match (&kept.stand_in, kept.page.get()) {
                (Some(stand_in), None) => Lookup::StandIn(stand_in.clone()),
                _ => Lookup::Cell(kept.page.clone()),
            });
        }
        let stand_in = kept
            .filter(|kept| kept.from.may_stand_in_for(from))
            .and_then(|kept| kept.page.get().cloned().flatten().or(kept.stand_in.clone()));
        // Pages of an earlier second are never served again but as a stand-in.
        pages.retain(|_, kept| kept.from.second >= from.second);
        if pages.len() >= CAPACITY && !pages.contains_key(key) {
            return None;
        }
        let page = Arc::new(OnceCell::new());
        pages.insert(
            key.clone(),
            Kept {
                from: from.clone(),
                page: page.clone(),
                stand_in,
            },
        );
        Some(Lookup::Cell(page))
    }
}

impl PageCache {
    /// Offers `page`, rendered from `from`, to stand in for the page now kept for `key` if
    /// that one is still rendering: when renders take longer than a second, the stand-in
    /// is then the last page rendered, not the last one found rendered when a new second
    /// began.
    fn offer(&self, key: &PageKey, from: &RenderedFrom, page: &Arc<Page>) {
        let mut pages = lock(&self.pages);
        if let Some(kept) = pages.get_mut(key)
            && kept.page.get().is_none()
            && kept.from.second >= from.second
            && kept.from != *from
            && from.may_stand_in_for(&kept.from)
        {
            kept.stand_in = Some(page.clone());
        }
    }
}

impl Page {
    /// `response` kept as a page when it is one (a 200 HTML page with a nonce policy and
    /// no cookie); otherwise given back as it is.
    async fn of(response: Response) -> Result<Self, Response> {
        let keepable = response.status() == StatusCode::OK
            && !response.headers().contains_key(SET_COOKIE)
            && response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
        let nonce = response
            .headers()
            .get(CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .and_then(nonce_of);
        let Some(nonce) = nonce.filter(|_| keepable) else {
            return Err(response);
        };
        let (parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            // What the client would have seen: the page broke off while rendering.
            Err(error) => {
                tracing::error!(%error, "page could not be rendered");
                return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            }
        };
        let html = match String::from_utf8(bytes.to_vec()) {
            Ok(html) => html,
            Err(_) => return Err(Response::from_parts(parts, Body::from(bytes))),
        };
        let mut headers = parts.headers;
        headers.remove(CONTENT_LENGTH);
        headers.remove(CONTENT_SECURITY_POLICY);
        Ok(Self {
            status: parts.status,
            headers,
            html,
            nonce,
        })
    }

    /// A copy to send: the same page with a nonce of its own in its HTML and policy.
    fn served(&self) -> Response {
        let nonce = leptos::nonce::Nonce::new();
        let html = self.html.replace(&self.nonce, &nonce);
        let mut response = Response::new(Body::from(html));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        if let Ok(policy) = HeaderValue::from_str(&page_policy(&nonce)) {
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

/// The nonce a page policy allows scripts with.
fn nonce_of(policy: &str) -> Option<String> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let length = policy[start..].find('\'')?;
    Some(policy[start..start + length].to_owned()).filter(|nonce| !nonce.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_home_page_but_not_a_forms_answer_nor_other_pages() {
        let request = |method: Method, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap()
        };
        assert!(is_kept_page(&request(Method::GET, "/")));
        assert!(is_kept_page(&request(
            Method::GET,
            "/?status=FAILED&page=2"
        )));
        assert!(!is_kept_page(&request(
            Method::GET,
            "/?status=FAILED&notice=ab12"
        )));
        assert!(!is_kept_page(&request(Method::GET, "/?notice=ab12")));
        assert!(!is_kept_page(&request(Method::HEAD, "/")));
        assert!(!is_kept_page(&request(Method::POST, "/")));
        assert!(!is_kept_page(&request(
            Method::GET,
            "/identity/us-east-1/a.example"
        )));
    }

    #[test]
    fn reads_the_nonce_of_a_page_policy() {
        assert_eq!(nonce_of(&page_policy("abc-_9")).as_deref(), Some("abc-_9"));
        assert_eq!(nonce_of(super::super::security::OTHER_POLICY), None);
        assert_eq!(nonce_of("script-src 'nonce-'"), None);
    }

    #[tokio::test]
    async fn each_copy_served_has_a_nonce_of_its_own_everywhere() {
        let page = Page {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            html: r#"<script nonce="N0NCE">a</script><link nonce="N0NCE">"#.to_owned(),
            nonce: "N0NCE".to_owned(),
        };
        let (first, second) = (page.served(), page.served());
        let nonces: Vec<String> = [&first, &second]
            .iter()
            .map(|r| nonce_of(r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap()).unwrap())
            .collect();
        assert_ne!(nonces[0], nonces[1]);
        assert_ne!(nonces[0], "N0NCE");
        for (response, nonce) in [first, second].into_iter().zip(&nonces) {
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let html = String::from_utf8(body.to_vec()).unwrap();
            assert_eq!(html.matches(nonce.as_str()).count(), 2, "{html}");
            assert!(!html.contains("N0NCE"));
        }
    }

    fn from(second: UnixSeconds, snapshot: &Arc<Snapshot>, version: u64) -> RenderedFrom {
        RenderedFrom {
            second,
            snapshot: Arc::downgrade(snapshot),
            dns_findings: 0,
            history_version: version,
            sweeps: 0,
            sweeping: false,
            requested_updates: 0,
        }
    }

    /// The cell `lookup` gives to render into or wait on.
    fn cell_of(lookup: Option<Lookup>) -> Arc<OnceCell<Option<Arc<Page>>>> {
        match lookup {
            Some(Lookup::Cell(cell)) => cell,
            Some(Lookup::StandIn(_)) => panic!("a stand-in, not a cell"),
            None => panic!("nothing kept"),
        }
    }

    fn page(html: &str) -> Arc<Page> {
        Arc::new(Page {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            html: html.to_owned(),
            nonce: "N0NCE".to_owned(),
        })
    }

    fn key() -> PageKey {
        PageKey {
            path_and_query: "/".to_owned(),
            user: None,
        }
    }

    #[test]
    fn the_page_before_stands_in_while_the_clock_or_the_background_moved_on() {
        let cache = PageCache::default();
        let overview = Arc::new(Snapshot::default());
        let first = cell_of(cache.cell(&key(), &from(10, &overview, 1)));
        // Nothing rendered yet: nothing stands in, the next request waits for it.
        assert!(matches!(
            cache.cell(&key(), &from(10, &overview, 1)),
            Some(Lookup::Cell(_))
        ));
        first.set(Some(page("second 10"))).unwrap();

        // A new second, new figures and history: its first request renders, the others
        // get the page before until it is ready.
        let newer = Arc::new(Snapshot::default());
        let next = from(11, &newer, 2);
        let rendering = cell_of(cache.cell(&key(), &next));
        let Some(Lookup::StandIn(stand_in)) = cache.cell(&key(), &next) else {
            panic!("the page of second 10 stands in");
        };
        assert_eq!(stand_in.html, "second 10");
        rendering.set(Some(page("second 11"))).unwrap();
        let served = cell_of(cache.cell(&key(), &next));
        assert!(Arc::ptr_eq(&served, &rendering));

        // Renders slower than a second: second 13 begins while 12 still renders, so the
        // page of 11 stands in; once 12 is rendered, it stands in instead.
        let twelve = from(12, &newer, 2);
        let rendering_12 = cell_of(cache.cell(&key(), &twelve));
        let thirteen = from(13, &newer, 2);
        let _rendering_13 = cell_of(cache.cell(&key(), &thirteen));
        let Some(Lookup::StandIn(stand_in)) = cache.cell(&key(), &thirteen) else {
            panic!("a page stands in");
        };
        assert_eq!(stand_in.html, "second 11");
        let page_12 = page("second 12");
        rendering_12.set(Some(page_12.clone())).unwrap();
        cache.offer(&key(), &twelve, &page_12);
        let Some(Lookup::StandIn(stand_in)) = cache.cell(&key(), &thirteen) else {
            panic!("a page stands in");
        };
        assert_eq!(stand_in.html, "second 12");

        // After a sweep, or an update a request made, nothing from before stands in.
        for changed in [
            RenderedFrom {
                sweeps: 1,
                ..from(12, &newer, 2)
            },
            RenderedFrom {
                sweeping: true,
                ..from(12, &newer, 2)
            },
            RenderedFrom {
                requested_updates: 1,
                ..from(12, &newer, 2)
            },
        ] {
            let cache = PageCache::default();
            cell_of(cache.cell(&key(), &from(11, &newer, 2)))
                .set(Some(page("second 11")))
                .unwrap();
            let _rendering = cell_of(cache.cell(&key(), &changed));
            assert!(matches!(
                cache.cell(&key(), &changed),
                Some(Lookup::Cell(_))
            ));
        }
    }

    #[test]
    fn a_page_is_shared_within_its_second_and_inputs_and_per_user() {
        let cache = PageCache::default();
        let overview = Arc::new(Snapshot::default());
        let key = |user: Option<&str>| PageKey {
            path_and_query: "/?status=FAILED".to_owned(),
            user: user.map(|name| User {
                name: name.to_owned(),
                email: None,
                groups: Vec::new(),
                role: crate::user::Role::Viewer,
            }),
        };
        let first = cell_of(cache.cell(&key(Some("ann")), &from(10, &overview, 1)));
        let same = cell_of(cache.cell(&key(Some("ann")), &from(10, &overview, 1)));
        assert!(Arc::ptr_eq(&first, &same));
        for (other_key, other_from) in [
            (key(Some("bob")), from(10, &overview, 1)),
            (key(None), from(10, &overview, 1)),
            (key(Some("ann")), from(10, &overview, 2)),
            (key(Some("ann")), from(11, &overview, 2)),
        ] {
            let other = cell_of(cache.cell(&other_key, &other_from));
            assert!(!Arc::ptr_eq(&first, &other));
        }
        // A new second forgets the pages of the ones before.
        assert_eq!(lock(&cache.pages).len(), 1);
    }
}
