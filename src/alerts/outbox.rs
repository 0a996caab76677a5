//! The deliveries' queue, in the audit log's database: one row per alert's news (firing or
//! resolved) per receiver, written in the alert's own transaction, then sent in batches:
//! a receiver's rows of one group that are due go out together in one post.

use std::collections::BTreeMap;

use sqlx::{Row, sqlite::SqliteRow};

use super::entry::{Delivery, DeliveryState};
use super::store::{AlertStore, json_map};
use crate::audit::log::AuditError;
use crate::model::UnixSeconds;

/// News to queue for one receiver: which group it joins and how long that group waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The receiver's name.
    pub receiver: String,
    /// The group's key for that receiver.
    pub group_key: String,
    /// A new group's first post waits this long for more (seconds).
    pub wait_secs: i64,
    /// Posts about one group are at least this far apart (seconds).
    pub interval_secs: i64,
    /// Not to be posted, and why (the row is kept, closed, for the log).
    pub skip: Option<&'static str>,
}

/// One queued row with the alert it is about, as a post is built from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct News {
    /// The row.
    pub id: i64,
    /// `firing` or `resolved`.
    pub status: String,
    /// Posts tried with it so far.
    pub attempts: i64,
    /// The alert's fingerprint.
    pub fingerprint: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// When the alert fired.
    pub starts_at: UnixSeconds,
    /// When it resolved (for a resolved row).
    pub ends_at: Option<UnixSeconds>,
    /// Whether this receiver was already told that the alert fired (or is told now).
    pub announced: bool,
}

/// A firing not posted because a silence covered it, while the alert still fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SilencedFiring {
    /// The alert's row.
    pub alert_id: i64,
    /// The receiver.
    pub receiver: String,
    /// The alert's fingerprint.
    pub fingerprint: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
}

/// What became of one row after a post.
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
    /// Not posted at all, and why (closed like a given-up row).
    Skip {
        /// `silenced`, `known at first start`, `firing never announced`.
        why: &'a str,
    },
}

/// Pending: neither delivered nor closed.
const PENDING: &str = "delivered_at IS NULL AND given_up_at IS NULL";

/// When a group is due: at its retry once a post of it failed (news arriving meanwhile
/// waits for that retry, so a dead receiver is not tried again for every alert), else
/// when its first row's wait is over.
const GROUP_DUE: &str = "COALESCE(MAX(CASE WHEN attempts > 0 THEN next_attempt_at END),
                                  MIN(next_attempt_at))";

/// Rows of one post at most (the rest go in the next one, straight after).
const NEWS_PER_POST: u32 = 2_000;

impl AlertStore {
    /// The groups of `receiver` with a row due at `now`, the longest waiting first.
    pub async fn due_groups(
        &self,
        receiver: &str,
        now: UnixSeconds,
        limit: u32,
    ) -> Result<Vec<String>, AuditError> {
        let db = self.log().database().await?;
        sqlx::query_scalar(&format!(
            "SELECT group_key FROM alert_deliveries WHERE receiver = ? AND {PENDING}
             GROUP BY group_key HAVING {GROUP_DUE} <= ?
             ORDER BY {GROUP_DUE}, group_key LIMIT ?"
        ))
        .bind(receiver)
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(|e| self.log().query_error(e))
    }

