//! Pure: which DNS records an identity needs for DKIM, and the same records as CSV
//! (RFC 4180, spreadsheet-safe) and as a BIND zone snippet.

use crate::dns_check::Finding;
use crate::model::{DnsRecord, Identity, RecordType, SigningOrigin};

/// What dkimdash's DNS check found for a record, if it was checked: the exports write it
/// beside the record.
pub type FindingOf<'a> = &'a dyn Fn(&DnsRecord) -> Option<Finding>;

/// For exports without DNS results (the zone lines the "copy all" button copies).
pub fn unchecked(_: &DnsRecord) -> Option<Finding> {
    None
}

/// The export's word for a record no check has reached yet.
const NOT_CHECKED: &str = "not_checked";

/// Where Easy DKIM CNAMEs point when SES does not name a `SigningHostedZone`.
pub const DEFAULT_SIGNING_ZONE: &str = "dkim.amazonses.com";
/// Longest character-string in a DNS TXT record (RFC 1035 §3.3).
const TXT_CHUNK: usize = 255;
/// TTL written into zone snippets.
const ZONE_TTL: u32 = 3600;

/// The records `identity` needs. Easy DKIM and DEED replicas: one CNAME per token into
/// SES's zone (a replica uses its parent's tokens). BYODKIM: the selector's TXT record, with
/// its value only when the public key is known (`public_key`: base64 of the DER key).
/// Email addresses use their domain's records.
pub fn dkim_records(identity: &Identity, public_key: Option<&str>) -> Vec<DnsRecord> {
    let domain = record_domain(identity);
    match &identity.dkim.origin {
        Some(SigningOrigin::Byodkim) => identity
            .dkim
            .tokens
            .iter()
            .map(|selector| DnsRecord {
                record_type: RecordType::Txt,
                name: format!("{selector}._domainkey.{domain}"),
                value: public_key.map(|key| format!("v=DKIM1; k=rsa; p={key}")),
            })
            .collect(),
        _ => {
            let zone = identity
                .dkim
                .signing_hosted_zone
                .as_deref()
                .unwrap_or(DEFAULT_SIGNING_ZONE);
            identity
                .dkim
                .tokens
                .iter()
                .map(|token| DnsRecord {
                    record_type: RecordType::Cname,
                    name: format!("{token}._domainkey.{domain}"),
                    value: Some(format!("{token}.{zone}")),
                })
                .collect()
        }
    }
}

/// `Type,Name,Value,DNS check,DNS detail` with CRLF line ends; an unknown value is an
/// empty cell. The DNS columns: the finding's code (`ok`, `missing`, …, `not_checked`)
/// and what it means.
pub fn to_csv(records: &[DnsRecord], finding_of: FindingOf) -> String {
    let mut out = String::from(CSV_HEADER);
    for record in records {
        out.push_str(&csv_line(record, finding_of(record)));
    }
    out
}

/// The CSV's first line.
pub const CSV_HEADER: &str = "Type,Name,Value,DNS check,DNS detail\r\n";

/// One record as a line of [`to_csv`], with what its DNS check found.
pub fn csv_line(record: &DnsRecord, finding: Option<Finding>) -> String {
    let detail = finding.as_ref().map(Finding::explain).unwrap_or_default();
    let cells = [
        record.record_type.as_str(),
        &record.name,
        record.value.as_deref().unwrap_or(""),
        finding.as_ref().map_or(NOT_CHECKED, Finding::code),
        &detail,
    ];
    let mut line = cells.map(csv_cell).join(",");
    line.push_str("\r\n");
    line
}

