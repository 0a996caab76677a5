//! `--dns-providers-file`: the DNS provider accounts dkimdash may publish records to, one
//! `[[dns_provider]]` table each. Unknown keys are refused; a Cloudflare token is read from
//! the environment variable the file names, never from the file.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

/// One provider account, as configured.
#[derive(Clone, Debug)]
pub enum ProviderSettings {
    Route53(Route53Settings),
    Cloudflare(CloudflareSettings),
}

impl ProviderSettings {
    /// The operator's name for the account, shown on pages and in the audit log.
    pub fn name(&self) -> &str {
        match self {
            Self::Route53(s) => &s.name,
            Self::Cloudflare(s) => &s.name,
        }
    }
}

/// A Route 53 account: credentials from the standard chain, optionally a profile or a role.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route53Settings {
    pub name: String,
    /// A role to assume (another account's zones).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// AssumeRole's `ExternalId` for that role, when its trust policy asks for one.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A named profile from the AWS config files.
    #[serde(default)]
    pub profile: Option<String>,
    /// The zones records may go to, by name or id; empty: every public zone.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Another Route 53 endpoint (the simulator in tests and the demo).
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

/// A Cloudflare account, reached with an API token.
#[derive(Clone, Debug)]
pub struct CloudflareSettings {
    pub name: String,
    /// The token, read from the environment at start; never logged or shown.
    pub token: SecretString,
    /// The variable it came from, for messages.
    pub token_env: String,
    /// The zones records may go to, by name or id; empty: every active full zone.
    pub zones: Vec<String>,
    /// Another API base (the simulator in tests and the demo).
    pub api_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    #[serde(default)]
    dns_provider: Vec<ProviderTable>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum ProviderTable {
    Route53(Route53Settings),
    Cloudflare(CloudflareTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudflareTable {
    name: String,
    token_env: String,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    api_url: Option<String>,
}

/// Reads and checks the file; `env` looks up environment variables (the token).
pub fn read(
    path: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ProviderSettings>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("--dns-providers-file {}: {error}", path.display()))?;
    parse(&text, env).map_err(|error| format!("--dns-providers-file {}: {error}", path.display()))
}

/// Parses the file's text; see [`read`].
pub fn parse(
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<ProviderSettings>, String> {
    let file: ProvidersFile = toml::from_str(text).map_err(|error| error.to_string())?;
    let mut providers = Vec::new();
    for table in file.dns_provider {
        let provider = match table {
            ProviderTable::Route53(settings) => {
                crate::aws_access::check_external_id(
                    settings.role_arn.as_deref(),
                    settings.external_id.as_deref(),
                )
                .map_err(|why| format!("dns_provider '{}': {why}", settings.name))?;
                ProviderSettings::Route53(settings)
            }
            ProviderTable::Cloudflare(table) => {
                let token = env(&table.token_env).filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                    format!(
                        "dns_provider '{}': the environment variable {} (its token_env) is not set",
                        table.name, table.token_env
                    )
                })?;
                ProviderSettings::Cloudflare(CloudflareSettings {
                    name: table.name,
                    token: SecretString::from(token.trim().to_owned()),
                    token_env: table.token_env,
                    zones: table.zones,
                    api_url: table.api_url,
                })
            }
        };
        if provider.name().trim().is_empty() {
            return Err("every dns_provider needs a name".into());
        }
        if providers
            .iter()
            .any(|p: &ProviderSettings| p.name() == provider.name())
        {
            return Err(format!(
                "dns_provider '{}' is configured twice",
                provider.name()
            ));
        }
        providers.push(provider);
    }
    Ok(providers)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "CF_TOKEN").then(|| "secret-token-value".to_owned())
    }

    #[test]
    fn a_route53_external_id_needs_its_role() {
        let text = |role: &str| {
            format!(
                "[[dns_provider]]\nkind = \"route53\"\nname = \"dns\"\n{role}external_id = \"x-1\"\n"
            )
        };
        let refusal = parse(&text(""), env).unwrap_err();
        assert!(refusal.contains("role_arn"), "{refusal}");
        let providers = parse(&text("role_arn = \"arn:aws:iam::1:role/dns\"\n"), env).unwrap();
        let ProviderSettings::Route53(route53) = &providers[0] else {
            panic!("{:?}", providers[0])
        };
        assert_eq!(route53.external_id.as_deref(), Some("x-1"));
    }

    #[test]
    fn both_kinds_are_read_and_the_token_comes_from_the_environment() {
        let providers = parse(
            r#"
            [[dns_provider]]
            kind = "route53"
            name = "aws-main"
            role_arn = "arn:aws:iam::123456789012:role/dns"
            zones = ["example.com", "Z123"]

            [[dns_provider]]
            kind = "cloudflare"
            name = "cf"
            token_env = "CF_TOKEN"
            "#,
            env,
        )
        .unwrap();
        assert_eq!(providers.len(), 2);
        let ProviderSettings::Route53(route53) = &providers[0] else {
            panic!("{:?}", providers[0])
        };
        assert_eq!(route53.zones, ["example.com", "Z123"]);
        let ProviderSettings::Cloudflare(cloudflare) = &providers[1] else {
            panic!("{:?}", providers[1])
        };
        assert_eq!(cloudflare.token.expose_secret(), "secret-token-value");
        assert!(!format!("{cloudflare:?}").contains("secret-token-value"));
    }

    #[test]
    fn unknown_keys_a_token_in_the_file_and_a_missing_variable_are_refused() {
        let unknown = parse(
            "[[dns_provider]]\nkind = \"route53\"\nname = \"a\"\nregion = \"x\"\n",
            env,
        )
        .unwrap_err();
        assert!(unknown.contains("region"), "{unknown}");
        let token_in_file = parse(
            "[[dns_provider]]\nkind = \"cloudflare\"\nname = \"a\"\ntoken_env = \"CF_TOKEN\"\ntoken = \"x\"\n",
            env,
        )
        .unwrap_err();
        assert!(token_in_file.contains("token"), "{token_in_file}");
        let missing = parse(
            "[[dns_provider]]\nkind = \"cloudflare\"\nname = \"a\"\ntoken_env = \"NOPE\"\n",
            env,
        )
        .unwrap_err();
        assert!(
            missing.contains("NOPE") && missing.contains("not set"),
            "{missing}"
        );
        let kind = parse("[[dns_provider]]\nkind = \"gandi\"\nname = \"a\"\n", env).unwrap_err();
        assert!(kind.contains("gandi"), "{kind}");
        let twice = parse(
            "[[dns_provider]]\nkind = \"route53\"\nname = \"a\"\n[[dns_provider]]\nkind = \"route53\"\nname = \"a\"\n",
            env,
        )
        .unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
    }
}
