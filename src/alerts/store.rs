//! The alerts' table, in the audit log's SQLite database (`migrations/`): one row per
//! firing, written with its deliveries' rows (alerts/outbox.rs) in one transaction.

use std::collections::BTreeMap;

use sqlx::Row;

use super::entry::FiringAlert;
use super::outbox::{Outgoing, queue};
use crate::audit::log::{AuditError, AuditLog};
use crate::model::UnixSeconds;

/// The alerts' tables; cheap to clone (the audit log's connection pool).
#[derive(Clone, Debug)]
pub struct AlertStore {
    log: AuditLog,
}

/// An alert firing now, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAlert {
    /// Its row.
    pub id: i64,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its annotations as they were when it fired.
    pub annotations: BTreeMap<String, String>,
    /// When it fired.
    pub starts_at: UnixSeconds,
}

impl AlertStore {
    /// The alerts kept beside `log`.
    pub fn new(log: AuditLog) -> Self {
        Self { log }
    }

    /// The audit log the tables are kept in.
    pub fn log(&self) -> &AuditLog {
        &self.log
    }

    /// Every alert firing now.
    pub async fn firing(&self) -> Result<Vec<StoredAlert>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query(
            "SELECT id, fingerprint, labels, annotations, starts_at FROM alerts
             WHERE ends_at IS NULL ORDER BY id",
        )
        .fetch_all(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| StoredAlert {
                id: row.get("id"),
                fingerprint: row.get("fingerprint"),
                labels: json_map(row.get("labels")),
                annotations: json_map(row.get("annotations")),
                starts_at: row.get("starts_at"),
            })
            .collect())
    }

    /// Records that `alert` fired at `at`, with its posts, in one transaction.
    pub async fn fire(
        &self,
        fingerprint: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
        at: UnixSeconds,
        posts: &[Outgoing],
    ) -> Result<i64, AuditError> {
        let db = self.log.database().await?;
        let failed = |e| self.log.query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        let rule = labels.get("alertname").cloned().unwrap_or_default();
        let id: i64 = sqlx::query(
            "INSERT INTO alerts (fingerprint, rule, labels, annotations, starts_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(fingerprint)
        .bind(rule)
        .bind(to_json(labels))
        .bind(to_json(annotations))
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(failed)?
        .get("id");
        queue(&mut tx, id, "firing", at, posts)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        Ok(id)
    }

    /// Records that the alert `id` resolved at `at`, with its posts, in one transaction.
    pub async fn resolve(
        &self,
        id: i64,
        at: UnixSeconds,
        posts: &[Outgoing],
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let failed = |e| self.log.query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        let ended = sqlx::query("UPDATE alerts SET ends_at = ? WHERE id = ? AND ends_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?
            .rows_affected();
        // Already resolved (by another process on the same file): nothing to announce.
        if ended == 1 {
            queue(&mut tx, id, "resolved", at, posts)
                .await
                .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// The alerts firing now, for the page: most severe first, then oldest first.
    pub async fn firing_for_page(&self) -> Result<Vec<FiringAlert>, AuditError> {
        let mut alerts: Vec<FiringAlert> = self
            .firing()
            .await?
            .into_iter()
            .map(|stored| {
                let label = |name: &str| stored.labels.get(name).cloned().unwrap_or_default();
                let note = |name: &str| stored.annotations.get(name).cloned().unwrap_or_default();
                FiringAlert {
                    rule: label("alertname"),
                    severity: label("severity"),
                    account: label("account"),
                    region: label("region"),
                    identity: stored.labels.get("identity").cloned(),
                    summary: note("summary"),
                    description: note("description"),
                    starts_at: stored.starts_at,
                    fingerprint: stored.fingerprint,
                    labels: stored.labels,
                    silenced_until: None,
                }
            })
            .collect();
        alerts.sort_by_key(|a| (severity_rank(&a.severity), a.starts_at));
        Ok(alerts)
    }

    /// Forgets alerts that resolved before `before`, with their deliveries; how many.
    pub async fn prune(&self, before: UnixSeconds) -> Result<u64, AuditError> {
        let db = self.log.database().await?;
        let failed = |e| self.log.query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        sqlx::query(
            "DELETE FROM alert_deliveries WHERE alert_id IN
               (SELECT id FROM alerts WHERE ends_at IS NOT NULL AND ends_at < ?)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        let gone = sqlx::query("DELETE FROM alerts WHERE ends_at IS NOT NULL AND ends_at < ?")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(failed)?
            .rows_affected();
        // Silences that ended before then (those in effect are kept, however old).
        sqlx::query("DELETE FROM alert_silences WHERE ends_at < ?")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        // A group not posted to since then starts afresh (its wait, not its interval).
        sqlx::query("DELETE FROM alert_groups WHERE last_post_at < ?")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        Ok(gone)
    }
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "warning" => 1,
        _ => 2,
    }
}

fn to_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

pub(super) fn json_map(text: String) -> BTreeMap<String, String> {
    serde_json::from_str(&text).unwrap_or_default()
}
