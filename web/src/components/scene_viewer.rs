//! The 3D scene viewer: a Bevy canvas plus a side panel, bridged through the
//! viewer's link (commands in, events out, drained every animation frame).

use super::color::{SWATCHES, parse_hex};
use super::scene_panel::{Badges, Layers, Legend, SceneElements, ScenePopover};
use super::scene_runtime::SceneRuntime;
use crate::embed::{Embed, EmbedCommand, element_detail};
use leptos::prelude::*;
use leptos_bevy_canvas::prelude::BevyCanvas;
use leptos_use::use_raf_fn;
use twinscape_viewer::{ElementInfo, ViewerCommand, ViewerEvent, ViewerLink};

/// A canvas id of its own for each viewer on the page.
fn next_canvas_id() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Several copies of the app (embedded scenes) may share one page.
    let copy = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("twinscape-canvas-{copy:08x}-{n}")
}

/// winit allows one event loop, so one Bevy app, per copy of the app: a
/// second viewer in the same page (an in-app navigation back to a scene,
/// history's back button) reloads the page instead of failing. Once: a
/// reload within 10 s of the last one shows the error instead of looping.
fn second_viewer_reloads() -> bool {
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !STARTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    let Some(window) = web_sys::window() else {
        return false;
    };
    let now = js_sys::Date::now();
    let storage = window.session_storage().ok().flatten();
    let last: f64 = storage
        .as_ref()
        .and_then(|s| s.get_item("twinscape-viewer-reload").ok().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if now - last < 10_000.0 {
        return false;
    }
    if let Some(s) = &storage {
        let _ = s.set_item("twinscape-viewer-reload", &now.to_string());
    }
    window.location().reload().is_ok()
}

fn now_ms() -> Option<f64> {
    web_sys::window()?.performance().map(|p| p.now())
}

/// Reactive view of the viewer's state, fed by its events.
#[derive(Clone, Copy)]
struct ViewerUi {
    /// "starting", "loading", "loaded", "rendered" or "failed".
    status: RwSignal<&'static str>,
    error: RwSignal<Option<String>>,
    elements: RwSignal<Vec<ElementInfo>>,
    selected: RwSignal<Option<String>>,
    hovered: RwSignal<Option<String>>,
    shared_meshes: RwSignal<usize>,
    camera: RwSignal<Option<([f32; 16], [f32; 2])>>,
    clip_from_world: RwSignal<String>,
    viewport: RwSignal<String>,
    started_ms: RwSignal<Option<f64>>,
    rendered_ms: RwSignal<Option<f64>>,
}

impl ViewerUi {
    fn new() -> Self {
        Self {
            status: RwSignal::new("starting"),
            error: RwSignal::new(None),
            elements: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            hovered: RwSignal::new(None),
            shared_meshes: RwSignal::new(0),
            camera: RwSignal::new(None),
            clip_from_world: RwSignal::new(String::new()),
            viewport: RwSignal::new(String::new()),
            started_ms: RwSignal::new(None),
            rendered_ms: RwSignal::new(None),
        }
    }

    fn apply(&self, event: ViewerEvent) {
        match event {
            ViewerEvent::Started => self.started_ms.set(now_ms()),
            ViewerEvent::Loading { .. } => {
                self.status.set("loading");
                self.error.set(None);
                self.elements.set(Vec::new());
                self.selected.set(None);
            }
            ViewerEvent::Loaded {
                elements,
                shared_meshes,
                ..
            } => {
                self.shared_meshes.set(shared_meshes);
                self.status.set("loaded");
                self.elements.set(elements);
            }
            ViewerEvent::LoadFailed { url, error } => {
                self.status.set("failed");
                self.error
                    .set(Some(format!("Could not load the 3D model {url}: {error}")));
            }
            ViewerEvent::ModelRendered => {
                self.status.set("rendered");
                if self.rendered_ms.get_untracked().is_none() {
                    self.rendered_ms.set(now_ms());
                }
            }
            ViewerEvent::Selected { name } => self.selected.set(name),
            ViewerEvent::Hovered { name } => self.hovered.set(name),
            ViewerEvent::Clicked { .. } => {}
            ViewerEvent::Camera {
                clip_from_world,
                viewport,
            } => {
                self.camera.set(Some((clip_from_world, viewport)));
                let m: Vec<String> = clip_from_world.iter().map(|v| v.to_string()).collect();
                self.clip_from_world.set(m.join(","));
                self.viewport
                    .set(format!("{},{}", viewport[0], viewport[1]));
            }
        }
    }
}

/// Rewrites `?layers=` and `?element=` of the page's URL in place (no
/// navigation; other parameters stay).
fn deep_link(layers: Option<&[String]>, element: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return;
    };
    match layers {
        Some(l) => params.set("layers", &l.join(",")),
        None => params.delete("layers"),
    }
    match element {
        Some(e) => params.set("element", e),
        None => params.delete("element"),
    }
    let query = String::from(params.to_string());
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}")).unwrap_or_default()
}

