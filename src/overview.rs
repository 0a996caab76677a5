//! What the overview and every page of the table read of one snapshot and its DNS
//! healths: the counts per status, the strip, the grid, the filter's choices and the
//! table's orders. Built once per change of either (and once a minute, for what the time
//! decides: which identities need attention), shared by every request.

use std::collections::HashSet;
use std::sync::Arc;

use crate::dns_check::DnsHealths;
use crate::grid::GridCell;
use crate::inventory::snapshot::Snapshot;
use crate::memo::{Memo, Same};
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};
use crate::table::index::{Candidates, TableIndex};
use crate::table::orders::TableOrders;
use crate::table::query::TableQuery;
use crate::table::select::{Facets, TablePage, facets, matches, page_of};

/// How long the attention count may lag the clock: an identity turns "PENDING over 72
/// hours" by time alone, without any change.
const ATTENTION_EVERY_SECS: UnixSeconds = 60;

/// The figures of one snapshot and one set of DNS healths.
#[derive(Debug)]
pub struct Overview {
    snapshot: Arc<Snapshot>,
    healths: Arc<DnsHealths>,
    /// Identities per DKIM status.
    pub by_status: Vec<(DkimStatus, usize)>,
    /// The strip's counts.
    pub facets: Facets,
    /// The time the strip's attention count is of (within its minute).
    counted_at: UnixSeconds,
    /// The accounts × regions grid.
    pub grid: Vec<GridCell>,
    /// What the table's filters look at, by position (the filter's choices too); carried
    /// over like the orders.
    index: Arc<TableIndex>,
    /// The table's order per column and direction, each built the first time a page asks
    /// (of this snapshot, or of the one before when few identities changed); shared by
    /// the figures of the same snapshot with other healths or at another minute.
    orders: Arc<TableOrders>,
}

/// What the figures were built from.
type Inputs = (Same<Snapshot>, Same<DnsHealths>, UnixSeconds);

/// The figures last built; cheap to clone (every clone shares them).
#[derive(Clone, Debug, Default)]
pub struct SharedOverview {
    memo: Arc<Memo<Inputs, Overview>>,
}

impl SharedOverview {
    /// The figures of `snapshot` and `healths` as of `now`: the ones built already if
    /// neither changed within the minute, else built now.
    pub fn get(
        &self,
        snapshot: Arc<Snapshot>,
        healths: Arc<DnsHealths>,
        now: UnixSeconds,
    ) -> Arc<Overview> {
        let minute = now.div_euclid(ATTENTION_EVERY_SECS);
        let inputs = (Same::of(&snapshot), Same::of(&healths), minute);
        self.memo.get_or_follow(inputs, |previous| {
            Overview::following(previous, snapshot, healths, now)
        })
    }
}

impl Overview {
    /// Counts everything once, or, from `previous` (the figures built before), only what
    /// changed: the same snapshot keeps its table's orders and filter choices; the next
    /// snapshot of the same identities (a details read, an operator's change) carries the
    /// orders over and recounts the strip for the changed identities alone, when the
    /// healths and the minute are those it was counted with.
    fn following(
        previous: Option<&Overview>,
        snapshot: Arc<Snapshot>,
        healths: Arc<DnsHealths>,
        now: UnixSeconds,
    ) -> Self {
        let same_snapshot = previous.is_some_and(|p| Arc::ptr_eq(&p.snapshot, &snapshot));
        let changed = previous
            .filter(|_| !same_snapshot)
            .and_then(|p| snapshot.changed_since(&p.snapshot));
        let orders = match previous {
            Some(previous) if same_snapshot => previous.orders.clone(),
            Some(previous) => Arc::new(
                previous
                    .orders
                    .following(&snapshot.identities, changed.as_deref()),
            ),
            None => Arc::default(),
        };
        let index = match (previous, &changed) {
            (Some(previous), _) if same_snapshot => previous.index.clone(),
            (Some(previous), Some(changed)) => {
                Arc::new(previous.index.following(&snapshot.identities, changed))
            }
            _ => Arc::new(TableIndex::new(&snapshot.identities)),
        };
        let minute = now.div_euclid(ATTENTION_EVERY_SECS);
        let (facets, counted_at) = match (previous, &changed) {
            (Some(previous), Some(changed))
                if Arc::ptr_eq(&previous.healths, &healths)
                    && previous.counted_at.div_euclid(ATTENTION_EVERY_SECS) == minute =>
            {
                let (at, mut facets) = (previous.counted_at, previous.facets.clone());
                for position in changed.iter().map(|p| *p as usize) {
                    facets.count(&previous.snapshot.identities[position], &healths, at, false);
                    facets.count(&snapshot.identities[position], &healths, at, true);
                }
                (facets, at)
            }
            _ => (facets(&snapshot.identities, &healths, now), now),
        };
        Self {
            by_status: snapshot.status_counts(),
            facets,
            counted_at,
            grid: crate::grid::cells(&snapshot.targets, |target| {
                snapshot.target_identities(&target.account, &target.region)
            }),
            index,
            orders,
            snapshot,
            healths,
        }
    }

    /// The snapshot the figures are of.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// The DNS healths the figures are of.
    pub fn healths(&self) -> &DnsHealths {
        &self.healths
    }

    /// The regions present, sorted, for the filter.
    pub fn regions(&self) -> &[String] {
        self.index.regions()
    }

    /// The account labels present, sorted, for the filter.
    pub fn accounts(&self) -> &[String] {
        self.index.accounts()
    }

