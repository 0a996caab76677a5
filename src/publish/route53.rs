//! Route 53 through the AWS SDK: the hosted zone that holds a record, what it holds at a
//! name, one change batch per zone (CREATE, or DELETE of the exact values seen + CREATE;
//! never a blind UPSERT), and the change's propagation.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_route53::{
    Client,
    config::{Credentials, SharedCredentialsProvider},
    error::{ProvideErrorMetadata, SdkError},
    types::{
        Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
    },
};

use super::{
    config::Route53Settings,
    error::ProviderError,
    plan::{Held, Plan, Step, same_name},
    txt,
    zone_choice::{self, NoZone, ZoneInfo},
};
use crate::model::RecordType;

/// The TTL of records dkimdash creates (what the SES console suggests for DKIM).
pub const RECORD_TTL: i64 = 1800;
/// Route 53 is a global service signed in us-east-1.
const SIGNING_REGION: &str = "us-east-1";

/// One Route 53 account.
#[derive(Clone, Debug)]
pub struct Route53Provider {
    name: String,
    client: Client,
    zones: Vec<String>,
}

impl Route53Provider {
    /// Real Route 53: credentials from the standard chain (or the profile), then the role
    /// assumed if the settings name one.
    pub async fn connect(settings: &Route53Settings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(SIGNING_REGION))
            .retry_config(retries())
            .timeout_config(timeouts());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut config = loader.load().await;
        if let Some(role_arn) = &settings.role_arn {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("dkimdash")
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        Self::with_config(&settings.name, &config, settings.zones.clone())
    }

    /// A Route 53 that ignores signatures (the simulator): fixed credentials, no
    /// environment look-ups.
    pub fn for_endpoint(name: &str, endpoint_url: &str, zones: Vec<String>) -> Self {
        let credentials = Credentials::new(
            "AKIDDKIMDASHSIM",
            "dkimdash-simulator",
            None,
            None,
            "dkimdash-simulator",
        );
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(SIGNING_REGION))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .endpoint_url(endpoint_url)
            .retry_config(retries())
            .timeout_config(timeouts())
            .build();
        Self::with_config(name, &config, zones)
    }

    fn with_config(name: &str, config: &SdkConfig, zones: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            client: Client::new(config),
            zones,
        }
    }

    /// The operator's name for this account.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public hosted zone that holds `record_name`: the longest zone name that ends it,
    /// found with ListHostedZonesByName (which lists from a name on; it does not filter).
    pub async fn zone_for(
        &self,
        record_name: &str,
        delegation: Option<&[String]>,
    ) -> Result<ZoneInfo, ProviderError> {
        for candidate in suffixes(record_name) {
            let mut named = self.zones_named(&candidate).await?;
            named.retain(|z| !z.private);
            if named.is_empty() {
                continue;
            }
            if named.len() > 1 {
                // Twins: their nameservers tell which one the domain is delegated to.
                for zone in &mut named {
                    zone.name_servers = self.name_servers(&zone.id).await?;
                }
            }
            return zone_choice::choose(record_name, &named, &self.zones, delegation)
                .cloned()
                .map_err(ProviderError::from);
        }
        Err(NoZone::NotHeld(record_name.to_owned()).into())
    }

    /// Every zone (public or private) named exactly `name`.
    async fn zones_named(&self, name: &str) -> Result<Vec<ZoneInfo>, ProviderError> {
        let mut found = Vec::new();
        let mut next_id: Option<String> = None;
        loop {
            let answer = self
                .client
                .list_hosted_zones_by_name()
                .dns_name(name)
                .set_hosted_zone_id(next_id.clone())
                .max_items(100)
                .send()
                .await
                .map_err(|e| self.error(e, "route53:ListHostedZonesByName"))?;
            let mut past_name = false;
            for zone in answer.hosted_zones() {
                if same_name(zone.name(), name) {
                    found.push(ZoneInfo {
                        id: bare_id(zone.id()).to_owned(),
                        name: zone.name().trim_end_matches('.').to_owned(),
                        private: zone.config().is_some_and(|c| c.private_zone()),
                        name_servers: Vec::new(),
                    });
                } else {
                    past_name = true;
                }
            }
            let more =
                answer.is_truncated() && answer.next_dns_name().is_some_and(|n| same_name(n, name));
            if past_name || !more {
                return Ok(found);
            }
            next_id = answer.next_hosted_zone_id().map(str::to_owned);
        }
    }

    async fn name_servers(&self, zone_id: &str) -> Result<Vec<String>, ProviderError> {
        let answer = self
            .client
            .get_hosted_zone()
            .id(zone_id)
            .send()
            .await
            .map_err(|e| self.error(e, "route53:GetHostedZone"))?;
        Ok(answer
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default())
    }

    /// The record sets at `name` in `zone`, every type.
    pub async fn held_at(&self, zone: &ZoneInfo, name: &str) -> Result<Vec<Held>, ProviderError> {
        let answer = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .start_record_name(name)
            .max_items(20)
            .send()
            .await
            .map_err(|e| self.error(e, "route53:ListResourceRecordSets"))?;
        Ok(answer
            .resource_record_sets()
            .iter()
            .take_while(|set| same_name(set.name(), name))
            .map(|set| {
                let record_type = set.r#type().as_str().to_owned();
                let values = set
                    .resource_records()
                    .iter()
                    .map(|r| {
                        if record_type == "TXT" {
                            txt::joined(r.value())
                        } else {
                            r.value().to_owned()
                        }
                    })
                    .collect();
                Held {
                    record_type,
                    values,
                    ids: Vec::new(),
                    ttl: set.ttl().map(|t| t.clamp(0, i64::from(u32::MAX)) as u32),
                }
            })
            .collect())
    }

    /// Applies `plan` to `zone` in one batch; `comment` marks the change as dkimdash's.
    /// Returns the change id, or `None` when the plan writes nothing. Route 53 refuses the
    /// whole batch if a record is no longer what the plan saw.
    pub async fn apply(
        &self,
        zone: &ZoneInfo,
        plan: &Plan,
        comment: &str,
    ) -> Result<Option<String>, ProviderError> {
        let mut changes = Vec::new();
        for record in &plan.records {
            let Some(value) = record.wanted.value.as_deref() else {
                continue;
            };
            let kind = record.wanted.record_type;
            match &record.step {
                Step::Create => changes.push(change(
                    ChangeAction::Create,
                    &record.wanted.name,
                    kind,
                    &[value.to_owned()],
                    RECORD_TTL,
                )),
                Step::Replace { old } => {
                    let ttl = old.ttl.map_or(RECORD_TTL, i64::from);
                    changes.push(change(
                        ChangeAction::Delete,
                        &record.wanted.name,
                        kind,
                        &old.values,
                        ttl,
                    ));
                    changes.push(change(
                        ChangeAction::Create,
                        &record.wanted.name,
                        kind,
                        &[value.to_owned()],
                        RECORD_TTL,
                    ));
                }
                Step::AlreadyRight | Step::Refused(_) => {}
            }
        }
        if changes.is_empty() {
            return Ok(None);
        }
        let batch = ChangeBatch::builder()
            .comment(comment)
            .set_changes(Some(changes))
            .build()
            .map_err(|e| self.invalid(e))?;
        let answer = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| self.error(e, "route53:ChangeResourceRecordSets"))?;
        Ok(answer
            .change_info()
            .map(|info| bare_id(info.id()).to_owned()))
    }

    /// Waits until the change is INSYNC at every Route 53 server, at most `within`.
    /// Returns whether it is.
    pub async fn wait_in_sync(
        &self,
        change_id: &str,
        within: Duration,
    ) -> Result<bool, ProviderError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let answer = self
                .client
                .get_change()
                .id(change_id)
                .send()
                .await
                .map_err(|e| self.error(e, "route53:GetChange"))?;
            if answer
                .change_info()
                .is_some_and(|i| *i.status() == ChangeStatus::Insync)
            {
                return Ok(true);
            }
            if tokio::time::Instant::now() + POLL >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn invalid(&self, error: impl std::fmt::Display) -> ProviderError {
        ProviderError::Refused {
            provider: self.name.clone(),
            code: "InvalidRequest".into(),
            message: error.to_string(),
        }
    }

    /// An SDK error in words: the missing IAM permission named, a changed zone told apart
    /// from other refusals.
    fn error<E, R>(&self, error: SdkError<E, R>, action: &str) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        let provider = self.name.clone();
        match &error {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                ProviderError::Unreachable {
                    provider,
                    detail: "no answer from Route 53".into(),
                }
            }
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown").to_owned();
                let message = e.message().unwrap_or_default().to_owned();
                match code.as_str() {
                    "AccessDenied" | "AccessDeniedException" => ProviderError::Denied {
                        provider,
                        permission: denied_action(&message).unwrap_or(action).to_owned(),
                        detail: "grant it to the role or user dkimdash runs as".into(),
                    },
                    "Throttling" | "PriorRequestNotComplete" => ProviderError::Throttled(provider),
                    "InvalidChangeBatch" => ProviderError::ChangedSincePreview(message),
                    _ => ProviderError::Refused {
                        provider,
                        code,
                        message,
                    },
                }
            }
            _ => ProviderError::Unreachable {
                provider,
                detail: "Route 53's answer could not be read".into(),
            },
        }
    }
}

