//! The AWS SDK configuration every AWS client of dkimdash starts from (SES targets, Route
//! 53 providers): the standard `aws-config` chain for real AWS, with a profile and an
//! assumed role when the settings name them, or fixed throwaway credentials for a simulator.

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
// The SDKs re-export one credentials type; SES's re-export serves every client.
use aws_sdk_sesv2::config::{Credentials, SharedCredentialsProvider, SharedHttpClient};

/// Where and as whom to call AWS, from a target's or a provider's settings.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub region: &'a str,
    pub profile: Option<&'a str>,
    pub role_arn: Option<&'a str>,
    /// AssumeRole's `ExternalId`, when the role's trust policy asks for one.
    pub external_id: Option<&'a str>,
    /// Another endpoint than AWS's (a simulator, a VPC endpoint).
    pub endpoint_url: Option<&'a str>,
}

/// Why `external_id` cannot be set alone: AssumeRole's ExternalId belongs to the role
/// assumed, so a setting with one and no `role_arn` would be silently ignored.
pub fn check_external_id(
    role_arn: Option<&str>,
    external_id: Option<&str>,
) -> Result<(), &'static str> {
    match (role_arn, external_id) {
        (None, Some(_)) => Err("external_id is given to the role it assumes: add its role_arn"),
        _ => Ok(()),
    }
}

/// Credentials from the standard chain (or the profile), then the role assumed if one is
/// named. Nothing is called yet: the chain is asked for credentials at the first request.
pub async fn standard_chain(
    access: Access<'_>,
    retries: RetryConfig,
    timeouts: TimeoutConfig,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(access.region.to_owned()))
        .retry_config(retries)
        .timeout_config(timeouts);
    if let Some(profile) = access.profile {
        loader = loader.profile_name(profile);
    }
    let chain = loader.load().await;
    let mut config = chain.to_builder();
    if let Some(role_arn) = access.role_arn {
        let mut assumed = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name("dkimdash")
            .configure(&chain);
        if let Some(external_id) = access.external_id {
            assumed = assumed.external_id(external_id);
        }
        config
            .set_credentials_provider(Some(SharedCredentialsProvider::new(assumed.build().await)));
    }
    // The service's endpoint only: on the loader it would also carry AssumeRole's STS
    // call to the SES or Route 53 endpoint.
    if let Some(url) = access.endpoint_url {
        config.set_endpoint_url(Some(url.to_owned()));
    }
    config.build()
}

/// For an endpoint that ignores signatures (the project's simulators): fixed credentials,
/// no environment look-ups.
pub fn fixed_credentials(
    region: &str,
    endpoint_url: &str,
    retries: RetryConfig,
    timeouts: TimeoutConfig,
) -> SdkConfig {
    let credentials = Credentials::new(
        "AKIDDKIMDASHSIM",
        "dkimdash-simulator",
        None,
        None,
        "dkimdash-simulator",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint_url)
        .retry_config(retries)
        .timeout_config(timeouts)
        .build()
}

/// The SDK's default HTTPS client as its latest behaviour version makes it (hyper 1 and
/// rustls, a proxy from `HTTPS_PROXY`/`NO_PROXY` and the like, the config's timeouts),
/// with ring as rustls's cryptography instead of aws-lc (Cargo.toml says why). It also
/// speaks plain HTTP, for simulators. Every AWS client needs one: the SDKs are built
/// without a default.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
