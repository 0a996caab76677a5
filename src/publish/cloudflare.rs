//! Cloudflare through its v4 API: the active full zone that holds a record, the records at a
//! name, and the records created (never proxied, stated explicitly) or changed by the id
//! the preview saw, re-read first. The token is sent only in the Authorization header,
//! which is marked sensitive, and appears in no error or log line.

use std::{collections::HashMap, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    config::CloudflareSettings,
    error::ProviderError,
    plan::{Held, Plan, Step, name_key, same_name},
    txt,
    zone_choice::{self, ZoneInfo},
};
use crate::model::RecordType;

/// Where the API lives.
const API_URL: &str = "https://api.cloudflare.com/client/v4";
/// The TTL of records dkimdash creates.
pub const RECORD_TTL: u32 = 1800;
/// Tries of one call while Cloudflare answers 429.
const ATTEMPTS: u32 = 4;
/// Bounds on a `Retry-After` we obey.
const RETRY_AFTER_MIN: Duration = Duration::from_secs(1);
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

/// The token scopes dkimdash needs, as Cloudflare's token editor names them.
pub const ZONE_READ: &str = "Zone → Zone → Read";
/// The largest pages Cloudflare serves of zones and of records.
const ZONES_PER_PAGE: usize = 50;
const RECORDS_PER_PAGE: usize = 100;
/// The most pages a listing reads: a bound, should an answer keep being full.
const MAX_PAGES: usize = 10_000;
pub const DNS_EDIT: &str = "Zone → DNS → Edit";

/// One Cloudflare account.
#[derive(Clone)]
pub struct CloudflareProvider {
    name: String,
    http: reqwest::Client,
    token: SecretString,
    api_url: String,
    zones: Vec<String>,
    /// Cloudflare allows 1,200 requests in five minutes; its clones share this.
    pace: Arc<DefaultDirectRateLimiter>,
}

impl std::fmt::Debug for CloudflareProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudflareProvider")
            .field("name", &self.name)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    success: bool,
    #[serde(default)]
    errors: Vec<ApiError>,
    #[serde(default)]
    result: Value,
}

#[derive(Deserialize)]
struct ApiError {
    code: u32,
    message: String,
}

#[derive(Deserialize)]
struct CfZone {
    id: String,
    name: String,
    status: String,
    #[serde(rename = "type", default)]
    zone_type: String,
    #[serde(default)]
    name_servers: Vec<String>,
}

#[derive(Deserialize)]
struct CfRecord {
    id: String,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    content: String,
    #[serde(default)]
    ttl: Option<u32>,
}

impl CloudflareProvider {
    /// A client for the account in `settings`.
    pub fn new(settings: &CloudflareSettings) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("a client with timeouts builds");
        Self {
            name: settings.name.clone(),
            http,
            pace: Arc::new(RateLimiter::direct(request_rate())),
            token: settings.token.clone(),
            api_url: settings
                .api_url
                .clone()
                .unwrap_or_else(|| API_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            zones: settings.zones.clone(),
        }
    }

    /// The zones the settings allow (names or ids; empty allows all).
    pub fn allowed(&self) -> &[String] {
        &self.zones
    }

    /// The operator's name for this account.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The active, fully managed zone that holds `record_name`: the longest zone name
    /// that ends it.
    pub async fn zone_for(
        &self,
        record_name: &str,
        delegation: Option<&[String]>,
    ) -> Result<ZoneInfo, ProviderError> {
        zone_choice::find(record_name, &self.zones, delegation, |name| {
            self.usable_zones_named(name)
        })
        .await
    }

    /// The zones named exactly `name` that dkimdash may write to: active, and full (a
    /// partial zone's records are not what the world sees).
    async fn usable_zones_named(&self, name: String) -> Result<Vec<ZoneInfo>, ProviderError> {
        let path = format!(
            "/zones?name={}&status=active&per_page={ZONES_PER_PAGE}",
            encode(&name)
        );
        let result = self.call(Method::GET, &path, None, ZONE_READ).await?;
        let zones: Vec<CfZone> = serde_json::from_value(result).map_err(|e| self.unreadable(e))?;
        Ok(zones
            .into_iter()
            .filter(|z| usable(z) && same_name(&z.name, &name))
            .map(zone_info)
            .collect())
    }

    /// The records at `name` in `zone`, one `Held` per type.
    pub async fn held_at(&self, zone: &ZoneInfo, name: &str) -> Result<Vec<Held>, ProviderError> {
        let path = format!(
            "/zones/{}/dns_records?name.exact={}&per_page=100",
            encode(&zone.id),
            encode(name)
        );
        let result = self
            .call(Method::GET, &path, None, "Zone → DNS → Read")
            .await?;
        let records: Vec<CfRecord> =
            serde_json::from_value(result).map_err(|e| self.unreadable(e))?;
        Ok(held_of(
            records.into_iter().filter(|r| same_name(&r.name, name)),
        ))
    }

