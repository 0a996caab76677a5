//! The DNS reports in the audit log's SQLite database (`migrations/`): written as each
//! check ends, read once at start, so a restart neither asks the whole fleet again nor
//! forgets what it knew.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::log::{AuditError, AuditLog, identity_key};
use crate::dns_check::DnsReport;
use crate::model::{DkimStatus, IdentityKey, SigningOrigin};

/// An identity's last report and the SES state it was made for: a change of that state
/// makes it due again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// The report, shared with the view every page and round reads (no copy per reader).
    pub report: Arc<DnsReport>,
    /// The SES state it was made for.
    pub state: SesState,
    /// Checks in a row with a record that could not be checked.
    pub failures: u32,
}

/// The parts of an identity's SES state its records depend on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SesState {
    /// The DKIM status.
    pub status: DkimStatus,
    /// The tokens (Easy DKIM) or the selector (BYODKIM).
    pub tokens: Vec<String>,
    /// SES's signing hosted zone.
    pub zone: Option<String>,
    /// Where the keys come from.
    pub origin: Option<SigningOrigin>,
    /// The public key dkimdash set (BYODKIM), public by nature.
    pub public_key: Option<String>,
}

impl Kept {
    /// Whether `other` found the same as this report, for the same SES state: only the
    /// check times differ.
    pub fn finds_the_same_as(&self, other: &Kept) -> bool {
        self.state == other.state && self.report.records == other.report.records
    }
}

impl SesState {
    /// Whether a report made for this state checks the records an identity in `current`
    /// should have: the same tokens, and the same origin, zone and public key wherever
    /// `current` knows them (before SES's details are read, or before a BYODKIM key is
    /// seen again after a restart, they are not known and do not contradict). The status
    /// is not part of it: the records stay the same when it changes.
    pub fn has_records_of(&self, current: &SesState) -> bool {
        fn agrees<T: PartialEq>(made_for: &Option<T>, now: &Option<T>) -> bool {
            now.is_none() || made_for == now
        }
        self.tokens == current.tokens
            && agrees(&self.origin, &current.origin)
            && agrees(&self.zone, &current.zone)
            && agrees(&self.public_key, &current.public_key)
    }
}

/// The stored reports; cheap to clone (the audit log's connection pool).
#[derive(Clone, Debug)]
pub struct ReportStore {
    log: AuditLog,
}

impl ReportStore {
    /// Reports kept beside `log`.
    pub fn new(log: AuditLog) -> Self {
        Self { log }
    }

    /// Every stored row. A row that no longer reads (written by another version) is
    /// skipped: its identity is simply checked again.
    pub async fn load(&self) -> Result<Vec<(IdentityKey, Kept)>, AuditError> {
        let db = self.log.database().await?;
        let rows =
            sqlx::query("SELECT account, region, name, report, state, failures FROM dns_reports")
                .fetch_all(db)
                .await
                .map_err(|e| self.log.query_error(e))?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let report = Arc::new(serde_json::from_str(row.get("report")).ok()?);
                let state = serde_json::from_str(row.get("state")).ok()?;
                let key = identity_key(row);
                let failures = u32::try_from(row.get::<i64, _>("failures")).unwrap_or(0);
                Some((
                    key,
                    Kept {
                        report,
                        state,
                        failures,
                    },
                ))
            })
            .collect())
    }

    /// Writes `kept` over the identity's last row.
    pub async fn save(&self, key: &IdentityKey, kept: &Kept) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let (Ok(report), Ok(state)) = (
            serde_json::to_string(&*kept.report),
            serde_json::to_string(&kept.state),
        ) else {
            // Plain data always serializes; were it not to, the report stays in memory.
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO dns_reports (account, region, name, report, state, failures)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (account, region, name) DO UPDATE SET
               report = excluded.report, state = excluded.state, failures = excluded.failures",
        )
        .bind(&key.account)
        .bind(&key.region)
        .bind(&key.name)
        .bind(report)
        .bind(state)
        .bind(i64::from(kept.failures))
        .execute(db)
        .await
        .map_err(|e| self.log.query_error(e))?;
        Ok(())
    }

    /// Forgets the reports of identities that are gone.
    pub async fn forget(&self, keys: &[IdentityKey]) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let mut transaction = db.begin().await.map_err(|e| self.log.query_error(e))?;
        for key in keys {
            sqlx::query("DELETE FROM dns_reports WHERE account = ? AND region = ? AND name = ?")
                .bind(&key.account)
                .bind(&key.region)
                .bind(&key.name)
                .execute(&mut *transaction)
                .await
                .map_err(|e| self.log.query_error(e))?;
        }
        transaction
            .commit()
            .await
            .map_err(|e| self.log.query_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn easy(tokens: &[&str]) -> SesState {
        SesState {
            status: DkimStatus::Success,
            tokens: tokens.iter().map(|t| (*t).to_owned()).collect(),
            zone: Some("dkim.amazonses.com".to_owned()),
            origin: Some(SigningOrigin::EasyDkim),
            public_key: None,
        }
    }

    #[test]
    fn a_report_is_for_the_same_tokens_whatever_the_status() {
        let made_for = easy(&["a", "b", "c"]);
        let now_pending = SesState {
            status: DkimStatus::Pending,
            ..made_for.clone()
        };
        assert!(made_for.has_records_of(&now_pending));
        assert!(!made_for.has_records_of(&easy(&["d", "e", "f"])));
    }

    #[test]
    fn what_the_current_state_does_not_know_yet_does_not_contradict() {
        let made_for = SesState {
            public_key: Some("MIIB".to_owned()),
            ..easy(&["sel"])
        };
        let before_details = SesState {
            zone: None,
            origin: None,
            public_key: None,
            ..easy(&["sel"])
        };
        assert!(made_for.has_records_of(&before_details));
        let another_key = SesState {
            public_key: Some("MIIC".to_owned()),
            ..made_for.clone()
        };
        assert!(!made_for.has_records_of(&another_key));
        let another_origin = SesState {
            origin: Some(SigningOrigin::Byodkim),
            ..made_for.clone()
        };
        assert!(!made_for.has_records_of(&another_origin));
    }
}
