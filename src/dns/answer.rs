//! What one look-up answered, reduced to what the classification needs: the values of the
//! asked type, "no such name", "no data", or why there is no answer.

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType};

/// Longest TXT value kept from an answer: a DKIM key record is under 1 KiB; anything
/// beyond this is hostile or broken and only needs to be recognised as such.
pub const MAX_VALUE_CHARS: usize = 4096;

/// Most records of one type kept from an answer.
const MAX_VALUES: usize = 16;

/// Negative answers are remembered this long when the zone gives no SOA minimum.
const DEFAULT_NEGATIVE_TTL: u32 = 300;

/// One look-up's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Records of the asked type. CNAME: the targets, lower-case, no trailing dot. TXT:
    /// each record's character-strings joined. A/AAAA: the addresses.
    Records {
        /// One entry per record, in the order served.
        values: Vec<String>,
        /// The smallest TTL of the records.
        ttl: u32,
    },
    /// NXDOMAIN: the name does not exist.
    NxDomain {
        /// How long the zone says to remember that.
        ttl: u32,
    },
    /// The name exists without a record of this type.
    NoData {
        /// How long the zone says to remember that.
        ttl: u32,
    },
    /// No usable answer: timeout, SERVFAIL, REFUSED, a lame server, a broken packet.
    Failed(String),
}

impl Answer {
    /// The values, if there are records.
    pub fn values(&self) -> Option<&[String]> {
        match self {
            Self::Records { values, .. } => Some(values),
            _ => None,
        }
    }

    /// Whether there was an answer at all (records, NXDOMAIN or no data).
    pub fn answered(&self) -> bool {
        !matches!(self, Self::Failed(_))
    }

    /// How long this answer may be reused.
    pub fn ttl(&self) -> Option<u32> {
        match self {
            Self::Records { ttl, .. } | Self::NxDomain { ttl } | Self::NoData { ttl } => Some(*ttl),
            Self::Failed(_) => None,
        }
    }

    /// Reads a response to a query for `kind`. `authoritative` demands the AA bit: a
    /// server that answers for a zone it does not hold (a referral, a lame delegation) has
    /// not answered.
    pub fn from_message(message: &Message, kind: RecordType, authoritative: bool) -> Self {
        match message.response_code() {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            ResponseCode::ServFail => return Self::Failed("SERVFAIL".into()),
            ResponseCode::Refused => return Self::Failed("REFUSED".into()),
            other => return Self::Failed(other.to_str().to_owned()),
        }
        let records: Vec<&Record> = message
            .answers()
            .iter()
            .filter(|r| r.record_type() == kind)
            .collect();
        if !records.is_empty() {
            return Self::from_records(records.into_iter(), kind);
        }
        if authoritative && !message.authoritative() {
            return Self::Failed("the server is not authoritative for this zone".into());
        }
        let ttl = negative_ttl(message.name_servers());
        if message.response_code() == ResponseCode::NXDomain {
            Self::NxDomain { ttl }
        } else {
            Self::NoData { ttl }
        }
    }

    /// The values of `records` (all of type `kind`).
    pub fn from_records<'a>(records: impl Iterator<Item = &'a Record>, kind: RecordType) -> Self {
        let mut values = Vec::new();
        let mut ttl = u32::MAX;
        for record in records.take(MAX_VALUES) {
            ttl = ttl.min(record.ttl());
            match record.data() {
                RData::CNAME(target) if kind == RecordType::CNAME => {
                    values.push(normalize_name(&target.0.to_ascii()));
                }
                RData::TXT(txt) if kind == RecordType::TXT => {
                    let parts: Vec<String> = txt
                        .txt_data()
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect();
                    values.push(truncate_chars(&parts.concat(), MAX_VALUE_CHARS));
                }
                RData::A(address) if kind == RecordType::A => values.push(address.to_string()),
                RData::AAAA(address) if kind == RecordType::AAAA => {
                    values.push(address.to_string())
                }
                RData::NS(target) if kind == RecordType::NS => {
                    values.push(normalize_name(&target.0.to_ascii()));
                }
                _ => {}
            }
        }
        if values.is_empty() {
            return Self::NoData {
                ttl: DEFAULT_NEGATIVE_TTL,
            };
        }
        Self::Records { values, ttl }
    }
}

/// A DNS name as dkimdash compares names: lower-case, no trailing dot.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The negative-caching TTL of a response (RFC 2308: the SOA's TTL, at most its minimum).
fn negative_ttl(authority: &[Record]) -> u32 {
    authority
        .iter()
        .find_map(|r| match r.data() {
            RData::SOA(soa) => Some(r.ttl().min(soa.minimum())),
            _ => None,
        })
        .unwrap_or(DEFAULT_NEGATIVE_TTL)
}

fn truncate_chars(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((cut, _)) => value[..cut].to_owned(),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::{Name, rdata};

    fn response(code: ResponseCode, aa: bool, answers: Vec<Record>) -> Message {
        let mut message = Message::new();
        message
            .set_message_type(MessageType::Response)
            .set_response_code(code)
            .set_authoritative(aa);
        message.insert_answers(answers);
        message
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn cname_targets_compare_without_case_or_dot() {
        let record = Record::from_rdata(
            name("a._domainkey.example.com."),
            60,
            RData::CNAME(rdata::CNAME(name("A.DKIM.AmazonSES.com."))),
        );
        let answer = Answer::from_message(
            &response(ResponseCode::NoError, true, vec![record]),
            RecordType::CNAME,
            true,
        );
        assert_eq!(
            answer.values(),
            Some(&["a.dkim.amazonses.com".to_owned()][..])
        );
        assert_eq!(answer.ttl(), Some(60));
    }

    #[test]
    fn txt_strings_are_joined() {
        let record = Record::from_rdata(
            name("s._domainkey.example.com."),
            300,
            RData::TXT(rdata::TXT::new(vec!["v=DKIM1; p=AB".into(), "CD".into()])),
        );
        let answer = Answer::from_message(
            &response(ResponseCode::NoError, true, vec![record]),
            RecordType::TXT,
            true,
        );
        assert_eq!(answer.values(), Some(&["v=DKIM1; p=ABCD".to_owned()][..]));
    }

    #[test]
    fn huge_binary_txt_is_cut_not_fatal() {
        let blob: Vec<u8> = (0..=255u8).cycle().take(255).collect();
        let record = Record::from_rdata(
            name("s._domainkey.example.com."),
            300,
            RData::TXT(rdata::TXT::from_bytes(vec![&blob[..]; 40])),
        );
        let answer = Answer::from_records(std::iter::once(&record), RecordType::TXT);
        let values = answer.values().unwrap();
        assert_eq!(values[0].chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn negative_answers_and_failures() {
        let nx = Answer::from_message(
            &response(ResponseCode::NXDomain, true, vec![]),
            RecordType::CNAME,
            true,
        );
        assert_eq!(nx, Answer::NxDomain { ttl: 300 });
        let nodata = Answer::from_message(
            &response(ResponseCode::NoError, true, vec![]),
            RecordType::CNAME,
            true,
        );
        assert_eq!(nodata, Answer::NoData { ttl: 300 });
        let servfail = Answer::from_message(
            &response(ResponseCode::ServFail, false, vec![]),
            RecordType::CNAME,
            true,
        );
        assert_eq!(servfail, Answer::Failed("SERVFAIL".into()));
        let lame = Answer::from_message(
            &response(ResponseCode::NoError, false, vec![]),
            RecordType::CNAME,
            true,
        );
        assert!(matches!(lame, Answer::Failed(reason) if reason.contains("not authoritative")));
    }
}
