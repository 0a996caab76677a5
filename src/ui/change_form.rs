//! The write forms' interactive part, as one island. The server renders each form's fields
//! (the island's children); the island sends them (`send`), keeps the button busy while
//! SES answers, shows a refusal in place (what was typed stays, the private key goes), and
//! after a change opens the identity's page, which shows SES's answer and the new state.
//! With JavaScript off the same `<form>` posts plainly and the server redirects to that
//! same page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

use crate::api::dkim::{AddDomain, ChangeSigning, RestartVerification, SetSigningEnabled};
use crate::api::publish::PublishRecords;
use crate::api::repair::StartRepair;
use crate::app_error::AppError;
use crate::change_answer::{ChangeAnswer, ChangeDone};
use crate::ui::send::Sender;

/// Which server function a form posts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// Signing mode, key or key length (`change_signing`).
    Signing,
    /// Signing on/off (`set_signing_enabled`).
    Enabled,
    /// A new domain or DEED replica (`add_domain`).
    Add,
    /// Records published at a DNS provider (`publish_records`).
    Publish,
    /// SES's DKIM verification restarted (`restart_verification`).
    Restart,
    /// A fleet repair started (`start_repair`).
    Repair,
}

impl ChangeKind {
    /// The server function's URL: the form's `action`.
    fn url(self) -> &'static str {
        match self {
            Self::Signing => ChangeSigning::PATH,
            Self::Enabled => SetSigningEnabled::PATH,
            Self::Add => AddDomain::PATH,
            Self::Publish => PublishRecords::PATH,
            Self::Restart => RestartVerification::PATH,
            Self::Repair => StartRepair::PATH,
        }
    }

    /// What the button says while the change is under way.
    fn busy_words(self) -> &'static str {
        match self {
            Self::Publish => "Publishing…",
            Self::Repair => "Reading the providers again…",
            _ => "Asking SES…",
        }
    }
}

/// A write form: `children` are its fields, `submit` the button's words, `testid` the
/// form's test id, and `kept` the answer to the last plain post of this form, if any.
#[island]
pub fn ChangeForm(
    kind: ChangeKind,
    #[prop(into)] testid: String,
    #[prop(into)] submit: String,
    kept: Option<ChangeAnswer>,
    children: Children,
) -> impl IntoView {
    let sender = Sender::<ChangeDone>::new();
    // Effects run in the browser only.
    Effect::new(move |_| {
        if let Some(Ok(done)) = sender.answer.get() {
            // Until the next page arrives the form stays shut: a second click would make
            // the change twice.
            sender.close();
            let _ = window().location().assign(&done.identity_href);
        }
    });
    let busy = move || sender.pending.get() || sender.is_closed();
    let answer = move || sender.answer.get().or_else(|| kept.clone());
    view! {
        {move || answer().map(|outcome| view! { <ChangeAnswerLine outcome /> })}
        {move || sender.answer.get().and_then(|answer| answer.err()).filter(may_have_happened).map(|_| view! {
            <p class="muted" role="status">
                "SES may still have made the change: reload the page to see its state before trying again."
            </p>
        })}
        <form action=kind.url() method="post" class="manage-form" data-testid=testid on:submit=sender.submit()>
            {children()}
            <button type="submit" disabled=busy>
                {move || if busy() { kind.busy_words().to_owned() } else { submit.clone() }}
            </button>
        </form>
    }
}

/// Whether a failure leaves the change uncertain: the answer was lost on the way, or the
/// request ran out of time while the server went on with it.
fn may_have_happened(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Unreachable(_) | AppError::Unavailable(_) | AppError::Internal(_)
    )
}

/// One answer, done or refused.
#[component]
pub fn ChangeAnswerLine(outcome: ChangeAnswer) -> impl IntoView {
    match outcome {
        Ok(ChangeDone { message, .. }) => {
            view! { <p class="notice" role="status" data-testid="write-outcome">{message}</p> }
                .into_any()
        }
        Err(why) => {
            view! { <p class="error" role="alert" data-testid="write-error">{why.to_string()}</p> }
                .into_any()
        }
    }
}
