//! BYODKIM private keys: what an operator pastes (PEM PKCS#1 or PKCS#8, or bare base64 DER)
//! checked and turned into what SES wants (base64 DER, no armour, no line breaks), or a
//! 2048-bit key generated here. Key material lives only in `secrecy`/`zeroize` types: it is
//! never logged (Debug is redacted), never returned to the browser, never written anywhere.
//! The public half is kept, since SES never returns it and it is the TXT record to publish.

use base64::{Engine, engine::general_purpose::STANDARD};
use rsa::{
    RsaPrivateKey,
    pkcs1::DecodeRsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, PrivateKeyInfo},
    traits::PublicKeyParts,
};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Smallest and largest RSA keys SES accepts for BYODKIM.
const BITS: std::ops::RangeInclusive<usize> = 1024..=2048;
/// Longest input considered (a 2048-bit PKCS#8 PEM is about 1,700 characters).
const MAX_INPUT_CHARS: usize = 20_480;
/// The PKCS#8 algorithm identifiers worth naming.
const RSA_OID: &str = "1.2.840.113549.1.1.1";
const EC_OID: &str = "1.2.840.10045.2.1";
const ED25519_OID: &str = "1.3.101.112";

/// A checked RSA private key, ready for SES, and its public half.
pub struct SigningKey {
    der_base64: SecretString,
    /// The modulus size.
    pub bits: usize,
    /// Base64 of the DER SubjectPublicKeyInfo: the `p=` of the DKIM TXT record.
    pub public_key: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("bits", &self.bits)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// Base64 DER of the private key, as SES's `DomainSigningPrivateKey` wants it.
    pub fn for_ses(&self) -> &str {
        self.der_base64.expose_secret()
    }
}

/// Why a pasted key cannot be used. The messages never quote the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing pasted.
    #[error("Paste a private key, or choose \"Generate a 2048-bit key for me\".")]
    Empty,
    /// Far too long to be an RSA key SES accepts.
    #[error("That is too long to be a 1024–2048-bit RSA private key.")]
    TooLong,
    /// Protected by a passphrase.
    #[error(
        "The key is encrypted with a passphrase. SES needs it unencrypted: `openssl pkey -in key.pem -out plain.pem`."
    )]
    Encrypted,
    /// A key, but not RSA.
    #[error("That is {0}; SES signs DKIM with RSA keys only.")]
    NotRsa(&'static str),
    /// Public, not private.
    #[error("That is a public key; paste the private key (SES derives the public one).")]
    PublicKey,
    /// Not a key at all, or damaged.
    #[error("That is not a readable RSA private key: {0}.")]
    Malformed(&'static str),
    /// Outside SES's bounds.
    #[error("The RSA key is {0} bits; SES accepts 1024 to 2048 bits.")]
    WrongSize(usize),
}

/// Checks a pasted key: PEM (`RSA PRIVATE KEY` or `PRIVATE KEY`, LF or CRLF) or bare base64
/// of the DER.
pub fn parse(input: &SecretString) -> Result<SigningKey, KeyError> {
    let text = input.expose_secret().trim();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.len() > MAX_INPUT_CHARS {
        return Err(KeyError::TooLong);
    }
    let der = if text.contains("-----BEGIN") {
        from_pem(text)?
    } else {
        from_base64(text)?
    };
    let key = RsaPrivateKey::from_pkcs1_der(&der).or_else(|_| from_pkcs8(&der))?;
    finish(key, der)
}

/// A fresh 2048-bit key (for "generate one for me").
pub fn generate() -> Result<SigningKey, KeyError> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|_| KeyError::Malformed("the key could not be generated"))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|_| KeyError::Malformed("the key could not be encoded"))?;
    finish(key, Zeroizing::new(der.as_bytes().to_vec()))
}

fn finish(key: RsaPrivateKey, der: Zeroizing<Vec<u8>>) -> Result<SigningKey, KeyError> {
    let bits = key.n().bits();
    if !BITS.contains(&bits) {
        return Err(KeyError::WrongSize(bits));
    }
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|_| KeyError::Malformed("its public half could not be encoded"))?;
    Ok(SigningKey {
        der_base64: SecretString::from(STANDARD.encode(der.as_slice())),
        bits,
        public_key: STANDARD.encode(public.as_bytes()),
    })
}

fn from_pem(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // Traditional OpenSSL encryption puts headers inside the armour; PKCS#8 has its label.
    if text.contains("ENCRYPTED") {
        return Err(KeyError::Encrypted);
    }
    let normalised = Zeroizing::new(text.replace("\r\n", "\n").replace('\r', "\n"));
    let (label, der) = pem_rfc7468::decode_vec(normalised.as_bytes())
        .map_err(|_| KeyError::Malformed("the PEM armour or the base64 inside it is damaged"))?;
    let der = Zeroizing::new(der);
    match label {
        "RSA PRIVATE KEY" | "PRIVATE KEY" => Ok(der),
        "EC PRIVATE KEY" => Err(KeyError::NotRsa("an EC key")),
        "OPENSSH PRIVATE KEY" => Err(KeyError::NotRsa(
            "an OpenSSH-format key (convert it: ssh-keygen -p -m PKCS8 -f key)",
        )),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::PublicKey),
        "CERTIFICATE" => Err(KeyError::Malformed(
            "it is a certificate, not a private key",
        )),
        _ => Err(KeyError::Malformed("the PEM label is not a private key")),
    }
}