fn center(e: &ElementInfo) -> String {
    let c: Vec<String> = (0..3)
        .map(|i| format!("{}", (e.min[i] + e.max[i]) / 2.0))
        .collect();
    c.join(",")
}

/// Carries out a command of the embedding page.
fn embed_command(
    embed: &Embed,
    rt: SceneRuntime,
    link: &ViewerLink,
    pick: Callback<String>,
    cmd: EmbedCommand,
) {
    let known = |id: &str| !rt.meshes_of(id).is_empty();
    match cmd {
        EmbedCommand::Select(id) if known(&id) => pick.run(id),
        EmbedCommand::FlyTo(id) if known(&id) => link.send(ViewerCommand::Focus {
            names: rt.meshes_of(&id),
        }),
        EmbedCommand::Select(id) | EmbedCommand::FlyTo(id) => embed.error(
            "ElementNotFound",
            &format!("The scene has no element '{id}' with meshes."),
        ),
        EmbedCommand::Layers(layers) => rt.layers.set(layers),
    }
}

/// Tells the embedding page what the viewer reports, in the scene's terms.
fn embed_event(
    embed: &Embed,
    rt: SceneRuntime,
    event: &ViewerEvent,
    ui: &ViewerUi,
    hovered: StoredValue<Option<String>>,
) {
    let detail = |element: &str| {
        rt.scene()
            .map(|s| {
                rt.states
                    .with_untracked(|st| element_detail(&s, element, st))
            })
            .unwrap_or_else(|| serde_json::json!({"elementId": element}))
    };
    match event {
        ViewerEvent::Clicked {
            name: Some(mesh), ..
        } => {
            if let Some(element) = rt.element_of_mesh(mesh) {
                embed.emit("element-click", detail(&element));
            }
        }
        ViewerEvent::Hovered { name } => {
            let element = name.as_deref().and_then(|m| rt.element_of_mesh(m));
            if hovered.get_value() == element {
                return;
            }
            hovered.set_value(element.clone());
            let d = match &element {
                Some(e) => detail(e),
                None => serde_json::json!({"elementId": null}),
            };
            embed.emit("element-hover", d);
        }
        ViewerEvent::ModelRendered if ui.rendered_ms.get_untracked().is_none() => {
            let elements = rt.scene().map(|s| s.elements.len()).unwrap_or(0);
            embed.emit(
                "scene-loaded",
                serde_json::json!({"sceneId": rt.scene_id.get_value(), "elements": elements}),
            );
        }
        ViewerEvent::LoadFailed { url, error } => embed.error(
            "AssetLoadFailed",
            &format!("Could not load the 3D model {url}: {error}"),
        ),
        _ => {}
    }
}

