//! `--auth jwt`: assertions signed like Pomerium's (RS256, keys from a JWKS served on
//! loopback) and ALB's (ES256 with padded base64, a `signer`, keys from a regional key
//! endpoint served on loopback), through the whole router. Every bad token is answered 401.
#![cfg(feature = "ssr")]

mod support;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Json, Router,
    body::Body,
    extract::Path,
    http::{Request, StatusCode},
    routing::get,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::Parser;
use dkimdash::{model::SesBackend, router::router, server::config::Config};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use rsa::{
    RsaPrivateKey, pkcs1::DecodeRsaPrivateKey, pkcs8::DecodePrivateKey, traits::PublicKeyParts,
};
use serde_json::{Value, json};
use support::{fetch, read_inventory, simulator, state_with};
use tokio::sync::Semaphore;

const RSA_OLD: &str = include_str!("fixtures/keys/rsa-2048-pkcs1.pem");
const RSA_NEW: &str = include_str!("fixtures/keys/rsa-4096.pem");
const EC_PRIVATE: &str = include_str!("fixtures/keys/ec-p256.pem");
const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "dkim.example.com";
const HEADER: &str = "x-pomerium-jwt-assertion";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rsa_key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
        .unwrap()
}

/// The public half of `pem` as a JWK named `kid`.
fn jwk(pem: &str, kid: &str) -> Value {
    let key = rsa_key(pem);
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

/// A JWKS server on loopback whose document the test can change (key rotation).
async fn jwks_server(keys: Arc<Mutex<Vec<Value>>>) -> String {
    let app = Router::new().route(
        "/.well-known/pomerium/jwks.json",
        get(move || {
            let keys = keys.lock().unwrap().clone();
            async move { Json(json!({ "keys": keys })) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/.well-known/pomerium/jwks.json")
}

fn claims(overrides: Value) -> Value {
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "email": "erin@example.com",
        "groups": ["staff", "dkim-operators"], "iat": now(), "exp": now() + 300,
    });
    for (key, value) in overrides.as_object().unwrap() {
        claims[key] = value.clone();
    }
    claims
}

fn rs256(pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    encode(&header, claims, &key).unwrap()
}

async fn status_with(app: &Router, header: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get("/").body(Body::empty()).unwrap();
    if let Some(token) = token {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(header.as_bytes()).unwrap(),
            token.parse().unwrap(),
        );
    }
    let (status, _, body) = fetch(app, request).await;
    (status, body)
}

async fn app_with_flags(flags: &[&str]) -> Router {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 0).await;
    // The simulator must outlive the test's requests.
    std::mem::forget(sim);
    let config = Config::try_parse_from(
        [
            "dkimdash",
            "--auth",
            "jwt",
            "--operator-group",
            "dkim-operators",
        ]
        .iter()
        .chain(flags),
    )
    .unwrap();
    let auth = config.auth.auth("0.0.0.0:3000".parse().unwrap()).unwrap();
    router(state_with(inventory, SesBackend::Simulator).with_auth(auth))
}

/// The Pomerium preset, its keys from the JWKS at `jwks`.
async fn pomerium_app(jwks: &str) -> Router {
    app_with_flags(&[
        "--jwt-preset",
        "pomerium",
        "--jwks-url",
        jwks,
        "--jwt-issuer",
        ISSUER,
        "--jwt-audience",
        AUDIENCE,
    ])
    .await
}

#[tokio::test]
async fn pomerium_style_assertions_are_verified_against_the_jwks() {
    let keys = Arc::new(Mutex::new(vec![jwk(RSA_OLD, "old")]));
    let jwks = jwks_server(keys.clone()).await;
    let app = pomerium_app(&jwks).await;

    let good = rs256(RSA_OLD, "old", &claims(json!({})));
    let (status, page) = status_with(&app, HEADER, Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("erin@example.com (operator)"), "{page}");

    // The proxy rotates its key: a token with the new kid makes dkimdash fetch the JWKS
    // again and accept it.
    keys.lock().unwrap().push(jwk(RSA_NEW, "new"));
    let rotated = rs256(RSA_NEW, "new", &claims(json!({"groups": ["staff"]})));
    let (status, page) = status_with(&app, HEADER, Some(&rotated)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("erin@example.com (viewer)"), "{page}");

    let refused = [
        ("no token", None),
        (
            "wrong signature",
            Some(rs256(RSA_NEW, "old", &claims(json!({})))),
        ),
        (
            "expired",
            Some(rs256(RSA_OLD, "old", &claims(json!({"exp": now() - 120})))),
        ),
        (
            "not yet valid",
            Some(rs256(RSA_OLD, "old", &claims(json!({"nbf": now() + 600})))),
        ),
        (
            "wrong aud",
            Some(rs256(RSA_OLD, "old", &claims(json!({"aud": "other-app"})))),
        ),
        (
            "wrong iss",
            Some(rs256(
                RSA_OLD,
                "old",
                &claims(json!({"iss": "https://evil.example"})),
            )),
        ),
        (
            "unknown kid",
            Some(rs256(RSA_OLD, "nobody", &claims(json!({})))),
        ),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
            )),
        ),
        ("garbage", Some("not.a.token".to_owned())),
    ];
    let mut answers = std::collections::BTreeSet::new();
    for (case, token) in refused {
        let (status, body) = status_with(&app, HEADER, token.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert!(
            !body.contains("erin"),
            "{case}: the refusal quotes no claim"
        );
        answers.insert(body);
    }
    // One answer whatever failed: which check it was is for the log, not for a forger.
    assert_eq!(answers.len(), 1, "{answers:?}");
}

