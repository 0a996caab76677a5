//! Two lanes for the DNS questions under one rate limit: the foreground ("Check DNS now",
//! an operator waits for it) and the background pass. While a foreground question waits
//! for a slot, no background question takes one, so an operator's check never queues
//! behind a pass over thousands of identities.

use std::{
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use tokio::sync::Notify;

tokio::task_local! {
    /// Set for the work of an operator's check.
    static FOREGROUND: ();
}

/// Runs `work` in the foreground lane: every question it asks goes first.
pub async fn in_foreground<F: Future>(work: F) -> F::Output {
    FOREGROUND.scope((), work).await
}

fn is_foreground() -> bool {
    FOREGROUND.try_with(|()| ()).is_ok()
}

/// Foreground questions waiting for a slot, and the background waiting for them to be
/// served.
#[derive(Debug, Default)]
pub struct Lanes {
    foreground_waiting: AtomicUsize,
    foreground_served: Notify,
}

impl Lanes {
    /// Takes a slot of a rate limit: `try_take` takes one, or says how long until the next.
    /// A background caller takes none while a foreground caller waits.
    pub async fn take(&self, try_take: impl Fn() -> Result<(), Duration>) {
        let _waiting = is_foreground().then(|| Waiting::new(self));
        loop {
            if _waiting.is_none() {
                self.foreground_done().await;
            }
            match try_take() {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Returns once no foreground question waits.
    async fn foreground_done(&self) {
        loop {
            // Created before the check: a wake-up between the two is not lost.
            let served = self.foreground_served.notified();
            if self.foreground_waiting.load(Ordering::Acquire) == 0 {
                return;
            }
            served.await;
        }
    }
}

/// Counts one foreground question as waiting while it lives.
struct Waiting<'a>(&'a Lanes);

impl<'a> Waiting<'a> {
    fn new(lanes: &'a Lanes) -> Self {
        lanes.foreground_waiting.fetch_add(1, Ordering::AcqRel);
        Self(lanes)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.foreground_waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.foreground_served.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    /// A limit with `slots` free slots, taken one at a time.
    fn limit(slots: &Arc<AtomicUsize>) -> impl Fn() -> Result<(), Duration> + Clone + use<> {
        let slots = slots.clone();
        move || {
            slots
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .map(|_| ())
                .map_err(|_| Duration::from_millis(2))
        }
    }

    #[tokio::test]
    async fn the_background_takes_no_slot_while_the_foreground_waits() {
        let lanes = Arc::new(Lanes::default());
        let slots = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut background = Vec::new();
        // The background waits first, many of it.
        for n in 0..8 {
            let (lanes, take, order) = (lanes.clone(), limit(&slots), order.clone());
            background.push(tokio::spawn(async move {
                lanes.take(take).await;
                order.lock().unwrap().push(format!("background {n}"));
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let foreground = tokio::spawn({
            let (lanes, take, order) = (lanes.clone(), limit(&slots), order.clone());
            async move {
                in_foreground(lanes.take(take)).await;
                order.lock().unwrap().push("foreground".to_owned());
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        slots.store(1, Ordering::SeqCst);
        foreground.await.unwrap();
        assert_eq!(
            *order.lock().unwrap(),
            ["foreground"],
            "the one slot went first to it"
        );
        slots.store(8, Ordering::SeqCst);
        for task in background {
            task.await.unwrap();
        }
        assert_eq!(order.lock().unwrap().len(), 9);
    }

    #[tokio::test]
    async fn a_background_caller_passes_when_no_foreground_waits() {
        let lanes = Lanes::default();
        tokio::time::timeout(Duration::from_secs(1), lanes.take(|| Ok(())))
            .await
            .expect("not held back");
    }
}
