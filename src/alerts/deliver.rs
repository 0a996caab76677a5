//! Sends the deliveries the engine queued: each is posted to its receiver until it answers
//! 2xx, with growing pauses between tries, then given up and left in the log. Webhook URLs
//! never reach a log line or the database: errors are recorded without them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

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

    /// Tries every delivery due at `now` once; how many were tried.
    pub async fn deliver_due(&self, now: UnixSeconds) -> Result<usize, AuditError> {
        let due = self.store.due(now, BATCH).await?;
        for delivery in &due {
            let result = self.post(delivery).await;
            let outcome = match &result {
                Ok(()) => Attempt::Delivered,
                Err(error) if delivery.attempts + 1 >= MAX_ATTEMPTS => Attempt::GiveUp { error },
                Err(error) => Attempt::Retry {
                    at: now + retry_after(delivery.attempts + 1),
                    error,
                },
            };
            match outcome {
                Attempt::Delivered => {
                    tracing::info!(receiver = %delivery.receiver, delivery = delivery.id, "alert delivered");
                }
                Attempt::Retry { error, .. } => {
                    tracing::warn!(receiver = %delivery.receiver, delivery = delivery.id, attempt = delivery.attempts + 1, %error, "alert delivery failed; will retry");
                }
                Attempt::GiveUp { error } => {
                    tracing::error!(receiver = %delivery.receiver, delivery = delivery.id, %error, "alert delivery given up");
                }
            }
            self.store.attempted(delivery.id, now, outcome).await?;
        }
        Ok(due.len())
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
            .map_err(|error| error.without_url().to_string())?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let said: String = body.trim().chars().take(ERROR_BODY_CHARS).collect();
        Err(if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        })
    }

    /// Delivers forever: whenever woken (an alert changed) and when a retry is due.
    pub fn spawn(self, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
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
                let _ = tokio::time::timeout(wait, wake.notified()).await;
            }
        })
    }
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
    fn pauses_double_and_are_capped() {
        let pauses: Vec<i64> = (1..=MAX_ATTEMPTS).map(retry_after).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
    }
}
