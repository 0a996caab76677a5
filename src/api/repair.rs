//! Fleet repair: the preview of repairing what the identities table selects (reads every
//! provider, writes nothing), starting it, and a run's progress. Operators only: the
//! preview and the run use the dashboard's provider credentials.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;
use crate::change_answer::ChangeDone;
#[cfg(feature = "ssr")]
use crate::change_answer::{FormEcho, NoticeForm};
use crate::model::UnixSeconds;
use crate::repair::fleet_plan::FleetPlan;

/// A preview, as the repair page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairPlanView {
    /// How many identities the table's query selects.
    pub selected: usize,
    pub plan: FleetPlan,
    /// Starting refuses to go ahead if the fleet would be repaired otherwise by then.
    pub fingerprint: String,
}

/// Where one identity of a run stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStep {
    pub account: String,
    pub region: String,
    pub name: String,
    /// `waiting`, `published`, `restarted`, `done` or `failed`.
    pub state: String,
    pub detail: Option<String>,
}

/// A run, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub started_at: UnixSeconds,
    pub started_by: String,
    /// The identities table's query it was started from.
    pub selection: String,
    pub finished_at: Option<UnixSeconds>,
    /// Per state, how many identities (every state, zeros included).
    pub counts: Vec<(String, usize)>,
    pub steps: Vec<RunStep>,
    /// What the plan left out, and why.
    pub left_out: Vec<(String, String)>,
}

/// What repairing the identities the table's `query` selects would do.
#[server(endpoint = "repair/preview")]
pub async fn repair_preview(query: String) -> Result<RepairPlanView, AppError> {
    let user = crate::api::authorize::authorize_write()?;
    let state = expect_context::<crate::server::state::AppState>();
    let (selected, plan) = plan_for(&state, &user, &query).await?;
    Ok(RepairPlanView {
        selected,
        fingerprint: plan.fingerprint(),
        plan,
    })
}

/// Starts the repair the operator reviewed (`fingerprint`), in the background; the
/// answer leads to the run's page.
#[server(endpoint = "repair/start")]
pub async fn start_repair(query: String, fingerprint: String) -> Result<ChangeDone, AppError> {
    let back_to = crate::routes::repair_page(&query);
    let outcome = async {
        let user = crate::api::authorize::authorize_write()?;
        let state = expect_context::<crate::server::state::AppState>();
        let (_, plan) = plan_for(&state, &user, &query).await?;
        if plan.fingerprint() != fingerprint {
            return Err(AppError::Conflict(
                "The fleet changed since the preview (a zone, a record or an identity): review the new preview below.".to_owned(),
            ));
        }
        if !plan.does_anything() {
            return Err(AppError::Invalid {
                field: None,
                message: "Nothing to repair: every selected identity is either right or needs a decision on its own page.".to_owned(),
            });
        }
        let id = state
            .repairs
            .start(&user, &query, &plan)
            .await
            .map_err(|error| {
                tracing::error!(%error, "fleet repair not recorded; not started");
                AppError::Unavailable(
                    "The repair was not started: it could not be recorded. Nothing was changed."
                        .to_owned(),
                )
            })?;
        Ok(ChangeDone {
            identity_href: crate::routes::repair_run_page(id),
            message: format!("Fleet repair #{id} started."),
        })
    };
    super::dkim::answer(
        NoticeForm::Repair,
        outcome.await,
        back_to,
        FormEcho::default(),
    )
}

/// Run `id` as it stands.
#[server(endpoint = "repair/run")]
pub async fn repair_run(id: i64) -> Result<Option<RunView>, AppError> {
    use crate::repair::store::StepState;

    // A read: its page asks every moment while a run goes on.
    crate::api::authorize::authorize_operator()?;
    let state = expect_context::<crate::server::state::AppState>();
    let Some(run) = state.repairs.store().run(id).await.map_err(|error| {
        tracing::error!(%error, "fleet repair read failed");
        AppError::Unavailable("The repair could not be read; see the server log.".to_owned())
    })?
    else {
        return Ok(None);
    };
    let counts = StepState::ALL
        .iter()
        .map(|s| {
            let n = run.steps.iter().filter(|step| step.state == *s).count();
            (s.as_str().to_owned(), n)
        })
        .collect();
    Ok(Some(RunView {
        id: run.id,
        started_at: run.started_at,
        started_by: run.user_name,
        selection: run.selection,
        finished_at: run.finished_at,
        counts,
        steps: run
            .steps
            .into_iter()
            .map(|step| RunStep {
                account: step.key.account,
                region: step.key.region,
                name: step.key.name,
                state: step.state.as_str().to_owned(),
                detail: step.detail,
            })
            .collect(),
        left_out: run
            .plan
            .unrepairable
            .into_iter()
            .map(|u| (u.key.name, u.why))
            .collect(),
    }))
}

/// How many identities the table's `query` selects (all pages), and the plan to repair
/// them, read from the providers now: what the preview shows and what starting checks.
#[cfg(feature = "ssr")]
async fn plan_for(
    state: &crate::server::state::AppState,
    user: &crate::user::User,
    query: &str,
) -> Result<(usize, FleetPlan), AppError> {
    let selected = selection(state, query).await?;
    let plan = crate::changes::fleet_repair::preview(
        &state.actor(user),
        &state.dns_providers,
        state.dns.as_ref(),
        &selected,
    )
    .await?;
    Ok((selected.len(), plan))
}

/// The identities the table's `query` selects (all pages).
#[cfg(feature = "ssr")]
async fn selection(
    state: &crate::server::state::AppState,
    query: &str,
) -> Result<Vec<crate::model::Identity>, AppError> {
    use crate::table::query::TableQuery;

    let query = TableQuery::from_query_string(query);
    let changed = state.changed_within(&query).await.map_err(|error| {
        tracing::error!(%error, "history read failed");
        AppError::Unavailable("The history could not be read; see the server log.".to_owned())
    })?;
    let overview = state.overview();
    let now = crate::inventory::now();
    Ok(overview
        .matching(&query, changed.as_ref(), now)
        .into_iter()
        .cloned()
        .collect())
}
