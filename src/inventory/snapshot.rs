//! What the dashboard shows: every target's identities as last read, swapped whole.

use std::collections::HashMap;
use std::sync::Arc;

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

/// The identities of all targets, as of the last sweeps. Immutable once published; the
/// next snapshot shares every identity that did not change (a hundred thousand of them
/// are not copied for each one read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// All identities, ordered by account, region, name.
    pub identities: Vec<Arc<Identity>>,
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
    pub fn identities_of(&self, target: &Target) -> HashMap<String, Arc<Identity>> {
        self.identities
            .iter()
            .filter(|i| i.account == target.account && i.region == target.region)
            .map(|i| (i.name.clone(), i.clone()))
            .collect()
    }

    /// The identity called `name` in `region` (in `account`, when given): looked up in
    /// each target of that region, not by a walk through every identity.
    pub fn find(&self, region: &str, name: &str, account: Option<&str>) -> Lookup<'_> {
        let candidates: Vec<&Identity> = self
            .targets
            .iter()
            .filter(|t| t.region == region && account.is_none_or(|a| a == t.account))
            .filter_map(|t| self.get(&t.account, region, name))
            .map(Arc::as_ref)
            .collect();
        match candidates.as_slice() {
            [] => Lookup::Nothing,
            [one] => Lookup::One(one),
            many => Lookup::Several(many.iter().map(|i| i.account.clone()).collect()),
        }
    }

    /// The identity `name` of `account` in `region`, by binary search in the snapshot's
    /// order.
    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<&Arc<Identity>> {
        self.identities
            .get(self.position_of(account, region, name)?)
    }

    /// Where the identity `name` in `account` and `region` is in the snapshot's order.
    pub fn position_of(&self, account: &str, region: &str, name: &str) -> Option<usize> {
        self.identities
            .binary_search_by(|i| in_order(i).cmp(&(account, region, name)))
            .ok()
    }

    /// The identities of the target `account` and `region`: a range of the order, found by
    /// binary search.
    pub fn target_identities(&self, account: &str, region: &str) -> &[Arc<Identity>] {
        let target = (account, region);
        let start = self.identities.partition_point(|i| target_of(i) < target);
        let length = self.identities[start..].partition_point(|i| target_of(i) == target);
        &self.identities[start..start + length]
    }

    /// The positions whose identity differs from `previous`'s: what a publish changed.
    /// `None` when the two do not hold the same identities (account, region and name)
    /// position by position, so that a position means nothing across them.
    pub fn changed_since(&self, previous: &Snapshot) -> Option<Vec<u32>> {
        if previous.identities.len() != self.identities.len() {
            return None;
        }
        let mut changed = Vec::new();
        for (position, (before, after)) in
            previous.identities.iter().zip(&self.identities).enumerate()
        {
            // What a publish leaves alone is shared: the same allocation.
            if Arc::ptr_eq(before, after) {
                continue;
            }
            if in_order(before) != in_order(after) {
                return None;
            }
            if before != after {
                changed.push(u32::try_from(position).unwrap_or(u32::MAX));
            }
        }
        Some(changed)
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
                prior => Arc::new(carry_status_since(prior.map(Arc::as_ref), read)),
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
        for identity in identities {
            match next.position(&identity) {
                Ok(at) => {
                    let read = carry_status_since(Some(&next.identities[at]), identity);
                    next.identities[at] = Arc::new(read);
                }
                Err(at) => next.identities.insert(at, Arc::new(identity)),
            }
        }
        next.recount();
        next
    }

    /// Where `identity` is (`Ok`), or would go (`Err`), in the order of the identities.
    fn position(&self, identity: &Identity) -> Result<usize, usize> {
        self.identities
            .binary_search_by(|i| in_order(i).cmp(&in_order(identity)))
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
        self.identities
            .sort_by(|a, b| in_order(a).cmp(&in_order(b)));
    }

    /// Recomputes each target's counts from the identities, in one pass.
    fn recount(&mut self) {
        let Self {
            identities,
            targets,
        } = self;
        let mut counts: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
        for identity in identities.iter() {
            let (count, pending) = counts
                .entry((&identity.account, &identity.region))
                .or_default();
            *count += 1;
            *pending += usize::from(identity.details_read_at.is_none());
        }
        for status in targets {
            let (count, pending) = counts
                .get(&(status.account.as_str(), status.region.as_str()))
                .copied()
                .unwrap_or_default();
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

/// The snapshot's order: account, region, name.
fn target_of(identity: &Identity) -> (&str, &str) {
    (&identity.account, &identity.region)
}

fn in_order(identity: &Identity) -> (&str, &str, &str) {
    (&identity.account, &identity.region, &identity.name)
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
    fn finds_what_a_publish_changed_and_each_targets_range() {
        let names = ["a.example", "b.example", "c.example"];
        let read =
            Snapshot::default().with_identities(names.map(|n| identity(n, DkimStatus::Pending)));
        let in_other_region = Identity {
            region: "s".into(),
            ..identity("a.example", DkimStatus::Pending)
        };
        let both = read.with_identity(in_other_region);
        assert_eq!(both.target_identities("a", "r").len(), 3);
        assert_eq!(both.target_identities("a", "s")[0].region, "s");
        assert!(both.target_identities("b", "r").is_empty());

        // One changed, one read again unchanged (another allocation, an equal value).
        let next = read.with_identities([
            identity("b.example", DkimStatus::Success),
            identity("c.example", DkimStatus::Pending),
        ]);
        assert_eq!(next.changed_since(&read), Some(vec![1]));
        assert_eq!(read.changed_since(&read), Some(vec![]));
        // Another identity set: positions mean nothing across the two.
        assert_eq!(both.changed_since(&read), None);
        let renamed = Snapshot::default().with_identities(
            ["a.example", "b.example", "d.example"].map(|n| identity(n, DkimStatus::Pending)),
        );
        assert_eq!(renamed.changed_since(&read), None);
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
        // The other one is shared, not copied.
        assert!(Arc::ptr_eq(&next.identities[0], &read.identities[0]));
        assert_eq!(*next.identities[1], detailed);
        assert_eq!(next.targets[0].last_success, Some(10));
        assert_eq!(next.targets[0].details_pending, 1);
        assert_eq!(next.targets[0].identities, 2);

        // One not read before goes in its place in the order.
        let added = next.with_identities([identity("aa.example", DkimStatus::Pending)]);
        let names: Vec<&str> = added.identities.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a.example", "aa.example", "b.example"]);
        assert_eq!(added.targets[0].identities, 3);
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
    fn lookups_find_by_account_region_and_name() {
        let t = target();
        let read = Snapshot::for_targets([&t]).with_read(
            &t,
            vec![
                identity("a.example", DkimStatus::Success),
                identity("b.example", DkimStatus::Pending),
            ],
            10,
        );
        assert_eq!(
            read.get("a", "r", "b.example").map(|i| i.name.as_str()),
            Some("b.example")
        );
        assert!(read.get("a", "r", "c.example").is_none());
        assert!(read.get("other", "r", "b.example").is_none());
        assert!(
            matches!(read.find("r", "a.example", None), Lookup::One(i) if i.name == "a.example")
        );
        assert_eq!(read.find("r", "a.example", Some("other")), Lookup::Nothing);
        assert_eq!(read.find("elsewhere", "a.example", None), Lookup::Nothing);
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
