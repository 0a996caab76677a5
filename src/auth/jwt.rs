//! `--auth jwt`: a signed assertion the SSO proxy puts in a header (Pomerium, Cloudflare
//! Access, AWS ALB, Google IAP), verified with the proxy's public keys: signature, `exp`
//! and `nbf` (with a little leeway), `iss`, and `aud` when configured. Keys come from a
//! JWKS URL (cached; fetched again when a token names an unknown `kid`) or a PEM file.
//!
//! Parsing is done here rather than by `jsonwebtoken::decode` because ALB pads its base64
//! segments with `=`, which that function refuses; signatures are still checked by
//! `jsonwebtoken`'s crypto over the exact bytes the proxy signed.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName};
use base64::{
    Engine as _,
    alphabet::URL_SAFE,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use jsonwebtoken::{Algorithm, crypto};
use serde::Deserialize;
use serde_json::Value;

use super::{
    Claims,
    alb::AlbSigner,
    headers,
    jwt_keys::{KeyError, KeySource, KeyStore, KeyWanted, is_plain_http},
};

/// Clock difference tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;
/// Longest token accepted (a proxy's assertion is a few KB at most).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Asymmetric algorithms only: a shared-secret (HS*) token could be forged by anyone who
/// has the public key.
const ALLOWED: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Base64url with or without `=` padding (ALB pads, the others do not).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a token must say to be believed, and how to read the user from it.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// The header carrying the token.
    pub header: HeaderName,
    /// The keys.
    pub keys: KeySource,
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud` (one of the token's), when set.
    pub audience: Option<String>,
    /// ALB: the load balancers whose tokens are believed (the token's `signer` must be one);
    /// empty for other proxies.
    pub alb_signers: Vec<AlbSigner>,
    /// The claim naming the user (`email`, else `sub`, by default).
    pub user_claim: String,
    /// The claim listing groups (an array of strings, or one comma-separated string).
    pub groups_claim: String,
    /// Least time after a fetch that did not help before another for an unknown key id.
    pub refetch_after: Duration,
}

/// Why a token was not accepted. The words never quote the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// No token header.
    #[error("no {0} header")]
    Missing(HeaderName),
    /// Not three base64url JSON parts, too long, or not UTF-8.
    #[error("the assertion is not a well-formed JWT")]
    Malformed,
    /// `alg` is none, symmetric or unknown.
    #[error("the assertion's algorithm is not accepted")]
    Algorithm,
    /// No key with that `kid` (after fetching the keys again).
    #[error("the assertion was signed with an unknown key")]
    UnknownKey,
    /// The keys could not be fetched.
    #[error("the proxy's keys could not be fetched: {0}")]
    Keys(String),
    /// The signature does not verify.
    #[error("the assertion's signature is not valid")]
    Signature,
    /// Expired, or not yet valid.
    #[error("the assertion is expired or not yet valid")]
    Time,
    /// Wrong or missing `iss`.
    #[error("the assertion was issued by someone else")]
    Issuer,
    /// Wrong or missing `aud`.
    #[error("the assertion is meant for another application")]
    Audience,
    /// ALB: signed by a load balancer that is not one of `--jwt-alb-arn` (or no `signer`).
    #[error("the assertion was signed by another load balancer")]
    Signer,
    /// No usable user claim.
    #[error("the assertion names no user")]
    NoUser,
}

#[derive(Deserialize)]
struct TokenHeader {
    alg: String,
    kid: Option<String>,
    /// ALB: the ARN of the load balancer that signed.
    signer: Option<String>,
}

impl From<KeyError> for JwtError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Unknown => Self::UnknownKey,
            KeyError::Fetch(reason) => Self::Keys(reason),
        }
    }
}

/// Verifies assertions; cheap to clone (the key cache is shared).
#[derive(Clone, Debug)]
pub struct JwtVerifier {
    settings: JwtSettings,
    keys: KeyStore,
}

impl JwtVerifier {
    /// A verifier for `settings`; keys are fetched on first use. Plain-http key URLs are
    /// fetched only if the options let them through (on loopback).
    pub fn new(settings: JwtSettings) -> Self {
        let plain_http = match &settings.keys {
            KeySource::JwksUrl(url) => is_plain_http(url),
            KeySource::AlbKeyEndpoint => settings
                .alb_signers
                .iter()
                .any(|signer| is_plain_http(&signer.keys_url)),
            KeySource::Pem(_) => false,
        };
        Self {
            keys: KeyStore::new(settings.keys.clone(), settings.refetch_after, plain_http),
            settings,
        }
    }

    /// The header it reads.
    pub fn header(&self) -> &HeaderName {
        &self.settings.header
    }

    /// Who the assertion in `headers` names, if it verifies at time `now` (unix seconds).
    pub async fn identify(&self, headers: &HeaderMap, now: i64) -> Result<Claims, JwtError> {
        let token = headers
            .get(&self.settings.header)
            .ok_or_else(|| JwtError::Missing(self.settings.header.clone()))?
            .to_str()
            .map_err(|_| JwtError::Malformed)?
            .trim();
        let token = parse(token)?;
        // The signer is checked before any key is fetched: a token from another ALB costs
        // no request to AWS.
        let signer = self.alb_signer(&token)?;
        let key_url = match (&self.settings.keys, signer) {
            (KeySource::AlbKeyEndpoint, Some(signer)) => Some(
                token
                    .kid
                    .as_deref()
                    .and_then(|kid| signer.key_url(kid))
                    .ok_or(JwtError::UnknownKey)?,
            ),
            _ => None,
        };
        let wanted = match &key_url {
            Some(url) => KeyWanted::At(url),
            None => KeyWanted::Kid(token.kid.as_deref()),
        };
        let key = self.keys.key(wanted).await?;
        if !key.accepts(token.alg) {
            return Err(JwtError::Algorithm);
        }
        let signature = token.signature.trim_end_matches('=');
        match crypto::verify(signature, token.message.as_bytes(), &key.key, token.alg) {
            Ok(true) => {}
            _ => return Err(JwtError::Signature),
        }
        check_claims(&token.claims, &self.settings, now)?;
        read_claims(&token.claims, &self.settings)
    }

    /// ALB: the configured load balancer the token says signed it; `None` for other proxies.
    fn alb_signer(&self, token: &Parsed<'_>) -> Result<Option<&AlbSigner>, JwtError> {
        if self.settings.alb_signers.is_empty() {
            return Ok(None);
        }
        let signer = token.signer.as_deref().ok_or(JwtError::Signer)?;
        self.settings
            .alb_signers
            .iter()
            .find(|known| known.arn == signer)
            .map(Some)
            .ok_or(JwtError::Signer)
    }
}

/// A token split and decoded, not yet verified.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// `header.payload` exactly as received: what the signature covers.
    pub message: &'a str,
    /// The signature part.
    pub signature: &'a str,
    /// The accepted algorithm.
    pub alg: Algorithm,
    /// The key id.
    pub kid: Option<String>,
    /// ALB: the ARN of the load balancer that signed.
    pub signer: Option<String>,
    /// The claims.
    pub claims: serde_json::Map<String, Value>,
}

/// Splits and decodes `token` (pure: no key, no clock).
pub fn parse(token: &str) -> Result<Parsed<'_>, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed);
    }
    let (message, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
    let (header, payload) = message.split_once('.').ok_or(JwtError::Malformed)?;
    if payload.contains('.') || signature.is_empty() {
        return Err(JwtError::Malformed);
    }
    let decode = |part: &str| BASE64URL.decode(part).map_err(|_| JwtError::Malformed);
    let header: TokenHeader =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    let alg = header
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|alg| ALLOWED.contains(alg))
        .ok_or(JwtError::Algorithm)?;
    let claims = match serde_json::from_slice(&decode(payload)?) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err(JwtError::Malformed),
    };
    Ok(Parsed {
        message,
        signature,
        alg,
        kid: header.kid,
        signer: header.signer,
        claims,
    })
}

/// `exp` (required), `nbf`, `iss` and `aud` against `settings` at `now`.
pub fn check_claims(
    claims: &serde_json::Map<String, Value>,
    settings: &JwtSettings,
    now: i64,
) -> Result<(), JwtError> {
    let number = |name: &str| claims.get(name).and_then(Value::as_f64);
    match number("exp") {
        Some(exp) if now as f64 <= exp + LEEWAY_SECS as f64 => {}
        _ => return Err(JwtError::Time),
    }
    if number("nbf").is_some_and(|nbf| now as f64 + (LEEWAY_SECS as f64) < nbf) {
        return Err(JwtError::Time);
    }
    if claims.get("iss").and_then(Value::as_str) != Some(settings.issuer.as_str()) {
        return Err(JwtError::Issuer);
    }
    if let Some(audience) = &settings.audience {
        let matches = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        };
        if !matches {
            return Err(JwtError::Audience);
        }
    }
    Ok(())
}

/// The user, email and groups the claims name.
pub fn read_claims(
    claims: &serde_json::Map<String, Value>,
    settings: &JwtSettings,
) -> Result<Claims, JwtError> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .and_then(headers::clean)
    };
    let name = text(&settings.user_claim)
        .or_else(|| text("sub"))
        .ok_or(JwtError::NoUser)?;
    let groups = match claims.get(&settings.groups_claim) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(headers::clean)
            .take(headers::MAX_GROUPS)
            .collect(),
        Some(Value::String(list)) => list
            .split(',')
            .filter_map(headers::clean)
            .take(headers::MAX_GROUPS)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        name,
        email: text("email"),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> JwtSettings {
        JwtSettings {
            header: HeaderName::from_static("x-pomerium-jwt-assertion"),
            keys: KeySource::JwksUrl("http://127.0.0.1:1/jwks".into()),
            issuer: "https://auth.example.com".into(),
            audience: Some("dkim.example.com".into()),
            alb_signers: Vec::new(),
            user_claim: "email".into(),
            groups_claim: "groups".into(),
            refetch_after: Duration::ZERO,
        }
    }

    fn token(header: &str, claims: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", enc(header), enc(claims))
    }

    #[test]
    fn none_and_symmetric_algorithms_are_refused() {
        for alg in ["none", "HS256", "NONE", ""] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}");
            assert_eq!(parse(&t).unwrap_err(), JwtError::Algorithm, "{alg}");
        }
        assert!(parse(&token(r#"{"alg":"ES256","kid":"k"}"#, "{}")).is_ok());
    }

    #[test]
    fn padded_base64_as_alb_sends_it_is_read() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE.encode(s);
        let padded = format!("{}.{}.c2ln==", enc(r#"{"alg":"ES256"}"#), enc(r#"{"a":1}"#));
        assert!(padded.contains('='));
        let parsed = parse(&padded).unwrap();
        assert_eq!(parsed.alg, Algorithm::ES256);
        assert_eq!(parsed.claims["a"], 1);
    }

    #[test]
    fn time_issuer_and_audience_are_checked() {
        let claims = |json: &str| match serde_json::from_str(json).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let ok = r#"{"exp":1000,"nbf":900,"iss":"https://auth.example.com","aud":["x","dkim.example.com"]}"#;
        assert_eq!(check_claims(&claims(ok), &settings(), 950), Ok(()));
        assert_eq!(
            check_claims(&claims(ok), &settings(), 1000 + LEEWAY_SECS),
            Ok(())
        );
        assert_eq!(
            check_claims(&claims(ok), &settings(), 1001 + LEEWAY_SECS),
            Err(JwtError::Time)
        );
        assert_eq!(
            check_claims(&claims(ok), &settings(), 860),
            Err(JwtError::Time)
        );
        let no_exp = r#"{"iss":"https://auth.example.com","aud":"dkim.example.com"}"#;
        assert_eq!(
            check_claims(&claims(no_exp), &settings(), 950),
            Err(JwtError::Time)
        );
        let other_iss = r#"{"exp":1000,"iss":"https://evil.example","aud":"dkim.example.com"}"#;
        assert_eq!(
            check_claims(&claims(other_iss), &settings(), 950),
            Err(JwtError::Issuer)
        );
        let other_aud = r#"{"exp":1000,"iss":"https://auth.example.com","aud":"other"}"#;
        assert_eq!(
            check_claims(&claims(other_aud), &settings(), 950),
            Err(JwtError::Audience)
        );
    }

    #[test]
    fn the_user_is_the_email_else_the_subject_and_groups_come_either_way() {
        let map = |json: &str| match serde_json::from_str(json).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let claims = read_claims(
            &map(r#"{"sub":"123","email":"a@example.com","groups":["ops"," staff ",""]}"#),
            &settings(),
        )
        .unwrap();
        assert_eq!(claims.name, "a@example.com");
        assert_eq!(claims.groups, ["ops", "staff"]);
        let claims =
            read_claims(&map(r#"{"sub":"123","groups":"ops, staff"}"#), &settings()).unwrap();
        assert_eq!(claims.name, "123");
        assert_eq!(claims.groups, ["ops", "staff"]);
        assert_eq!(
            read_claims(&map(r#"{"email":" "}"#), &settings()),
            Err(JwtError::NoUser)
        );
    }

    proptest! {
        #[test]
        fn no_token_text_makes_the_parser_panic(text in ".{0,600}") {
            let _ = parse(&text);
        }

        #[test]
        fn no_three_part_token_makes_the_parser_panic(
            a in proptest::collection::vec(any::<u8>(), 0..200),
            b in proptest::collection::vec(any::<u8>(), 0..200),
            c in "[A-Za-z0-9_=-]{0,80}",
        ) {
            let enc = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let _ = parse(&format!("{}.{}.{c}", enc(&a), enc(&b)));
        }
    }
}
