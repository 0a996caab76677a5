//! What the rules need remembered between reads (pure): how many reads in a row each
//! identity has been TEMPORARY_FAILURE, and since when each target has been failing.
//! Kept in memory only: after a restart both start again, and alerts already firing stay
//! firing while their condition lasts (see `evaluate::Inputs::firing`).

use std::collections::HashMap;

use crate::inventory::snapshot::Snapshot;
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};

/// Streaks and failure times, updated from each snapshot.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The read each count was last updated from, per identity in TEMPORARY_FAILURE.
    last_read: HashMap<IdentityKey, UnixSeconds>,
    /// TEMPORARY_FAILURE reads in a row, of the identities in that status now.
    pub temporary_failure_reads: HashMap<IdentityKey, u32>,
    /// When each failing target was first seen failing.
    pub failing_since: HashMap<(String, String), UnixSeconds>,
    /// The snapshot observed last (its identities shared, not copied): the next one is
    /// looked at only where it differs.
    observed: Snapshot,
}

impl Tracker {
    /// Counts each identity's new read (once per read, however often the same snapshot
    /// is looked at) and notes which targets fail.
    pub fn observe(&mut self, snapshot: &Snapshot) {
        match snapshot.changed_since(&self.observed) {
            // The same identities: those that did not change were counted already.
            Some(changed) => {
                for position in changed {
                    self.count(&snapshot.identities[position as usize]);
                }
            }
            None => {
                for identity in &snapshot.identities {
                    self.count(identity);
                }
                let present = |key: &IdentityKey| {
                    snapshot.get(&key.account, &key.region, &key.name).is_some()
                };
                self.last_read.retain(|key, _| present(key));
                self.temporary_failure_reads.retain(|key, _| present(key));
            }
        }
        self.observed = snapshot.clone();
        for target in &snapshot.targets {
            let key = (target.account.clone(), target.region.clone());
            match &target.last_error {
                Some(error) => {
                    self.failing_since.entry(key).or_insert(error.at);
                }
                None => {
                    self.failing_since.remove(&key);
                }
            }
        }
    }

    /// One identity's read: a TEMPORARY_FAILURE read not counted yet adds to its streak;
    /// any other status ends it.
    fn count(&mut self, identity: &Identity) {
        if identity.dkim.status != DkimStatus::TemporaryFailure {
            if !self.temporary_failure_reads.is_empty() {
                let key = identity.key();
                self.temporary_failure_reads.remove(&key);
                self.last_read.remove(&key);
            }
            return;
        }
        let key = identity.key();
        if self
            .last_read
            .get(&key)
            .is_some_and(|&at| at >= identity.read_at)
        {
            return;
        }
        self.last_read.insert(key.clone(), identity.read_at);
        *self.temporary_failure_reads.entry(key).or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::{Identity, SweepError, TargetStatus};

    fn snapshot(identities: Vec<Identity>, failing_at: Option<UnixSeconds>) -> Snapshot {
        Snapshot {
            identities: identities.into_iter().map(std::sync::Arc::new).collect(),
            targets: vec![TargetStatus {
                account: "prod".into(),
                region: "us-east-1".into(),
                identities: 0,
                last_success: Some(1),
                last_error: failing_at.map(|at| SweepError {
                    at,
                    message: "down".into(),
                }),
                details_pending: 0,
            }],
        }
    }

    fn read(status: DkimStatus, at: UnixSeconds) -> Identity {
        let mut identity = domain("a.example", status);
        identity.read_at = at;
        identity
    }

    #[test]
    fn counts_reads_not_looks_and_restarts_on_another_status() {
        let mut tracker = Tracker::default();
        let key = domain("a.example", DkimStatus::Pending).key();
        let count = |t: &Tracker| t.temporary_failure_reads.get(&key).copied();
        tracker.observe(&snapshot(
            vec![read(DkimStatus::TemporaryFailure, 10)],
            None,
        ));
        tracker.observe(&snapshot(
            vec![read(DkimStatus::TemporaryFailure, 10)],
            None,
        ));
        assert_eq!(count(&tracker), Some(1));
        tracker.observe(&snapshot(
            vec![read(DkimStatus::TemporaryFailure, 20)],
            None,
        ));
        assert_eq!(count(&tracker), Some(2));
        tracker.observe(&snapshot(vec![read(DkimStatus::Success, 30)], None));
        assert_eq!(count(&tracker), None);
        // Gone while another appeared in the same read: forgotten all the same.
        let mut other = read(DkimStatus::Success, 40);
        other.name = "b.example".into();
        tracker.observe(&snapshot(
            vec![read(DkimStatus::TemporaryFailure, 35)],
            None,
        ));
        assert_eq!(count(&tracker), Some(1));
        tracker.observe(&snapshot(vec![other], None));
        assert_eq!(count(&tracker), None);
    }

    #[test]
    fn a_target_fails_since_its_first_failure_seen() {
        let mut tracker = Tracker::default();
        let key = ("prod".to_owned(), "us-east-1".to_owned());
        tracker.observe(&snapshot(vec![], Some(100)));
        tracker.observe(&snapshot(vec![], Some(400)));
        assert_eq!(tracker.failing_since.get(&key), Some(&100));
        tracker.observe(&snapshot(vec![], None));
        assert_eq!(tracker.failing_since.get(&key), None);
    }
}
