//! The simulated Route 53's hosted zones, record sets and changes, with the rules the
//! Route 53 API reference gives them: names kept in lower case with a final dot, listings
//! in the order of their labels reversed, and change batches that are validated as a whole
//! and then applied whole or not at all.

use std::collections::BTreeMap;

use crate::model::UnixSeconds;

/// Route 53 returns at most 100 zones and 300 record sets per page.
pub const MAX_ZONES_PER_PAGE: usize = 100;
pub const MAX_RECORD_SETS_PER_PAGE: usize = 300;
/// The longest character-string a TXT value may hold (RFC 1035 §3.3).
const TXT_STRING_MAX: usize = 255;

/// One hosted zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// `Z` and 13 characters; listed as `/hostedzone/<id>`.
    pub id: String,
    /// Lower case, final dot.
    pub name: String,
    pub caller_reference: String,
    pub comment: Option<String>,
    pub private: bool,
    /// The four servers of its delegation set, without final dots (as Route 53 lists them).
    pub name_servers: Vec<String>,
    /// By (name in listing order, type).
    pub record_sets: BTreeMap<(String, String), RecordSet>,
}

impl Zone {
    /// An empty public hosted zone `name` with id `id` (its caller reference too), no
    /// delegation set.
    pub fn public(id: &str, name: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            caller_reference: id.into(),
            comment: None,
            private: false,
            name_servers: Vec::new(),
            record_sets: BTreeMap::new(),
        }
    }
}

/// One record set: a name, a type and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    /// Lower case, final dot.
    pub name: String,
    /// Upper case: `CNAME`, `TXT`, …
    pub record_type: String,
    pub ttl: u32,
    /// As given: a TXT value keeps its quotes.
    pub values: Vec<String>,
}

/// One change batch's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeInfo {
    /// `C` and 13 characters; listed as `/change/<id>`.
    pub id: String,
    pub submitted_at: UnixSeconds,
    /// The same in milliseconds, for how long the change stays PENDING (whole seconds
    /// would make that anything from one second less than asked).
    pub submitted_at_ms: i64,
    pub comment: Option<String>,
}

/// One change of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub record_set: RecordSet,
}

/// `CREATE`, `DELETE` or `UPSERT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

impl Action {
    /// The API's word, parsed.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "CREATE" => Some(Self::Create),
            "DELETE" => Some(Self::Delete),
            "UPSERT" => Some(Self::Upsert),
            _ => None,
        }
    }
}

/// A refused call, as Route 53 names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    NoSuchHostedZone(String),
    NoSuchChange(String),
    /// The messages of every change that could not be made; nothing was changed.
    InvalidChangeBatch(Vec<String>),
    InvalidInput(String),
    InvalidDomainName(String),
    HostedZoneAlreadyExists(String),
}

/// Every zone and change of the simulated account.
#[derive(Debug, Default)]
pub struct Store {
    /// By id.
    zones: BTreeMap<String, Zone>,
    changes: BTreeMap<String, ChangeInfo>,
}

impl Store {
    /// Adds a zone (CreateHostedZone). The same caller reference twice is refused.
    pub fn create_zone(&mut self, zone: Zone) -> Result<Zone, Refused> {
        if self
            .zones
            .values()
            .any(|z| z.caller_reference == zone.caller_reference)
        {
            return Err(Refused::HostedZoneAlreadyExists(format!(
                "A hosted zone has already been created with the specified caller reference {}.",
                zone.caller_reference
            )));
        }
        let zone = Zone {
            name: canonical(&zone.name)
                .ok_or_else(|| Refused::InvalidDomainName(zone.name.clone()))?,
            ..zone
        };
        self.zones.insert(zone.id.clone(), zone.clone());
        Ok(zone)
    }

    /// One zone by id (a `/hostedzone/` prefix is allowed).
    pub fn zone(&self, id: &str) -> Result<&Zone, Refused> {
        let id = bare(id, "hostedzone");
        self.zones
            .get(id)
            .ok_or_else(|| Refused::NoSuchHostedZone(format!("No hosted zone found with ID: {id}")))
    }

