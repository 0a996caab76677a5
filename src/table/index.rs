//! What the table's filters look at in each identity of one snapshot, kept by position in
//! a form a query walks fast: every name lowercased in one buffer (a text search is one
//! substring search over it) and the fields the filters compare packed in 16 bytes. At
//! 100,000 identities, filtering the identities themselves (scattered over the heap, each
//! name lowercased again per request) was most of a filtered page's 15 to 28 ms.

use std::borrow::Borrow;
use std::sync::Arc;

use memchr::memmem;

use super::query::{OriginFilter, TableQuery};
use super::select::choices;
use crate::model::{DkimStatus, Identity, IdentityType, KeyLength};

/// The filters' view of one snapshot's identities, by position.
#[derive(Debug)]
pub struct TableIndex {
    /// What does not change while the identities stay the same ones: their names, regions
    /// and accounts (shared by the indexes of the snapshots that follow).
    fixed: Arc<Fixed>,
    fields: Vec<Fields>,
}

#[derive(Debug)]
struct Fixed {
    names: Names,
    /// The regions present, sorted: a region's code is its place here.
    regions: Vec<String>,
    /// The account labels present, sorted.
    accounts: Vec<String>,
}

/// Every name lowercased, one after another.
#[derive(Debug)]
struct Names {
    text: String,
    /// Where each position's name starts in `text`; one more, its end.
    starts: Vec<usize>,
}

/// An identity's filtered fields as small codes (see the `*_code` functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fields {
    region: u32,
    account: u32,
    status: u8,
    identity_type: u8,
    origin: u8,
    key_length: u8,
    signing: bool,
}

/// The code of any value dkimdash does not know (SES's `Unknown` arms, no origin): a query
/// for such a value compares the identity's own value where the code says "other".
const OTHER: u8 = u8::MAX;

/// Which positions a query keeps, as far as the index decides (everything but the
/// attention and DNS filters, which depend on the time and the DNS reports).
#[derive(Clone, Debug)]
pub struct Candidates(Option<Vec<bool>>);

impl Candidates {
    /// Whether the identity at `position` passed the filters the index decides.
    pub fn keeps(&self, position: u32) -> bool {
        self.0
            .as_ref()
            .is_none_or(|kept| kept.get(position as usize).copied().unwrap_or(false))
    }
}

impl TableIndex {
    /// The index of `identities` (a snapshot's, sorted as snapshots are).
    pub fn new<I: Borrow<Identity>>(identities: &[I]) -> Self {
        let (regions, accounts) = choices(identities);
        let fixed = Fixed {
            names: Names::new(identities),
            regions,
            accounts,
        };
        let fields = identities
            .iter()
            .map(|identity| fixed.fields(identity.borrow()))
            .collect();
        Self {
            fixed: Arc::new(fixed),
            fields,
        }
    }

    /// The index of `identities`, the snapshot after the one this index is of, holding the
    /// same identities at the same positions; those at `changed` were read again.
    pub fn following<I: Borrow<Identity>>(&self, identities: &[I], changed: &[u32]) -> Self {
        let mut fields = self.fields.clone();
        for position in changed.iter().map(|p| *p as usize) {
            if let (Some(slot), Some(identity)) =
                (fields.get_mut(position), identities.get(position))
            {
                *slot = self.fixed.fields(identity.borrow());
            }
        }
        Self {
            fixed: self.fixed.clone(),
            fields,
        }
    }

    /// The regions present, sorted (the filter's choices).
    pub fn regions(&self) -> &[String] {
        &self.fixed.regions
    }

    /// The account labels present, sorted (the filter's choices).
    pub fn accounts(&self) -> &[String] {
        &self.fixed.accounts
    }

    /// The positions of `identities` (those this index is of) that `query` keeps by text,
    /// status, origin, region, account, type, signing and key length, and, when given,
    /// are among `changed` (positions).
    pub fn candidates<I: Borrow<Identity>>(
        &self,
        identities: &[I],
        query: &TableQuery,
        changed: Option<&[usize]>,
    ) -> Candidates {
        let wanted = Wanted::of(query, &self.fixed);
        let asks_fields = wanted.as_ref().is_none_or(Wanted::asks_anything);
        if !asks_fields && query.text.is_empty() && changed.is_none() {
            return Candidates(None);
        }
        let count = self.fields.len();
        let mut kept = match changed {
            None => vec![true; count],
            Some(changed) => {
                let mut among = vec![false; count];
                for position in changed.iter().filter(|p| **p < count) {
                    among[*position] = true;
                }
                among
            }
        };
        if !query.text.is_empty() {
            let named = self.fixed.names.containing(&query.text.to_lowercase());
            kept.iter_mut()
                .zip(named)
                .for_each(|(kept, named)| *kept &= named);
        }
        match wanted {
            None => kept.fill(false),
            Some(wanted) if wanted.asks_anything() => {
                for (position, kept) in kept.iter_mut().enumerate().filter(|(_, k)| **k) {
                    *kept = identities.get(position).is_some_and(|identity| {
                        wanted.keeps(&self.fields[position], identity.borrow())
                    });
                }
            }
            Some(_) => {}
        }
        Candidates(Some(kept))
    }
}

