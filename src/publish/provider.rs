//! The configured DNS provider accounts behind one face: which of them holds a record's
//! zone, what it holds at a name, and applying a plan there.

use std::{collections::HashMap, time::Duration};

use super::{
    cloudflare::CloudflareProvider,
    config::ProviderSettings,
    error::ProviderError,
    plan::{Held, Plan},
    route53::Route53Provider,
    zone_choice::{NoZone, ZoneInfo},
};

/// One provider account.
#[derive(Clone, Debug)]
pub enum Provider {
    Route53(Route53Provider),
    Cloudflare(CloudflareProvider),
}

/// What applying a plan wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Route 53's change id (for GetChange), if a batch was sent.
    pub change_id: Option<String>,
    /// Cloudflare's ids of the records created or changed.
    pub record_ids: Vec<String>,
}

impl Applied {
    /// Whether anything was written.
    pub fn wrote(&self) -> bool {
        self.change_id.is_some() || !self.record_ids.is_empty()
    }

    /// The provider's reference for the audit log.
    pub fn reference(&self) -> String {
        match &self.change_id {
            Some(id) => format!("change {id}"),
            None if self.record_ids.is_empty() => "nothing written".into(),
            None => format!("records {}", self.record_ids.join(", ")),
        }
    }
}

impl Provider {
    /// A client for each configured account.
    pub async fn connect(settings: &ProviderSettings) -> Self {
        match settings {
            ProviderSettings::Route53(s) => Self::Route53(Route53Provider::connect(s).await),
            ProviderSettings::Cloudflare(s) => Self::Cloudflare(CloudflareProvider::new(s)),
        }
    }

    /// The operator's name for the account.
    pub fn name(&self) -> &str {
        match self {
            Self::Route53(p) => p.name(),
            Self::Cloudflare(p) => p.name(),
        }
    }

    /// `Route 53` or `Cloudflare`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Route53(_) => "Route 53",
            Self::Cloudflare(_) => "Cloudflare",
        }
    }

    pub async fn zone_for(
        &self,
        record_name: &str,
        delegation: Option<&[String]>,
    ) -> Result<ZoneInfo, ProviderError> {
        match self {
            Self::Route53(p) => p.zone_for(record_name, delegation).await,
            Self::Cloudflare(p) => p.zone_for(record_name, delegation).await,
        }
    }

    /// Every zone of the account dkimdash may write to.
    pub async fn zones(&self) -> Result<Vec<ZoneInfo>, ProviderError> {
        match self {
            Self::Route53(p) => p.zones().await,
            Self::Cloudflare(p) => p.zones().await,
        }
    }

    /// Every record of `zone`, by name (lower case, no final dot).
    pub async fn records_in(
        &self,
        zone: &ZoneInfo,
    ) -> Result<HashMap<String, Vec<Held>>, ProviderError> {
        match self {
            Self::Route53(p) => p.records_in(zone).await,
            Self::Cloudflare(p) => p.records_in(zone).await,
        }
    }

    /// The zones the settings allow (names or ids; empty allows all).
    pub fn allowed(&self) -> &[String] {
        match self {
            Self::Route53(p) => p.allowed(),
            Self::Cloudflare(p) => p.allowed(),
        }
    }

    pub async fn held_at(&self, zone: &ZoneInfo, name: &str) -> Result<Vec<Held>, ProviderError> {
        match self {
            Self::Route53(p) => p.held_at(zone, name).await,
            Self::Cloudflare(p) => p.held_at(zone, name).await,
        }
    }

    pub async fn apply(
        &self,
        zone: &ZoneInfo,
        plan: &Plan,
        comment: &str,
    ) -> Result<Applied, ProviderError> {
        match self {
            Self::Route53(p) => Ok(Applied {
                change_id: p.apply(zone, plan, comment).await?,
                record_ids: Vec::new(),
            }),
            Self::Cloudflare(p) => Ok(Applied {
                change_id: None,
                record_ids: p.apply(zone, plan, comment).await?,
            }),
        }
    }

    /// Waits (at most `within`) until the provider serves the change everywhere. Cloudflare
    /// serves a record as soon as it answers.
    pub async fn wait_in_sync(
        &self,
        applied: &Applied,
        within: Duration,
    ) -> Result<bool, ProviderError> {
        match (self, &applied.change_id) {
            (Self::Route53(p), Some(id)) => p.wait_in_sync(id, within).await,
            _ => Ok(true),
        }
    }
}

/// Every configured account, in the file's order.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    providers: Vec<Provider>,
}

/// Where a record would be published, or why nowhere.
#[derive(Debug)]
pub enum Located<'a> {
    At(&'a Provider, ZoneInfo),
    /// No account holds the zone: each account's reason.
    Nowhere(Vec<(String, ProviderError)>),
}

impl Providers {
    pub fn new(providers: Vec<Provider>) -> Self {
        Self { providers }
    }

    /// Clients for every configured account.
    pub async fn connect(settings: &[ProviderSettings]) -> Self {
        let mut providers = Vec::new();
        for s in settings {
            providers.push(Provider::connect(s).await);
        }
        Self { providers }
    }

    /// The account the operator calls `name`.
    pub fn named(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name() == name)
    }

    /// Every account, in the file's order.
    pub fn all(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The first account (in the file's order) that holds the zone of `record_name`.
    /// Errors other than "not held here" are kept as reasons, so a denied or unreachable
    /// account is named rather than silently passed over.
    pub async fn locate(&self, record_name: &str, delegation: Option<&[String]>) -> Located<'_> {
        let mut reasons = Vec::new();
        for provider in &self.providers {
            match provider.zone_for(record_name, delegation).await {
                Ok(zone) => return Located::At(provider, zone),
                Err(ProviderError::NoZone(NoZone::NotHeld(_))) => {}
                Err(error) => reasons.push((provider.name().to_owned(), error)),
            }
        }
        Located::Nowhere(reasons)
    }
}
