//! Record downloads as plain GET endpoints (they work without JavaScript): one identity's
//! records, or those of every identity the table's query selects, as CSV, a BIND zone
//! snippet or JSON.

use axum::{
    body::Body,
    extract::{Path, Query, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::chunked::{self, Chunks};
use super::state::AppState;
use crate::inventory::{self, snapshot::Lookup};
use std::collections::HashMap;

use crate::dns_check::Finding;
use crate::model::{DnsRecord, Identity, RecordType};
use crate::records;
use crate::table::query::TableQuery;

/// The file formats offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Zone,
    Json,
}

impl Format {
    /// `stem.csv` → Csv, and so on; anything else is not offered.
    fn from_file(file: &str, stem: &str) -> Option<Self> {
        match file.strip_prefix(stem)?.strip_prefix('.')? {
            "csv" => Some(Self::Csv),
            "zone" => Some(Self::Zone),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Zone => "zone",
            Self::Json => "json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Zone => "text/plain; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// `?account=` for names that exist in several accounts.
#[derive(Debug, Deserialize)]
pub struct AccountParam {
    account: Option<String>,
}

/// `GET /download/identity/{region}/{name}/records.{csv,zone,json}`
pub async fn identity_records(
    State(state): State<AppState>,
    Path((region, name, file)): Path<(String, String, String)>,
    Query(params): Query<AccountParam>,
) -> Response {
    let Some(format) = Format::from_file(&file, "records") else {
        return not_offered(&file);
    };
    let snapshot = state.inventory.snapshot();
    let identity = match snapshot.find(&region, &name, params.account.as_deref()) {
        Lookup::One(identity) => identity,
        Lookup::Several(accounts) => {
            let message = format!(
                "{name} exists in {region} in several accounts ({}): add ?account= to say which.\n",
                accounts.join(", ")
            );
            return (StatusCode::CONFLICT, message).into_response();
        }
        Lookup::Nothing => {
            let message = format!("{name} is not in {region} in the inventory.\n");
            return (StatusCode::NOT_FOUND, message).into_response();
        }
    };
    let dns = state.inventory.records_of(identity);
    let findings = Findings::of(&state, std::slice::from_ref(identity));
    let body = match format {
        Format::Csv => records::to_csv(&dns, &|r| findings.get(r)),
        Format::Zone => records::to_bind(&dns, &|r| findings.get(r)),
        Format::Json => pretty(&identity_json(identity, &dns, &findings)),
    };
    attachment(format, &safe_file_stem(&identity.name), body)
}

/// `GET /download/identities.{csv,zone,json}?<table query>`: the records of every identity
/// the query selects (all pages), each record once.
pub async fn table_records(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(format) = Format::from_file(&file, "identities") else {
        return not_offered(&file);
    };
    let query = TableQuery::from_query_string(query.as_deref().unwrap_or(""));
    let changed = match state.changed_within(&query).await {
        Ok(changed) => changed,
        Err(error) => {
            tracing::error!(%error, "history read failed");
            let message = "The history could not be read; the server log says why.\n";
            return (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
        }
    };
    let overview = state.overview();
    // Written in pieces while it is sent (a hundred thousand identities make tens of
    // megabytes), off the async workers, so a few downloads at once hold up no other
    // request and the memory does not grow with the export.
    let body = chunked::body(move |out| {
        let selected = overview.matching(&query, changed.as_ref(), inventory::now());
        write_table_export(&state, format, &selected, out);
    });
    attachment(format, "dkim-records", body)
}

/// The records of `selected` (the identities a table query selects, in its order) in
/// `format`, written to `out` one identity at a time until it is closed.
fn write_table_export(state: &AppState, format: Format, selected: &[&Identity], out: &mut Chunks) {
    let mut sight = records::FirstSight::new(selected);
    match format {
        Format::Csv => out.push(records::CSV_HEADER),
        Format::Json => out.push("["),
        Format::Zone => {}
    }
    for (n, identity) in selected.iter().enumerate() {
        if out.closed() {
            return;
        }
        let findings = Findings::of(state, [*identity]);
        let finding_of = |r: &DnsRecord| findings.get(r);
        let dns = state.inventory.records_of(identity);
        match format {
            Format::Csv => {
                for record in sight.fresh(identity, dns) {
                    out.push(&records::csv_line(&record, finding_of(&record)));
                }
            }
            Format::Zone => {
                let fresh = sight.fresh(identity, dns);
                if !fresh.is_empty() {
                    out.push(&records::zone_section(identity, &fresh, &finding_of));
                }
            }
            Format::Json => {
                out.push(if n == 0 { "\n" } else { ",\n" });
                out.push(&array_element(&identity_json(identity, &dns, &findings)));
            }
        }
    }
    if format == Format::Json {
        out.push(if selected.is_empty() { "]\n" } else { "\n]\n" });
    }
}

/// `value` pretty-printed as an element of a pretty-printed array (indented two spaces;
/// JSON strings hold no raw line breaks, so every line is the value's).
fn array_element(value: &serde_json::Value) -> String {
    let text = pretty(value);
    let lines: Vec<String> = text.lines().map(|line| format!("  {line}")).collect();
    lines.join("\n")
}

fn identity_json(identity: &Identity, dns: &[DnsRecord], findings: &Findings) -> serde_json::Value {
    serde_json::json!({
        "identity": identity.name,
        "account": identity.account,
        "region": identity.region,
        "dkim_status": identity.dkim.status.as_ses(),
        "signing_origin": identity.dkim.origin.as_ref().map(|o| o.to_ses()),
        "records": dns
            .iter()
            .map(|r| records::json_record(r, findings.get(r).as_ref()))
            .collect::<Vec<_>>(),
    })
}

/// The DNS check results of the exported identities' records, by record type and name.
struct Findings(HashMap<(RecordType, String), Finding>);

impl Findings {
    fn of<'a>(state: &AppState, identities: impl IntoIterator<Item = &'a Identity>) -> Self {
        let Some(dns) = state.dns.as_ref() else {
            return Self(HashMap::new());
        };
        let found = identities
            .into_iter()
            .filter_map(|identity| dns.report(identity, &state.inventory))
            .flat_map(|report| report.records)
            .map(|check| ((check.record.record_type, check.record.name), check.finding))
            .collect();
        Self(found)
    }

    fn get(&self, record: &DnsRecord) -> Option<Finding> {
        self.0
            .get(&(record.record_type, record.name.clone()))
            .cloned()
    }
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

fn attachment(format: Format, stem: &str, body: impl Into<Body>) -> Response {
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body.into(),
    )
        .into_response()
}

fn not_offered(file: &str) -> Response {
    let message = format!("No download called {file}: use .csv, .zone or .json.\n");
    (StatusCode::NOT_FOUND, message).into_response()
}

/// `dkim-<name>` with anything outside `[A-Za-z0-9.@_-]` replaced, safe in a header.
fn safe_file_stem(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("dkim-{safe}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_files_parse() {
        assert_eq!(
            Format::from_file("records.csv", "records"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_file("identities.zone", "identities"),
            Some(Format::Zone)
        );
        assert_eq!(Format::from_file("records.json", "identities"), None);
        assert_eq!(Format::from_file("records.exe", "records"), None);
        assert_eq!(Format::from_file("recordscsv", "records"), None);
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        assert_eq!(
            safe_file_stem("a\"b\r\n;c@example.com"),
            "dkim-a_b___c@example.com"
        );
    }
}
