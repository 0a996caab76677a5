//! What server functions ask about the user: who is signed in, and may they change DKIM.
//! The middleware has already authenticated the request; this reads its result.

use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER, request::Parts};
use leptos::prelude::*;

use crate::server::state::AppState;
use crate::user::{NOT_SIGNED_IN, User};

/// The signed-in user of the current request, if any.
pub fn current_user() -> Option<User> {
    use_context::<Parts>().and_then(|parts| parts.extensions.get::<User>().cloned())
}

/// The current user, if they may make a change now: an operator within their change
/// limit. Otherwise the answer becomes 401, 403 or 429 and the error says why. Call before
/// anything else in a write function.
pub fn authorize_write() -> Result<User, ServerFnError> {
    let refuse = |status: StatusCode, message: String| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        Err(ServerFnError::ServerError(message))
    };
    match current_user() {
        Some(user) if user.can_change() => {
            let limit = &expect_context::<AppState>().security.write_limit;
            match limit.take(&user.name) {
                Ok(()) => Ok(user),
                Err(wait) => {
                    let secs = wait.as_secs().max(1);
                    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                        response.insert_header(RETRY_AFTER, HeaderValue::from(secs));
                    }
                    refuse(
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "Too many changes in a short time: wait {secs} s and try again. Nothing was changed."
                        ),
                    )
                }
            }
        }
        Some(user) => refuse(StatusCode::FORBIDDEN, user.refusal()),
        None => refuse(StatusCode::UNAUTHORIZED, NOT_SIGNED_IN.to_owned()),
    }
}
