//! An identity's history on its page: every change dkimdash saw between reads, newest
//! first, with a link to the audit entry when the change was made through dkimdash.

use leptos::prelude::*;

use crate::history::entry::HistoryEntry;
use crate::model::UnixSeconds;
use crate::routes;
use crate::ui::format::{ago, utc_minute};

/// The timeline card; `name` links to the identity's audit entries.
#[component]
pub fn Timeline(name: String, entries: Vec<HistoryEntry>, now: UnixSeconds) -> impl IntoView {
    let activity = format!("/activity?identity={}", routes::segment(&name));
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"History"</h2>
            {if entries.is_empty() {
                view! {
                    <p class="muted" data-testid="timeline-empty">
                        "No change seen since dkimdash first read this identity."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <ol class="timeline" data-testid="timeline">
                        {entries
                            .into_iter()
                            .map(|entry| view! { <TimelineItem entry now activity=activity.clone() /> })
                            .collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn TimelineItem(entry: HistoryEntry, now: UnixSeconds, activity: String) -> impl IntoView {
    let what = match (&entry.before, &entry.after) {
        (None, _) => "appeared in SES".to_owned(),
        (_, None) => "disappeared from SES".to_owned(),
        (Some(before), Some(after)) => format!("{before} → {after}"),
    };
    let label = entry.field_label().to_owned();
    view! {
        <li data-field=entry.field.clone()>
            <time title=utc_minute(entry.at)>{ago(now, entry.at)}</time>
            " · " <strong>{label}</strong> " " <span data-testid="timeline-change">{what}</span>
            {entry.change_id.map(|id| view! {
                " · " <a href=format!("{activity}#change-{id}")>"changed through dkimdash"</a>
            })}
        </li>
    }
}