/// One CSV cell: a leading `= + - @`, tab or CR is made inert with `'` (so a spreadsheet
/// never runs it as a formula), then RFC 4180 quoting where needed.
fn csv_cell(value: &str) -> String {
    let inert = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if inert.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

/// A BIND zone snippet: absolute names, TXT values split into quoted strings of at most
/// 255 characters; a record whose value is unknown becomes a comment saying so. A checked
/// record that is not published right gets a comment line above it saying what was found.
pub fn to_bind(records: &[DnsRecord], finding_of: FindingOf) -> String {
    let mut out = String::new();
    for record in records {
        if let Some(finding) = finding_of(record).filter(|f| *f != Finding::Ok) {
            out.push_str(&format!(
                "; dkimdash DNS check: {}: {}\n",
                finding.label(),
                comment_text(&finding.explain())
            ));
        }
        out.push_str(&bind_line(record));
        out.push('\n');
    }
    out
}

/// One identity's part of a zone file of several: a comment line naming it, then its
/// records (those not written already for an earlier identity: see [`FirstSight`]).
pub fn zone_section(identity: &Identity, records: &[DnsRecord], finding_of: FindingOf) -> String {
    let mut out = comment_text(&format!(
        "; {} ({} {}) DKIM {}",
        identity.name, identity.account, identity.region, identity.dkim.status
    ));
    out.push('\n');
    out.push_str(&to_bind(records, finding_of));
    out.push('\n');
    out
}

/// The domain whose zone holds an identity's records: an email address's domain, else
/// the identity's name.
pub fn record_domain(identity: &Identity) -> &str {
    identity
        .name
        .rsplit_once('@')
        .map_or(identity.name.as_str(), |(_, d)| d)
}

/// Which records an export that lists each record once has written. Two identities
/// share records only within one domain (a DEED parent and its replicas, a domain and
/// its addresses, one domain in several accounts), so only the records of domains that
/// recur among the exported identities are remembered: the memory follows the repeats,
/// not the size of the export. Each one as a 128-bit digest, not its text: 16 bytes where
/// the name and value took about 200 (one domain in each of 10 regions is 300,000 records
/// to remember at 100,000 identities), and a collision is as likely as none is certain.
#[derive(Debug)]
pub struct FirstSight<'a> {
    recurring: std::collections::HashSet<&'a str>,
    written: std::collections::HashSet<u128>,
}

impl<'a> FirstSight<'a> {
    /// For an export of `identities`.
    pub fn new(identities: &[&'a Identity]) -> Self {
        let mut seen = std::collections::HashMap::<&str, bool>::new();
        for identity in identities {
            seen.entry(record_domain(identity))
                .and_modify(|again| *again = true)
                .or_insert(false);
        }
        Self {
            recurring: seen
                .into_iter()
                .filter_map(|(domain, again)| again.then_some(domain))
                .collect(),
            written: std::collections::HashSet::new(),
        }
    }

    /// The records of `identity` not written before, in their order (and now written).
    pub fn fresh(&mut self, identity: &Identity, records: Vec<DnsRecord>) -> Vec<DnsRecord> {
        if !self.recurring.contains(record_domain(identity)) {
            return records;
        }
        records
            .into_iter()
            .filter(|r| self.written.insert(digest(r)))
            .collect()
    }
}

/// A record's type, name and value as 128 bits: two SipHash digests, each of the record
/// after a different tag.
fn digest(record: &DnsRecord) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |tag: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        (tag, record.record_type, &record.name, &record.value).hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// One record as a zone line, or a comment saying why it cannot be one. Names and targets
/// come from SES: anything that is not a plain DNS name is refused rather than written,
/// so no value can end a line early or add lines of its own.
fn bind_line(record: &DnsRecord) -> String {
    let kind = record.record_type.as_str();
    let Some(name) = zone_name(&record.name) else {
        return format!(
            "; skipped a {kind} record: {} is not a valid DNS name",
            comment_text(&record.name)
        );
    };
    match (&record.value, record.record_type) {
        (None, _) => format!(
            "; {name} {kind} value unknown: SES does not return BYODKIM public keys; publish the public key of the private key you gave SES"
        ),
        (Some(value), RecordType::Cname) => match zone_name(value) {
            Some(target) => format!("{name} {ZONE_TTL} IN CNAME {target}"),
            None => format!(
                "; skipped {name} CNAME: its target {} is not a valid DNS name",
                comment_text(value)
            ),
        },
        (Some(value), RecordType::Txt) => {
            let strings: Vec<String> = txt_chunks(value)
                .into_iter()
                .map(|chunk| format!("\"{}\"", txt_escape(chunk)))
                .collect();
            format!("{name} {ZONE_TTL} IN TXT ( {} )", strings.join(" "))
        }
    }
}

/// `name` as an absolute zone-file name (`NAME.`), if it is a plain DNS name: labels of
/// letters, digits, `-` and `_` (DKIM's `_domainkey`), 1 to 63 characters, 253 in all.
pub fn zone_name(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let plain = !name.is_empty()
        && name.len() <= crate::names::MAX_DOMAIN_LEN
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= crate::names::MAX_LABEL_LEN
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    plain.then(|| format!("{name}."))
}

/// Text for a zone-file comment: one line, control characters replaced.
pub fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A TXT character-string's content: quotes and backslashes escaped, and any byte outside
/// printable ASCII written as `\DDD`, so the string cannot end a line.
fn txt_escape(chunk: &str) -> String {
    let mut out = String::with_capacity(chunk.len());
    for byte in chunk.bytes() {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7e => out.push(char::from(byte)),
            other => out.push_str(&format!("\\{other:03}")),
        }
    }
    out
}

