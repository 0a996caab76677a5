//! The alerts as the server holds them: the settings, the store, and the bell that wakes
//! the deliverer. Starts the engine and the deliverer; answers the Alerts page.

use std::sync::Arc;

use super::bell::Bell;
use super::deliver::Deliverer;
use super::engine::Engine;
use super::entry::{AlertsOverview, ReceiverInfo};
use super::rules::AlertSettings;
use super::store::AlertStore;
use crate::audit::log::{AuditError, AuditLog};
use crate::background::Background;
use crate::dns::monitor::DnsMonitor;
use crate::inventory::Inventory;

/// Deliveries the Alerts page lists.
pub const DELIVERIES_SHOWN: u32 = 100;

/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct Alerts {
    settings: Arc<AlertSettings>,
    store: AlertStore,
    wake: Bell,
    external_url: String,
}

impl Alerts {
    /// Alerts by `settings`, kept in `log`'s database, linking pages under `external_url`.
    pub fn new(settings: AlertSettings, log: AuditLog, external_url: &str) -> Self {
        Self {
            settings: Arc::new(settings),
            store: AlertStore::new(log),
            wake: Bell::default(),
            external_url: external_url.to_owned(),
        }
    }

    /// The same alerts kept in `log`'s database instead.
    pub fn in_log(&self, log: AuditLog) -> Self {
        Self {
            store: AlertStore::new(log),
            ..self.clone()
        }
    }

    /// The tables.
    pub fn store(&self) -> &AlertStore {
        &self.store
    }

    /// An engine over these settings (one per server: it keeps what is firing).
    pub fn engine(&self) -> Engine {
        Engine::new(self.settings.clone(), self.store.clone())
    }

    /// A deliverer to these receivers over `http`.
    pub fn deliverer(&self, http: reqwest::Client) -> Deliverer {
        Deliverer::new(
            self.store.clone(),
            self.settings.receivers.clone().into(),
            http,
            &self.external_url,
        )
    }

    /// Runs the engine and the deliverer until the handles are aborted.
    pub fn start(
        &self,
        background: &mut Background,
        inventory: Inventory,
        dns: Option<DnsMonitor>,
    ) {
        background.adopt(
            "alert rules",
            self.engine().spawn(inventory, dns, self.wake.clone()),
        );
        let (deliverer, wake) = (self.deliverer(Deliverer::client()), self.wake.clone());
        background.spawn_stoppable("alert deliveries", move |stop| deliverer.run(wake, stop));
    }

    /// What the Alerts page shows.
    pub async fn overview(&self) -> Result<AlertsOverview, AuditError> {
        Ok(AlertsOverview {
            firing: self.store.firing_for_page().await?,
            deliveries: self.store.deliveries(DELIVERIES_SHOWN).await?,
            receivers: self
                .settings
                .receivers
                .iter()
                .map(|r| ReceiverInfo {
                    name: r.name.clone(),
                    kind: r.kind.as_str().to_owned(),
                    url: r.redacted_url(),
                    gets: r.route.describe(),
                    grouping: r.grouping.describe(),
                })
                .collect(),
            rules: self.settings.rules.describe(),
        })
    }
}