const ALB_ARN: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dkim/50dc6c495c0c9188";
/// Another ALB in the same region: signed with the same regional keys.
const OTHER_ALB_ARN: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:210987654321:loadbalancer/app/evil/0123456789abcdef";

/// An ALB-style token: the header names the key and the signer, every part is padded with
/// `=` as ALB pads it, and the signature covers the padded parts.
fn alb_token(signer: Option<&str>, kid: &str, claims: &Value) -> String {
    let pad = |part: String| format!("{part}{}", "=".repeat((4 - part.len() % 4) % 4));
    let mut header =
        json!({"alg": "ES256", "typ": "JWT", "kid": kid, "iss": ISSUER, "client": "c"});
    if let Some(signer) = signer {
        header["signer"] = json!(signer);
    }
    let message = format!(
        "{}.{}",
        pad(URL_SAFE_NO_PAD.encode(header.to_string())),
        pad(URL_SAFE_NO_PAD.encode(claims.to_string()))
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        Algorithm::ES256,
    )
    .unwrap();
    format!("{message}.{}", pad(signature))
}

/// ALB's regional key endpoint on loopback: the P-256 public key at `/keys/kid-1`, 404 for
/// any other key id; counts the requests it gets.
async fn alb_key_endpoint(requests: Arc<AtomicUsize>) -> String {
    let public = include_str!("fixtures/keys/ec-p256-public.pem");
    let app = Router::new().route(
        "/keys/{kid}",
        get(move |Path(kid): Path<String>| {
            requests.fetch_add(1, Ordering::SeqCst);
            async move {
                if kid == "kid-1" {
                    (StatusCode::OK, public)
                } else {
                    (StatusCode::NOT_FOUND, "")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/keys")
}

/// The ALB preset for `ALB_ARN`, its keys at the loopback key endpoint.
async fn alb_app(requests: Arc<AtomicUsize>) -> Router {
    let keys = alb_key_endpoint(requests).await;
    app_with_flags(&[
        "--jwt-preset",
        "alb",
        "--jwt-alb-arn",
        ALB_ARN,
        "--jwt-alb-keys-url",
        &keys,
        "--jwt-issuer",
        ISSUER,
    ])
    .await
}

#[tokio::test]
async fn alb_style_assertions_with_padded_base64_and_the_regional_key() {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = alb_app(requests.clone()).await;
    // A payload whose base64 needs padding (ALB's do, often).
    let mut filler = String::new();
    let token = loop {
        let token = alb_token(Some(ALB_ARN), "kid-1", &claims(json!({ "filler": filler })));
        if token.split('.').nth(1).unwrap().ends_with('=') {
            break token;
        }
        filler.push('x');
    };
    let (status, page) = status_with(&app, "x-amzn-oidc-data", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("erin@example.com"));
    // The key was fetched once and is kept.
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    // The padded parts with a signature over the unpadded message do not verify.
    let parts: Vec<&str> = token.split('.').collect();
    let unpadded = format!(
        "{}.{}",
        parts[0].trim_end_matches('='),
        parts[1].trim_end_matches('=')
    );
    let other_signature = jsonwebtoken::crypto::sign(
        unpadded.as_bytes(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        Algorithm::ES256,
    )
    .unwrap();
    let mismatched = format!("{}.{}.{other_signature}", parts[0], parts[1]);
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&mismatched)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_from_another_alb_with_the_same_regional_key_is_401() {
    let requests = Arc::new(AtomicUsize::new(0));
    let app = alb_app(requests.clone()).await;
    let good = alb_token(Some(ALB_ARN), "kid-1", &claims(json!({})));
    let (status, page) = status_with(&app, "x-amzn-oidc-data", Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "{page}");

    // Someone else's ALB in the region, with their own IdP: a valid signature by the
    // regional key, our issuer and an operator group. Only `signer` tells it apart.
    let forged = alb_token(Some(OTHER_ALB_ARN), "kid-1", &claims(json!({})));
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unsigned = alb_token(None, "kid-1", &claims(json!({})));
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&unsigned)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Refused before any key is fetched.
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    // A key id that would change the key URL is never fetched; an unknown one is.
    let escape = alb_token(Some(ALB_ARN), "../../admin", &claims(json!({})));
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&escape)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    let unknown = alb_token(Some(ALB_ARN), "kid-2", &claims(json!({})));
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&unknown)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

/// An EC public key as a JWK named `kid`, from the P-256 fixture.
fn ec_jwk(kid: &str) -> Value {
    let public = include_str!("fixtures/keys/ec-p256-public.pem");
    let der = pem_rfc7468::decode_vec(public.as_bytes()).unwrap().1;
    // An uncompressed P-256 point is the last 65 bytes of the SubjectPublicKeyInfo.
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 4, "uncompressed point");
    json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    })
}

fn es256(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    encode(
        &header,
        claims,
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_token_whose_algorithm_is_not_its_keys_family_is_401_never_a_panic() {
    // A JWK that names its algorithm verifies only that one.
    let mut rs512_only = jwk(RSA_NEW, "rs512-only");
    rs512_only["alg"] = json!("RS512");
    let keys = Arc::new(Mutex::new(vec![
        jwk(RSA_OLD, "rsa"),
        ec_jwk("ec"),
        rs512_only,
    ]));
    let jwks = jwks_server(keys).await;
    let app = pomerium_app(&jwks).await;
    // The right pairs verify.
    let (status, page) = status_with(
        &app,
        HEADER,
        Some(&rs256(RSA_OLD, "rsa", &claims(json!({})))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, page) = status_with(&app, HEADER, Some(&es256("ec", &claims(json!({}))))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // An EC algorithm naming an RSA key's kid: refused before the crypto is reached.
    let (status, _) = status_with(&app, HEADER, Some(&es256("rsa", &claims(json!({}))))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // An RSA algorithm naming an EC key's kid.
    let (status, _) = status_with(
        &app,
        HEADER,
        Some(&rs256(RSA_OLD, "ec", &claims(json!({})))),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // RS256 against a key whose JWK says RS512 only.
    let (status, _) = status_with(
        &app,
        HEADER,
        Some(&rs256(RSA_NEW, "rs512-only", &claims(json!({})))),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_rsa_token_against_the_alb_presets_ec_key_is_401() {
    let app = alb_app(Arc::new(AtomicUsize::new(0))).await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("kid-1".to_owned());
    let mut token = encode(
        &header,
        &claims(json!({})),
        &EncodingKey::from_rsa_pem(RSA_OLD.as_bytes()).unwrap(),
    )
    .unwrap();
    // Put the signer in, re-signed, so only the algorithm is wrong.
    let parts: Vec<&str> = token.split('.').collect();
    let header_json = json!({"alg": "RS256", "kid": "kid-1", "signer": ALB_ARN});
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json.to_string()),
        parts[1]
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_rsa_pem(RSA_OLD.as_bytes()).unwrap(),
        Algorithm::RS256,
    )
    .unwrap();
    token = format!("{message}.{signature}");
    let (status, _) = status_with(&app, "x-amzn-oidc-data", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A JWKS server whose first answer is immediate and whose later ones wait until the test
/// adds permits to `gate`; counts the requests it gets.
async fn gated_jwks_server(
    keys: Vec<Value>,
    gate: Arc<Semaphore>,
    requests: Arc<AtomicUsize>,
) -> String {
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let keys = keys.clone();
            let gate = gate.clone();
            let earlier = requests.fetch_add(1, Ordering::SeqCst);
            async move {
                if earlier > 0 {
                    gate.acquire().await.unwrap().forget();
                }
                Json(json!({ "keys": keys }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/jwks")
}

#[tokio::test]
async fn a_slow_key_fetch_holds_up_no_token_whose_key_is_known() {
    let gate = Arc::new(Semaphore::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let jwks = gated_jwks_server(vec![jwk(RSA_OLD, "old")], gate.clone(), requests.clone()).await;
    let app = pomerium_app(&jwks).await;
    let known = rs256(RSA_OLD, "old", &claims(json!({})));
    assert_eq!(
        status_with(&app, HEADER, Some(&known)).await.0,
        StatusCode::OK
    );

    // Tokens with made-up key ids: one fetch starts and hangs at the JWKS server.
    let made_up: Vec<_> = (0..3)
        .map(|i| {
            let app = app.clone();
            let token = rs256(RSA_OLD, &format!("made-up-{i}"), &claims(json!({})));
            tokio::spawn(async move { status_with(&app, HEADER, Some(&token)).await.0 })
        })
        .collect();
    while requests.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Meanwhile a token whose key is known is answered, not queued behind the fetch (the
    // timeout only turns a hang into a failure: the answer needs no network).
    let (status, _) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        status_with(&app, HEADER, Some(&known)),
    )
    .await
    .expect("a token with a known key is not held up by a slow key fetch");
    assert_eq!(status, StatusCode::OK);

    gate.add_permits(10);
    for task in made_up {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    // One fetch for all the made-up ids (then a wait before the next).
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}
