//! The history's tables, in the audit log's SQLite database (`migrations/`): the last seen
//! state of each identity, the changes seen, and which targets have their baseline.

use sqlx::Row;

use super::entry::HistoryEntry;
use super::observed::{TargetDiff, TargetState};
use super::recent::RecentHistory;
use crate::audit::log::{AuditError, AuditLog, identity_key};
use crate::inventory::known_since::KnownSince;
use crate::model::{DkimStatus, IdentityKey, UnixSeconds};

/// How long before a change is seen the change made through dkimdash that caused it may
/// have been sent (SES applies a change at once; the next read sees it).
const LINK_WITHIN_SECS: i64 = 15 * 60;

/// The history; cheap to clone (the audit log's connection pool, and the figures every
/// clone shares).
#[derive(Clone, Debug)]
pub struct History {
    log: AuditLog,
    recent: RecentHistory,
}

/// A target's last seen state, and whether its baseline was taken.
#[derive(Clone, Debug, Default)]
pub struct TargetHistory {
    /// Whether a first read was recorded as the baseline.
    pub baselined: bool,
    /// The last seen fields of each identity.
    pub state: TargetState,
}

impl History {
    /// The history kept beside `log`.
    pub fn new(log: AuditLog) -> Self {
        Self {
            log,
            recent: RecentHistory::default(),
        }
    }

    /// The audit log this history is kept beside.
    pub fn log(&self) -> &AuditLog {
        &self.log
    }

    /// Grows with every write the pages' figures noted: what a page read of the history
    /// is current while it stays the same.
    pub fn version(&self) -> u64 {
        self.recent.version()
    }

    /// What was last seen of the target `account`/`region`.
    pub async fn load(&self, account: &str, region: &str) -> Result<TargetHistory, AuditError> {
        let db = self.log.database().await?;
        let baselined =
            sqlx::query("SELECT 1 FROM history_targets WHERE account = ? AND region = ?")
                .bind(account)
                .bind(region)
                .fetch_optional(db)
                .await
                .map_err(|e| self.log.query_error(e))?
                .is_some();
        let rows = sqlx::query(
            "SELECT name, field, value FROM identity_state WHERE account = ? AND region = ?",
        )
        .bind(account)
        .bind(region)
        .fetch_all(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        let mut state = TargetState::new();
        for row in rows {
            let (field, value): (&str, &str) = (row.get("field"), row.get("value"));
            state.entry(row.get("name")).or_default().set(field, value);
        }
        Ok(TargetHistory { baselined, state })
    }

    /// Records one read of a target seen at `at`, in one transaction: the baseline mark on
    /// its first read, the changes (each linked to the audit entry of a change made through
    /// dkimdash to the same identity shortly before, if there is one), the new state.
    pub async fn record(
        &self,
        account: &str,
        region: &str,
        at: UnixSeconds,
        diff: &TargetDiff,
        baseline: bool,
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let failed = |e| self.log.query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        if baseline {
            sqlx::query(
                "INSERT OR IGNORE INTO history_targets (account, region, baseline_at) VALUES (?, ?, ?)",
            )
            .bind(account)
            .bind(region)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        for seen in &diff.seen {
            sqlx::query(
                "INSERT INTO identity_history (at, account, region, name, field, before, after, change_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                   (SELECT id FROM changes
                    WHERE account = ?2 AND region = ?3 AND identity = ?4 AND outcome = 'done'
                      AND at >= ?1 - ?8
                    ORDER BY id DESC LIMIT 1))",
            )
            .bind(at)
            .bind(account)
            .bind(region)
            .bind(&seen.name)
            .bind(seen.field)
            .bind(&seen.before)
            .bind(&seen.after)
            .bind(LINK_WITHIN_SECS)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        for name in &diff.gone {
            sqlx::query("DELETE FROM identity_state WHERE account = ? AND region = ? AND name = ?")
                .bind(account)
                .bind(region)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        for (name, field, value) in &diff.upserts {
            sqlx::query(
                "INSERT INTO identity_state (account, region, name, field, value) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (account, region, name, field) DO UPDATE SET value = excluded.value",
            )
            .bind(account)
            .bind(region)
            .bind(name)
            .bind(field)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)?;
        let names = diff.seen.iter().map(|seen| seen.name.as_str());
        self.recent.saw_changes((account, region), names, at).await;
        Ok(())
    }

    /// Notes one target's counts for the day of `at`, just written by `daily`.
    pub async fn counted(
        &self,
        target: (&str, &str),
        at: UnixSeconds,
        counts: &[(DkimStatus, usize)],
    ) {
        self.recent.counted(target, at, counts).await;
    }

    /// The newest changes of one identity, newest first, at most `limit`.
    pub async fn timeline(
        &self,
        account: &str,
        region: &str,
        name: &str,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query(
            "SELECT at, field, before, after, change_id FROM identity_history
             WHERE account = ? AND region = ? AND name = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(account)
        .bind(region)
        .bind(name)
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| HistoryEntry {
                at: row.get("at"),
                field: row.get("field"),
                before: row.get("before"),
                after: row.get("after"),
                change_id: row.get("change_id"),
            })
            .collect())
    }

    /// The identities (account, region, name) with a change seen at or after `since`, as
    /// far back as the table's `changed` filter looks; from memory after the first read.
    pub async fn changed_since(
        &self,
        since: UnixSeconds,
    ) -> Result<std::collections::HashSet<IdentityKey>, AuditError> {
        self.recent.changed_since(&self.log, since).await
    }

    /// How many identities had a change seen at or after `since` (as far back as
    /// [`Self::changed_since`]).
    pub async fn count_changed_since(&self, since: UnixSeconds) -> Result<usize, AuditError> {
        self.recent.count_changed_since(&self.log, since).await
    }

    /// Identities per DKIM status on each of the last `days` days up to the day of `now`
    /// (at most the chart's), oldest first, summed over targets; days nothing was read
    /// are left out. From memory after the first read.
    pub async fn daily_counts(
        &self,
        now: UnixSeconds,
        days: i64,
    ) -> Result<Vec<super::entry::DayCounts>, AuditError> {
        self.recent.daily(&self.log, now, days).await
    }

    /// Each identity's DKIM status as last recorded, and since when it has held as far as
    /// the history knows (its last status change or appearance, else the target's
    /// baseline): how long an identity has been PENDING (alerts, the identity page, the
    /// overview's attention count) survives a restart. One query, read once at start.
    pub async fn status_since(&self) -> Result<KnownSince, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query(
            "SELECT s.account, s.region, s.name, s.value AS status,
               COALESCE(
                 (SELECT MAX(h.at) FROM identity_history h
                  WHERE h.account = s.account AND h.region = s.region AND h.name = s.name
                    AND h.field IN ('dkim_status', 'identity')),
                 t.baseline_at) AS since
             FROM identity_state s
             JOIN history_targets t ON t.account = s.account AND t.region = s.region
             WHERE s.field = 'dkim_status'",
        )
        .fetch_all(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| {
                let key = identity_key(row);
                let status = DkimStatus::from_ses(row.get::<&str, _>("status"));
                (key, (status, row.get("since")))
            })
            .collect())
    }

    /// Forgets changes seen before `before`; returns how many.
    pub async fn prune(&self, before: UnixSeconds) -> Result<u64, AuditError> {
        let db = self.log.database().await?;
        let done = sqlx::query("DELETE FROM identity_history WHERE at < ?")
            .bind(before)
            .execute(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        self.recent.prune(before).await;
        Ok(done.rows_affected())
    }
}