/// One record as JSON: `{"type": "CNAME", "name": …, "value": … or null, "dns_check":
/// {"result": "missing", "detail": …} or null}`.
pub fn json_record(record: &DnsRecord, finding: Option<&Finding>) -> serde_json::Value {
    serde_json::json!({
        "type": record.record_type.as_str(),
        "name": record.name,
        "value": record.value,
        "dns_check": finding.map(|f| serde_json::json!({
            "result": f.code(),
            "label": f.label(),
            "detail": f.explain(),
        })),
    })
}

/// Splits a TXT value into pieces of at most 255 bytes, on character boundaries.
pub fn txt_chunks(value: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = value;
    while rest.len() > TXT_CHUNK {
        let mut cut = TXT_CHUNK;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DkimState, DkimStatus, IdentityType};

    fn identity(
        name: &str,
        origin: SigningOrigin,
        tokens: &[&str],
        zone: Option<&str>,
    ) -> Identity {
        Identity {
            name: name.into(),
            identity_type: if name.contains('@') {
                IdentityType::EmailAddress
            } else {
                IdentityType::Domain
            },
            region: "us-east-1".into(),
            account: "a".into(),
            dkim: DkimState {
                signing_enabled: true,
                status: DkimStatus::Success,
                tokens: tokens.iter().map(|t| (*t).to_owned()).collect(),
                signing_hosted_zone: zone.map(str::to_owned),
                origin: Some(origin),
                ..DkimState::not_started()
            },
            verification: None,
            read_at: 0,
            details_read_at: Some(0),
            status_seen_since: 0,
        }
    }

    #[test]
    fn easy_dkim_gives_three_cnames_into_the_default_zone() {
        let records = dkim_records(
            &identity(
                "example.com",
                SigningOrigin::EasyDkim,
                &["aaa", "bbb", "ccc"],
                None,
            ),
            None,
        );
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].record_type, RecordType::Cname);
        assert_eq!(records[0].name, "aaa._domainkey.example.com");
        assert_eq!(records[0].value.as_deref(), Some("aaa.dkim.amazonses.com"));
        assert_eq!(records[2].value.as_deref(), Some("ccc.dkim.amazonses.com"));
    }

    #[test]
    fn easy_dkim_follows_the_signing_hosted_zone() {
        let records = dkim_records(
            &identity(
                "example.com",
                SigningOrigin::EasyDkim,
                &["tok"],
                Some("dkim.af-south-1.amazonses.com"),
            ),
            None,
        );
        assert_eq!(
            records[0].value.as_deref(),
            Some("tok.dkim.af-south-1.amazonses.com")
        );
    }

    #[test]
    fn byodkim_is_a_txt_record_whose_value_may_be_unknown() {
        let byo = identity("example.com", SigningOrigin::Byodkim, &["sel1"], None);
        let unknown = dkim_records(&byo, None);
        assert_eq!(
            unknown,
            vec![DnsRecord {
                record_type: RecordType::Txt,
                name: "sel1._domainkey.example.com".into(),
                value: None
            }]
        );
        let known = dkim_records(&byo, Some("MIIBIj"));
        assert_eq!(known[0].value.as_deref(), Some("v=DKIM1; k=rsa; p=MIIBIj"));
    }

    #[test]
    fn deed_replicas_and_addresses_use_the_domain_records() {
        let replica = identity(
            "example.com",
            SigningOrigin::Replica {
                parent_region: "us-east-1".into(),
            },
            &["p1", "p2", "p3"],
            Some("dkim.amazonses.com"),
        );
        let records = dkim_records(&replica, None);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].name, "p2._domainkey.example.com");
        let address = identity("ops@example.com", SigningOrigin::EasyDkim, &["t"], None);
        assert_eq!(
            dkim_records(&address, None)[0].name,
            "t._domainkey.example.com"
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let records = vec![
            DnsRecord {
                record_type: RecordType::Cname,
                name: "a._domainkey.x.com".into(),
                value: Some("a.dkim.amazonses.com".into()),
            },
            DnsRecord {
                record_type: RecordType::Txt,
                name: "=HYPERLINK(\"x\")".into(),
                value: Some("v=DKIM1; k=rsa, p=\"q\"".into()),
            },
            DnsRecord {
                record_type: RecordType::Txt,
                name: "@home".into(),
                value: None,
            },
        ];
        assert_eq!(
            to_csv(&records, &unchecked),
            "Type,Name,Value,DNS check,DNS detail\r\n\
             CNAME,a._domainkey.x.com,a.dkim.amazonses.com,not_checked,\r\n\
             TXT,\"'=HYPERLINK(\"\"x\"\")\",\"v=DKIM1; k=rsa, p=\"\"q\"\"\",not_checked,\r\n\
             TXT,'@home,,not_checked,\r\n"
        );
        for lead in ["+1", "-1", "\tx"] {
            assert!(csv_cell(lead).starts_with('\''), "{lead:?}");
        }
    }

    #[test]
    fn no_value_from_ses_can_add_a_zone_line() {
        let record = |kind, name: &str, value: Option<&str>| DnsRecord {
            record_type: kind,
            name: name.into(),
            value: value.map(str::to_owned),
        };
        let hostile = vec![
            record(
                RecordType::Cname,
                "t._domainkey.x.com\nevil.x.com. 60 IN A 192.0.2.1",
                Some("t.dkim.amazonses.com"),
            ),
            record(
                RecordType::Cname,
                "t._domainkey.x.com",
                Some("t.dkim.amazonses.com.\n@ 60 IN NS evil.example."),
            ),
            record(RecordType::Cname, "a b._domainkey.x.com", Some("t.example")),
            record(RecordType::Cname, "", Some("t.example")),
            record(RecordType::Cname, "x..com", Some("t.example")),
            record(
                RecordType::Txt,
                "s._domainkey.x.com",
                Some("v=DKIM1; p=A\"B\\C\nD\u{e9}"),
            ),
        ];
        let zone = to_bind(&hostile, &unchecked);
        let lines: Vec<&str> = zone.lines().collect();
        assert_eq!(lines.len(), hostile.len(), "{zone}");
        for line in &lines[..5] {
            assert!(line.starts_with("; skipped"), "{line}");
        }
        assert_eq!(
            lines[5],
            r#"s._domainkey.x.com. 3600 IN TXT ( "v=DKIM1; p=A\"B\\C\010D\195\169" )"#
        );
        // A comment keeps to its line too.
        let injected = Finding::CouldNotCheck {
            reason: "timeout\n@ 60 IN A 192.0.2.1".into(),
        };
        let good = record(RecordType::Cname, "t._domainkey.x.com", Some("t.example"));
        let zone = to_bind(&[good], &|_| Some(injected.clone()));
        assert_eq!(zone.lines().count(), 2, "{zone}");
        assert!(
            zone.lines()
                .next()
                .unwrap()
                .starts_with("; dkimdash DNS check")
        );
    }

    #[test]
    fn zone_names_are_plain_dns_names() {
        assert_eq!(
            zone_name("s1._domainkey.Example.com").as_deref(),
            Some("s1._domainkey.Example.com.")
        );
        assert_eq!(zone_name("example.com.").as_deref(), Some("example.com."));
        for bad in [
            "",
            ".",
            "a..b",
            "a b",
            "a;b",
            "a\"b",
            "a\\b",
            "a\nb",
            "bücher.de",
            &"a".repeat(64),
        ] {
            assert_eq!(zone_name(bad), None, "{bad:?}");
        }
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(zone_name(&long), None);
    }

    #[test]
    fn bind_splits_long_txt_values_into_255_character_strings() {
        let key = "A".repeat(400);
        let value = format!("v=DKIM1; k=rsa; p={key}");
        let records = vec![
            DnsRecord {
                record_type: RecordType::Txt,
                name: "s._domainkey.x.com".into(),
                value: Some(value.clone()),
            },
            DnsRecord {
                record_type: RecordType::Cname,
                name: "t._domainkey.x.com".into(),
                value: Some("t.dkim.amazonses.com".into()),
            },
            DnsRecord {
                record_type: RecordType::Txt,
                name: "u._domainkey.x.com".into(),
                value: None,
            },
        ];
        let zone = to_bind(&records, &unchecked);
        let lines: Vec<&str> = zone.lines().collect();
        let first = format!("\"{}\"", &value[..255]);
        let second = format!("\"{}\"", &value[255..]);
        assert_eq!(
            lines[0],
            format!("s._domainkey.x.com. 3600 IN TXT ( {first} {second} )")
        );
        assert_eq!(
            lines[1],
            "t._domainkey.x.com. 3600 IN CNAME t.dkim.amazonses.com."
        );
        assert!(lines[2].starts_with("; u._domainkey.x.com. TXT value unknown"));
    }

    #[test]
    fn json_names_the_type_and_keeps_unknown_values_null() {
        let records = [
            DnsRecord {
                record_type: RecordType::Cname,
                name: "t._domainkey.example.com".into(),
                value: Some("t.dkim.amazonses.com".into()),
            },
            DnsRecord {
                record_type: RecordType::Txt,
                name: "s1._domainkey.example.com".into(),
                value: None,
            },
        ];
        let json: Vec<serde_json::Value> = records.iter().map(|r| json_record(r, None)).collect();
        assert_eq!(
            serde_json::Value::Array(json).to_string(),
            r#"[{"dns_check":null,"name":"t._domainkey.example.com","type":"CNAME","value":"t.dkim.amazonses.com"},{"dns_check":null,"name":"s1._domainkey.example.com","type":"TXT","value":null}]"#
        );
    }

    #[test]
    fn each_record_is_written_once_in_order() {
        let parent = identity(
            "example.com",
            SigningOrigin::EasyDkim,
            &["a", "b", "c"],
            None,
        );
        let replica = Identity {
            region: "eu-west-1".into(),
            ..identity(
                "example.com",
                SigningOrigin::Replica {
                    parent_region: "us-east-1".into(),
                },
                &["a", "b", "c"],
                None,
            )
        };
        let other = identity("other.example", SigningOrigin::EasyDkim, &["d"], None);
        let address = identity("ops@other.example", SigningOrigin::EasyDkim, &["d"], None);
        let all = [&parent, &replica, &other, &address];
        let mut sight = FirstSight::new(&all);
        assert_eq!(sight.recurring.len(), 2, "{sight:?}");
        let names: Vec<String> = all
            .into_iter()
            .flat_map(|i| sight.fresh(i, dkim_records(i, None)))
            .map(|r| r.name)
            .collect();
        assert_eq!(
            names,
            [
                "a._domainkey.example.com",
                "b._domainkey.example.com",
                "c._domainkey.example.com",
                "d._domainkey.other.example"
            ]
        );
    }

    #[test]
    fn txt_chunks_respect_character_boundaries() {
        let value = "é".repeat(200); // 400 bytes
        let chunks = txt_chunks(&value);
        assert!(chunks.iter().all(|c| c.len() <= 255));
        assert_eq!(chunks.concat(), value);
        assert_eq!(txt_chunks("short"), vec!["short"]);
    }

    #[test]
    fn exports_carry_the_dns_check_of_each_record() {
        let records = vec![
            DnsRecord {
                record_type: RecordType::Cname,
                name: "a._domainkey.x.com".into(),
                value: Some("a.dkim.amazonses.com".into()),
            },
            DnsRecord {
                record_type: RecordType::Cname,
                name: "b._domainkey.x.com".into(),
                value: Some("b.dkim.amazonses.com".into()),
            },
        ];
        let finding_of = |r: &DnsRecord| match r.name.as_str() {
            "a._domainkey.x.com" => Some(Finding::Ok),
            _ => Some(Finding::Missing { nxdomain: true }),
        };
        let csv = to_csv(&records, &finding_of);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[1],
            "CNAME,a._domainkey.x.com,a.dkim.amazonses.com,ok,Published as expected."
        );
        assert!(
            lines[2]
                .starts_with("CNAME,b._domainkey.x.com,b.dkim.amazonses.com,missing,Not published"),
            "{}",
            lines[2]
        );
        let zone = to_bind(&records, &finding_of);
        let zone_lines: Vec<&str> = zone.lines().collect();
        assert_eq!(
            zone_lines.len(),
            3,
            "one comment, above the missing record only: {zone}"
        );
        assert!(
            zone_lines[1].starts_with("; dkimdash DNS check: missing: Not published"),
            "{zone}"
        );
        assert!(
            zone_lines[2].starts_with("b._domainkey.x.com. 3600 IN CNAME"),
            "{zone}"
        );
        let json = json_record(&records[1], finding_of(&records[1]).as_ref());
        assert_eq!(json["dns_check"]["result"], "missing");
        assert_eq!(
            json_record(&records[0], None)["dns_check"],
            serde_json::Value::Null
        );
    }
}
