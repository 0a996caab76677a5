//! How islands talk to the server. A form goes exactly as the browser posts it with
//! JavaScript off (its fields, url-encoded, to its `action`: the server function's URL),
//! except that it asks for the server function's JSON answer instead of a page. So both
//! ways run the same server code, and the browser bundle needs no form decoder and no
//! server function client.

use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use serde::de::DeserializeOwned;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FormData, Headers, HtmlFormElement, RequestInit, Response, UrlSearchParams};

use crate::app_error::AppError;

/// A form an island sends: whether it is on its way, and the last answer.
pub struct Sender<T: Send + Sync + 'static> {
    /// Sent, not answered yet.
    pub pending: RwSignal<bool>,
    /// The server function's answer to the last send.
    pub answer: RwSignal<Option<Result<T, AppError>>>,
}

impl<T: Send + Sync + 'static> Clone for Sender<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Sender<T> {}

impl<T: DeserializeOwned + Send + Sync + 'static> Sender<T> {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(false),
            answer: RwSignal::new(None),
        }
    }

    /// The form's `on:submit`: sends it, once at a time.
    pub fn submit(self) -> impl Fn(web_sys::SubmitEvent) + Clone + 'static {
        move |event: web_sys::SubmitEvent| {
            event.prevent_default();
            let form = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlFormElement>().ok());
            let Some(form) = form else { return };
            if self.pending.get_untracked() {
                return;
            }
            self.pending.set(true);
            leptos::task::spawn_local(async move {
                let answer = post(&form.action(), Some(&form)).await;
                forget_key(&form);
                self.pending.set(false);
                self.answer.set(Some(answer));
            });
        }
    }
}

impl<T: DeserializeOwned + Send + Sync + 'static> Default for Sender<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Posts `form`'s fields (or nothing) to `url` and reads the server function's answer.
pub async fn post<T: DeserializeOwned>(
    url: &str,
    form: Option<&HtmlFormElement>,
) -> Result<T, AppError> {
    let (status, body) = fetch(url, form)
        .await
        .map_err(|error| AppError::Unreachable(error.as_string().unwrap_or_default()))?;
    if (200..300).contains(&status) {
        serde_json::from_str(&body).map_err(|error| AppError::Unreachable(error.to_string()))
    } else {
        Err(AppError::from_answer(status, &body))
    }
}

async fn fetch(url: &str, form: Option<&HtmlFormElement>) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    // Not text/html: the server answers with JSON rather than redirecting to a page.
    let headers = Headers::new()?;
    headers.set("Accept", "application/json")?;
    init.set_headers(&headers);
    if let Some(form) = form {
        let fields = FormData::new_with_form(form)?;
        let fields = UrlSearchParams::new_with_str_sequence_sequence(fields.as_ref())?;
        init.set_body(&fields);
    }
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let body = JsFuture::from(response.text()?).await?;
    Ok((response.status(), body.as_string().unwrap_or_default()))
}

/// Empties a private key field once its form was sent: a key never stays on the page.
fn forget_key(form: &HtmlFormElement) {
    if let Ok(Some(field)) = form.query_selector("textarea[name=private_key]")
        && let Ok(field) = field.dyn_into::<web_sys::HtmlTextAreaElement>()
    {
        field.set_value("");
    }
}
