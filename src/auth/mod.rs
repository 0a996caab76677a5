//! Who is asking, trusted only from the SSO proxy. Each request is authenticated once, in
//! `middleware`, and the `User` is put in the request's extensions; server functions read
//! it back through `api::authorize`.
//!
//! Modes: `none` (loopback only: everyone is the local operator), `trusted-header` (the
//! proxy's user/email/groups headers, believed only from `--trusted-proxy` peers) and
//! `jwt` (the proxy's signed assertion, checked against its public keys).

pub mod alb;
pub mod csrf;
pub mod headers;
pub mod host;
pub mod jwt;
pub mod jwt_keys;
pub mod middleware;
pub mod options;
pub mod proxy;
pub mod roles;
pub mod write_gate;
pub mod write_limit;

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderName};

use crate::user::{Role, User};
use proxy::TrustedHeader;
use roles::RolePolicy;

/// How requests are authenticated, and how roles are given.
#[derive(Clone, Debug)]
pub struct Auth {
    mode: AuthMode,
    roles: RolePolicy,
    /// Where refused requests are logged, within a rate.
    refusals: middleware::RefusalLog,
}

#[derive(Clone, Debug)]
enum AuthMode {
    /// No proxy: only for a server on loopback, where whoever connects is the operator.
    None,
    /// An SSO proxy's identity headers.
    TrustedHeader(TrustedHeader),
    /// An SSO proxy's signed assertion.
    Jwt(jwt::JwtVerifier),
}

/// Who a request is from, as the proxy said, before roles are given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// User name or subject.
    pub name: String,
    /// Email address, when sent.
    pub email: Option<String>,
    /// Group names, when sent.
    pub groups: Vec<String>,
}

/// Why a request is not authenticated (answered 401). The words never quote the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Identity headers from a peer that is not a trusted proxy (or no peer address).
    #[error("this request did not come through the SSO proxy")]
    UntrustedPeer,
    /// The proxy sent no usable user.
    #[error("the SSO proxy sent no usable {0} header")]
    MissingUser(HeaderName),
    /// An identity header came more than once: a proxy that appends to the client's
    /// header instead of replacing it would let the client add a user, email or group.
    #[error("the {0} header was sent more than once")]
    RepeatedHeader(HeaderName),
    /// The signed assertion was missing or did not verify.
    #[error("{0}")]
    Assertion(#[from] jwt::JwtError),
}

/// The user of `--auth none`.
pub const LOCAL_USER: &str = "local";

impl Auth {
    /// No authentication: for a dashboard listening on loopback only.
    pub fn none() -> Self {
        Self {
            mode: AuthMode::None,
            roles: RolePolicy {
                operator_groups: Vec::new(),
                default_role: Role::Operator,
            },
            refusals: Default::default(),
        }
    }

    /// Identity headers from a trusted proxy; roles by `roles`.
    pub fn trusted_header(proxy: TrustedHeader, roles: RolePolicy) -> Self {
        Self {
            mode: AuthMode::TrustedHeader(proxy),
            roles,
            refusals: Default::default(),
        }
    }

    /// A signed assertion verified by `verifier`; roles by `roles`.
    pub fn jwt(verifier: jwt::JwtVerifier, roles: RolePolicy) -> Self {
        Self {
            mode: AuthMode::Jwt(verifier),
            roles,
            refusals: Default::default(),
        }
    }

    /// The user behind a request from `peer` with `headers`.
    pub async fn authenticate(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Result<User, Denied> {
        let claims = match &self.mode {
            AuthMode::None => Claims {
                name: LOCAL_USER.to_owned(),
                email: None,
                groups: Vec::new(),
            },
            AuthMode::TrustedHeader(proxy) => proxy.identify(peer, headers)?,
            AuthMode::Jwt(verifier) => verifier.identify(headers, crate::inventory::now()).await?,
        };
        let role = self.roles.role_for(&claims.groups);
        Ok(User {
            name: claims.name,
            email: claims.email,
            groups: claims.groups,
            role,
        })
    }

    /// The request headers that carry identity: kept out of every log line.
    pub fn identity_headers(&self) -> Vec<HeaderName> {
        match &self.mode {
            AuthMode::None => Vec::new(),
            AuthMode::TrustedHeader(proxy) => proxy.header_names(),
            AuthMode::Jwt(verifier) => vec![verifier.header().clone()],
        }
    }

    /// Whether this is `--auth none` (loopback only, no proxy).
    pub fn is_none(&self) -> bool {
        matches!(self.mode, AuthMode::None)
    }

    /// The mode's name as `--auth` spells it, for the startup log line.
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            AuthMode::None => "none",
            AuthMode::TrustedHeader(_) => "trusted-header",
            AuthMode::Jwt(_) => "jwt",
        }
    }
}
