//! What the pages read of the history on every request, kept in memory so no page waits on
//! the database: when each identity last changed (within the table's longest `changed`
//! window) and each target's daily status counts for the chart. Read from the database
//! once, by the first reader, then kept current by whoever writes the history.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Row;
use tokio::sync::Mutex;

use super::entry::{CHART_DAYS, DAY_SECS, DayCounts, day_of};
use crate::audit::log::{AuditError, AuditLog, identity_key};
use crate::model::{DkimStatus, IdentityKey, UnixSeconds};
use crate::table::query::ChangedWithin;

/// A target: its account label and region.
type TargetKey = (String, String);

/// The figures; cheap to clone (every clone shares them).
#[derive(Clone, Debug, Default)]
pub struct RecentHistory {
    figures: Arc<Mutex<Option<Figures>>>,
    /// Counts the writes noted: a page rendered from an older count is out of date.
    version: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct Figures {
    /// When each identity changed last, for those changed within the longest window.
    last_change: HashMap<IdentityKey, UnixSeconds>,
    /// Each day's counts per target, for the chart's days.
    daily: BTreeMap<UnixSeconds, HashMap<TargetKey, Vec<(DkimStatus, usize)>>>,
}

/// How far back the table's `changed` filter can look.
fn longest_window() -> UnixSeconds {
    ChangedWithin::ALL
        .iter()
        .map(|w| w.seconds())
        .max()
        .unwrap_or(0)
}

impl RecentHistory {
    /// How many writes were noted so far (changes, counts, prunes).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The identities with a change seen at or after `since` (within the longest window).
    pub async fn changed_since(
        &self,
        log: &AuditLog,
        since: UnixSeconds,
    ) -> Result<HashSet<IdentityKey>, AuditError> {
        self.read(log, |figures| {
            figures
                .last_change
                .iter()
                .filter(|(_, at)| **at >= since)
                .map(|(key, _)| key.clone())
                .collect()
        })
        .await
    }

    /// How many identities had a change seen at or after `since`.
    pub async fn count_changed_since(
        &self,
        log: &AuditLog,
        since: UnixSeconds,
    ) -> Result<usize, AuditError> {
        self.read(log, |figures| {
            figures
                .last_change
                .values()
                .filter(|at| **at >= since)
                .count()
        })
        .await
    }

    /// The last `days` days up to the day of `now` (at most the chart's), oldest first,
    /// summed over targets; days nothing was read are left out.
    pub async fn daily(
        &self,
        log: &AuditLog,
        now: UnixSeconds,
        days: i64,
    ) -> Result<Vec<DayCounts>, AuditError> {
        let first = day_of(now) - (days.min(CHART_DAYS) - 1) * DAY_SECS;
        self.read(log, |figures| {
            figures
                .daily
                .range(first..)
                // As in the database, where only counts above zero are written.
                .filter(|(_, targets)| targets.values().any(|counts| !counts.is_empty()))
                .map(|(day, targets)| DayCounts {
                    day: *day,
                    counts: summed(targets.values()),
                })
                .collect()
        })
        .await
    }

    /// Notes changes of `names` in one target seen at `at`, just written to the database.
    pub async fn saw_changes<'a>(
        &self,
        (account, region): (&str, &str),
        names: impl IntoIterator<Item = &'a str>,
        at: UnixSeconds,
    ) {
        if let Some(figures) = self.figures.lock().await.as_mut() {
            for name in names {
                let key = IdentityKey {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    name: name.to_owned(),
                };
                let last = figures.last_change.entry(key).or_insert(at);
                *last = (*last).max(at);
            }
            figures.forget_old();
        }
        self.written();
    }

    /// Notes one target's counts for the day of `at`, just written to the database.
    pub async fn counted(
        &self,
        (account, region): (&str, &str),
        at: UnixSeconds,
        counts: &[(DkimStatus, usize)],
    ) {
        if let Some(figures) = self.figures.lock().await.as_mut() {
            figures.daily.entry(day_of(at)).or_default().insert(
                (account.to_owned(), region.to_owned()),
                counts.iter().filter(|(_, n)| *n > 0).cloned().collect(),
            );
            figures.forget_old();
        }
        self.written();
    }

    /// Forgets what the database just forgot: changes and days before `before`.
    pub async fn prune(&self, before: UnixSeconds) {
        if let Some(figures) = self.figures.lock().await.as_mut() {
            figures.last_change.retain(|_, at| *at >= before);
            figures.daily.retain(|day, _| *day >= day_of(before));
        }
        self.written();
    }

