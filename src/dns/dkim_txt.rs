//! Reads a published DKIM key record (RFC 6376 §3.6.1 tag list, §3.2 syntax) and lists what
//! is wrong with it: the checks operators most often get wrong when pasting a key into a DNS
//! form, and the tags that make verifiers reject the signatures SES makes (rsa-sha256).

use base64::Engine as _;
use rsa::pkcs8::DecodePublicKey as _;

use crate::dns_check::TxtProblem;

/// A published DKIM TXT value, read.
#[derive(Debug, PartialEq, Eq)]
pub struct DkimTxt {
    /// The `p=` key with whitespace and quotes taken out; `None` without a `p=` tag.
    pub key: Option<String>,
    /// What is wrong with the record (empty: nothing).
    pub problems: Vec<TxtProblem>,
}

/// The most one character-string holds (RFC 1035 §3.3): a longer value must be split.
const STRING_LIMIT: usize = 255;

/// How much of a malformed tag a problem quotes back.
const QUOTED_CHARS: usize = 40;

/// Reads `value` (a TXT record's strings joined).
pub fn read(value: &str) -> DkimTxt {
    let mut problems = Vec::new();
    if value.contains('"') {
        problems.push(TxtProblem::StrayQuotes);
    }
    let tags = tags_of(value, &mut problems);
    let tag = |name: &str| tags.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    if let Some(at) = tags.iter().position(|(name, _)| *name == "v")
        && (at != 0 || tags[at].1 != "DKIM1")
    {
        problems.push(TxtProblem::BadVersion);
    }
    // Keywords in values are ABNF literals, which are case-insensitive (RFC 5234 §2.3).
    let is_rsa = tag("k").is_none_or(|k| k.eq_ignore_ascii_case("rsa"));
    if !is_rsa {
        problems.push(TxtProblem::KeyTypeNotRsa);
    }
    if tag("h").is_some_and(|h| !lists(h, &["sha256"])) {
        problems.push(TxtProblem::HashWithoutSha256);
    }
    if tag("s").is_some_and(|s| !lists(s, &["email", "*"])) {
        problems.push(TxtProblem::ServiceNotEmail);
    }
    if tag("t").is_some_and(|t| lists(t, &["y"])) {
        problems.push(TxtProblem::TestingMode);
    }
    // Folding whitespace inside the key is allowed (§3.6.1 base64string); it is not the key.
    let key = tag("p").map(|raw| {
        raw.chars()
            .filter(|c| !c.is_whitespace() && *c != '"')
            .collect::<String>()
    });
    let key_problem = match &key {
        None => Some(TxtProblem::MissingKey),
        Some(key) if key.is_empty() => Some(TxtProblem::RevokedKey),
        Some(key) => match base64::engine::general_purpose::STANDARD.decode(key) {
            Err(_) => Some(TxtProblem::KeyNotBase64),
            Ok(der) if is_rsa && rsa::RsaPublicKey::from_public_key_der(&der).is_err() => {
                Some(TxtProblem::KeyUnreadable)
            }
            Ok(_) => None,
        },
    };
    problems.extend(match key_problem {
        // A broken key in a value of exactly the limit was cut, not mistyped: say only that.
        Some(TxtProblem::KeyNotBase64 | TxtProblem::KeyUnreadable)
            if value.len() == STRING_LIMIT =>
        {
            Some(TxtProblem::ValueCutAt255)
        }
        other => other,
    });
    DkimTxt { key, problems }
}

