//! Publishing an identity's records at a DNS provider: the preview (reads the provider,
//! writes nothing) and the publish itself. Operators only: both use the dashboard's
//! provider credentials, so neither is among the read functions viewers may call.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;
use crate::change_answer::ChangeDone;
#[cfg(feature = "ssr")]
use crate::change_answer::{FormEcho, NoticeForm};
#[cfg(feature = "ssr")]
use crate::publish::plan::Confirmation;
use crate::publish::plan::Plan;

/// A preview, as the identity page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishView {
    /// The operator's name for the provider account.
    pub provider: String,
    /// `Route 53` or `Cloudflare`.
    pub provider_kind: String,
    /// The zone's name.
    pub zone: String,
    /// Per record: what the provider holds and what publishing does.
    pub plan: Plan,
    /// The preview's fingerprint: publishing refuses to go ahead if the provider holds
    /// anything else by then.
    pub seen: String,
    /// The replacements the publish form confirms, as JSON (a hidden field).
    pub replaces: String,
}

/// What publishing the records of `name` would change at the provider holding its zone.
#[server(endpoint = "dns/publish-preview")]
pub async fn publish_preview(
    region: String,
    name: String,
    account: Option<String>,
) -> Result<PublishView, AppError> {
    let user = crate::api::authorize::authorize_write()?;
    let state = expect_context::<crate::server::state::AppState>();
    let actor = state.actor(&user);
    let delegation = delegation(&state, &name).await;
    let preview = crate::changes::publish::preview_publish(
        &actor,
        &state.dns_providers,
        &region,
        &name,
        account.as_deref(),
        delegation.as_deref(),
    )
    .await?;
    let replaces: Vec<Confirmation> = preview
        .plan
        .replacements()
        .map(|(wanted, old)| Confirmation {
            name: wanted.name.clone(),
            old_values: old.values.clone(),
        })
        .collect();
    Ok(PublishView {
        provider: preview.provider.clone(),
        provider_kind: preview.provider_kind.to_owned(),
        zone: preview.zone.name.clone(),
        seen: preview.seen(),
        replaces: serde_json::to_string(&replaces).unwrap_or_default(),
        plan: preview.plan,
    })
}

/// Publishes the previewed records. Form fields: `seen` (the preview's fingerprint),
/// `replaces` (the replacements the preview listed) and `confirm` (ticked: replace them).
#[server(endpoint = "dns/publish")]
pub async fn publish_records(
    region: String,
    name: String,
    account: Option<String>,
    seen: String,
    replaces: Option<String>,
    confirm: Option<String>,
) -> Result<ChangeDone, AppError> {
    // A refusal shows the preview again, read anew (the zone may have changed).
    let back_to = crate::routes::publish_preview_page(&region, &name, account.as_deref());
    let outcome = async {
        // Before anything else: a viewer's request never reaches the provider.
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        let confirmed: Vec<Confirmation> = match (&confirm, &replaces) {
            (Some(_), Some(json)) => serde_json::from_str(json)
                .map_err(|_| AppError::BadRequest("the replacements could not be read".into()))?,
            _ => Vec::new(),
        };
        let task_state = state.clone();
        let (identity, published) = super::dkim::to_the_end(async move {
            let actor = task_state.actor(&user);
            let delegation = delegation(&task_state, &name).await;
            let published = crate::changes::publish::publish(
                &actor,
                &task_state.dns_providers,
                &region,
                &name,
                account.as_deref(),
                delegation.as_deref(),
                &seen,
                &confirmed,
            )
            .await?;
            let identity =
                match task_state
                    .inventory
                    .snapshot()
                    .find(&region, &name, account.as_deref())
                {
                    crate::inventory::snapshot::Lookup::One(identity) => identity.clone(),
                    _ => {
                        return Err(crate::changes::ChangeError::NotFound {
                            name: name.clone(),
                            region: region.clone(),
                        });
                    }
                };
            Ok((identity, published))
        })
        .await?;
        let message = match check_now(&state, &identity).await {
            Some(words) => format!("{} {words}", published.message),
            None => published.message,
        };
        Ok::<_, AppError>(super::dkim::done_at(&identity, message))
    };
    super::dkim::answer(
        NoticeForm::Publish,
        outcome.await,
        back_to,
        FormEcho::default(),
    )
}

/// The nameservers the domain `name` is delegated to, when the DNS check can tell: they
/// choose between two hosted zones of one name at a provider.
#[cfg(feature = "ssr")]
async fn delegation(state: &crate::server::state::AppState, name: &str) -> Option<Vec<String>> {
    state.dns.as_ref()?.delegation_of(name).await
}

/// Checks the identity's DNS at once (its zone's own servers), so the page opened next
/// shows whether the records are right; words about the result, if it came in time.
#[cfg(feature = "ssr")]
async fn check_now(
    state: &crate::server::state::AppState,
    identity: &crate::model::Identity,
) -> Option<String> {
    use crate::dns::monitor::CheckNow;
    use crate::dns_check::DnsHealth;

    let monitor = state.dns.as_ref()?;
    match monitor
        .check_now(&state.inventory, identity, &format!("publish {}", identity.name))
        .await
    {
        Ok(CheckNow::Checked(report)) => Some(match report.health() {
            DnsHealth::Ok => "The DNS check finds every record right now.".to_owned(),
            _ => "The DNS check does not see every record yet (resolvers may still hold the old answer); the DNS card below says which.".to_owned(),
        }),
        Ok(CheckNow::StillChecking) | Err(_) => None,
    }
}
