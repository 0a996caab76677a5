//! The server's background work, owned in one place: the sweeps, the DNS checks, the
//! history, the alerts, the metrics listener. Started together, stopped together when the
//! server stops (each given a grace period to finish what it is doing), and none ends
//! silently: a task that returns or panics while the server runs is logged and stops the
//! server, so its supervisor (systemd, Kubernetes) restarts it whole rather than leaving
//! a dashboard whose data quietly stopped moving.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::unpoisoned::lock;
use futures::FutureExt;
use tokio::task::{JoinHandle, JoinSet};
pub use tokio_util::sync::CancellationToken;

/// How long the tasks get to finish once the server stops.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// The running background tasks.
#[derive(Default)]
pub struct Background {
    tasks: JoinSet<()>,
    /// Cancelled when the server stops: asks every task to end.
    stop: CancellationToken,
    /// Cancelled when a task ended on its own.
    failed: CancellationToken,
    /// The tasks that ended on their own, and why.
    failures: Arc<Mutex<Vec<String>>>,
}

/// Whether a task is meant to end by itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expected {
    RunsUntilStopped,
    MayEnd,
}

impl Background {
    /// No tasks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task`, which should run until the server stops; when it does, `task` is
    /// dropped at its next await.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let work = until_stopped(self.stop.clone(), task);
        self.supervise(name, work, Expected::RunsUntilStopped);
    }

    /// Takes over a task already running; it is aborted when the server stops.
    pub fn adopt(&mut self, name: &'static str, handle: JoinHandle<()>) {
        let guard = AbortOnDrop(handle);
        self.spawn(name, async move {
            let mut guard = guard;
            if let Err(error) = (&mut guard.0).await
                && let Ok(panic) = error.try_into_panic()
            {
                std::panic::resume_unwind(panic);
            }
        });
    }

    /// Runs the task `task(stop)` makes, which ends by itself soon after `stop` is
    /// cancelled (finishing what it is doing first, within [`STOP_GRACE`]).
    pub fn spawn_stoppable<F>(
        &mut self,
        name: &'static str,
        task: impl FnOnce(CancellationToken) -> F,
    ) where
        F: Future<Output = ()> + Send + 'static,
    {
        let work = task(self.stop.clone());
        self.supervise(name, work, Expected::RunsUntilStopped);
    }

    /// Runs `task`, which has a job to finish (such as settling what an earlier run left):
    /// it may end, only a panic is a failure. It is dropped if the server stops first.
    pub fn spawn_once(
        &mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let work = until_stopped(self.stop.clone(), task);
        self.supervise(name, work, Expected::MayEnd);
    }

    fn supervise(
        &mut self,
        name: &'static str,
        work: impl Future<Output = ()> + Send + 'static,
        expected: Expected,
    ) {
        let stop = self.stop.clone();
        let (failed, failures) = (self.failed.clone(), self.failures.clone());
        self.tasks.spawn(async move {
            let outcome = AssertUnwindSafe(work).catch_unwind().await;
            let why = match outcome {
                Ok(()) if stop.is_cancelled() || expected == Expected::MayEnd => return,
                Ok(()) => format!("the background task '{name}' ended"),
                Err(panic) => format!(
                    "the background task '{name}' panicked: {}",
                    panic_message(panic.as_ref())
                ),
            };
            tracing::error!("{why}; stopping the server so that it is restarted whole");
            lock(&failures).push(why);
            failed.cancel();
        });
    }

    /// Resolves when a task ended while the server runs (never, if none does).
    pub fn failed(&self) -> impl Future<Output = ()> + Send + 'static {
        self.failed.clone().cancelled_owned()
    }

    /// Asks every task to stop, waits up to `grace` for them, then aborts the rest.
    /// Returns what ended on its own before (empty when all was well).
    pub async fn stop(mut self, grace: Duration) -> Vec<String> {
        self.stop.cancel();
        let all_ended = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_ended).await.is_err() {
            tracing::warn!(
                tasks = self.tasks.len(),
                "background tasks still busy after {grace:?}; stopping them"
            );
            self.tasks.shutdown().await;
        }
        std::mem::take(&mut *lock(&self.failures))
    }
}

/// `task`, dropped at its next await once `stop` is cancelled.
async fn until_stopped(stop: CancellationToken, task: impl Future<Output = ()>) {
    tokio::select! {
        biased;
        () = stop.cancelled() => {}
        () = task => {}
    }
}

