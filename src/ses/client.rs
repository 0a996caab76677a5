//! Building SDK clients for a target: the standard `aws-config` chain for real SES,
//! fixed throwaway credentials for the simulator (which accepts any signature).

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_sesv2::config::Credentials;

use super::target::Target;

/// Time allowed for one SES call, including reading the answer.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// SES API v1 and v2 clients for one target.
#[derive(Clone, Debug)]
pub struct SesClients {
    /// SES API v1: batched DKIM reads (100 identities a call) and the v1 verify calls.
    pub v1: aws_sdk_ses::Client,
    /// SES API v2: identities, details and every DKIM change.
    pub v2: aws_sdk_sesv2::Client,
}

impl SesClients {
    /// Clients for real SES: credentials from the default chain (or the target's profile),
    /// then the target's role assumed if it names one.
    pub async fn for_aws(target: &Target) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts());
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut config = loader.load().await;
        if let Some(role_arn) = &target.role_arn {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("dkimdash")
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(aws_sdk_sesv2::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }
        Self::from_config(&config)
    }

    /// Clients for the embedded simulator (or any SES-compatible endpoint that ignores
    /// signatures): fixed credentials, no environment lookups.
    pub fn for_endpoint(endpoint_url: &str, region: &str) -> Self {
        let credentials = Credentials::new(
            "AKIDDKIMDASHSIM",
            "dkimdash-simulator",
            None,
            None,
            "dkimdash-simulator",
        );
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_sesv2::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .endpoint_url(endpoint_url)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts())
            .build();
        Self::from_config(&config)
    }

    fn from_config(config: &SdkConfig) -> Self {
        Self {
            v1: aws_sdk_ses::Client::new(config),
            v2: aws_sdk_sesv2::Client::new(config),
        }
    }
}

/// Bounds on one call. (Retries are ours, through the rate limiter and counted, which is
/// why every client above turns the SDK's own off.)
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
}