/// The tags of `value` in order, each name once (its first value), quotes and surrounding
/// whitespace taken off; repeated and malformed tags go to `problems`.
fn tags_of<'a>(value: &'a str, problems: &mut Vec<TxtProblem>) -> Vec<(&'a str, &'a str)> {
    let unquote = |s: &'a str| s.trim_matches(|c: char| c.is_whitespace() || c == '"');
    let mut tags: Vec<(&str, &str)> = Vec::new();
    let mut malformed = Vec::new();
    for spec in value
        .split(';')
        .map(unquote)
        .filter(|spec| !spec.is_empty())
    {
        // Names stay case-sensitive (§3.2): verifiers ignore `P=`, so reading it as `p=`
        // would pass a record they reject.
        let Some((name, tag_value)) = spec
            .split_once('=')
            .map(|(name, tag_value)| (unquote(name), unquote(tag_value)))
            .filter(|(name, _)| is_tag_name(name))
        else {
            malformed.push(TxtProblem::BadTag(quoted(spec)));
            continue;
        };
        if tags.iter().any(|(seen, _)| *seen == name) {
            let repeated = TxtProblem::DuplicateTag(name.to_owned());
            if !problems.contains(&repeated) {
                problems.push(repeated);
            }
            continue;
        }
        tags.push((name, tag_value));
    }
    // Text without a single tag is no tag list at all (another record's value): the
    // missing key says so, and naming the text again would be noise.
    if !tags.is_empty() {
        problems.append(&mut malformed);
    }
    tags
}

/// The start of `spec`, short enough to quote in a sentence.
fn quoted(spec: &str) -> String {
    match spec.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &spec[..end]),
        None => spec.to_owned(),
    }
}

/// `tag-name = ALPHA *ALNUMPUNC` (§3.2).
fn is_tag_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether the colon-separated list `value` holds one of `wanted` (case-insensitively).
fn lists(value: &str, wanted: &[&str]) -> bool {
    value
        .split(':')
        .map(str::trim)
        .any(|item| wanted.iter().any(|w| item.eq_ignore_ascii_case(w)))
}

