//! The first start on a database without alerts: info-level alerts that hold when
//! dkimdash first looks (a fleet's old and weak keys) are shown on the Alerts page and in
//! `/metrics`, but not posted. It lasts until every identity has been read in full once
//! (key lengths come with the details, which the inventory reads over hours on a large
//! fleet), across restarts; afterwards every alert is posted as usual.

use super::store::AlertStore;
use crate::audit::log::AuditError;
use crate::inventory::snapshot::Snapshot;
use crate::model::UnixSeconds;

/// Why such a delivery is not posted (shown on the Alerts page).
pub const KNOWN_AT_FIRST_START: &str = "known at first start";

impl AlertStore {
    /// Whether the first start lasts at `at`: it begins when the database has neither
    /// alerts nor a first start on record, and lasts until [`Self::end_first_start`].
    pub async fn first_start_lasts(&self, at: UnixSeconds) -> Result<bool, AuditError> {
        let db = self.log().database().await?;
        let failed = |e| self.log().query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        sqlx::query(
            "INSERT INTO alert_first_start (id, started_at)
             SELECT 1, ? WHERE NOT EXISTS (SELECT 1 FROM alerts)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        let lasts: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM alert_first_start WHERE done_at IS NULL)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        Ok(lasts)
    }

    /// Ends the first start at `at`.
    pub async fn end_first_start(&self, at: UnixSeconds) -> Result<(), AuditError> {
        let db = self.log().database().await?;
        sqlx::query("UPDATE alert_first_start SET done_at = ? WHERE done_at IS NULL")
            .bind(at)
            .execute(db)
            .await
            .map_err(|e| self.log().query_error(e))?;
        Ok(())
    }
}

/// Whether every target has been read and every identity's details with it.
pub fn read_in_full(snapshot: &Snapshot) -> bool {
    snapshot.targets.iter().all(|t| t.last_success.is_some())
        && snapshot
            .identities
            .iter()
            .all(|identity| identity.details_read_at.is_some())
}
