//! The `--auth` flags, checked into an `Auth` before the server starts: a setting that
//! would leave the dashboard open, or trust nobody, stops the start with the flag to fix.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderName;
use clap::{Args, ValueEnum};
use ipnet::IpNet;

use std::{sync::Arc, time::Duration};

use super::{
    Auth,
    alb::AlbSigner,
    jwt::{JwtSettings, JwtVerifier},
    jwt_keys::{KeySource, VerifyingKey, check_key_url},
    proxy::TrustedHeader,
    roles::RolePolicy,
};
use crate::user::Role;

/// Who is asking, and what they may do.
#[derive(Debug, Clone, Args)]
pub struct AuthOptions {
    /// How users are identified: `none` (only on a loopback address; everyone is the local
    /// operator), `trusted-header` (the SSO proxy's user/email/groups headers) or `jwt` (the
    /// proxy's signed assertion).
    #[arg(long = "auth", env = "DKIMDASH_AUTH", value_enum, default_value_t = AuthChoice::None)]
    pub auth_mode: AuthChoice,

    /// Address or CIDR the SSO proxy connects from (repeatable, or comma-separated in the
    /// environment). Identity headers from any other peer get 401.
    #[arg(long = "trusted-proxy", env = "DKIMDASH_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// Header with the user name (trusted-header).
    #[arg(long, env = "DKIMDASH_USER_HEADER", default_value = "X-Forwarded-User",
          value_parser = parse_header_name)]
    pub user_header: HeaderName,

    /// Header with the email address (trusted-header).
    #[arg(long, env = "DKIMDASH_EMAIL_HEADER", default_value = "X-Forwarded-Email",
          value_parser = parse_header_name)]
    pub email_header: HeaderName,

    /// Header with the comma-separated groups (trusted-header).
    #[arg(long, env = "DKIMDASH_GROUPS_HEADER", default_value = "X-Forwarded-Groups",
          value_parser = parse_header_name)]
    pub groups_header: HeaderName,

    /// A group whose members are operators (repeatable, or comma-separated in the
    /// environment).
    #[arg(
        long = "operator-group",
        env = "DKIMDASH_OPERATOR_GROUPS",
        value_delimiter = ','
    )]
    pub operator_groups: Vec<String>,

    /// The role of users in no operator group.
    #[arg(long, env = "DKIMDASH_DEFAULT_ROLE", value_enum, default_value_t = RoleChoice::Viewer)]
    pub default_role: RoleChoice,

    /// jwt: which proxy sends the assertion (sets its header name).
    #[arg(long, env = "DKIMDASH_JWT_PRESET", value_enum)]
    pub jwt_preset: Option<JwtPreset>,

    /// jwt: the header carrying the assertion (overrides the preset).
    #[arg(long, env = "DKIMDASH_JWT_HEADER", value_parser = parse_header_name)]
    pub jwt_header: Option<HeaderName>,

    /// jwt: URL of the proxy's JWKS (public keys; fetched again on an unknown key id).
    /// https, or plain http on loopback only.
    #[arg(long, env = "DKIMDASH_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// jwt with the ALB preset: the ARN of the load balancer in front of dkimdash
    /// (repeatable, or comma-separated in the environment). Every ALB of a region signs with
    /// the same keys; a token whose `signer` is not one of these is refused.
    #[arg(
        long = "jwt-alb-arn",
        env = "DKIMDASH_JWT_ALB_ARNS",
        value_delimiter = ','
    )]
    pub jwt_alb_arns: Vec<String>,

    /// jwt with the ALB preset: where the ALB public keys are, if not at the region's
    /// `https://public-keys.auth.elb.REGION.amazonaws.com` (needed outside the `aws`
    /// partition, e.g. GovCloud).
    #[arg(long, env = "DKIMDASH_JWT_ALB_KEYS_URL")]
    pub jwt_alb_keys_url: Option<String>,

    /// jwt: a PEM file with the proxy's public key, instead of a JWKS URL.
    #[arg(long, env = "DKIMDASH_JWT_KEY_FILE")]
    pub jwt_key_file: Option<std::path::PathBuf>,

    /// jwt: the required `iss` claim.
    #[arg(long, env = "DKIMDASH_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// jwt: the required `aud` claim (needed except with the ALB preset, whose tokens
    /// carry none).
    #[arg(long, env = "DKIMDASH_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// jwt: the claim naming the user (falls back to `sub`).
    #[arg(long, env = "DKIMDASH_JWT_USER_CLAIM", default_value = "email")]
    pub jwt_user_claim: String,

    /// jwt: the claim listing the user's groups.
    #[arg(long, env = "DKIMDASH_JWT_GROUPS_CLAIM", default_value = "groups")]
    pub jwt_groups_claim: String,
}

