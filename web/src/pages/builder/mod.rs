//! The low-code scene builder: `/scenes/new` (name, description, a 3D file
//! chosen or uploaded there) and `/scenes/{id}/edit` (elements made by
//! clicking meshes, twins found by search on the replica, behaviors made
//! through forms, previewed live on the replica before saving, undo/redo,
//! save with `If-Match` and a conflict shown when another tab saved first).
//! The JSON is there to read and export, never needed.
//!
//! The scene being edited is one JSON value ([`draft`]); every edit makes
//! a new value, so undo is a stack and the preview is the scene evaluator
//! over exactly what will be saved.

mod behaviors;
pub mod draft;
mod elements;
pub mod lookup;
mod upload;

use crate::api::segment;
use crate::components::scene_runtime::SceneRuntime;
use crate::components::scene_viewer::SceneViewer;
use crate::state::live::use_live;
use crate::state::use_config;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::Value as Json;
use std::sync::Arc;
use twinscape_protocol::routes::SCENES;
use twinscape_scene::ScenesConfig;
use upload::Upload;

/// Where saving stands.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Loaded,
    Saving,
    Saved,
    Failed(String),
    Conflict,
}

/// The server's scene when a save met a newer one.
#[derive(Debug, Clone, PartialEq)]
struct Conflict {
    theirs: Json,
    etag: Option<String>,
    differences: Vec<String>,
}

/// The builder's state. Cheap to copy.
#[derive(Clone, Copy)]
struct Builder {
    api: StoredValue<crate::api::Api>,
    id: StoredValue<String>,
    draft: RwSignal<Json>,
    undo: RwSignal<Vec<Json>>,
    redo: RwSignal<Vec<Json>>,
    saved: RwSignal<Json>,
    etag: RwSignal<Option<String>>,
    /// Selected meshes, in click order.
    selection: RwSignal<Vec<String>>,
    /// The behavior form's rule as it is being filled in (previewed).
    pending: RwSignal<Option<draft::BehaviorSpec>>,
    state: RwSignal<SaveState>,
    conflict: RwSignal<Option<Conflict>>,
}

impl Builder {
    fn new(api: crate::api::Api, id: String, draft: Json, etag: Option<String>) -> Builder {
        Builder {
            api: StoredValue::new(api),
            id: StoredValue::new(id),
            draft: RwSignal::new(draft.clone()),
            undo: RwSignal::new(Vec::new()),
            redo: RwSignal::new(Vec::new()),
            saved: RwSignal::new(draft),
            etag: RwSignal::new(etag),
            selection: RwSignal::new(Vec::new()),
            pending: RwSignal::new(None),
            state: RwSignal::new(SaveState::Loaded),
            conflict: RwSignal::new(None),
        }
    }

    /// One undoable edit.
    fn edit(&self, f: impl FnOnce(&mut Json)) {
        let before = self.draft.get_untracked();
        let mut next = before.clone();
        f(&mut next);
        if next == before {
            return;
        }
        self.undo.update(|u| u.push(before));
        self.redo.set(Vec::new());
        self.draft.set(next);
    }

    fn undo(&self) {
        if let Some(prev) = self.undo.try_update(|u| u.pop()).flatten() {
            let now = self.draft.get_untracked();
            self.redo.update(|r| r.push(now));
            self.draft.set(prev);
        }
    }

    fn redo(&self) {
        if let Some(next) = self.redo.try_update(|r| r.pop()).flatten() {
            let now = self.draft.get_untracked();
            self.undo.update(|u| u.push(now));
            self.draft.set(next);
        }
    }

    fn dirty(&self) -> bool {
        self.draft.with(|d| self.saved.with(|s| d != s))
    }

    /// Saves the draft if the server's scene is still `etag`.
    fn save(self, etag: Option<String>) {
        let api = self.api.get_value();
        let path = format!("{SCENES}/{}", segment(&self.id.get_value()));
        let body = self.draft.get_untracked();
        self.state.set(SaveState::Saving);
        wasm_bindgen_futures::spawn_local(async move {
            match api.put_json(&path, &body, etag.as_deref()).await {
                Ok((_, tag)) => {
                    self.etag.set(tag);
                    self.saved.set(body);
                    self.conflict.set(None);
                    self.state.set(SaveState::Saved);
                }
                Err(e) if e.status == 412 => {
                    let theirs = load(&api, &self.id.get_value()).await;
                    match theirs {
                        Ok((theirs, etag)) => {
                            let differences = draft::differences(&body, &theirs);
                            self.conflict.set(Some(Conflict {
                                theirs,
                                etag,
                                differences,
                            }));
                            self.state.set(SaveState::Conflict);
                        }
                        Err(e) => self.state.set(SaveState::Failed(e)),
                    }
                }
                Err(e) if e.status == 401 || e.status == 403 => self.state.set(SaveState::Failed(
                    format!("Only owners can save scenes: {}", e.message),
                )),
                Err(e) => self.state.set(SaveState::Failed(e.summary())),
            }
        });
    }
}

