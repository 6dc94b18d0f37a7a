//! The app's shell (navigation) and its pages, one per client-side route.
//! The routes are `twinscape_protocol::routes`, the list the server answers
//! with `index.html` too.

mod builder;
mod embed;
mod explorer;
mod scenes;

use crate::state::Config;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{ParamSegment, StaticSegment, path};
use twinscape_protocol::routes::{EMBED, EXPLORER, SCENES, segment};

/// The whole app, connected as `config` says.
#[component]
pub fn App(config: Config) -> impl IntoView {
    crate::state::live::provide_live(&config);
    provide_context(config);
    view! {
        <Router>
            <Routes fallback=|| view! { <Shell><NotFound/></Shell> }>
                <Route path=path!("/") view=|| view! { <Shell><scenes::HomePage/></Shell> }/>
                <Route path=StaticSegment(segment(SCENES)) view=|| view! { <Shell><scenes::ScenesPage/></Shell> }/>
                <Route path=(StaticSegment(segment(SCENES)), StaticSegment("new")) view=|| view! { <Shell><builder::NewScenePage/></Shell> }/>
                <Route path=(StaticSegment(segment(SCENES)), ParamSegment("id"), StaticSegment("edit")) view=|| view! { <Shell><builder::EditScenePage/></Shell> }/>
                <Route path=(StaticSegment(segment(SCENES)), ParamSegment("id")) view=|| view! { <Shell><scenes::ScenePage/></Shell> }/>
                <Route path=StaticSegment(segment(EXPLORER)) view=|| view! { <Shell><explorer::ExplorerPage/></Shell> }/>
                <Route path=StaticSegment(segment(EMBED)) view=embed::EmbedPage/>
                <Route path=(StaticSegment(segment(EMBED)), StaticSegment(segment(SCENES)), ParamSegment("id")) view=embed::EmbedScenePage/>
            </Routes>
        </Router>
    }
}

/// One scene for the custom element `<twinscape-scene>` of another page,
/// connected as `config` says; no router, no navigation.
#[component]
pub fn EmbeddedApp(
    config: Config,
    scene_id: String,
    layers: Option<Vec<String>>,
    embed: crate::embed::Embed,
) -> impl IntoView {
    crate::state::live::provide_live(&config);
    provide_context(config);
    view! { <embed::EmbeddedScene scene_id=scene_id layers=layers embed=embed/> }
}

/// The top bar and the page below it.
#[component]
fn Shell(children: Children) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Twinscape"</a>
            <nav class="nav">
                <A href=EXPLORER>"Explorer"</A>
                <A href=SCENES>"Scenes"</A>
            </nav>
        </header>
        <main class="page">{children()}</main>
    }
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