/// A 3D view of `model_url`. With a `scene`, its elements are coloured and
/// badged by the scene's rules, live, with layers, a legend, the elements
/// list and a popover (`element` picks one at start, as `?element=` does);
/// without, every mesh is listed and can be recoloured by hand.
#[component]
pub fn SceneViewer(
    model_url: String,
    #[prop(optional)] scene: Option<SceneRuntime>,
    #[prop(optional)] element: Option<String>,
    /// Leave out the side panel (an embedded scene).
    #[prop(optional)]
    bare: bool,
    /// Every click on a mesh (`None`: the background) with Shift's state,
    /// for a builder; the scene's popover is then left out.
    #[prop(optional)]
    on_click: Option<Callback<(Option<String>, bool)>>,
) -> impl IntoView {
    if second_viewer_reloads() {
        return view! { <div class="placeholder" id="viewer-reloading">"Loading…"</div> }
            .into_any();
    }
    let link = ViewerLink::new();
    link.send(ViewerCommand::LoadModel {
        url: model_url.clone(),
    });
    let ui = ViewerUi::new();

    let canvas_id = next_canvas_id();
    let init_link = link.clone();
    let selector = format!("#{canvas_id}");
    let init = move || twinscape_viewer::build_app(&selector, init_link);

    let select_link = link.clone();
    let select = move |name: String| select_link.send(ViewerCommand::Select { name: Some(name) });
    let color_link = link.clone();
    let recolor = move |rgba: Option<[f32; 4]>| {
        if let Some(name) = ui.selected.get_untracked() {
            color_link.send(ViewerCommand::SetColor { name, rgba });
        }
    };
    let fit_link = link.clone();

    // The scene's picked element (a mesh click picks the element it belongs to).
    let picked = RwSignal::new(None::<String>);
    let pick_link = link.clone();
    let pick = Callback::new(move |id: String| {
        let Some(rt) = scene else { return };
        let meshes = rt.meshes_of(&id);
        picked.set(Some(id));
        if let Some(first) = meshes.first() {
            pick_link.send(ViewerCommand::Select {
                name: Some(first.clone()),
            });
        }
        pick_link.send(ViewerCommand::Focus { names: meshes });
    });
    let start_element = StoredValue::new(element.filter(|e| !e.is_empty()));
    let events = link.clone();
    let embed = crate::embed::use_embed();
    let pointer_shift = StoredValue::new(false);
    let hovered_element = StoredValue::new(None::<String>);
    let _raf = use_raf_fn(move |_| {
        if let (Some(embed), Some(rt)) = (&embed, scene) {
            for cmd in embed.take() {
                embed_command(embed, rt, &events, pick, cmd);
            }
        }
        for event in events.drain_events() {
            if let (Some(f), ViewerEvent::Clicked { name, shift }) = (on_click, &event) {
                // Shift as the page saw it on the press too: Bevy's key state
                // misses a Shift pressed while its canvas had no focus.
                f.run((name.clone(), *shift || pointer_shift.get_value()));
            }
            if let (Some(embed), Some(rt)) = (&embed, scene) {
                embed_event(embed, rt, &event, &ui, hovered_element);
            }
            if let Some(rt) = scene {
                match &event {
                    ViewerEvent::Loaded { .. } => {
                        rt.resend();
                        if let Some(e) = start_element.get_value() {
                            let meshes = rt.meshes_of(&e);
                            picked.set(Some(e));
                            events.send(ViewerCommand::Focus { names: meshes });
                        }
                    }
                    ViewerEvent::Selected { name } => {
                        picked.set(name.as_deref().and_then(|m| rt.element_of_mesh(m)));
                    }
                    _ => {}
                }
            }
            ui.apply(event);
        }
        if let Some(rt) = scene {
            rt.frame(&events, now_ms().unwrap_or(0.0));
        }
        if let Some(msg) = crate::mount::take_panic() {
            let msg = format!("The 3D viewer stopped: {msg}");
            if let Some(embed) = &embed {
                embed.error("ViewerFailed", &msg);
            }
            ui.status.set("failed");
            ui.error.set(Some(msg));
        }
    });

    let scene_id = scene.map(|rt| rt.scene_id.get_value()).unwrap_or_default();
    let scene_mode = scene.is_some();
    // The address bar follows the layer choice and the picked element, so
    // that the page's link opens the scene as it is now.
    if let Some(rt) = scene.filter(|_| !bare) {
        Effect::new(move |_| {
            let layers = rt.layers.get();
            let element = picked.get();
            deep_link(layers.as_deref(), element.as_deref());
        });
    }

    view! {
        <div class="scene-layout">
            <div
                id="viewer"
                class="viewer"
                on:pointerdown=move |e| pointer_shift.set_value(e.shift_key())
                data-status=move || ui.status.get()
                data-model=model_url.clone()
                data-scene=scene_id
                data-hovered=move || ui.hovered.get().unwrap_or_default()
                data-shared-meshes=move || ui.shared_meshes.get().to_string()
                data-states-version=move || scene.map(|rt| rt.version.get().to_string()).unwrap_or_default()
                data-clip-from-world=move || ui.clip_from_world.get()
                data-viewport=move || ui.viewport.get()
                data-started-ms=move || fmt_ms(ui.started_ms.get())
                data-first-frame-ms=move || fmt_ms(ui.rendered_ms.get())
            >
                <BevyCanvas init=init canvas_id=canvas_id/>
                <Show when=move || ui.status.get() == "loading" || ui.status.get() == "starting">
                    <div class="viewer-overlay" id="viewer-loading">"Loading 3D model…"</div>
                </Show>
                {scene.map(|rt| view! {
                    <Badges rt=rt bounds=ui.elements camera=ui.camera/>
                    {on_click.is_none().then(|| view! { <ScenePopover rt=rt picked=picked/> })}
                })}
                <Show when=move || ui.hovered.get().is_some()>
                    <div class="hover-name" id="hover-name">{move || {
                        let mesh = ui.hovered.get().unwrap_or_default();
                        scene.and_then(|rt| rt.element_of_mesh(&mesh)).unwrap_or(mesh)
                    }}</div>
                </Show>
                <Show when=move || ui.error.get().is_some()>
                    <div class="viewer-overlay viewer-error" id="viewer-error" role="alert">
                        {move || ui.error.get().unwrap_or_default()}
                    </div>
                </Show>
            </div>
            {(!bare && scene_mode).then(|| scene.map(|rt| view! {
                <aside class="side-panel scene-panel">
                    <Layers rt=rt/>
                    <Legend rt=rt/>
                    <SceneElements rt=rt picked=picked pick=pick/>
                    <button class="fit" id="fit-view" on:click={
                        let l = link.clone();
                        move |_| l.send(ViewerCommand::FitToModel)
                    }>"Fit to model"</button>
                </aside>
            }))}
            {(!bare && !scene_mode).then(|| view! {
            <aside class="side-panel">
                <section>
                    <h2>"Selection"</h2>
                    <p class="selected">
                        "Selected: "
                        <strong id="selected-name">
                            {move || ui.selected.get().unwrap_or_else(|| "none".into())}
                        </strong>
                    </p>
                    <div class="swatches" id="recolor-controls">
                        {SWATCHES
                            .iter()
                            .map(|(label, hex)| {
                                let rgba = parse_hex(hex);
                                let recolor = recolor.clone();
                                view! {
                                    <button
                                        class="swatch"
                                        data-color=*hex
                                        title=*label
                                        style=format!("--swatch: {hex}")
                                        disabled=move || ui.selected.get().is_none()
                                        on:click=move |_| recolor(rgba)
                                    >
                                        {*label}
                                    </button>
                                }
                            })
                            .collect_view()}
                        <button
                            class="swatch reset"
                            id="recolor-reset"
                            disabled=move || ui.selected.get().is_none()
                            on:click={
                                let recolor = recolor.clone();
                                move |_| recolor(None)
                            }
                        >
                            "Reset"
                        </button>
                    </div>
                    <button
                        class="fit"
                        id="fit-view"
                        on:click=move |_| fit_link.send(ViewerCommand::FitToModel)
                    >
                        "Fit to model"
                    </button>
                </section>
                <section class="elements">
                    <h2>"Elements " <span class="count">{move || ui.elements.with(|e| e.len())}</span></h2>
                    <ul id="element-list">
                        <For
                            each=move || ui.elements.get()
                            key=|e| e.name.clone()
                            children=move |e| {
                                let name = e.name.clone();
                                let select = select.clone();
                                let is_selected = {
                                    let name = name.clone();
                                    move || ui.selected.with(|s| s.as_deref() == Some(name.as_str()))
                                };
                                view! {
                                    <li>
                                        <button
                                            class="element"
                                            class:selected=is_selected
                                            data-element=name.clone()
                                            data-center=center(&e)
                                            on:click={
                                                let name = name.clone();
                                                move |_| select(name.clone())
                                            }
                                        >
                                            {name.clone()}
                                        </button>
                                    </li>
                                }
                            }
                        />
                    </ul>
                </section>
            </aside>
            })}
        </div>
    }
    .into_any()
}
