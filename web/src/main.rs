//! The Twinscape browser app (Leptos, client-side rendered, compiled to wasm).
//!
//! Owns: pages, navigation, panels, and the bridge between Leptos signals and
//! the 3D viewer's [`twinscape_viewer::ViewerLink`].
//! Must not: talk to Bevy except through the viewer's commands and events.

mod app;
mod color;
mod explorer;
mod live;
mod scene_viewer;

use std::sync::Mutex;

/// The message of a panic (e.g. inside the 3D viewer), for the UI to show
/// instead of a frozen canvas.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The bearer token for API calls, if the page was given one
/// (`?token=` once, then kept in session storage).
pub fn api_token() -> Option<String> {
    let window = web_sys::window()?;
    let storage = window.session_storage().ok().flatten();
    let from_url = window
        .location()
        .search()
        .ok()
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("token"));
    if let (Some(t), Some(st)) = (&from_url, &storage) {
        let _ = st.set_item("twinscape-token", t);
    }
    from_url.or_else(|| storage.and_then(|st| st.get_item("twinscape-token").ok().flatten()))
}

/// Takes the message of a panic that happened since the last call.
pub fn take_panic() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|mut p| p.take())
}

fn main() {
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
    leptos::mount::mount_to_body(app::App);
}
