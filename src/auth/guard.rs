//! What server functions ask about the user: who is signed in, and may they change DKIM.
//! The middleware has already authenticated the request; this reads its result.

use axum::http::{StatusCode, request::Parts};
use leptos::prelude::*;

use crate::user::User;

/// The signed-in user of the current request, if any.
pub fn current_user() -> Option<User> {
    use_context::<Parts>().and_then(|parts| parts.extensions.get::<User>().cloned())
}

/// The current user, if they may change DKIM; otherwise the answer becomes 403 (or 401
/// with no user) and the error says why. Call before anything else in a write function.
pub fn require_operator() -> Result<User, ServerFnError> {
    let refuse = |status: StatusCode, message: String| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        Err(ServerFnError::ServerError(message))
    };
    match current_user() {
        Some(user) if user.can_change() => Ok(user),
        Some(user) => refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Only operators can change DKIM. You are signed in as {} ({}); ask for membership of an operator group.",
                user.name,
                user.role.label()
            ),
        ),
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "Not signed in: open dkimdash through your company's SSO.".to_owned(),
        ),
    }
}
