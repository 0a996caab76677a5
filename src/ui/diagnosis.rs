//! The top of the identity page: what is wrong and what to do (from SES's state and
//! dkimdash's own DNS check), and the "Check DNS now" button (an island: the page shows
//! the new result once the check is done).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::dns::{CheckDns, DnsCheckAnswer};
use crate::diagnosis::{Diagnosis, Severity};
use crate::dns_check::DnsReport;
use crate::model::UnixSeconds;
use crate::ui::{format::ago, send::Sender};

/// The diagnosis card. `key` names the identity "Check DNS now" checks.
#[component]
pub fn DiagnosisCard(
    diagnosis: Diagnosis,
    dns: Option<DnsReport>,
    dns_checks_on: bool,
    can_change: bool,
    now: UnixSeconds,
    key: (String, String, Option<String>),
) -> impl IntoView {
    let (class, label) = match diagnosis.severity {
        Severity::Good => ("diagnosis diagnosis-good", "All good"),
        Severity::Info => ("diagnosis diagnosis-info", "Note"),
        Severity::Warning => ("diagnosis diagnosis-warning", "Warning"),
        Severity::Critical => ("diagnosis diagnosis-critical", "Action needed"),
    };
    let checked = match (&dns, dns_checks_on) {
        (_, false) => "DNS checks are turned off on this server.".to_owned(),
        (None, true) => "DNS not checked yet: the first check runs in the background.".to_owned(),
        (Some(report), true) => format!("DNS checked {}.", ago(now, report.checked_at)),
    };
    let checked_at = dns.as_ref().map(|r| r.checked_at.to_string());
    let (region, name, account) = key;
    view! {
        <section class=class aria-labelledby="diagnosis-heading" data-testid="diagnosis">
            <p class="diagnosis-label">{label}</p>
            <h2 id="diagnosis-heading" data-testid="diagnosis-headline">{diagnosis.headline}</h2>
            <p data-testid="diagnosis-explanation">{diagnosis.explanation}</p>
            <p><strong>"Next step: "</strong><span data-testid="diagnosis-next-step">{diagnosis.next_step}</span></p>
            // The change itself is made in the Manage DKIM card, with its checks and confirmation.
            {diagnosis.action.filter(|_| can_change).map(|action| view! {
                <p><a href="#manage-heading" class="button-link" data-testid="diagnosis-action">{action.label()} " ↓"</a></p>
            })}
            {(!diagnosis.notes.is_empty()).then(|| view! {
                <ul class="diagnosis-notes">
                    {diagnosis.notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}
                </ul>
            })}
            <div class="diagnosis-foot">
                <span class="muted" data-testid="dns-checked" data-checked-at=checked_at>{checked}</span>
                {dns_checks_on.then(|| view! { <CheckDnsNow region name account /> })}
            </div>
        </section>
    }
}

/// "Check DNS now": looks the identity's records up and, once done, reloads the page, which
/// shows the new result; anything else is said next to the button.
#[island]
fn CheckDnsNow(region: String, name: String, account: Option<String>) -> impl IntoView {
    let sender = Sender::<DnsCheckAnswer>::new();
    // Effects run in the browser only.
    Effect::new(move |_| {
        if let Some(Ok(DnsCheckAnswer::Checked { .. })) = sender.answer.get() {
            let _ = window().location().reload();
        }
    });
    let pending = sender.pending;
    let answer = move || {
        match sender.answer.get() {
        Some(Ok(DnsCheckAnswer::TooSoon(seconds))) => {
            Some(format!("Checked a moment ago; try again in {seconds} s."))
        }
        Some(Ok(DnsCheckAnswer::StillChecking)) => Some(
            "Still checking (the domain's nameservers are slow to answer); the result will appear on this page when it is done."
                .into(),
        ),
        Some(Ok(DnsCheckAnswer::Off)) => Some("DNS checks are turned off on this server.".into()),
        Some(Ok(DnsCheckAnswer::NotFound)) => {
            Some("This identity is no longer in the inventory.".into())
        }
        Some(Err(error)) => Some(format!("The check failed: {error}")),
        Some(Ok(DnsCheckAnswer::Checked { .. })) | None => None,
    }
    };
    view! {
        <form action=CheckDns::PATH method="post" on:submit=sender.submit()>
            <input type="hidden" name="region" value=region />
            <input type="hidden" name="name" value=name />
            {account.map(|account| view! { <input type="hidden" name="account" value=account /> })}
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { "Checking DNS…" } else { "Check DNS now" }}
            </button>
        </form>
        {move || answer().map(|text| view! { <span role="status">{text}</span> })}
    }
}
