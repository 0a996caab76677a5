//! SES API v2 over REST/JSON (`restJson1`), as `aws-sdk-sesv2` sends and parses it.

use std::collections::HashMap;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Simulator;
use super::error::{ErrorKind, SimError};
use super::store::{IdentityView, ListFilter, MAX_PAGE_SIZE, SigningInput};
use crate::model::{DkimState, DkimStatus, IdentityType};

/// ListEmailIdentities' page size when the caller gives none.
const DEFAULT_PAGE_SIZE: usize = 100;

/// The v2 routes SES serves for identities.
pub fn routes() -> Router<Simulator> {
    Router::new()
        .route("/v2/email/identities", post(create).get(list_by_query))
        .route("/v2/email/list-identities", post(list_by_body))
        .route("/v2/email/identities/{identity}", get(read).delete(delete))
        .route("/v2/email/identities/{identity}/dkim", put(put_dkim))
        .route(
            "/v2/email/identities/{identity}/dkim/signing",
            put(put_signing),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    email_identity: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    dkim_signing_attributes: Option<SigningBody>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

/// Wire form of `DkimSigningAttributes`; deliberately no `Debug` (it carries the private key).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SigningBody {
    domain_signing_selector: Option<String>,
    domain_signing_private_key: Option<String>,
    next_signing_key_length: Option<String>,
    domain_signing_attributes_origin: Option<String>,
}

impl From<SigningBody> for SigningInput {
    fn from(body: SigningBody) -> Self {
        Self {
            selector: body.domain_signing_selector,
            private_key: body.domain_signing_private_key,
            next_key_length: body.next_signing_key_length,
            domain_origin: body.domain_signing_attributes_origin,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutSigningBody {
    signing_attributes_origin: Option<String>,
    signing_attributes: Option<SigningBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutDkimBody {
    #[serde(default)]
    signing_enabled: bool,
}

async fn create(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    respond(async {
        let region = sim.admit(&headers, "CreateEmailIdentity").await?;
        let body: CreateBody = parse_json(&body)?;
        let name = body
            .email_identity
            .ok_or_else(|| SimError::bad_request("EmailIdentity: is required"))?;
        let tags = body
            .tags
            .into_iter()
            .map(|tag| (tag.key, tag.value))
            .collect();
        let view = sim.with_regions(|regions, now| {
            regions.create(
                &region,
                &name,
                body.dkim_signing_attributes.map(Into::into),
                tags,
                now,
            )
        })?;
        Ok(json!({
            "IdentityType": view.identity_type.as_ses(),
            "VerifiedForSendingStatus": view.verification.verified_for_sending,
            "DkimAttributes": dkim_json(&view.dkim),
        }))
    })
    .await
}

async fn read(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    respond(async {
        let region = sim.admit(&headers, "GetEmailIdentity").await?;
        let view = sim.with_regions(|regions, now| regions.get(&region, &name, now))?;
        Ok(identity_json(&view))
    })
    .await
}

async fn delete(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    respond(async {
        let region = sim.admit(&headers, "DeleteEmailIdentity").await?;
        sim.with_regions(|regions, _| regions.delete(&region, &name))?;
        Ok(json!({}))
    })
    .await
}

/// Older clients: `GET /v2/email/identities?PageSize=&NextToken=`.
async fn list_by_query(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(async {
        let page_size = match query.get("PageSize") {
            None => None,
            Some(raw) => Some(raw.parse::<i64>().map_err(|_| page_size_error(raw))?),
        };
        list(
            &sim,
            &headers,
            ListFilter::default(),
            page_size,
            query.get("NextToken").cloned(),
        )
        .await
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBody {
    #[serde(default)]
    filter: HashMap<String, String>,
    next_token: Option<String>,
    page_size: Option<i64>,
}

/// Current clients: `POST /v2/email/list-identities` with a JSON body and optional filters.
async fn list_by_body(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    respond(async {
        let body: ListBody = parse_json(&body)?;
        let mut filter = ListFilter::default();
        for (key, value) in body.filter {
            match key.as_str() {
                "IDENTITY_NAME_CONTAINS" => filter.name_contains = Some(value),
                "IDENTITY_TYPE" => filter.identity_type = Some(IdentityType::from_ses(&value)),
                "VERIFICATION_STATUS" => {
                    filter.verification_status = Some(DkimStatus::from_ses(&value))
                }
                other => {
                    return Err(SimError::bad_request(format!(
                        "Filter: '{other}' is not a valid filter key"
                    )));
                }
            }
        }
        list(&sim, &headers, filter, body.page_size, body.next_token).await
    })
    .await
}

fn page_size_error(raw: impl std::fmt::Display) -> SimError {
    SimError::bad_request(format!(
        "PageSize: must be 0 to {MAX_PAGE_SIZE}, got '{raw}'"
    ))
}

/// ListEmailIdentities, whichever way it was asked.
async fn list(
    sim: &Simulator,
    headers: &HeaderMap,
    filter: ListFilter,
    page_size: Option<i64>,
    next_token: Option<String>,
) -> Result<Value, SimError> {
    let region = sim.admit(headers, "ListEmailIdentities").await?;
    let page_size = match page_size {
        None => DEFAULT_PAGE_SIZE,
        Some(size) => usize::try_from(size)
            .ok()
            .filter(|size| *size <= MAX_PAGE_SIZE)
            .ok_or_else(|| page_size_error(size))?,
    };
    let page = sim.with_regions(|regions, now| {
        regions.list(&region, &filter, page_size, next_token.as_deref(), now)
    })?;
    let identities: Vec<Value> = page
        .identities
        .iter()
        .map(|view| {
            json!({
                "IdentityType": view.identity_type.as_ses(),
                "IdentityName": view.name,
                "SendingEnabled": view.verification.verified_for_sending,
                "VerificationStatus": view.verification.status.as_ref().map(|s| s.as_ses()),
            })
        })
        .collect();
    let mut body = json!({ "EmailIdentities": identities });
    if let Some(token) = page.next_token {
        body["NextToken"] = json!(token);
    }
    Ok(body)
}

async fn put_signing(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond(async {
        let region = sim
            .admit(&headers, "PutEmailIdentityDkimSigningAttributes")
            .await?;
        let body: PutSigningBody = parse_json(&body)?;
        let origin = body
            .signing_attributes_origin
            .ok_or_else(|| SimError::bad_request("SigningAttributesOrigin: is required"))?;
        let input = body
            .signing_attributes
            .map(SigningInput::from)
            .unwrap_or_default();
        let view = sim.with_regions(|regions, now| {
            regions.put_signing_attributes(&region, &name, &origin, input, now)
        })?;
        let mut out = json!({
            "DkimStatus": view.dkim.status.as_ses(),
            "DkimTokens": view.dkim.tokens,
        });
        if let Some(zone) = &view.dkim.signing_hosted_zone {
            out["SigningHostedZone"] = json!(zone);
        }
        Ok(out)
    })
    .await
}

async fn put_dkim(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    respond(async {
        let region = sim
            .admit(&headers, "PutEmailIdentityDkimAttributes")
            .await?;
        let body: PutDkimBody = parse_json(&body)?;
        sim.with_regions(|regions, now| {
            regions.set_signing_enabled(&region, &name, body.signing_enabled, now)
        })?;
        Ok(json!({}))
    })
    .await
}

/// An empty body counts as `{}`, as the SDK sends for operations with no body members.
fn parse_json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, SimError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body)
        .map_err(|error| SimError::bad_request(format!("request body: {error}")))
}

fn dkim_json(dkim: &DkimState) -> Value {
    let mut out = json!({
        "SigningEnabled": dkim.signing_enabled,
        "Status": dkim.status.as_ses(),
        "Tokens": dkim.tokens,
    });
    let optional = [
        ("SigningHostedZone", dkim.signing_hosted_zone.clone()),
        (
            "SigningAttributesOrigin",
            dkim.origin.as_ref().map(|o| o.to_ses()),
        ),
        (
            "NextSigningKeyLength",
            dkim.next_key_length.as_ref().map(|k| k.as_ses().to_owned()),
        ),
        (
            "CurrentSigningKeyLength",
            dkim.current_key_length
                .as_ref()
                .map(|k| k.as_ses().to_owned()),
        ),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out[key] = json!(value);
        }
    }
    if let Some(at) = dkim.last_key_generation {
        out["LastKeyGenerationTimestamp"] = json!(at);
    }
    out
}

fn identity_json(view: &IdentityView) -> Value {
    let verification = &view.verification;
    let mut info = json!({});
    if let Some(at) = verification.last_checked {
        info["LastCheckedTimestamp"] = json!(at);
    }
    if let Some(at) = verification.last_success {
        info["LastSuccessTimestamp"] = json!(at);
    }
    if let Some(error) = &verification.error_type {
        info["ErrorType"] = json!(error);
    }
    let tags: Vec<Value> = view
        .tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    json!({
        "IdentityType": view.identity_type.as_ses(),
        "FeedbackForwardingStatus": true,
        "VerifiedForSendingStatus": verification.verified_for_sending,
        "DkimAttributes": dkim_json(&view.dkim),
        "Policies": {},
        "Tags": tags,
        "VerificationStatus": verification.status.as_ref().map(|s| s.as_ses()),
        "VerificationInfo": info,
    })
}

/// Runs a handler body and renders its result or SES error as restJson1.
async fn respond(handler: impl Future<Output = Result<Value, SimError>>) -> Response {
    match handler.await {
        Ok(body) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response(),
        Err(error) => error_response(&error),
    }
}

/// restJson1 errors: the type in `x-amzn-ErrorType`, the text in `message`.
fn error_response(error: &SimError) -> Response {
    let (status, code) = match error.kind {
        ErrorKind::BadRequest => (StatusCode::BAD_REQUEST, "BadRequestException"),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "NotFoundException"),
        ErrorKind::AlreadyExists => (StatusCode::BAD_REQUEST, "AlreadyExistsException"),
        ErrorKind::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
        ErrorKind::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServiceErrorException",
        ),
        ErrorKind::MissingAuthentication => {
            (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException")
        }
    };
    let mut response = (
        status,
        [("content-type", "application/json")],
        json!({ "message": error.message }).to_string(),
    )
        .into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(code));
    response
}
