//! What server functions ask about the user: who is signed in, and may they change DKIM.
//! The middleware has already authenticated the request; this reads its result.

use axum::http::request::Parts;
use leptos::prelude::*;

use crate::app_error::AppError;
use crate::server::state::AppState;
use crate::user::User;

/// The signed-in user of the current request, if any.
pub fn current_user() -> Option<User> {
    use_context::<Parts>().and_then(|parts| parts.extensions.get::<User>().cloned())
}

/// The signed-in user of the current request, or the refusal of an anonymous one.
pub fn signed_in() -> Result<User, AppError> {
    current_user().ok_or(AppError::NotSignedIn)
}

/// The current user, if they may make a change now: an operator within their change
/// limit. Otherwise the error says why (and so which status the answer gets). Call before
/// anything else in a write function.
pub fn authorize_write() -> Result<User, AppError> {
    let user = authorize_operator()?;
    let limit = &expect_context::<AppState>().security.write_limit;
    match limit.take(&user.name) {
        Ok(()) => Ok(user),
        Err(wait) => Err(AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        }),
    }
}

/// The current user, if they may make changes (an operator), without taking one from
/// their change limit: for reading how a change of theirs stands (a fleet repair's
/// progress, which its page asks for again and again while it runs).
pub fn authorize_operator() -> Result<User, AppError> {
    let user = signed_in()?;
    if !user.can_change() {
        return Err(AppError::NotAllowed(user.refusal()));
    }
    Ok(user)
}
