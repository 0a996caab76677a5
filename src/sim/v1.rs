//! SES API v1 over the AWS Query protocol: form-encoded POSTs to `/`, XML answers,
//! as `aws-sdk-ses` sends and parses them.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::Simulator;
use super::error::{ErrorKind, SimError};
use super::store::{ListFilter, MAX_PAGE_SIZE};
use super::xml_text::escape;
use crate::model::IdentityType;

const XMLNS: &str = "http://ses.amazonaws.com/doc/2010-12-01/";

/// The form parameters of one Query request, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, key: &str) -> Result<&str, SimError> {
        self.get(key)
            .ok_or_else(|| SimError::bad_request(format!("{key}: is required")))
    }

    /// A Query list: `Key.member.1`, `Key.member.2`, … in index order.
    fn list(&self, key: &str) -> Vec<String> {
        let prefix = format!("{key}.member.");
        let mut members: Vec<(usize, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(&prefix)?
                    .parse()
                    .ok()
                    .map(|i| (i, v.clone()))
            })
            .collect();
        members.sort_by_key(|(index, _)| *index);
        members.into_iter().map(|(_, value)| value).collect()
    }
}

/// `POST /`: dispatches on `Action`.
pub async fn handle(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
        Ok(params) => Params(params),
        Err(_) => {
            return error_response(&SimError::bad_request(
                "request body: not a form-encoded Query request",
            ));
        }
    };
    let Some(action) = params.get("Action").map(str::to_owned) else {
        return error_response(&SimError::bad_request("Action: is required"));
    };
    let result = match action.as_str() {
        "ListIdentities" => list_identities(&sim, &headers, &params).await,
        "GetIdentityDkimAttributes" => dkim_attributes(&sim, &headers, &params).await,
        "VerifyDomainDkim" => verify_domain_dkim(&sim, &headers, &params).await,
        "VerifyDomainIdentity" => verify_domain_identity(&sim, &headers, &params).await,
        other => Err(SimError {
            kind: ErrorKind::BadRequest,
            message: format!("Action: {other} is not supported by the dkimdash SES simulator"),
        }),
    };
    match result {
        Ok(inner) => ok_response(&action, &inner),
        Err(error) => error_response(&error),
    }
}

async fn list_identities(
    sim: &Simulator,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, SimError> {
    let region = sim.admit(headers, "ListIdentities").await?;
    let identity_type = match params.get("IdentityType") {
        None => None,
        Some("Domain") => Some(IdentityType::Domain),
        Some("EmailAddress") => Some(IdentityType::EmailAddress),
        Some(other) => {
            return Err(SimError::bad_request(format!(
                "IdentityType: '{other}' is invalid; use Domain or EmailAddress"
            )));
        }
    };
    let max_items = match params.get("MaxItems") {
        None => MAX_PAGE_SIZE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                SimError::bad_request(format!(
                    "MaxItems: must be 1 to {MAX_PAGE_SIZE}, got '{raw}'"
                ))
            })?,
    };
    let filter = ListFilter {
        identity_type,
        ..ListFilter::default()
    };
    let next_token = params.get("NextToken");
    let page = sim
        .with_regions(|regions, now| regions.list(&region, &filter, max_items, next_token, now))?;
    let mut out = String::from("<Identities>");
    for identity in &page.identities {
        out.push_str(&element("member", &identity.name));
    }
    out.push_str("</Identities>");
    if let Some(token) = page.next_token {
        out.push_str(&element("NextToken", &token));
    }
    Ok(out)
}

async fn dkim_attributes(
    sim: &Simulator,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, SimError> {
    let region = sim.admit(headers, "GetIdentityDkimAttributes").await?;
    let names = params.list("Identities");
    let attributes =
        sim.with_regions(|regions, now| regions.dkim_attributes(&region, &names, now))?;
    let mut out = String::from("<DkimAttributes>");
    for (name, dkim) in attributes {
        out.push_str("<entry>");
        out.push_str(&element("key", &name));
        out.push_str("<value>");
        out.push_str(&element(
            "DkimEnabled",
            if dkim.signing_enabled {
                "true"
            } else {
                "false"
            },
        ));
        out.push_str(&element("DkimVerificationStatus", dkim.status.as_ses_v1()));
        out.push_str(&members("DkimTokens", &dkim.tokens));
        out.push_str("</value></entry>");
    }
    out.push_str("</DkimAttributes>");
    Ok(out)
}

async fn verify_domain_dkim(
    sim: &Simulator,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, SimError> {
    let region = sim.admit(headers, "VerifyDomainDkim").await?;
    let domain = params.required("Domain")?.to_owned();
    let tokens =
        sim.with_regions(|regions, now| regions.verify_domain_dkim(&region, &domain, now))?;
    Ok(members("DkimTokens", &tokens))
}

async fn verify_domain_identity(
    sim: &Simulator,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, SimError> {
    let region = sim.admit(headers, "VerifyDomainIdentity").await?;
    let domain = params.required("Domain")?.to_owned();
    let token =
        sim.with_regions(|regions, now| regions.verify_domain_identity(&region, &domain, now))?;
    Ok(element("VerificationToken", &token))
}

fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

fn members(name: &str, values: &[String]) -> String {
    let inner: String = values
        .iter()
        .map(|value| element("member", value))
        .collect();
    format!("<{name}>{inner}</{name}>")
}

fn ok_response(action: &str, result: &str) -> Response {
    let request_id = super::request_id();
    let body = format!(
        "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    (StatusCode::OK, [("content-type", "text/xml")], body).into_response()
}

/// Query-protocol errors: `ErrorResponse/Error/{Type,Code,Message}`.
fn error_response(error: &SimError) -> Response {
    let (status, fault, code) = match error.kind {
        ErrorKind::BadRequest => (StatusCode::BAD_REQUEST, "Sender", "InvalidParameterValue"),
        ErrorKind::NotFound => (StatusCode::BAD_REQUEST, "Sender", "InvalidParameterValue"),
        ErrorKind::AlreadyExists => (StatusCode::BAD_REQUEST, "Sender", "AlreadyExists"),
        ErrorKind::TooManyRequests => (StatusCode::BAD_REQUEST, "Sender", "Throttling"),
        ErrorKind::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Receiver",
            "InternalFailure",
        ),
        ErrorKind::MissingAuthentication => (
            StatusCode::FORBIDDEN,
            "Sender",
            "MissingAuthenticationToken",
        ),
    };
    let request_id = super::request_id();
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{fault}</Type><Code>{code}</Code>\
         <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(&error.message)
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_come_back_in_index_order() {
        let params = Params(vec![
            ("Identities.member.2".into(), "b.example".into()),
            ("Action".into(), "GetIdentityDkimAttributes".into()),
            ("Identities.member.10".into(), "j.example".into()),
            ("Identities.member.1".into(), "a.example".into()),
        ]);
        assert_eq!(
            params.list("Identities"),
            ["a.example", "b.example", "j.example"]
        );
        assert!(params.list("Other").is_empty());
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            element("m", "a<b & 'c'"),
            "<m>a&lt;b &amp; &apos;c&apos;</m>"
        );
    }
}
