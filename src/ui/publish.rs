//! The identity page's "Publish the records" card (operators, when DNS providers are
//! configured): a link to the preview, the preview (what the provider holds and what
//! publishing changes, record by record), and the publish form. The preview is read only
//! when asked for (`?publish=preview`): it calls the provider.

use leptos::prelude::*;

use crate::api::publish::PublishView;
use crate::app_error::AppError;
use crate::change_answer::ChangeAnswer;
use crate::publish::plan::{Refusal, Step};
use crate::ui::change_form::{ChangeForm, ChangeKind};
use crate::ui::manage_dkim::IdentityFields;

/// The card. `preview`: the preview, when the page was asked for it; `preview_href`: the
/// page that asks for it.
#[component]
pub fn PublishCard(
    region: String,
    name: String,
    account: Option<String>,
    preview: Option<Result<PublishView, AppError>>,
    preview_href: String,
    kept: Option<ChangeAnswer>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="publish-heading" data-testid="publish-card">
            <h2 id="publish-heading">"Publish the records"</h2>
            {match preview {
                None => view! {
                    <p class="muted">
                        "dkimdash can write these records at the DNS provider that holds the zone. The preview shows what it would change; nothing is written until you publish."
                    </p>
                    <p><a href=preview_href data-testid="publish-preview-link">"Preview publishing →"</a></p>
                }
                .into_any(),
                Some(Err(error)) => view! {
                    <p class="error" role="alert" data-testid="publish-unavailable">{error.to_string()}</p>
                }
                .into_any(),
                Some(Ok(view)) => view! { <Preview region name account view kept /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Preview(
    region: String,
    name: String,
    account: Option<String>,
    view: PublishView,
    kept: Option<ChangeAnswer>,
) -> impl IntoView {
    let writes = view.plan.writes();
    let replacements: Vec<String> = view
        .plan
        .replacements()
        .map(|(wanted, old)| format!("{} at {}", old.values.join(", "), wanted.name))
        .collect();
    let rows = view
        .plan
        .records
        .iter()
        .map(|record| {
            let (now, change) = describe(&record.step);
            view! {
                <tr>
                    <td class="record-name">{record.wanted.name.clone()}</td>
                    <td>{record.wanted.record_type.as_str()}</td>
                    <td class="record-value">{now}</td>
                    <td>{change}</td>
                </tr>
            }
        })
        .collect_view();
    let submit = format!(
        "Publish to {} '{}' (zone {})",
        view.provider_kind, view.provider, view.zone
    );
    view! {
        <p>
            "At " {view.provider_kind.clone()} " '" {view.provider.clone()} "', zone "
            <strong>{view.zone.clone()}</strong> ":"
        </p>
        <div class="table-scroll">
            <table data-testid="publish-preview">
                <thead><tr><th>"Name"</th><th>"Type"</th><th>"At the provider now"</th><th>"Publishing"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {if writes {
            view! {
                <ChangeForm kind=ChangeKind::Publish testid="publish-form" submit kept>
                    <IdentityFields region name account />
                    <input type="hidden" name="seen" value=view.seen.clone() />
                    <input type="hidden" name="replaces" value=view.replaces.clone() />
                    {(!replacements.is_empty()).then(|| view! {
                        <label class="check">
                            <input type="checkbox" name="confirm" data-testid="publish-confirm" />
                            "Replace " {replacements.join("; ")} " (whatever relies on the old values stops working)"
                        </label>
                    })}
                </ChangeForm>
            }
            .into_any()
        } else {
            view! {
                <p class="notice" data-testid="publish-nothing">
                    "Nothing to publish: the provider already holds every record that can be published."
                </p>
            }
            .into_any()
        }}
    }
}

/// What the provider holds now, and what publishing does with it.
fn describe(step: &Step) -> (String, String) {
    match step {
        Step::Create => ("nothing".into(), "create".into()),
        Step::AlreadyRight => ("this record".into(), "already right: nothing to do".into()),
        Step::Replace { old } => (
            format!("{} {}", old.record_type, old.values.join(", ")),
            "replace (confirm below)".into(),
        ),
        Step::Refused(Refusal::OtherTypesAtName(types)) => (
            types.join(", "),
            "left alone: a CNAME cannot share its name with other records (RFC 1034 §3.6.2); remove them first".into(),
        ),
        Step::Refused(Refusal::ValueUnknown) => (
            "—".into(),
            "left alone: the value is not known (SES never returns a BYODKIM public key)".into(),
        ),
    }
}
