//! Only operators write, checked once for every server function that is not listed as a
//! read: a new write function that forgets its own check is still closed to viewers. (Each
//! write function checks again, and applies the change limit.)

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use crate::app_error::AppError;
use crate::user::User;

/// Where server functions are served.
pub const SERVER_FN_PREFIX: &str = "/api/";

/// The server functions that change nothing (endpoints, without [`SERVER_FN_PREFIX`]).
#[derive(Clone, Copy, Debug)]
pub struct ReadFunctions(pub &'static [&'static str]);

impl ReadFunctions {
    /// Whether a viewer may call `path`: any path but a server function's, and the reads.
    pub fn open_to_viewers(&self, path: &str) -> bool {
        match path.strip_prefix(SERVER_FN_PREFIX) {
            Some(endpoint) => self.0.contains(&endpoint),
            None => true,
        }
    }
}

/// The axum middleware (`from_fn_with_state`), inside authentication (it reads the `User`).
pub async fn guard(State(reads): State<ReadFunctions>, request: Request, next: Next) -> Response {
    if reads.open_to_viewers(request.uri().path()) {
        return next.run(request).await;
    }
    let refusal = match request.extensions().get::<User>() {
        Some(user) if user.can_change() => return next.run(request).await,
        Some(user) => AppError::NotAllowed(user.refusal()),
        None => AppError::NotSignedIn,
    };
    // Encoded as a server function's own error, so the page shows the message.
    (
        refusal.status(),
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::HeaderName::from_static(SERVER_FN_ERROR_HEADER),
                request.uri().path().to_owned(),
            ),
        ],
        refusal.ser(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_function_is_a_write_unless_listed() {
        let reads = ReadFunctions(&["identity", "dkim/notice"]);
        assert!(reads.open_to_viewers("/"));
        assert!(reads.open_to_viewers("/identity/us-east-1/acme.example"));
        assert!(reads.open_to_viewers("/api/identity"));
        assert!(reads.open_to_viewers("/api/dkim/notice"));
        for write in [
            "/api/dkim/signing",
            "/api/identity/",
            "/api/IDENTITY",
            "/api/dkim%2Fnotice",
            "/api/",
            "/api/new_function",
        ] {
            assert!(!reads.open_to_viewers(write), "{write}");
        }
    }
}
