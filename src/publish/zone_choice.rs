//! Pure: which of a provider's zones holds a record. The zone is the longest public zone
//! name that ends the record's name at a label boundary; several public zones of one name
//! (Route 53 allows it) are told apart by the nameservers the domain is delegated to.

use serde::{Deserialize, Serialize};

use super::plan::same_name;

/// A zone as the provider lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// The provider's id (`Z…` at Route 53, a hex id at Cloudflare).
    pub id: String,
    /// The zone's name, without the final dot.
    pub name: String,
    /// Private (VPC) zones never answer the public: records there fix nothing.
    pub private: bool,
    /// The nameservers the provider serves the zone from, without final dots.
    pub name_servers: Vec<String>,
}

/// Why no zone of a provider holds a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum NoZone {
    /// No public zone of the provider is the record's zone or a parent of it.
    #[error("no public zone of this provider holds {0}")]
    NotHeld(String),
    /// The zone exists but the provider's settings do not allow it.
    #[error("the zone {0} is not among the zones this provider may change (its `zones` setting)")]
    NotAllowed(String),
    /// Several public zones of that name, and none (or more than one) is the delegated one.
    #[error(
        "{count} public zones are named {name} and the domain is delegated to {}",
        describe_delegation(delegation)
    )]
    Ambiguous {
        name: String,
        count: usize,
        delegation: Option<Vec<String>>,
    },
}

fn describe_delegation(delegation: &Option<Vec<String>>) -> String {
    match delegation {
        Some(servers) => format!("{}, none of them alone", servers.join(", ")),
        None => "servers the DNS check has not read yet".into(),
    }
}

/// The zone for `record_name` among `zones`. `allowed`: the provider's `zones` setting
/// (names or ids; empty allows all). `delegation`: the nameservers the DNS check found the
/// domain delegated to, if it knows them.
pub fn choose<'a>(
    record_name: &str,
    zones: &'a [ZoneInfo],
    allowed: &[String],
    delegation: Option<&[String]>,
) -> Result<&'a ZoneInfo, NoZone> {
    let longest = zones
        .iter()
        .filter(|z| !z.private && is_within(record_name, &z.name))
        .map(|z| z.name.trim_end_matches('.').len())
        .max()
        .ok_or_else(|| NoZone::NotHeld(record_name.to_owned()))?;
    let named: Vec<&ZoneInfo> = zones
        .iter()
        .filter(|z| !z.private && is_within(record_name, &z.name))
        .filter(|z| z.name.trim_end_matches('.').len() == longest)
        .collect();
    let chosen = match named.as_slice() {
        [one] => *one,
        several => {
            let delegated: Vec<&ZoneInfo> = match delegation {
                Some(servers) => several
                    .iter()
                    .copied()
                    .filter(|z| same_servers(&z.name_servers, servers))
                    .collect(),
                None => Vec::new(),
            };
            match delegated.as_slice() {
                [one] => *one,
                _ => {
                    return Err(NoZone::Ambiguous {
                        name: several[0].name.clone(),
                        count: several.len(),
                        delegation: delegation.map(<[String]>::to_vec),
                    });
                }
            }
        }
    };
    let allowed_here = allowed.is_empty()
        || allowed
            .iter()
            .any(|a| same_name(a, &chosen.name) || a == &chosen.id || bare_id(a) == chosen.id);
    if allowed_here {
        Ok(chosen)
    } else {
        Err(NoZone::NotAllowed(chosen.name.clone()))
    }
}

/// The zone a provider holds for `record_name`: asks `zones_named` for each of the name's
/// suffixes, longest first, and chooses among the first that any zone carries that name.
/// `zones_named` gives the provider's usable zones (public, active) named exactly so.
pub async fn find<E, Ask, Answer>(
    record_name: &str,
    allowed: &[String],
    delegation: Option<&[String]>,
    mut zones_named: Ask,
) -> Result<ZoneInfo, E>
where
    Ask: FnMut(String) -> Answer,
    Answer: std::future::Future<Output = Result<Vec<ZoneInfo>, E>>,
    E: From<NoZone>,
{
    for candidate in suffixes(record_name) {
        let named = zones_named(candidate).await?;
        if !named.is_empty() {
            return choose(record_name, &named, allowed, delegation)
                .cloned()
                .map_err(E::from);
        }
    }
    Err(NoZone::NotHeld(record_name.to_owned()).into())
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`: the names a
/// zone holding it can have (never a bare top-level domain).
fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// Whether `name` is `zone` or below it, at a label boundary.
pub fn is_within(name: &str, zone: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let zone = zone.trim_end_matches('.').to_ascii_lowercase();
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// Route 53 ids come as `/hostedzone/Z…` or `Z…`.
fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn same_servers(a: &[String], b: &[String]) -> bool {
    let norm = |list: &[String]| {
        let mut out: Vec<String> = list
            .iter()
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    !a.is_empty() && norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_looked_for_from_the_longest_name() {
        assert_eq!(
            suffixes("t._domainkey.example.com."),
            [
                "t._domainkey.example.com",
                "_domainkey.example.com",
                "example.com"
            ]
        );
    }

    fn zone(id: &str, name: &str, private: bool, ns: &[&str]) -> ZoneInfo {
        ZoneInfo {
            id: id.into(),
            name: name.into(),
            private,
            name_servers: ns.iter().map(|s| s.to_string()).collect(),
        }
    }

    const RECORD: &str = "tok._domainkey.mail.example.com";

    #[test]
    fn the_longest_public_suffix_at_a_label_boundary_wins() {
        let zones = [
            zone("Z1", "example.com.", false, &[]),
            zone("Z2", "mail.example.com.", false, &[]),
            zone("Z3", "ail.example.com.", false, &[]),
            zone("Z4", "domainkey.mail.example.com.", true, &[]),
        ];
        assert_eq!(choose(RECORD, &zones, &[], None).unwrap().id, "Z2");
        // A private zone is never used, even the longest.
        let zones = [zone("Z4", "_domainkey.mail.example.com", true, &[])];
        assert_eq!(
            choose(RECORD, &zones, &[], None),
            Err(NoZone::NotHeld(RECORD.into()))
        );
    }

    #[test]
    fn twins_are_told_apart_by_the_delegation() {
        let zones = [
            zone(
                "Z1",
                "example.com",
                false,
                &["ns-1.awsdns-1.com", "ns-2.awsdns-2.net"],
            ),
            zone(
                "Z2",
                "example.com",
                false,
                &["ns-3.awsdns-3.com", "ns-4.awsdns-4.net"],
            ),
        ];
        let delegation = ["NS-4.awsdns-4.net.".to_string(), "ns-3.awsdns-3.com".into()];
        assert_eq!(
            choose(RECORD, &zones, &[], Some(&delegation)).unwrap().id,
            "Z2"
        );
        let err = choose(RECORD, &zones, &[], None).unwrap_err();
        assert!(matches!(err, NoZone::Ambiguous { count: 2, .. }), "{err:?}");
        assert!(err.to_string().contains("not read yet"), "{err}");
    }

    #[test]
    fn the_zones_setting_allows_by_name_or_id() {
        let zones = [zone("Z1", "example.com", false, &[])];
        assert!(choose(RECORD, &zones, &["EXAMPLE.com.".into()], None).is_ok());
        assert!(choose(RECORD, &zones, &["/hostedzone/Z1".into()], None).is_ok());
        assert_eq!(
            choose(RECORD, &zones, &["other.com".into()], None),
            Err(NoZone::NotAllowed("example.com".into()))
        );
    }
}