    /// When `receiver`'s next row is due, if it has any.
    pub async fn next_due(&self, receiver: &str) -> Result<Option<UnixSeconds>, AuditError> {
        let db = self.log().database().await?;
        sqlx::query_scalar(&format!(
            "SELECT MIN(due) FROM (SELECT {GROUP_DUE} AS due FROM alert_deliveries
             WHERE receiver = ? AND {PENDING} GROUP BY group_key)"
        ))
        .bind(receiver)
        .fetch_one(db)
        .await
        .map_err(|e| self.log().query_error(e))
    }

    /// `receiver`'s pending rows of one group, oldest first, with their alerts.
    pub async fn news(&self, receiver: &str, group_key: &str) -> Result<Vec<News>, AuditError> {
        let db = self.log().database().await?;
        let rows = sqlx::query(&format!(
            "SELECT d.id, d.status, d.attempts, a.fingerprint, a.labels, a.annotations,
                    a.starts_at, a.ends_at,
                    EXISTS (SELECT 1 FROM alert_deliveries f
                            WHERE f.alert_id = d.alert_id AND f.receiver = d.receiver
                              AND f.status = 'firing'
                              AND (f.delivered_at IS NOT NULL
                                   OR (f.given_up_at IS NULL AND f.id < d.id))) AS announced
             FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE d.receiver = ? AND d.group_key = ? AND d.{PENDING}
             ORDER BY d.id LIMIT ?"
        ))
        .bind(receiver)
        .bind(group_key)
        .bind(NEWS_PER_POST)
        .fetch_all(db)
        .await
        .map_err(|e| self.log().query_error(e))?;
        Ok(rows.iter().map(news).collect())
    }

    /// Notes what became of each row of a post made at `at`, in one transaction; a
    /// delivered post also restarts its group's interval.
    pub async fn record(
        &self,
        receiver: &str,
        group_key: &str,
        at: UnixSeconds,
        outcomes: &[(i64, Attempt<'_>)],
    ) -> Result<(), AuditError> {
        let db = self.log().database().await?;
        let failed = |e| self.log().query_error(e);
        let mut tx = db.begin().await.map_err(failed)?;
        for (id, outcome) in outcomes {
            let (delivered, next, closed, error, skipped, tried) = match *outcome {
                Attempt::Delivered => (Some(at), at, None, None, None, 1),
                Attempt::Retry { at: next, error } => (None, next, None, Some(error), None, 1),
                Attempt::GiveUp { error } => (None, at, Some(at), Some(error), None, 1),
                Attempt::Skip { why } => (None, at, Some(at), None, Some(why), 0),
            };
            sqlx::query(
                "UPDATE alert_deliveries SET attempts = attempts + ?, delivered_at = ?,
                   next_attempt_at = ?, given_up_at = ?, last_error = COALESCE(?, last_error),
                   skipped = ?, last_attempt_at = CASE WHEN ? = 1 THEN ? ELSE last_attempt_at END
                 WHERE id = ?",
            )
            .bind(tried)
            .bind(delivered)
            .bind(next)
            .bind(closed)
            .bind(error)
            .bind(skipped)
            .bind(tried)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        if outcomes
            .iter()
            .any(|(_, outcome)| *outcome == Attempt::Delivered)
        {
            sqlx::query(
                "INSERT INTO alert_groups (receiver, group_key, last_post_at) VALUES (?, ?, ?)
                 ON CONFLICT (receiver, group_key) DO UPDATE SET last_post_at = excluded.last_post_at",
            )
            .bind(receiver)
            .bind(group_key)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// Closes the pending rows of receivers no longer configured (they would wait forever).
    pub async fn give_up_unknown(
        &self,
        receivers: &[&str],
        at: UnixSeconds,
    ) -> Result<u64, AuditError> {
        let db = self.log().database().await?;
        let known = serde_json::to_string(receivers).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query(&format!(
            "UPDATE alert_deliveries SET given_up_at = ?,
               last_error = 'no receiver of this name is configured any more'
             WHERE {PENDING} AND receiver NOT IN (SELECT value FROM json_each(?))"
        ))
        .bind(at)
        .bind(known)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
        .map_err(|e| self.log().query_error(e))
    }

    /// Alerts still firing whose latest row for a receiver is a firing skipped as silenced
    /// (to be queued again once no silence covers them): (alert, receiver, fingerprint,
    /// labels).
    pub async fn silenced_firing(&self) -> Result<Vec<SilencedFiring>, AuditError> {
        let db = self.log().database().await?;
        let rows = sqlx::query(
            "SELECT d.alert_id, d.receiver, a.fingerprint, a.labels
             FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE a.ends_at IS NULL AND d.status = 'firing' AND d.skipped = 'silenced'
               AND d.id = (SELECT MAX(e.id) FROM alert_deliveries e
                           WHERE e.alert_id = d.alert_id AND e.receiver = d.receiver)",
        )
        .fetch_all(db)
        .await
        .map_err(|e| self.log().query_error(e))?;
        Ok(rows
            .iter()
            .map(|row| SilencedFiring {
                alert_id: row.get("alert_id"),
                receiver: row.get("receiver"),
                fingerprint: row.get("fingerprint"),
                labels: json_map(row.get("labels")),
            })
            .collect())
    }

    /// Queues alert `alert_id`'s firing again for one receiver (its silence ended).
    pub async fn queue_again(
        &self,
        alert_id: i64,
        at: UnixSeconds,
        post: &Outgoing,
    ) -> Result<(), AuditError> {
        let db = self.log().database().await?;
        let failed = |e| self.log().query_error(e);
        let mut conn = db.acquire().await.map_err(failed)?;
        queue(
            &mut conn,
            alert_id,
            "firing",
            at,
            std::slice::from_ref(post),
        )
        .await
        .map_err(failed)
    }

    /// The newest rows, newest first, at most `limit`.
    pub async fn deliveries(&self, limit: u32) -> Result<Vec<Delivery>, AuditError> {
        let db = self.log().database().await?;
        let rows = sqlx::query(
            "SELECT d.id, a.annotations, d.receiver, d.status, d.created_at, d.attempts,
                    d.delivered_at, d.given_up_at, d.next_attempt_at, d.last_error, d.skipped
             FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
             ORDER BY d.id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(db)
        .await
        .map_err(|e| self.log().query_error(e))?;
        Ok(rows.iter().map(delivery).collect())
    }
}

/// Queues `posts` about the alert `alert_id` (now `status`) in the alert's transaction. A
/// row is due after its group's wait, and not before the group's interval has passed
/// since the receiver's last post about the group.
pub(super) async fn queue(
    tx: &mut sqlx::SqliteConnection,
    alert_id: i64,
    status: &str,
    at: UnixSeconds,
    posts: &[Outgoing],
) -> Result<(), sqlx::Error> {
    for post in posts {
        sqlx::query(
            "INSERT INTO alert_deliveries
               (alert_id, receiver, group_key, status, payload, created_at, next_attempt_at,
                given_up_at, skipped)
             VALUES (?, ?, ?, ?, '', ?, MAX(?, COALESCE((SELECT last_post_at FROM alert_groups
                       WHERE receiver = ? AND group_key = ?), 0) + ?), ?, ?)",
        )
        .bind(alert_id)
        .bind(&post.receiver)
        .bind(&post.group_key)
        .bind(status)
        .bind(at)
        .bind(at + post.wait_secs)
        .bind(&post.receiver)
        .bind(&post.group_key)
        .bind(post.interval_secs)
        .bind(post.skip.map(|_| at))
        .bind(post.skip)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn news(row: &SqliteRow) -> News {
    News {
        id: row.get("id"),
        status: row.get("status"),
        attempts: row.get("attempts"),
        fingerprint: row.get("fingerprint"),
        labels: json_map(row.get("labels")),
        annotations: json_map(row.get("annotations")),
        starts_at: row.get("starts_at"),
        ends_at: row.get("ends_at"),
        announced: row.get("announced"),
    }
}

fn delivery(row: &SqliteRow) -> Delivery {
    let delivered_at: Option<i64> = row.get("delivered_at");
    let given_up_at: Option<i64> = row.get("given_up_at");
    let skipped: Option<String> = row.get("skipped");
    let state = match (delivered_at, given_up_at, skipped) {
        (Some(at), _, _) => DeliveryState::Delivered { at },
        (None, Some(at), Some(why)) => DeliveryState::Skipped { at, why },
        (None, Some(at), None) => DeliveryState::GivenUp { at },
        (None, None, _) if row.get::<i64, _>("attempts") == 0 => DeliveryState::Queued {
            next_at: row.get("next_attempt_at"),
        },
        (None, None, _) => DeliveryState::Retrying {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::log::AuditLog;

    /// Each receiver's worker asks for its due groups often: answered from the pending
    /// rows' index, not by reading every row ever queued.
    #[tokio::test]
    async fn due_groups_are_found_from_their_index() {
        let path = std::env::temp_dir().join(format!(
            "dkimdash-outbox-plan-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let store = AlertStore::new(AuditLog::open(&path).await.unwrap());
        let db = store.log().database().await.unwrap();
        let plan: Vec<String> = sqlx::query(&format!(
            "EXPLAIN QUERY PLAN SELECT group_key FROM alert_deliveries
             WHERE receiver = ? AND {PENDING} GROUP BY group_key HAVING {GROUP_DUE} <= ?"
        ))
        .bind("ops")
        .bind(0_i64)
        .fetch_all(db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("detail"))
        .collect();
        let _ = std::fs::remove_file(&path);
        assert!(
            plan.iter()
                .any(|step| step.contains("alert_deliveries_pending")),
            "{plan:#?}"
        );
    }
}
