//! Scenes for other web pages:
//! - `/embed/scenes/{id}` (`?layers=…&element=…&token=…`): the iframe mode,
//!   its events and commands over `postMessage` ([`crate::embed`]);
//! - `/embed?scene=ID` (or `?model=…` for a model alone): the scene alone,
//!   filling the page, no messages;
//! - [`EmbeddedScene`]: what the custom element `<twinscape-scene>` mounts
//!   (no router: it must not take over the links of the page around it).

use super::scenes::{SceneView, element_param, layers_param, model_param};
use crate::api::{ApiError, segment};
use crate::components::scene_viewer::SceneViewer;
use crate::embed::Embed;
use crate::state::use_config;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn EmbedPage() -> impl IntoView {
    let scene = use_query_map().with_untracked(|q| q.get("scene"));
    let inner = match (scene, model_param()) {
        (Some(id), _) => view! { <SceneView scene_id=id bare=true layers=layers_param() element=element_param()/> }.into_any(),
        (None, Some(model)) => view! { <SceneViewer model_url=model bare=true/> }.into_any(),
        (None, None) => view! { <super::scenes::HomePage/> }.into_any(),
    };
    view! {
        <main class="page embed" id="embed">
            {inner}
        </main>
    }
}

/// `/embed/scenes/{id}`: one scene for an `<iframe>`, talking to its parent.
#[component]
pub fn EmbedScenePage() -> impl IntoView {
    let id = use_params_map()
        .with_untracked(|p| p.get("id"))
        .unwrap_or_default();
    let embed = Embed::to_parent();
    embed.emit("ready", serde_json::json!({"sceneId": id}));
    provide_context(embed);
    view! {
        <main class="page embed" id="embed">
            <CheckedScene scene_id=id layers=layers_param() element=element_param()/>
        </main>
    }
}

/// The scene the custom element shows, with its link to the element.
#[component]
pub fn EmbeddedScene(scene_id: String, layers: Option<Vec<String>>, embed: Embed) -> impl IntoView {
    provide_context(embed);
    view! {
        <div class="twinscape-embed" id="embed">
            <CheckedScene scene_id=scene_id layers=layers element=None/>
        </div>
    }
}

/// What an embedded scene says when it cannot show the scene: the
/// server's own error, or for no answer at all from another origin's
/// server, what the operator must allow.
fn explain(e: &ApiError, server: &str) -> String {
    if e.status != 0 {
        return match e.status {
            401 => format!(
                "The server refused the token ({}). Give the component a valid token.",
                e.message
            ),
            403 => format!("This token may not read scenes ({}).", e.message),
            _ => e.message.clone(),
        };
    }
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    if server.is_empty() {
        return format!("The Twinscape server did not answer: {}.", e.message);
    }
    format!(
        "The Twinscape server at {server} did not answer this page ({origin}). \
         If it is running, it does not allow pages of this origin: its operator can \
         start it with `twinscape serve --cors-origin {origin}`."
    )
}

/// Asks the server for the scene first, so that a refusal (an origin not
/// allowed, a bad token, no such scene) is said in words and sent as an
/// `error` event instead of leaving an empty box.
#[component]
fn CheckedScene(
    scene_id: String,
    layers: Option<Vec<String>>,
    element: Option<String>,
) -> impl IntoView {
    let config = use_config();
    let api = config.api();
    let server = config.server.clone();
    let embed = crate::embed::use_embed();
    let path = format!(
        "{}/{}",
        twinscape_protocol::routes::SCENES,
        segment(&scene_id)
    );
    let check = LocalResource::new(move || {
        let (api, path) = (api.clone(), path.clone());
        async move { api.get_json(&path).await.map(|_| ()) }
    });
    let (layers, element) = (StoredValue::new(layers), StoredValue::new(element));
    move || {
        match check.get() {
        None => view! { <div class="placeholder" id="scene-loading">"Loading the scene…"</div> }.into_any(),
        Some(Err(e)) => {
            let message = explain(&e, &server);
            if let Some(embed) = &embed {
                embed.error(&e.code, &message);
            }
            view! {
                <div class="viewer-error embed-error" id="scene-error" role="alert" data-code=e.code.clone()>
                    {message}
                </div>
            }
            .into_any()
        }
        Some(Ok(())) => view! {
            <SceneView scene_id=scene_id.clone() bare=true layers=layers.get_value() element=element.get_value()/>
        }
        .into_any(),
    }
    }
}
