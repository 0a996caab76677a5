//! What the overview and every page of the table read of one snapshot and its DNS
//! healths: the counts per status, the strip, the grid, the filter's choices and the
//! table's orders. Built once per change of either (and once a minute, for what the time
//! decides: which identities need attention), shared by every request.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use crate::dns_check::DnsHealths;
use crate::grid::GridCell;
use crate::inventory::snapshot::Snapshot;
use crate::memo::{Memo, Same};
use crate::model::{DkimStatus, Identity, IdentityKey, UnixSeconds};
use crate::table::query::{SortColumn, TableQuery};
use crate::table::select::{
    Facets, TablePage, choices, facets, in_order, matches, page_of, table_order,
};

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
    /// The accounts × regions grid.
    pub grid: Vec<GridCell>,
    /// The regions present, sorted, for the filter.
    pub regions: Vec<String>,
    /// The account labels present, sorted, for the filter.
    pub accounts: Vec<String>,
    /// The table's order per column and direction, each built the first time a page asks.
    orders: Vec<OnceLock<Vec<u32>>>,
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
        self.memo
            .get(inputs, || Overview::new(snapshot, healths, now))
    }
}

impl Overview {
    /// Counts everything once.
    pub fn new(snapshot: Arc<Snapshot>, healths: Arc<DnsHealths>, now: UnixSeconds) -> Self {
        let (regions, accounts) = choices(&snapshot.identities);
        Self {
            by_status: snapshot.status_counts(),
            facets: facets(&snapshot.identities, &healths, now),
            grid: crate::grid::cells(&snapshot.targets, &snapshot.identities),
            regions,
            accounts,
            orders: (0..SortColumn::ALL.len() * 2)
                .map(|_| OnceLock::new())
                .collect(),
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

    /// The identities `query` selects (of `changed`, when it asks), in its order.
    pub fn matching(
        &self,
        query: &TableQuery,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> Vec<&Identity> {
        self.matches(query, changed, now).collect()
    }

    /// The page of the table `query` asks for.
    pub fn page(
        &self,
        query: &TableQuery,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> TablePage {
        let total = self.snapshot.identities.len();
        let selected = self.matches(query, changed, now);
        page_of(selected, total, query, &self.healths, now)
    }

    fn matches<'a: 'q, 'q>(
        &'a self,
        query: &'q TableQuery,
        changed: Option<&'q HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> impl Iterator<Item = &'a Identity> + Clone + 'q {
        let order = self.order(query.sort, query.descending);
        let in_order = in_order(&self.snapshot.identities, order);
        matches(in_order, query, &self.healths, changed, now)
    }

    fn order(&self, sort: SortColumn, descending: bool) -> &[u32] {
        let column = SortColumn::ALL.iter().position(|c| *c == sort).unwrap_or(0);
        let slot = &self.orders[column * 2 + usize::from(descending)];
        slot.get_or_init(|| table_order(&self.snapshot.identities, sort, descending))
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
