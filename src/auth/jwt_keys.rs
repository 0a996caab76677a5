//! The SSO proxy's public keys for `--auth jwt`: one PEM file read at start, a JWKS
//! document, or AWS ALB's one PEM per key id. Fetched keys are cached. An unknown key id
//! fetches again, but outside the cache's lock and one fetch at a time: tokens with known
//! keys keep verifying while the key server is slow, and a flood of made-up key ids makes
//! one fetch per `refetch_after`, not one each.

use std::{collections::HashMap, sync::Arc, time::Duration};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse},
};
use tokio::sync::{Mutex, RwLock};

/// What an RSA key may verify.
const RSA_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
];
/// Largest key document read (a JWKS of a few keys is a few KB).
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Most ALB keys remembered (ALB rotates its keys; old ones are no longer asked for).
const MAX_FETCHED_KEYS: usize = 64;
/// Longest wait for a key document.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A public key and the algorithms it may verify: its family's (RSA: RS*/PS256; EC: ES256
/// for P-256, ES384 for P-384), narrowed to the JWK's `alg` when it names one. A token's
/// `alg` is checked against its key before `jsonwebtoken::crypto::verify`, which assumes
/// the two match (and panics when an EC algorithm meets an RSA key).
pub struct VerifyingKey {
    /// The key itself.
    pub key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

impl VerifyingKey {
    /// An RSA or EC public key in PEM. (A PEM carries no curve name jsonwebtoken reads, so
    /// an EC key may verify either EC algorithm; a wrong curve only fails the signature.)
    pub fn from_pem(pem: &[u8]) -> Option<Self> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Some(Self {
                key,
                algorithms: RSA_ALGORITHMS.to_vec(),
            });
        }
        DecodingKey::from_ec_pem(pem).ok().map(|key| Self {
            key,
            algorithms: vec![Algorithm::ES256, Algorithm::ES384],
        })
    }

    /// An ALB key: EC in PEM, for ES256 only (what ALB signs with).
    fn from_alb_pem(pem: &[u8]) -> Option<Self> {
        DecodingKey::from_ec_pem(pem).ok().map(|key| Self {
            key,
            algorithms: vec![Algorithm::ES256],
        })
    }

    /// A JWKS entry, if it is a signing key of a family dkimdash accepts.
    fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|usage| *usage != PublicKeyUse::Signature)
        {
            return None;
        }
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => RSA_ALGORITHMS.to_vec(),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => return None,
            },
            _ => return None,
        };
        let algorithms = match &jwk.common.key_algorithm {
            Some(named) => {
                let named: Algorithm = named.to_string().parse().ok()?;
                if !family.contains(&named) {
                    return None;
                }
                vec![named]
            }
            None => family,
        };
        Some(Self {
            key: DecodingKey::from_jwk(jwk).ok()?,
            algorithms,
        })
    }

    /// Whether a token signed with `alg` may be verified with this key.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }
}

/// Where the proxy's public keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// A JWKS document, fetched and cached.
    JwksUrl(String),
    /// One PEM public key (RSA or EC), read at start.
    Pem(Arc<VerifyingKey>),
    /// AWS ALB: one PEM per key id, at a URL the signing ALB's region gives.
    AlbKeyEndpoint,
}

// `DecodingKey` has no Debug; name the keys instead.
impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::JwksUrl(url) => f.debug_tuple("JwksUrl").field(url).finish(),
            Self::Pem(_) => f.write_str("Pem(..)"),
            Self::AlbKeyEndpoint => f.write_str("AlbKeyEndpoint"),
        }
    }
}

/// Which key a token asks for.
#[derive(Clone, Copy, Debug)]
pub enum KeyWanted<'a> {
    /// By its `kid` (none: the JWKS's only key).
    Kid(Option<&'a str>),
    /// An ALB key, at this URL.
    At(&'a str),
}

/// Why no key could be had. The words never quote the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No such key (after fetching the keys again, or while waiting to).
    #[error("the assertion was signed with an unknown key")]
    Unknown,
    /// The keys could not be fetched.
    #[error("the proxy's keys could not be fetched: {0}")]
    Fetch(String),
}

/// The keys, cached; cheap to clone.
#[derive(Clone, Debug)]
pub struct KeyStore {
    source: KeySource,
    /// Least time after a fetch that did not help before another.
    refetch_after: Duration,
    cache: Arc<RwLock<KeyCache>>,
    /// Held for the length of a fetch: one at a time.
    fetching: Arc<Mutex<()>>,
    http: reqwest::Client,
}

#[derive(Default)]
struct KeyCache {
    /// By `kid` (JWKS) or by URL (ALB).
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// Keys without a `kid` (a JWKS of one key may omit it).
    unnamed: Vec<Arc<VerifyingKey>>,
    /// When a fetch last failed or did not bring the key asked for.
    fruitless_at: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .field("unnamed", &self.unnamed.len())
            .finish()
    }
}

/// What one fetch brought.
enum Fetched {
    Set(KeyCache),
    One(VerifyingKey),
}

impl KeyStore {
    /// Keys from `source`; fetched ones on first use. `plain_http` allows http URLs
    /// (checked to be on loopback by [`check_key_url`]); otherwise only https is fetched,
    /// redirects included.
    pub fn new(source: KeySource, refetch_after: Duration, plain_http: bool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .https_only(!plain_http)
            .build()
            .expect("an HTTP client with default TLS settings");
        Self {
            source,
            refetch_after,
            cache: Default::default(),
            fetching: Default::default(),
            http,
        }
    }

