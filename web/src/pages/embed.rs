//! `/embed`: a scene alone, filling the page, for an `<iframe>` in another
//! site (`/embed?scene=ID&layers=…&token=…`, or `?model=…` for a model).

use super::scenes::{SceneView, model_param};
use crate::components::scene_viewer::SceneViewer;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn EmbedPage() -> impl IntoView {
    let scene = use_query_map().with_untracked(|q| q.get("scene"));
    let inner = match (scene, model_param()) {
        (Some(id), _) => view! { <SceneView scene_id=id bare=true/> }.into_any(),
        (None, Some(model)) => view! { <SceneViewer model_url=model bare=true/> }.into_any(),
        (None, None) => view! { <super::scenes::HomePage/> }.into_any(),
    };
    view! {
        <main class="page embed" id="embed">
            {inner}
        </main>
    }
}