const POLL: Duration = Duration::from_millis(500);

fn change(
    action: ChangeAction,
    name: &str,
    kind: RecordType,
    values: &[String],
    ttl: i64,
) -> Change {
    let records = values
        .iter()
        .map(|value| {
            let value = match kind {
                RecordType::Txt => txt::quoted(value),
                RecordType::Cname => value.clone(),
            };
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("a value is set")
        })
        .collect();
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(match kind {
            RecordType::Cname => RrType::Cname,
            RecordType::Txt => RrType::Txt,
        })
        .ttl(ttl)
        .set_resource_records(Some(records))
        .build()
        .expect("name and type are set");
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .expect("action and record set are set")
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`: the names a zone
/// holding it can have, longest first (not a top-level domain alone).
pub(super) fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// The IAM action in an AccessDenied message ("… is not authorized to perform:
/// route53:ChangeResourceRecordSets on resource …").
fn denied_action(message: &str) -> Option<&str> {
    let rest = message.split("perform: ").nth(1)?;
    rest.split_whitespace().next()
}

/// `/hostedzone/Z1` or `/change/C1` → `Z1`, `C1`.
fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Throttling and PriorRequestNotComplete are retried by the SDK's standard mode.
fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(300))
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(20))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_looked_for_from_the_longest_name() {
        assert_eq!(
            suffixes("t._domainkey.example.com."),
            [
                "t._domainkey.example.com",
                "_domainkey.example.com",
                "example.com"
            ]
        );
    }

    #[test]
    fn the_denied_action_is_read_from_the_message() {
        let message = "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z1";
        assert_eq!(
            denied_action(message),
            Some("route53:ChangeResourceRecordSets")
        );
        assert_eq!(denied_action("nothing"), None);
    }
}