    /// The key a token asks for, fetching the keys again if it is not known.
    pub async fn key(&self, wanted: KeyWanted<'_>) -> Result<Arc<VerifyingKey>, KeyError> {
        let (lookup, url) = match (&self.source, wanted) {
            (KeySource::Pem(key), _) => return Ok(key.clone()),
            (KeySource::JwksUrl(url), KeyWanted::Kid(kid)) => (kid, url.as_str()),
            (KeySource::AlbKeyEndpoint, KeyWanted::At(url)) => (Some(url), url),
            _ => return Err(KeyError::Unknown),
        };
        if let Some(key) = self.cache.read().await.find(lookup) {
            return Ok(key);
        }
        // Unknown key: the proxy may have rotated its keys, so fetch again, one fetch at a
        // time and without holding the cache.
        let _one_fetch = self.fetching.lock().await;
        {
            let cache = self.cache.read().await;
            if let Some(key) = cache.find(lookup) {
                return Ok(key);
            }
            if cache
                .fruitless_at
                .is_some_and(|at| at.elapsed() < self.refetch_after)
            {
                return Err(KeyError::Unknown);
            }
        }
        let fetched = self.fetch(url).await;
        let mut cache = self.cache.write().await;
        match fetched {
            Ok(Fetched::Set(set)) => {
                cache.keys = set.keys;
                cache.unnamed = set.unnamed;
            }
            Ok(Fetched::One(key)) => {
                if cache.keys.len() >= MAX_FETCHED_KEYS {
                    cache.keys.clear();
                }
                cache.keys.insert(url.to_owned(), Arc::new(key));
            }
            Err(error) => {
                cache.fruitless_at = Some(tokio::time::Instant::now());
                return Err(error);
            }
        }
        let found = cache.find(lookup);
        if found.is_none() {
            cache.fruitless_at = Some(tokio::time::Instant::now());
        }
        found.ok_or(KeyError::Unknown)
    }

    async fn fetch(&self, url: &str) -> Result<Fetched, KeyError> {
        let body = self.download(url).await?;
        match self.source {
            KeySource::AlbKeyEndpoint => VerifyingKey::from_alb_pem(&body)
                .map(Fetched::One)
                .ok_or_else(|| KeyError::Fetch("not an EC public key in PEM".to_owned())),
            _ => serde_json::from_slice::<JwkSet>(&body)
                .map(|set| Fetched::Set(KeyCache::from_set(&set)))
                .map_err(|e| KeyError::Fetch(format!("not a JWKS document ({e})"))),
        }
    }

    /// The document at `url`, refused past [`MAX_DOCUMENT_BYTES`].
    async fn download(&self, url: &str) -> Result<Vec<u8>, KeyError> {
        let failed = |e: reqwest::Error| KeyError::Fetch(e.without_url().to_string());
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(failed)?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(KeyError::Fetch(format!(
                    "the key document is over {} KB",
                    MAX_DOCUMENT_BYTES / 1024
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl KeyCache {
    fn from_set(set: &JwkSet) -> Self {
        let mut cache = Self::default();
        for jwk in &set.keys {
            let Some(key) = VerifyingKey::from_jwk(jwk) else {
                tracing::warn!(kid = ?jwk.common.key_id, "JWKS key skipped: not a usable signing key");
                continue;
            };
            let key = Arc::new(key);
            match &jwk.common.key_id {
                Some(kid) => {
                    cache.keys.insert(kid.clone(), key);
                }
                None => cache.unnamed.push(key),
            }
        }
        cache
    }

    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.keys.get(kid).cloned(),
            None if self.unnamed.len() + self.keys.len() == 1 => self
                .unnamed
                .first()
                .or_else(|| self.keys.values().next())
                .cloned(),
            None => None,
        }
    }
}

/// A key URL given as `flag`: https, or plain http only to a loopback address (a proxy's
/// key server beside dkimdash, or a test). Keys read over plain http from elsewhere could
/// be swapped by anyone on the path.
pub fn check_key_url(flag: &str, url: &str) -> Result<(), String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("{flag} {url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(&parsed) => Ok(()),
        _ => Err(format!(
            "{flag} {url:?} must be an https URL (plain http only on loopback): keys read over plain http could be replaced on the way"
        )),
    }
}

/// Whether `url` has a loopback host (`localhost`, 127.0.0.0/8, `[::1]`).
pub fn is_loopback_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` is a plain-http URL (allowed by [`check_key_url`] only on loopback).
pub fn is_plain_http(url: &str) -> bool {
    url.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("http:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_are_https_unless_on_loopback() {
        for good in [
            "https://auth.example.com/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(check_key_url("--jwks-url", good).is_ok(), "{good}");
        }
        for bad in [
            "http://auth.example.com/jwks",
            "http://10.0.0.5/jwks",
            "ftp://auth.example.com/jwks",
            "file:///etc/jwks.json",
            "not a url",
        ] {
            let error = check_key_url("--jwks-url", bad).unwrap_err();
            assert!(error.contains("--jwks-url"), "{error}");
        }
    }
}
