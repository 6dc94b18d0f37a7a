//! The Twinscape browser app (Leptos, client-side rendered, compiled to wasm).
//!
//! Owns: pages, navigation, panels, the live replica in the page, the typed
//! REST client, and the bridge between Leptos signals and the 3D viewer's
//! [`twinscape_viewer::ViewerLink`].
//! Must not: talk to Bevy except through the viewer's commands and events;
//! read connection settings from the window anywhere but
//! [`state::Config::from_window`].
//!
//! Layout: `api/` (the REST client), `state/` (config, replica), `pages/`
//! (one per route), `components/` (what pages are made of), `mount.rs` (the
//! entries: the app's, and `mountScene` for the custom element), `embed.rs`
//! (an embedded scene's events and commands).

mod api;
mod components;
mod embed;
mod mount;
mod pages;
mod state;

fn main() {
    if mount::embedding() {
        return; // a page embeds scenes with `mountScene`
    }
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    mount::mount(body, state::Config::from_window());
}
