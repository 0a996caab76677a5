//! One page of the identities table: filter, sort, page, over the whole snapshot. Runs on
//! the server, so the browser receives one page however many identities there are.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::index::Candidates;
use super::query::{OriginFilter, SortColumn, TableQuery};
use crate::attention::{Attention, attention};
use crate::dns_check::{DnsHealth, DnsHealths, health_of};
use crate::model::{DkimStatus, Identity, KeyLength, SigningOrigin, UnixSeconds};

/// One page of the table and what it was cut from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePage {
    /// The rows on this page.
    pub rows: Vec<TableRow>,
    /// Identities matching the filters, on all pages.
    pub matching: usize,
    /// Identities before filtering.
    pub total: usize,
    /// This page (1-based; a page past the end is clamped to the last one).
    pub page: usize,
    /// Pages in all (at least 1).
    pub pages: usize,
    /// Rows per page.
    pub per_page: usize,
}

/// One row: the identity and, if any, why it needs attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRow {
    /// The identity as last read.
    pub identity: Identity,
    /// Why it needs an operator, if it does.
    pub attention: Option<Attention>,
    /// How its DNS records stand; `None` without records to check.
    pub dns: Option<DnsHealth>,
}

/// The counts behind the summary strip (DKIM status counts come from the snapshot).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Identities per signing-origin group, in [`OriginFilter::ALL`] order.
    pub by_origin: Vec<(OriginFilter, usize)>,
    /// Identities whose DKIM signing is off.
    pub signing_off: usize,
    /// Easy DKIM identities signing with a 1024-bit key.
    pub key_1024: usize,
    /// Identities that need attention.
    pub attention: usize,
    /// Identities with a DNS problem (a record missing, wrong or malformed).
    pub dns_problem: usize,
    /// Identities with records not checked yet (or whose check could not complete).
    pub dns_unchecked: usize,
}

/// Positions in `identities` in the table's order for `sort` and `descending`: what every
/// page and download walks. Built once per snapshot and column, not per request.
pub fn table_order<I: Borrow<Identity>>(
    identities: &[I],
    sort: SortColumn,
    descending: bool,
) -> Vec<u32> {
    // u32: SES allows 10,000 identities per account and region; far below 4 billion.
    let mut order: Vec<u32> = (0..identities.len())
        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        .collect();
    order.sort_unstable_by(|a, b| {
        in_table_order(
            identities[*a as usize].borrow(),
            identities[*b as usize].borrow(),
            sort,
            descending,
        )
    });
    order
}

/// The identities `query` keeps, in `order` (positions in `identities`), of those the
/// index let through (`candidates`): what the table pages through and what "download the
/// filtered table" writes. Attention and DNS health are looked at here, per identity left:
/// they depend on the time and the DNS reports, not on the snapshot alone.
#[cfg(feature = "ssr")]
pub fn matches<'a: 'q, 'q, I: Borrow<Identity>>(
    identities: &'a [I],
    order: &'q [u32],
    candidates: &'q Candidates,
    query: &'q TableQuery,
    dns: &'q DnsHealths,
    now: UnixSeconds,
) -> impl Iterator<Item = &'a Identity> + Clone + 'q {
    order
        .iter()
        .filter(|position| candidates.keeps(**position))
        .filter_map(|position| identities.get(*position as usize).map(I::borrow))
        .filter(move |identity| {
            (!query.attention || attention(identity, now).is_some())
                && query
                    .dns
                    .is_none_or(|want| health_of(dns, identity) == Some(want))
        })
}

/// The table's order for `sort` and `descending`: the column, then account, region and
/// name, so no two identities compare equal and any sort gives the same rows.
pub(super) fn in_table_order(
    a: &Identity,
    b: &Identity,
    sort: SortColumn,
    descending: bool,
) -> Ordering {
    let primary = compare(a, b, sort);
    let primary = if descending {
        primary.reverse()
    } else {
        primary
    };
    primary.then_with(|| (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name)))
}

/// The page `query` asks for of `matching` (what it selects of `total` identities, in its
/// order, from [`matches`]): counted in one pass that keeps only the page's rows (a
/// second pass finds the last page when the one asked for is past the end).
pub fn page_of<'a>(
    matching: impl Iterator<Item = &'a Identity> + Clone,
    total: usize,
    query: &TableQuery,
    dns: &DnsHealths,
    now: UnixSeconds,
) -> TablePage {
    let per_page = query.per_page.max(1);
    let window = |page: usize| (page - 1) * per_page..page * per_page;
    let asked = window(query.page.max(1));
    let mut count = 0;
    let mut shown = Vec::with_capacity(per_page);
    for identity in matching.clone() {
        if asked.contains(&count) {
            shown.push(identity);
        }
        count += 1;
    }
    let pages = count.div_ceil(per_page).max(1);
    let page = query.page.clamp(1, pages);
    if window(page) != asked {
        shown = matching.skip(window(page).start).take(per_page).collect();
    }
    let rows = shown
        .into_iter()
        .map(|identity| TableRow {
            identity: identity.clone(),
            attention: attention(identity, now),
            dns: health_of(dns, identity),
        })
        .collect();
    TablePage {
        rows,
        matching: count,
        total,
        page,
        pages,
        per_page,
    }
}

