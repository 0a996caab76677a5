//! A bounded cache whose entries expire after their own time to live, with one
//! computation in flight per key: callers asking for a key that is being looked up wait
//! for that look-up instead of starting their own (moka's `get_with`).

use std::{hash::Hash, time::Duration};

use moka::{Expiry, future::Cache};

/// A value and how long it may be reused.
#[derive(Clone)]
struct Timed<V> {
    value: V,
    ttl: Duration,
}

/// Entries live as long as each value's own TTL.
struct OwnTtl;

impl<K, V> Expiry<K, Timed<V>> for OwnTtl {
    fn expire_after_create(
        &self,
        _key: &K,
        value: &Timed<V>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct TtlCache<K, V> {
    entries: Cache<K, Timed<V>>,
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache of at most `capacity` entries (the least used go first beyond that).
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(OwnTtl)
                .build(),
        }
    }

    /// The value of `key`: cached, or computed by `look_up` (which also says how long
    /// the value may be kept). Concurrent callers for one key share one `look_up`.
    pub async fn get_with(&self, key: K, look_up: impl Future<Output = (V, Duration)>) -> V {
        self.entries
            .get_with(key, async move {
                let (value, ttl) = look_up.await;
                Timed { value, ttl }
            })
            .await
            .value
    }

    /// How many entries are held (approximate until pending maintenance runs).
    pub fn len(&self) -> u64 {
        self.entries.entry_count()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_look_up() {
        let cache: TtlCache<&str, u32> = TtlCache::new(10);
        let calls = Arc::new(AtomicU32::new(0));
        let look_up = |calls: Arc<AtomicU32>| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            (
                calls.fetch_add(1, Ordering::SeqCst) + 1,
                Duration::from_secs(60),
            )
        };
        let values = futures::future::join_all(
            (0..8).map(|_| cache.get_with("example.com", look_up(calls.clone()))),
        )
        .await;
        assert_eq!(values, [1; 8]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_entry_expires_after_its_own_ttl() {
        let cache: TtlCache<&str, u32> = TtlCache::new(10);
        let short = cache
            .get_with("short", async { (1, Duration::from_millis(30)) })
            .await;
        let long = cache
            .get_with("long", async { (1, Duration::from_secs(60)) })
            .await;
        assert_eq!((short, long), (1, 1));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(
            cache.get_with("short", async { (2, Duration::ZERO) }).await,
            2
        );
        assert_eq!(
            cache.get_with("long", async { (2, Duration::ZERO) }).await,
            1
        );
    }
}
