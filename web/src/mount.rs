//! The app's entry: [`mount`] puts it into an element of a page, connected
//! as its [`Config`] says. The app's own page mounts it on `<body>` with the
//! page's settings; an embedding page (the embeddable component) calls the
//! same function with its own element and settings.

use crate::embed::{Embed, EmbedCommand, from_js, layers_of};
use crate::pages::{App, EmbeddedApp};
use crate::state::Config;
use leptos::prelude::*;
use std::sync::Mutex;
use wasm_bindgen::prelude::*;

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

/// The global a page sets before loading the app's module to embed scenes
/// with it (the custom element does): the module's start then mounts
/// nothing, and the page calls [`mount_scene`].
pub const EMBEDDING_FLAG: &str = "__twinscapeEmbedding";

/// Whether this copy of the app was loaded to embed scenes.
pub fn embedding() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(EMBEDDING_FLAG))
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

/// A scene mounted into another page: the custom element's methods.
#[wasm_bindgen]
pub struct MountedScene {
    embed: Embed,
}

#[wasm_bindgen]
impl MountedScene {
    /// Selects an element (its popover opens) and flies to it.
    #[wasm_bindgen(js_name = selectElement)]
    pub fn select_element(&self, id: String) {
        self.embed.push(EmbedCommand::Select(id));
    }

    /// Flies to an element.
    #[wasm_bindgen(js_name = flyTo)]
    pub fn fly_to(&self, id: String) {
        self.embed.push(EmbedCommand::FlyTo(id));
    }

    /// Shows these layers (an array of layer ids; `null`: all).
    #[wasm_bindgen(js_name = setLayers)]
    pub fn set_layers(&self, layers: JsValue) {
        self.embed
            .push(EmbedCommand::Layers(layers_of(&from_js(&layers))));
    }
}

/// Mounts scene `options.scene` of the server `options.server` (its
/// origin; empty for this page's) into `target`, reading with
/// `options.token` and showing `options.layers` (`null`: all); events go to
/// `host` as DOM events ([`crate::embed`]).
#[wasm_bindgen(js_name = mountScene)]
pub fn mount_scene(
    host: web_sys::HtmlElement,
    target: web_sys::HtmlElement,
    options: JsValue,
) -> MountedScene {
    catch_panics();
    let o = from_js(&options);
    let text = |k: &str| {
        o[k].as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let config = Config {
        server: text("server")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string(),
        token: text("token"),
        scope: None,
    };
    let scene_id = text("scene").unwrap_or_default();
    let layers = layers_of(&o["layers"]);
    let embed = Embed::on_element(host);
    let mounted = MountedScene {
        embed: embed.clone(),
    };
    leptos::mount::mount_to(target, move || {
        view! { <EmbeddedApp config=config.clone() scene_id=scene_id.clone() layers=layers.clone() embed=embed.clone()/> }
    })
    .forget();
    mounted
}