/// The `p=` of a value dkimdash built itself (`v=DKIM1; k=rsa; p=…`).
pub fn key_of(value: &str) -> Option<String> {
    read(value).key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real 2048-bit RSA SubjectPublicKeyInfo, base64 (generated once per test run).
    fn key() -> &'static str {
        static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        KEY.get_or_init(|| crate::signing_key::generate().unwrap().public_key)
    }

    /// The problems of `v=DKIM1; {tags}; p=<a good key>`.
    fn problems_with(tags: &str) -> Vec<TxtProblem> {
        read(&format!("v=DKIM1; {tags}; p={}", key())).problems
    }

    #[test]
    fn a_good_record_has_no_problems() {
        let read = read(&format!("v=DKIM1; k=rsa; p={}", key()));
        assert_eq!(read.problems, []);
        assert_eq!(read.key.as_deref(), Some(key()));
    }

    #[test]
    fn v_and_k_may_be_left_out() {
        assert_eq!(read(&format!("p={}", key())).problems, []);
    }

    #[test]
    fn quotes_are_named_and_the_key_still_read() {
        let read = read(&format!(
            "\"v=DKIM1; k=rsa; p={}\" \"{}\"",
            &key()[..100],
            &key()[100..]
        ));
        assert_eq!(read.problems, [TxtProblem::StrayQuotes]);
        assert_eq!(read.key.as_deref(), Some(key()), "the key is still read");
    }

    #[test]
    fn whitespace_inside_the_key_is_folding_not_a_problem() {
        let read = read(&format!(
            "v=DKIM1; k=rsa; p= {} {}\r\n\t{} ",
            &key()[..100],
            &key()[100..200],
            &key()[200..]
        ));
        assert_eq!(read.problems, []);
        assert_eq!(read.key.as_deref(), Some(key()));
    }

    #[test]
    fn missing_revoked_and_garbled_keys() {
        assert_eq!(read("v=DKIM1; k=rsa").problems, [TxtProblem::MissingKey]);
        assert_eq!(
            read("v=DKIM1; k=rsa; p=").problems,
            [TxtProblem::RevokedKey]
        );
        assert_eq!(read("v=DKIM1; p=%%%").problems, [TxtProblem::KeyNotBase64]);
        assert_eq!(
            read("v=DKIM1; p=QUJDRA==").problems,
            [TxtProblem::KeyUnreadable],
            "base64 of 'ABCD' is not a key"
        );
    }

    #[test]
    fn a_key_cut_at_a_string_boundary_is_unreadable() {
        let cut = &key()[..key().len() - 24];
        assert!(
            read(&format!("v=DKIM1; p={cut}"))
                .problems
                .contains(&TxtProblem::KeyUnreadable)
        );
    }

    #[test]
    fn a_value_of_exactly_255_characters_with_a_broken_key_was_cut() {
        let whole = format!("v=DKIM1; k=rsa; p={}", key());
        assert_eq!(
            read(&whole[..255]).problems,
            [TxtProblem::ValueCutAt255],
            "only the cut is named, not the base64 it broke"
        );
        assert_eq!(
            read(&whole[..256]).problems,
            [TxtProblem::KeyNotBase64],
            "one character more is not the string limit"
        );
        let unreadable = format!("v=DKIM1; k=rsa; p={}", &key()[..236]);
        assert_eq!(unreadable.len(), 254);
        let padded = format!("{unreadable} ");
        assert_eq!(
            read(&padded).problems,
            [TxtProblem::ValueCutAt255],
            "valid base64 that is not a whole key, cut at 255, is named as cut too"
        );
    }

    #[test]
    fn version_must_be_dkim1_and_first() {
        assert_eq!(
            read(&format!("v=DKIM2; p={}", key())).problems,
            [TxtProblem::BadVersion]
        );
        assert_eq!(
            read(&format!("p={}; v=DKIM1", key())).problems,
            [TxtProblem::BadVersion]
        );
    }

    #[test]
    fn a_key_type_other_than_rsa_is_named_and_skips_the_rsa_check() {
        assert_eq!(
            read("v=DKIM1; k=ed25519; p=QUJDRA==").problems,
            [TxtProblem::KeyTypeNotRsa]
        );
        assert_eq!(problems_with("k=RSA"), [], "keywords ignore case");
    }

    #[test]
    fn hash_algorithms_must_include_sha256() {
        assert_eq!(problems_with("h=sha1"), [TxtProblem::HashWithoutSha256]);
        assert_eq!(problems_with("h="), [TxtProblem::HashWithoutSha256]);
        assert_eq!(problems_with("h=sha1 : SHA256"), []);
        assert_eq!(problems_with("h=sha256"), []);
    }

    #[test]
    fn service_types_must_include_email_or_any() {
        assert_eq!(problems_with("s=tlsrpt"), [TxtProblem::ServiceNotEmail]);
        assert_eq!(problems_with("s=tlsrpt:email"), []);
        assert_eq!(problems_with("s=*"), []);
    }

    #[test]
    fn testing_mode_is_named() {
        assert_eq!(problems_with("t=y"), [TxtProblem::TestingMode]);
        assert_eq!(problems_with("t=s : Y"), [TxtProblem::TestingMode]);
        assert_eq!(problems_with("t=s"), []);
    }

    #[test]
    fn a_repeated_tag_invalidates_the_record_and_is_named_once() {
        assert_eq!(
            problems_with(&format!("p={}; k=rsa; k=rsa", key())),
            [
                TxtProblem::DuplicateTag("k".to_owned()),
                TxtProblem::DuplicateTag("p".to_owned())
            ]
        );
        assert_eq!(
            problems_with("t=y; t=s"),
            [
                TxtProblem::DuplicateTag("t".to_owned()),
                TxtProblem::TestingMode
            ],
            "the first value counts"
        );
    }

    #[test]
    fn tag_names_are_case_sensitive() {
        assert_eq!(
            read(&format!("v=DKIM1; P={}", key())).problems,
            [TxtProblem::MissingKey],
            "verifiers do not read P= as p="
        );
        assert_eq!(problems_with("p_1=x; P=y"), [], "unknown tags are ignored");
    }

    #[test]
    fn text_that_is_not_a_tag_is_named() {
        assert_eq!(
            problems_with("rsa; 1x=y; =z"),
            [
                TxtProblem::BadTag("rsa".to_owned()),
                TxtProblem::BadTag("1x=y".to_owned()),
                TxtProblem::BadTag("=z".to_owned())
            ]
        );
        assert_eq!(
            problems_with(&format!("{};", &key()[..50])),
            [TxtProblem::BadTag(format!("{}…", &key()[..40]))],
            "a long piece is quoted short"
        );
        assert_eq!(problems_with("n=notes;;"), [], "empty tags are skipped");
        assert_eq!(
            read(&"a".repeat(300)).problems,
            [TxtProblem::MissingKey],
            "a value without any tag only lacks a key"
        );
    }
}
