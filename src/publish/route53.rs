//! Route 53 through the AWS SDK: the hosted zone that holds a record, what it holds at a
//! name, one change batch per zone (CREATE, or DELETE of the exact values seen + CREATE;
//! never a blind UPSERT), and the change's propagation.

use std::{collections::HashMap, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use aws_config::{SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_route53::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    types::{
        Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
    },
};

use super::{
    config::Route53Settings,
    error::ProviderError,
    plan::{Held, Plan, Step, name_key, same_name},
    txt,
    zone_choice::{self, ZoneInfo},
};
use crate::aws_access::{Access, fixed_credentials, standard_chain};
use crate::model::RecordType;

/// The TTL of records dkimdash creates (what the SES console suggests for DKIM).
pub const RECORD_TTL: i64 = 1800;
/// The most pages a listing reads (100 zones or 300 record sets a page): a bound, should
/// an answer keep saying there is more.
const MAX_PAGES: usize = 10_000;
/// Route 53 is a global service signed in us-east-1.
const SIGNING_REGION: &str = "us-east-1";

/// One Route 53 account.
#[derive(Clone, Debug)]
pub struct Route53Provider {
    name: String,
    client: Client,
    zones: Vec<String>,
    /// Route 53 allows an account five requests a second; its clones share this.
    pace: Arc<DefaultDirectRateLimiter>,
}

impl Route53Provider {
    /// Real Route 53: credentials from the standard chain (or the profile), then the role
    /// assumed if the settings name one.
    pub async fn connect(settings: &Route53Settings) -> Self {
        let access = Access {
            region: SIGNING_REGION,
            profile: settings.profile.as_deref(),
            role_arn: settings.role_arn.as_deref(),
            external_id: settings.external_id.as_deref(),
            endpoint_url: settings.endpoint_url.as_deref(),
        };
        let config = standard_chain(access, retries(), timeouts()).await;
        Self::with_config(&settings.name, &config, settings.zones.clone())
    }

    /// A Route 53 that ignores signatures (the simulator): fixed credentials, no
    /// environment look-ups.
    pub fn for_endpoint(name: &str, endpoint_url: &str, zones: Vec<String>) -> Self {
        let config = fixed_credentials(SIGNING_REGION, endpoint_url, retries(), timeouts());
        Self::with_config(name, &config, zones)
    }

    fn with_config(name: &str, config: &SdkConfig, zones: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            client: Client::new(config),
            zones,
            pace: Arc::new(RateLimiter::direct(request_rate())),
        }
    }

    /// The client, once the account's request rate allows another call.
    async fn client(&self) -> &Client {
        self.pace.until_ready().await;
        &self.client
    }

    /// The zones the settings allow (names or ids; empty allows all).
    pub fn allowed(&self) -> &[String] {
        &self.zones
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
        zone_choice::find(record_name, &self.zones, delegation, |name| {
            self.public_zones_named(name)
        })
        .await
    }

    /// The public zones named exactly `name`, with their nameservers when there are
    /// twins (which tell the one the domain is delegated to).
    async fn public_zones_named(&self, name: String) -> Result<Vec<ZoneInfo>, ProviderError> {
        let mut named = self.zones_named(&name).await?;
        named.retain(|z| !z.private);
        if named.len() > 1 {
            for zone in &mut named {
                zone.name_servers = self.name_servers(&zone.id).await?;
            }
        }
        Ok(named)
    }

    /// Every zone (public or private) named exactly `name`.
    async fn zones_named(&self, name: &str) -> Result<Vec<ZoneInfo>, ProviderError> {
        let mut found = Vec::new();
        let mut next_id: Option<String> = None;
        loop {
            let answer = self
                .client()
                .await
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
            .client()
            .await
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
            .client()
            .await
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
            .map(held_of)
            .collect())
    }

    /// Every public zone of the account, in one listing (a fleet repair's preview asks
    /// once, not once per identity). Twins (zones of one name) come with their nameservers.
    pub async fn zones(&self) -> Result<Vec<ZoneInfo>, ProviderError> {
        let mut zones: Vec<ZoneInfo> = Vec::new();
        let (mut next_name, mut next_id): (Option<String>, Option<String>) = (None, None);
        for _ in 0..MAX_PAGES {
            let answer = self
                .client()
                .await
                .list_hosted_zones_by_name()
                .set_dns_name(next_name.clone())
                .set_hosted_zone_id(next_id.clone())
                .max_items(100)
                .send()
                .await
                .map_err(|e| self.error(e, "route53:ListHostedZonesByName"))?;
            zones.extend(
                answer
                    .hosted_zones()
                    .iter()
                    .filter(|zone| !zone.config().is_some_and(|c| c.private_zone()))
                    .map(|zone| ZoneInfo {
                        id: bare_id(zone.id()).to_owned(),
                        name: zone.name().trim_end_matches('.').to_owned(),
                        private: false,
                        name_servers: Vec::new(),
                    }),
            );
            next_name = answer.next_dns_name().map(str::to_owned);
            next_id = answer.next_hosted_zone_id().map(str::to_owned);
            if !answer.is_truncated() || next_name.is_none() {
                break;
            }
        }
        let names: Vec<String> = zones.iter().map(|z| name_key(&z.name)).collect();
        for (index, zone) in zones.iter_mut().enumerate() {
            if names.iter().filter(|n| **n == names[index]).count() > 1 {
                zone.name_servers = self.name_servers(&zone.id).await?;
            }
        }
        Ok(zones)
    }

    /// Every record set of `zone`, by name (see `name_key`).
    pub async fn records_in(
        &self,
        zone: &ZoneInfo,
    ) -> Result<HashMap<String, Vec<Held>>, ProviderError> {
        let mut held: HashMap<String, Vec<Held>> = HashMap::new();
        let (mut next_name, mut next_type): (Option<String>, Option<RrType>) = (None, None);
        for _ in 0..MAX_PAGES {
            let answer = self
                .client()
                .await
                .list_resource_record_sets()
                .hosted_zone_id(&zone.id)
                .set_start_record_name(next_name.clone())
                .set_start_record_type(next_type.clone())
                .max_items(300)
                .send()
                .await
                .map_err(|e| self.error(e, "route53:ListResourceRecordSets"))?;
            for set in answer.resource_record_sets() {
                held.entry(name_key(set.name()))
                    .or_default()
                    .push(held_of(set));
            }
            next_name = answer.next_record_name().map(str::to_owned);
            next_type = answer.next_record_type().cloned();
            if !answer.is_truncated() || next_name.is_none() {
                break;
            }
        }
        Ok(held)
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
            .client()
            .await
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
                .client()
                .await
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

/// The IAM action in an AccessDenied message ("… is not authorized to perform:
/// route53:ChangeResourceRecordSets on resource …").
fn denied_action(message: &str) -> Option<&str> {
    let rest = message.split("perform: ").nth(1)?;
    rest.split_whitespace().next()
}

/// A record set as a plan compares it: TXT values joined and unquoted.
fn held_of(set: &ResourceRecordSet) -> Held {
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
}

/// `/hostedzone/Z1` or `/change/C1` → `Z1`, `C1`.
fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Throttling and PriorRequestNotComplete are retried by the SDK's standard mode.
/// Route 53's quota: five requests a second per account, spaced (no burst), so no second
/// holds more than five.
fn request_rate() -> Quota {
    Quota::with_period(Duration::from_millis(200))
        .expect("a period above zero")
        .allow_burst(NonZeroU32::MIN)
}

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
    fn the_denied_action_is_read_from_the_message() {
        let message = "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z1";
        assert_eq!(
            denied_action(message),
            Some("route53:ChangeResourceRecordSets")
        );
        assert_eq!(denied_action("nothing"), None);
    }
}
