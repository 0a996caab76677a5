//! (shared) The one error type at the browser boundary. Every server function fails with an
//! `AppError`: its variant says what kind of failure it is and so which HTTP status the
//! answer gets ([`AppError::status`]); its `Display` is the operator's message, written
//! here and nowhere else. The page shows that message whether or not JavaScript is on.

use http::StatusCode;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::user::NOT_SIGNED_IN;

/// Why a request was not answered as asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request could not be read: its body, a field, or a field's type (400).
    #[error("The request could not be read: {0}")]
    BadRequest(String),
    /// Nobody is signed in (401).
    #[error("{NOT_SIGNED_IN}")]
    NotSignedIn,
    /// Signed in, but not allowed to do this; the words say why (403).
    #[error("{0}")]
    NotAllowed(String),
    /// What the request names does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is ambiguous, or clashes with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// Understood, but cannot be done as asked: which field is wrong, when one is (422).
    #[error("{message}")]
    Invalid {
        /// The form field to correct, if the fault is in one.
        field: Option<Field>,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// Too many requests from this user in a short time (429, with `Retry-After`).
    #[error(
        "Too many changes in a short time: wait {retry_after_secs} s and try again. Nothing was changed."
    )]
    RateLimited {
        /// When the next request can go through.
        retry_after_secs: u64,
    },
    /// dkimdash itself failed; the server log has the details (500).
    #[error("{0}")]
    Internal(String),
    /// SES answered, but not with the change: access denied, or an error of its own (502).
    #[error("{0}")]
    BadGateway(String),
    /// Something dkimdash depends on (SES, the audit log) is busy or down (503).
    #[error("{0}")]
    Unavailable(String),
    /// In the browser: the request never reached the server, or its answer was unreadable.
    /// The server never sends it.
    #[error("The request did not reach the server: {0}")]
    Unreachable(String),
}

/// The form field a refusal is about, so a page (or a script) can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    /// The domain to add.
    Domain,
    /// Easy DKIM or BYODKIM (or a DEED replica).
    Mode,
    /// The BYODKIM selector.
    Selector,
    /// The pasted BYODKIM private key.
    PrivateKey,
    /// The Easy DKIM key length.
    KeyLength,
    /// The tags of a new domain.
    Tags,
    /// Signing on or off.
    Enabled,
    /// The confirmation that mail may go out unsigned.
    Confirm,
    /// The DEED replica's parent region.
    ParentRegion,
    /// The account and region a change is for.
    Target,
    /// The identity itself (it cannot be changed this way).
    Identity,
}

impl AppError {
    /// The HTTP status this failure is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotSignedIn => StatusCode::UNAUTHORIZED,
            Self::NotAllowed(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) | Self::Unreachable(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The error a failed answer (`status`, `body`) carries: the server's own `AppError`
    /// when the body is one, else what the status says (a proxy or the server's limits
    /// answered before any server function did).
    pub fn from_answer(status: u16, body: &str) -> Self {
        if let Ok(error) = serde_json::from_str(body) {
            return error;
        }
        // A proxy's error page can be kilobytes of HTML: its first line of text at most.
        let text = body.trim().lines().next().unwrap_or("");
        let said = || match text {
            "" => format!("HTTP {status}"),
            text if text.starts_with('<') => format!("HTTP {status}"),
            text => format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ),
        };
        match status {
            401 => Self::NotSignedIn,
            403 => Self::NotAllowed(said()),
            404 => Self::NotFound(said()),
            429 => Self::RateLimited {
                retry_after_secs: 60,
            },
            400..=499 => Self::BadRequest(said()),
            503 | 504 => Self::Unavailable(said()),
            502 => Self::BadGateway(said()),
            _ => Self::Internal(said()),
        }
    }

    /// A refusal of input, with the field to correct.
    pub fn invalid(field: Field, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field),
            message: message.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// The framework's own failures. On the server these come from reading the request
    /// (the caller's mistake); in the browser, from sending it or reading the answer.
    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Args(text)
            | ServerFnErrorErr::MissingArg(text)
            | ServerFnErrorErr::Deserialization(text)
                if cfg!(feature = "ssr") =>
            {
                Self::BadRequest(text)
            }
            ServerFnErrorErr::UnsupportedRequestMethod(text) => Self::BadRequest(text),
            ServerFnErrorErr::Request(text)
            | ServerFnErrorErr::Response(text)
            | ServerFnErrorErr::Args(text)
            | ServerFnErrorErr::MissingArg(text)
            | ServerFnErrorErr::Deserialization(text) => Self::Unreachable(text),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_own_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::NotSignedIn, 401),
            (AppError::NotAllowed("x".into()), 403),
            (AppError::NotFound("x".into()), 404),
            (AppError::Conflict("x".into()), 409),
            (AppError::invalid(Field::Selector, "x"), 422),
            (
                AppError::RateLimited {
                    retry_after_secs: 3,
                },
                429,
            ),
            (AppError::Internal("x".into()), 500),
            (AppError::BadGateway("x".into()), 502),
            (AppError::Unavailable("x".into()), 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn the_wire_form_round_trips_and_names_the_field() {
        let error = AppError::invalid(Field::Selector, "Selector: 'a_b' is not valid");
        let bytes = error.ser();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"Invalid":{"field":"Selector","message":"Selector: 'a_b' is not valid"}}"#
        );
        assert_eq!(AppError::de(bytes), error);
        // Bytes that are not an AppError are reported as unreadable, not lost: on the server
        // they can only be a request's (the caller's mistake), in the browser an answer's.
        let unreadable = AppError::de("<html>".into());
        if cfg!(feature = "ssr") {
            assert!(
                matches!(unreadable, AppError::BadRequest(_)),
                "{unreadable:?}"
            );
        } else {
            assert!(
                matches!(unreadable, AppError::Unreachable(_)),
                "{unreadable:?}"
            );
        }
    }

    #[test]
    fn an_answer_is_read_as_the_servers_error_or_by_its_status() {
        let refusal = AppError::invalid(Field::Selector, "bad");
        let body = String::from_utf8(refusal.ser().to_vec()).unwrap();
        assert_eq!(AppError::from_answer(422, &body), refusal);
        let cases = [
            (401, AppError::NotSignedIn),
            (403, AppError::NotAllowed("HTTP 403: cross-origin".into())),
            (413, AppError::BadRequest("HTTP 413: cross-origin".into())),
            (
                429,
                AppError::RateLimited {
                    retry_after_secs: 60,
                },
            ),
            (502, AppError::BadGateway("HTTP 502: cross-origin".into())),
            (503, AppError::Unavailable("HTTP 503: cross-origin".into())),
            (500, AppError::Internal("HTTP 500: cross-origin".into())),
        ];
        assert_eq!(
            AppError::from_answer(503, ""),
            AppError::Unavailable("HTTP 503".into())
        );
        assert_eq!(
            AppError::from_answer(502, "<html><body>Bad gateway</body></html>"),
            AppError::BadGateway("HTTP 502".into())
        );
        let long = "x".repeat(5000);
        assert_eq!(
            AppError::from_answer(500, &long),
            AppError::Internal(format!("HTTP 500: {}", "x".repeat(200)))
        );
        for (status, expected) in cases {
            assert_eq!(
                AppError::from_answer(status, " cross-origin\n"),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn messages_are_the_operators_words() {
        assert_eq!(AppError::NotSignedIn.to_string(), NOT_SIGNED_IN);
        assert_eq!(
            AppError::RateLimited {
                retry_after_secs: 7
            }
            .to_string(),
            "Too many changes in a short time: wait 7 s and try again. Nothing was changed."
        );
    }
}
