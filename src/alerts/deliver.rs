//! Sends the news the engine queued: each receiver has a worker of its own, so a receiver
//! that is down, slow, or asks to be left alone (`Retry-After`) delays only its own posts.
//! A worker posts each of its due groups as one post, retries a failed one with growing
//! pauses (what arrived meanwhile rides along), then gives it up and leaves it in the log.
//! Webhook URLs never reach a log line or the database: errors are recorded without them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::bell::Bell;
use super::outbox::{Attempt, News};
use super::payload::{self, Notice};
use super::rules::{Receiver, ReceiverKind};
use super::silence::silenced_until;
use super::store::AlertStore;
use crate::audit::log::AuditError;
use crate::model::UnixSeconds;

/// Tries per delivery before it is given up (about 50 minutes of retries).
pub const MAX_ATTEMPTS: i64 = 10;
/// The first pause; it doubles with each failure.
const FIRST_RETRY_SECS: i64 = 10;
/// The longest pause between tries, and the longest `Retry-After` honoured.
const LONGEST_RETRY_SECS: i64 = 15 * 60;
/// Time allowed for one post.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a post under way at shutdown is given to finish (then it is sent again after the
/// restart: a receiver may hear it twice, never not at all).
const STOP_GRACE: Duration = Duration::from_secs(2);
/// Groups posted per round.
const GROUPS_PER_ROUND: u32 = 50;
/// Rounds per call at most (a busy receiver's rest is left for the next call).
const MAX_ROUNDS: usize = 10;
/// Longest wait before the queue is looked at again without a ring.
const IDLE_WAIT: Duration = Duration::from_secs(30);
/// Why a row covered by a silence is not posted (its firing is queued again when the
/// silence ends and the alert still fires).
pub const SILENCED: &str = "silenced";
/// Characters of a receiver's error answer kept.
const ERROR_BODY_CHARS: usize = 200;

/// Posts queued news to the receivers.
#[derive(Clone, Debug)]
pub struct Deliverer {
    store: AlertStore,
    receivers: Arc<[Receiver]>,
    http: reqwest::Client,
    external_url: String,
    /// Until when each receiver asked to be left alone (`Retry-After`, 429, 503).
    paused: Arc<Mutex<HashMap<String, UnixSeconds>>>,
}

/// How a post went.
enum Posted {
    Delivered,
    /// Failed; `pause` when the receiver asked for time (seconds, bounded).
    Failed {
        error: String,
        pause: Option<i64>,
    },
    /// Cut short by the server's stop: nothing is recorded, it is sent after the restart.
    Abandoned,
}

