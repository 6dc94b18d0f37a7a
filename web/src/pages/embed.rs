//! `/embed`: the 3D scene alone, filling the page, for an `<iframe>` in
//! another site (`/embed?model=…&scope=…&token=…`).

use super::scenes::model_param;
use crate::components::scene_viewer::SceneViewer;
use leptos::prelude::*;

#[component]
pub fn EmbedPage() -> impl IntoView {
    view! {
        <main class="page embed" id="embed">
            <SceneViewer model_url=model_param()/>
        </main>
    }
}