/// The summary strip's counts over all identities.
pub fn facets<I: Borrow<Identity>>(identities: &[I], dns: &DnsHealths, now: UnixSeconds) -> Facets {
    let mut facets = Facets {
        by_origin: OriginFilter::ALL.into_iter().map(|o| (o, 0)).collect(),
        ..Facets::default()
    };
    for identity in identities {
        facets.count(identity.borrow(), dns, now, true);
    }
    facets
}

impl Facets {
    /// Counts `identity` in (`counted`), or takes it out again (with the healths and time
    /// it was counted with): what a change of a few identities changes in the strip.
    pub fn count(
        &mut self,
        identity: &Identity,
        dns: &DnsHealths,
        now: UnixSeconds,
        counted: bool,
    ) {
        let step = |count: &mut usize, applies: bool| {
            if applies {
                *count = if counted {
                    *count + 1
                } else {
                    count.saturating_sub(1)
                };
            }
        };
        for (origin, count) in &mut self.by_origin {
            step(count, origin.matches(identity.dkim.origin.as_ref()));
        }
        step(&mut self.signing_off, !identity.dkim.signing_enabled);
        step(&mut self.key_1024, is_1024(identity));
        step(&mut self.attention, attention(identity, now).is_some());
        match health_of(dns, identity) {
            Some(DnsHealth::Problem) => step(&mut self.dns_problem, true),
            Some(DnsHealth::Unchecked) => step(&mut self.dns_unchecked, true),
            Some(DnsHealth::Ok) | None => {}
        }
    }
}

/// The regions and accounts present, sorted: the choices of the filter form.
pub fn choices<I: Borrow<Identity>>(identities: &[I]) -> (Vec<String>, Vec<String>) {
    let (mut regions, mut accounts) = (BTreeSet::new(), BTreeSet::new());
    let mut last = None;
    for identity in identities.iter().map(I::borrow) {
        let target = (identity.account.as_str(), identity.region.as_str());
        // A snapshot lists each target's identities together: one insert per target.
        if last != Some(target) {
            accounts.insert(target.0);
            regions.insert(target.1);
            last = Some(target);
        }
    }
    (
        regions.into_iter().map(str::to_owned).collect(),
        accounts.into_iter().map(str::to_owned).collect(),
    )
}

fn is_1024(identity: &Identity) -> bool {
    identity.dkim.current_key_length == Some(KeyLength::Rsa1024)
}

