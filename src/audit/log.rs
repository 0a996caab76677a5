//! The audit log in an embedded SQLite database (`sqlx`, migrations in `migrations/`).
//! A change is recorded *before* SES is asked and completed with SES's answer, so no change
//! can be made unrecorded: if the first write fails, SES is not asked.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::{
    Row,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
};
use tokio::sync::OnceCell;

use super::entry::{AuditEntry, AuditOutcome};
use crate::user::User;

/// The log; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct AuditLog {
    pool: SqlitePool,
    migrated: std::sync::Arc<OnceCell<()>>,
    place: String,
}

/// Why the log could not be opened, written or read. Logged in full; operators see the
/// first line.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database file or its directory could not be created or opened.
    #[error("cannot open the audit log at {place}: {source}")]
    Open {
        /// The file (or "memory").
        place: String,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A query failed.
    #[error("the audit log at {place} failed: {source}")]
    Query {
        /// The file (or "memory").
        place: String,
        /// What SQLite said.
        source: sqlx::Error,
    },
}

/// A change about to be sent to SES.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    /// When (unix seconds).
    pub at: i64,
    /// Who.
    pub user: &'a User,
    /// Account label.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Identity name.
    pub identity: &'a str,
    /// What is asked, in words (never key material).
    pub action: String,
    /// Signing now, in words.
    pub before: String,
}

/// Which entries to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this identity (name, any account and region, unless those are given too).
    pub identity: Option<String>,
    /// Only in this account.
    pub account: Option<String>,
    /// Only in this region.
    pub region: Option<String>,
    /// Only by this user.
    pub user: Option<String>,
}

