//! (pure) Since when each identity has held its DKIM status, as known from before this
//! process started (dkimdash's history keeps it across restarts), and how that is laid
//! over what this process reads: a restart does not restart "PENDING for 50 hours", the
//! time left of SES's 72 hours, or an identity's "status since".

use std::collections::{HashMap, HashSet};

use super::snapshot::Snapshot;
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};

/// Each identity's DKIM status and since when it has held it, as known from before this
/// process started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownSince(HashMap<IdentityKey, (DkimStatus, UnixSeconds)>);

impl FromIterator<(IdentityKey, (DkimStatus, UnixSeconds))> for KnownSince {
    fn from_iter<I: IntoIterator<Item = (IdentityKey, (DkimStatus, UnixSeconds))>>(
        known: I,
    ) -> Self {
        Self(known.into_iter().collect())
    }
}

impl KnownSince {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Since when `identity` has held its status: the earlier of what was known and this
    /// process's `status_seen_since` when the known status is its status now; else (another
    /// status, or nothing known) this process's alone.
    pub fn since(&self, identity: &Identity) -> UnixSeconds {
        let seen = identity.status_seen_since;
        match self.0.get(identity as &dyn crate::model::KeyParts) {
            Some((status, known)) if *status == identity.dkim.status => seen.min(*known),
            _ => seen,
        }
    }

    /// Forgets identities of `snapshot`'s read targets seen in another status, or gone (one
    /// may come back as a new identity): they no longer hold the status known. Those of a
    /// target not read yet may still.
    pub fn forget_outdated(&mut self, snapshot: &Snapshot) {
        if self.0.is_empty() {
            return;
        }
        let unread = unread_targets(snapshot);
        self.0.retain(|key, (status, _)| {
            unread.contains(&(key.account.as_str(), key.region.as_str()))
                || snapshot
                    .get(&key.account, &key.region, &key.name)
                    .is_some_and(|now| now.dkim.status == *status)
        });
    }

    /// Sets each identity of `snapshot` to [`Self::since`], then forgets all but the
    /// identities of targets not read yet: the others' times are in the snapshot now, and
    /// later reads carry them while the status holds (a status seen to change counts from
    /// that read, as this process saw it).
    pub fn lay_over(&mut self, snapshot: &mut Snapshot) {
        if self.0.is_empty() {
            return;
        }
        // Only the targets something is known of are looked at: after the first time,
        // those not read yet, which have no identities.
        let targets: HashSet<(&str, &str)> = self
            .0
            .keys()
            .map(|key| (key.account.as_str(), key.region.as_str()))
            .collect();
        for identity in &mut snapshot.identities {
            if targets.contains(&(identity.account.as_str(), identity.region.as_str())) {
                let since = self.since(identity);
                if since != identity.status_seen_since {
                    std::sync::Arc::make_mut(identity).status_seen_since = since;
                }
            }
        }
        let unread = unread_targets(snapshot);
        self.0
            .retain(|key, _| unread.contains(&(key.account.as_str(), key.region.as_str())));
    }
}

/// The targets (account, region) of `snapshot` never read successfully.
fn unread_targets(snapshot: &Snapshot) -> HashSet<(&str, &str)> {
    snapshot
        .targets
        .iter()
        .filter(|t| t.last_success.is_none())
        .map(|t| (t.account.as_str(), t.region.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::ses::target::Target;

    const SEEN: UnixSeconds = 1_000_000;
    const EARLIER: UnixSeconds = SEEN - 50 * 3600;

    fn key(name: &str) -> IdentityKey {
        domain(name, DkimStatus::Pending).key()
    }

    /// The target of [`domain`]'s identities.
    fn prod() -> Target {
        Target {
            account: "prod".into(),
            region: "us-east-1".into(),
            role_arn: None,
            external_id: None,
            profile: None,
            endpoint_url: None,
        }
    }

    /// [`prod`] not read yet.
    fn unread() -> Snapshot {
        Snapshot::for_targets([&prod()])
    }

    /// [`prod`] read at [`SEEN`], holding `identities` (each first seen then).
    fn read(identities: Vec<Identity>) -> Snapshot {
        unread().with_read(&prod(), identities, SEEN)
    }

    fn known(entries: &[(&str, DkimStatus, UnixSeconds)]) -> KnownSince {
        entries
            .iter()
            .map(|(name, status, at)| (key(name), (status.clone(), *at)))
            .collect()
    }

    #[test]
    fn the_earlier_time_counts_only_for_the_same_status() {
        let known = known(&[
            ("a.example", DkimStatus::Pending, EARLIER),
            ("b.example", DkimStatus::Pending, EARLIER),
            // Known later than seen (a clock gone back): the first sight is earlier.
            ("c.example", DkimStatus::Pending, SEEN + 10),
        ]);
        assert_eq!(
            known.since(&domain("a.example", DkimStatus::Pending)),
            EARLIER
        );
        assert_eq!(known.since(&domain("b.example", DkimStatus::Success)), SEEN);
        assert_eq!(known.since(&domain("c.example", DkimStatus::Pending)), SEEN);
        assert_eq!(known.since(&domain("d.example", DkimStatus::Pending)), SEEN);
        let mut other = domain("a.example", DkimStatus::Pending);
        other.account = "staging".into();
        assert_eq!(known.since(&other), SEEN, "another account's a.example");
    }

    #[test]
    fn another_status_or_a_deletion_ends_what_was_known() {
        let mut known = known(&[
            ("a.example", DkimStatus::Pending, EARLIER),
            ("b.example", DkimStatus::Pending, EARLIER),
            ("gone.example", DkimStatus::Pending, EARLIER),
        ]);
        // Not read yet: nothing is known to have ended.
        known.forget_outdated(&unread());
        assert_eq!(known.0.len(), 3);
        known.forget_outdated(&read(vec![
            domain("a.example", DkimStatus::Pending),
            domain("b.example", DkimStatus::Success),
        ]));
        assert_eq!(known.0.keys().collect::<Vec<_>>(), [&key("a.example")]);
    }

    #[test]
    fn laid_over_a_read_target_it_sets_the_times_and_is_forgotten() {
        let mut known = known(&[
            ("a.example", DkimStatus::Pending, EARLIER),
            ("b.example", DkimStatus::Pending, EARLIER),
        ]);
        let mut snapshot = read(vec![
            domain("a.example", DkimStatus::Pending),
            domain("b.example", DkimStatus::Success),
        ]);
        known.lay_over(&mut snapshot);
        let since: Vec<UnixSeconds> = snapshot
            .identities
            .iter()
            .map(|i| i.status_seen_since)
            .collect();
        assert_eq!(since, [EARLIER, SEEN]);
        assert!(known.is_empty(), "every identity of a read target is done");
    }

    #[test]
    fn laid_over_an_unread_target_it_waits_for_its_first_read() {
        let mut known = known(&[("a.example", DkimStatus::Pending, EARLIER)]);
        known.lay_over(&mut unread());
        assert!(!known.is_empty());
        let mut first = read(vec![domain("a.example", DkimStatus::Pending)]);
        known.lay_over(&mut first);
        assert_eq!(first.identities[0].status_seen_since, EARLIER);
        assert!(known.is_empty());
    }
}
