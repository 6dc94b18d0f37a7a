//! `/scenes`: the 3D scene of the building.

use crate::components::scene_viewer::SceneViewer;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The model to show: `?model=/3d/other.glb`, else the demo building.
pub fn model_param() -> String {
    use_query_map()
        .with_untracked(|q| q.get("model"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| twinscape_protocol::DEMO_MODEL_PATH.to_string())
}

#[component]
pub fn ScenesPage() -> impl IntoView {
    view! { <SceneViewer model_url=model_param()/> }
}
