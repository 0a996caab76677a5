//! The simulated Cloudflare account's zones and DNS records, with the rules Cloudflare's
//! API applies to them: a CNAME shares its name with no A, AAAA or CNAME record and no other
//! record with a CNAME, an identical record is refused, names are compared without case,
//! and a TXT value longer than 255 characters is kept as quoted strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::publish::txt;

/// One zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// 32 hex characters.
    pub id: String,
    /// Lower case, no final dot.
    pub name: String,
    /// `active`, `pending`, …
    pub status: String,
    /// `full`, `partial` or `secondary`.
    #[serde(rename = "type")]
    pub zone_type: String,
    pub name_servers: Vec<String>,
}

/// One DNS record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub zone_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub content: String,
    pub proxied: bool,
    pub ttl: u32,
    pub comment: Option<String>,
}

/// A record as a create or a change gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RecordInput {
    #[serde(rename = "type")]
    pub record_type: Option<String>,
    pub name: Option<String>,
    pub content: Option<String>,
    pub proxied: Option<bool>,
    pub ttl: Option<u32>,
    pub comment: Option<String>,
}

/// A refusal with Cloudflare's error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found() -> Self {
        Self::new(404, 81044, "Record does not exist.")
    }
}

/// Every zone and record.
#[derive(Debug, Default)]
pub struct Store {
    zones: BTreeMap<String, Zone>,
    /// By record id.
    records: BTreeMap<String, Record>,
    next_id: u64,
}

impl Store {
    /// Adds a zone.
    pub fn add_zone(&mut self, zone: Zone) {
        self.zones.insert(zone.id.clone(), zone);
    }

    /// Zones whose name is `name` (any when `None`) and status is `status` (any when `None`).
    pub fn zones(&self, name: Option<&str>, status: Option<&str>) -> Vec<&Zone> {
        self.zones
            .values()
            .filter(|z| name.is_none_or(|n| z.name.eq_ignore_ascii_case(n.trim_end_matches('.'))))
            .filter(|z| status.is_none_or(|s| z.status == s))
            .collect()
    }

    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.get(id)
    }

    /// The zone's records at `name` of `record_type` (either may be `None` for all).
    pub fn records(
        &self,
        zone_id: &str,
        name: Option<&str>,
        record_type: Option<&str>,
    ) -> Vec<&Record> {
        self.records
            .values()
            .filter(|r| r.zone_id == zone_id)
            .filter(|r| name.is_none_or(|n| r.name.eq_ignore_ascii_case(n.trim_end_matches('.'))))
            .filter(|r| record_type.is_none_or(|t| r.record_type.eq_ignore_ascii_case(t)))
            .collect()
    }

    pub fn record(&self, zone_id: &str, id: &str) -> Result<&Record, Refusal> {
        self.records
            .get(id)
            .filter(|r| r.zone_id == zone_id)
            .ok_or_else(Refusal::not_found)
    }

    /// Creates a record after Cloudflare's checks.
    pub fn create(&mut self, zone_id: &str, input: RecordInput) -> Result<Record, Refusal> {
        let zone = self
            .zones
            .get(zone_id)
            .ok_or_else(|| {
                Refusal::new(
                    404,
                    7003,
                    "Could not route to /zones/…: the zone does not exist",
                )
            })?
            .clone();
        let record_type = input
            .record_type
            .ok_or_else(|| Refusal::new(400, 9000, "DNS record type is required."))?
            .to_ascii_uppercase();
        let name = full_name(input.name.as_deref().unwrap_or(""), &zone.name)?;
        let content = input
            .content
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Refusal::new(400, 9005, "Content for a record is required."))?;
        let content = stored_content(&record_type, &content)?;
        let same_name: Vec<&Record> = self.records(zone_id, Some(&name), None);
        if same_name
            .iter()
            .any(|r| r.record_type == record_type && r.content == content)
        {
            return Err(Refusal::new(
                400,
                81058,
                "An identical record already exists.",
            ));
        }
        // Cloudflare names A, AAAA and CNAME in the message; a CNAME beside any other data
        // is refused all the same (RFC 1034 §3.6.2).
        if record_type == "CNAME" && !same_name.is_empty() {
            return Err(Refusal::new(
                400,
                81053,
                "An A, AAAA, or CNAME record with that host already exists.",
            ));
        }
        if same_name.iter().any(|r| r.record_type == "CNAME") {
            return Err(Refusal::new(
                400,
                81054,
                "A CNAME record with that host already exists. For more details, refer to <https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/>.",
            ));
        }
        self.next_id += 1;
        let record = Record {
            id: format!("{:032x}", self.next_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            zone_id: zone_id.to_owned(),
            name,
            record_type,
            content,
            proxied: input.proxied.unwrap_or(false),
            ttl: input.ttl.unwrap_or(1),
            comment: input.comment,
        };
        self.records.insert(record.id.clone(), record.clone());
        Ok(record)
    }

    /// Changes the fields given (PATCH).
    pub fn patch(
        &mut self,
        zone_id: &str,
        id: &str,
        input: RecordInput,
    ) -> Result<Record, Refusal> {
        let held = self.record(zone_id, id)?.clone();
        if let Some(record_type) = &input.record_type
            && !record_type.eq_ignore_ascii_case(&held.record_type)
        {
            return Err(Refusal::new(
                400,
                9000,
                "The record type cannot be changed by this simulator.",
            ));
        }
        let content = match input.content {
            Some(content) => stored_content(&held.record_type, &content)?,
            None => held.content.clone(),
        };
        let record = Record {
            content,
            proxied: input.proxied.unwrap_or(held.proxied),
            ttl: input.ttl.unwrap_or(held.ttl),
            comment: input.comment.or(held.comment),
            ..held
        };
        self.records.insert(record.id.clone(), record.clone());
        Ok(record)
    }

    /// Deletes a record.
    pub fn delete(&mut self, zone_id: &str, id: &str) -> Result<(), Refusal> {
        self.record(zone_id, id)?;
        self.records.remove(id);
        Ok(())
    }
}

