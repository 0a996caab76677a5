//! The one state struct every handler and `#[server]` function shares.

use std::{sync::Arc, time::Instant};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::HttpLimits;
use super::notices::Notices;
use super::security::Security;
use crate::alerts::{rules::AlertSettings, service::Alerts};
use crate::audit::log::AuditLog;
use crate::auth::Auth;
use crate::dns::monitor::DnsMonitor;
use crate::inventory::Inventory;
use crate::model::SesBackend;
use crate::monitoring::Metrics;

/// Shared, cheaply cloned application state. Server functions reach it with
/// `expect_context::<AppState>()`; axum handlers with `State<AppState>`.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    /// Where the built site lives and how the shell links its JS/WASM/CSS;
    /// leptos_axum extracts it by `FromRef`.
    pub leptos_options: LeptosOptions,
    /// The bundle and the other files of the site: embedded, or on disk.
    pub site: crate::server::site::SiteFiles,
    /// Request timeout and body limit, applied by the middleware stack.
    pub limits: HttpLimits,
    /// Process start, for the uptime operators see on the status page.
    pub started_at: Instant,
    /// The cached identities every page reads, and the way to refresh them.
    pub inventory: Inventory,
    /// Real SES or the embedded simulator, so the page can say which.
    pub backend: SesBackend,
    /// Answers to plain-HTML form posts, shown by the page the post is redirected to.
    pub notices: Notices,
    /// How requests are authenticated and roles given.
    pub auth: Arc<Auth>,
    /// Allowed origins, HSTS and the per-user change limit.
    pub security: Arc<Security>,
    /// Where every change is recorded.
    pub audit: AuditLog,
    /// The overview's figures and the table's orders, built once per change.
    overview: crate::overview::SharedOverview,
    /// The identities' history, beside the audit log; its figures for the pages are kept
    /// in memory, so every clone must be this one.
    history: crate::history::store::History,
    /// DNS reports of every identity; `None` when DNS checks are turned off.
    pub dns: Option<DnsMonitor>,
    /// The alert rules, what is firing and what was sent.
    pub alerts: Alerts,
    /// `/metrics`: what is counted as it happens, and who may read it.
    pub metrics: Metrics,
    /// The DNS provider accounts records may be published to (none: no publish button).
    pub dns_providers: crate::publish::provider::Providers,
    /// Fleet repairs: started here, carried out in the background (`repair_workers`).
    pub repairs: crate::repair::runner::Repairs,
    /// The home page as last rendered, served again while nothing it shows changed.
    pub page_cache: crate::server::page_cache::PageCache,
}

impl AppState {
    /// State for a server starting now. Authentication and the audit log have no
    /// defaults: a caller that forgot one would fail open (anyone an operator, changes
    /// unrecorded), so both must be given.
    pub fn new(
        leptos_options: LeptosOptions,
        limits: HttpLimits,
        inventory: Inventory,
        backend: SesBackend,
        auth: Auth,
        audit: AuditLog,
    ) -> Self {
        Self {
            site: crate::server::site::SiteFiles::Directory,
            leptos_options,
            limits,
            started_at: Instant::now(),
            inventory,
            backend,
            notices: Notices::default(),
            auth: Arc::new(auth),
            security: Arc::new(Security::default()),
            // The default rules, no receivers: alerts are shown, not sent.
            alerts: Alerts::new(AlertSettings::default(), audit.clone(), ""),
            metrics: Metrics::default(),
            repairs: crate::repair::runner::Repairs::new(audit.clone()),
            history: crate::history::store::History::new(audit.clone()),
            overview: Default::default(),
            page_cache: Default::default(),
            audit,
            dns: None,
            dns_providers: Default::default(),
        }
    }

    /// The overview's figures and the table's orders for the snapshot and the DNS health
    /// of every checked identity of now: shared by every request until either changes.
    pub fn overview(&self) -> Arc<crate::overview::Overview> {
        // One empty map while checks are off, so the figures built from it stay shared.
        static NO_CHECKS: std::sync::LazyLock<Arc<crate::dns_check::DnsHealths>> =
            std::sync::LazyLock::new(Arc::default);
        let snapshot = self.inventory.snapshot();
        let healths = match &self.dns {
            Some(dns) => dns.healths_of(&snapshot, &self.inventory),
            None => NO_CHECKS.clone(),
        };
        self.overview
            .get(snapshot, healths, crate::inventory::now())
    }

    /// How far the DNS checks are (`None` when DNS checks are off).
    pub fn dns_progress(&self) -> Option<crate::dns_check::DnsProgress> {
        self.dns.as_ref().map(|d| d.progress(&self.inventory))
    }

    /// The same state serving the site from `site`.
    pub fn with_site(self, site: crate::server::site::SiteFiles) -> Self {
        Self { site, ..self }
    }

    /// The same state with DNS checks by `dns`.
    pub fn with_dns(self, dns: DnsMonitor) -> Self {
        Self {
            dns: Some(dns),
            ..self
        }
    }

    /// `user` making changes on this state's inventory, recorded in its audit log.
    pub fn actor<'a>(&'a self, user: &'a crate::user::User) -> crate::changes::Actor<'a> {
        crate::changes::Actor {
            inventory: &self.inventory,
            audit: &self.audit,
            user,
        }
    }

    /// What a fleet repair's runner works with: this state's inventory, audit log,
    /// providers and DNS checks.
    pub fn repair_workers(&self) -> crate::repair::runner::Workers {
        crate::repair::runner::Workers {
            inventory: self.inventory.clone(),
            audit: self.audit.clone(),
            providers: self.dns_providers.clone(),
            dns: self.dns.clone(),
        }
    }

    /// The identities' history, kept in the audit log's database.
    pub fn history(&self) -> crate::history::store::History {
        self.history.clone()
    }

    /// For a table `query` with the `changed` filter, the identities changed that recently;
    /// `None` when the query does not ask.
    pub async fn changed_within(
        &self,
        query: &crate::table::query::TableQuery,
    ) -> Result<
        Option<std::collections::HashSet<crate::model::IdentityKey>>,
        crate::audit::log::AuditError,
    > {
        let Some(within) = query.changed else {
            return Ok(None);
        };
        let since = crate::inventory::now() - within.seconds();
        self.history().changed_since(since).await.map(Some)
    }

    /// The same state recording changes (and keeping its alerts) in `audit`.
    pub fn with_audit(self, audit: AuditLog) -> Self {
        Self {
            alerts: self.alerts.in_log(audit.clone()),
            repairs: crate::repair::runner::Repairs::new(audit.clone()),
            history: crate::history::store::History::new(audit.clone()),
            audit,
            ..self
        }
    }

    /// The same state with `alerts` instead of the default rules without receivers.
    pub fn with_alerts(self, alerts: Alerts) -> Self {
        Self { alerts, ..self }
    }

    /// The same state with DNS provider accounts to publish records to.
    pub fn with_dns_providers(self, dns_providers: crate::publish::provider::Providers) -> Self {
        Self {
            dns_providers,
            ..self
        }
    }

    /// The same state with `metrics` (its access settings) instead of the defaults.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The same state with `security` instead of the defaults.
    pub fn with_security(self, security: Security) -> Self {
        Self {
            security: Arc::new(security),
            ..self
        }
    }

    /// The same state with `auth` instead.
    pub fn with_auth(self, auth: Auth) -> Self {
        Self {
            auth: Arc::new(auth),
            ..self
        }
    }
}