    /// Counted after the figures took the write in: whoever reads the new version reads
    /// figures that have it.
    fn written(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// `answer` of the figures, read from the database first if no one has yet (tried
    /// again by the next reader if that fails). Writers wait for a read in progress, so
    /// a change written meanwhile is not lost.
    async fn read<R>(
        &self,
        log: &AuditLog,
        answer: impl FnOnce(&Figures) -> R,
    ) -> Result<R, AuditError> {
        let mut figures = self.figures.lock().await;
        if figures.is_none() {
            *figures = Some(Figures::load(log, crate::inventory::now()).await?);
        }
        Ok(answer(figures.as_ref().expect("loaded above")))
    }
}

impl Figures {
    async fn load(log: &AuditLog, now: UnixSeconds) -> Result<Self, AuditError> {
        let db = log.database().await?;
        let failed = |e| log.query_error(e);
        let changes = sqlx::query(
            "SELECT account, region, name, MAX(at) AS at FROM identity_history
             WHERE at >= ? GROUP BY account, region, name",
        )
        .bind(now - longest_window())
        .fetch_all(db)
        .await
        .map_err(failed)?;
        let last_change = changes
            .iter()
            .map(|row| {
                let key = identity_key(row);
                (key, row.get("at"))
            })
            .collect();
        let counts = sqlx::query(
            "SELECT day, account, region, status, count FROM daily_status_counts WHERE day >= ?",
        )
        .bind(day_of(now) - (CHART_DAYS - 1) * DAY_SECS)
        .fetch_all(db)
        .await
        .map_err(failed)?;
        let mut daily: BTreeMap<_, HashMap<_, Vec<_>>> = BTreeMap::new();
        for row in counts {
            let status = DkimStatus::from_ses(row.get::<&str, _>("status"));
            let count = usize::try_from(row.get::<i64, _>("count")).unwrap_or(0);
            daily
                .entry(row.get("day"))
                .or_default()
                .entry((row.get("account"), row.get("region")))
                .or_default()
                .push((status, count));
        }
        Ok(Self { last_change, daily })
    }

    /// Drops what no window reaches any more.
    fn forget_old(&mut self) {
        let now = crate::inventory::now();
        let oldest_change = now - longest_window();
        self.last_change.retain(|_, at| *at >= oldest_change);
        let oldest_day = day_of(now) - (CHART_DAYS - 1) * DAY_SECS;
        while self
            .daily
            .first_key_value()
            .is_some_and(|(day, _)| *day < oldest_day)
        {
            self.daily.pop_first();
        }
    }
}

/// Counts per status summed over targets: SES's five first (zeros included), as
/// everywhere else counts are shown, then others in the order first met.
fn summed<'a>(
    targets: impl Iterator<Item = &'a Vec<(DkimStatus, usize)>>,
) -> Vec<(DkimStatus, usize)> {
    let mut sum = DkimStatus::counts(std::iter::empty());
    for (status, count) in targets.flatten() {
        match sum.iter_mut().find(|(known, _)| known == status) {
            Some((_, n)) => *n += count,
            None => sum.push((status.clone(), *count)),
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> IdentityKey {
        IdentityKey {
            account: "prod".into(),
            region: "us-east-1".into(),
            name: name.into(),
        }
    }

    #[tokio::test]
    async fn changes_noted_after_the_first_read_are_counted_without_the_database() {
        let log = AuditLog::in_memory();
        let now = crate::inventory::now();
        let recent = RecentHistory::default();
        // Noted before anyone read: the first read takes the database's, which has it.
        recent
            .saw_changes(("prod", "us-east-1"), ["early.example"], now)
            .await;
        assert_eq!(recent.count_changed_since(&log, 0).await.unwrap(), 0);

        let target = ("prod", "us-east-1");
        recent.saw_changes(target, ["a.example"], now - 60).await;
        recent.saw_changes(target, ["b.example"], now - 10).await;
        assert_eq!(recent.count_changed_since(&log, now - 30).await.unwrap(), 1);
        assert_eq!(
            recent.changed_since(&log, now - 120).await.unwrap(),
            [key("a.example"), key("b.example")].into()
        );
        // Older than the longest window the table offers: forgotten.
        let old = now - longest_window() - 1;
        recent.saw_changes(target, ["old.example"], old).await;
        assert_eq!(recent.count_changed_since(&log, old).await.unwrap(), 2);
        // What the database forgot, the figures forget.
        recent.prune(now - 30).await;
        assert_eq!(recent.count_changed_since(&log, 0).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn each_target_keeps_its_last_counts_of_the_day_and_days_sum_them() {
        let log = AuditLog::in_memory();
        let now = crate::inventory::now();
        let recent = RecentHistory::default();
        assert_eq!(recent.daily(&log, now, CHART_DAYS).await.unwrap(), []);
        let success = |n| vec![(DkimStatus::Success, n)];
        recent
            .counted(("prod", "us-east-1"), now, &success(1))
            .await;
        recent
            .counted(("prod", "us-east-1"), now, &success(3))
            .await;
        recent
            .counted(("prod", "eu-west-1"), now, &success(2))
            .await;
        // A target with no identities adds no day.
        recent
            .counted(("dev", "us-east-1"), now - DAY_SECS, &[])
            .await;
        let days = recent.daily(&log, now, CHART_DAYS).await.unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].day, day_of(now));
        assert_eq!(days[0].counts[0], (DkimStatus::Success, 5));
        assert_eq!(
            days[0].counts.len(),
            DkimStatus::counts(std::iter::empty()).len()
        );
    }
}