/// The order of one column, ascending; the caller breaks ties by account, region, name.
fn compare(a: &Identity, b: &Identity, column: SortColumn) -> Ordering {
    match column {
        SortColumn::Name => a.name.cmp(&b.name),
        SortColumn::Type => a.identity_type.as_ses().cmp(b.identity_type.as_ses()),
        SortColumn::Location => (&a.account, &a.region).cmp(&(&b.account, &b.region)),
        SortColumn::Status => severity(&a.dkim.status).cmp(&severity(&b.dkim.status)),
        SortColumn::Origin => {
            origin_rank(a.dkim.origin.as_ref()).cmp(&origin_rank(b.dkim.origin.as_ref()))
        }
        SortColumn::KeyLength => key_rank(a).cmp(&key_rank(b)),
        SortColumn::Signing => a.dkim.signing_enabled.cmp(&b.dkim.signing_enabled),
        // Never-generated keys last.
        SortColumn::KeyGenerated => {
            match (a.dkim.last_key_generation, b.dkim.last_key_generation) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        SortColumn::Read => a.read_at.cmp(&b.read_at),
    }
}

/// Worst first: sorting by status puts what needs work at the top.
fn severity(status: &DkimStatus) -> u8 {
    match status {
        DkimStatus::Failed => 0,
        DkimStatus::TemporaryFailure => 1,
        DkimStatus::Pending => 2,
        DkimStatus::NotStarted => 3,
        DkimStatus::Success => 4,
        DkimStatus::Unknown(_) => 5,
    }
}

fn origin_rank(origin: Option<&SigningOrigin>) -> (u8, &str) {
    match origin {
        Some(SigningOrigin::EasyDkim) => (0, ""),
        Some(SigningOrigin::Byodkim) => (1, ""),
        Some(SigningOrigin::Replica { parent_region }) => (2, parent_region),
        Some(SigningOrigin::Unknown(other)) => (3, other),
        None => (4, ""),
    }
}

fn key_rank(identity: &Identity) -> (u8, &str) {
    match &identity.dkim.current_key_length {
        Some(KeyLength::Rsa1024) => (0, ""),
        Some(KeyLength::Rsa2048) => (1, ""),
        Some(KeyLength::Unknown(other)) => (2, other),
        None => (3, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::IdentityKey;
    use crate::model::IdentityType;
    use crate::table::index::TableIndex;
    use std::collections::HashSet;

    fn names(page: &TablePage) -> Vec<&str> {
        page.rows.iter().map(|r| r.identity.name.as_str()).collect()
    }

    fn many(n: usize) -> Vec<Identity> {
        (0..n)
            .map(|i| {
                let status = DkimStatus::KNOWN[i % 5].clone();
                let mut identity = domain(&format!("d{i:05}.example"), status);
                identity.region = if i % 2 == 0 { "us-east-1" } else { "eu-west-1" }.into();
                identity
            })
            .collect()
    }

    /// What `query` keeps of `all` (of those in `changed`, when given), in its order, as
    /// the server finds it (without the shared order and index).
    fn matching<'a>(
        all: &'a [Identity],
        query: &TableQuery,
        dns: &DnsHealths,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> Vec<&'a Identity> {
        let order = table_order(all, query.sort, query.descending);
        let changed: Option<Vec<usize>> = changed.map(|changed| {
            (0..all.len())
                .filter(|at| changed.contains(&all[*at].key()))
                .collect()
        });
        let candidates = TableIndex::new(all).candidates(all, query, changed.as_deref());
        matches(all, &order, &candidates, query, dns, now).collect()
    }

    /// The page `query` asks for, as the server builds it.
    fn select(
        all: &[Identity],
        query: &TableQuery,
        dns: &DnsHealths,
        changed: Option<&HashSet<IdentityKey>>,
        now: UnixSeconds,
    ) -> TablePage {
        let selected = matching(all, query, dns, changed, now);
        page_of(selected.into_iter(), all.len(), query, dns, now)
    }

    #[test]
    fn the_order_is_the_same_whatever_order_the_identities_come_in() {
        // Ties on every column (statuses, regions, types repeat): the order within a tie
        // comes from account, region and name, in both directions.
        let all = many(137);
        let mut reversed = all.clone();
        reversed.reverse();
        for sort in SortColumn::ALL {
            for descending in [false, true] {
                let names = |identities: &[Identity]| -> Vec<String> {
                    table_order(identities, sort, descending)
                        .into_iter()
                        .map(|at| identities[at as usize].name.clone())
                        .collect()
                };
                assert_eq!(names(&all), names(&reversed), "{sort:?} desc={descending}");
            }
        }
    }

    #[test]
    fn pages_cut_the_sorted_selection_and_clamp_past_the_end() {
        let all = many(120);
        let query = TableQuery {
            per_page: 50,
            ..TableQuery::default()
        };
        let first = select(&all, &query, &DnsHealths::default(), None, 0);
        assert_eq!((first.matching, first.total, first.pages), (120, 120, 3));
        assert_eq!(first.rows.len(), 50);
        assert_eq!(first.rows[0].identity.name, "d00000.example");
        let last = select(&all, &query.with_page(3), &DnsHealths::default(), None, 0);
        assert_eq!(names(&last).len(), 20);
        assert_eq!(last.rows[19].identity.name, "d00119.example");
        let past = select(&all, &query.with_page(99), &DnsHealths::default(), None, 0);
        assert_eq!((past.page, past.rows.len()), (3, 20));
    }

    #[test]
    fn filters_combine() {
        let all = many(100);
        let query = TableQuery::from_query_string("status=FAILED&region=us-east-1&q=D0001");
        let page = select(&all, &query, &DnsHealths::default(), None, 0);
        // Failed is every 5th (i % 5 == 3), us-east-1 the even ones, names d0001x.
        assert_eq!(names(&page), ["d00018.example"]);
        assert_eq!(page.matching, 1);
        let none = select(
            &all,
            &TableQuery::from_query_string("q=nothing-like-this"),
            &DnsHealths::default(),
            None,
            0,
        );
        assert_eq!((none.matching, none.pages, none.rows.len()), (0, 1, 0));
    }

    #[test]
    fn status_sort_puts_failures_first_and_descending_reverses() {
        let all = many(10);
        let by_status = TableQuery::default().sorted_by(SortColumn::Status);
        let page = select(&all, &by_status, &DnsHealths::default(), None, 0);
        let statuses: Vec<&DkimStatus> =
            page.rows.iter().map(|r| &r.identity.dkim.status).collect();
        assert_eq!(statuses[0], &DkimStatus::Failed);
        assert_eq!(statuses[9], &DkimStatus::Success);
        // Ties keep account, region, name order in both directions (odd numbers are eu-west-1).
        assert_eq!(names(&page)[..2], ["d00003.example", "d00008.example"]);
        let reversed = select(
            &all,
            &by_status.sorted_by(SortColumn::Status),
            &DnsHealths::default(),
            None,
            0,
        );
        assert_eq!(reversed.rows[0].identity.dkim.status, DkimStatus::Success);
        assert_eq!(names(&reversed)[..2], ["d00005.example", "d00000.example"]);
    }

    #[test]
    fn facets_count_each_strip_entry() {
        let mut all = many(10);
        all[0].dkim.origin = Some(SigningOrigin::Byodkim);
        all[1].dkim.origin = Some(SigningOrigin::Replica {
            parent_region: "us-east-1".into(),
        });
        all[2].dkim.origin = None;
        all[3].dkim.current_key_length = Some(KeyLength::Rsa1024);
        all[4].dkim.signing_enabled = false;
        all[4].identity_type = IdentityType::EmailAddress;
        let facets = facets(&all, &DnsHealths::default(), 0);
        assert_eq!(
            facets.by_origin,
            vec![
                (OriginFilter::Easy, 7),
                (OriginFilter::Byodkim, 1),
                (OriginFilter::Replica, 1)
            ]
        );
        assert_eq!((facets.signing_off, facets.key_1024), (1, 1));
        // Failed (3, 8) and temporary failure (2, 7).
        assert_eq!(facets.attention, 4);
        let attention = select(
            &all,
            &TableQuery::from_query_string("attention=1"),
            &DnsHealths::default(),
            None,
            0,
        );
        assert_eq!(attention.matching, facets.attention);
        assert!(attention.rows.iter().all(|r| r.attention.is_some()));
    }

    #[test]
    fn a_strip_counted_again_for_what_changed_equals_one_counted_anew() {
        let before = many(10);
        let dns: DnsHealths = before
            .iter()
            .enumerate()
            .map(|(i, identity)| {
                let health = if i % 3 == 0 {
                    DnsHealth::Problem
                } else {
                    DnsHealth::Unchecked
                };
                (identity.key(), health)
            })
            .collect();
        let mut after = before.clone();
        after[2].dkim.signing_enabled = false;
        after[2].dkim.origin = Some(SigningOrigin::Byodkim);
        after[5].dkim.status = DkimStatus::Failed;
        after[5].dkim.current_key_length = Some(KeyLength::Rsa1024);
        let mut counted = facets(&before, &dns, 0);
        for at in [2, 5] {
            counted.count(&before[at], &dns, 0, false);
            counted.count(&after[at], &dns, 0, true);
        }
        assert_eq!(counted, facets(&after, &dns, 0));
        assert_ne!(counted, facets(&before, &dns, 0));
    }

    #[test]
    fn the_changed_set_filters_like_the_other_filters() {
        let all = many(10);
        let changed: HashSet<IdentityKey> = [all[3].key(), all[7].key()].into();
        let query = TableQuery::from_query_string("per=1");
        let page = select(&all, &query, &DnsHealths::default(), Some(&changed), 0);
        assert_eq!((page.matching, page.total, page.pages), (2, 10, 2));
        let both = matching(&all, &query, &DnsHealths::default(), Some(&changed), 0);
        let mut names: Vec<&str> = both.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, [all[3].name.as_str(), all[7].name.as_str()]);
    }

    #[test]
    fn choices_list_each_region_and_account_once() {
        let (regions, accounts) = choices(&many(10));
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(accounts, ["prod"]);
    }

    #[test]
    fn the_dns_filter_and_counts_use_the_reports() {
        let mut all = many(10);
        // The last one has no DKIM records, so no DNS health at all.
        for identity in &mut all[..9] {
            identity.dkim.tokens = vec!["tok".into()];
        }
        let mut dns = DnsHealths::default();
        dns.insert(all[0].key(), DnsHealth::Problem);
        dns.insert(all[1].key(), DnsHealth::Ok);
        let problems = select(
            &all,
            &TableQuery::from_query_string("dns=problem"),
            &dns,
            None,
            0,
        );
        assert_eq!(names(&problems), [all[0].name.as_str()]);
        assert_eq!(problems.rows[0].dns, Some(DnsHealth::Problem));
        let unchecked = select(
            &all,
            &TableQuery::from_query_string("dns=unchecked"),
            &dns,
            None,
            0,
        );
        let with_records = 9;
        assert_eq!(unchecked.matching, with_records - 2);
        let counts = facets(&all, &dns, 0);
        assert_eq!(
            (counts.dns_problem, counts.dns_unchecked),
            (1, with_records - 2)
        );
    }
}