    /// Every zone dkimdash may write to, in one listing (a fleet repair's preview asks
    /// once, not once per identity).
    pub async fn zones(&self) -> Result<Vec<ZoneInfo>, ProviderError> {
        let mut zones = Vec::new();
        for page in 1..=MAX_PAGES {
            let path = format!("/zones?status=active&per_page={ZONES_PER_PAGE}&page={page}");
            let result = self.call(Method::GET, &path, None, ZONE_READ).await?;
            let listed: Vec<CfZone> =
                serde_json::from_value(result).map_err(|e| self.unreadable(e))?;
            let last = listed.len() < ZONES_PER_PAGE;
            zones.extend(listed.into_iter().filter(usable).map(zone_info));
            if last {
                break;
            }
        }
        Ok(zones)
    }

    /// Every record of `zone`, by name (see `name_key`).
    pub async fn records_in(
        &self,
        zone: &ZoneInfo,
    ) -> Result<HashMap<String, Vec<Held>>, ProviderError> {
        let mut by_name: HashMap<String, Vec<CfRecord>> = HashMap::new();
        for page in 1..=MAX_PAGES {
            let path = format!(
                "/zones/{}/dns_records?per_page={RECORDS_PER_PAGE}&page={page}",
                encode(&zone.id)
            );
            let result = self
                .call(Method::GET, &path, None, "Zone → DNS → Read")
                .await?;
            let listed: Vec<CfRecord> =
                serde_json::from_value(result).map_err(|e| self.unreadable(e))?;
            let last = listed.len() < RECORDS_PER_PAGE;
            for record in listed {
                by_name
                    .entry(name_key(&record.name))
                    .or_default()
                    .push(record);
            }
            if last {
                break;
            }
        }
        Ok(by_name
            .into_iter()
            .map(|(name, records)| (name, held_of(records.into_iter())))
            .collect())
    }

    /// Applies `plan` record by record (Cloudflare has no batch that is also atomic in
    /// DNS). A replacement re-reads the name first and is refused if it no longer holds
    /// what the preview saw. Returns the ids of the records written.
    pub async fn apply(
        &self,
        zone: &ZoneInfo,
        plan: &Plan,
        comment: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let mut written = Vec::new();
        for record in &plan.records {
            let Some(value) = record.wanted.value.as_deref() else {
                continue;
            };
            let content = match record.wanted.record_type {
                RecordType::Txt => txt::quoted(value),
                RecordType::Cname => value.to_owned(),
            };
            let body = json!({
                "type": record.wanted.record_type.as_str(),
                "name": record.wanted.name,
                "content": content,
                "ttl": RECORD_TTL,
                "proxied": false,
                "comment": comment,
            });
            let outcome = match &record.step {
                Step::Create => {
                    let path = format!("/zones/{}/dns_records", encode(&zone.id));
                    self.call(Method::POST, &path, Some(body), DNS_EDIT).await
                }
                Step::Replace { old } => self.replace(zone, &record.wanted.name, old, body).await,
                Step::AlreadyRight | Step::Refused(_) => continue,
            };
            match outcome.and_then(|result| self.record_id(result)) {
                Ok(id) => written.push(id),
                Err(error) if written.is_empty() => return Err(error),
                Err(error) => {
                    return Err(ProviderError::PartlyApplied {
                        written,
                        error: Box::new(error),
                    });
                }
            }
        }
        Ok(written)
    }

    /// PATCHes the record the preview saw (and deletes any others of its type there),
    /// after checking the name still holds exactly that.
    async fn replace(
        &self,
        zone: &ZoneInfo,
        name: &str,
        old: &Held,
        body: Value,
    ) -> Result<Value, ProviderError> {
        let now = self.held_at(zone, name).await?;
        let same = now.iter().find(|h| h.record_type == old.record_type);
        if same.map(|h| (&h.ids, &h.values)) != Some((&old.ids, &old.values)) {
            return Err(ProviderError::ChangedSincePreview(format!(
                "{name} no longer holds the {} record the preview showed",
                old.record_type
            )));
        }
        let Some((first, rest)) = old.ids.split_first() else {
            return Err(ProviderError::ChangedSincePreview(format!(
                "{name}: no record id was seen"
            )));
        };
        for id in rest {
            let path = format!("/zones/{}/dns_records/{}", encode(&zone.id), encode(id));
            self.call(Method::DELETE, &path, None, DNS_EDIT).await?;
        }
        let path = format!("/zones/{}/dns_records/{}", encode(&zone.id), encode(first));
        self.call(Method::PATCH, &path, Some(body), DNS_EDIT).await
    }