impl AuditLog {
    /// Opens (creating if needed) the log at `path`, its directory included, and brings its
    /// tables up to date.
    pub async fn open(path: &Path) -> Result<Self, AuditError> {
        let place = path.display().to_string();
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| AuditError::Open {
            place: place.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(Box::new(e)))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A recorded change must survive a power cut as surely as SES's.
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| open_error(Box::new(e)))?;
        let log = Self {
            pool,
            migrated: Default::default(),
            place,
        };
        log.ready().await?;
        Ok(log)
    }

    /// A log that lives in memory only (tests, and states built without a data directory).
    pub fn in_memory() -> Self {
        let options =
            SqliteConnectOptions::from_str("sqlite::memory:").expect("a valid in-memory URL");
        // One connection that never closes: each in-memory connection is its own database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        Self {
            pool,
            migrated: Default::default(),
            place: "memory".to_owned(),
        }
    }

    /// Where the log is, for messages.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Records `attempt` as pending; the id completes it later.
    pub async fn begin(&self, attempt: &Attempt<'_>) -> Result<i64, AuditError> {
        self.ready().await?;
        let row = sqlx::query(
            "INSERT INTO changes (at, user_name, user_email, account, region, identity, action, before_signing)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(attempt.at)
        .bind(&attempt.user.name)
        .bind(&attempt.user.email)
        .bind(attempt.account)
        .bind(attempt.region)
        .bind(attempt.identity)
        .bind(&attempt.action)
        .bind(&attempt.before)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        Ok(row.get(0))
    }

    /// Completes entry `id` with how it ended.
    pub async fn finish(
        &self,
        id: i64,
        outcome: AuditOutcome,
        after: Option<&str>,
        answer: &str,
    ) -> Result<(), AuditError> {
        self.ready().await?;
        sqlx::query("UPDATE changes SET outcome = ?, after_signing = ?, answer = ? WHERE id = ?")
            .bind(outcome.as_str())
            .bind(after)
            .bind(answer)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Entries never completed (oldest first): the server stopped between asking SES and
    /// recording its answer.
    pub async fn pending(&self) -> Result<Vec<AuditEntry>, AuditError> {
        self.ready().await?;
        let rows = sqlx::query(
            "SELECT id, at, user_name, user_email, account, region, identity, action,
                    before_signing, after_signing, outcome, answer
             FROM changes WHERE outcome = 'pending' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        Ok(rows.iter().map(entry).collect())
    }

    /// The newest entries matching `filter`, newest first, at most `limit`.
    pub async fn recent(&self, filter: &Filter, limit: u32) -> Result<Vec<AuditEntry>, AuditError> {
        self.ready().await?;
        let rows = sqlx::query(
            "SELECT id, at, user_name, user_email, account, region, identity, action,
                    before_signing, after_signing, outcome, answer
             FROM changes
             WHERE (?1 IS NULL OR identity = ?1) AND (?2 IS NULL OR account = ?2)
               AND (?3 IS NULL OR region = ?3) AND (?4 IS NULL OR user_name = ?4)
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(&filter.identity)
        .bind(&filter.account)
        .bind(&filter.region)
        .bind(&filter.user)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        Ok(rows.iter().map(entry).collect())
    }

    /// The database, its tables up to date: the history (`crate::history`) keeps its
    /// tables beside the audit log's, so a change seen links to the change made.
    pub(crate) async fn database(&self) -> Result<&SqlitePool, AuditError> {
        self.ready().await?;
        Ok(&self.pool)
    }

    /// Runs the migrations once per log.
    async fn ready(&self) -> Result<(), AuditError> {
        self.migrated
            .get_or_try_init(|| async {
                sqlx::migrate!("./migrations")
                    .run(&self.pool)
                    .await
                    .map_err(|e| AuditError::Open {
                        place: self.place.clone(),
                        source: Box::new(e),
                    })
            })
            .await
            .map(|_| ())
    }

    pub(crate) fn query_error(&self, source: sqlx::Error) -> AuditError {
        AuditError::Query {
            place: self.place.clone(),
            source,
        }
    }
}

/// The identity a row names in its `account`, `region` and `name` columns (the history's
/// and the DNS reports' tables key their rows so).
pub fn identity_key(row: &SqliteRow) -> crate::model::IdentityKey {
    crate::model::IdentityKey {
        account: row.get("account"),
        region: row.get("region"),
        name: row.get("name"),
    }
}

fn entry(row: &SqliteRow) -> AuditEntry {
    AuditEntry {
        id: row.get("id"),
        at: row.get("at"),
        user_name: row.get("user_name"),
        user_email: row.get("user_email"),
        account: row.get("account"),
        region: row.get("region"),
        identity: row.get("identity"),
        action: row.get("action"),
        before_signing: row.get("before_signing"),
        after_signing: row.get("after_signing"),
        outcome: AuditOutcome::parse(row.get::<&str, _>("outcome")),
        answer: row.get("answer"),
    }
}

/// The default place of the log: `audit.sqlite3` in the data directory.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit.sqlite3")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Role;

    fn alice() -> User {
        User {
            name: "alice".into(),
            email: Some("alice@example.com".into()),
            groups: vec![],
            role: Role::Operator,
        }
    }

    fn attempt<'a>(user: &'a User, identity: &'a str) -> Attempt<'a> {
        Attempt {
            at: 1_700_000_000,
            user,
            account: "prod",
            region: "eu-west-1",
            identity,
            action: "switch to BYODKIM (selector s1)".into(),
            before: "Easy DKIM, 2048 bits, signing on".into(),
        }
    }

    #[tokio::test]
    async fn a_change_is_pending_until_finished_and_filters_select() {
        let log = AuditLog::in_memory();
        let user = alice();
        let first = log.begin(&attempt(&user, "a.example")).await.unwrap();
        let second = log.begin(&attempt(&user, "b.example")).await.unwrap();
        let all = log.recent(&Filter::default(), 10).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.id).collect::<Vec<_>>(),
            [second, first]
        );
        assert!(all.iter().all(|e| e.outcome == AuditOutcome::Pending));

        log.finish(first, AuditOutcome::Done, Some("BYODKIM, signing on"), "ok")
            .await
            .unwrap();
        let only_a = Filter {
            identity: Some("a.example".into()),
            ..Filter::default()
        };
        let a = log.recent(&only_a, 10).await.unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].outcome, AuditOutcome::Done);
        assert_eq!(a[0].after_signing.as_deref(), Some("BYODKIM, signing on"));
        assert_eq!(a[0].user_email.as_deref(), Some("alice@example.com"));
        let by_bob = Filter {
            user: Some("bob".into()),
            ..Filter::default()
        };
        assert!(log.recent(&by_bob, 10).await.unwrap().is_empty());
    }
}
