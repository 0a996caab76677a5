//! SES's management quota (about one call per second per region), kept on our side:
//! every call waits its turn at a per-target rate limiter, and throttling or transient
//! failures are retried with exponential backoff and jitter, counted, never shown as-is.
//! Background work (the details backfill) gives way to calls someone is waiting for: an
//! operator opening or changing an identity never queues behind a long backfill.

use std::{
    future::Future,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::error::Error;
use crate::unpoisoned::lock;

/// Attempts per call before a retryable failure is given up on.
const MAX_ATTEMPTS: u32 = 8;
/// First backoff by default; doubles each retry.
const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// Longest single backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// How often a background call looks for its turn.
const BACKGROUND_POLL: Duration = Duration::from_millis(20);

/// Whose call it is: someone waits for a foreground call; background calls give way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallPriority {
    /// Sweeps, operator reads and writes: take the next free slot.
    Foreground,
    /// Backfill: take a slot only when no foreground call is waiting for one.
    Background,
}

/// Counters of what one target's calls did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCounts {
    /// Calls sent to SES, retries included.
    pub calls: u64,
    /// Answers that said "too many requests".
    pub throttled: u64,
    /// Retries made (throttling and transient failures).
    pub retries: u64,
}

/// Counters of one SES operation's calls on one target, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationCounts {
    /// Calls sent, retries included.
    pub calls: u64,
    /// Answers that said "too many requests".
    pub throttled: u64,
    /// Calls that failed for good (after any retries).
    pub errors: u64,
}

/// One target's rate limiter and counters.
#[derive(Debug)]
pub struct CallBudget {
    limiter: DefaultDirectRateLimiter,
    base_backoff: Duration,
    calls: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    /// The same, by SES operation name.
    by_operation: std::sync::Mutex<std::collections::BTreeMap<&'static str, OperationCounts>>,
    /// Foreground calls waiting for a slot now.
    foreground_waiting: AtomicUsize,
}

