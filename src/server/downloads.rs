//! Record downloads as plain GET endpoints (they work without JavaScript): one identity's
//! records, or those of every identity the table's query selects, as CSV, a BIND zone
//! snippet or JSON.

use axum::{
    extract::{Path, Query, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::state::AppState;
use crate::inventory::{self, snapshot::Lookup};
use std::collections::{HashMap, HashSet};

use crate::dns_check::Finding;
use crate::model::{DnsRecord, Identity, IdentityKey, RecordType};
use crate::records;
use crate::table::{query::TableQuery, select::matching};

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
    // Thousands of identities take a while to write: off the async workers, so a few
    // downloads at once do not hold up every other request.
    let export = tokio::task::spawn_blocking(move || table_export(&state, format, &query, changed));
    match export.await {
        Ok(body) => attachment(format, "dkim-records", body),
        Err(error) => {
            tracing::error!(%error, "the records export failed");
            let message = "The export failed; the server log says why.\n";
            (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
        }
    }
}

/// The records of the identities `query` selects (of those `changed`, when its `changed`
/// filter asks), in `format`.
fn table_export(
    state: &AppState,
    format: Format,
    query: &TableQuery,
    changed: Option<HashSet<IdentityKey>>,
) -> String {
    let snapshot = state.inventory.snapshot();
    let selected = matching(
        &snapshot.identities,
        query,
        &state.dns_healths(),
        changed.as_ref(),
        inventory::now(),
    );
    let findings = Findings::of(state, selected.iter().copied());
    match format {
        Format::Csv => records::to_csv(
            &records::unique(selected.iter().flat_map(|i| state.inventory.records_of(i))),
            &|r| findings.get(r),
        ),
        Format::Zone => zone_for(state, &selected, &findings),
        Format::Json => pretty(&serde_json::Value::Array(
            selected
                .iter()
                .map(|i| identity_json(i, &state.inventory.records_of(i), &findings))
                .collect(),
        )),
    }
}

/// Zone lines grouped under a comment per identity, each record once.
fn zone_for(state: &AppState, identities: &[&Identity], findings: &Findings) -> String {
    records::to_zone_file(
        identities
            .iter()
            .map(|identity| (*identity, state.inventory.records_of(identity))),
        &|r| findings.get(r),
    )
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

fn attachment(format: Format, stem: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
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
