//! The DNS reports in the audit log's SQLite database (`migrations/`): written as each
//! check ends, read once at start, so a restart neither asks the whole fleet again nor
//! forgets what it knew.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::log::{AuditError, AuditLog, identity_key};
use crate::dns_check::{DnsReport, Findings};
use crate::model::{DkimStatus, DnsRecord, Identity, IdentityKey, SigningOrigin};

/// An identity's last report and the SES state it was made for: a change of that state
/// makes it due again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// What the report found, shared with the view every page and round reads (no copy
    /// per reader).
    pub report: Arc<Findings>,
    /// The SES state it was made for, as digests.
    pub state: StateMark,
    /// Checks in a row with a record that could not be checked.
    pub failures: u32,
}

/// The parts of an identity's SES state its records depend on, as stored with a report.
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

/// What a kept report remembers of the SES state it was made for: the status, the origin
/// and the zone, and digests of the tokens and the public key. Their text is the
/// inventory's; a report only has to tell whether they changed, and a copy of every
/// identity's tokens (and BYODKIM keys) was a fifth of the monitor's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateMark {
    status: DkimStatus,
    origin: Option<SigningOrigin>,
    zone: Option<String>,
    tokens: u64,
    public_key: Option<u64>,
}

impl StateMark {
    /// The mark of an identity's state, read in place (nothing copied).
    pub fn new(
        status: &DkimStatus,
        tokens: &[String],
        zone: Option<&str>,
        origin: Option<&SigningOrigin>,
        public_key: Option<&str>,
    ) -> Self {
        Self {
            status: status.clone(),
            origin: origin.cloned(),
            zone: zone.map(str::to_owned),
            tokens: digest(tokens),
            public_key: public_key.map(digest),
        }
    }

    /// The mark of a stored state.
    pub fn of(state: &SesState) -> Self {
        Self::new(
            &state.status,
            &state.tokens,
            state.zone.as_deref(),
            state.origin.as_ref(),
            state.public_key.as_deref(),
        )
    }

    /// Whether a report made for this state checks the records an identity in `current`
    /// should have: the same tokens, and the same origin, zone and public key wherever
    /// `current` knows them (before SES's details are read, or before a BYODKIM key is
    /// seen again after a restart, they are not known and do not contradict). The status
    /// is not part of it: the records stay the same when it changes.
    pub fn has_records_of(&self, current: &StateMark) -> bool {
        fn agrees<T: PartialEq>(made_for: &Option<T>, now: &Option<T>) -> bool {
            now.is_none() || made_for == now
        }
        self.tokens == current.tokens
            && agrees(&self.origin, &current.origin)
            && agrees(&self.zone, &current.zone)
            && agrees(&self.public_key, &current.public_key)
    }

    /// The records a report made for this state checked, for `identity` now (whose
    /// state has those records, [`Self::has_records_of`]): its tokens and domain, and the
    /// origin and zone this state had where the identity does not know them yet.
    /// `public_key` is the one known now (unknown after a restart until seen again).
    pub fn records_for(&self, identity: &Identity, public_key: Option<&str>) -> Vec<DnsRecord> {
        let dkim = &identity.dkim;
        if (dkim.origin.is_none() && self.origin.is_some())
            || (dkim.signing_hosted_zone.is_none() && self.zone.is_some())
        {
            let mut known = identity.clone();
            known.dkim.origin = known.dkim.origin.or_else(|| self.origin.clone());
            known.dkim.signing_hosted_zone =
                known.dkim.signing_hosted_zone.or_else(|| self.zone.clone());
            return crate::records::dkim_records(&known, public_key);
        }
        crate::records::dkim_records(identity, public_key)
    }
}

/// A digest for telling values apart in memory only (never stored: the hasher's output
/// may change between Rust versions). 64 bits: two different token sets of one identity
/// get the same digest about once in 10^19 changes.
fn digest<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(value)
}