    /// ListHostedZonesByName: zones in the order of their reversed labels, from `dns_name`
    /// (and, among zones of that name, from `zone_id`) on; not a filter. Returns the page and
    /// the first zone of the next one.
    pub fn zones_by_name(
        &self,
        dns_name: Option<&str>,
        zone_id: Option<&str>,
        max_items: usize,
    ) -> Result<(Vec<&Zone>, Option<&Zone>), Refused> {
        if zone_id.is_some() && dns_name.is_none() {
            return Err(Refused::InvalidInput(
                "The hostedzoneid parameter requires the dnsname parameter.".into(),
            ));
        }
        let start = match dns_name {
            Some(name) => Some(listing_key(
                &canonical(name).ok_or_else(|| Refused::InvalidDomainName(name.into()))?,
            )),
            None => None,
        };
        let mut zones: Vec<&Zone> = self.zones.values().collect();
        zones.sort_by(|a, b| (listing_key(&a.name), &a.id).cmp(&(listing_key(&b.name), &b.id)));
        let from = zones
            .iter()
            .position(|z| match &start {
                None => true,
                Some(key) => {
                    let here = listing_key(&z.name);
                    here > *key
                        || (here == *key
                            && zone_id.is_none_or(|id| z.id.as_str() >= bare(id, "hostedzone")))
                }
            })
            .unwrap_or(zones.len());
        let rest = &zones[from..];
        let page = rest.iter().take(max_items).copied().collect();
        Ok((page, rest.get(max_items).copied()))
    }

    /// ListResourceRecordSets: the zone's record sets from (`name`, `record_type`) on.
    pub fn record_sets(
        &self,
        zone_id: &str,
        name: Option<&str>,
        record_type: Option<&str>,
        max_items: usize,
    ) -> Result<(Vec<&RecordSet>, Option<&RecordSet>), Refused> {
        let zone = self.zone(zone_id)?;
        if record_type.is_some() && name.is_none() {
            return Err(Refused::InvalidInput(
                "The input is not valid: type requires name".into(),
            ));
        }
        let start = match name {
            Some(name) => Some((
                listing_key(
                    &canonical(name)
                        .ok_or_else(|| Refused::InvalidInput(format!("Invalid name {name}")))?,
                ),
                record_type.unwrap_or("").to_ascii_uppercase(),
            )),
            None => None,
        };
        let rest: Vec<&RecordSet> = zone
            .record_sets
            .iter()
            .filter(|(key, _)| start.as_ref().is_none_or(|s| *key >= s))
            .map(|(_, set)| set)
            .collect();
        let page = rest.iter().take(max_items).copied().collect();
        Ok((page, rest.get(max_items).copied()))
    }

    /// ChangeResourceRecordSets: every change checked against the zone as the changes
    /// before it in the batch left it; all made, or none and every problem named.
    pub fn change(
        &mut self,
        zone_id: &str,
        changes: &[Change],
        info: ChangeInfo,
    ) -> Result<ChangeInfo, Refused> {
        let zone = self.zone(zone_id)?;
        let zone_name = zone.name.clone();
        let mut sets = zone.record_sets.clone();
        let mut problems = Vec::new();
        for change in changes {
            if let Err(problem) = apply(&mut sets, &zone_name, change) {
                problems.push(problem);
            }
        }
        if !problems.is_empty() {
            return Err(Refused::InvalidChangeBatch(problems));
        }
        let id = zone.id.clone();
        self.zones
            .get_mut(&id)
            .expect("zone read above")
            .record_sets = sets;
        self.changes.insert(info.id.clone(), info.clone());
        Ok(info)
    }

    /// GetChange.
    pub fn change_info(&self, id: &str) -> Result<&ChangeInfo, Refused> {
        let id = bare(id, "change");
        self.changes.get(id).ok_or_else(|| {
            Refused::NoSuchChange(format!(
                "A change with the specified change ID {id} does not exist."
            ))
        })
    }

    /// Every zone, for the control API.
    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.values()
    }
}

fn apply(
    sets: &mut BTreeMap<(String, String), RecordSet>,
    zone: &str,
    change: &Change,
) -> Result<(), String> {
    let given = &change.record_set;
    let Some(name) = canonical(&given.name) else {
        return Err(format!("Invalid name {}", given.name));
    };
    let record_type = given.record_type.to_ascii_uppercase();
    let described = format!("[name='{name}', type='{record_type}']");
    if !(name == zone || name.ends_with(&format!(".{zone}"))) {
        return Err(format!(
            "RRSet with DNS name {name} is not permitted in zone {zone}"
        ));
    }
    let key = (listing_key(&name), record_type.clone());
    let set = RecordSet {
        name: name.clone(),
        record_type: record_type.clone(),
        ..given.clone()
    };
    match change.action {
        Action::Delete => match sets.get(&key) {
            None => Err(format!(
                "Tried to delete resource record set {described} but it was not found"
            )),
            Some(held) if held.ttl != set.ttl || !same_values(&held.values, &set.values) => {
                Err(format!(
                    "Tried to delete resource record set {described} but the values provided do not match the current values"
                ))
            }
            Some(_) => {
                sets.remove(&key);
                Ok(())
            }
        },
        Action::Create | Action::Upsert => {
            if change.action == Action::Create && sets.contains_key(&key) {
                return Err(format!(
                    "Tried to create resource record set {described} but it already exists"
                ));
            }
            check_values(&set)?;
            let others: Vec<&str> = sets
                .values()
                .filter(|s| s.name == name && s.record_type != record_type)
                .map(|s| s.record_type.as_str())
                .collect();
            if record_type == "CNAME" && !others.is_empty() {
                return Err(format!(
                    "RRSet of type CNAME with DNS name {name} is not permitted as it conflicts with other records with the same DNS name in zone {zone}"
                ));
            }
            if others.contains(&"CNAME") {
                // Route 53's message has the double space.
                return Err(format!(
                    "RRSet of type {record_type} with DNS name {name} is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone {zone}"
                ));
            }
            sets.insert(key, set);
            Ok(())
        }
    }
}