/// Proxies whose assertion header dkimdash knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtPreset {
    /// `X-Pomerium-Jwt-Assertion`.
    Pomerium,
    /// Cloudflare Access: `Cf-Access-Jwt-Assertion`.
    Cloudflare,
    /// AWS ALB OIDC: `x-amzn-oidc-data` (ES256, padded base64).
    Alb,
    /// Google IAP: `x-goog-iap-jwt-assertion`.
    Iap,
}

impl JwtPreset {
    /// The header the proxy puts its assertion in.
    pub fn header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Self::Pomerium => "x-pomerium-jwt-assertion",
            Self::Cloudflare => "cf-access-jwt-assertion",
            Self::Alb => "x-amzn-oidc-data",
            Self::Iap => "x-goog-iap-jwt-assertion",
        })
    }
}

/// `--auth` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthChoice {
    /// No authentication (loopback only).
    None,
    /// An SSO proxy's identity headers.
    TrustedHeader,
    /// An SSO proxy's signed assertion (JWT).
    Jwt,
}

/// `--default-role` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleChoice {
    /// May look.
    Viewer,
    /// May change.
    Operator,
}

impl AuthOptions {
    /// The authentication for a server listening on `listen`, or why it must not start.
    pub fn auth(&self, listen: SocketAddr) -> Result<Auth, String> {
        let roles = RolePolicy {
            operator_groups: self.operator_groups.clone(),
            default_role: match self.default_role {
                RoleChoice::Viewer => Role::Viewer,
                RoleChoice::Operator => Role::Operator,
            },
        };
        match self.auth_mode {
            AuthChoice::None if listen.ip().is_loopback() => Ok(Auth::none()),
            AuthChoice::None => Err(format!(
                "--auth none is only allowed when listening on a loopback address, and {listen} is not one: anyone who can reach it could change DKIM. Put dkimdash behind your SSO proxy and choose --auth trusted-header (with --trusted-proxy) or --auth jwt (with --jwt-preset and --jwks-url), or listen on 127.0.0.1."
            )),
            AuthChoice::TrustedHeader if self.trusted_proxies.is_empty() => Err(
                "--auth trusted-header needs --trusted-proxy ADDRESS_OR_CIDR (where the SSO proxy connects from): identity headers from anywhere else are refused.".to_owned(),
            ),
            AuthChoice::Jwt => Ok(Auth::jwt(JwtVerifier::new(self.jwt_settings()?), roles)),
            AuthChoice::TrustedHeader => Ok(Auth::trusted_header(
                TrustedHeader {
                    proxies: self.trusted_proxies.clone(),
                    user: self.user_header.clone(),
                    email: self.email_header.clone(),
                    groups: self.groups_header.clone(),
                },
                roles,
            )),
        }
    }