/// The scene's draft and `ETag` as the server has them now.
async fn load(api: &crate::api::Api, id: &str) -> Result<(Json, Option<String>), String> {
    let path = format!("{SCENES}/{}", segment(id));
    let (_, etag) = api.get_with_etag(&path).await.map_err(|e| e.summary())?;
    let config = api
        .get_json(&format!("{SCENES}/$configuration"))
        .await
        .map_err(|e| e.summary())?;
    let d = draft::of_scene(&config, id).ok_or_else(|| format!("There is no scene '{id}'."))?;
    Ok((d, etag))
}

/// `/scenes/new`
#[component]
pub fn NewScenePage() -> impl IntoView {
    let api = use_config().api();
    let live = use_live();
    let name = RwSignal::new(String::new());
    let id = RwSignal::new(String::new());
    let id_edited = RwSignal::new(false);
    let description = RwSignal::new(String::new());
    let asset = RwSignal::new(String::new());
    let files = RwSignal::new(Vec::<String>::new());
    let upload_state = RwSignal::new(Upload::Idle);
    let error = RwSignal::new(None::<String>);
    let creating = RwSignal::new(false);
    {
        let api = api.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(v) = api.get_json("/3d").await {
                let names: Vec<String> = v["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["name"].as_str().map(str::to_string))
                    .collect();
                files.update(|f| {
                    for n in names {
                        if !f.contains(&n) {
                            f.push(n);
                        }
                    }
                });
                if asset.get_untracked().is_empty()
                    && let Some(first) = files.get_untracked().first()
                {
                    asset.set(first.clone());
                }
            }
        });
    }
    Effect::new(move |_| {
        if let Upload::Done(n) = upload_state.get() {
            files.update(|f| {
                if !f.contains(&n) {
                    f.push(n.clone());
                }
            });
            asset.set(n);
        }
    });
    let taken = move || -> Vec<String> {
        live.scenes.with_untracked(|c| {
            c.as_ref()
                .map(|c| {
                    c.configuration
                        .scenes
                        .iter()
                        .map(|s| s.id.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    Effect::new(move |_| {
        let n = name.get();
        if !id_edited.get_untracked() {
            id.set(if n.trim().is_empty() {
                String::new()
            } else {
                draft::fresh_id(&n, &taken())
            });
        }
    });
    let pick_file = {
        let api = api.clone();
        move |file: web_sys::File| upload::upload(&api, file, upload_state)
    };
    let on_drop = {
        let pick_file = pick_file.clone();
        move |e: web_sys::DragEvent| {
            e.prevent_default();
            if let Some(f) = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0))
            {
                pick_file(f);
            }
        }
    };
    let on_file = move |e: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&e);
        if let Some(f) = input.files().and_then(|f| f.get(0)) {
            pick_file(f);
        }
    };
    let create = move |_| {
        let (n, i, a) = (
            name.get_untracked(),
            id.get_untracked(),
            asset.get_untracked(),
        );
        let problem = if n.trim().is_empty() {
            Some("Give the scene a name.".to_string())
        } else if i.trim().is_empty() || i.starts_with('$') {
            Some("Give the scene an id (letters, digits, dashes).".to_string())
        } else if taken().contains(&i) {
            Some(format!(
                "There is a scene '{i}' already: choose another id."
            ))
        } else if a.is_empty() {
            Some("Choose or upload a 3D file.".to_string())
        } else {
            None
        };
        if let Some(p) = problem {
            error.set(Some(p));
            return;
        }
        error.set(None);
        creating.set(true);
        let body = draft::new_scene(&i, &n, &description.get_untracked(), &format!("/3d/{a}"));
        let api = api.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let path = format!("{SCENES}/{}", segment(&i));
            match api.put_json(&path, &body, None).await {
                Ok(_) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w
                            .location()
                            .assign(&format!("{SCENES}/{}/edit", segment(&i)));
                    }
                }
                Err(e) => {
                    creating.set(false);
                    error.set(Some(if e.status == 401 || e.status == 403 {
                        format!("Only owners can create scenes: {}", e.message)
                    } else {
                        e.summary()
                    }));
                }
            }
        });
    };
    view! {
        <section class="builder-new" id="new-scene">
            <h1>"New scene"</h1>
            <label>"Name" <input id="scene-name" type="text" prop:value=move || name.get()
                on:input=move |e| name.set(event_target_value(&e))/></label>
            <label>"Id" <input id="scene-id" type="text" prop:value=move || id.get()
                on:input=move |e| { id_edited.set(true); id.set(event_target_value(&e)); }/></label>
            <label>"Description" <textarea id="scene-description" prop:value=move || description.get()
                on:input=move |e| description.set(event_target_value(&e))></textarea></label>
            <fieldset class="asset-choice">
                <legend>"3D file"</legend>
                <select id="scene-asset" on:change=move |e| asset.set(event_target_value(&e))>
                    <option value="" selected=move || asset.get().is_empty()>"Choose an uploaded file…"</option>
                    {move || files.get().into_iter().map(|f| {
                        let selected = { let f = f.clone(); move || asset.get() == f };
                        view! { <option value=f.clone() selected=selected>{f.clone()}</option> }
                    }).collect_view()}
                </select>
                <div class="drop-zone" id="asset-drop"
                    on:dragover=|e: web_sys::DragEvent| e.prevent_default()
                    on:drop=on_drop>
                    "Drop a .glb or .gltf here, or "
                    <input id="asset-file" type="file" accept=".glb,.gltf" on:change=on_file/>
                </div>
                <div class="upload-state" id="upload-state" data-state=move || match upload_state.get() {
                    Upload::Idle => "idle", Upload::Sending(..) => "sending", Upload::Done(_) => "done", Upload::Failed(_) => "failed",
                }>
                    {move || match upload_state.get() {
                        Upload::Idle => ().into_any(),
                        Upload::Sending(sent, total) => view! {
                            <progress id="upload-progress" max=total value=sent></progress>
                            {format!(" {:.0}%", if total > 0.0 { sent / total * 100.0 } else { 0.0 })}
                        }.into_any(),
                        Upload::Done(n) => view! { <span>{format!("Uploaded {n}.")}</span> }.into_any(),
                        Upload::Failed(e) => view! { <span class="error" id="upload-error" role="alert">{e}</span> }.into_any(),
                    }}
                </div>
            </fieldset>
            <Show when=move || error.get().is_some()>
                <p class="error" id="new-scene-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button id="create-scene" class="primary" disabled=move || creating.get() on:click=create>"Create scene"</button>
        </section>
    }
}

