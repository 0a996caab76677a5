//! The bell the engine rings when it queued news: every receiver's worker hears each ring,
//! even one rung while the worker was busy posting (a `watch` keeps the last ring).

use tokio::sync::watch;

/// Cheap to clone; every clone rings the same bell.
#[derive(Clone, Debug)]
pub struct Bell {
    rings: watch::Sender<u64>,
}

impl Default for Bell {
    fn default() -> Self {
        Self {
            rings: watch::Sender::new(0),
        }
    }
}

impl Bell {
    /// Tells every listener that something was queued.
    pub fn ring(&self) {
        self.rings
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// A listener that hears every ring from now on.
    pub fn listen(&self) -> watch::Receiver<u64> {
        self.rings.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ring_while_busy_is_heard_later() {
        let bell = Bell::default();
        let mut busy = bell.listen();
        let mut other = bell.listen();
        bell.ring();
        assert!(busy.has_changed().unwrap());
        busy.changed().await.unwrap();
        assert!(!busy.has_changed().unwrap());
        other.changed().await.unwrap();
    }
}
