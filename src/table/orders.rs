//! The table's orders of one snapshot, one per column and direction. Each is built the
//! first time a page asks for it, or carried over from the snapshot before when both hold
//! the same identities and only some of them changed: the details backfill publishes a
//! snapshot per few identities read, and at 100,000 identities sorting every column again
//! on each publish held the next table pages for tens of milliseconds.

use std::sync::{Arc, OnceLock};

use super::query::SortColumn;
use super::select::{in_table_order, table_order};
use crate::model::Identity;

/// Positions in a snapshot's identities, per column and direction, each built once.
#[derive(Debug)]
pub struct TableOrders {
    /// Indexed by [`slot`].
    orders: Vec<OnceLock<Vec<u32>>>,
}

impl Default for TableOrders {
    fn default() -> Self {
        Self {
            orders: (0..SortColumn::ALL.len() * 2)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }
}

impl TableOrders {
    /// The order of `identities` (the snapshot these orders are of) for `sort` and
    /// `descending`, built now if no page asked for it before.
    pub fn get(&self, identities: &[Arc<Identity>], sort: SortColumn, descending: bool) -> &[u32] {
        self.orders[slot(sort, descending)]
            .get_or_init(|| table_order(identities, sort, descending))
    }

    /// The orders of `identities`, the snapshot that follows the one these orders are
    /// of. `changed` holds the positions whose identity changed when both hold the same
    /// identities at the same positions: each order already built is then carried over
    /// with only those placed again. Otherwise (`None`) every order is built anew when
    /// asked for.
    pub fn following(&self, identities: &[Arc<Identity>], changed: Option<&[u32]>) -> Self {
        let next = Self::default();
        let Some(changed) = changed else {
            return next;
        };
        for (column, sort) in SortColumn::ALL.into_iter().enumerate() {
            for descending in [false, true] {
                let Some(order) = self.orders[column * 2 + usize::from(descending)].get() else {
                    continue;
                };
                let carried = if changed.is_empty() {
                    order.clone()
                } else if changed.len() > identities.len() / 8 {
                    // A sweep reads every identity again: sorting anew costs less.
                    table_order(identities, sort, descending)
                } else {
                    placed_again(order, changed, identities, sort, descending)
                };
                let _ = next.orders[slot(sort, descending)].set(carried);
            }
        }
        next
    }
}

fn slot(sort: SortColumn, descending: bool) -> usize {
    let column = SortColumn::ALL.iter().position(|c| *c == sort).unwrap_or(0);
    column * 2 + usize::from(descending)
}

/// `order` with the identities at `changed` (positions) taken out and put back
/// where they now sort: the others kept what they sort by, so they keep their order, and
/// the two sorted runs merge in one pass.
fn placed_again(
    order: &[u32],
    changed: &[u32],
    identities: &[Arc<Identity>],
    sort: SortColumn,
    descending: bool,
) -> Vec<u32> {
    let compare = |a: &u32, b: &u32| {
        in_table_order(
            &identities[*a as usize],
            &identities[*b as usize],
            sort,
            descending,
        )
    };
    let mut is_changed = vec![false; order.len()];
    for position in changed {
        is_changed[*position as usize] = true;
    }
    let mut moved = changed.to_vec();
    moved.sort_unstable_by(compare);
    let mut kept = order
        .iter()
        .filter(|position| !is_changed[**position as usize])
        .peekable();
    let mut moved = moved.into_iter().peekable();
    let mut merged = Vec::with_capacity(order.len());
    loop {
        let next = match (kept.peek(), moved.peek()) {
            (Some(k), Some(m)) if compare(k, m).is_le() => kept.next().copied(),
            (_, Some(_)) => moved.next(),
            (Some(_), None) => kept.next().copied(),
            (None, None) => break,
        };
        merged.extend(next);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::DkimStatus;

    fn identities(n: usize) -> Vec<Arc<Identity>> {
        (0..n)
            .map(|i| {
                let mut identity = domain(
                    &format!("d{i:03}.example"),
                    DkimStatus::KNOWN[i % 5].clone(),
                );
                identity.read_at = (i as i64 * 7919) % 101;
                Arc::new(identity)
            })
            .collect()
    }

    /// Every column and direction built for `identities`.
    fn built(identities: &[Arc<Identity>]) -> TableOrders {
        let orders = TableOrders::default();
        for sort in SortColumn::ALL {
            for descending in [false, true] {
                orders.get(identities, sort, descending);
            }
        }
        orders
    }

    #[test]
    fn carried_orders_equal_orders_built_from_scratch() {
        let before = identities(200);
        let orders = built(&before);
        let mut after = before.clone();
        // Every seventh identity changes what it sorts by on several columns.
        let changed: Vec<u32> = (3..after.len() as u32).step_by(7).collect();
        for position in changed.iter().map(|p| *p as usize) {
            let mut identity = (*after[position]).clone();
            identity.dkim.status = DkimStatus::KNOWN[(position / 7) % 5].clone();
            identity.dkim.signing_enabled = !identity.dkim.signing_enabled;
            identity.read_at = 1_000 - position as i64;
            after[position] = Arc::new(identity);
        }
        let carried = orders.following(&after, Some(&changed));
        for sort in SortColumn::ALL {
            for descending in [false, true] {
                let slot = &carried.orders[slot(sort, descending)];
                assert_eq!(
                    slot.get().map(Vec::as_slice),
                    Some(table_order(&after, sort, descending).as_slice()),
                    "{sort:?} descending {descending}"
                );
            }
        }
    }

    #[test]
    fn only_orders_already_built_are_carried() {
        let before = identities(10);
        let orders = TableOrders::default();
        orders.get(&before, SortColumn::Status, true);
        let carried = orders.following(&before, Some(&[]));
        assert!(
            carried.orders[slot(SortColumn::Status, true)]
                .get()
                .is_some()
        );
        assert!(
            carried.orders[slot(SortColumn::Status, false)]
                .get()
                .is_none()
        );
    }

    #[test]
    fn nothing_is_carried_when_the_identities_differ() {
        let before = identities(10);
        let orders = built(&before);
        let mut renamed = before.clone();
        renamed[4] = Arc::new(domain("other.example", DkimStatus::Success));
        let carried = orders.following(&renamed, None);
        assert!(carried.orders.iter().all(|o| o.get().is_none()));
        // Asked again, it is built for the new identities.
        assert_eq!(
            carried.get(&renamed, SortColumn::Name, false),
            table_order(&renamed, SortColumn::Name, false).as_slice()
        );
    }
}
