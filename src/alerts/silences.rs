//! The silences' table (`alert_silences`): set, ended early, read for the deliverer, the
//! engine, the page and `/metrics`, and forgotten after the history period.

use sqlx::{Row, sqlite::SqliteRow};

use super::silence::Silence;
use super::store::{AlertStore, json_map};
use crate::audit::log::AuditError;
use crate::model::UnixSeconds;

/// Silences the page lists at most.
const LISTED: u32 = 100;

impl AlertStore {
    /// Records a silence; its id.
    pub async fn add_silence(&self, silence: &Silence) -> Result<i64, AuditError> {
        let db = self.log().database().await?;
        let matchers = serde_json::to_string(&silence.matchers).unwrap_or_else(|_| "{}".into());
        sqlx::query_scalar(
            "INSERT INTO alert_silences (matchers, scope, comment, created_by, starts_at, ends_at)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(matchers)
        .bind(&silence.scope)
        .bind(&silence.comment)
        .bind(&silence.created_by)
        .bind(silence.starts_at)
        .bind(silence.ends_at)
        .fetch_one(db)
        .await
        .map_err(|e| self.log().query_error(e))
    }

    /// Ends silence `id` at `at`, by `user`; the silence as it was, if it was in effect.
    pub async fn end_silence(
        &self,
        id: i64,
        user: &str,
        at: UnixSeconds,
    ) -> Result<Option<Silence>, AuditError> {
        let db = self.log().database().await?;
        let row = sqlx::query(
            "UPDATE alert_silences SET ends_at = ?, ended_by = ?
             WHERE id = ? AND starts_at <= ? AND ends_at > ? RETURNING *",
        )
        .bind(at)
        .bind(user)
        .bind(id)
        .bind(at)
        .bind(at)
        .fetch_optional(db)
        .await
        .map_err(|e| self.log().query_error(e))?;
        Ok(row.as_ref().map(silence))
    }

    /// The silences in effect at `now`.
    pub async fn active_silences(&self, now: UnixSeconds) -> Result<Vec<Silence>, AuditError> {
        let db = self.log().database().await?;
        let rows = sqlx::query(
            "SELECT * FROM alert_silences WHERE starts_at <= ? AND ends_at > ? ORDER BY id",
        )
        .bind(now)
        .bind(now)
        .fetch_all(db)
        .await
        .map_err(|e| self.log().query_error(e))?;
        Ok(rows.iter().map(silence).collect())
    }

    /// The newest silences, in effect or not, newest first.
    pub async fn recent_silences(&self) -> Result<Vec<Silence>, AuditError> {
        let db = self.log().database().await?;
        let rows = sqlx::query("SELECT * FROM alert_silences ORDER BY id DESC LIMIT ?")
            .bind(LISTED)
            .fetch_all(db)
            .await
            .map_err(|e| self.log().query_error(e))?;
        Ok(rows.iter().map(silence).collect())
    }
}

fn silence(row: &SqliteRow) -> Silence {
    Silence {
        id: row.get("id"),
        matchers: json_map(row.get("matchers")),
        scope: row.get("scope"),
        comment: row.get("comment"),
        created_by: row.get("created_by"),
        starts_at: row.get("starts_at"),
        ends_at: row.get("ends_at"),
        ended_by: row.get("ended_by"),
    }
}
