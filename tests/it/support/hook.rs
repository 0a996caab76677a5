//! Webhook receivers on loopback for the alert tests: one that answers each post with the
//! next scripted answer (then 200) and keeps what it took, and one that accepts connections
//! and never answers.

use std::collections::VecDeque;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri},
    routing::post,
};
use serde_json::Value;

/// What the receiver took: the path posted to and the JSON body.
pub type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A scripted answer: a status and, for 429/503, an optional `Retry-After`.
pub type Answer = (StatusCode, Option<&'static str>);

/// A webhook receiver keeping every post it answered 200.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Received,
    tries: Arc<Mutex<usize>>,
}

#[derive(Clone)]
struct Hook {
    received: Received,
    answers: Arc<Mutex<VecDeque<Answer>>>,
    tries: Arc<Mutex<usize>>,
}

async fn take(
    State(hook): State<Hook>,
    uri: Uri,
    body: String,
) -> (StatusCode, HeaderMap, &'static str) {
    *hook.tries.lock().unwrap() += 1;
    let (status, retry_after) = hook
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((StatusCode::OK, None));
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert("retry-after", HeaderValue::from_static(value));
    }
    if status != StatusCode::OK {
        return (status, headers, "busy");
    }
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    hook.received
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), value));
    (status, headers, "ok")
}

impl Receiver {
    /// Answers the first posts with `answers`' statuses, then 200.
    pub async fn start(answers: Vec<StatusCode>) -> Self {
        Self::scripted(answers.into_iter().map(|status| (status, None)).collect()).await
    }

    /// Answers the first posts with `answers`, then 200.
    pub async fn scripted(answers: Vec<Answer>) -> Self {
        let received = Received::default();
        let tries = Arc::new(Mutex::new(0));
        let hook = Hook {
            received: received.clone(),
            answers: Arc::new(Mutex::new(answers.into())),
            tries: tries.clone(),
        };
        let app = Router::new().route("/{*path}", post(take)).with_state(hook);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url,
            received,
            tries,
        }
    }

    /// What it took since the last call.
    pub fn take(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.received.lock().unwrap())
    }

    /// Posts it was sent, answered or not.
    pub fn tries(&self) -> usize {
        *self.tries.lock().unwrap()
    }
}

/// A listener that accepts every connection and never reads or answers (a blackholed
/// receiver), living as long as the test's runtime: its `http://127.0.0.1:PORT` and how
/// many connections it has taken.
pub async fn never_answering() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, accepted)
}

/// A deliverer of `alerts` posting straight to loopback, whatever proxy the environment
/// names.
pub fn deliverer(
    alerts: &dkimdash::alerts::service::Alerts,
) -> dkimdash::alerts::deliver::Deliverer {
    alerts.deliverer(reqwest::Client::builder().no_proxy().build().unwrap())
}
