//! SES errors, mapped once from either SDK into what an operator can act on.

use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Why an SES call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The identity does not exist (deleted meanwhile, or a typo).
    #[error("SES has no such identity: {0}")]
    NotFound(String),
    /// SES refused the input; its own words follow.
    #[error("SES refused the request: {0}")]
    BadRequest(String),
    /// SES's call quota was exceeded, even after retrying.
    #[error("SES is busy (too many requests); try again in a minute")]
    TooManyRequests,
    /// The identity exists already.
    #[error("SES already has this identity: {0}")]
    AlreadyExists(String),
    /// Credentials are missing, invalid or lack the IAM permission named in the message.
    #[error("SES denied access: {0}")]
    AccessDenied(String),
    /// SES could not be reached or answered with a server error / timeout.
    #[error("SES is unreachable or failing: {0}")]
    Unavailable(String),
    /// Anything else SES said.
    #[error("SES error: {0}")]
    Other(String),
}

impl Error {
    /// Worth trying again after a pause: throttling and transient failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::TooManyRequests | Self::Unavailable(_))
    }

    /// Maps an error from either SES SDK.
    pub fn from_sdk<E>(error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = error
            .raw_response()
            .map(|response| response.status().as_u16());
        let code = error.code().map(str::to_owned);
        let message = error.message().map(str::to_owned);
        match &error {
            SdkError::ServiceError(_) => Self::from_service(code.as_deref(), message, status),
            SdkError::TimeoutError(_) => Self::Unavailable("the call timed out".into()),
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                Self::Unavailable(DisplayErrorContext(&error).to_string())
            }
            SdkError::ResponseError(_) => {
                Self::Unavailable(DisplayErrorContext(&error).to_string())
            }
            // Credentials the chain could not find surface as dispatch/construction failures.
            _ => Self::AccessDenied(DisplayErrorContext(&error).to_string()),
        }
    }

    /// Maps an error code (v2 `…Exception` names and v1 Query codes) and message.
    pub fn from_service(code: Option<&str>, message: Option<String>, status: Option<u16>) -> Self {
        let text = message.unwrap_or_else(|| code.unwrap_or("no message").to_owned());
        match code.unwrap_or_default() {
            "NotFoundException" => Self::NotFound(text),
            "BadRequestException" | "InvalidParameterValue" | "ValidationException" => {
                Self::BadRequest(text)
            }
            "TooManyRequestsException"
            | "Throttling"
            | "ThrottlingException"
            | "LimitExceededException" => Self::TooManyRequests,
            "AlreadyExistsException" | "AlreadyExists" => Self::AlreadyExists(text),
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "MissingAuthenticationToken"
            | "MissingAuthenticationTokenException" => Self::AccessDenied(text),
            _ if status.is_some_and(|s| s >= 500) => Self::Unavailable(text),
            _ if status == Some(429) => Self::TooManyRequests,
            other => Self::Other(format!("{other}: {text}")),
        }
    }
}

impl<E> From<SdkError<E, HttpResponse>> for Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(error: SdkError<E, HttpResponse>) -> Self {
        Self::from_sdk(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_both_apis_map_to_one_error() {
        let map = |code: &str| Error::from_service(Some(code), Some("text".into()), Some(400));
        assert_eq!(map("NotFoundException"), Error::NotFound("text".into()));
        assert_eq!(map("BadRequestException"), Error::BadRequest("text".into()));
        assert_eq!(
            map("InvalidParameterValue"),
            Error::BadRequest("text".into())
        );
        assert_eq!(map("Throttling"), Error::TooManyRequests);
        assert_eq!(map("TooManyRequestsException"), Error::TooManyRequests);
        assert_eq!(
            map("AlreadyExistsException"),
            Error::AlreadyExists("text".into())
        );
        assert_eq!(
            map("AccessDeniedException"),
            Error::AccessDenied("text".into())
        );
        assert_eq!(map("Weird"), Error::Other("Weird: text".into()));
        assert_eq!(
            Error::from_service(Some("InternalFailure"), None, Some(500)),
            Error::Unavailable("InternalFailure".into())
        );
        assert!(Error::TooManyRequests.is_retryable());
        assert!(!Error::BadRequest(String::new()).is_retryable());
    }
}
