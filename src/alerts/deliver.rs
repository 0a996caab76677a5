//! Sends the deliveries the engine queued: each is posted to its receiver until it answers
//! 2xx, with growing pauses between tries, then given up and left in the log. Webhook URLs
//! never reach a log line or the database: errors are recorded without them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::rules::Receiver;
use super::store::{AlertStore, Attempt, Due};
use crate::audit::log::AuditError;
use crate::model::UnixSeconds;

/// Tries per delivery before it is given up (about 50 minutes of retries).
pub const MAX_ATTEMPTS: i64 = 10;
/// The first pause; it doubles with each failure.
const FIRST_RETRY_SECS: i64 = 10;
/// The longest pause between tries.
const LONGEST_RETRY_SECS: i64 = 15 * 60;
/// Time allowed for one post.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries tried per round.
const BATCH: u32 = 50;
/// Rounds per call at most (a busy outbox is left for the next call).
const MAX_ROUNDS: usize = 10;
/// Longest wait before the outbox is looked at again without being woken.
const IDLE_WAIT: Duration = Duration::from_secs(30);
/// Characters of a receiver's error answer kept.
const ERROR_BODY_CHARS: usize = 200;

/// Posts queued deliveries to their receivers.
#[derive(Clone, Debug)]
pub struct Deliverer {
    store: AlertStore,
    receivers: Arc<[Receiver]>,
    http: reqwest::Client,
}

impl Deliverer {
    /// A deliverer over `store` posting to `receivers` through `http`.
    pub fn new(store: AlertStore, receivers: Arc<[Receiver]>, http: reqwest::Client) -> Self {
        Self {
            store,
            receivers,
            http,
        }
    }

    /// The HTTP client deliveries use: bounded time, no redirects (a webhook that
    /// redirects a POST is misconfigured, and the redirect could carry the secret URL on).
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("dkimdash/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with default TLS settings")
    }

    /// Tries every delivery due at `now` once; how many were tried. Receivers are posted to
    /// side by side (one that hangs delays only its own posts), each receiver's in order.
    pub async fn deliver_due(&self, now: UnixSeconds) -> Result<usize, AuditError> {
        let mut tried = 0;
        // A post delivered may let the one queued behind it go (resolved after firing):
        // again until nothing is due. Each post is tried at most once per call (a failed
        // one is put off past `now`), so this ends.
        for _ in 0..MAX_ROUNDS {
            let round = self.deliver_round(now).await?;
            if round == 0 {
                break;
            }
            tried += round;
        }
        Ok(tried)
    }

    async fn deliver_round(&self, now: UnixSeconds) -> Result<usize, AuditError> {
        let due = self.store.due(now, BATCH).await?;
        let mut by_receiver: Vec<Vec<&Due>> = Vec::new();
        for delivery in &due {
            match by_receiver
                .iter_mut()
                .find(|queue| queue[0].receiver == delivery.receiver)
            {
                Some(queue) => queue.push(delivery),
                None => by_receiver.push(vec![delivery]),
            }
        }
        let rounds = by_receiver.into_iter().map(|queue| async move {
            for delivery in queue {
                self.try_once(delivery, now).await?;
            }
            Ok::<(), AuditError>(())
        });
        for outcome in futures::future::join_all(rounds).await {
            outcome?;
        }
        Ok(due.len())
    }

    /// Posts one delivery and notes how it went.
    async fn try_once(&self, delivery: &Due, now: UnixSeconds) -> Result<(), AuditError> {
        let result = self.post(delivery).await;
        let attempt = delivery.attempts + 1;
        let outcome = match &result {
            Ok(()) => Attempt::Delivered,
            Err(error) if attempt >= MAX_ATTEMPTS => Attempt::GiveUp { error },
            Err(error) => Attempt::Retry {
                at: now + retry_after(attempt),
                error,
            },
        };
        match outcome {
            Attempt::Delivered => {
                tracing::info!(receiver = %delivery.receiver, delivery = delivery.id, "alert delivered");
            }
            Attempt::Retry { error, .. } => {
                tracing::warn!(receiver = %delivery.receiver, delivery = delivery.id, attempt, %error, "alert delivery failed; will retry");
            }
            Attempt::GiveUp { error } => {
                tracing::error!(receiver = %delivery.receiver, delivery = delivery.id, %error, "alert delivery given up");
            }
        }
        self.store.attempted(delivery.id, now, outcome).await
    }

    async fn post(&self, delivery: &Due) -> Result<(), String> {
        let Some(receiver) = self.receivers.iter().find(|r| r.name == delivery.receiver) else {
            return Err("no receiver of this name is configured any more".to_owned());
        };
        let response = self
            .http
            .post(receiver.url())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|error| with_causes(&error.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let said = scrub(&body, receiver.url());
        Err(if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        })
    }

    /// Delivers forever: whenever woken (an alert changed) and when a retry is due.
    pub fn spawn(self, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(wake, CancellationToken::new()))
    }

    /// Delivers until `stop` is cancelled: a round of posts under way is finished first,
    /// so a post that reached its receiver is also recorded as sent.
    pub async fn run(self, wake: Arc<Notify>, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let now = crate::inventory::now();
            if let Err(error) = self.deliver_due(now).await {
                tracing::error!(%error, "could not send alert deliveries");
            }
            let wait = match self.store.next_due().await {
                Ok(Some(at)) => {
                    let secs = u64::try_from(at - crate::inventory::now()).unwrap_or(0);
                    Duration::from_secs(secs.max(1)).min(IDLE_WAIT)
                }
                _ => IDLE_WAIT,
            };
            tokio::select! {
                () = stop.cancelled() => {}
                _ = tokio::time::timeout(wait, wake.notified()) => {}
            }
        }
    }
}