/// A record name in full: `@` or a relative name completed with the zone; it must be the
/// zone or below it.
fn full_name(name: &str, zone: &str) -> Result<String, Refusal> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let name = if name.is_empty() || name == "@" {
        zone.to_owned()
    } else if name == zone || name.ends_with(&format!(".{zone}")) {
        name
    } else {
        format!("{name}.{zone}")
    };
    if name.split('.').any(str::is_empty) || name.len() > 253 {
        return Err(Refusal::new(400, 9005, "DNS name is invalid."));
    }
    Ok(name)
}

/// TXT content as Cloudflare keeps it: quoted character-strings, a longer one split.
fn stored_content(record_type: &str, content: &str) -> Result<String, Refusal> {
    if record_type != "TXT" {
        return Ok(content.trim_end_matches('.').to_owned());
    }
    match txt::strings(content) {
        Some(strings) if strings.iter().any(|s| s.len() > 255) => Err(Refusal::new(
            400,
            9100,
            "TXT content must consist of quoted character strings of up to 255 bytes each.",
        )),
        Some(_) => Ok(content.to_owned()),
        None => Ok(if content.len() > 255 {
            txt::quoted(content)
        } else {
            content.to_owned()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut store = Store::default();
        store.add_zone(Zone {
            id: "z1".into(),
            name: "example.com".into(),
            status: "active".into(),
            zone_type: "full".into(),
            name_servers: vec!["ada.ns.cloudflare.com".into()],
        });
        store
    }

    fn input(record_type: &str, name: &str, content: &str) -> RecordInput {
        RecordInput {
            record_type: Some(record_type.into()),
            name: Some(name.into()),
            content: Some(content.into()),
            ..RecordInput::default()
        }
    }

    #[test]
    fn a_cname_takes_a_name_alone_and_an_identical_record_is_refused() {
        let mut store = store();
        store
            .create("z1", input("CNAME", "a._domainkey", "a.dkim.amazonses.com"))
            .unwrap();
        let codes = |r: Result<Record, Refusal>| r.unwrap_err().code;
        assert_eq!(
            codes(store.create(
                "z1",
                input("CNAME", "a._domainkey.example.com", "a.dkim.amazonses.com")
            )),
            81058
        );
        assert_eq!(
            codes(store.create(
                "z1",
                input("CNAME", "A._domainkey.example.com.", "b.example")
            )),
            81053
        );
        assert_eq!(
            codes(store.create("z1", input("TXT", "a._domainkey.example.com", "v"))),
            81054
        );
        store
            .create("z1", input("TXT", "t.example.com", "v"))
            .unwrap();
        assert_eq!(
            codes(store.create("z1", input("CNAME", "t.example.com", "x.example"))),
            81053
        );
    }

    #[test]
    fn a_long_txt_is_kept_as_strings_and_a_patch_keeps_what_it_does_not_name() {
        let mut store = store();
        let long = "k".repeat(300);
        let record = store
            .create("z1", input("TXT", "s._domainkey", &long))
            .unwrap();
        assert_eq!(txt::strings(&record.content).unwrap().len(), 2);
        assert_eq!(txt::joined(&record.content), long);
        let patched = store
            .patch(
                "z1",
                &record.id,
                RecordInput {
                    content: Some("\"short\"".into()),
                    ..RecordInput::default()
                },
            )
            .unwrap();
        assert_eq!(patched.content, "\"short\"");
        assert_eq!(patched.ttl, 1);
        assert_eq!(
            store
                .patch("z1", "missing", RecordInput::default())
                .unwrap_err()
                .code,
            81044
        );
    }
}
