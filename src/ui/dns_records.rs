//! The DNS records an identity needs, each name and value with a copy button, "copy all",
//! and the downloads. Without JavaScript the copy buttons stay hidden and the text is
//! selectable with one click (`user-select: all`).

use leptos::prelude::*;

use crate::api::identities::IdentityDetail;
use crate::dns_check::{DnsHealth, Finding};
use crate::model::{DnsRecord, IdentityType, RecordType, SigningOrigin};
use crate::routes;
use crate::ui::copy::CopyButton;

/// The records section of the identity page.
#[component]
pub fn DnsRecords(detail: IdentityDetail, account_in_links: bool) -> impl IntoView {
    let identity = &detail.identity;
    let account = account_in_links.then_some(identity.account.as_str());
    let download = |ext| routes::identity_download(&identity.region, &identity.name, account, ext);
    let (csv, zone, json) = (download("csv"), download("zone"), download("json"));
    let explanation = explain(&detail);
    let has_records = !detail.records.is_empty();
    let rows = detail
        .records
        .iter()
        .map(|record| {
            let finding = detail
                .dns
                .as_ref()
                .and_then(|r| r.finding_for(record))
                .cloned();
            view! { <RecordRow record=record.clone() finding /> }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="records-heading">
            <div class="card-head">
                <h2 id="records-heading">"DNS records to publish"</h2>
                {has_records
                    .then(|| {
                        view! {
                            <CopyButton
                                text=detail.zone_lines.clone()
                                label="Copy all records as zone-file lines"
                                caption="Copy all"
                            />
                        }
                    })}
            </div>
            {explanation}
            {has_records
                .then(|| {
                    view! {
                        <div class="table-scroll">
                            <table class="records" data-testid="dns-records">
                                <thead>
                                    <tr>
                                        <th scope="col">"Type"</th>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Value"</th>
                                        <th scope="col">"In DNS"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                        <p class="downloads">
                            "Download: " <a href=csv download>"CSV"</a> " · "
                            <a href=zone download>"BIND zone"</a> " · "
                            <a href=json download>"JSON"</a>
                        </p>
                    }
                })}
        </section>
    }
}

#[component]
fn RecordRow(record: DnsRecord, finding: Option<Finding>) -> impl IntoView {
    let kind = record.record_type.as_str();
    let name_label = format!("Copy {kind} record name {}", record.name);
    let value = match record.value {
        // A CNAME's target is a name: it breaks after its dots like one.
        Some(value) if record.record_type == RecordType::Cname => {
            let label = format!("Copy {kind} record value for {}", record.name);
            view! {
                <td>
                    <code class="copyable dotted" data-testid="record-value">
                        {dotted(&value)}
                    </code>
                    <CopyButton text=value label />
                </td>
            }
            .into_any()
        }
        Some(value) => {
            let label = format!("Copy {kind} record value for {}", record.name);
            view! {
                <td>
                    <code class="copyable" data-testid="record-value">{value.clone()}</code>
                    <CopyButton text=value label />
                </td>
            }
            .into_any()
        }
        None => view! {
            <td>
                <span class="muted">
                    "Unknown: SES never returns a BYODKIM public key. Publish "
                    <code>"v=DKIM1; k=rsa; p=" <var>"public key"</var></code>
                    " with the public key of the private key you gave SES (base64 DER, no header lines)."
                </span>
            </td>
        }
        .into_any(),
    };
    view! {
        <tr>
            <td>{kind}</td>
            <td>
                <code class="copyable dotted" data-testid="record-name">
                    {dotted(&record.name)}
                </code>
                <CopyButton text=record.name label=name_label />
            </td>
            {value}
            <RecordState finding />
        </tr>
    }
}

/// What dkimdash's DNS check found for one record, next to its copy buttons.
#[component]
fn RecordState(finding: Option<Finding>) -> impl IntoView {
    let Some(finding) = finding else {
        return view! { <td class="muted" data-testid="record-state">"not checked yet"</td> }
            .into_any();
    };
    let class = match finding.health() {
        DnsHealth::Ok => "record-state record-ok",
        DnsHealth::Problem => "record-state record-problem",
        DnsHealth::Unchecked => "record-state record-unchecked",
    };
    view! {
        <td class=class data-testid="record-state" data-finding=finding.code()>
            <strong>{finding.label()}</strong>
            <br />
            <span class="record-explain">{finding.explain()}</span>
        </td>
    }
    .into_any()
}

/// What these records are, in a sentence or two, or why there are none.
fn explain(detail: &IdentityDetail) -> AnyView {
    let identity = &detail.identity;
    if identity.dkim.tokens.is_empty() {
        return view! {
            <p class="muted">"DKIM is not set up for this identity, so there are no records to publish."</p>
        }
        .into_any();
    }
    let address_note = (identity.identity_type == IdentityType::EmailAddress).then(|| {
        view! { <p class="muted">"An email address signs with its domain's DKIM setup: these are the domain's records."</p> }
    });
    let main = match &identity.dkim.origin {
        Some(SigningOrigin::Byodkim) => view! {
            <p>"BYODKIM: SES signs with your private key; publish its public key as a TXT record under the selector."</p>
        }
        .into_any(),
        Some(SigningOrigin::Replica { parent_region }) => {
            let parent = match &detail.parent {
                Some(parent) => {
                    let href = routes::identity_page(&parent.region, &parent.name, None);
                    view! { <a href=href data-testid="parent-link">{format!("{} in {}", parent.name, parent.region)}</a> }.into_any()
                }
                None => view! { <span>{format!("{} in {parent_region} (a region this dashboard does not read)", identity.name)}</span> }.into_any(),
            };
            view! {
                <p>
                    "DEED replica: this identity signs with the keys of " {parent}
                    ". It relies on the parent's records below; keep them published in DNS."
                </p>
            }
            .into_any()
        }
        None => view! {
            <p class="muted">"The signing origin is not read yet; the records assume Easy DKIM until it is."</p>
        }
        .into_any(),
        Some(_) => view! {
            <p>"Easy DKIM: publish the three CNAME records; SES rotates the keys behind them."</p>
        }
        .into_any(),
    };
    view! { {main} {address_note} }.into_any()
}

/// A DNS name with a line-break opportunity after each dot (`<wbr>`, which copies as
/// nothing), so a narrow cell wraps it between labels, never inside one.
fn dotted(name: &str) -> impl IntoView + use<> {
    name.split_inclusive('.')
        .map(|label| view! { {label.to_owned()} <wbr /> })
        .collect_view()
}