/// The values a record type accepts: one CNAME target; TXT strings in quotes, none longer
/// than 255 characters.
fn check_values(set: &RecordSet) -> Result<(), String> {
    if set.values.is_empty() {
        return Err(format!(
            "Invalid Resource Record: no value given for {} {}",
            set.record_type, set.name
        ));
    }
    match set.record_type.as_str() {
        "CNAME" if set.values.len() > 1 => Err(format!(
            "RRSet of type CNAME with DNS name {} has more than one value",
            set.name
        )),
        "TXT" => set.values.iter().try_for_each(|value| {
            let strings = crate::publish::txt::strings(value).ok_or_else(|| {
                format!(
                    "Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '{value}'"
                )
            })?;
            if strings.iter().any(|s| s.len() > TXT_STRING_MAX) {
                return Err(format!(
                    "Invalid Resource Record: FATAL problem: TXTRDATATooLong (Value contains a string longer than 255 characters) encountered with '{value}'"
                ));
            }
            Ok(())
        }),
        _ => Ok(()),
    }
}

fn same_values(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

/// A name as Route 53 keeps it: lower case, one final dot. `None` for an empty label or a
/// name over 255 characters.
pub fn canonical(name: &str) -> Option<String> {
    let bare = name.trim_end_matches('.');
    if bare.is_empty() || bare.len() > 254 || bare.split('.').any(str::is_empty) {
        return None;
    }
    Some(format!("{}.", bare.to_ascii_lowercase()))
}

/// The order Route 53 lists names in: labels reversed (`www.example.com.` → `com.example.www.`).
fn listing_key(canonical_name: &str) -> String {
    let labels: Vec<&str> = canonical_name.trim_end_matches('.').split('.').collect();
    let mut key: String = labels.into_iter().rev().collect::<Vec<_>>().join(".");
    key.push('.');
    key
}

/// An id without its `/hostedzone/` or `/change/` prefix.
fn bare<'a>(id: &'a str, kind: &str) -> &'a str {
    id.trim_start_matches('/')
        .strip_prefix(kind)
        .map_or(id, |rest| rest.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, name: &str) -> Zone {
        Zone {
            name_servers: vec!["ns-1.awsdns-01.org".into()],
            ..Zone::public(id, name)
        }
    }

    fn set(name: &str, record_type: &str, value: &str) -> RecordSet {
        RecordSet {
            name: name.into(),
            record_type: record_type.into(),
            ttl: 1800,
            values: vec![value.into()],
        }
    }

    fn change(action: Action, set: RecordSet) -> Change {
        Change {
            action,
            record_set: set,
        }
    }

    fn info(id: &str) -> ChangeInfo {
        ChangeInfo {
            id: id.into(),
            submitted_at: 0,
            submitted_at_ms: 0,
            comment: None,
        }
    }

    fn store() -> Store {
        let mut store = Store::default();
        store.create_zone(zone("ZA", "Example.com")).unwrap();
        store
    }

    #[test]
    fn a_batch_with_one_bad_change_changes_nothing_and_names_each_problem() {
        let mut store = store();
        let first = set("a._domainkey.example.com", "CNAME", "a.dkim.amazonses.com");
        store
            .change("ZA", &[change(Action::Create, first.clone())], info("C1"))
            .unwrap();
        let err = store
            .change(
                "/hostedzone/ZA",
                &[
                    change(
                        Action::Create,
                        set("b._domainkey.example.com", "CNAME", "b.x"),
                    ),
                    change(Action::Create, first.clone()),
                    change(Action::Delete, set("c.example.com", "CNAME", "c.x")),
                ],
                info("C2"),
            )
            .unwrap_err();
        assert_eq!(
            err,
            Refused::InvalidChangeBatch(vec![
                "Tried to create resource record set [name='a._domainkey.example.com.', type='CNAME'] but it already exists".into(),
                "Tried to delete resource record set [name='c.example.com.', type='CNAME'] but it was not found".into(),
            ])
        );
        let (sets, _) = store.record_sets("ZA", None, None, 300).unwrap();
        assert_eq!(sets.len(), 1, "b was not created: {sets:?}");
    }

    #[test]
    fn a_delete_must_match_the_values_and_a_delete_then_create_replaces() {
        let mut store = store();
        let old = set(
            "a._domainkey.example.com",
            "CNAME",
            "old.dkim.amazonses.com",
        );
        store
            .change("ZA", &[change(Action::Create, old.clone())], info("C1"))
            .unwrap();
        let wrong = set("a._domainkey.example.com", "CNAME", "other.example");
        let err = store
            .change("ZA", &[change(Action::Delete, wrong)], info("C2"))
            .unwrap_err();
        assert!(matches!(&err, Refused::InvalidChangeBatch(m) if m[0].contains("do not match")));
        let new = set("A._domainkey.example.com.", "CNAME", "a.dkim.amazonses.com");
        store
            .change(
                "ZA",
                &[change(Action::Delete, old), change(Action::Create, new)],
                info("C3"),
            )
            .unwrap();
        let (sets, _) = store
            .record_sets("ZA", Some("a._domainkey.example.com"), Some("CNAME"), 1)
            .unwrap();
        assert_eq!(sets[0].values, vec!["a.dkim.amazonses.com".to_string()]);
        assert_eq!(sets[0].name, "a._domainkey.example.com.");
    }

    #[test]
    fn a_cname_shares_its_name_with_nothing() {
        let mut store = store();
        store
            .change(
                "ZA",
                &[change(
                    Action::Create,
                    set("x.example.com", "TXT", "\"hello\""),
                )],
                info("C1"),
            )
            .unwrap();
        let err = store
            .change(
                "ZA",
                &[change(
                    Action::Create,
                    set("x.example.com", "CNAME", "y.example"),
                )],
                info("C2"),
            )
            .unwrap_err();
        assert!(
            matches!(&err, Refused::InvalidChangeBatch(m) if m[0].contains("conflicts with other records"))
        );
        store
            .change(
                "ZA",
                &[change(
                    Action::Create,
                    set("y.example.com", "CNAME", "z.example"),
                )],
                info("C3"),
            )
            .unwrap();
        let err = store
            .change(
                "ZA",
                &[change(Action::Create, set("y.example.com", "TXT", "\"v\""))],
                info("C4"),
            )
            .unwrap_err();
        assert!(matches!(&err, Refused::InvalidChangeBatch(m) if m[0].contains("type  CNAME")));
    }

    #[test]
    fn txt_strings_are_quoted_and_at_most_255_long() {
        let mut store = store();
        let long = "a".repeat(256);
        for value in ["unquoted", &format!("\"{long}\"")] {
            let err = store
                .change(
                    "ZA",
                    &[change(Action::Create, set("s.example.com", "TXT", value))],
                    info("C1"),
                )
                .unwrap_err();
            assert!(
                matches!(&err, Refused::InvalidChangeBatch(m) if m[0].starts_with("Invalid Resource Record")),
                "{err:?}"
            );
        }
        let split = format!("\"{}\" \"{}\"", "a".repeat(255), "b");
        store
            .change(
                "ZA",
                &[change(Action::Create, set("s.example.com", "TXT", &split))],
                info("C2"),
            )
            .unwrap();
    }

    #[test]
    fn zones_are_listed_by_reversed_labels_from_the_name_on() {
        let mut store = Store::default();
        for (id, name) in [
            ("Z1", "b.example.com"),
            ("Z2", "example.org"),
            ("Z3", "example.com"),
            ("Z4", "a.example.com"),
        ] {
            store.create_zone(zone(id, name)).unwrap();
        }
        let names = |page: Vec<&Zone>| page.iter().map(|z| z.name.clone()).collect::<Vec<_>>();
        let (page, next) = store.zones_by_name(Some("example.com"), None, 2).unwrap();
        assert_eq!(names(page), ["example.com.", "a.example.com."]);
        assert_eq!(next.unwrap().name, "b.example.com.");
        // Not a filter: a name with no zone starts the listing at the next one.
        let (page, _) = store
            .zones_by_name(Some("aa.example.com"), None, 1)
            .unwrap();
        assert_eq!(names(page), ["b.example.com."]);
        assert!(store.zones_by_name(None, Some("Z1"), 1).is_err());
    }

    #[test]
    fn the_same_caller_reference_twice_is_refused() {
        let mut store = store();
        let err = store.create_zone(zone("ZA", "other.com")).unwrap_err();
        assert!(matches!(err, Refused::HostedZoneAlreadyExists(_)));
    }
}