    /// The identities `query` selects (of `changed`, when it asks), in its order.
    pub fn matching(
        &self,
        query: &TableQuery,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> Vec<&Identity> {
        let candidates = self.candidates(query, changed);
        self.matches(query, &candidates, now).collect()
    }

    /// The page of the table `query` asks for.
    pub fn page(
        &self,
        query: &TableQuery,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> TablePage {
        let total = self.snapshot.identities.len();
        let candidates = self.candidates(query, changed);
        page_of(
            self.matches(query, &candidates, now),
            total,
            query,
            &self.healths,
            now,
        )
    }

    /// What the index lets through of `query` (and of `changed`: the history's keys, found
    /// in the snapshot by binary search).
    fn candidates(&self, query: &TableQuery, changed: Option<&HashSet<IdentityKey>>) -> Candidates {
        let changed: Option<Vec<usize>> = changed.map(|keys| {
            keys.iter()
                .filter_map(|key| {
                    self.snapshot
                        .position_of(&key.account, &key.region, &key.name)
                })
                .collect()
        });
        let identities = &self.snapshot.identities;
        self.index.candidates(identities, query, changed.as_deref())
    }

    fn matches<'a: 'q, 'q>(
        &'a self,
        query: &'q TableQuery,
        candidates: &'q Candidates,
        now: UnixSeconds,
    ) -> impl Iterator<Item = &'a Identity> + Clone + 'q {
        let identities = &self.snapshot.identities;
        let order = self.orders.get(identities, query.sort, query.descending);
        matches(identities, order, candidates, query, &self.healths, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::DkimStatus;

    fn snapshot(names: &[&str]) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            identities: names
                .iter()
                .map(|n| Arc::new(domain(n, DkimStatus::Success)))
                .collect(),
            targets: Vec::new(),
        })
    }

    #[test]
    fn built_again_only_when_the_snapshot_the_healths_or_the_minute_change() {
        let shared = SharedOverview::default();
        let (first, healths) = (snapshot(&["a.example"]), Arc::new(DnsHealths::default()));
        let built = shared.get(first.clone(), healths.clone(), 600);
        assert!(Arc::ptr_eq(
            &built,
            &shared.get(first.clone(), healths.clone(), 659)
        ));
        assert_eq!(built.by_status[0], (DkimStatus::Success, 1));

        let next = snapshot(&["a.example", "b.example"]);
        let swept = shared.get(next.clone(), healths.clone(), 659);
        assert!(!Arc::ptr_eq(&built, &swept));
        assert_eq!(swept.by_status[0], (DkimStatus::Success, 2));

        let checked = shared.get(next.clone(), Arc::new(DnsHealths::default()), 659);
        assert!(!Arc::ptr_eq(&swept, &checked));
        let later = shared.get(next.clone(), checked.healths.clone(), 660);
        assert!(!Arc::ptr_eq(&checked, &later));
    }

    #[test]
    fn the_table_orders_outlive_new_healths_and_minutes_and_follow_the_next_snapshot() {
        let shared = SharedOverview::default();
        let first = snapshot(&["b.example", "a.example"]);
        let built = shared.get(first.clone(), Arc::default(), 0);
        built.page(&TableQuery::from_query_string(""), None, 0);
        let later = shared.get(first.clone(), Arc::default(), 600);
        assert!(!Arc::ptr_eq(&built, &later));
        assert!(Arc::ptr_eq(&built.orders, &later.orders));
        // The next snapshot with the same identities: carried over, not shared.
        let next = Arc::new(Snapshot {
            identities: first.identities.clone(),
            targets: Vec::new(),
        });
        let swept = shared.get(next, Arc::default(), 600);
        assert!(!Arc::ptr_eq(&later.orders, &swept.orders));
        let names: Vec<String> = swept
            .page(&TableQuery::from_query_string(""), None, 600)
            .rows
            .into_iter()
            .map(|r| r.identity.name)
            .collect();
        assert_eq!(names, ["a.example", "b.example"]);
    }

    #[test]
    fn the_next_snapshot_of_the_same_identities_recounts_what_changed_alone() {
        let shared = SharedOverview::default();
        let healths = Arc::new(DnsHealths::default());
        let first = snapshot(&["a.example", "b.example", "c.example"]);
        shared.get(first.clone(), healths.clone(), 600);
        let mut identities = first.identities.clone();
        let mut failed = (*identities[1]).clone();
        failed.dkim.status = DkimStatus::Failed;
        failed.dkim.signing_enabled = false;
        identities[1] = Arc::new(failed);
        let next = Arc::new(Snapshot {
            identities,
            targets: Vec::new(),
        });
        let followed = shared.get(next.clone(), healths.clone(), 630);
        // Counted from the figures before, as of their time.
        assert_eq!(followed.counted_at, 600);
        let anew = SharedOverview::default().get(next, healths, 600);
        assert_eq!(followed.facets, anew.facets);
        assert_eq!(
            (followed.facets.attention, followed.facets.signing_off),
            (1, 1)
        );
        assert_eq!(followed.by_status, anew.by_status);
    }

    #[test]
    fn pages_follow_the_query_order() {
        let shared = SharedOverview::default();
        let overview = shared.get(
            snapshot(&["b.example", "c.example", "a.example"]),
            Arc::default(),
            0,
        );
        let names = |query: &str| -> Vec<String> {
            let query = TableQuery::from_query_string(query);
            overview
                .page(&query, None, 0)
                .rows
                .into_iter()
                .map(|r| r.identity.name)
                .collect()
        };
        assert_eq!(names(""), ["a.example", "b.example", "c.example"]);
        assert_eq!(
            names("sort=name&dir=desc"),
            ["c.example", "b.example", "a.example"]
        );
        assert_eq!(names("sort=name&dir=desc&per=1&page=2"), ["b.example"]);
    }
}