impl Kept {
    /// Whether `other` found the same as this report, for the same SES state: only the
    /// check times differ.
    pub fn finds_the_same_as(&self, other: &Kept) -> bool {
        self.state == other.state && self.report.same_as(&other.report)
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
                let report: DnsReport = serde_json::from_str(row.get("report")).ok()?;
                let report = Arc::new(Findings::of(&report));
                let state = StateMark::of(&serde_json::from_str(row.get("state")).ok()?);
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

    /// Writes a report, the state it was made for and its failures in a row over the
    /// identity's last row.
    pub async fn save(
        &self,
        key: &IdentityKey,
        report: &DnsReport,
        state: &SesState,
        failures: u32,
    ) -> Result<(), AuditError> {
        let db = self.log.database().await?;
        let (Ok(report), Ok(state)) = (serde_json::to_string(report), serde_json::to_string(state))
        else {
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
        .bind(i64::from(failures))
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
        assert!(StateMark::of(&made_for).has_records_of(&StateMark::of(&now_pending)));
        assert!(!StateMark::of(&made_for).has_records_of(&StateMark::of(&easy(&["d", "e", "f"]))));
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
        assert!(StateMark::of(&made_for).has_records_of(&StateMark::of(&before_details)));
        let another_key = SesState {
            public_key: Some("MIIC".to_owned()),
            ..made_for.clone()
        };
        assert!(!StateMark::of(&made_for).has_records_of(&StateMark::of(&another_key)));
        let another_origin = SesState {
            origin: Some(SigningOrigin::Byodkim),
            ..made_for.clone()
        };
        assert!(!StateMark::of(&made_for).has_records_of(&StateMark::of(&another_origin)));
    }

    #[test]
    fn the_mark_tells_states_apart_as_their_text_does() {
        let mark = |tokens: &[&str]| StateMark::of(&easy(tokens));
        assert_eq!(mark(&["a", "bc"]), mark(&["a", "bc"]));
        assert_ne!(
            mark(&["a", "bc"]),
            mark(&["ab", "c"]),
            "where one token ends counts"
        );
        assert_ne!(mark(&["a", "b"]), mark(&["b", "a"]), "so does their order");
        assert_ne!(mark(&["a"]), mark(&["a", ""]));
        let pending = StateMark::of(&SesState {
            status: DkimStatus::Pending,
            ..easy(&["a"])
        });
        assert_ne!(
            pending,
            mark(&["a"]),
            "a new status makes a report due again"
        );
        assert!(
            pending.has_records_of(&mark(&["a"])),
            "but keeps its records"
        );
    }

    #[test]
    fn records_are_rebuilt_as_checked_while_the_identity_does_not_know_its_details() {
        use crate::model::RecordType;

        let mut identity = crate::attention::tests::domain("a.example", DkimStatus::Success);
        identity.dkim.tokens = vec!["sel".into()];
        let made_for = StateMark::of(&SesState {
            origin: Some(SigningOrigin::Byodkim),
            public_key: Some("MIIB".into()),
            ..easy(&["sel"])
        });
        // After a restart, before SES's details are read again: no origin, no zone.
        identity.dkim.origin = None;
        identity.dkim.signing_hosted_zone = None;
        let records = made_for.records_for(&identity, Some("MIIB"));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].record_type, RecordType::Txt, "{records:?}");
        assert_eq!(records[0].name, "sel._domainkey.a.example");
        assert_eq!(records[0].value.as_deref(), Some("v=DKIM1; k=rsa; p=MIIB"));

        let easy_mark = StateMark::of(&SesState {
            zone: Some("dkim.eu-south-1.amazonses.com".into()),
            ..easy(&["tok"])
        });
        identity.dkim.tokens = vec!["tok".into()];
        let records = easy_mark.records_for(&identity, None);
        assert_eq!(
            records[0].value.as_deref(),
            Some("tok.dkim.eu-south-1.amazonses.com"),
            "the zone it was checked with"
        );
    }
}
