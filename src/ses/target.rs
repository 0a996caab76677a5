//! Where identities live: an AWS account (by the operator's label) and a region.

use serde::Deserialize;

/// One account-and-region the dashboard reads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The operator's name for the account, shown in the dashboard ("production").
    pub account: String,
    /// The AWS region, e.g. `eu-west-1`.
    pub region: String,
    /// A role to assume for this target (cross-account access).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The ExternalId the role's trust policy asks for (AssumeRole's `ExternalId`), when
    /// the account belongs to another party; only with `role_arn`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A named profile from the AWS config files.
    #[serde(default)]
    pub profile: Option<String>,
    /// A different SES endpoint (the simulator, a VPC endpoint).
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

impl Target {
    /// A target served at `endpoint_url` (the simulator), with no role or profile.
    pub fn at_endpoint(account: &str, region: &str, endpoint_url: &str) -> Self {
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            role_arn: None,
            external_id: None,
            profile: None,
            endpoint_url: Some(endpoint_url.to_owned()),
        }
    }

    /// `account/region`, for logs and messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }
}
