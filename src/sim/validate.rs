//! SES's input rules, as the simulator enforces them. Each failure names the field and the
//! rule, the way an operator needs to read it.

use base64::{Engine, engine::general_purpose::STANDARD};
use rsa::{
    RsaPrivateKey,
    pkcs1::DecodeRsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePublicKey},
    traits::PublicKeyParts,
};

use crate::model::KeyLength;

/// Longest private key SES accepts, in base64 characters (the API model's `max`).
const MAX_PRIVATE_KEY_CHARS: usize = 20_480;

/// What kind of identity a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A domain name.
    Domain,
    /// An email address.
    EmailAddress,
}

/// Classifies an identity name, or says why it is neither a domain nor an address.
pub fn identity_name(field: &str, name: &str) -> Result<NameKind, String> {
    match name.rsplit_once('@') {
        Some((local, domain)) => {
            if local.is_empty()
                || local.len() > 64
                || local.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(format!("{field}: '{name}' is not a valid email address"));
            }
            domain_name(field, domain).map(|()| NameKind::EmailAddress)
        }
        None => domain_name(field, name).map(|()| NameKind::Domain),
    }
}

/// A DNS domain as SES takes one: at most 253 characters, at least two labels, each label
/// 1–63 letters, digits and hyphens, not starting or ending with a hyphen. The simulator's
/// own reading of SES's rules, kept apart from the dashboard's input checks on purpose:
/// tests compare the two, so a dashboard that disagrees with SES shows up.
pub fn domain_name(field: &str, name: &str) -> Result<(), String> {
    let refuse = |rule: &str| {
        Err(format!(
            "{field}: '{name}' is not a valid domain name ({rule})"
        ))
    };
    if name.is_empty() || name.len() > 253 {
        return refuse("1 to 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return refuse("at least two labels");
    }
    for label in labels {
        if !ses_label(label) {
            return refuse("labels of 1 to 63 letters, digits and inner hyphens");
        }
    }
    Ok(())
}

/// SES's selector pattern, `^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))$`, with
/// its length of 1 to 63; DNS labels follow the same rule.
fn ses_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= 63
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// A DKIM selector, by SES's documented pattern and length (see [`ses_label`]).
pub fn selector(value: &str) -> Result<(), String> {
    if ses_label(value) {
        Ok(())
    } else {
        Err(format!(
            "DomainSigningSelector: '{value}' is invalid; use 1 to 63 letters, digits and inner hyphens"
        ))
    }
}

/// SES's private key pattern, `^[a-zA-Z0-9+\/]+={0,2}$`: base64 characters, then at most
/// two `=` of padding at the end.
fn ses_base64(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    value.len() - body.len() <= 2
        && !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// A BYODKIM private key: base64 (no PEM armour, no line breaks) of a PKCS#1 or PKCS#8
/// DER RSA key of 1024 to 2048 bits. Returns its public half (base64 of the DER
/// SubjectPublicKeyInfo, what the selector's TXT record must publish as `p=`). The key
/// itself never appears in the message.
pub fn private_key(value: &str) -> Result<String, String> {
    const FIELD: &str = "DomainSigningPrivateKey";
    if value.is_empty() || value.len() > MAX_PRIVATE_KEY_CHARS {
        return Err(format!(
            "{FIELD}: must be 1 to {MAX_PRIVATE_KEY_CHARS} base64 characters"
        ));
    }
    if !ses_base64(value) {
        return Err(format!(
            "{FIELD}: must be base64 without PEM headers or line breaks"
        ));
    }
    let der = STANDARD
        .decode(value)
        .map_err(|_| format!("{FIELD}: is not valid base64"))?;
    let key = RsaPrivateKey::from_pkcs1_der(&der)
        .or_else(|_| RsaPrivateKey::from_pkcs8_der(&der))
        .map_err(|_| format!("{FIELD}: is not a PKCS#1 or PKCS#8 RSA private key"))?;
    let bits = key.n().bits();
    if !(1024..=2048).contains(&bits) {
        return Err(format!(
            "{FIELD}: the RSA key is {bits} bits; SES accepts 1024 to 2048 bits"
        ));
    }
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|_| format!("{FIELD}: its public key cannot be encoded"))?;
    Ok(STANDARD.encode(public.as_bytes()))
}

/// `RSA_1024_BIT` or `RSA_2048_BIT`.
pub fn key_length(value: &str) -> Result<KeyLength, String> {
    match KeyLength::from_ses(value) {
        KeyLength::Unknown(_) => Err(format!(
            "NextSigningKeyLength: '{value}' is invalid; use RSA_1024_BIT or RSA_2048_BIT"
        )),
        known => Ok(known),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::{pkcs1::EncodeRsaPrivateKey, pkcs8::EncodePrivateKey};

    fn key(bits: usize) -> RsaPrivateKey {
        let mut rng = rand::thread_rng();
        RsaPrivateKey::new(&mut rng, bits).expect("key generation")
    }

    #[test]
    fn domains_and_addresses() {
        assert_eq!(
            identity_name("EmailIdentity", "example.com"),
            Ok(NameKind::Domain)
        );
        assert_eq!(
            identity_name("EmailIdentity", "mail.xn--bcher-kva.example"),
            Ok(NameKind::Domain)
        );
        assert_eq!(
            identity_name("EmailIdentity", "ops@example.com"),
            Ok(NameKind::EmailAddress)
        );
        for bad in [
            "",
            "localhost",
            "-a.com",
            "a-.com",
            "a..com",
            "exa mple.com",
            "bücher.de",
            "@example.com",
        ] {
            let error = identity_name("EmailIdentity", bad).unwrap_err();
            assert!(error.starts_with("EmailIdentity: "), "{bad}: {error}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        assert!(domain_name("Domain", &long_label).is_err());
        let too_long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(
            domain_name("Domain", &too_long)
                .unwrap_err()
                .contains("253")
        );
    }

    #[test]
    fn selectors_follow_the_ses_pattern() {
        for good in ["a", "s1", "sel-2024", &"x".repeat(63)] {
            assert!(selector(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a_b", "a.b", &"x".repeat(64)] {
            assert!(
                selector(bad)
                    .unwrap_err()
                    .starts_with("DomainSigningSelector"),
                "{bad}"
            );
        }
    }

    #[test]
    fn private_keys_pkcs1_and_pkcs8_within_bounds() {
        let k1024 = key(1024);
        let pkcs1 = STANDARD.encode(k1024.to_pkcs1_der().unwrap().as_bytes());
        let pkcs8 = STANDARD.encode(k1024.to_pkcs8_der().unwrap().as_bytes());
        // Both give the key's public half, the SubjectPublicKeyInfo a TXT record publishes.
        let public = STANDARD.encode(
            k1024
                .to_public_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes(),
        );
        assert_eq!(private_key(&pkcs1), Ok(public.clone()));
        assert_eq!(private_key(&pkcs8), Ok(public));

        let small = STANDARD.encode(key(512).to_pkcs1_der().unwrap().as_bytes());
        assert!(private_key(&small).unwrap_err().contains("512 bits"));

        assert!(private_key("not base64!").unwrap_err().contains("base64"));
        // Padding only at the end, at most two.
        for bad in ["AB=CD", "ABC===", "=", "AB\nCD"] {
            assert!(private_key(bad).unwrap_err().contains("PEM"), "{bad}");
        }
        assert!(private_key("-----BEGIN").unwrap_err().contains("PEM"));
        assert!(private_key("AAAA").unwrap_err().contains("RSA private key"));
        assert!(private_key("").is_err());
    }

    #[test]
    fn key_lengths() {
        assert_eq!(key_length("RSA_2048_BIT"), Ok(KeyLength::Rsa2048));
        assert!(
            key_length("RSA_4096_BIT")
                .unwrap_err()
                .contains("NextSigningKeyLength")
        );
    }
}
