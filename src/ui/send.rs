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
    /// Set by the island once the page is being left: nothing more is sent.
    closed: RwSignal<bool>,
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
            closed: RwSignal::new(false),
        }
    }

    /// Sends nothing more (the page is being left after a change: a second click must not
    /// make it twice).
    pub fn close(self) {
        self.closed.set(true);
    }

    /// Whether [`Sender::close`] was called.
    pub fn is_closed(self) -> bool {
        self.closed.get()
    }

    /// The form's `on:submit`: sends it, once at a time.
    pub fn submit(self) -> impl Fn(web_sys::SubmitEvent) + Clone + 'static {
        move |event: web_sys::SubmitEvent| {
            event.prevent_default();
            let form = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlFormElement>().ok());
            let Some(form) = form else { return };
            if self.pending.get_untracked() || self.closed.get_untracked() {
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

/// Posts `form`'s fields (or none) to `url` and reads the server function's answer.
pub async fn post<T: DeserializeOwned>(
    url: &str,
    form: Option<&HtmlFormElement>,
) -> Result<T, AppError> {
    let answer = fetch(url, form).await.map_err(|error| {
        let error = error
            .dyn_ref::<web_sys::js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_default();
        AppError::Unreachable(format!("{error} (is the network or the server down?)"))
    })?;
    let answered = (200..300).contains(&answer.status);
    // Redirected (the SSO proxy's sign-in page, say), or a success that is not JSON: not
    // the dashboard's answer at all.
    if answer.redirected || (answered && !answer.json) {
        return Err(AppError::Unreachable(
            "the answer came from somewhere else (signed out? reload the page to sign in again)"
                .to_owned(),
        ));
    }
    if answered {
        serde_json::from_str(&answer.body)
            .map_err(|error| AppError::Unreachable(format!("its answer was unreadable: {error}")))
    } else {
        Err(AppError::from_answer(answer.status, &answer.body))
    }
}

/// An HTTP answer as [`post`] reads it.
struct Answer {
    status: u16,
    /// Whether the browser followed a redirect to get it.
    redirected: bool,
    /// Whether its body is JSON.
    json: bool,
    body: String,
}

async fn fetch(url: &str, form: Option<&HtmlFormElement>) -> Result<Answer, JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    // Not text/html: the server answers with JSON rather than redirecting to a page.
    let headers = Headers::new()?;
    headers.set("Accept", "application/json")?;
    init.set_headers(&headers);
    // Always a form body, empty or not: server functions take forms only.
    let fields = match form {
        Some(form) => UrlSearchParams::new_with_str_sequence_sequence(
            FormData::new_with_form(form)?.as_ref(),
        )?,
        None => UrlSearchParams::new()?,
    };
    init.set_body(&fields);
    let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let json = response
        .headers()
        .get("content-type")?
        .is_some_and(|kind| kind.starts_with("application/json"));
    let body = JsFuture::from(response.text()?).await?;
    Ok(Answer {
        status: response.status(),
        redirected: response.redirected(),
        json,
        body: body.as_string().unwrap_or_default(),
    })
}

/// Empties a private key field once its form was sent: a key never stays on the page.
fn forget_key(form: &HtmlFormElement) {
    if let Ok(Some(field)) = form.query_selector("textarea[name=private_key]")
        && let Ok(field) = field.dyn_into::<web_sys::HtmlTextAreaElement>()
    {
        field.set_value("");
    }
}
