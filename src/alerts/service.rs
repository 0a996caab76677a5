//! The alerts as the server holds them: the settings, the store, and the bell that wakes
//! the deliverer. Starts the engine and the deliverer; answers the Alerts page.

use std::sync::Arc;

use super::bell::Bell;
use super::deliver::Deliverer;
use super::engine::Engine;
use super::entry::{AlertsOverview, ReceiverInfo};
use super::rules::AlertSettings;
use super::silence::{self, COMMENT_CHARS, Scope, Silence, silenced_until};
use super::store::AlertStore;
use crate::app_error::AppError;
use crate::audit::entry::AuditOutcome;
use crate::audit::log::Attempt;
use crate::audit::log::{AuditError, AuditLog};
use crate::background::Background;
use crate::dns::monitor::DnsMonitor;
use crate::inventory::Inventory;
use crate::user::User;

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
        let now = crate::inventory::now();
        let silences = self.store.recent_silences().await?;
        let mut firing = self.store.firing_for_page().await?;
        for alert in &mut firing {
            alert.silenced_until =
                silenced_until(&silences, &alert.labels, &alert.fingerprint, now);
        }
        Ok(AlertsOverview {
            firing,
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
            silences,
            now,
            can_silence: false,
        })
    }

    /// Silences what `scope` covers of the firing alert `fingerprint` for `duration` (a
    /// form value), as `user`, with `comment`; recorded in the audit log first. The words
    /// for the page.
    pub async fn silence(
        &self,
        user: &User,
        fingerprint: &str,
        scope: &str,
        duration: &str,
        comment: &str,
    ) -> Result<String, AppError> {
        let refused = |why: &str| AppError::Invalid {
            field: None,
            message: why.to_owned(),
        };
        let scope = Scope::parse(scope).ok_or_else(|| refused("Choose what to silence."))?;
        let (secs, words) = silence::duration(duration)
            .ok_or_else(|| refused("Choose how long: 1 hour, 4 hours, 1 day or 1 week."))?;
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(refused(
                "Say why in the comment: the next person on call reads it.",
            ));
        }
        if comment.chars().count() > COMMENT_CHARS {
            return Err(refused(&format!(
                "The comment is longer than {COMMENT_CHARS} characters."
            )));
        }
        let firing = self.store.firing().await.map_err(unavailable)?;
        let Some(alert) = firing.iter().find(|a| a.fingerprint == fingerprint) else {
            return Err(refused("That alert is no longer firing."));
        };
        let (matchers, scope_words) = scope.matchers(&alert.labels, &alert.fingerprint);
        let now = crate::inventory::now();
        let silence = Silence {
            id: 0,
            matchers,
            scope: scope_words,
            comment: comment.to_owned(),
            created_by: user.name.clone(),
            starts_at: now,
            ends_at: now + secs,
            ended_by: None,
        };
        let label = |name: &str| alert.labels.get(name).map_or("", String::as_str);
        let action = format!("silence {} for {words}: {comment}", silence.scope);
        self.audited(
            user,
            (label("account"), label("region"), label("identity")),
            action,
            async { self.store.add_silence(&silence).await },
        )
        .await?;
        Ok(format!("Silenced {} for {words}.", silence.scope))
    }

    /// Ends silence `id` now, as `user`; recorded in the audit log. The words for the page.
    pub async fn end_silence(&self, user: &User, id: i64) -> Result<String, AppError> {
        let now = crate::inventory::now();
        let ended = self
            .audited(user, ("", "", ""), format!("end silence {id}"), async {
                self.store.end_silence(id, &user.name, now).await
            })
            .await?;
        match ended {
            Some(silence) => Ok(format!("Ended the silence of {}.", silence.scope)),
            None => Err(AppError::Invalid {
                field: None,
                message: "That silence had already ended.".to_owned(),
            }),
        }
    }

    /// Runs `write` between an audit entry about it and that entry's completion.
    async fn audited<T>(
        &self,
        user: &User,
        (account, region, identity): (&str, &str, &str),
        action: String,
        write: impl std::future::Future<Output = Result<T, AuditError>>,
    ) -> Result<T, AppError> {
        let log = self.store.log();
        let entry = log
            .begin(&Attempt {
                at: crate::inventory::now(),
                user,
                account,
                region,
                identity,
                action,
                before: String::new(),
            })
            .await
            .map_err(unavailable)?;
        let result = write.await;
        let (outcome, answer) = match &result {
            Ok(_) => (AuditOutcome::Done, "done"),
            Err(_) => (
                AuditOutcome::Refused,
                "the alerts' table could not be written",
            ),
        };
        log.finish(entry, outcome, None, answer)
            .await
            .map_err(unavailable)?;
        result.map_err(unavailable)
    }
}

/// A database failure, as the page says it (the log has the rest).
fn unavailable(error: AuditError) -> AppError {
    tracing::error!(%error, "the alerts' tables failed");
    AppError::Unavailable("The alerts could not be read or written; see the server log.".to_owned())
}
