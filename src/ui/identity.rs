//! One identity: every DKIM and verification attribute SES reports, its DNS records, and
//! its DEED relatives. Server-rendered; a change or a DNS check made here reloads it.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::activity::list_activity;
use crate::api::dkim::get_notice;
use crate::api::history::identity_history;
use crate::api::identities::{IdentityDetail, IdentityLink, IdentityLookup, get_identity};
use crate::api::publish::publish_preview;
use crate::audit::entry::AuditEntry;
use crate::change_answer::{ChangeAnswer, FormEcho, Notice, NoticeForm};
use crate::model::SigningOrigin;
use crate::routes;
use crate::ui::{
    activity::ChangesTable,
    badge::StatusBadge,
    change_form::ChangeAnswerLine,
    diagnosis::DiagnosisCard,
    dns_records::DnsRecords,
    format::{ago, utc_minute},
    identities::type_label,
    manage_dkim::{KeptAnswers, ManageDkim},
    publish::PublishCard,
    timeline::Timeline,
};

/// `/identity/:region/:name`, optionally `?account=` when a name exists in several accounts.
#[component]
pub fn IdentityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let params = params.read();
        (
            params.get("region").unwrap_or_default(),
            params.get("name").unwrap_or_default(),
            query.read().get("account"),
        )
    };
    let lookup = Resource::new(key, |(region, name, account)| {
        get_identity(region, name, account)
    });
    // The last recorded changes of this identity.
    let history = Resource::new(key, |(region, name, account)| {
        list_activity(Some(name), None, Some(region), account)
    });
    // Every change seen of it.
    let timeline = Resource::new(key, |(region, name, account)| {
        identity_history(region, name, account)
    });
    // What publishing the records would change, when the page is asked for it (it reads
    // the DNS provider).
    let publish = Resource::new(
        move || (key(), query.read().get("publish").is_some()),
        |((region, name, account), asked)| async move {
            if asked {
                Some(publish_preview(region, name, account).await)
            } else {
                None
            }
        },
    );
    // The answer to the change just made here, or how this identity was added.
    let notice = Resource::new(
        move || query.read().get("notice"),
        |id| async move {
            match id {
                Some(id) => get_notice(id).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! {
        <p class="breadcrumb"><a href="/">"← All identities"</a></p>
        <Transition fallback=|| view! { <p aria-busy="true">"Loading the identity…"</p> }>
            {move || Suspend::new(async move {
                let (region, name, account) = key();
                let notice = notice.await;
                let history = history.await.unwrap_or_default();
                let timeline = timeline.await.unwrap_or_default();
                let publish = publish.await;
                match lookup.await {
                    Ok(IdentityLookup::Found(detail)) => {
                        let typed = refill(notice.as_ref());
                        let (mut kept, added) = place_notice(notice);
                        let publish_answer = kept.publish.take();
                        let preview_href =
                            routes::publish_preview_page(&region, &name, account.as_deref());
                        let replica_regions = detail.replica_regions.clone();
                        let can_change = detail.can_change;
                        view! {
                            {added.map(|outcome| view! {
                                <section class="card"><ChangeAnswerLine outcome /></section>
                            })}
                            <Detail detail=*detail.clone() account_in_links=account.is_some() />
                            {detail.can_publish.then(|| view! {
                                <PublishCard
                                    region=region.clone()
                                    name=name.clone()
                                    account=account.clone()
                                    preview=publish
                                    preview_href
                                    kept=publish_answer
                                />
                            })}
                            {can_change.then(|| view! {
                                <ManageDkim identity=detail.identity.clone() account kept typed replica_regions />
                            })}
                            <RecentChanges name=detail.identity.name.clone() entries=history />
                            <Timeline name=detail.identity.name.clone() entries=timeline now=detail.now />
                        }.into_any()
                    }
                    Ok(IdentityLookup::Ambiguous(accounts)) => view! { <Ambiguous region name accounts /> }.into_any(),
                    Ok(IdentityLookup::NotFound) => view! { <Missing region name /> }.into_any(),
                    Err(error) => view! {
                        <section class="card">
                            <p class="error" role="alert">"Could not load the identity: " {error.to_string()}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// How many of an identity's changes its page lists.
const RECENT: usize = 5;

#[component]
fn RecentChanges(name: String, entries: Vec<AuditEntry>) -> impl IntoView {
    let more = entries.len() > RECENT;
    let entries: Vec<AuditEntry> = entries.into_iter().take(RECENT).collect();
    let all = format!("/activity?identity={}", routes::segment(&name));
    view! {
        <section class="card" aria-labelledby="recent-heading">
            <h2 id="recent-heading">"Recent changes"</h2>
            <ChangesTable entries link_identity=false />
            <p><a href=all>{if more { "All changes of this identity →" } else { "In the activity log →" }}</a></p>
        </section>
    }
}

/// A kept answer goes above the form it answers; how the identity was added, at the top.
fn place_notice(notice: Option<Notice>) -> (KeptAnswers, Option<ChangeAnswer>) {
    let mut kept = KeptAnswers::default();
    let Some(Notice { form, outcome, .. }) = notice else {
        return (kept, None);
    };
    match form {
        NoticeForm::Signing => kept.signing = Some(outcome),
        NoticeForm::Enabled => kept.enabled = Some(outcome),
        // A restart or publish made is told at the top: the form that asked may be gone.
        NoticeForm::Restart if outcome.is_err() => kept.restart = Some(outcome),
        NoticeForm::Publish if outcome.is_err() => kept.publish = Some(outcome),
        NoticeForm::AddDomain
        | NoticeForm::Silence
        | NoticeForm::Publish
        | NoticeForm::Restart
        | NoticeForm::Repair => {
            return (kept, Some(outcome));
        }
    }
    (kept, None)
}

/// What the signing form gets back after a refused post.
fn refill(notice: Option<&Notice>) -> FormEcho {
    match notice {
        Some(Notice {
            form: NoticeForm::Signing,
            outcome: Err(_),
            typed,
        }) => typed.clone(),
        _ => FormEcho::default(),
    }
}

#[component]
fn Detail(detail: IdentityDetail, account_in_links: bool) -> impl IntoView {
    let identity = detail.identity.clone();
    let now = detail.now;
    let dkim = &identity.dkim;
    let when = |at: Option<i64>| {
        at.map_or_else(
            || "—".to_owned(),
            |at| format!("{} ({})", utc_minute(at), ago(now, at)),
        )
    };
    let origin = dkim
        .origin
        .as_ref()
        .map_or_else(|| "not read yet".to_owned(), SigningOrigin::label);
    let keys = match (&dkim.current_key_length, &dkim.next_key_length) {
        (Some(current), Some(next)) if current != next => format!(
            "{} bits now → {} bits at the next rotation",
            current.bits(),
            next.bits()
        ),
        (Some(current), _) => format!("{} bits", current.bits()),
        (None, _) => "—".to_owned(),
    };
    let tokens_label = if dkim.origin == Some(SigningOrigin::Byodkim) {
        "Selector"
    } else {
        "Tokens"
    };
    let tokens = if dkim.tokens.is_empty() {
        "—".to_owned()
    } else {
        dkim.tokens.join(", ")
    };
    let status_since = format!(
        "{} {}",
        when(Some(identity.status_seen_since)),
        if detail.status_since_from_history {
            "(first seen by dkimdash, from its history)"
        } else {
            "(first seen since dkimdash started: its history is not available)"
        }
    );
    let verification = identity.verification.clone();
    let replicas = detail.replicas.clone();
    let diagnosis_key = (
        identity.region.clone(),
        identity.name.clone(),
        account_in_links.then(|| identity.account.clone()),
    );
    view! {
        <DiagnosisCard
            diagnosis=detail.diagnosis.clone()
            dns=detail.dns.clone()
            dns_checks_on=detail.dns_checks_on
            can_change=detail.can_change
            now
            key=diagnosis_key
        />
        <section class="card" aria-labelledby="identity-heading">
            <h1 id="identity-heading" class="identity-name">
                <span data-testid="identity-name">{identity.name.clone()}</span>
                <StatusBadge status=dkim.status.clone() />
            </h1>
            {detail.attention.map(|a| view! { <p class="attention-note" role="status">"Needs attention: " {a.label()}</p> })}
            {identity.details_read_at.is_none().then(|| view! {
                <p class="muted">"Only the DKIM status is read so far; the full details follow within a few sweeps."</p>
            })}
            <div class="fact-columns">
                <dl class="facts" aria-label="DKIM">
                    <dt>"Type"</dt><dd>{type_label(&identity.identity_type).to_owned()}</dd>
                    <dt>"Account"</dt><dd>{identity.account.clone()}</dd>
                    <dt>"Region"</dt><dd>{identity.region.clone()}</dd>
                    <dt>"DKIM signing"</dt><dd data-testid="signing">{if dkim.signing_enabled { "On" } else { "Off" }}</dd>
                    <dt>"Origin"</dt><dd data-testid="origin">{origin}</dd>
                    <dt>"Key length"</dt><dd>{keys}</dd>
                    <dt>"Last key generation"</dt><dd>{when(dkim.last_key_generation)}</dd>
                    <dt>{tokens_label}</dt><dd><code>{tokens}</code></dd>
                    <dt>"Signing zone"</dt><dd>{dkim.signing_hosted_zone.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Status since"</dt><dd data-testid="status-since">{status_since}</dd>
                </dl>
                <dl class="facts" aria-label="Verification">
                    {match verification {
                        Some(v) => view! {
                            <dt>"Verification"</dt>
                            <dd>{v.status.map(|s| view! { <StatusBadge status=s /> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd>
                            <dt>"Verified for sending"</dt><dd>{if v.verified_for_sending { "Yes" } else { "No" }}</dd>
                            <dt>"Last error"</dt><dd>{v.error_type.unwrap_or_else(|| "—".to_owned())}</dd>
                            <dt>"Last checked by SES"</dt><dd>{when(v.last_checked)}</dd>
                            <dt>"Last found by SES"</dt><dd>{when(v.last_success)}</dd>
                        }.into_any(),
                        None => view! { <dt>"Verification"</dt><dd>"not read yet"</dd> }.into_any(),
                    }}
                    <dt>"Read from SES"</dt><dd>{ago(now, identity.read_at)}</dd>
                    <dt>"Details read"</dt><dd>{identity.details_read_at.map_or_else(|| "not yet".to_owned(), |at| ago(now, at))}</dd>
                </dl>
            </div>
        </section>
        <DnsRecords detail account_in_links />
        {(!replicas.is_empty()).then(|| view! { <Replicas replicas /> })}
    }
    .into_any()
}

#[component]
fn Replicas(replicas: Vec<IdentityLink>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="replicas-heading">
            <h2 id="replicas-heading">"DEED replicas"</h2>
            <p class="muted">"These identities sign with this identity's keys and records."</p>
            <ul class="links">
                {replicas
                    .into_iter()
                    .map(|replica| {
                        let href = routes::identity_page(&replica.region, &replica.name, None);
                        view! {
                            <li>
                                <a href=href>{format!("{} in {}", replica.name, replica.region)}</a>
                                " " <StatusBadge status=replica.status />
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Ambiguous(region: String, name: String, accounts: Vec<String>) -> impl IntoView {
    // 409 like the downloads and changes of the same name: the request needs an account
    // to mean one identity (the page lists them).
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::CONFLICT);
    }
    view! {
        <section class="card">
            <h1>{name.clone()}</h1>
            <p>{format!("{name} exists in {region} in several accounts. Which one?")}</p>
            <ul class="links">
                {accounts
                    .into_iter()
                    .map(|account| {
                        let href = routes::identity_page(&region, &name, Some(&account));
                        view! { <li><a href=href>{account}</a></li> }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Missing(region: String, name: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Identity not found"</h1>
            <p role="alert">
                {format!("{name} is not in {region} in the inventory: it may have been deleted, or the dashboard does not read that account or region.")}
            </p>
            <p><a href="/">"Back to all identities"</a></p>
        </section>
    }
}
