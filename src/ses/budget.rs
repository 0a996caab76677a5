//! SES's management quota (about one call per second per region), kept on our side:
//! every call waits its turn at a per-target rate limiter, and throttling or transient
//! failures are retried with exponential backoff and jitter, counted, never shown as-is.

use std::{
    future::Future,
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::error::Error;

/// Attempts per call before a retryable failure is given up on.
const MAX_ATTEMPTS: u32 = 8;
/// First backoff by default; doubles each retry.
const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// Longest single backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

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

/// One target's rate limiter and counters.
#[derive(Debug)]
pub struct CallBudget {
    limiter: DefaultDirectRateLimiter,
    base_backoff: Duration,
    calls: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
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

    /// Runs `call` within the budget, retrying what is worth retrying.
    pub async fn run<T, E, F, Fut>(&self, operation: &'static str, mut call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        let mut attempt = 1;
        loop {
            self.limiter.until_ready().await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error.into(),
            };
            if error == Error::TooManyRequests {
                self.throttled.fetch_add(1, Ordering::Relaxed);
            }
            if !error.is_retryable() || attempt >= MAX_ATTEMPTS {
                tracing::warn!(operation, attempt, %error, "SES call failed");
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
