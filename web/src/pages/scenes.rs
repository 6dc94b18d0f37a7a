//! `/scenes` (the list, or one model alone with `?model=`), `/scenes/{id}`
//! (a scene: `?layers=ID,…&element=ID` deep-link into it) and the home page
//! (the first scene).

use crate::components::scene_runtime::SceneRuntime;
use crate::components::scene_viewer::SceneViewer;
use crate::state::live::{LiveStatus, use_live};
use crate::state::use_config;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use twinscape_protocol::routes::{SCENES, segment_encode};
use twinscape_scene::config::Scene;

/// The model to show alone: `?model=/3d/other.glb`.
pub fn model_param() -> Option<String> {
    use_query_map()
        .with_untracked(|q| q.get("model"))
        .filter(|m| !m.is_empty())
}

/// `?layers=a,b` (`None`: every layer).
pub fn layers_param() -> Option<Vec<String>> {
    use_query_map()
        .with_untracked(|q| q.get("layers"))
        .map(|l| {
            l.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
}

/// The URL the viewer loads for a scene: its first 3D asset; an absolute
/// URL whose file name was uploaded here is served from `/3d/` instead.
pub fn asset_url(scene: &Scene, uploaded: &[String]) -> Option<String> {
    let url = scene.assets.first()?.url.clone();
    if url.starts_with("http://") || url.starts_with("https://") {
        let name = url
            .split(['?', '#'])
            .next()?
            .rsplit('/')
            .next()?
            .to_string();
        if uploaded.contains(&name) {
            return Some(format!("/3d/{name}"));
        }
    }
    Some(url)
}

/// The names of the uploaded 3D files (empty when they cannot be listed).
fn uploaded_files() -> LocalResource<Vec<String>> {
    let api = use_config().api();
    LocalResource::new(move || {
        let api = api.clone();
        async move {
            api.get_json("/3d")
                .await
                .ok()
                .and_then(|v| {
                    v["value"].as_array().map(|a| {
                        a.iter()
                            .filter_map(|f| f["name"].as_str().map(str::to_string))
                            .collect()
                    })
                })
                .unwrap_or_default()
        }
    })
}

/// `?element=ID`: the element picked at start.
pub fn element_param() -> Option<String> {
    use_query_map().with_untracked(|q| q.get("element"))
}

/// One scene, evaluated live on the replica, showing `layers` (`None`:
/// all) with `element` picked at start.
#[component]
pub fn SceneView(
    scene_id: String,
    #[prop(optional)] bare: bool,
    #[prop(default = None)] layers: Option<Vec<String>>,
    #[prop(default = None)] element: Option<String>,
) -> impl IntoView {
    let live = use_live();
    let rt = SceneRuntime::new(live, scene_id.clone(), layers);
    let element = StoredValue::new(element);
    // A page of another site (the embeddable component) loads the server's files.
    let server = use_config().server;
    let uploaded = uploaded_files();
    // The model URL, once the configuration and the file list are known;
    // the viewer is built once per URL (a rule change does not reload it).
    let url = Memo::new(move |_| {
        let files = uploaded.get()?;
        let scene = rt.scene()?;
        Some(
            asset_url(&scene, &files)
                .map(|u| {
                    if u.starts_with('/') {
                        format!("{server}{u}")
                    } else {
                        u
                    }
                })
                .ok_or("This scene has no 3D asset."),
        )
    });
    let missing = move || rt.config.with(|c| c.is_some()) && rt.scene().is_none();
    view! {
        <Show when=move || !missing() fallback={
            let id = scene_id.clone();
            move || view! {
                <section class="placeholder" id="scene-missing">
                    <h1>"No such scene"</h1>
                    <p>{format!("There is no scene '{id}'. ")}<a href=SCENES>"All scenes"</a></p>
                </section>
            }
        }>
            {move || match url.get() {
                None => view! { <div class="placeholder" id="scene-loading">"Loading the scene…"</div> }.into_any(),
                Some(Err(e)) => view! { <div class="placeholder viewer-error" id="scene-error">{e}</div> }.into_any(),
                Some(Ok(u)) => view! { <SceneViewer model_url=u scene=rt element=element.get_value().unwrap_or_default() bare=bare/> }.into_any(),
            }}
        </Show>
    }
}

/// `/scenes/{id}`
#[component]
pub fn ScenePage() -> impl IntoView {
    let id = use_params_map()
        .with_untracked(|p| p.get("id"))
        .unwrap_or_default();
    view! { <SceneView scene_id=id layers=layers_param() element=element_param()/> }
}

/// `/scenes`: the scenes, or `?model=` alone.
#[component]
pub fn ScenesPage() -> impl IntoView {
    if let Some(model) = model_param() {
        return view! { <SceneViewer model_url=model/> }.into_any();
    }
    let live = use_live();
    let scenes = move || live.scenes.get().map(|c| c.configuration.scenes.clone());
    view! {
        <section class="scene-list" id="scene-list">
            <h1>"Scenes"</h1>
            <p><a href=format!("{SCENES}/new") id="new-scene-link" class="button">"New scene"</a></p>
            {move || match scenes() {
                None => view! { <p class="hint">"Loading…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! {
                    <p class="hint">"No scenes yet. Make one with “New scene”, or import a Scenes Studio configuration with "
                        <code>"twinscape scene import 3DScenesConfiguration.json"</code>"."</p>
                }.into_any(),
                Some(list) => view! {
                    <ul>
                        {list.into_iter().map(|s| {
                            let href = format!("{SCENES}/{}", segment_encode(&s.id));
                            view! {
                                <li data-scene=s.id.clone()>
                                    <a href=href.clone() rel="external">{s.display_name.clone()}</a>
                                    " "<a href=format!("{href}/edit") rel="external" class="edit-link">"Edit"</a>
                                    <span class="hint">{format!(" {} elements, {} behaviors", s.elements.len(), s.behavior_ids.len())}</span>
                                    {s.description.clone().map(|d| view! { <p>{d}</p> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
    .into_any()
}

/// `/`: the first scene, or the demo building's model when there is none.
#[component]
pub fn HomePage() -> impl IntoView {
    let live = use_live();
    let first = Memo::new(move |_| {
        let status = live.status.get();
        match live.scenes.get() {
            Some(c) => Some(c.configuration.scenes.first().map(|s| s.id.clone())),
            None if matches!(status, LiveStatus::Live(_)) => Some(None),
            None => None,
        }
    });
    move || match first.get() {
        None => view! { <div class="placeholder" id="scene-loading">"Loading…"</div> }.into_any(),
        Some(Some(id)) => {
            view! { <SceneView scene_id=id layers=layers_param() element=element_param()/> }
                .into_any()
        }
        Some(None) => {
            view! { <SceneViewer model_url=twinscape_protocol::DEMO_MODEL_PATH.to_string()/> }
                .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn absolute_asset_urls_use_an_uploaded_file_of_the_same_name() {
        let scene: Scene = serde_json::from_value(json!({
            "id": "s", "displayName": "S", "elements": [], "behaviorIDs": [],
            "assets": [{"type": "3DAsset", "url": "https://blob.example/public/RobotArms.glb?sv=1"}]
        }))
        .unwrap();
        assert_eq!(
            asset_url(&scene, &["RobotArms.glb".into()]).unwrap(),
            "/3d/RobotArms.glb"
        );
        assert_eq!(
            asset_url(&scene, &[]).unwrap(),
            "https://blob.example/public/RobotArms.glb?sv=1"
        );
    }
}
