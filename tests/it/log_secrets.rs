//! What the SSO proxy vouches with never reaches a log line: the identity headers
//! (user, email, groups, or the signed assertion), cookies and bearer tokens, whether the
//! request is accepted, refused as a viewer's write, or refused outright. Every line of
//! this test binary is captured, at every level, from every crate.
use crate::support;

use std::net::SocketAddr;

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::Parser;
use dkimdash::{model::SesBackend, router::router, server::config::Config};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use support::{captured_logs, fetch, read_inventory, simulator, state_with};

const EC_PRIVATE: &str = include_str!("../fixtures/keys/ec-p256.pem");
const PROXY: &str = "10.0.0.7:41000";
const OUTSIDER: &str = "192.0.2.10:41000";
/// Values that appear nowhere but in the requests' secret headers.
const USER: &str = "user-7f3a9c";
const EMAIL: &str = "mail-5e1b2d@example.com";
const GROUPS: &str = "grp-c4d8e0, dkim-operators";
const BEARER: &str = "tok-9a8b7c6d5e4f";
const COOKIE: &str = "session=ck-1f2e3d4c";

async fn app(mode: &[&str]) -> Router {
    let sim = simulator(true).await;
    let inventory = read_inventory(&sim, &["us-east-1"], 100).await;
    std::mem::forget(sim);
    let args = ["dkimdash", "--operator-group", "dkim-operators"];
    let config = Config::try_parse_from(args.iter().chain(mode)).unwrap();
    let auth = config.auth.auth("0.0.0.0:3000".parse().unwrap()).unwrap();
    router(state_with(inventory, SesBackend::Simulator).with_auth(auth))
}

/// `method path` from `peer` with every secret header, plus `extra`.
fn request(method: &str, path: &str, peer: &str, extra: &[(&str, String)]) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("x-forwarded-user", USER)
        .header("x-forwarded-email", EMAIL)
        .header("x-forwarded-groups", GROUPS)
        .header(header::AUTHORIZATION, format!("Bearer {BEARER}"))
        .header(header::COOKIE, COOKIE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in extra {
        builder = builder.header(*name, value);
    }
    let form = "region=us-east-1&name=acme.example&enabled=off&confirm=on";
    let mut request = builder.body(Body::from(form)).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    request
}

/// An ALB-style assertion for `USER`, signed with the fixture key.
fn assertion() -> String {
    let header = json!({"alg": "ES256", "kid": "k", "signer": ALB_ARN});
    let claims = json!({
        "iss": "https://login.example.com", "sub": USER, "email": EMAIL,
        "groups": ["grp-c4d8e0"], "exp": 4_000_000_000_i64,
    });
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        Algorithm::ES256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

const ALB_ARN: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dkim/50dc6c495c0c9188";

#[tokio::test]
async fn no_identity_header_cookie_or_token_is_ever_logged() {
    let logs = captured_logs();

    // Trusted headers: accepted from the proxy, refused from elsewhere, refused when
    // repeated, and a viewer's write refused.
    let headers = app(&["--auth", "trusted-header", "--trusted-proxy", "10.0.0.0/8"]).await;
    let accepted = fetch(&headers, request("GET", "/", PROXY, &[])).await.0;
    assert_eq!(accepted, StatusCode::OK);
    let outsider = fetch(&headers, request("GET", "/", OUTSIDER, &[])).await.0;
    assert_eq!(outsider, StatusCode::UNAUTHORIZED);
    let repeated = [("x-forwarded-groups", "grp-c4d8e0".to_owned())];
    let twice = fetch(&headers, request("GET", "/", PROXY, &repeated))
        .await
        .0;
    assert_eq!(twice, StatusCode::UNAUTHORIZED);
    let viewer = [("x-forwarded-groups", "grp-c4d8e0".to_owned())];
    let mut write = request("POST", "/api/dkim/enabled", PROXY, &[]);
    write.headers_mut().remove("x-forwarded-groups");
    write
        .headers_mut()
        .insert("x-forwarded-groups", viewer[0].1.parse().unwrap());
    write
        .headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_eq!(fetch(&headers, write).await.0, StatusCode::FORBIDDEN);

    // A signed assertion: accepted, and refused when its signature is broken.
    let key_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/ec-p256-public.pem"
    );
    let jwt = app(&[
        "--auth",
        "jwt",
        "--jwt-preset",
        "alb",
        "--jwt-alb-arn",
        ALB_ARN,
        "--jwt-key-file",
        key_file,
        "--jwt-issuer",
        "https://login.example.com",
    ])
    .await;
    let token = assertion();
    let signed = [("x-amzn-oidc-data", token.clone())];
    assert_eq!(
        fetch(&jwt, request("GET", "/", OUTSIDER, &signed)).await.0,
        StatusCode::OK
    );
    let broken = [("x-amzn-oidc-data", format!("{token}A"))];
    assert_eq!(
        fetch(&jwt, request("GET", "/", OUTSIDER, &broken)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let logs = logs.text();
    assert!(
        logs.contains("request not authenticated"),
        "the refusals are logged: {logs}"
    );
    let parts: Vec<&str> = token.split('.').collect();
    for secret in [
        USER,
        EMAIL,
        "grp-c4d8e0",
        BEARER,
        "ck-1f2e3d4c",
        parts[1],
        parts[2],
    ] {
        assert!(!logs.contains(secret), "{secret} is in the logs:\n{logs}");
    }
}
