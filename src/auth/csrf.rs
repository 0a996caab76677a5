//! Cross-site request forgery: every request that can change something (not GET, HEAD or
//! OPTIONS) must come from this site. The rules of Go 1.25's `CrossOriginProtection`:
//! `Sec-Fetch-Site` decides when the browser sends it; otherwise `Origin` must match the
//! `Host` or an allowed origin; a request with neither header is not from a browser and
//! passes (the SSO proxy still authenticates it).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Origins allowed besides the request's own `Host` (e.g. the public URL when the proxy
/// rewrites `Host`), as `scheme://host[:port]`.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins(pub Vec<String>);

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cross-origin request refused: {0}")]
pub struct CrossOrigin(&'static str);

/// Whether a request with `method` and `headers` may proceed.
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    allowed: &AllowedOrigins,
) -> Result<(), CrossOrigin> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|o| o.trim_end_matches('/'));
    let origin_allowed =
        origin.is_some_and(|o| allowed.0.iter().any(|a| a.trim_end_matches('/') == o));
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(b"same-origin" | b"none") => return Ok(()),
        Some(_) if origin_allowed => return Ok(()),
        Some(_) => return Err(CrossOrigin("the browser says it came from another site")),
        None => {}
    }
    let Some(origin) = origin else {
        return Ok(());
    };
    if origin_allowed {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(CrossOrigin(
            "its Origin is neither this site nor an allowed origin",
        )),
    }
}

/// The axum middleware (`from_fn_with_state`): 403 for a cross-origin write.
pub async fn protect(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    match check(request.method(), request.headers(), &allowed) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), "{refused}");
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("403 Forbidden: {refused}.\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn allowed() -> AllowedOrigins {
        AllowedOrigins(vec!["https://dkim.example.com".into()])
    }

    #[test]
    fn reads_always_pass() {
        let cross = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check(&Method::GET, &cross, &allowed()).is_ok());
        assert!(check(&Method::HEAD, &cross, &allowed()).is_ok());
    }

    #[test]
    fn sec_fetch_site_decides_when_sent() {
        let post = |pairs| check(&Method::POST, &headers(pairs), &allowed());
        assert!(post(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(post(&[("sec-fetch-site", "none")]).is_ok());
        assert!(post(&[("sec-fetch-site", "cross-site"), ("host", "dkim.internal")]).is_err());
        assert!(
            post(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://other.example.com")
            ])
            .is_err()
        );
        assert!(
            post(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://dkim.example.com")
            ])
            .is_ok()
        );
    }

    #[test]
    fn without_sec_fetch_site_origin_must_match_host_or_the_list() {
        let post = |pairs| check(&Method::POST, &headers(pairs), &allowed());
        assert!(
            post(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
            .is_ok()
        );
        assert!(
            post(&[
                ("origin", "http://127.0.0.1:3001"),
                ("host", "127.0.0.1:3000")
            ])
            .is_err()
        );
        assert!(
            post(&[
                ("origin", "https://evil.example"),
                ("host", "dkim.internal")
            ])
            .is_err()
        );
        assert!(post(&[("origin", "null"), ("host", "dkim.internal")]).is_err());
        assert!(
            post(&[
                ("origin", "https://dkim.example.com/"),
                ("host", "dkim.internal")
            ])
            .is_ok()
        );
        // Not a browser: nothing to forge with.
        assert!(post(&[("host", "dkim.internal")]).is_ok());
    }

    proptest! {
        #[test]
        fn no_header_value_makes_the_check_panic(site in any::<Vec<u8>>(), origin in any::<Vec<u8>>(), host in any::<Vec<u8>>()) {
            let mut map = HeaderMap::new();
            for (name, value) in [("sec-fetch-site", site), ("origin", origin), ("host", host)] {
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    map.insert(name, value);
                }
            }
            let _ = check(&Method::POST, &map, &allowed());
        }
    }
}