    fn record_id(&self, result: Value) -> Result<String, ProviderError> {
        result
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.unreadable("no record id in the answer"))
    }

    /// One API call, retried while Cloudflare answers 429 (waiting as `Retry-After` says).
    /// `scope`: the token permission this call needs, named if Cloudflare refuses it.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        scope: &str,
    ) -> Result<Value, ProviderError> {
        let url = format!("{}{path}", self.api_url);
        for attempt in 1..=ATTEMPTS {
            self.pace.until_ready().await;
            let mut authorization =
                header::HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
                    .map_err(|_| {
                        self.refused(0, "the token holds characters a header cannot carry".into())
                    })?;
            authorization.set_sensitive(true);
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header(header::AUTHORIZATION, authorization);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| ProviderError::Unreachable {
                    provider: self.name.clone(),
                    detail: if e.is_timeout() {
                        "no answer in time".into()
                    } else {
                        "the connection failed".into()
                    },
                })?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                if attempt == ATTEMPTS {
                    return Err(ProviderError::Throttled(self.name.clone()));
                }
                tokio::time::sleep(retry_after(response.headers())).await;
                continue;
            }
            let envelope: Envelope = response.json().await.map_err(|e| self.unreadable(e))?;
            if envelope.success {
                return Ok(envelope.result);
            }
            let (code, message) = envelope
                .errors
                .first()
                .map(|e| (e.code, e.message.clone()))
                .unwrap_or((0, format!("HTTP {status}")));
            return Err(match (status, code) {
                (StatusCode::FORBIDDEN, _) | (_, 9109 | 10000) => ProviderError::Denied {
                    provider: self.name.clone(),
                    permission: format!("the token's {scope} permission"),
                    detail: format!("Cloudflare said: {message}"),
                },
                (_, 81053 | 81054 | 81057 | 81058) => ProviderError::ChangedSincePreview(message),
                _ => self.refused(code, message),
            });
        }
        Err(ProviderError::Throttled(self.name.clone()))
    }

    fn refused(&self, code: u32, message: String) -> ProviderError {
        ProviderError::Refused {
            provider: self.name.clone(),
            code: code.to_string(),
            message,
        }
    }

    fn unreadable(&self, error: impl std::fmt::Display) -> ProviderError {
        ProviderError::Unreachable {
            provider: self.name.clone(),
            detail: format!("the answer could not be read ({error})"),
        }
    }
}

/// Cloudflare's limit, 1,200 requests in any five minutes: a burst of 200, then one every
/// 300 ms (200 + 300 s / 0.3 s = 1,200).
fn request_rate() -> Quota {
    Quota::with_period(Duration::from_millis(300))
        .expect("a period above zero")
        .allow_burst(NonZeroU32::new(200).expect("not zero"))
}

/// `Retry-After` in seconds, bounded; 1 s when absent.
fn retry_after(headers: &header::HeaderMap) -> Duration {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(RETRY_AFTER_MIN, Duration::from_secs)
        .clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX)
}

/// Records of one name as a plan compares them: one `Held` per type, TXT values joined
/// and unquoted, each value with its record's id.
fn held_of(records: impl Iterator<Item = CfRecord>) -> Vec<Held> {
    let mut held: Vec<Held> = Vec::new();
    for record in records {
        let value = if record.record_type == "TXT" {
            txt::joined(&record.content)
        } else {
            record.content
        };
        match held
            .iter_mut()
            .find(|h| h.record_type == record.record_type)
        {
            Some(h) => {
                h.values.push(value);
                h.ids.push(record.id);
            }
            None => held.push(Held {
                record_type: record.record_type,
                values: vec![value],
                ids: vec![record.id],
                ttl: record.ttl,
            }),
        }
    }
    held
}

/// Active, and full: a partial zone's records are not what the world sees.
fn usable(zone: &CfZone) -> bool {
    zone.status == "active" && zone.zone_type == "full"
}

fn zone_info(zone: CfZone) -> ZoneInfo {
    ZoneInfo {
        id: zone.id,
        name: zone.name,
        private: false,
        name_servers: zone.name_servers,
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_bounded() {
        let mut headers = header::HeaderMap::new();
        assert_eq!(retry_after(&headers), RETRY_AFTER_MIN);
        headers.insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static("3600"),
        );
        assert_eq!(retry_after(&headers), RETRY_AFTER_MAX);
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Duration::from_secs(2));
    }
}