    fn jwt_settings(&self) -> Result<JwtSettings, String> {
        let header = self
            .jwt_header
            .clone()
            .or_else(|| self.jwt_preset.map(JwtPreset::header))
            .ok_or("--auth jwt needs --jwt-preset (pomerium, cloudflare, alb, iap) or --jwt-header NAME")?;
        let alb = self.jwt_preset == Some(JwtPreset::Alb);
        let alb_signers = if alb {
            self.alb_signers()?
        } else {
            if !self.jwt_alb_arns.is_empty() || self.jwt_alb_keys_url.is_some() {
                return Err(
                    "--jwt-alb-arn and --jwt-alb-keys-url go with --jwt-preset alb".to_owned(),
                );
            }
            Vec::new()
        };
        let keys = match (&self.jwks_url, &self.jwt_key_file) {
            (Some(_), _) if alb => {
                return Err("--jwt-preset alb reads each key from the region's ALB key endpoint, not from a JWKS: drop --jwks-url (--jwt-alb-keys-url moves the endpoint)".to_owned());
            }
            (None, None) if alb => KeySource::AlbKeyEndpoint,
            (Some(url), None) => {
                check_key_url("--jwks-url", url)?;
                KeySource::JwksUrl(url.clone())
            }
            (None, Some(path)) => KeySource::Pem(Arc::new(read_public_key(path)?)),
            _ => {
                return Err(
                    "--auth jwt needs exactly one of --jwks-url URL or --jwt-key-file PEM"
                        .to_owned(),
                );
            }
        };
        let issuer = self
            .jwt_issuer
            .clone()
            .ok_or("--auth jwt needs --jwt-issuer (the `iss` the proxy's assertions carry)")?;
        if self.jwt_audience.is_none() && self.jwt_preset != Some(JwtPreset::Alb) {
            return Err("--auth jwt needs --jwt-audience (the `aud` the proxy's assertions carry for dkimdash)".to_owned());
        }
        Ok(JwtSettings {
            header,
            keys,
            issuer,
            audience: self.jwt_audience.clone(),
            alb_signers,
            user_claim: self.jwt_user_claim.clone(),
            groups_claim: self.jwt_groups_claim.clone(),
            refetch_after: Duration::from_secs(10),
        })
    }
}

impl AuthOptions {
    /// The `--jwt-alb-arn` load balancers, with where their keys are.
    fn alb_signers(&self) -> Result<Vec<AlbSigner>, String> {
        if self.jwt_alb_arns.is_empty() {
            return Err("--jwt-preset alb needs --jwt-alb-arn ARN (the load balancer in front of dkimdash): every ALB in a region signs with the same keys, so without it a token from anyone's ALB would be believed".to_owned());
        }
        if let Some(url) = &self.jwt_alb_keys_url {
            check_key_url("--jwt-alb-keys-url", url)?;
        }
        self.jwt_alb_arns
            .iter()
            .map(|arn| AlbSigner::new(arn, self.jwt_alb_keys_url.as_deref()))
            .collect()
    }
}

/// An RSA or EC public key from a PEM file.
fn read_public_key(path: &std::path::Path) -> Result<VerifyingKey, String> {
    let pem = std::fs::read(path).map_err(|e| format!("--jwt-key-file {}: {e}", path.display()))?;
    VerifyingKey::from_pem(&pem).ok_or_else(|| {
        format!(
            "--jwt-key-file {}: not an RSA or EC public key in PEM",
            path.display()
        )
    })
}

/// A CIDR (`10.0.0.0/8`) or a single address (`10.0.0.5`, taken as /32 or /128).
fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{value}' is not an IP address or CIDR such as 10.0.0.0/8"))
}

