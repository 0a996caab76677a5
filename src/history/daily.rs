//! The daily status counts behind the overview's 30-day chart: each target's identities
//! per DKIM status, rewritten whenever they change during the day (the day's last read
//! stands), read back by [`super::recent`].

use super::entry::day_of;
use crate::audit::log::{AuditError, AuditLog};
use crate::model::{DkimStatus, UnixSeconds};

/// The counts' table; cheap to clone.
#[derive(Clone, Debug)]
pub struct DailyCounts {
    log: AuditLog,
}

impl DailyCounts {
    /// The counts kept beside `log`.
    pub fn new(log: AuditLog) -> Self {
        Self { log }
    }

    /// Sets one target's counts for the day `at` falls on, replacing what was written
    /// for that day before.
    pub async fn write(
        &self,
        account: &str,
        region: &str,
        at: UnixSeconds,
        counts: &[(DkimStatus, usize)],
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let failed = |e| self.log.query_error(e);
        let day = day_of(at);
        let mut tx = db.begin().await.map_err(failed)?;
        sqlx::query("DELETE FROM daily_status_counts WHERE day = ? AND account = ? AND region = ?")
            .bind(day)
            .bind(account)
            .bind(region)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        for (status, count) in counts.iter().filter(|(_, n)| *n > 0) {
            sqlx::query(
                "INSERT INTO daily_status_counts (day, account, region, status, count) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(day)
            .bind(account)
            .bind(region)
            .bind(status.as_ses())
            .bind(i64::try_from(*count).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// Forgets days before `before`.
    pub async fn prune(&self, before: UnixSeconds) -> Result<u64, AuditError> {
        let db = self.log.database().await?;
        let done = sqlx::query("DELETE FROM daily_status_counts WHERE day < ?")
            .bind(day_of(before))
            .execute(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        Ok(done.rows_affected())
    }
}
