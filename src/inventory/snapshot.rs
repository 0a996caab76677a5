//! What the dashboard shows: every target's identities as last read, swapped whole.

use std::collections::HashMap;

use crate::model::{DkimStatus, Identity, IdentityKey, SweepError, TargetStatus, UnixSeconds};
use crate::ses::target::Target;

/// What looking an identity up by region and name found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Exactly one.
    One(&'a Identity),
    /// The same name in this region in several accounts (their labels).
    Several(Vec<String>),
    /// None.
    Nothing,
}

/// The identities of all targets, as of the last sweeps. Immutable once published.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// All identities, ordered by account, region, name.
    pub identities: Vec<Identity>,
    /// How reading each target has gone, in configuration order.
    pub targets: Vec<TargetStatus>,
}

impl Snapshot {
    /// An empty snapshot that already lists the targets (nothing read yet).
    pub fn for_targets<'a>(targets: impl IntoIterator<Item = &'a Target>) -> Self {
        let targets = targets
            .into_iter()
            .map(|target| TargetStatus {
                account: target.account.clone(),
                region: target.region.clone(),
                identities: 0,
                last_success: None,
                last_error: None,
                details_pending: 0,
            })
            .collect();
        Self {
            identities: Vec::new(),
            targets,
        }
    }

    /// Identities per DKIM status: SES's five in a fixed order (zeros included), then any
    /// unknown values in the order first seen.
    pub fn status_counts(&self) -> Vec<(DkimStatus, usize)> {
        DkimStatus::counts(self.identities.iter().map(|i| &i.dkim.status))
    }

    /// One target's identities, by name.
    pub fn identities_of(&self, target: &Target) -> HashMap<String, Identity> {
        self.identities
            .iter()
            .filter(|i| i.account == target.account && i.region == target.region)
            .map(|i| (i.name.clone(), i.clone()))
            .collect()
    }

    /// The identity called `name` in `region` (in `account`, when given).
    pub fn find(&self, region: &str, name: &str, account: Option<&str>) -> Lookup<'_> {
        let candidates: Vec<&Identity> = self
            .identities
            .iter()
            .filter(|i| i.region == region && i.name == name)
            .filter(|i| account.is_none_or(|a| a == i.account))
            .collect();
        match candidates.as_slice() {
            [] => Lookup::Nothing,
            [one] => Lookup::One(one),
            many => Lookup::Several(many.iter().map(|i| i.account.clone()).collect()),
        }
    }

    /// Whether the target has ever been read successfully.
    pub fn has_read(&self, target: &Target) -> bool {
        self.status_of(target)
            .is_some_and(|s| s.last_success.is_some())
    }

    fn status_of(&self, target: &Target) -> Option<&TargetStatus> {
        self.targets
            .iter()
            .find(|s| s.account == target.account && s.region == target.region)
    }

    /// A copy with `target`'s identities replaced by a good read.
    pub fn with_read(&self, target: &Target, identities: Vec<Identity>, at: UnixSeconds) -> Self {
        let prior = self.identities_of(target);
        let mut next = self.clone();
        next.identities
            .retain(|i| !(i.account == target.account && i.region == target.region));
        next.identities.extend(identities.into_iter().map(|read| {
            match prior.get(&read.name) {
                // Re-read after the sweep began (an operator's change): that is newer.
                Some(newer) if newer.read_at > read.read_at => newer.clone(),
                prior => carry_status_since(prior, read),
            }
        }));
        next.sort();
        next.recount();
        if let Some(status) = next.status_mut(target) {
            status.last_success = Some(at);
            status.last_error = None;
        }
        next
    }

    /// A copy that keeps `target`'s last good identities and records the failure.
    pub fn with_failure(&self, target: &Target, message: String, at: UnixSeconds) -> Self {
        let mut next = self.clone();
        if let Some(status) = next.status_mut(target) {
            status.last_error = Some(SweepError { at, message });
        }
        next
    }

    /// A copy with one identity replaced (or added), e.g. after an operator's change.
    pub fn with_identity(&self, identity: Identity) -> Self {
        self.with_identities([identity])
    }

    /// A copy with each of `identities` replaced (or added) by key; nothing else changes.
    pub fn with_identities(&self, identities: impl IntoIterator<Item = Identity>) -> Self {
        let mut next = self.clone();
        let mut added = false;
        for identity in identities {
            let key = identity.key();
            match next.identities.iter_mut().find(|i| i.has_key(&key)) {
                Some(slot) => *slot = carry_status_since(Some(slot), identity),
                None => {
                    next.identities.push(identity);
                    added = true;
                }
            }
        }
        if added {
            next.sort();
        }
        next.recount();
        next
    }

    /// A copy without one identity (SES says it no longer exists).
    pub fn without_identity(&self, key: &IdentityKey) -> Self {
        let mut next = self.clone();
        next.identities.retain(|i| !i.has_key(key));
        next.recount();
        next
    }

    /// Orders identities by account, region, name.
    fn sort(&mut self) {
        self.identities.sort_by(|a, b| {
            (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name))
        });
    }

    /// Recomputes each target's counts from the identities.
    fn recount(&mut self) {
        for status in &mut self.targets {
            let of_target = self
                .identities
                .iter()
                .filter(|i| i.account == status.account && i.region == status.region);
            let (count, pending) = of_target.fold((0, 0), |(n, p), i| {
                (n + 1, p + usize::from(i.details_read_at.is_none()))
            });
            status.identities = count;
            status.details_pending = pending;
        }
    }

    fn status_mut(&mut self, target: &Target) -> Option<&mut TargetStatus> {
        self.targets
            .iter_mut()
            .find(|s| s.account == target.account && s.region == target.region)
    }
}

