//! Reads a published DKIM key record (RFC 6376 §3.6.1 tag list) and lists what is wrong
//! with it: the checks operators most often get wrong when pasting a key into a DNS form.

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

/// Reads `value` (a TXT record's strings joined).
pub fn read(value: &str) -> DkimTxt {
    let mut problems = Vec::new();
    if value.contains('"') {
        problems.push(TxtProblem::StrayQuotes);
    }
    let tags: Vec<(String, String)> = value
        .split(';')
        .filter_map(|tag| tag.split_once('='))
        .map(|(name, tag_value)| {
            let name = name.trim().trim_matches('"').trim().to_ascii_lowercase();
            (name, tag_value.trim().to_owned())
        })
        .collect();
    let version = tags.iter().position(|(name, _)| name == "v");
    if let Some(at) = version
        && (at != 0 || tags[at].1.trim_matches('"') != "DKIM1")
    {
        problems.push(TxtProblem::BadVersion);
    }
    let is_rsa = tags
        .iter()
        .find(|(name, _)| name == "k")
        .is_none_or(|(_, k)| k.trim_matches('"').eq_ignore_ascii_case("rsa"));
    let key = tags.iter().find(|(name, _)| name == "p").map(|(_, raw)| {
        let raw = raw.trim_matches('"');
        if raw.chars().any(char::is_whitespace) {
            problems.push(TxtProblem::SpacesInKey);
        }
        raw.chars()
            .filter(|c| !c.is_whitespace() && *c != '"')
            .collect::<String>()
    });
    match &key {
        None => problems.push(TxtProblem::MissingKey),
        Some(key) if key.is_empty() => problems.push(TxtProblem::RevokedKey),
        Some(key) => match base64::engine::general_purpose::STANDARD.decode(key) {
            Err(_) => problems.push(TxtProblem::KeyNotBase64),
            Ok(der) if is_rsa && rsa::RsaPublicKey::from_public_key_der(&der).is_err() => {
                problems.push(TxtProblem::KeyUnreadable);
            }
            Ok(_) => {}
        },
    }
    DkimTxt { key, problems }
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
    fn quotes_and_spaces_are_named() {
        let read = read(&format!(
            "\"v=DKIM1; k=rsa; p={} {}\"",
            &key()[..100],
            &key()[100..]
        ));
        assert_eq!(
            read.problems,
            [TxtProblem::StrayQuotes, TxtProblem::SpacesInKey]
        );
        assert_eq!(read.key.as_deref(), Some(key()), "the key is still read");
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
    fn other_key_types_skip_the_rsa_check() {
        assert_eq!(read("v=DKIM1; k=ed25519; p=QUJDRA==").problems, []);
    }
}