/// Counts one foreground call as waiting for as long as it lives (also if cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallBudget {
    /// A budget of `per_second` calls, no bursts.
    pub fn new(per_second: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::direct(
                Quota::per_second(per_second).allow_burst(NonZeroU32::MIN),
            ),
            base_backoff: BASE_BACKOFF,
            calls: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            by_operation: std::sync::Mutex::default(),
            foreground_waiting: AtomicUsize::new(0),
        }
    }

    /// Sets the first backoff (tests use a short one).
    pub fn with_base_backoff(mut self, base: Duration) -> Self {
        self.base_backoff = base;
        self
    }

    /// What the calls so far did.
    pub fn counts(&self) -> CallCounts {
        CallCounts {
            calls: self.calls.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }

    /// What the calls so far did, by SES operation name.
    pub fn counts_by_operation(&self) -> Vec<(&'static str, OperationCounts)> {
        let counts = lock(&self.by_operation);
        counts.iter().map(|(op, c)| (*op, *c)).collect()
    }

    fn count(&self, operation: &'static str, note: impl FnOnce(&mut OperationCounts)) {
        let mut counts = lock(&self.by_operation);
        note(counts.entry(operation).or_default());
    }

    /// Runs `call` within the budget as a foreground call, retrying what is worth retrying.
    pub async fn run<T, E, F, Fut>(&self, operation: &'static str, call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        self.run_as(CallPriority::Foreground, operation, call).await
    }

    /// Runs `call` within the budget on `turn`, retrying what is worth retrying.
    pub async fn run_as<T, E, F, Fut>(
        &self,
        turn: CallPriority,
        operation: &'static str,
        mut call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        let mut attempt = 1;
        loop {
            self.wait_for(turn).await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.count(operation, |c| c.calls += 1);
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error.into(),
            };
            if error == Error::TooManyRequests {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                self.count(operation, |c| c.throttled += 1);
            }
            if !error.is_retryable() || attempt >= MAX_ATTEMPTS {
                tracing::warn!(operation, attempt, %error, "SES call failed");
                self.count(operation, |c| c.errors += 1);
                return Err(error);
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            let pause = backoff(self.base_backoff, attempt);
            tracing::debug!(operation, attempt, ?pause, %error, "retrying SES call");
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }
}

impl CallBudget {
    /// Waits for a slot: at once in line for a foreground call; for a background call, only
    /// a slot no foreground call is waiting for.
    async fn wait_for(&self, turn: CallPriority) {
        match turn {
            CallPriority::Foreground => {
                let _waiting = Waiting::new(&self.foreground_waiting);
                self.limiter.until_ready().await;
            }
            CallPriority::Background => loop {
                let mut pause = BACKGROUND_POLL;
                if self.foreground_waiting.load(Ordering::SeqCst) == 0 {
                    match self.limiter.check() {
                        Ok(()) => return,
                        // Not later than the next free slot: a fast budget is used in full.
                        Err(later) => {
                            let now = governor::clock::Clock::now(
                                &governor::clock::DefaultClock::default(),
                            );
                            pause = pause.min(later.wait_time_from(now));
                        }
                    }
                }
                tokio::time::sleep(pause).await;
            },
        }
    }
}

/// Jittered: a random pause between half and all of `base × 2^(attempt-1)`, capped.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(MAX_BACKOFF);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn fast_budget() -> CallBudget {
        CallBudget::new(NonZeroU32::new(1000).unwrap()).with_base_backoff(Duration::from_millis(1))
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(BASE_BACKOFF, 1) <= BASE_BACKOFF);
        assert!(backoff(BASE_BACKOFF, 3) >= BASE_BACKOFF * 2);
        assert!(backoff(BASE_BACKOFF, 30) <= MAX_BACKOFF);
    }

    #[tokio::test]
    async fn throttling_is_retried_and_counted() {
        let budget = fast_budget();
        let failures_left = AtomicU32::new(2);
        let value = budget
            .run("Test", || async {
                if failures_left.fetch_sub(1, Ordering::Relaxed) > 0 {
                    Err(Error::TooManyRequests)
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(value, Ok(7));
        assert_eq!(
            budget.counts(),
            CallCounts {
                calls: 3,
                throttled: 2,
                retries: 2
            }
        );
    }

    #[tokio::test]
    async fn background_calls_give_way_to_a_foreground_call() {
        use std::sync::Mutex;

        let budget = CallBudget::new(NonZeroU32::new(20).unwrap());
        let order = Mutex::new(Vec::new());
        let record = |who: char| {
            order.lock().unwrap().push(who);
            async { Ok::<_, Error>(()) }
        };
        // Three backfill workers, each with calls queued.
        let worker = || async {
            for _ in 0..2 {
                budget
                    .run_as(CallPriority::Background, "Backfill", || record('b'))
                    .await
                    .unwrap();
            }
        };
        let foreground = async {
            // Arrives while the backfill is under way, with more background calls queued.
            while order.lock().unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            budget.run("Open", || record('f')).await.unwrap();
        };
        tokio::join!(worker(), worker(), worker(), foreground);
        assert_eq!(*order.lock().unwrap(), ['b', 'f', 'b', 'b', 'b', 'b', 'b']);
    }

    #[tokio::test]
    async fn bad_requests_are_not_retried_and_retries_end() {
        let budget = fast_budget();
        let result: Result<(), _> = budget
            .run("Test", || async { Err(Error::BadRequest("no".into())) })
            .await;
        assert_eq!(result, Err(Error::BadRequest("no".into())));
        assert_eq!(budget.counts().calls, 1);

        let result: Result<(), _> = budget
            .run("Test", || async { Err(Error::Unavailable("down".into())) })
            .await;
        assert_eq!(result, Err(Error::Unavailable("down".into())));
        assert_eq!(budget.counts().calls, 1 + u64::from(MAX_ATTEMPTS));
    }
}