/// A fresh read keeps the prior read's `status_seen_since` while the status is unchanged;
/// a new status counts from when it was read.
fn carry_status_since(prior: Option<&Identity>, mut read: Identity) -> Identity {
    read.status_seen_since = match prior {
        Some(prior) if prior.dkim.status == read.dkim.status => prior.status_seen_since,
        _ => read.read_at,
    };
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DkimState, IdentityType};

    fn identity(name: &str, status: DkimStatus) -> Identity {
        Identity {
            name: name.into(),
            identity_type: IdentityType::Domain,
            region: "r".into(),
            account: "a".into(),
            dkim: DkimState {
                status,
                ..DkimState::not_started()
            },
            verification: None,
            read_at: 0,
            details_read_at: None,
            status_seen_since: 0,
        }
    }

    fn target() -> Target {
        Target {
            account: "a".into(),
            region: "r".into(),
            role_arn: None,
            external_id: None,
            profile: None,
            endpoint_url: None,
        }
    }

    #[test]
    fn counts_every_status_in_a_fixed_order() {
        let snapshot = Snapshot::for_targets([&target()]).with_read(
            &target(),
            vec![
                identity("a.example", DkimStatus::Success),
                identity("b.example", DkimStatus::Failed),
                identity("c.example", DkimStatus::Success),
                identity("d.example", DkimStatus::Unknown("NEW".into())),
            ],
            10,
        );
        assert_eq!(
            snapshot.status_counts(),
            vec![
                (DkimStatus::Success, 2),
                (DkimStatus::Pending, 0),
                (DkimStatus::TemporaryFailure, 0),
                (DkimStatus::Failed, 1),
                (DkimStatus::NotStarted, 0),
                (DkimStatus::Unknown("NEW".into()), 1),
            ]
        );
    }

    #[test]
    fn swapping_identities_in_keeps_the_rest_and_the_last_read_time() {
        let t = target();
        let read = Snapshot::for_targets([&t]).with_read(
            &t,
            vec![
                identity("a.example", DkimStatus::Pending),
                identity("b.example", DkimStatus::Pending),
            ],
            10,
        );
        assert_eq!(read.targets[0].details_pending, 2);
        let detailed = Identity {
            details_read_at: Some(30),
            ..identity("b.example", DkimStatus::Success)
        };
        let next = read.with_identities([detailed.clone()]);
        assert_eq!(next.identities[0], read.identities[0]);
        assert_eq!(next.identities[1], detailed);
        assert_eq!(next.targets[0].last_success, Some(10));
        assert_eq!(next.targets[0].details_pending, 1);
        assert_eq!(next.targets[0].identities, 2);
    }

    #[test]
    fn status_seen_since_survives_rereads_until_the_status_changes() {
        let t = target();
        let at = |read_at, status| Identity {
            read_at,
            ..identity("a.example", status)
        };
        let first =
            Snapshot::for_targets([&t]).with_read(&t, vec![at(10, DkimStatus::Pending)], 10);
        assert_eq!(first.identities[0].status_seen_since, 10);
        let same = first.with_read(&t, vec![at(20, DkimStatus::Pending)], 20);
        assert_eq!(same.identities[0].status_seen_since, 10);
        let reread = same.with_identity(at(25, DkimStatus::Pending));
        assert_eq!(reread.identities[0].status_seen_since, 10);
        let changed = reread.with_identity(at(30, DkimStatus::Success));
        assert_eq!(changed.identities[0].status_seen_since, 30);
        let swept = changed.with_read(&t, vec![at(40, DkimStatus::Success)], 40);
        assert_eq!(swept.identities[0].status_seen_since, 30);
    }

    #[test]
    fn a_sweep_never_overwrites_a_newer_read_of_one_identity() {
        let t = target();
        let at = |read_at, status| Identity {
            read_at,
            ..identity("a.example", status)
        };
        let first =
            Snapshot::for_targets([&t]).with_read(&t, vec![at(10, DkimStatus::Success)], 10);
        // An operator's change is re-read at 25, while a sweep that started at 20 runs.
        let changed = first.with_identity(at(25, DkimStatus::Pending));
        let swept = changed.with_read(&t, vec![at(20, DkimStatus::Success)], 20);
        assert_eq!(swept.identities[0].dkim.status, DkimStatus::Pending);
        let next = swept.with_read(&t, vec![at(30, DkimStatus::Pending)], 30);
        assert_eq!(next.identities[0].read_at, 30);
    }

    #[test]
    fn a_failure_keeps_the_last_read_and_a_success_clears_the_error() {
        let t = target();
        let read = Snapshot::for_targets([&t]).with_read(
            &t,
            vec![identity("a.example", DkimStatus::Success)],
            10,
        );
        let failed = read.with_failure(&t, "SES down".into(), 20);
        assert_eq!(failed.identities, read.identities);
        assert_eq!(failed.targets[0].last_success, Some(10));
        assert_eq!(
            failed.targets[0].last_error.as_ref().map(|e| e.at),
            Some(20)
        );
        let again = failed.with_read(&t, vec![], 30);
        assert!(again.targets[0].last_error.is_none());
        assert!(again.identities.is_empty());
    }
}
