//! Route 53's operations over HTTP: paths, query parameters, status codes and error bodies
//! as the API reference gives them.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Route53Sim, now, now_ms,
    store::{ChangeInfo, MAX_RECORD_SETS_PER_PAGE, MAX_ZONES_PER_PAGE, Refused, Zone},
    xml,
};

/// The API's routes. The SDK posts record changes without the documented final slash;
/// both are served.
pub fn routes() -> Router<Route53Sim> {
    Router::new()
        .route("/2013-04-01/hostedzone", post(create_hosted_zone))
        .route("/2013-04-01/hostedzone/{id}", get(get_hosted_zone))
        .route(
            "/2013-04-01/hostedzone/{id}/rrset",
            get(list_resource_record_sets).post(change_resource_record_sets),
        )
        .route(
            "/2013-04-01/hostedzone/{id}/rrset/",
            get(list_resource_record_sets).post(change_resource_record_sets),
        )
        .route(
            "/2013-04-01/hostedzonesbyname",
            get(list_hosted_zones_by_name),
        )
        .route("/2013-04-01/change/{id}", get(get_change))
}

/// An error answer: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
#[derive(Debug)]
pub struct Route53Error {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Route53Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn throttling() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
    }

    pub(super) fn prior_request_not_complete() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PriorRequestNotComplete",
            "The request was rejected because Route 53 was still processing a prior request.",
        )
    }

    pub(super) fn access_denied(action: &str, zone: Option<&str>) -> Self {
        let resource = zone.map_or("*".to_owned(), |id| {
            format!(
                "arn:aws:route53:::hostedzone/{}",
                id.trim_start_matches("/hostedzone/")
            )
        });
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: arn:aws:sts::123456789012:assumed-role/dkimdash/session is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
            ),
        )
    }

    fn missing_authentication() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Missing Authentication Token",
        )
    }

    fn malformed(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidInput", message)
    }
}

impl From<Refused> for Route53Error {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::NoSuchHostedZone(m) => Self::new(StatusCode::NOT_FOUND, "NoSuchHostedZone", m),
            Refused::NoSuchChange(m) => Self::new(StatusCode::NOT_FOUND, "NoSuchChange", m),
            Refused::InvalidChangeBatch(messages) => Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidChangeBatch",
                format!("[{}]", messages.join(", ")),
            ),
            Refused::InvalidInput(m) => Self::new(StatusCode::BAD_REQUEST, "InvalidInput", m),
            Refused::InvalidDomainName(name) => Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidDomainName",
                format!("{name} is not a valid domain name"),
            ),
            Refused::HostedZoneAlreadyExists(m) => {
                Self::new(StatusCode::CONFLICT, "HostedZoneAlreadyExists", m)
            }
        }
    }
}

impl IntoResponse for Route53Error {
    fn into_response(self) -> Response {
        let body = xml::document(
            "ErrorResponse",
            &format!(
                "<Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId>",
                self.code,
                xml::escape(&self.message),
                request_id()
            ),
        );
        (self.status, [("content-type", "text/xml")], body).into_response()
    }
}

type Answer = Result<Response, Route53Error>;

fn ok(status: StatusCode, root: &str, inner: &str) -> Answer {
    Ok((
        status,
        [("content-type", "text/xml")],
        xml::document(root, inner),
    )
        .into_response())
}

/// Every request must carry a SigV4 Authorization header; any credentials do.
fn signed(headers: &HeaderMap) -> Result<(), Route53Error> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("AWS4-HMAC-SHA256 "))
        .map(|_| ())
        .ok_or_else(Route53Error::missing_authentication)
}

async fn create_hosted_zone(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    body: String,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:CreateHostedZone", None)?;
    let new = xml::new_zone(&body).map_err(Route53Error::malformed)?;
    let id = fresh_id('Z');
    let name_servers = name_servers_for(&id);
    let zone = sim.store().create_zone(Zone {
        id: id.clone(),
        name: new.name,
        caller_reference: new.caller_reference,
        comment: new.comment,
        private: new.private,
        name_servers,
        record_sets: Default::default(),
    })?;
    let change = ChangeInfo {
        id: fresh_id('C'),
        submitted_at: now(),
        submitted_at_ms: now_ms(),
        comment: None,
    };
    let inner = format!(
        "{}{}{}",
        xml::hosted_zone(&zone),
        xml::change_info(&change, false),
        xml::delegation_set(&zone)
    );
    let mut answer = ok(StatusCode::CREATED, "CreateHostedZoneResponse", &inner)?;
    if let Ok(location) = format!("/2013-04-01/hostedzone/{id}").parse() {
        answer.headers_mut().insert("location", location);
    }
    Ok(answer)
}

async fn get_hosted_zone(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:GetHostedZone", Some(&id))?;
    let store = sim.store();
    let zone = store.zone(&id)?;
    let inner = format!("{}{}", xml::hosted_zone(zone), xml::delegation_set(zone));
    ok(StatusCode::OK, "GetHostedZoneResponse", &inner)
}