impl Fixed {
    fn fields(&self, identity: &Identity) -> Fields {
        let dkim = &identity.dkim;
        Fields {
            region: place(&self.regions, &identity.region),
            account: place(&self.accounts, &identity.account),
            status: status_code(&dkim.status),
            identity_type: type_code(&identity.identity_type),
            origin: OriginFilter::ALL
                .iter()
                .position(|group| group.matches(dkim.origin.as_ref()))
                .map_or(OTHER, code),
            key_length: key_length_code(dkim.current_key_length.as_ref()),
            signing: dkim.signing_enabled,
        }
    }
}

/// What a query asks of the fields; `None` for a filter it does not set.
#[derive(Debug)]
struct Wanted<'q> {
    query: &'q TableQuery,
    region: Option<u32>,
    account: Option<u32>,
    status: Option<u8>,
    identity_type: Option<u8>,
    origin: Option<u8>,
    key_length: Option<u8>,
    signing: Option<bool>,
}

impl<'q> Wanted<'q> {
    /// `None` when the query asks for a region or account no identity is in: nothing
    /// matches.
    fn of(query: &'q TableQuery, fixed: &Fixed) -> Option<Self> {
        let known = |list: &[String], wanted: &Option<String>| match wanted {
            None => Some(None),
            Some(value) => list.binary_search(value).ok().map(|at| Some(to_u32(at))),
        };
        Some(Self {
            query,
            region: known(&fixed.regions, &query.region)?,
            account: known(&fixed.accounts, &query.account)?,
            status: query.status.as_ref().map(status_code),
            identity_type: query.identity_type.as_ref().map(type_code),
            origin: query
                .origin
                .and_then(|o| OriginFilter::ALL.iter().position(|group| *group == o))
                .map(code),
            key_length: query.key_length.as_ref().map(|k| key_length_code(Some(k))),
            signing: query.signing,
        })
    }

    /// Whether the query sets any of the filters the fields decide.
    fn asks_anything(&self) -> bool {
        self.region.is_some()
            || self.account.is_some()
            || self.signing.is_some()
            || [
                self.status,
                self.identity_type,
                self.origin,
                self.key_length,
            ]
            .iter()
            .any(Option::is_some)
    }

    fn keeps(&self, fields: &Fields, identity: &Identity) -> bool {
        let same = |wanted: Option<u8>, have: u8, exact: &dyn Fn() -> bool| {
            wanted.is_none_or(|w| w == have && (w != OTHER || exact()))
        };
        let query = self.query;
        self.region.is_none_or(|r| r == fields.region)
            && self.account.is_none_or(|a| a == fields.account)
            && self.signing.is_none_or(|s| s == fields.signing)
            && same(self.status, fields.status, &|| {
                query.status.as_ref() == Some(&identity.dkim.status)
            })
            && same(self.identity_type, fields.identity_type, &|| {
                query.identity_type.as_ref() == Some(&identity.identity_type)
            })
            && same(self.origin, fields.origin, &|| false)
            && same(self.key_length, fields.key_length, &|| {
                query.key_length.as_ref() == identity.dkim.current_key_length.as_ref()
            })
    }
}

impl Names {
    fn new<I: Borrow<Identity>>(identities: &[I]) -> Self {
        let length = identities.iter().map(|i| i.borrow().name.len()).sum();
        let mut text = String::with_capacity(length);
        let mut starts = Vec::with_capacity(identities.len() + 1);
        for identity in identities {
            starts.push(text.len());
            let name = &identity.borrow().name;
            if name.is_ascii() {
                text.extend(name.chars().map(|c| c.to_ascii_lowercase()));
            } else {
                text.push_str(&name.to_lowercase());
            }
        }
        starts.push(text.len());
        Self { text, starts }
    }

