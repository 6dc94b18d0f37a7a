//! The 3D scene viewer: a Bevy canvas plus a side panel, bridged through the
//! viewer's link (commands in, events out, drained every animation frame).

use super::color::{SWATCHES, parse_hex};
use leptos::prelude::*;
use leptos_bevy_canvas::prelude::BevyCanvas;
use leptos_use::use_raf_fn;
use twinscape_viewer::{ElementInfo, ViewerCommand, ViewerEvent, ViewerLink};

/// A canvas id of its own for each viewer on the page.
fn next_canvas_id() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("twinscape-canvas-{n}")
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
            ViewerEvent::Loaded { elements, .. } => {
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
            ViewerEvent::Camera {
                clip_from_world,
                viewport,
            } => {
                let m: Vec<String> = clip_from_world.iter().map(|v| v.to_string()).collect();
                self.clip_from_world.set(m.join(","));
                self.viewport
                    .set(format!("{},{}", viewport[0], viewport[1]));
            }
        }
    }
}

/// Blue at 18 °C, green at 21 °C, red at 24 °C, in 0.5 °C steps so that
/// rooms share a few materials.
pub fn temperature_color(t: f64) -> [f32; 4] {
    let t = ((t * 2.0).round() / 2.0).clamp(18.0, 24.0);
    let (cold, ok, hot) = ([0.20, 0.45, 0.95], [0.30, 0.75, 0.35], [0.92, 0.25, 0.20]);
    let (a, b, f) = if t <= 21.0 {
        (cold, ok, (t - 18.0) / 3.0)
    } else {
        (ok, hot, (t - 21.0) / 3.0)
    };
    let mix = |i: usize| (a[i] + (b[i] - a[i]) * f) as f32;
    [mix(0), mix(1), mix(2), 1.0]
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

/// A 3D view of `model_url` with element selection and recolouring.
#[component]
pub fn SceneViewer(model_url: String) -> impl IntoView {
    let link = ViewerLink::new();
    link.send(ViewerCommand::LoadModel {
        url: model_url.clone(),
    });
    let ui = ViewerUi::new();

    let events = link.clone();
    let _raf = use_raf_fn(move |_| {
        for event in events.drain_events() {
            ui.apply(event);
        }
        if let Some(msg) = crate::mount::take_panic() {
            ui.status.set("failed");
            ui.error.set(Some(format!("The 3D viewer stopped: {msg}")));
        }
    });

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

    // Colour rooms (any element whose twin has a temperature) by their live
    // temperature: one effect per element, fed by that twin's property memo,
    // so a delta recolours only the elements it touches.
    let live = crate::state::live::use_live();
    let by_temperature = RwSignal::new(true);
    let color_link = link.clone();
    Effect::new(move |_| {
        let on = by_temperature.get();
        for e in ui.elements.get() {
            let temperature = live.prop(&e.name, "temperature");
            let (link, name) = (color_link.clone(), e.name.clone());
            Effect::new(move |_| {
                let rgba = temperature
                    .get()
                    .and_then(|v| v.as_f64())
                    .filter(|_| on)
                    .map(temperature_color);
                if rgba.is_some() || !on {
                    link.send(ViewerCommand::SetColor {
                        name: name.clone(),
                        rgba,
                    });
                }
            });
        }
    });

    view! {
        <div class="scene-layout">
            <div
                id="viewer"
                class="viewer"
                data-status=move || ui.status.get()
                data-model=model_url.clone()
                data-clip-from-world=move || ui.clip_from_world.get()
                data-viewport=move || ui.viewport.get()
                data-started-ms=move || fmt_ms(ui.started_ms.get())
                data-first-frame-ms=move || fmt_ms(ui.rendered_ms.get())
            >
                <BevyCanvas init=init canvas_id=canvas_id/>
                <Show when=move || ui.status.get() == "loading" || ui.status.get() == "starting">
                    <div class="viewer-overlay" id="viewer-loading">"Loading 3D model…"</div>
                </Show>
                <Show when=move || ui.error.get().is_some()>
                    <div class="viewer-overlay viewer-error" id="viewer-error" role="alert">
                        {move || ui.error.get().unwrap_or_default()}
                    </div>
                </Show>
            </div>
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
                    <label class="toggle">
                        <input type="checkbox" id="color-by-temperature"
                            prop:checked=move || by_temperature.get()
                            on:change=move |ev| by_temperature.set(event_target_checked(&ev))/>
                        " Colour rooms by live temperature"
                    </label>
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
        </div>
    }
}