/// `/scenes/{id}/edit`
#[component]
pub fn EditScenePage() -> impl IntoView {
    let id = use_params_map()
        .with_untracked(|p| p.get("id"))
        .unwrap_or_default();
    let api = use_config().api();
    let loaded = LocalResource::new({
        let (id, api) = (id.clone(), api.clone());
        move || {
            let (api, id) = (api.clone(), id.clone());
            async move { load(&api, &id).await }
        }
    });
    move || {
        match loaded.get() {
        None => view! { <div class="placeholder" id="builder-loading">"Loading the scene…"</div> }.into_any(),
        Some(Err(e)) => view! { <div class="placeholder viewer-error" id="builder-error" role="alert">{e}</div> }.into_any(),
        Some(Ok((d, etag))) => view! { <Editor builder=Builder::new(api.clone(), id.clone(), d, etag)/> }.into_any(),
    }
    }
}

/// The draft with the behavior being filled in, as the preview shows it.
fn previewed(d: &Json, pending: Option<&draft::BehaviorSpec>) -> Option<Arc<ScenesConfig>> {
    let mut d = d.clone();
    if let Some(spec) = pending {
        draft::add_behavior(&mut d, spec);
    }
    twinscape_scene::config::from_value(&d).ok().map(Arc::new)
}

