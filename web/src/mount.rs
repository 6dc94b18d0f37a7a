//! The app's entry: [`mount`] puts it into an element of a page, connected
//! as its [`Config`] says. The app's own page mounts it on `<body>` with the
//! page's settings; an embedding page (the embeddable component) calls the
//! same function with its own element and settings.

use crate::pages::App;
use crate::state::Config;
use leptos::prelude::*;
use std::sync::Mutex;

/// The message of a panic (e.g. inside the 3D viewer), for the UI to show
/// instead of a frozen canvas.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Takes the message of a panic that happened since the last call.
pub fn take_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|mut p| p.take())
}

/// Logs panics to the console and keeps the first message for the UI.
fn catch_panics() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "unknown error".into()),
        };
        if let Ok(mut p) = LAST_PANIC.lock() {
            p.get_or_insert(msg);
        }
    }));
}

/// Mounts the app into `element`, for the life of the page.
pub fn mount(element: web_sys::HtmlElement, config: Config) {
    catch_panics();
    leptos::mount::mount_to(element, move || view! { <App config=config.clone()/> }).forget();
}
