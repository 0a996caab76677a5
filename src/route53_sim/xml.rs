//! Route 53's REST/XML bodies: requests read with roxmltree, responses written as the API
//! reference shows them.

use std::fmt::Write;

use super::store::{Action, Change, ChangeInfo, RecordSet, Zone};

/// The namespace of every Route 53 body.
pub const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// A CreateHostedZone request's fields.
pub struct NewZone {
    pub name: String,
    pub caller_reference: String,
    pub comment: Option<String>,
    pub private: bool,
}

/// A ChangeResourceRecordSets request's batch.
pub struct Batch {
    pub comment: Option<String>,
    pub changes: Vec<Change>,
}

/// Reads a CreateHostedZoneRequest.
pub fn new_zone(body: &str) -> Result<NewZone, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("Malformed XML: {e}"))?;
    let root = doc.root_element();
    expect_name(root, "CreateHostedZoneRequest")?;
    let config = child(root, "HostedZoneConfig");
    Ok(NewZone {
        name: required_text(root, "Name")?,
        caller_reference: required_text(root, "CallerReference")?,
        comment: config.and_then(|c| text(c, "Comment")),
        private: config
            .and_then(|c| text(c, "PrivateZone"))
            .is_some_and(|v| v == "true")
            || child(root, "VPC").is_some(),
    })
}

/// Reads a ChangeResourceRecordSetsRequest.
pub fn batch(body: &str) -> Result<Batch, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("Malformed XML: {e}"))?;
    let root = doc.root_element();
    expect_name(root, "ChangeResourceRecordSetsRequest")?;
    let batch = child(root, "ChangeBatch").ok_or("ChangeBatch is required")?;
    let changes = child(batch, "Changes").ok_or("Changes is required")?;
    let changes = children(changes, "Change")
        .map(|change| {
            let word = required_text(change, "Action")?;
            let action = Action::parse(&word)
                .ok_or_else(|| format!("Action {word} is not one of CREATE, DELETE, UPSERT"))?;
            let set = child(change, "ResourceRecordSet").ok_or("ResourceRecordSet is required")?;
            if child(set, "AliasTarget").is_some() {
                return Err("Alias records are not simulated".to_string());
            }
            let ttl = required_text(set, "TTL")?
                .parse()
                .map_err(|_| "TTL must be a whole number of seconds".to_string())?;
            let values = child(set, "ResourceRecords")
                .map(|records| {
                    children(records, "ResourceRecord")
                        .filter_map(|r| text(r, "Value"))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Change {
                action,
                record_set: RecordSet {
                    name: required_text(set, "Name")?,
                    record_type: required_text(set, "Type")?,
                    ttl,
                    values,
                },
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if changes.is_empty() {
        return Err("Changes must hold at least one Change".into());
    }
    Ok(Batch {
        comment: text(batch, "Comment"),
        changes,
    })
}

fn expect_name(node: roxmltree::Node, name: &str) -> Result<(), String> {
    if node.tag_name().name() == name {
        Ok(())
    } else {
        Err(format!("Expected {name}, got {}", node.tag_name().name()))
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn text(node: roxmltree::Node, name: &str) -> Option<String> {
    child(node, name).map(|n| n.text().unwrap_or("").to_owned())
}

fn required_text(node: roxmltree::Node, name: &str) -> Result<String, String> {
    text(node, name).ok_or_else(|| format!("{name} is required"))
}

pub use crate::sim::xml_text::escape;

/// A whole response document.
pub fn document(root: &str, inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{XMLNS}\">{inner}</{root}>"
    )
}

/// `<HostedZone>…</HostedZone>`.
pub fn hosted_zone(zone: &Zone) -> String {
    let comment = zone
        .comment
        .as_deref()
        .map(|c| format!("<Comment>{}</Comment>", escape(c)))
        .unwrap_or_default();
    format!(
        "<HostedZone><Id>/hostedzone/{}</Id><Name>{}</Name><CallerReference>{}</CallerReference>\
         <Config>{comment}<PrivateZone>{}</PrivateZone></Config>\
         <ResourceRecordSetCount>{}</ResourceRecordSetCount></HostedZone>",
        zone.id,
        escape(&zone.name),
        escape(&zone.caller_reference),
        zone.private,
        zone.record_sets.len(),
    )
}

/// `<DelegationSet>…</DelegationSet>`.
pub fn delegation_set(zone: &Zone) -> String {
    let mut out = String::from("<DelegationSet><NameServers>");
    for server in &zone.name_servers {
        let _ = write!(out, "<NameServer>{}</NameServer>", escape(server));
    }
    out.push_str("</NameServers></DelegationSet>");
    out
}

/// `<ResourceRecordSet>…</ResourceRecordSet>`.
pub fn record_set(set: &RecordSet) -> String {
    let mut out = format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type><TTL>{}</TTL><ResourceRecords>",
        escape(&set.name),
        escape(&set.record_type),
        set.ttl
    );
    for value in &set.values {
        let _ = write!(
            out,
            "<ResourceRecord><Value>{}</Value></ResourceRecord>",
            escape(value)
        );
    }
    out.push_str("</ResourceRecords></ResourceRecordSet>");
    out
}

/// `<ChangeInfo>…</ChangeInfo>`, PENDING or INSYNC.
pub fn change_info(info: &ChangeInfo, in_sync: bool) -> String {
    let comment = info
        .comment
        .as_deref()
        .map(|c| format!("<Comment>{}</Comment>", escape(c)))
        .unwrap_or_default();
    let submitted = httpdate_iso(info.submitted_at);
    format!(
        "<ChangeInfo><Id>/change/{}</Id><Status>{}</Status><SubmittedAt>{submitted}</SubmittedAt>{comment}</ChangeInfo>",
        info.id,
        if in_sync { "INSYNC" } else { "PENDING" },
    )
}

/// Seconds since the epoch as ISO 8601 in UTC (`2017-02-10T01:36:41.000Z`).
fn httpdate_iso(seconds: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_batch_is_read_as_the_sdk_writes_it() {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\">\
             <ChangeBatch><Comment>dkimdash</Comment><Changes><Change><Action>DELETE</Action>\
             <ResourceRecordSet><Name>a.example.com</Name><Type>TXT</Type><TTL>300</TTL>\
             <ResourceRecords><ResourceRecord><Value>\"x\" \"y\"</Value></ResourceRecord></ResourceRecords>\
             </ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
        );
        let batch = batch(&body).unwrap();
        assert_eq!(batch.comment.as_deref(), Some("dkimdash"));
        assert_eq!(batch.changes[0].action, Action::Delete);
        assert_eq!(batch.changes[0].record_set.values, ["\"x\" \"y\""]);
        assert!(super::batch("<Other/>").is_err());
    }

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(httpdate_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(httpdate_iso(1_486_690_601), "2017-02-10T01:36:41.000Z");
    }
}