/// An error and its causes, joined: reqwest's own words alone never say why ("error
/// sending request"); the causes (connection refused, timed out, certificate) do.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        words.push_str(": ");
        words.push_str(&next.to_string());
        cause = next.source();
    }
    words
}

/// A receiver's error answer as it may be kept and shown: its first characters, with
/// every part of the webhook URL that could be secret (path segments, query values, a
/// user and password) blanked as written in the URL and percent-decoded, since many
/// servers echo the path they were asked for, in either form.
pub fn scrub(body: &str, url: &str) -> String {
    let Ok(url) = reqwest::Url::parse(url) else {
        return String::new();
    };
    // Blanked before it is cut, so no secret is kept half.
    let mut said: String = body.trim().chars().take(16 * ERROR_BODY_CHARS).collect();
    let raw_query_values = url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('=').map(|(_, value)| value.to_owned()));
    let written: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .chain(raw_query_values)
        .chain([url.username().to_owned()])
        .chain(url.password().map(str::to_owned))
        .collect();
    // Decoded as a path would be, and as a form would be (`+` is a space there).
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8_lossy()
            .into_owned()
    };
    let decoded: Vec<String> = written
        .iter()
        .flat_map(|part| [decode(part), decode(&part.replace('+', " "))])
        .collect();
    let mut secrets: Vec<String> = decoded
        .into_iter()
        .chain(written.iter().cloned())
        .filter(|part| part.len() >= 3)
        .collect();
    // Longest first, so a segment inside another is not left half-blanked.
    secrets.sort_by_key(|part| std::cmp::Reverse(part.len()));
    for secret in secrets {
        said = said.replace(&secret, "…");
    }
    said.chars().take(ERROR_BODY_CHARS).collect()
}

/// The pause after the `failures`-th failed try: 10 s, 20 s, 40 s, … at most 15 minutes.
pub fn retry_after(failures: i64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    (FIRST_RETRY_SECS << doublings).min(LONGEST_RETRY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_lose_the_urls_secret_parts() {
        let url = "https://hooks.slack.com/services/T000/B111/XXXXsecretXXXX?token=qwerty";
        assert_eq!(scrub("  invalid_token\n", url), "invalid_token");
        assert_eq!(
            scrub("Cannot POST /services/T000/B111/XXXXsecretXXXX", url),
            "Cannot POST /…/…/…/…"
        );
        assert_eq!(
            scrub(r#"{"path":"/x?token=qwerty"}"#, url),
            r#"{"path":"/x?token=…"}"#
        );
        let long = "x".repeat(500);
        assert_eq!(scrub(&long, url).len(), ERROR_BODY_CHARS);
    }

    #[test]
    fn every_form_of_a_secret_is_blanked() {
        let url = "https://hook-user:p%40ss-word@hooks.example/in/s%2Fcr%20t?key=a%2Bb%3Dc";
        let echoed = "user hook-user, password p@ss-word or p%40ss-word; path /in/s/cr t or \
                      s%2Fcr%20t; key a+b=c or a%2Bb%3Dc";
        let said = scrub(echoed, url);
        for secret in [
            "hook-user",
            "p@ss-word",
            "p%40ss-word",
            "s/cr t",
            "s%2Fcr%20t",
            "a+b=c",
            "a%2Bb%3Dc",
        ] {
            assert!(!said.contains(secret), "{secret} in {said}");
        }
    }

    #[test]
    fn pauses_double_and_are_capped() {
        let pauses: Vec<i64> = (1..=MAX_ATTEMPTS).map(retry_after).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
    }
}