#[component]
fn Editor(builder: Builder) -> impl IntoView {
    let b = builder;
    let live = use_live();
    let preview = Memo::new(move |prev: Option<&Option<Arc<ScenesConfig>>>| {
        let next = b
            .draft
            .with(|d| b.pending.with(|p| previewed(d, p.as_ref())));
        // An edit that does not make a valid configuration keeps the last one.
        next.or_else(|| prev.cloned().flatten())
    });
    let scene_id = b.id.get_value();
    let rt = SceneRuntime::over(
        live,
        Signal::derive(move || preview.get()),
        scene_id.clone(),
        None,
    );
    Effect::new(move |_| {
        let sel = b.selection.get();
        rt.highlight.set(sel.into_iter().collect());
    });
    let model_url = b.draft.with_untracked(|d| {
        d["configuration"]["scenes"][0]["assets"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    let on_click = Callback::new(move |(mesh, shift): (Option<String>, bool)| {
        b.selection.update(|sel| match mesh {
            None if !shift => sel.clear(),
            None => {}
            Some(m) => {
                if let Some(i) = sel.iter().position(|x| *x == m) {
                    sel.remove(i);
                } else if shift {
                    sel.push(m);
                } else {
                    *sel = vec![m];
                }
            }
        });
    });
    // Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y outside text fields.
    let keys = window_event_listener(leptos::ev::keydown, move |e| {
        let in_field = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_field || !(e.ctrl_key() || e.meta_key()) {
            return;
        }
        match e.key().to_ascii_lowercase().as_str() {
            "z" if e.shift_key() => b.redo(),
            "z" => b.undo(),
            "y" => b.redo(),
            _ => return,
        }
        e.prevent_default();
    });
    on_cleanup(move || keys.remove());
    let tab = RwSignal::new("elements");
    let state_name = move || match b.state.get() {
        SaveState::Saving => "saving",
        SaveState::Conflict => "conflict",
        SaveState::Failed(_) => "failed",
        _ if b.dirty() => "unsaved",
        SaveState::Saved => "saved",
        SaveState::Loaded => "clean",
    };
    let view_href = format!("{SCENES}/{}", segment(&scene_id));
    view! {
        <div class="builder" id="builder" data-scene=scene_id.clone() data-state=state_name
            data-selection=move || b.selection.get().join(",")>
            <div class="builder-view">
                <SceneViewer model_url=model_url scene=rt bare=true on_click=on_click/>
            </div>
            <aside class="side-panel builder-panel">
                <div class="builder-toolbar">
                    <button id="undo" title="Undo (Ctrl+Z)" disabled=move || b.undo.with(Vec::is_empty) on:click=move |_| b.undo()>"Undo"</button>
                    <button id="redo" title="Redo (Ctrl+Shift+Z)" disabled=move || b.redo.with(Vec::is_empty) on:click=move |_| b.redo()>"Redo"</button>
                    <button id="save-scene" class="primary" disabled=move || !b.dirty() || b.state.get() == SaveState::Saving
                        on:click=move |_| b.save(b.etag.get_untracked())>"Save"</button>
                    <span class="save-state" id="save-state">{move || match b.state.get() {
                        SaveState::Saving => "Saving…".to_string(),
                        SaveState::Failed(e) => e,
                        SaveState::Conflict => "Not saved: the scene changed on the server.".into(),
                        _ if b.dirty() => "Unsaved changes".into(),
                        SaveState::Saved => "Saved".into(),
                        SaveState::Loaded => String::new(),
                    }}</span>
                    <a href=view_href rel="external" id="view-scene">"View"</a>
                </div>
                <ConflictBox b=b/>
                <nav class="tabs builder-tabs">
                    {[("elements", "Elements"), ("behaviors", "Behaviors"), ("json", "JSON")].into_iter().map(|(key, label)| view! {
                        <button class:active=move || tab.get() == key data-tab=key on:click=move |_| tab.set(key)>{label}</button>
                    }).collect_view()}
                </nav>
                {move || match tab.get() {
                    "elements" => view! { <elements::ElementsPanel b=b/> }.into_any(),
                    "behaviors" => view! { <behaviors::BehaviorsPanel b=b rt=rt/> }.into_any(),
                    _ => view! { <JsonPanel b=b/> }.into_any(),
                }}
            </aside>
        </div>
    }
}

/// A save that met a newer scene: what differs, and the two ways out.
#[component]
fn ConflictBox(b: Builder) -> impl IntoView {
    move || {
        b.conflict.get().map(|c| {
            let (theirs, etag) = (c.theirs.clone(), c.etag.clone());
            let overwrite_etag = c.etag.clone();
            view! {
                <div class="conflict" id="conflict" role="alert">
                    <p>"Someone saved this scene after you opened it. What differs between yours and theirs:"</p>
                    <ul>{c.differences.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view()}</ul>
                    <button id="conflict-reload" on:click=move |_| {
                        b.edit(|d| *d = theirs.clone());
                        b.saved.set(theirs.clone());
                        b.etag.set(etag.clone());
                        b.conflict.set(None);
                        b.state.set(SaveState::Loaded);
                    }>"Load theirs (undo brings yours back)"</button>
                    <button id="conflict-overwrite" on:click=move |_| b.save(overwrite_etag.clone())>"Save mine over theirs"</button>
                </div>
            }
        })
    }
}

/// The scene's JSON, to read and export.
#[component]
fn JsonPanel(b: Builder) -> impl IntoView {
    let text = move || serde_json::to_string_pretty(&b.draft.get()).unwrap_or_default();
    let export = move |_| {
        let name = format!("{}.json", b.id.get_value());
        download(&name, &text());
    };
    view! {
        <section class="json-panel">
            <p class="hint">"What will be saved (Scenes Studio's 3DScenesConfiguration format)."</p>
            <button id="export-json" on:click=export>"Export"</button>
            <pre id="scene-json">{text}</pre>
        </section>
    }
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let link = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlAnchorElement>(a).ok());
    if let Some(a) = link {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
