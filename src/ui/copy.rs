//! Copy-to-clipboard buttons: islands, the page's smallest interactive parts. They appear
//! only once hydrated (a button that cannot work is worse than none); without JavaScript
//! the text stays selectable.

use std::time::Duration;

use leptos::prelude::*;

/// How long "Copied" stays on the button.
const FEEDBACK_FOR: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CopyState {
    Ready,
    Copied,
    Failed,
}

/// A button that copies `text`; `label` says what for screen readers ("Copy name of …").
#[island]
pub fn CopyButton(
    /// The exact text put on the clipboard.
    #[prop(into)]
    text: String,
    /// The accessible name of the button.
    #[prop(into)]
    label: String,
    /// The visible words ("Copy" when not given).
    #[prop(optional, into)]
    caption: Option<String>,
) -> impl IntoView {
    let caption = caption.unwrap_or_else(|| "Copy".to_owned());
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| hydrated.set(true));
    let state = RwSignal::new(CopyState::Ready);
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            let copied = write_clipboard(&text).await;
            state.set(if copied {
                CopyState::Copied
            } else {
                CopyState::Failed
            });
            set_timeout(move || state.set(CopyState::Ready), FEEDBACK_FOR);
        });
    };
    view! {
        <button
            type="button"
            class="copy"
            class:copied=move || state.get() == CopyState::Copied
            hidden=move || !hydrated.get()
            aria-label=label
            on:click=copy
        >
            <span aria-live="polite">
                {move || match state.get() {
                    CopyState::Ready => caption.clone(),
                    CopyState::Copied => "Copied ✓".to_owned(),
                    CopyState::Failed => "Copy failed: select the text".to_owned(),
                }}
            </span>
        </button>
    }
}

/// Puts `text` on the clipboard; false if the browser refused (no permission, no focus).
async fn write_clipboard(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
