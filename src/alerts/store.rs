//! The alerts' tables, in the audit log's SQLite database (`migrations/`): one row per
//! firing, and the deliveries (an outbox written with the alert, then sent and retried).

use std::collections::BTreeMap;

use sqlx::{Row, sqlite::SqliteRow};

use super::entry::{Delivery, DeliveryState, FiringAlert};
use crate::audit::log::{AuditError, AuditLog};
use crate::model::UnixSeconds;

/// A delivery `d` waits while an earlier one `e` about the same alert to the same receiver
/// is still being tried: a receiver never hears "resolved" before "firing".
const WAITING_BEHIND: &str = "e.alert_id = d.alert_id AND e.receiver = d.receiver AND e.id < d.id
     AND e.delivered_at IS NULL AND e.given_up_at IS NULL";

/// The deliveries due at `?` (now), oldest first, at most `?` of them.
fn due_query() -> String {
    format!(
        "SELECT d.id, d.receiver, d.payload, d.attempts FROM alert_deliveries d
         WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL AND d.next_attempt_at <= ?
           AND NOT EXISTS (SELECT 1 FROM alert_deliveries e WHERE {WAITING_BEHIND})
         ORDER BY d.id LIMIT ?"
    )
}

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

/// A post to make: to which receiver, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The receiver's name.
    pub receiver: String,
    /// The JSON body.
    pub payload: String,
}

/// A delivery whose time has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// Its row.
    pub id: i64,
    /// The receiver's name.
    pub receiver: String,
    /// The JSON body.
    pub payload: String,
    /// Posts tried so far.
    pub attempts: i64,
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
        insert_posts(&mut tx, id, "firing", at, posts)
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
            insert_posts(&mut tx, id, "resolved", at, posts)
                .await
                .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// Deliveries to try now, oldest first, at most `limit`.
    pub async fn due(&self, now: UnixSeconds, limit: u32) -> Result<Vec<Due>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query(&due_query())
            .bind(now)
            .bind(limit)
            .fetch_all(db)
            .await
            .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| Due {
                id: row.get("id"),
                receiver: row.get("receiver"),
                payload: row.get("payload"),
                attempts: row.get("attempts"),
            })
            .collect())
    }

    /// When the next delivery waiting for a retry is due, if any.
    pub async fn next_due(&self) -> Result<Option<UnixSeconds>, AuditError> {
        let db = self.log.database().await?;
        sqlx::query_scalar(&format!(
            "SELECT MIN(d.next_attempt_at) FROM alert_deliveries d
             WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM alert_deliveries e WHERE {WAITING_BEHIND})"
        ))
        .fetch_one(db)
        .await
        .map_err(|e| self.log.query_error(e))
    }

    /// Notes one try of delivery `id`: delivered, to be retried at `retry_at`, or given up
    /// (neither), with the failure.
    pub async fn attempted(
        &self,
        id: i64,
        at: UnixSeconds,
        outcome: Attempt<'_>,
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let (delivered, next, given_up, error) = match outcome {
            Attempt::Delivered => (Some(at), at, None, None),
            Attempt::Retry { at: next, error } => (None, next, None, Some(error)),
            Attempt::GiveUp { error } => (None, at, Some(at), Some(error)),
        };
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = attempts + 1, delivered_at = ?,
               next_attempt_at = ?, given_up_at = ?, last_error = COALESCE(?, last_error)
             WHERE id = ?",
        )
        .bind(delivered)
        .bind(next)
        .bind(given_up)
        .bind(error)
        .bind(id)
        .execute(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(())
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
                }
            })
            .collect();
        alerts.sort_by_key(|a| (severity_rank(&a.severity), a.starts_at));
        Ok(alerts)
    }

    /// The newest deliveries, newest first, at most `limit`.
    pub async fn deliveries(&self, limit: u32) -> Result<Vec<Delivery>, AuditError> {
        let db = self.log.database().await?;
        let rows = sqlx::query(
            "SELECT d.id, a.annotations, d.receiver, d.status, d.created_at, d.attempts,
                    d.delivered_at, d.given_up_at, d.next_attempt_at, d.last_error
             FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             ORDER BY d.id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(rows.iter().map(delivery).collect())
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
        tx.commit().await.map_err(failed)?;
        Ok(gone)
    }
}

/// What one try of a delivery came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; try again then.
    Retry {
        /// When.
        at: UnixSeconds,
        /// What went wrong.
        error: &'a str,
    },
    /// It failed for the last time.
    GiveUp {
        /// What went wrong.
        error: &'a str,
    },
}

async fn insert_posts(
    tx: &mut sqlx::SqliteConnection,
    alert_id: i64,
    status: &str,
    at: UnixSeconds,
    posts: &[Outgoing],
) -> Result<(), sqlx::Error> {
    for post in posts {
        sqlx::query(
            "INSERT INTO alert_deliveries (alert_id, receiver, status, payload, created_at, next_attempt_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(alert_id)
        .bind(&post.receiver)
        .bind(status)
        .bind(&post.payload)
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn delivery(row: &SqliteRow) -> Delivery {
    let delivered_at: Option<i64> = row.get("delivered_at");
    let given_up_at: Option<i64> = row.get("given_up_at");
    let state = match (delivered_at, given_up_at) {
        (Some(at), _) => DeliveryState::Delivered { at },
        (None, Some(at)) => DeliveryState::GivenUp { at },
        (None, None) => DeliveryState::Retrying {
            next_at: row.get("next_attempt_at"),
        },
    };
    Delivery {
        id: row.get("id"),
        summary: json_map(row.get("annotations"))
            .remove("summary")
            .unwrap_or_default(),
        receiver: row.get("receiver"),
        status: row.get("status"),
        created_at: row.get("created_at"),
        attempts: row.get("attempts"),
        state,
        last_error: row.get("last_error"),
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

fn json_map(text: String) -> BTreeMap<String, String> {
    serde_json::from_str(&text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The earlier-delivery question is answered from its index, not by reading every
    /// pending delivery for each one due.
    #[tokio::test]
    async fn the_waiting_behind_question_uses_its_index() {
        let path = std::env::temp_dir().join(format!(
            "dkimdash-alert-plan-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let log = AuditLog::open(&path).await.unwrap();
        let db = log.database().await.unwrap();
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {}", due_query()))
            .bind(0_i64)
            .bind(10_i64)
            .fetch_all(db)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect();
        let _ = std::fs::remove_file(&path);
        assert!(
            plan.iter()
                .any(|step| step.contains("alert_deliveries_waiting")),
            "{plan:#?}"
        );
    }
}
