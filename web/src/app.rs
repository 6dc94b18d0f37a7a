//! Layout, navigation and pages.

use crate::explorer::ExplorerPage;
use crate::scene_viewer::SceneViewer;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_query_map;
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    crate::live::provide_live(crate::api_token());
    view! {
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Twinscape"</a>
                <nav class="nav">
                    <A href="/explorer">"Explorer"</A>
                    <A href="/scenes">"Scenes"</A>
                </nav>
            </header>
            <main class="page">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=ScenesPage/>
                    <Route path=path!("/scenes") view=ScenesPage/>
                    <Route path=path!("/explorer") view=ExplorerPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The 3D scene of the building. `?model=/3d/other.glb` shows another model.
#[component]
fn ScenesPage() -> impl IntoView {
    let query = use_query_map();
    let model = query
        .with_untracked(|q| q.get("model"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| twinscape_protocol::DEMO_MODEL_PATH.to_string());
    view! { <SceneViewer model_url=model/> }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="placeholder" id="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the building"</a></p>
        </section>
    }
}