impl Deliverer {
    /// A deliverer over `store` posting to `receivers` through `http`, linking pages under
    /// `external_url` (the dashboard's address as its users reach it).
    pub fn new(
        store: AlertStore,
        receivers: Arc<[Receiver]>,
        http: reqwest::Client,
        external_url: &str,
    ) -> Self {
        Self {
            store,
            receivers,
            http,
            external_url: external_url.trim_end_matches('/').to_owned(),
            paused: Arc::default(),
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

    /// Posts every group due at `now`, receiver after receiver; how many posts were tried.
    /// The server runs [`Self::run`] instead, with a worker per receiver.
    pub async fn deliver_due(&self, now: UnixSeconds) -> Result<usize, AuditError> {
        self.close_unknown(now).await?;
        let mut tried = 0;
        for receiver in self.receivers.iter() {
            tried += self
                .deliver_due_to(receiver, now, &CancellationToken::new())
                .await?;
        }
        Ok(tried)
    }

    /// Posts `receiver`'s groups due at `now`, one post per group; how many were tried.
    async fn deliver_due_to(
        &self,
        receiver: &Receiver,
        now: UnixSeconds,
        stop: &CancellationToken,
    ) -> Result<usize, AuditError> {
        let mut tried = 0;
        // A group posted may have more news than one post holds: again until nothing is
        // due. A failed post is put off past `now`, so this ends.
        for _ in 0..MAX_ROUNDS {
            let groups = self
                .store
                .due_groups(&receiver.name, now, GROUPS_PER_ROUND)
                .await?;
            if groups.is_empty() {
                break;
            }
            for group in groups {
                if self.paused_until(&receiver.name) > now || stop.is_cancelled() {
                    return Ok(tried);
                }
                tried += self.post_group(receiver, &group, now, stop).await?;
            }
        }
        Ok(tried)
    }

    /// Builds and sends one group's post and records what came of each of its rows; 1 if
    /// a post was tried.
    async fn post_group(
        &self,
        receiver: &Receiver,
        group: &str,
        now: UnixSeconds,
        stop: &CancellationToken,
    ) -> Result<usize, AuditError> {
        let news = self.store.news(&receiver.name, group).await?;
        let silences = self.store.active_silences(now).await?;
        let (silenced, news): (Vec<News>, Vec<News>) = news.into_iter().partition(|row| {
            silenced_until(&silences, &row.labels, &row.fingerprint, now).is_some()
        });
        let (send, skip) = sort_news(&news);
        let mut outcomes: Vec<(i64, Attempt<'_>)> = silenced
            .iter()
            .map(|row| (row.id, Attempt::Skip { why: SILENCED }))
            .chain(skip.iter().map(|row| {
                let why = "firing never announced";
                (row.id, Attempt::Skip { why })
            }))
            .collect();
        if send.is_empty() {
            self.store
                .record(&receiver.name, group, now, &outcomes)
                .await?;
            return Ok(0);
        }
        let body = self.body(receiver, &send);
        let posted = self.post(receiver, body, stop).await;
        let error_text;
        match posted {
            Posted::Abandoned => return Ok(1),
            Posted::Delivered => {
                tracing::info!(receiver = %receiver.name, alerts = send.len(), "alerts delivered");
                // The rows a newer one of the same alert stood for went with it.
                outcomes
                    .extend(superseded_and_sent(&news, &skip).map(|id| (id, Attempt::Delivered)));
            }
            Posted::Failed { error, pause } => {
                error_text = error;
                let attempt = news.iter().map(|row| row.attempts).max().unwrap_or(0) + 1;
                let wait = retry_after(attempt).max(pause.unwrap_or(0));
                if let Some(pause) = pause {
                    self.pause(&receiver.name, now + pause);
                }
                let error = error_text.as_str();
                tracing::warn!(receiver = %receiver.name, attempt, %error, "alert post failed");
                outcomes.extend(superseded_and_sent(&news, &skip).map(|id| {
                    let tries = news.iter().find(|row| row.id == id).map_or(0, |row| row.attempts) + 1;
                    if tries >= MAX_ATTEMPTS {
                        tracing::error!(receiver = %receiver.name, delivery = id, %error, "alert delivery given up");
                        (id, Attempt::GiveUp { error })
                    } else {
                        (id, Attempt::Retry { at: now + wait, error })
                    }
                }));
            }
        }
        self.store
            .record(&receiver.name, group, now, &outcomes)
            .await?;
        Ok(1)
    }

    /// The post's JSON for `receiver`'s kind.
    fn body(&self, receiver: &Receiver, send: &[&News]) -> String {
        let pages: Vec<String> = send
            .iter()
            .map(|row| payload::page_of(&self.external_url, &row.labels))
            .collect();
        let notices: Vec<Notice<'_>> = send
            .iter()
            .zip(&pages)
            .map(|(row, page)| Notice {
                status: &row.status,
                labels: &row.labels,
                annotations: &row.annotations,
                starts_at: row.starts_at,
                ends_at: if row.status == "resolved" {
                    row.ends_at
                } else {
                    None
                },
                fingerprint: &row.fingerprint,
                generator_url: page,
            })
            .collect();
        let group_labels: BTreeMap<String, String> = send
            .first()
            .map(|row| receiver.grouping.group_labels(&row.labels))
            .unwrap_or_default();
        let body = match receiver.kind {
            ReceiverKind::Alertmanager => {
                payload::alertmanager(&receiver.name, &self.external_url, &group_labels, &notices)
            }
            ReceiverKind::Slack => {
                let alerts_page = format!("{}/alerts", self.external_url);
                payload::slack_group(&group_labels, &notices, &alerts_page)
            }
        };
        body.to_string()
    }

    async fn post(&self, receiver: &Receiver, body: String, stop: &CancellationToken) -> Posted {
        let sending = self.send(receiver, body);
        tokio::pin!(sending);
        let result = tokio::select! {
            result = &mut sending => result,
            () = stop.cancelled() => match tokio::time::timeout(STOP_GRACE, &mut sending).await {
                Ok(result) => result,
                Err(_) => return Posted::Abandoned,
            },
        };
        match result {
            Ok(()) => Posted::Delivered,
            Err((error, pause)) => Posted::Failed { error, pause },
        }
    }

    async fn send(&self, receiver: &Receiver, body: String) -> Result<(), (String, Option<i64>)> {
        let response = self
            .http
            .post(receiver.url())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| (with_causes(&error.without_url()), None))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let pause = asks_for_time(&response, crate::inventory::now());
        let body = response.text().await.unwrap_or_default();
        let said = scrub(&body, receiver.url());
        let error = if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        };
        Err((error, pause))
    }

    fn paused_until(&self, receiver: &str) -> UnixSeconds {
        let paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        paused.get(receiver).copied().unwrap_or(0)
    }

    fn pause(&self, receiver: &str, until: UnixSeconds) {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        paused.insert(receiver.to_owned(), until);
    }

    /// Rows of receivers no longer in the file are closed, not left waiting forever.
    async fn close_unknown(&self, now: UnixSeconds) -> Result<(), AuditError> {
        let names: Vec<&str> = self.receivers.iter().map(|r| r.name.as_str()).collect();
        let closed = self.store.give_up_unknown(&names, now).await?;
        if closed > 0 {
            tracing::warn!(
                closed,
                "alert deliveries to receivers no longer configured were given up"
            );
        }
        Ok(())
    }

    /// Delivers until `stop` is cancelled, a worker per receiver: each is woken by `bell`
    /// and when its next retry is due, and its posts never wait for another's.
    pub async fn run(self, bell: Bell, stop: CancellationToken) {
        if let Err(error) = self.close_unknown(crate::inventory::now()).await {
            tracing::error!(%error, "could not close the deliveries of removed receivers");
        }
        let workers = self.receivers.iter().map(|receiver| {
            let (deliverer, stop, rings) = (self.clone(), stop.clone(), bell.listen());
            let receiver = receiver.clone();
            async move { deliverer.work_for(&receiver, rings, &stop).await }
        });
        futures::future::join_all(workers).await;
        // No receivers: nothing to do, but the task lasts as long as the server.
        stop.cancelled().await;
    }

    async fn work_for(
        &self,
        receiver: &Receiver,
        mut rings: tokio::sync::watch::Receiver<u64>,
        stop: &CancellationToken,
    ) {
        while !stop.is_cancelled() {
            let now = crate::inventory::now();
            if let Err(error) = self.deliver_due_to(receiver, now, stop).await {
                tracing::error!(receiver = %receiver.name, %error, "could not send alert deliveries");
            }
            let next = match self.store.next_due(&receiver.name).await {
                Ok(Some(at)) => at.max(self.paused_until(&receiver.name)),
                _ => self.paused_until(&receiver.name),
            };
            let secs = u64::try_from(next - crate::inventory::now()).unwrap_or(0);
            let wait = if next == 0 {
                IDLE_WAIT
            } else {
                Duration::from_secs(secs.max(1)).min(IDLE_WAIT)
            };
            tokio::select! {
                () = stop.cancelled() => {}
                _ = rings.changed() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Splits a group's rows: what is posted (each alert once, in its latest state, oldest
/// alert first) and what is skipped (a resolution of an alert this receiver never heard
/// fire).
fn sort_news(news: &[News]) -> (Vec<&News>, Vec<&News>) {
    let mut latest: Vec<&News> = Vec::new();
    for row in news {
        match latest
            .iter_mut()
            .find(|kept| kept.fingerprint == row.fingerprint)
        {
            Some(kept) => *kept = row,
            None => latest.push(row),
        }
    }
    latest
        .into_iter()
        .partition(|row| row.status == "firing" || row.announced)
}

/// Every row of `news` but the skipped: the posted ones and those they stand for.
fn superseded_and_sent<'a>(news: &'a [News], skip: &'a [&News]) -> impl Iterator<Item = i64> + 'a {
    news.iter()
        .filter(move |row| !skip.iter().any(|skipped| skipped.id == row.id))
        .map(|row| row.id)
}

/// The time a 429 or 503 asks for (`Retry-After` in seconds or as a date; the first
/// pause when it names none), at most [`LONGEST_RETRY_SECS`].
fn asks_for_time(response: &reqwest::Response, now: UnixSeconds) -> Option<i64> {
    let status = response.status();
    if status != reqwest::StatusCode::TOO_MANY_REQUESTS
        && status != reqwest::StatusCode::SERVICE_UNAVAILABLE
    {
        return None;
    }
    let header = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok());
    Some(retry_after_header(header, now))
}

/// `Retry-After`'s seconds: delay-seconds or an HTTP date, bounded to 1 s ..= 15 min.
pub fn retry_after_header(value: Option<&str>, now: UnixSeconds) -> i64 {
    let asked = value.and_then(|value| {
        let value = value.trim();
        value.parse::<i64>().ok().or_else(|| {
            let at = httpdate::parse_http_date(value).ok()?;
            let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            Some(i64::try_from(at).ok()? - now)
        })
    });
    asked
        .unwrap_or(FIRST_RETRY_SECS)
        .clamp(1, LONGEST_RETRY_SECS)
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
    fn retry_after_is_read_and_bounded() {
        assert_eq!(retry_after_header(Some("120"), 0), 120);
        assert_eq!(retry_after_header(Some(" 7 "), 0), 7);
        assert_eq!(retry_after_header(Some("86400"), 0), LONGEST_RETRY_SECS);
        assert_eq!(retry_after_header(Some("0"), 0), 1);
        assert_eq!(retry_after_header(None, 0), FIRST_RETRY_SECS);
        assert_eq!(retry_after_header(Some("soon"), 0), FIRST_RETRY_SECS);
        // Sun, 06 Dec 2026 18:00:00 GMT, asked at 17:59:00.
        let at = 1_796_580_000;
        assert_eq!(
            retry_after_header(Some("Sun, 06 Dec 2026 18:00:00 GMT"), at - 60),
            60
        );
    }

    #[test]
    fn pauses_double_and_are_capped() {
        let pauses: Vec<i64> = (1..=MAX_ATTEMPTS).map(retry_after).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
    }
}
