//! Carrying out fleet repairs in the background, one run at a time, oldest first: a run
//! started while another goes waits its turn, and a run a stopped server left unfinished
//! is resumed where it stood when the server starts again.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{fleet_plan::FleetPlan, store::RepairStore};
use crate::audit::log::{AuditError, AuditLog};
use crate::changes::{Actor, fleet_repair::carry_out};
use crate::dns::monitor::DnsMonitor;
use crate::inventory::{self, Inventory};
use crate::publish::provider::Providers;
use crate::user::{Role, User};

/// How long to wait before trying again when the database could not be read.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The fleet repairs: where they are stored, and the runner's wake-up call.
#[derive(Clone, Debug)]
pub struct Repairs {
    store: RepairStore,
    wake: Arc<Notify>,
}

/// What a run works with.
#[derive(Clone, Debug)]
pub struct Workers {
    pub inventory: Inventory,
    pub audit: AuditLog,
    pub providers: Providers,
    pub dns: Option<DnsMonitor>,
}

impl Repairs {
    /// Repairs stored beside `audit`.
    pub fn new(audit: AuditLog) -> Self {
        Self {
            store: RepairStore::new(audit),
            wake: Arc::default(),
        }
    }

    pub fn store(&self) -> &RepairStore {
        &self.store
    }

    /// Records a run of `plan` (reviewed by `user`, from the table's `selection`) and
    /// wakes the runner; the run's id.
    pub async fn start(
        &self,
        user: &User,
        selection: &str,
        plan: &FleetPlan,
    ) -> Result<i64, AuditError> {
        let id = self
            .store
            .create(user, selection, plan, inventory::now())
            .await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Carries out every unfinished run, then waits for the next, until `stop`.
    pub async fn work(self, workers: Workers, stop: CancellationToken) {
        loop {
            let pause = match self.carry_out_unfinished(&workers, &stop).await {
                Ok(()) => None,
                Err(error) => {
                    tracing::error!(%error, "fleet repairs held up; trying again shortly");
                    Some(RETRY_AFTER)
                }
            };
            if stop.is_cancelled() {
                return;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause.unwrap_or(Duration::MAX / 4)) => {}
            }
        }
    }

    async fn carry_out_unfinished(
        &self,
        workers: &Workers,
        stop: &CancellationToken,
    ) -> Result<(), String> {
        let database = |error: AuditError| format!("the database could not be read: {error}");
        for id in self.store.unfinished().await.map_err(database)? {
            let Some(run) = self.store.run(id).await.map_err(database)? else {
                tracing::error!(
                    run = id,
                    "fleet repair: its plan no longer reads; closing it"
                );
                self.store
                    .finish(id, inventory::now())
                    .await
                    .map_err(database)?;
                continue;
            };
            // The operator who started it, as the audit log records them.
            let user = User {
                name: run.user_name.clone(),
                email: run.user_email.clone(),
                groups: Vec::new(),
                role: Role::Operator,
            };
            let actor = Actor {
                inventory: &workers.inventory,
                audit: &workers.audit,
                user: &user,
            };
            tracing::info!(run = id, user = %user.name, "fleet repair under way");
            let finished = carry_out(
                &actor,
                &workers.providers,
                workers.dns.as_ref(),
                &self.store,
                &run,
                || stop.is_cancelled(),
            )
            .await;
            match finished {
                Ok(true) => {
                    self.store
                        .finish(id, inventory::now())
                        .await
                        .map_err(database)?;
                    tracing::info!(run = id, "fleet repair finished");
                }
                // Stopping: the next start resumes it.
                Ok(false) => return Ok(()),
                Err(error) => return Err(format!("run {id}: {error}")),
            }
        }
        Ok(())
    }
}
