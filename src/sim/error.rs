//! The errors SES answers with, independent of the wire protocol that carries them.

/// An SES error: its kind picks the code and status, its message is SES-style prose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError {
    /// Which SES error this is.
    pub kind: ErrorKind,
    /// What went wrong, naming the field where there is one.
    pub message: String,
}

/// The SES errors the simulator produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Invalid input (400).
    BadRequest,
    /// The identity does not exist (404 in v2, 400 in v1).
    NotFound,
    /// The identity exists already (400).
    AlreadyExists,
    /// Over the per-region call quota (429 in v2, 400 `Throttling` in v1).
    TooManyRequests,
    /// An injected server-side failure (500).
    Internal,
    /// The request carries no SigV4 `Authorization` header (403).
    MissingAuthentication,
}

impl SimError {
    /// A `BadRequestException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::BadRequest,
            message: message.into(),
        }
    }

    /// A `NotFoundException` for an identity.
    pub fn identity_not_found(name: &str) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            message: format!("Email identity {name} does not exist."),
        }
    }

    /// An `AlreadyExistsException` for an identity.
    pub fn identity_exists(name: &str) -> Self {
        Self {
            kind: ErrorKind::AlreadyExists,
            message: format!("Email identity {name} already exists."),
        }
    }

    /// A `TooManyRequestsException`.
    pub fn too_many_requests() -> Self {
        Self {
            kind: ErrorKind::TooManyRequests,
            message: "Too many requests.".into(),
        }
    }

    /// An internal failure, as injected by fault tests.
    pub fn internal() -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: "Internal service error (injected by the simulator).".into(),
        }
    }

    /// No SigV4 signature on the request.
    pub fn missing_authentication() -> Self {
        Self {
            kind: ErrorKind::MissingAuthentication,
            message: "Missing Authentication Token: requests must be signed with AWS Signature Version 4.".into(),
        }
    }
}
