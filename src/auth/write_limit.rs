//! A per-user limit on changes: a script or a stuck browser tab of one operator cannot
//! flood SES (whose own limit every user of the account shares) or the audit log.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

/// Changes allowed per user.
#[derive(Debug)]
pub struct WriteLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl WriteLimit {
    /// Change requests a minute per user unless configured: far above what a person does
    /// by hand (typos included).
    pub const DEFAULT_PER_MINUTE: NonZeroU32 = NonZeroU32::new(60).expect("60 > 0");
    /// Change requests per user allowed in a quick burst unless configured.
    pub const DEFAULT_BURST: NonZeroU32 = NonZeroU32::new(20).expect("20 > 0");

    /// `per_minute` changes a minute per user, up to `burst` at once.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one change for `user`, or says how long until the next is allowed.
    pub fn take(&self, user: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&user.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

impl Default for WriteLimit {
    fn default() -> Self {
        Self::new(Self::DEFAULT_PER_MINUTE, Self::DEFAULT_BURST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_their_own_allowance() {
        let limit = WriteLimit::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(2).unwrap());
        assert!(limit.take("alice").is_ok());
        assert!(limit.take("alice").is_ok());
        let wait = limit.take("alice").unwrap_err();
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(limit.take("bob").is_ok(), "bob is not slowed by alice");
    }
}
