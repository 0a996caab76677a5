//! The identities table and one identity's page, read from the cached snapshot.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;
use crate::attention::Attention;
use crate::diagnosis::Diagnosis;
use crate::dns_check::DnsReport;
use crate::model::{DkimStatus, DnsRecord, Identity, UnixSeconds};
use crate::table::{query::TableQuery, select::TablePage};

/// One page of the table plus what the filter form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitiesView {
    /// The rows and paging.
    pub page: TablePage,
    /// Regions present, for the region filter.
    pub regions: Vec<String>,
    /// Account labels present, for the account filter.
    pub accounts: Vec<String>,
    /// The server's clock.
    pub now: UnixSeconds,
    /// Whether the user may repair the selection (an operator, DNS providers configured).
    pub can_repair: bool,
}

/// One page of the identities table; the server filters, sorts and pages.
#[server(endpoint = "identities")]
pub async fn list_identities(query: TableQuery) -> Result<IdentitiesView, AppError> {
    use crate::{inventory, server::state::AppState};

    let state = expect_context::<AppState>();
    let now = inventory::now();
    let overview = state.overview();
    let changed = state.changed_within(&query).await.map_err(|error| {
        tracing::error!(%error, "history read failed");
        AppError::Unavailable("The history could not be read; see the server log.".to_owned())
    })?;
    Ok(IdentitiesView {
        page: overview.page(&query, changed.as_ref(), now),
        regions: overview.regions().to_vec(),
        accounts: overview.accounts().to_vec(),
        now,
        can_repair: !state.dns_providers.is_empty()
            && crate::api::authorize::current_user().is_some_and(|u| u.can_change()),
    })
}

/// Another identity the page links to (a DEED parent or replica).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLink {
    /// Account label.
    pub account: String,
    /// Region.
    pub region: String,
    /// Identity name.
    pub name: String,
    /// Its DKIM status.
    pub status: DkimStatus,
}

/// Everything the identity page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDetail {
    /// The identity as last read.
    pub identity: Identity,
    /// The DNS records to publish.
    pub records: Vec<DnsRecord>,
    /// The same records as BIND zone lines ("copy all").
    pub zone_lines: String,
    /// Why it needs attention, if it does.
    pub attention: Option<Attention>,
    /// For a DEED replica: the parent identity, if the dashboard reads its region.
    pub parent: Option<IdentityLink>,
    /// Replicas of this identity in other regions.
    pub replicas: Vec<IdentityLink>,
    /// Regions of the same account the dashboard reads where a DEED replica of this
    /// identity could be created (none unless it is an Easy DKIM domain).
    pub replica_regions: Vec<String>,
    /// Whether the signed-in user may change it (the write functions check again).
    pub can_change: bool,
    /// Whether its records can be published from here: an operator, its own domain (not an
    /// email address or a DEED replica), and DNS providers configured.
    pub can_publish: bool,
    /// dkimdash's own DNS check of the records; `None` until checked (or checks are off).
    pub dns: Option<DnsReport>,
    /// Whether DNS checks run at all.
    pub dns_checks_on: bool,
    /// What is wrong and what to do, from SES's state and the DNS check.
    pub diagnosis: Diagnosis,
    /// Whether `identity.status_seen_since` comes from dkimdash's history, so it survives
    /// a restart; `false` while the history is not read (unreadable, or just started): it
    /// is then this run's first sight of the status.
    pub status_since_from_history: bool,
    /// The server's clock.
    pub now: UnixSeconds,
}

/// What looking an identity up by region and name found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityLookup {
    /// Exactly one (or the one the account names).
    Found(Box<IdentityDetail>),
    /// The name exists in this region in several accounts: pick one.
    Ambiguous(Vec<String>),
    /// Not in the inventory.
    NotFound,
}