fn from_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    STANDARD
        .decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Malformed("it is neither PEM nor base64"))
}

/// PKCS#8, naming the algorithm when it is not RSA.
fn from_pkcs8(der: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    let info = PrivateKeyInfo::try_from(der).map_err(|_| {
        KeyError::Malformed("it is not an unencrypted PKCS#1 or PKCS#8 private key")
    })?;
    match info.algorithm.oid.to_string().as_str() {
        RSA_OID => RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|_| KeyError::Malformed("the RSA key inside is damaged")),
        EC_OID => Err(KeyError::NotRsa("an EC key")),
        ED25519_OID => Err(KeyError::NotRsa("an Ed25519 key")),
        _ => Err(KeyError::NotRsa("not an RSA key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::LineEnding;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    fn rsa(bits: usize) -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rand::thread_rng(), bits).unwrap()
    }

    #[test]
    fn pem_pkcs1_pkcs8_crlf_and_bare_base64_all_give_the_same_der() {
        let key = rsa(1024);
        let pkcs1_der = key.to_pkcs1_der().unwrap();
        let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).unwrap();
        let pkcs8 = key.to_pkcs8_pem(LineEnding::CRLF).unwrap();
        let parsed = parse(&secret(&pkcs1)).unwrap();
        assert_eq!(parsed.bits, 1024);
        assert_eq!(parsed.for_ses(), STANDARD.encode(pkcs1_der.as_bytes()));
        assert!(!parsed.for_ses().contains(['\n', '-']));
        let from_pkcs8 = parse(&secret(&pkcs8)).unwrap();
        assert_eq!(from_pkcs8.public_key, parsed.public_key);
        // Bare base64, wrapped at 64 characters as tools print it.
        let wrapped: Vec<String> = parsed
            .for_ses()
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let bare = parse(&secret(&wrapped.join("\n"))).unwrap();
        assert_eq!(bare.for_ses(), parsed.for_ses());
        assert!(!format!("{parsed:?}").contains(parsed.for_ses()));
    }

    /// Throwaway keys made with openssl (tests/fixtures/keys/README.md).
    macro_rules! fixture {
        ($file:literal) => {
            include_str!(concat!("../tests/fixtures/keys/", $file))
        };
    }

    #[test]
    fn bad_keys_are_refused_with_the_reason() {
        let pkcs1 = fixture!("rsa-2048-pkcs1.pem");
        let truncated = &pkcs1[..pkcs1.len() / 2];
        let cases: [(&str, &str, KeyError); 12] = [
            ("empty", "  \n ", KeyError::Empty),
            ("512-bit", fixture!("rsa-512.pem"), KeyError::WrongSize(512)),
            (
                "4096-bit",
                fixture!("rsa-4096.pem"),
                KeyError::WrongSize(4096),
            ),
            (
                "EC (PKCS#8)",
                fixture!("ec-p256.pem"),
                KeyError::NotRsa("an EC key"),
            ),
            (
                "EC (SEC1)",
                fixture!("ec-traditional.pem"),
                KeyError::NotRsa("an EC key"),
            ),
            (
                "Ed25519",
                fixture!("ed25519.pem"),
                KeyError::NotRsa("an Ed25519 key"),
            ),
            (
                "encrypted PKCS#8",
                fixture!("rsa-2048-encrypted.pem"),
                KeyError::Encrypted,
            ),
            (
                "encrypted PKCS#1",
                fixture!("rsa-2048-encrypted-traditional.pem"),
                KeyError::Encrypted,
            ),
            (
                "garbage",
                "hello, this is not a key",
                KeyError::Malformed("it is neither PEM nor base64"),
            ),
            (
                "base64 of nothing useful",
                "AAAA",
                KeyError::Malformed("it is not an unencrypted PKCS#1 or PKCS#8 private key"),
            ),
            (
                "truncated PEM",
                truncated,
                KeyError::Malformed("the PEM armour or the base64 inside it is damaged"),
            ),
            ("too long", &"A".repeat(30_000), KeyError::TooLong),
        ];
        for (what, input, expected) in cases {
            let error = parse(&secret(input)).expect_err(what);
            assert_eq!(error, expected, "{what}");
            // No message ever quotes the input.
            if input.len() > 8 {
                assert!(!error.to_string().contains(input.trim()), "{what}");
            }
        }
        let crlf = pkcs1.replace('\n', "\r\n");
        assert_eq!(parse(&secret(&crlf)).unwrap().bits, 2048, "PEM with CRLF");
    }

    #[test]
    fn generated_keys_are_2048_bit_pkcs8() {
        let key = generate().unwrap();
        assert_eq!(key.bits, 2048);
        let der = STANDARD.decode(key.for_ses()).unwrap();
        assert!(RsaPrivateKey::from_pkcs8_der(&der).is_ok());
    }
}