fn parse_header_name(value: &str) -> Result<HeaderName, String> {
    HeaderName::try_from(value.trim()).map_err(|_| format!("'{value}' is not a header name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Config;
    use clap::Parser;

    fn options(args: &[&str]) -> AuthOptions {
        Config::try_parse_from(std::iter::once("dkimdash").chain(args.iter().copied()))
            .unwrap()
            .auth
    }

    #[test]
    fn none_only_on_loopback() {
        let loopback: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let everywhere: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(options(&[]).auth(loopback).unwrap().mode_name(), "none");
        assert!(options(&[]).auth("[::1]:3000".parse().unwrap()).is_ok());
        let refusal = options(&[]).auth(everywhere).unwrap_err();
        assert!(refusal.contains("--auth"), "{refusal}");
        assert!(refusal.contains("trusted-header"), "{refusal}");
    }

    #[test]
    fn trusted_header_needs_a_proxy_address() {
        let anywhere: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        let refusal = options(&["--auth", "trusted-header"])
            .auth(anywhere)
            .unwrap_err();
        assert!(refusal.contains("--trusted-proxy"), "{refusal}");
        let auth = options(&[
            "--auth",
            "trusted-header",
            "--trusted-proxy",
            "10.0.0.5",
            "--trusted-proxy",
            "fd00::/8",
            "--operator-group",
            "dkim-operators",
        ])
        .auth(anywhere)
        .unwrap();
        assert_eq!(auth.mode_name(), "trusted-header");
        assert_eq!(auth.identity_headers().len(), 3);
    }

    #[test]
    fn jwt_needs_a_header_keys_an_issuer_and_an_audience() {
        let anywhere: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        let refusal = |args: &[&str]| {
            let mut all = vec!["--auth", "jwt"];
            all.extend_from_slice(args);
            options(&all).auth(anywhere).unwrap_err()
        };
        assert!(refusal(&[]).contains("--jwt-preset"));
        assert!(refusal(&["--jwt-preset", "pomerium"]).contains("--jwks-url"));
        let keys = [
            "--jwt-preset",
            "pomerium",
            "--jwks-url",
            "https://auth.example.com/jwks",
        ];
        assert!(refusal(&keys).contains("--jwt-issuer"));
        let issuer = [&keys[..], &["--jwt-issuer", "https://auth.example.com"]].concat();
        assert!(refusal(&issuer).contains("--jwt-audience"));
        let full = [&issuer[..], &["--jwt-audience", "dkim"]].concat();
        let mut args = vec!["--auth", "jwt"];
        args.extend_from_slice(&full);
        let auth = options(&args).auth(anywhere).unwrap();
        assert_eq!(auth.mode_name(), "jwt");
        assert_eq!(auth.identity_headers(), ["x-pomerium-jwt-assertion"]);
        // Keys over plain http only from loopback.
        let plain = [
            "--jwt-preset",
            "pomerium",
            "--jwks-url",
            "http://auth.example.com/jwks",
            "--jwt-issuer",
            "i",
            "--jwt-audience",
            "dkim",
        ];
        assert!(refusal(&plain).contains("https"), "{}", refusal(&plain));
        // ALB tokens carry no audience, but the ALB that signs must be named.
        let alb = ["--jwt-preset", "alb", "--jwt-issuer", "i"];
        assert!(refusal(&alb).contains("--jwt-alb-arn"), "{}", refusal(&alb));
        let arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dkim/1";
        let named = [&alb[..], &["--jwt-alb-arn", arn]].concat();
        let mut args = vec!["--auth", "jwt"];
        args.extend_from_slice(&named);
        assert!(options(&args).auth(anywhere).is_ok());
        let with_jwks = [&named[..], &["--jwks-url", "https://x/jwks"]].concat();
        assert!(refusal(&with_jwks).contains("--jwks-url"));
        let bad_arn = [&alb[..], &["--jwt-alb-arn", "arn:aws:iam::1:role/x"]].concat();
        assert!(refusal(&bad_arn).contains("not an Application Load Balancer ARN"));
        let stray = [
            &issuer[..],
            &["--jwt-audience", "dkim", "--jwt-alb-arn", arn],
        ]
        .concat();
        assert!(refusal(&stray).contains("--jwt-preset alb"));
        let missing_file = [
            "--jwt-preset",
            "alb",
            "--jwt-alb-arn",
            arn,
            "--jwt-key-file",
            "/nonexistent.pem",
            "--jwt-issuer",
            "i",
        ];
        assert!(refusal(&missing_file).contains("/nonexistent.pem"));
    }

    #[test]
    fn bad_flag_values_are_named() {
        let parse = |args: &[&str]| {
            Config::try_parse_from(std::iter::once("dkimdash").chain(args.iter().copied()))
        };
        let error = parse(&["--trusted-proxy", "10.0.0.0/33"]).unwrap_err();
        assert!(
            error.to_string().contains("not an IP address or CIDR"),
            "{error}"
        );
        assert!(parse(&["--user-header", "bad header"]).is_err());
        assert!(parse(&["--default-role", "admin"]).is_err());
    }
}
