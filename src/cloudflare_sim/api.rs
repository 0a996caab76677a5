//! The simulated Cloudflare's routes: the v4 endpoints in Cloudflare's JSON envelope
//! (`success`, `errors`, `messages`, `result`, `result_info`), and the control API.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    CloudflareSim, Faults, Stats, TokenScopes,
    store::{Record, RecordInput, Refusal, Zone},
};

/// The largest page Cloudflare serves of zones and of records.
const MAX_PER_PAGE: usize = 100;

pub fn routes() -> Router<CloudflareSim> {
    Router::new()
        .route("/zones", get(list_zones))
        .route(
            "/zones/{zone}/dns_records",
            get(list_records).post(create_record),
        )
        .route(
            "/zones/{zone}/dns_records/{id}",
            patch(patch_record).delete(delete_record),
        )
}

pub fn control_routes() -> Router<CloudflareSim> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/zones", post(add_zone))
        .route("/tokens", post(add_token))
        .route("/faults", post(set_faults))
        .route("/stats", get(stats))
        .route("/records", get(all_records))
}

/// An error answer in the envelope.
struct Failure {
    status: StatusCode,
    code: u32,
    message: String,
    retry_after: bool,
}

impl Failure {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: false,
        }
    }

    fn authentication() -> Self {
        Self::new(StatusCode::FORBIDDEN, 10000, "Authentication error")
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Self::new(
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
            refusal.code,
            refusal.message,
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({
            "success": false,
            "errors": [{"code": self.code, "message": self.message}],
            "messages": [],
            "result": null,
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

type Answer = Result<Json<Value>, Failure>;

fn success(result: impl Serialize, page: Option<(usize, usize, usize)>) -> Answer {
    let mut body = json!({"success": true, "errors": [], "messages": [], "result": result});
    if let Some((page, per_page, total)) = page {
        body["result_info"] = json!({
            "page": page,
            "per_page": per_page,
            "count": total.saturating_sub((page - 1) * per_page).min(per_page),
            "total_count": total,
            "total_pages": total.div_ceil(per_page).max(1),
        });
    }
    Ok(Json(body))
}

/// The token's scopes, or the refusal Cloudflare gives: a malformed header is a 400, an
/// unknown token a 403. A rate-limit fault is answered first, as Cloudflare's limiter
/// stands before everything.
fn authorize(sim: &CloudflareSim, headers: &HeaderMap) -> Result<TokenScopes, Failure> {
    if sim.rate_limited() {
        return Err(Failure {
            retry_after: true,
            ..Failure::new(
                StatusCode::TOO_MANY_REQUESTS,
                971,
                "Please wait and consider throttling your request speed",
            )
        });
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Failure::new(StatusCode::BAD_REQUEST, 6003, "Invalid request headers"))?;
    sim.scopes(token.trim()).ok_or_else(Failure::authentication)
}

#[derive(Deserialize)]
struct PageQuery {
    name: Option<String>,
    #[serde(rename = "name.exact")]
    name_exact: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    record_type: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

impl PageQuery {
    fn paging(&self) -> (usize, usize) {
        (
            self.page.unwrap_or(1).max(1),
            self.per_page.unwrap_or(20).clamp(5, MAX_PER_PAGE),
        )
    }
}

fn page_of<T: Clone>(items: Vec<T>, page: usize, per_page: usize) -> Vec<T> {
    items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect()
}

async fn list_zones(
    State(sim): State<CloudflareSim>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Answer {
    let scopes = authorize(&sim, &headers)?;
    if !scopes.zone_read {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            9109,
            "Unauthorized to access requested resource",
        ));
    }
    sim.count("GET /zones");
    let (page, per_page) = query.paging();
    let zones: Vec<Zone> = sim
        .store()
        .zones(query.name.as_deref(), query.status.as_deref())
        .into_iter()
        .cloned()
        .collect();
    let total = zones.len();
    success(
        page_of(zones, page, per_page),
        Some((page, per_page, total)),
    )
}

async fn list_records(
    State(sim): State<CloudflareSim>,
    headers: HeaderMap,
    Path(zone): Path<String>,
    Query(query): Query<PageQuery>,
) -> Answer {
    let scopes = authorize(&sim, &headers)?;
    if !(scopes.dns_read || scopes.dns_edit) {
        return Err(Failure::authentication());
    }
    sim.count("GET /zones/:zone/dns_records");
    let store = sim.store();
    if store.zone(&zone).is_none() {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            7003,
            "Could not route to this zone",
        ));
    }
    let (page, per_page) = query.paging();
    let name = query.name_exact.as_deref().or(query.name.as_deref());
    let records: Vec<Record> = store
        .records(&zone, name, query.record_type.as_deref())
        .into_iter()
        .cloned()
        .collect();
    let total = records.len();
    success(
        page_of(records, page, per_page),
        Some((page, per_page, total)),
    )
}

async fn create_record(
    State(sim): State<CloudflareSim>,
    headers: HeaderMap,
    Path(zone): Path<String>,
    Json(input): Json<RecordInput>,
) -> Answer {
    edit_allowed(&sim, &headers)?;
    sim.count("POST /zones/:zone/dns_records");
    if proxiable(&input) && input.proxied.is_none() {
        sim.proxied_unstated();
    }
    let record = sim.store().create(&zone, input)?;
    sim.wrote();
    success(record, None)
}

async fn patch_record(
    State(sim): State<CloudflareSim>,
    headers: HeaderMap,
    Path((zone, id)): Path<(String, String)>,
    Json(input): Json<RecordInput>,
) -> Answer {
    edit_allowed(&sim, &headers)?;
    sim.count("PATCH /zones/:zone/dns_records/:id");
    let held_type = sim.store().record(&zone, &id)?.record_type.clone();
    if held_type == "CNAME" && input.proxied.is_none() {
        sim.proxied_unstated();
    }
    let record = sim.store().patch(&zone, &id, input)?;
    sim.wrote();
    success(record, None)
}

async fn delete_record(
    State(sim): State<CloudflareSim>,
    headers: HeaderMap,
    Path((zone, id)): Path<(String, String)>,
) -> Answer {
    edit_allowed(&sim, &headers)?;
    sim.count("DELETE /zones/:zone/dns_records/:id");
    sim.store().delete(&zone, &id)?;
    sim.wrote();
    success(json!({"id": id}), None)
}

fn edit_allowed(sim: &CloudflareSim, headers: &HeaderMap) -> Result<(), Failure> {
    let scopes = authorize(sim, headers)?;
    if scopes.dns_edit {
        Ok(())
    } else {
        Err(Failure::authentication())
    }
}

fn proxiable(input: &RecordInput) -> bool {
    input
        .record_type
        .as_deref()
        .is_some_and(|t| matches!(t.to_ascii_uppercase().as_str(), "A" | "AAAA" | "CNAME"))
}

/// Anything else: say which request was not understood.
pub async fn unknown(method: Method, uri: Uri) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("the dkimdash Cloudflare simulator does not implement {method} {uri}"),
    )
}

async fn add_zone(State(sim): State<CloudflareSim>, Json(zone): Json<Zone>) -> Json<Zone> {
    sim.store().add_zone(zone.clone());
    Json(zone)
}

#[derive(Deserialize)]
struct NewToken {
    token: String,
    scopes: TokenScopes,
}

async fn add_token(State(sim): State<CloudflareSim>, Json(new): Json<NewToken>) -> StatusCode {
    sim.add_token(&new.token, new.scopes);
    StatusCode::NO_CONTENT
}

async fn set_faults(State(sim): State<CloudflareSim>, Json(faults): Json<Faults>) -> Json<Faults> {
    sim.set_faults(faults.clone());
    Json(faults)
}

async fn stats(State(sim): State<CloudflareSim>) -> Json<Stats> {
    Json(sim.stats())
}

async fn all_records(State(sim): State<CloudflareSim>) -> Json<Vec<Record>> {
    let store = sim.store();
    let zones: Vec<String> = store
        .zones(None, None)
        .iter()
        .map(|z| z.id.clone())
        .collect();
    Json(
        zones
            .iter()
            .flat_map(|z| store.records(z, None, None))
            .cloned()
            .collect(),
    )
}
