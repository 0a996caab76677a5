//! Building SDK clients for a target: the standard `aws-config` chain for real SES,
//! fixed throwaway credentials for the simulator (which accepts any signature).

use std::time::Duration;

use aws_config::{SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};

use super::target::Target;
use crate::aws_access::{Access, fixed_credentials, standard_chain};

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
        let access = Access {
            region: &target.region,
            profile: target.profile.as_deref(),
            role_arn: target.role_arn.as_deref(),
            external_id: target.external_id.as_deref(),
            endpoint_url: target.endpoint_url.as_deref(),
        };
        Self::from_config(&standard_chain(access, RetryConfig::disabled(), timeouts()).await)
    }

    /// Clients for the embedded simulator (or any SES-compatible endpoint that ignores
    /// signatures): fixed credentials, no environment lookups.
    pub fn for_endpoint(endpoint_url: &str, region: &str) -> Self {
        Self::from_config(&fixed_credentials(
            region,
            endpoint_url,
            RetryConfig::disabled(),
            timeouts(),
        ))
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