    /// Which positions' names contain `lowercase` (lowercased already): one search of
    /// the whole text, moving to the next name after each hit.
    fn containing(&self, lowercase: &str) -> Vec<bool> {
        let count = self.starts.len() - 1;
        let mut found = vec![false; count];
        if count == 0 {
            return found;
        }
        let (text, finder) = (
            self.text.as_bytes(),
            memmem::Finder::new(lowercase.as_bytes()),
        );
        let mut from = 0;
        while from <= text.len() {
            let Some(at) = finder.find(&text[from..]).map(|at| from + at) else {
                break;
            };
            let position = (self.starts.partition_point(|start| *start <= at) - 1).min(count - 1);
            let end = self.starts[position + 1];
            if at + lowercase.len() <= end {
                found[position] = true;
                from = end.max(at + 1);
            } else {
                // The hit runs into the next name: look again from that name on.
                from = end;
            }
        }
        found
    }
}

/// `value`'s place in `sorted` (`u32::MAX`, matching no filter, if absent).
fn place(sorted: &[String], value: &str) -> u32 {
    sorted
        .binary_search_by(|v| v.as_str().cmp(value))
        .map_or(u32::MAX, to_u32)
}

fn to_u32(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

fn code(at: usize) -> u8 {
    u8::try_from(at).unwrap_or(OTHER)
}

fn status_code(status: &DkimStatus) -> u8 {
    DkimStatus::KNOWN
        .iter()
        .position(|known| known == status)
        .map_or(OTHER, code)
}

fn type_code(identity_type: &IdentityType) -> u8 {
    match identity_type {
        IdentityType::Domain => 0,
        IdentityType::EmailAddress => 1,
        IdentityType::ManagedDomain => 2,
        IdentityType::Unknown(_) => OTHER,
    }
}

fn key_length_code(key_length: Option<&KeyLength>) -> u8 {
    match key_length {
        None => 0,
        Some(KeyLength::Rsa1024) => 1,
        Some(KeyLength::Rsa2048) => 2,
        Some(KeyLength::Unknown(_)) => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::SigningOrigin;

    /// Identities over two accounts and regions, every status, type, origin and key
    /// length in turn, unknown values included, names in several cases and scripts.
    fn mixed(n: usize) -> Vec<Identity> {
        let mut all: Vec<Identity> = (0..n)
            .map(|i| {
                let status = match i % 7 {
                    5 => DkimStatus::Unknown("SOMETHING_NEW".into()),
                    6 => DkimStatus::Unknown("OTHER_NEW".into()),
                    at => DkimStatus::KNOWN[at].clone(),
                };
                let name = match i % 4 {
                    0 => format!("Mail{i}.Example.COM"),
                    1 => format!("bücher{i}.example"),
                    2 => format!("ops{i}@example.org"),
                    _ => format!("ÉTÉ{i}.example"),
                };
                let mut identity = domain(&name, status);
                identity.account = ["prod", "staging"][i % 2].into();
                identity.region = ["eu-west-1", "us-east-1", "ap-south-1"][i % 3].into();
                identity.identity_type = match i % 5 {
                    0 => IdentityType::EmailAddress,
                    1 => IdentityType::ManagedDomain,
                    2 => IdentityType::Unknown("NEW_KIND".into()),
                    _ => IdentityType::Domain,
                };
                identity.dkim.origin = match i % 6 {
                    0 => Some(SigningOrigin::Byodkim),
                    1 => Some(SigningOrigin::Replica {
                        parent_region: "us-east-1".into(),
                    }),
                    2 => None,
                    3 => Some(SigningOrigin::Unknown("NEW_ORIGIN".into())),
                    _ => Some(SigningOrigin::EasyDkim),
                };
                identity.dkim.current_key_length = match i % 4 {
                    0 => None,
                    1 => Some(KeyLength::Rsa1024),
                    2 => Some(KeyLength::Unknown("RSA_4096_BIT".into())),
                    _ => Some(KeyLength::Rsa2048),
                };
                identity.dkim.signing_enabled = i % 3 != 0;
                identity
            })
            .collect();
        // As a snapshot holds them.
        all.sort_by(|a, b| (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name)));
        all
    }

    /// Whether `query` keeps `identity`, compared field by field on the identity itself.
    fn kept_by_fields(identity: &Identity, query: &TableQuery) -> bool {
        let dkim = &identity.dkim;
        identity
            .name
            .to_lowercase()
            .contains(&query.text.to_lowercase())
            && query.status.as_ref().is_none_or(|s| *s == dkim.status)
            && query.origin.is_none_or(|o| o.matches(dkim.origin.as_ref()))
            && query.region.as_ref().is_none_or(|r| *r == identity.region)
            && query
                .account
                .as_ref()
                .is_none_or(|a| *a == identity.account)
            && query
                .identity_type
                .as_ref()
                .is_none_or(|t| *t == identity.identity_type)
            && query.signing.is_none_or(|on| on == dkim.signing_enabled)
            && query
                .key_length
                .as_ref()
                .is_none_or(|k| dkim.current_key_length.as_ref() == Some(k))
    }

    fn kept(
        index: &TableIndex,
        all: &[Identity],
        query: &str,
        changed: Option<&[usize]>,
    ) -> Vec<usize> {
        let candidates = index.candidates(all, &TableQuery::from_query_string(query), changed);
        (0..all.len())
            .filter(|at| candidates.keeps(*at as u32))
            .collect()
    }

    const QUERIES: [&str; 16] = [
        "",
        "q=EXAMPLE",
        "q=bücher1",
        "q=été",
        "q=@example.org",
        "q=combü",
        "status=pending",
        "status=something_new",
        "origin=replica&signing=off",
        "region=us-east-1&account=staging",
        "region=mars-north-1",
        "type=new_kind",
        "type=email_address&q=ops1",
        "key=1024&origin=easy",
        "status=failed&region=eu-west-1&key=2048&signing=on",
        "origin=byodkim&type=domain",
    ];

    #[test]
    fn the_index_keeps_what_comparing_each_identitys_fields_keeps() {
        let all = mixed(300);
        let index = TableIndex::new(&all);
        for query in QUERIES {
            let expected: Vec<usize> = (0..all.len())
                .filter(|at| kept_by_fields(&all[*at], &TableQuery::from_query_string(query)))
                .collect();
            assert_eq!(kept(&index, &all, query, None), expected, "{query}");
        }
        // Not vacuous: most queries keep some identities and none keeps all of them.
        assert!(kept(&index, &all, "status=something_new", None).len() > 10);
        assert!(kept(&index, &all, "q=combü", None).is_empty());
        assert!(kept(&index, &all, "region=mars-north-1", None).is_empty());
    }

    #[test]
    fn a_text_search_never_matches_across_two_names() {
        let all = vec![
            domain("ab", DkimStatus::Success),
            domain("cd", DkimStatus::Success),
        ];
        let index = TableIndex::new(&all);
        assert!(kept(&index, &all, "q=bc", None).is_empty());
        assert_eq!(kept(&index, &all, "q=B", None), [0]);
        assert_eq!(kept(&index, &all, "q=d", None), [1]);
        let none: Vec<Identity> = Vec::new();
        assert!(kept(&TableIndex::new(&none), &none, "q=a", None).is_empty());
    }

    #[test]
    fn changed_positions_narrow_what_the_filters_keep() {
        let all = mixed(60);
        let index = TableIndex::new(&all);
        let changed = [3, 4, 10, 59, 1000];
        let pending = kept(&index, &all, "status=pending", None);
        let expected: Vec<usize> = pending
            .into_iter()
            .filter(|at| changed.contains(at))
            .collect();
        assert_eq!(
            kept(&index, &all, "status=pending", Some(&changed)),
            expected
        );
        assert_eq!(kept(&index, &all, "", Some(&changed)), [3, 4, 10, 59]);
        assert!(kept(&index, &all, "", Some(&[])).is_empty());
    }

    #[test]
    fn the_index_of_the_next_snapshot_equals_one_built_anew() {
        let before = mixed(120);
        let mut after = before.clone();
        let changed = [0_u32, 17, 64, 119];
        for position in changed.iter().map(|p| *p as usize) {
            let dkim = &mut after[position].dkim;
            dkim.status = DkimStatus::Unknown("SOMETHING_NEW".into());
            dkim.origin = Some(SigningOrigin::Byodkim);
            dkim.signing_enabled = !dkim.signing_enabled;
            dkim.current_key_length = Some(KeyLength::Rsa2048);
        }
        let followed = TableIndex::new(&before).following(&after, &changed);
        let built = TableIndex::new(&after);
        assert_eq!(followed.fields, built.fields);
        assert_ne!(TableIndex::new(&before).fields, built.fields);
        assert_eq!(followed.regions(), ["ap-south-1", "eu-west-1", "us-east-1"]);
        assert_eq!(followed.accounts(), ["prod", "staging"]);
        for query in QUERIES {
            assert_eq!(
                kept(&followed, &after, query, None),
                kept(&built, &after, query, None)
            );
        }
    }
}
