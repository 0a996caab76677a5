//! The `--auth` flags, checked into an `Auth` before the server starts: a setting that
//! would leave the dashboard open, or trust nobody, stops the start with the flag to fix.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderName;
use clap::{Args, ValueEnum};
use ipnet::IpNet;

use super::{Auth, proxy::TrustedHeader, roles::RolePolicy};
use crate::user::Role;

/// Who is asking, and what they may do.
#[derive(Debug, Clone, Args)]
pub struct AuthOptions {
    /// How users are identified: `none` (only on a loopback address; everyone is the local
    /// operator) or `trusted-header` (the SSO proxy's user/email/groups headers).
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
}

/// `--auth` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthChoice {
    /// No authentication (loopback only).
    None,
    /// An SSO proxy's identity headers.
    TrustedHeader,
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
                "--auth none is only allowed when listening on a loopback address, and {listen} is not one: anyone who can reach it could change DKIM. Put dkimdash behind your SSO proxy and choose --auth trusted-header (with --trusted-proxy), or listen on 127.0.0.1."
            )),
            AuthChoice::TrustedHeader if self.trusted_proxies.is_empty() => Err(
                "--auth trusted-header needs --trusted-proxy ADDRESS_OR_CIDR (where the SSO proxy connects from): identity headers from anywhere else are refused.".to_owned(),
            ),
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