/// One identity from the snapshot. Its full details are read from SES first if the
/// dashboard has never read them (so the page never shows half an identity).
#[server(endpoint = "identity")]
pub async fn get_identity(
    region: String,
    name: String,
    account: Option<String>,
) -> Result<IdentityLookup, AppError> {
    use crate::inventory::{self, snapshot::Lookup};
    use crate::{attention::attention, records, server::state::AppState};

    let state = expect_context::<AppState>();
    let inventory = state.inventory.clone();
    let mut identity = match inventory
        .snapshot()
        .find(&region, &name, account.as_deref())
    {
        Lookup::One(identity) => std::sync::Arc::new(identity.clone()),
        Lookup::Several(accounts) => return Ok(IdentityLookup::Ambiguous(accounts)),
        Lookup::Nothing => return Ok(IdentityLookup::NotFound),
    };
    match inventory.with_details(identity.clone()).await {
        Ok(read) => identity = read,
        Err(crate::ses::error::Error::NotFound(_)) => return Ok(IdentityLookup::NotFound),
        // Show what the sweep knows; the page says the details are not read yet.
        Err(error) => tracing::warn!(identity = %name, %error, "details read failed"),
    }

    let link = |i: &Identity| IdentityLink {
        account: i.account.clone(),
        region: i.region.clone(),
        name: i.name.clone(),
        status: i.dkim.status.clone(),
    };
    let snapshot = inventory.snapshot();
    // The same name in the account's other regions, looked up per target.
    let same_name = || {
        let mut regions: Vec<&str> = snapshot
            .targets
            .iter()
            .filter(|t| t.account == identity.account)
            .map(|t| t.region.as_str())
            .collect();
        regions.sort_unstable();
        regions.dedup();
        regions
            .into_iter()
            .filter_map(|region| snapshot.get(&identity.account, region, &identity.name))
            .map(std::sync::Arc::as_ref)
    };
    let parent_region = match &identity.dkim.origin {
        Some(crate::model::SigningOrigin::Replica { parent_region }) => Some(parent_region),
        _ => None,
    };
    let parent = parent_region.and_then(|p| same_name().find(|i| i.region == *p).map(link));
    let replicas = same_name()
        .filter(|i| {
            matches!(&i.dkim.origin, Some(crate::model::SigningOrigin::Replica { parent_region }) if *parent_region == identity.region)
        })
        .map(link)
        .collect();
    let replica_regions = if identity.identity_type == crate::model::IdentityType::Domain
        && identity.dkim.origin == Some(crate::model::SigningOrigin::EasyDkim)
    {
        snapshot
            .targets
            .iter()
            .filter(|t| t.account == identity.account && t.region != identity.region)
            .filter(|t| {
                snapshot
                    .get(&identity.account, &t.region, &identity.name)
                    .is_none()
            })
            .map(|t| t.region.clone())
            .collect()
    } else {
        Vec::new()
    };
    let now = inventory::now();
    let dns = inventory.records_of(&identity);
    let report = state
        .dns
        .as_ref()
        .and_then(|d| d.report(&identity, &inventory));
    Ok(IdentityLookup::Found(Box::new(IdentityDetail {
        zone_lines: records::to_bind(&dns, &records::unchecked),
        records: dns,
        diagnosis: crate::diagnosis::diagnose(&identity, report.as_ref(), now),
        dns: report,
        dns_checks_on: state.dns.is_some(),
        attention: attention(&identity, now),
        status_since_from_history: inventory.knows_status_since_before_start(),
        parent,
        replicas,
        replica_regions,
        can_change: crate::api::authorize::current_user().is_some_and(|u| u.can_change()),
        can_publish: crate::api::authorize::current_user().is_some_and(|u| u.can_change())
            && !state.dns_providers.is_empty()
            && identity.identity_type == crate::model::IdentityType::Domain
            && !matches!(
                identity.dkim.origin,
                Some(crate::model::SigningOrigin::Replica { .. })
            ),
        now,
        identity: std::sync::Arc::unwrap_or_clone(identity),
    })))
}
