//! Fleet repairs in the audit log's SQLite database (`migrations/`): each run's reviewed
//! plan and where each of its identities stands, written as the run goes, so a reload
//! shows its progress and a restarted server resumes it.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::fleet_plan::FleetPlan;
use crate::audit::log::{AuditError, AuditLog};
use crate::model::{IdentityKey, UnixSeconds};
use crate::user::User;

/// Where one identity of a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepState {
    /// Not reached yet.
    Waiting,
    /// Its records are written; a restart may follow.
    Published,
    /// Its records are written (or were right) and SES looks for them again.
    Restarted,
    /// Nothing left to do for it.
    Done,
    /// It could not be repaired; the detail says why.
    Failed,
}

impl StepState {
    pub const ALL: [Self; 5] = [
        Self::Waiting,
        Self::Published,
        Self::Restarted,
        Self::Done,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Published => "published",
            Self::Restarted => "restarted",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(Self::Failed)
    }

    /// Whether the run has finished with this identity.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Waiting | Self::Published)
    }
}

/// One identity of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub key: IdentityKey,
    pub state: StepState,
    /// What happened, in words.
    pub detail: Option<String>,
    /// The audit entry of its last change.
    pub audit_id: Option<i64>,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: i64,
    pub started_at: UnixSeconds,
    pub user_name: String,
    pub user_email: Option<String>,
    /// The identities table's query it was started from.
    pub selection: String,
    pub plan: FleetPlan,
    pub finished_at: Option<UnixSeconds>,
    pub steps: Vec<Step>,
}

/// The stored runs; cheap to clone (the audit log's connection pool).
#[derive(Clone, Debug)]
pub struct RepairStore {
    log: AuditLog,
}

impl RepairStore {
    /// Runs kept beside `log`.
    pub fn new(log: AuditLog) -> Self {
        Self { log }
    }

    /// Records a new run of `plan`, every identity waiting; its id.
    pub async fn create(
        &self,
        user: &User,
        selection: &str,
        plan: &FleetPlan,
        now: UnixSeconds,
    ) -> Result<i64, AuditError> {
        let db = self.log.database().await?;
        let error = |e| self.log.query_error(e);
        let plan_json = serde_json::to_string(plan).unwrap_or_default();
        let mut transaction = db.begin().await.map_err(error)?;
        let id: i64 = sqlx::query(
            "INSERT INTO repair_runs (started_at, user_name, user_email, selection, plan)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(now)
        .bind(&user.name)
        .bind(&user.email)
        .bind(selection)
        .bind(plan_json)
        .fetch_one(&mut *transaction)
        .await
        .map_err(error)?
        .get("id");
        for item in plan.zones.iter().flat_map(|z| &z.identities) {
            sqlx::query(
                "INSERT INTO repair_steps (run_id, account, region, name, state)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&item.key.account)
            .bind(&item.key.region)
            .bind(&item.key.name)
            .bind(StepState::Waiting.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(error)?;
        }
        transaction.commit().await.map_err(error)?;
        Ok(id)
    }

    /// Run `id` with its steps, if there is one (and its plan still reads).
    pub async fn run(&self, id: i64) -> Result<Option<Run>, AuditError> {
        let db = self.log.database().await?;
        let error = |e| self.log.query_error(e);
        let Some(row) = sqlx::query(
            "SELECT id, started_at, user_name, user_email, selection, plan, finished_at
             FROM repair_runs WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(error)?
        else {
            return Ok(None);
        };
        let Ok(plan) = serde_json::from_str(row.get("plan")) else {
            return Ok(None);
        };
        let steps = sqlx::query(
            "SELECT account, region, name, state, detail, audit_id FROM repair_steps
             WHERE run_id = ? ORDER BY account, region, name",
        )
        .bind(id)
        .fetch_all(db)
        .await
        .map_err(error)?
        .iter()
        .map(|row| Step {
            key: IdentityKey {
                account: row.get("account"),
                region: row.get("region"),
                name: row.get("name"),
            },
            state: StepState::parse(row.get("state")),
            detail: row.get("detail"),
            audit_id: row.get("audit_id"),
        })
        .collect();
        Ok(Some(Run {
            id: row.get("id"),
            started_at: row.get("started_at"),
            user_name: row.get("user_name"),
            user_email: row.get("user_email"),
            selection: row.get("selection"),
            plan,
            finished_at: row.get("finished_at"),
            steps,
        }))
    }

    /// The runs not finished yet, oldest first: what a restarted server resumes.
    pub async fn unfinished(&self) -> Result<Vec<i64>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query("SELECT id FROM repair_runs WHERE finished_at IS NULL ORDER BY id")
            .fetch_all(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        Ok(rows.iter().map(|row| row.get("id")).collect())
    }

    /// The latest runs, newest first (ids and whether finished).
    pub async fn latest(&self, limit: u32) -> Result<Vec<(i64, Option<UnixSeconds>)>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query("SELECT id, finished_at FROM repair_runs ORDER BY id DESC LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| (row.get("id"), row.get("finished_at")))
            .collect())
    }

    /// Records where `key` stands in run `run`; without `detail` or `audit_id`, the ones
    /// recorded before stay.
    pub async fn set_step(
        &self,
        run: i64,
        key: &IdentityKey,
        state: StepState,
        detail: Option<&str>,
        audit_id: Option<i64>,
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        sqlx::query(
            "UPDATE repair_steps SET state = ?, detail = COALESCE(?, detail),
               audit_id = COALESCE(?, audit_id)
             WHERE run_id = ? AND account = ? AND region = ? AND name = ?",
        )
        .bind(state.as_str())
        .bind(detail)
        .bind(audit_id)
        .bind(run)
        .bind(&key.account)
        .bind(&key.region)
        .bind(&key.name)
        .execute(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(())
    }

    /// Marks run `run` finished.
    pub async fn finish(&self, run: i64, now: UnixSeconds) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        sqlx::query("UPDATE repair_runs SET finished_at = ? WHERE id = ?")
            .bind(now)
            .bind(run)
            .execute(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        Ok(())
    }
}
