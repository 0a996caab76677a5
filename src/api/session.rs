//! Who the page is for, so it can say so and leave out what they cannot use.

use leptos::prelude::*;

use crate::app_error::AppError;
use crate::user::User;

/// The signed-in user (the server decides every write on its own; this only shapes the page).
#[server(endpoint = "me")]
pub async fn get_current_user() -> Result<Option<User>, AppError> {
    Ok(crate::api::authorize::current_user())
}
