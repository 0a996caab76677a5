//! `--auth jwt`: assertions signed like Pomerium's (RS256, keys from a JWKS served on
//! loopback), Cloudflare Access's and Google IAP's, and ALB's (ES256 with padded base64, a
//! `signer`, keys from a regional key endpoint served on loopback), through the whole
//! router: the header and claim flags, the algorithms, and how often the JWKS is fetched.
//! Every bad token is answered 401.
use crate::support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    body::Body,
    extract::Path,
    http::{HeaderName, Request, StatusCode},
    routing::get,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::Parser;
use dkimdash::{
    auth::{
        Auth,
        jwt::{JwtSettings, JwtVerifier},
        jwt_keys::KeySource,
        roles::RolePolicy,
    },
    model::SesBackend,
    router::router,
    server::config::Config,
    user::Role,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use support::{fetch, read_inventory, simulator, state_with};
use tokio::sync::Semaphore;

const RSA_OLD: &str = include_str!("../fixtures/keys/rsa-2048-pkcs1.pem");
const RSA_NEW: &str = include_str!("../fixtures/keys/rsa-4096.pem");
const EC_PRIVATE: &str = include_str!("../fixtures/keys/ec-p256.pem");
const EC_PUBLIC: &str = include_str!("../fixtures/keys/ec-p256-public.pem");
const EC_P384_PRIVATE: &str = include_str!("../fixtures/keys/ec-p384.pem");
const EC_P384_PUBLIC: &str = include_str!("../fixtures/keys/ec-p384-public.pem");
const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "dkim.example.com";
const HEADER: &str = "x-pomerium-jwt-assertion";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A JWKS server on loopback whose document the test can change (key rotation).
async fn jwks_server(keys: Arc<Mutex<Vec<Value>>>) -> String {
    counted_jwks_server(keys, Arc::new(AtomicUsize::new(0))).await
}

/// `jwks_server` that counts the requests it gets.
async fn counted_jwks_server(keys: Arc<Mutex<Vec<Value>>>, requests: Arc<AtomicUsize>) -> String {
    let app = Router::new().route(
        "/.well-known/pomerium/jwks.json",
        get(move || {
            requests.fetch_add(1, Ordering::SeqCst);
            let keys = keys.lock().unwrap().clone();
            async move { Json(json!({ "keys": keys })) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/.well-known/pomerium/jwks.json")
}

/// Erin's claims, an operator, with `overrides` applied (see `changed`).
fn claims(overrides: Value) -> Value {
    let erin = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "email": "erin@example.com",
        "groups": ["staff", "dkim-operators"], "iat": now(), "exp": now() + 300,
    });
    changed(erin, &overrides)
}

/// `claims` with each of `overrides` set, or removed where it is `null`.
fn changed(mut claims: Value, overrides: &Value) -> Value {
    let map = claims.as_object_mut().unwrap();
    for (key, value) in overrides.as_object().unwrap() {
        if value.is_null() {
            map.remove(key);
        } else {
            map.insert(key.clone(), value.clone());
        }
    }
    claims
}

/// `claims` signed with `alg` by the private key in `pem`, the header naming `kid`.
fn signed(alg: Algorithm, pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            Ok(EncodingKey::from_secret(pem.as_bytes()))
        }
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    };
    encode(&header, claims, &key.unwrap()).unwrap()
}

fn rs256(pem: &str, kid: &str, claims: &Value) -> String {
    signed(Algorithm::RS256, pem, kid, claims)
}

/// `token` with its header's `alg` changed to `alg` and its signature left as it was.
fn relabelled(token: &str, alg: &str) -> String {
    let (header, rest) = token.split_once('.').unwrap();
    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["alg"] = json!(alg);
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// The "NAME (role)" the page header shows, if anyone is signed in.
fn signed_in_as(page: &str) -> Option<&str> {
    let span = &page[page.find(r#"data-testid="signed-in""#)?..];
    let text = &span[span.find('>')? + 1..];
    Some(text[..text.find('<')?].trim())
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
    app_with_auth(config.auth.auth("0.0.0.0:3000".parse().unwrap()).unwrap()).await
}

async fn app_with_auth(auth: Auth) -> Router {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 0).await;
    // The simulator must outlive the test's requests.
    std::mem::forget(sim);
    router(state_with(inventory, SesBackend::Simulator).with_auth(auth))
}

/// Keys from `jwks`, with this file's issuer and audience; `more` picks the header and claims.
fn jwks_flags<'a>(jwks: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec![
        "--jwks-url",
        jwks,
        "--jwt-issuer",
        ISSUER,
        "--jwt-audience",
        AUDIENCE,
    ];
    flags.extend_from_slice(more);
    flags
}

/// The Pomerium preset, its keys from the JWKS at `jwks`.
async fn pomerium_app(jwks: &str) -> Router {
    app_with_flags(&jwks_flags(jwks, &["--jwt-preset", "pomerium"])).await
}

#[tokio::test]
async fn pomerium_style_assertions_are_verified_against_the_jwks() {
    let keys = Arc::new(Mutex::new(vec![support::rsa_jwk(RSA_OLD, "old")]));
    let jwks = jwks_server(keys.clone()).await;
    let app = pomerium_app(&jwks).await;

    let good = rs256(RSA_OLD, "old", &claims(json!({})));
    let (status, page) = status_with(&app, HEADER, Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("erin@example.com (operator)"), "{page}");

    // The proxy rotates its key: a token with the new kid makes dkimdash fetch the JWKS
    // again and accept it.
    keys.lock().unwrap().push(support::rsa_jwk(RSA_NEW, "new"));
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
    let app = Router::new().route(
        "/keys/{kid}",
        get(move |Path(kid): Path<String>| {
            requests.fetch_add(1, Ordering::SeqCst);
            async move {
                if kid == "kid-1" {
                    (StatusCode::OK, EC_PUBLIC)
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

/// The EC public key in `public_pem`, on `curve` ("P-256" or "P-384"), as a JWK named `kid`.
fn ec_jwk(public_pem: &str, curve: &str, kid: &str) -> Value {
    let der = pem_rfc7468::decode_vec(public_pem.as_bytes()).unwrap().1;
    let coordinate_bytes = match curve {
        "P-256" => 32,
        "P-384" => 48,
        _ => panic!("no fixture on {curve}"),
    };
    // An uncompressed point (4, x, y) ends the SubjectPublicKeyInfo.
    let point = &der[der.len() - 1 - 2 * coordinate_bytes..];
    assert_eq!(point[0], 4, "uncompressed point");
    let (x, y) = point[1..].split_at(coordinate_bytes);
    json!({
        "kty": "EC", "crv": curve, "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
    })
}

fn es256(kid: &str, claims: &Value) -> String {
    signed(Algorithm::ES256, EC_PRIVATE, kid, claims)
}

#[tokio::test]
async fn a_token_whose_algorithm_is_not_its_keys_family_is_401_never_a_panic() {
    // A JWK that names its algorithm verifies only that one.
    let mut rs512_only = support::rsa_jwk(RSA_NEW, "rs512-only");
    rs512_only["alg"] = json!("RS512");
    let keys = Arc::new(Mutex::new(vec![
        support::rsa_jwk(RSA_OLD, "rsa"),
        ec_jwk(EC_PUBLIC, "P-256", "ec"),
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
    let jwks = gated_jwks_server(
        vec![support::rsa_jwk(RSA_OLD, "old")],
        gate.clone(),
        requests.clone(),
    )
    .await;
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
    support::eventually(
        "the key fetch reached the JWKS server",
        std::time::Duration::from_secs(10),
        || requests.load(Ordering::SeqCst) >= 2,
    )
    .await;
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

/// (case, flags, header carrying the token, claim overrides, what the page shows or `None`
/// for 401)
type ClaimCase<'a> = (&'a str, &'a [&'a str], &'a str, Value, Option<&'a str>);

#[tokio::test]
async fn the_header_and_claim_flags_decide_who_is_signed_in_and_their_role() {
    let jwks = jwks_server(Arc::new(Mutex::new(vec![support::rsa_jwk(RSA_OLD, "rsa")]))).await;
    let pomerium = ["--jwt-preset", "pomerium"];
    let roles_claim = ["--jwt-preset", "pomerium", "--jwt-groups-claim", "roles"];
    let username_claim = [
        "--jwt-preset",
        "pomerium",
        "--jwt-user-claim",
        "preferred_username",
    ];
    let cases: &[ClaimCase] = &[
        (
            "--jwt-header without a preset",
            &["--jwt-header", "X-Auth-Token"],
            "x-auth-token",
            json!({}),
            Some("erin@example.com (operator)"),
        ),
        (
            "--jwt-header: no other header is read",
            &["--jwt-header", "X-Auth-Token"],
            HEADER,
            json!({}),
            None,
        ),
        (
            "--jwt-header overrides the preset's header",
            &["--jwt-preset", "cloudflare", "--jwt-header", "x-auth-token"],
            "x-auth-token",
            json!({}),
            Some("erin@example.com (operator)"),
        ),
        (
            "--jwt-header overrides the preset's header: the preset's is not read",
            &["--jwt-preset", "cloudflare", "--jwt-header", "x-auth-token"],
            "cf-access-jwt-assertion",
            json!({}),
            None,
        ),
        (
            "--jwt-user-claim names the user",
            &username_claim,
            HEADER,
            json!({"preferred_username": "erin"}),
            Some("erin (operator)"),
        ),
        (
            "--jwt-user-claim absent: the subject",
            &username_claim,
            HEADER,
            json!({}),
            Some("u-1 (operator)"),
        ),
        (
            "--jwt-user-claim not a string: the subject",
            &username_claim,
            HEADER,
            json!({"preferred_username": 42}),
            Some("u-1 (operator)"),
        ),
        (
            "--jwt-user-claim with a control character: the subject",
            &username_claim,
            HEADER,
            json!({"preferred_username": "erin\nadmin"}),
            Some("u-1 (operator)"),
        ),
        (
            "no email and no subject",
            &pomerium,
            HEADER,
            json!({"email": null, "sub": null}),
            None,
        ),
        (
            "a blank email and no subject",
            &pomerium,
            HEADER,
            json!({"email": "  ", "sub": null}),
            None,
        ),
        (
            "--jwt-groups-claim names the groups",
            &roles_claim,
            HEADER,
            json!({"roles": ["dkim-operators"], "groups": ["staff"]}),
            Some("erin@example.com (operator)"),
        ),
        (
            "--jwt-groups-claim: the `groups` claim no longer counts",
            &roles_claim,
            HEADER,
            json!({"roles": ["staff"]}),
            Some("erin@example.com (viewer)"),
        ),
        (
            "groups as one comma-separated string",
            &roles_claim,
            HEADER,
            json!({"roles": "staff, dkim-operators"}),
            Some("erin@example.com (operator)"),
        ),
        (
            "entries that are not strings are skipped",
            &roles_claim,
            HEADER,
            json!({"roles": [7, null, {"name": "x"}, "dkim-operators"]}),
            Some("erin@example.com (operator)"),
        ),
        (
            "groups neither an array nor a string: none",
            &roles_claim,
            HEADER,
            json!({"roles": {"dkim-operators": true}}),
            Some("erin@example.com (viewer)"),
        ),
        (
            "group names are compared exactly",
            &roles_claim,
            HEADER,
            json!({"roles": ["DKIM-Operators"]}),
            Some("erin@example.com (viewer)"),
        ),
        (
            "a namespaced claim name (Auth0 style) is one claim",
            &[
                "--jwt-preset",
                "pomerium",
                "--jwt-groups-claim",
                "https://dkim.example.com/groups",
            ],
            HEADER,
            json!({"https://dkim.example.com/groups": ["dkim-operators"], "groups": null}),
            Some("erin@example.com (operator)"),
        ),
        (
            // Only top-level claims are read; a dotted name is not a path into an object,
            // so a nested list makes no operator.
            "a dotted claim name does not reach into an object",
            &[
                "--jwt-preset",
                "pomerium",
                "--jwt-groups-claim",
                "realm_access.roles",
            ],
            HEADER,
            json!({"realm_access": {"roles": ["dkim-operators"]}, "groups": null}),
            Some("erin@example.com (viewer)"),
        ),
    ];
    // One app per set of flags: each brings up a simulator.
    let mut apps: std::collections::HashMap<&[&str], Router> = Default::default();
    for (case, flags, header, overrides, shows) in cases {
        let app = match apps.get(flags) {
            Some(app) => app.clone(),
            None => {
                let app = app_with_flags(&jwks_flags(&jwks, flags)).await;
                apps.insert(flags, app.clone());
                app
            }
        };
        let token = rs256(RSA_OLD, "rsa", &claims(overrides.clone()));
        let (status, page) = status_with(&app, header, Some(&token)).await;
        match shows {
            Some(shows) => {
                assert_eq!(status, StatusCode::OK, "{case}: {page}");
                assert_eq!(signed_in_as(&page), Some(*shows), "{case}");
            }
            None => assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {page}"),
        }
    }
}

const CLOUDFLARE_ISSUER: &str = "https://example.cloudflareaccess.com";
const CLOUDFLARE_AUDIENCE: &str =
    "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const IAP_ISSUER: &str = "https://cloud.google.com/iap";
const IAP_AUDIENCE: &str = "/projects/123456789012/global/backendServices/4567890123456789";

/// Claims shaped like a Cloudflare Access application token (RS256; `aud` a list of the
/// application's tags; no groups).
fn cloudflare_claims() -> Value {
    json!({
        "aud": [CLOUDFLARE_AUDIENCE], "email": "erin@example.com",
        "exp": now() + 300, "iat": now(), "nbf": now(), "iss": CLOUDFLARE_ISSUER,
        "type": "app", "identity_nonce": "6ei69kawdKzMIAPF",
        "sub": "7335d417-61da-459d-899c-0a01c76a2f94", "country": "US",
    })
}

/// Claims shaped like a Google IAP assertion (ES256; `aud` one string naming the backend
/// service; `sub` prefixed with the identity source; no groups).
fn iap_claims() -> Value {
    json!({
        "aud": IAP_AUDIENCE, "email": "erin@example.com", "exp": now() + 300, "iat": now(),
        "hd": "example.com", "iss": IAP_ISSUER, "sub": "accounts.google.com:112233445566778899",
        "google": {"access_levels": ["accessPolicies/1/accessLevels/corp"]},
    })
}

/// A proxy as its preset and the operator's flags describe it, and how it signs.
struct Provider {
    preset: &'static str,
    /// The header the preset reads.
    header: &'static str,
    issuer: &'static str,
    audience: &'static str,
    /// Claims shaped like the proxy's.
    claims: Value,
    alg: Algorithm,
    pem: &'static str,
    kid: &'static str,
    /// The `aud` and `iss` of someone else's application behind the same kind of proxy.
    other_aud: Value,
    other_iss: Value,
}

#[tokio::test]
async fn cloudflare_and_iap_presets_read_their_header_and_check_issuer_and_audience() {
    let jwks = jwks_server(Arc::new(Mutex::new(vec![
        support::rsa_jwk(RSA_OLD, "cloudflare"),
        ec_jwk(EC_PUBLIC, "P-256", "iap"),
    ])))
    .await;
    // A preset sets only the header; `iss` and `aud` are the operator's flags, and the
    // checks on them are the same for every proxy.
    let providers = [
        Provider {
            preset: "cloudflare",
            header: "cf-access-jwt-assertion",
            issuer: CLOUDFLARE_ISSUER,
            audience: CLOUDFLARE_AUDIENCE,
            claims: cloudflare_claims(),
            alg: Algorithm::RS256,
            pem: RSA_OLD,
            kid: "cloudflare",
            other_aud: json!(["another-application-tag"]),
            other_iss: json!("https://other-team.cloudflareaccess.com"),
        },
        Provider {
            preset: "iap",
            header: "x-goog-iap-jwt-assertion",
            issuer: IAP_ISSUER,
            audience: IAP_AUDIENCE,
            claims: iap_claims(),
            alg: Algorithm::ES256,
            pem: EC_PRIVATE,
            kid: "iap",
            other_aud: json!("/projects/123456789012/global/backendServices/999"),
            other_iss: json!("https://accounts.google.com"),
        },
    ];
    for provider in providers {
        let Provider { preset, header, .. } = provider;
        let app = app_with_flags(&[
            "--jwt-preset",
            preset,
            "--jwks-url",
            &jwks,
            "--jwt-issuer",
            provider.issuer,
            "--jwt-audience",
            provider.audience,
        ])
        .await;
        let token = |overrides: Value| {
            let claims = changed(provider.claims.clone(), &overrides);
            signed(provider.alg, provider.pem, provider.kid, &claims)
        };
        let (status, page) = status_with(&app, header, Some(&token(json!({})))).await;
        assert_eq!(status, StatusCode::OK, "{preset}: {page}");
        assert_eq!(
            signed_in_as(&page),
            Some("erin@example.com (viewer)"),
            "{preset}"
        );
        let (status, page) = status_with(&app, header, Some(&token(json!({"email": null})))).await;
        assert_eq!(status, StatusCode::OK, "{preset} without email: {page}");
        let subject = format!("{} (viewer)", provider.claims["sub"].as_str().unwrap());
        assert_eq!(signed_in_as(&page), Some(subject.as_str()), "{preset}");

        let refused = [
            ("in another proxy's header", HEADER, json!({})),
            ("no aud", header, json!({"aud": null})),
            ("another aud", header, json!({"aud": provider.other_aud})),
            ("no iss", header, json!({"iss": null})),
            ("another iss", header, json!({"iss": provider.other_iss})),
            ("no exp", header, json!({"exp": null})),
            ("expired", header, json!({"exp": now() - 120})),
            (
                "no email and no sub",
                header,
                json!({"email": null, "sub": null}),
            ),
        ];
        for (case, header, changes) in refused {
            let (status, page) = status_with(&app, header, Some(&token(changes))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{preset}, {case}: {page}");
        }
    }
}

#[tokio::test]
async fn ps256_rs384_and_es384_verify_against_their_keys_and_other_algorithms_are_401() {
    // A JWK without `alg` verifies every RSA algorithm; one that names it, only that one.
    let mut any_rsa = support::rsa_jwk(RSA_OLD, "rsa");
    any_rsa.as_object_mut().unwrap().remove("alg");
    let mut ps256_only = support::rsa_jwk(RSA_NEW, "ps256-only");
    ps256_only["alg"] = json!("PS256");
    let keys = vec![
        any_rsa,
        ps256_only,
        ec_jwk(EC_PUBLIC, "P-256", "p256"),
        ec_jwk(EC_P384_PUBLIC, "P-384", "p384"),
    ];
    let published = json!({ "keys": keys }).to_string();
    let jwks = jwks_server(Arc::new(Mutex::new(keys))).await;
    let app = pomerium_app(&jwks).await;
    let erin = claims(json!({}));
    let sign = |alg, pem, kid| signed(alg, pem, kid, &erin);
    use Algorithm::{ES256, ES384, HS256, PS256, PS384, PS512, RS384};

    let accepted = [
        ("PS256, RSA key", sign(PS256, RSA_OLD, "rsa")),
        ("RS384, RSA key", sign(RS384, RSA_OLD, "rsa")),
        ("ES384, P-384 key", sign(ES384, EC_P384_PRIVATE, "p384")),
        (
            "PS256, key whose JWK says PS256",
            sign(PS256, RSA_NEW, "ps256-only"),
        ),
    ];
    for (case, token) in accepted {
        let (status, page) = status_with(&app, HEADER, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{case}: {page}");
        assert_eq!(
            signed_in_as(&page),
            Some("erin@example.com (operator)"),
            "{case}"
        );
    }

    let refused = [
        (
            "ES384 naming the P-256 key",
            sign(ES384, EC_P384_PRIVATE, "p256"),
        ),
        (
            "ES256 naming the P-384 key",
            sign(ES256, EC_PRIVATE, "p384"),
        ),
        (
            "ES384 naming an RSA key",
            sign(ES384, EC_P384_PRIVATE, "rsa"),
        ),
        ("PS256 naming an EC key", sign(PS256, RSA_OLD, "p384")),
        (
            "RS384 naming a key whose JWK says PS256",
            sign(RS384, RSA_NEW, "ps256-only"),
        ),
        (
            "PS384, not an allowed algorithm",
            sign(PS384, RSA_OLD, "rsa"),
        ),
        (
            "PS512, not an allowed algorithm",
            sign(PS512, RSA_OLD, "rsa"),
        ),
        (
            "an RS384 signature labelled RS256",
            relabelled(&sign(RS384, RSA_OLD, "rsa"), "RS256"),
        ),
        (
            "a PS256 signature labelled RS256",
            relabelled(&sign(PS256, RSA_OLD, "rsa"), "RS256"),
        ),
        (
            "an ES384 signature labelled ES256",
            relabelled(&sign(ES384, EC_P384_PRIVATE, "p384"), "ES256"),
        ),
        // The classic confusion: the public keys used as an HMAC secret.
        (
            "HS256 keyed with the published JWKS",
            sign(HS256, &published, "rsa"),
        ),
        (
            "alg none with a signature",
            relabelled(&sign(RS384, RSA_OLD, "rsa"), "none"),
        ),
    ];
    for (case, token) in refused {
        let (status, page) = status_with(&app, HEADER, Some(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {page}");
    }
    // Nothing refused above broke the verifier.
    let (status, _) = status_with(&app, HEADER, Some(&sign(ES384, EC_P384_PRIVATE, "p384"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_burst_of_unknown_key_ids_fetches_the_jwks_once_per_window() {
    let keys = Arc::new(Mutex::new(vec![support::rsa_jwk(RSA_OLD, "old")]));
    let requests = Arc::new(AtomicUsize::new(0));
    let jwks = counted_jwks_server(keys.clone(), requests.clone()).await;
    // The flags' 10 s window: every step below takes far less.
    let app = pomerium_app(&jwks).await;
    let fetches = || requests.load(Ordering::SeqCst);
    let known = rs256(RSA_OLD, "old", &claims(json!({})));
    assert_eq!(
        status_with(&app, HEADER, Some(&known)).await.0,
        StatusCode::OK
    );
    assert_eq!(fetches(), 1, "the first token fetches the keys");

    for i in 0..20 {
        let made_up = rs256(RSA_OLD, &format!("made-up-{i}"), &claims(json!({})));
        let (status, _) = status_with(&app, HEADER, Some(&made_up)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "made-up-{i}");
    }
    assert_eq!(
        fetches(),
        2,
        "one fetch for twenty unknown key ids in a row"
    );

    let at_once: Vec<_> = (20..40)
        .map(|i| {
            let app = app.clone();
            let made_up = rs256(RSA_OLD, &format!("made-up-{i}"), &claims(json!({})));
            tokio::spawn(async move { status_with(&app, HEADER, Some(&made_up)).await.0 })
        })
        .collect();
    for task in at_once {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        fetches(),
        2,
        "none for twenty more at once in the same window"
    );

    // The price of the throttle: a key published inside the window waits for its end.
    keys.lock().unwrap().push(support::rsa_jwk(RSA_NEW, "new"));
    let rotated = rs256(RSA_NEW, "new", &claims(json!({})));
    let (status, _) = status_with(&app, HEADER, Some(&rotated)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status_with(&app, HEADER, Some(&known)).await.0,
        StatusCode::OK
    );
    assert_eq!(fetches(), 2);
}

/// `--auth jwt` as the Pomerium preset configures it, but with a short refetch window
/// (the flags fix it at 10 s) so that a test can outlast it.
fn pomerium_auth_with_window(jwks: &str, refetch_after: Duration) -> Auth {
    let settings = JwtSettings {
        header: HeaderName::from_static(HEADER),
        keys: KeySource::JwksUrl(jwks.to_owned()),
        issuer: ISSUER.to_owned(),
        audience: Some(AUDIENCE.to_owned()),
        alb_signers: Vec::new(),
        user_claim: "email".to_owned(),
        groups_claim: "groups".to_owned(),
        refetch_after,
    };
    let roles = RolePolicy {
        operator_groups: vec!["dkim-operators".to_owned()],
        default_role: Role::Viewer,
    };
    Auth::jwt(JwtVerifier::new(settings), roles)
}

#[tokio::test]
async fn a_rotated_key_is_fetched_at_once_or_as_soon_as_the_window_ends() {
    const WINDOW: Duration = Duration::from_millis(100);
    let keys = Arc::new(Mutex::new(vec![support::rsa_jwk(RSA_OLD, "old")]));
    let requests = Arc::new(AtomicUsize::new(0));
    let jwks = counted_jwks_server(keys.clone(), requests.clone()).await;
    let app = app_with_auth(pomerium_auth_with_window(&jwks, WINDOW)).await;
    let fetches = || requests.load(Ordering::SeqCst);
    let old = rs256(RSA_OLD, "old", &claims(json!({})));
    assert_eq!(
        status_with(&app, HEADER, Some(&old)).await.0,
        StatusCode::OK
    );
    assert_eq!(fetches(), 1);

    // No fetch has been fruitless: the first token naming a new key fetches it.
    keys.lock().unwrap().push(support::rsa_jwk(RSA_NEW, "new"));
    let new = rs256(RSA_NEW, "new", &claims(json!({})));
    assert_eq!(
        status_with(&app, HEADER, Some(&new)).await.0,
        StatusCode::OK
    );
    assert_eq!(fetches(), 2);

    // A made-up key id: a fruitless fetch, which opens the window.
    let window_opened = Instant::now();
    let made_up = rs256(RSA_OLD, "made-up", &claims(json!({})));
    let (status, _) = status_with(&app, HEADER, Some(&made_up)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(fetches(), 3);

    // Rotated again: tries inside the window are refused without a fetch; the first after
    // it fetches once and is accepted.
    keys.lock()
        .unwrap()
        .push(ec_jwk(EC_P384_PUBLIC, "P-384", "newest"));
    let newest = signed(
        Algorithm::ES384,
        EC_P384_PRIVATE,
        "newest",
        &claims(json!({})),
    );
    let deadline = window_opened + Duration::from_secs(10);
    let accepted_at = loop {
        let (status, page) = status_with(&app, HEADER, Some(&newest)).await;
        if status == StatusCode::OK {
            break Instant::now();
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
        assert_eq!(fetches(), 3, "no fetch inside the window");
        assert!(
            Instant::now() < deadline,
            "the rotated key was never fetched"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        accepted_at - window_opened >= WINDOW,
        "fetched {:?} after a fruitless fetch",
        accepted_at - window_opened
    );
    assert_eq!(fetches(), 4);
}