#[derive(Deserialize)]
struct ByNameQuery {
    dnsname: Option<String>,
    hostedzoneid: Option<String>,
    maxitems: Option<String>,
}

async fn list_hosted_zones_by_name(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    Query(query): Query<ByNameQuery>,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:ListHostedZonesByName", None)?;
    let max_items = max_items(query.maxitems.as_deref(), MAX_ZONES_PER_PAGE)?;
    let store = sim.store();
    let (page, next) = store.zones_by_name(
        query.dnsname.as_deref(),
        query.hostedzoneid.as_deref(),
        max_items,
    )?;
    let mut inner = String::from("<HostedZones>");
    for zone in page {
        inner.push_str(&xml::hosted_zone(zone));
    }
    inner.push_str("</HostedZones>");
    if let Some(name) = &query.dnsname {
        inner.push_str(&format!("<DNSName>{}</DNSName>", xml::escape(name)));
    }
    if let Some(id) = &query.hostedzoneid {
        inner.push_str(&format!("<HostedZoneId>{}</HostedZoneId>", xml::escape(id)));
    }
    inner.push_str(&format!("<IsTruncated>{}</IsTruncated>", next.is_some()));
    if let Some(next) = next {
        inner.push_str(&format!(
            "<NextDNSName>{}</NextDNSName><NextHostedZoneId>{}</NextHostedZoneId>",
            xml::escape(&next.name),
            next.id
        ));
    }
    inner.push_str(&format!("<MaxItems>{max_items}</MaxItems>"));
    ok(StatusCode::OK, "ListHostedZonesByNameResponse", &inner)
}

#[derive(Deserialize)]
struct RecordsQuery {
    name: Option<String>,
    #[serde(rename = "type")]
    record_type: Option<String>,
    maxitems: Option<String>,
}

async fn list_resource_record_sets(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<RecordsQuery>,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:ListResourceRecordSets", Some(&id))?;
    let max_items = max_items(query.maxitems.as_deref(), MAX_RECORD_SETS_PER_PAGE)?;
    let store = sim.store();
    let (page, next) = store.record_sets(
        &id,
        query.name.as_deref(),
        query.record_type.as_deref(),
        max_items,
    )?;
    let mut inner = String::from("<ResourceRecordSets>");
    for set in page {
        inner.push_str(&xml::record_set(set));
    }
    inner.push_str("</ResourceRecordSets>");
    inner.push_str(&format!("<IsTruncated>{}</IsTruncated>", next.is_some()));
    if let Some(next) = next {
        inner.push_str(&format!(
            "<NextRecordName>{}</NextRecordName><NextRecordType>{}</NextRecordType>",
            xml::escape(&next.name),
            next.record_type
        ));
    }
    inner.push_str(&format!("<MaxItems>{max_items}</MaxItems>"));
    ok(StatusCode::OK, "ListResourceRecordSetsResponse", &inner)
}

async fn change_resource_record_sets(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:ChangeResourceRecordSets", Some(&id))?;
    let batch = xml::batch(&body).map_err(Route53Error::malformed)?;
    if batch
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 256)
    {
        return Err(Route53Error::malformed(
            "Comment must be at most 256 characters".into(),
        ));
    }
    let info = ChangeInfo {
        id: fresh_id('C'),
        submitted_at: now(),
        submitted_at_ms: now_ms(),
        comment: batch.comment,
    };
    let info = sim.store().change(&id, &batch.changes, info)?;
    sim.wrote();
    ok(
        StatusCode::OK,
        "ChangeResourceRecordSetsResponse",
        &xml::change_info(&info, false),
    )
}

async fn get_change(
    State(sim): State<Route53Sim>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    signed(&headers)?;
    sim.admit("route53:GetChange", None)?;
    let info = sim.store().change_info(&id)?.clone();
    let in_sync = sim.in_sync(info.submitted_at_ms);
    ok(
        StatusCode::OK,
        "GetChangeResponse",
        &xml::change_info(&info, in_sync),
    )
}

/// Anything else: say which request was not understood, instead of an empty 404.
pub async fn unknown_operation(method: Method, uri: Uri) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("the dkimdash Route 53 simulator does not implement {method} {uri}"),
    )
}

fn max_items(given: Option<&str>, most: usize) -> Result<usize, Route53Error> {
    match given {
        None => Ok(most),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n.min(most)),
            _ => Err(Route53Error::malformed(format!(
                "maxitems must be a positive number, not {text}"
            ))),
        },
    }
}

/// `Z`/`C` and 13 more characters, as Route 53's ids look.
fn fresh_id(kind: char) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{kind}{:013X}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 12)
}

/// Four servers in four top-level domains, as a Route 53 delegation set has.
fn name_servers_for(id: &str) -> Vec<String> {
    let n = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 2048;
    ["com", "net", "org", "co.uk"]
        .iter()
        .enumerate()
        .map(|(i, tld)| format!("ns-{}.awsdns-{:02}.{tld}", n + i as u32, n % 64))
        .collect()
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "00000000-0000-4000-9000-{:012x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