/// Aborts the task when dropped, so stopping the wrapper stops the task.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs `work`, which keeps a thread busy for a while at fleet size (an alert round over
/// 100,000 identities takes hundreds of milliseconds), without holding up the requests and
/// tasks queued behind it: on the server's multi-thread runtime, the worker thread hands
/// them to another thread first. Elsewhere (a single-thread runtime, no runtime) it just
/// runs.
pub fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn a_task_that_ends_by_itself_is_a_failure_that_stops_the_server() {
        let mut background = Background::new();
        background.spawn("forever", std::future::pending());
        background.spawn("short-lived", async {});
        tokio::time::timeout(Duration::from_secs(10), background.failed())
            .await
            .expect("the failure is reported");
        let failures = background.stop(Duration::from_secs(1)).await;
        assert_eq!(failures, ["the background task 'short-lived' ended"]);
    }

    #[tokio::test]
    async fn a_one_off_task_may_end_but_not_panic() {
        let mut background = Background::new();
        background.spawn_once("settle", async {});
        background.spawn_once("settle badly", async { panic!("no such table") });
        tokio::time::timeout(Duration::from_secs(10), background.failed())
            .await
            .expect("the failure is reported");
        let failures = background.stop(Duration::from_secs(1)).await;
        assert_eq!(
            failures,
            ["the background task 'settle badly' panicked: no such table"]
        );
    }

    #[tokio::test]
    async fn a_panic_is_reported_with_its_message() {
        let mut background = Background::new();
        let handle = tokio::spawn(async { panic!("lost the database") });
        background.adopt("adopted", handle);
        tokio::time::timeout(Duration::from_secs(10), background.failed())
            .await
            .expect("the failure is reported");
        let failures = background.stop(Duration::from_secs(1)).await;
        assert_eq!(
            failures,
            ["the background task 'adopted' panicked: lost the database"]
        );
    }

    #[tokio::test]
    async fn stopping_lets_a_stoppable_task_finish_and_aborts_the_others() {
        let finished = Arc::new(AtomicBool::new(false));
        let adopted_dropped = Arc::new(AtomicBool::new(false));
        let mut background = Background::new();
        background.spawn_stoppable("tidy", {
            let finished = finished.clone();
            move |stop| async move {
                stop.cancelled().await;
                // Finishing its work after the request to stop.
                tokio::time::sleep(Duration::from_millis(50)).await;
                finished.store(true, Ordering::SeqCst);
            }
        });
        let adopted = tokio::spawn({
            let dropped = DropFlag(adopted_dropped.clone());
            async move {
                let _dropped = dropped;
                std::future::pending::<()>().await;
            }
        });
        background.adopt("adopted", adopted);
        let failures = background.stop(Duration::from_secs(10)).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert!(
            finished.load(Ordering::SeqCst),
            "the stoppable task finished"
        );
        // The adopted task is aborted: its future is dropped (on its worker, soon after).
        for _ in 0..200 {
            if adopted_dropped.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the adopted task was not stopped");
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_stop_is_aborted_after_the_grace() {
        let mut background = Background::new();
        background.spawn_stoppable("stubborn", |_stop| std::future::pending());
        let failures = tokio::time::timeout(
            Duration::from_secs(10),
            background.stop(Duration::from_millis(50)),
        )
        .await
        .expect("stopped after the grace");
        assert!(failures.is_empty(), "{failures:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn cpu_bound_work_lets_the_other_tasks_of_its_worker_run() {
        // On the one worker thread, the work waits for a message from a task spawned there:
        // that task only runs if the work handed the worker's tasks over (else the wait
        // times out and the test fails).
        let (send, receive) = std::sync::mpsc::channel();
        let heard = tokio::spawn(async move {
            cpu_bound(|| {
                tokio::spawn(async move { send.send("from another task").ok() });
                receive.recv_timeout(Duration::from_secs(10))
            })
        })
        .await
        .expect("the task ran");
        assert_eq!(heard, Ok("from another task"));
    }

    #[tokio::test]
    async fn cpu_bound_work_runs_in_place_on_a_single_thread_runtime() {
        assert_eq!(cpu_bound(|| 6 * 7), 42);
        assert_eq!(std::thread::spawn(|| cpu_bound(|| 1)).join().ok(), Some(1));
    }

    struct DropFlag(Arc<AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}
