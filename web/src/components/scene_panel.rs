//! The parts of a scene around the 3D view: layers, the legend of active
//! rules (with a rule's error on it), the elements list with search and
//! fly-to, the badges over the meshes and the element's popover (its
//! widgets, live, and a property tab).

use super::scene_runtime::{SceneRuntime, element_badges, glyph};
use super::twin_panel::{TwinPanel, short};
use crate::state::live::use_live;
use leptos::prelude::*;
use serde_json::Value as Json;
use std::collections::HashMap;
use twinscape_scene::DEFAULT_LAYER_ID;
use twinscape_scene::config::{
    Element, ExpressionType, RangeValue, ScenesConfig, ValueRange, Visual, Widget,
};
use twinscape_scene::expr;
use twinscape_viewer::ElementInfo;

/// A range as a legend shows it: `[min, max)` or the listed values.
pub fn range_text(expression_type: &ExpressionType, range: &ValueRange) -> String {
    let bound = |v: &RangeValue| {
        let x = v.as_bound();
        if x.is_infinite() {
            if x > 0.0 {
                "∞".into()
            } else {
                "−∞".into()
            }
        } else {
            expr::number_to_string(x)
        }
    };
    match (expression_type, range.values.as_slice()) {
        (ExpressionType::NumericRange, [min, max]) => format!("[{}, {})", bound(min), bound(max)),
        _ => range
            .values
            .iter()
            .map(|v| match v {
                RangeValue::String(s) => s.clone(),
                RangeValue::Bool(b) => b.to_string(),
                RangeValue::Number(n) => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The layer choices of a scene: its layers with behaviors in it, then the
/// default layer when some of its behaviors are in none.
pub fn scene_layers(config: &ScenesConfig, scene_id: &str) -> Vec<(String, String)> {
    let Some(scene) = config.scene(scene_id) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = config
        .configuration
        .layers
        .iter()
        .filter(|l| {
            l.behavior_ids
                .iter()
                .any(|b| scene.behavior_ids.contains(b))
        })
        .map(|l| (l.id.clone(), l.display_name.clone()))
        .collect();
    let unlayered = scene
        .behavior_ids
        .iter()
        .any(|b| config.layers_of_behavior(b).next().is_none());
    if unlayered {
        out.push((DEFAULT_LAYER_ID.to_string(), "Default layer".to_string()));
    }
    out
}

/// Layer checkboxes: unticking one hides its behaviors' colours and badges.
#[component]
pub fn Layers(rt: SceneRuntime) -> impl IntoView {
    let choices = Memo::new(move |_| {
        let id = rt.scene_id.get_value();
        rt.config
            .get()
            .map(|c| scene_layers(&c, &id))
            .unwrap_or_default()
    });
    let toggle = move |layer: String, on: bool| {
        let all: Vec<String> = choices
            .get_untracked()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut now = rt.layers.get_untracked().unwrap_or_else(|| all.clone());
        now.retain(|l| *l != layer);
        if on {
            now.push(layer);
        }
        // Every layer on is the same as no choice (and keeps new layers on).
        let every = all.iter().all(|l| now.contains(l));
        rt.layers.set(if every { None } else { Some(now) });
    };
    view! {
        <section class="layers" id="layers">
            <h2>"Layers"</h2>
            <Show when=move || !choices.get().is_empty() fallback=|| view! { <p class="hint">"This scene has no layers."</p> }>
                <ul>
                    <For each=move || choices.get() key=|(id, _)| id.clone() children=move |(id, name)| {
                        let checked = {
                            let id = id.clone();
                            move || rt.layers.get().is_none_or(|l| l.contains(&id))
                        };
                        let toggle = toggle;
                        let lid = id.clone();
                        view! {
                            <li>
                                <label>
                                    <input type="checkbox" data-layer=id.clone() prop:checked=checked
                                        on:change=move |ev| toggle(lid.clone(), event_target_checked(&ev))/>
                                    " " {name}
                                </label>
                            </li>
                        }
                    }/>
                </ul>
            </Show>
        </section>
    }
}

/// A legend line: range id, its text, colour, icon, elements in it now.
type RangeRow = (String, String, Option<String>, Option<String>, usize);

/// The legend: every colour rule of the shown behaviors with its ranges,
/// how many elements are in each now, and a rule's error.
#[component]
pub fn Legend(rt: SceneRuntime) -> impl IntoView {
    let rows = Memo::new(move |_| {
        let id = rt.scene_id.get_value();
        let layers = rt.layers.get();
        let Some(config) = rt.config.get() else {
            return Vec::new();
        };
        let states = rt.states.get();
        let Some(scene) = config.scene(&id) else {
            return Vec::new();
        };
        let names: Option<Vec<&str>> = layers
            .as_ref()
            .map(|l| l.iter().map(String::as_str).collect());
        let mut out = Vec::new();
        for b in config.scene_behaviors(scene, names.as_deref()) {
            for (i, v) in b.visuals.iter().enumerate() {
                let Visual::ExpressionRange(v) = v else {
                    continue;
                };
                let mine: Vec<_> = states
                    .iter()
                    .filter(|s| s.behavior == b.id && s.visual == i)
                    .collect();
                let error = mine.iter().find_map(|s| s.error.clone());
                let ranges: Vec<RangeRow> = v
                    .value_ranges
                    .iter()
                    .map(|r| {
                        let n = mine
                            .iter()
                            .filter(|s| s.range.as_deref() == Some(r.id.as_str()))
                            .count();
                        (
                            r.id.clone(),
                            range_text(&v.expression_type, r),
                            r.visual.color.clone(),
                            r.visual.icon_name.clone(),
                            n,
                        )
                    })
                    .collect();
                out.push((
                    b.id.clone(),
                    b.display_name.clone(),
                    v.value_expression.clone(),
                    i,
                    error,
                    ranges,
                ));
            }
        }
        out
    });
    view! {
        <section class="legend" id="legend">
            <h2>"Rules"</h2>
            <For each=move || rows.get() key=|r| format!("{r:?}")
                children=move |(behavior, name, expression, visual, error, ranges)| view! {
                    <div class="rule" data-behavior=behavior.clone() data-visual=visual.to_string()>
                        <div class="rule-name">{name}</div>
                        <code class="rule-expr">{expression}</code>
                        {error.map(|e| view! { <p class="rule-error" role="alert">{format!("This rule cannot be evaluated: {e}")}</p> })}
                        <ul>
                            {ranges.into_iter().map(|(id, text, color, icon, n)| view! {
                                <li data-range=id.clone() data-count=n.to_string()>
                                    <span class="chip" style=format!("background: {}", color.clone().unwrap_or_else(|| "transparent".into()))></span>
                                    {icon.map(|i| view! { <span class="legend-icon" title=i.clone()>{glyph(&i)}</span> })}
                                    <span class="range">{text}</span>
                                    <span class="count">{n}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                }/>
        </section>
    }
}

/// Most elements listed at once.
pub const ELEMENTS_SHOWN: usize = 200;

/// The scene's elements with a search box; a click selects and flies to one.
#[component]
pub fn SceneElements(
    rt: SceneRuntime,
    picked: RwSignal<Option<String>>,
    pick: Callback<String>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let elements = Memo::new(move |_| {
        let _ = rt.config.get();
        rt.scene()
            .map(|s| {
                s.elements
                    .iter()
                    .filter_map(|e| match e {
                        Element::TwinToObjectMapping(m) => Some((
                            m.id.clone(),
                            m.display_name.clone(),
                            m.primary_twin_id.clone(),
                        )),
                        Element::Other(_) => None,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    // Matches of the search, at most `ELEMENTS_SHOWN` of them (a big
    // model's list would cost more than the 3D view): (shown, all matches).
    let matches = Memo::new(move |_| {
        let q = search.get().to_lowercase();
        elements.with(|all| {
            let mut n = 0;
            let mut shown = Vec::new();
            for (id, name, twin) in all {
                if q.is_empty()
                    || id.to_lowercase().contains(&q)
                    || name.to_lowercase().contains(&q)
                    || twin.to_lowercase().contains(&q)
                {
                    n += 1;
                    if shown.len() < ELEMENTS_SHOWN {
                        shown.push((id.clone(), name.clone(), twin.clone()));
                    }
                }
            }
            (shown, n)
        })
    });
    let shown = move || matches.get().0;
    view! {
        <section class="elements">
            <h2>"Elements " <span class="count">{move || elements.with(Vec::len)}</span></h2>
            <input type="search" id="element-search" placeholder="Search elements and twins"
                prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
            <ul id="scene-elements">
                <For each=shown key=|(id, _, _)| id.clone() children=move |(id, name, twin)| {
                    let selected = {
                        let id = id.clone();
                        move || picked.with(|p| p.as_deref() == Some(id.as_str()))
                    };
                    let eid = id.clone();
                    let twin_attr = twin.clone();
                    view! {
                        <li>
                            <button class="element" class:selected=selected data-element=id data-twin=twin_attr
                                on:click=move |_| pick.run(eid.clone())>
                                {name}
                                <span class="twin-id">{twin}</span>
                            </button>
                        </li>
                    }
                }/>
            </ul>
            <Show when=move || matches.with(|(s, n)| s.len() < *n)>
                <p class="hint" id="elements-more">
                    {move || matches.with(|(s, n)| format!("{} of {n} shown; search to find the others.", s.len()))}
                </p>
            </Show>
        </section>
    }
}

/// Projects a world point with a column-major clip-from-world matrix into
/// CSS pixels of a `viewport`; `None` behind the camera.
pub fn project(m: &[f32; 16], viewport: [f32; 2], p: [f32; 3]) -> Option<(f32, f32)> {
    let v = [p[0], p[1], p[2], 1.0];
    let row = |r: usize| (0..4).map(|c| m[c * 4 + r] * v[c]).sum::<f32>();
    let (x, y, w) = (row(0), row(1), row(3));
    if w <= 1e-6 {
        return None;
    }
    Some((
        (x / w + 1.0) / 2.0 * viewport[0],
        (1.0 - y / w) / 2.0 * viewport[1],
    ))
}

/// The badges over the meshes: one group per element, anchored above the
/// top of its meshes' bounds, following the camera.
#[component]
pub fn Badges(
    rt: SceneRuntime,
    bounds: RwSignal<Vec<ElementInfo>>,
    camera: RwSignal<Option<([f32; 16], [f32; 2])>>,
) -> impl IntoView {
    let anchors = Memo::new(move |_| {
        let by_mesh: HashMap<String, ElementInfo> = bounds
            .get()
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        let _ = rt.config.get();
        rt.scene()
            .map(|s| {
                s.elements
                    .iter()
                    .filter_map(|e| e.as_twin_to_object_mapping())
                    .filter_map(|m| {
                        let (mut lo, mut hi) = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
                        for b in m.object_ids.iter().filter_map(|o| by_mesh.get(o)) {
                            for i in 0..3 {
                                lo[i] = lo[i].min(b.min[i]);
                                hi[i] = hi[i].max(b.max[i]);
                            }
                        }
                        (lo[0] <= hi[0]).then(|| {
                            (
                                m.id.clone(),
                                [(lo[0] + hi[0]) / 2.0, hi[1], (lo[2] + hi[2]) / 2.0],
                            )
                        })
                    })
                    .collect::<HashMap<_, _>>()
            })
            .unwrap_or_default()
    });
    let groups = move || {
        let badges = rt.states.with(|s| element_badges(s));
        let anchors = anchors.get();
        let cam = camera.get();
        badges
            .into_iter()
            .filter_map(|(element, list)| {
                let (m, vp) = cam?;
                let (x, y) = project(&m, vp, *anchors.get(&element)?)?;
                Some((element, list, x, y))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="badges" id="badges">
            {move || groups().into_iter().map(|(element, list, x, y)| view! {
                <div class="badge-group" data-element=element.clone() style=format!("left: {x:.0}px; top: {y:.0}px")>
                    {list.into_iter().map(|b| view! {
                        <span class="badge" data-icon=b.icon.clone() data-behavior=b.behavior.clone()
                            title=b.label.clone().unwrap_or_else(|| b.icon.clone())
                            style=format!("background: {}", b.color.clone().unwrap_or_else(|| "#444".into()))>
                            {glyph(&b.icon)}
                        </span>
                        {b.label.map(|l| view! { <span class="badge-label">{l}</span> })}
                    }).collect_view()}
                </div>
            }).collect_view()}
        </div>
    }
}

/// One evaluated popover widget, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub enum WidgetView {
    Gauge {
        label: String,
        value: Option<f64>,
        units: String,
        color: Option<String>,
        min: f64,
        max: f64,
    },
    Value {
        label: String,
        text: String,
    },
    Link {
        label: String,
        href: String,
    },
    Note {
        label: String,
        text: String,
    },
}

/// The popover widgets of `element` in the shown behaviors, evaluated over
/// `docs` (the element's primary twin and aliases): (behavior title, widgets).
pub fn popover_widgets(
    config: &ScenesConfig,
    scene_id: &str,
    layers: Option<&[&str]>,
    element: &str,
    docs: &HashMap<String, Json>,
) -> Vec<(String, Vec<WidgetView>)> {
    let Some(scene) = config.scene(scene_id) else {
        return Vec::new();
    };
    let Some(mapping) = scene
        .element(element)
        .and_then(|e| e.as_twin_to_object_mapping())
    else {
        return Vec::new();
    };
    let resolve = |name: &str| -> Option<&Json> {
        if name == "PrimaryTwin" {
            return docs.get(&mapping.primary_twin_id);
        }
        docs.get(mapping.twin_alias(name)?)
    };
    let value_of = |text: &str| expr::parse(text).map(|e| e.eval(&resolve));
    let mut out = Vec::new();
    for b in config.scene_behaviors(scene, layers) {
        if !b.element_ids().any(|e| e == element) {
            continue;
        }
        for v in &b.visuals {
            let Visual::Popover(p) = v else { continue };
            let widgets = p
                .widgets
                .iter()
                .map(|w| match w {
                    Widget::Gauge(g) => {
                        let c = &g.widget_configuration;
                        let value = value_of(&g.value_expression).ok().map(|v| v.to_number()).filter(|x| !x.is_nan());
                        let color = value.and_then(|x| {
                            c.value_ranges.iter().find(|r| r.contains_number(x)).and_then(|r| r.visual.color.clone())
                        });
                        let finite = |v: Option<&RangeValue>| v.map(RangeValue::as_bound).filter(|x| x.is_finite());
                        let min = finite(c.value_ranges.first().and_then(|r| r.values.first())).unwrap_or(0.0);
                        let max = finite(c.value_ranges.last().and_then(|r| r.values.get(1))).unwrap_or(100.0);
                        WidgetView::Gauge { label: c.label.clone(), value, units: c.units.clone().unwrap_or_default(), color, min, max }
                    }
                    Widget::Value(w) => {
                        let c = &w.widget_configuration;
                        let text = match value_of(&c.value_expression) {
                            Ok(v) => v.to_string(),
                            Err(e) => format!("error: {e}"),
                        };
                        WidgetView::Value { label: c.display_name.clone(), text }
                    }
                    Widget::Link(w) => {
                        let c = &w.widget_configuration;
                        let href = match expr::template(&c.link_expression) {
                            Ok(t) => t.eval(&resolve).to_string(),
                            Err(_) => c.link_expression.clone(),
                        };
                        WidgetView::Link { label: c.label.clone(), href }
                    }
                    Widget::DataHistory(w) => WidgetView::Note {
                        label: w.widget_configuration.display_name.clone(),
                        text: "Data history is read from Azure Data Explorer in Scenes Studio; this server keeps no history store for it yet.".into(),
                    },
                    Widget::PowerBi(_) => WidgetView::Note { label: "Power BI".into(), text: "Power BI widgets are not shown here.".into() },
                    Widget::Other(m) => WidgetView::Note {
                        label: m.get("type").and_then(Json::as_str).unwrap_or("Widget").to_string(),
                        text: "This widget type is not supported.".into(),
                    },
                })
                .collect();
            out.push((p.title.clone(), widgets));
        }
    }
    out
}

/// The popover of the picked element: its widgets, live, and its twin's
/// properties.
#[component]
pub fn ScenePopover(rt: SceneRuntime, picked: RwSignal<Option<String>>) -> impl IntoView {
    let live = use_live();
    let tab = RwSignal::new("widgets");
    let content = move || {
        let element = picked.get()?;
        let config = rt.config.get()?;
        let id = rt.scene_id.get_value();
        let scene = config.scene(&id)?;
        let mapping = scene
            .element(&element)?
            .as_twin_to_object_mapping()?
            .clone();
        // Read the twins through their signals, so the widgets follow them.
        let mut docs = HashMap::new();
        let twins = std::iter::once(mapping.primary_twin_id.clone()).chain(
            mapping
                .twin_aliases
                .iter()
                .flatten()
                .filter_map(|(_, t)| t.as_str().map(str::to_string)),
        );
        for t in twins {
            if let Some(doc) = live.twin(&t).get() {
                docs.insert(t, doc);
            }
        }
        let layers = rt.layers.get();
        let names: Option<Vec<&str>> = layers
            .as_ref()
            .map(|l| l.iter().map(String::as_str).collect());
        let widgets = popover_widgets(&config, &id, names.as_deref(), &element, &docs);
        Some((
            element,
            mapping.display_name.clone(),
            mapping.primary_twin_id.clone(),
            widgets,
        ))
    };
    move || {
        content().map(|(element, name, twin, groups)| {
            view! {
                <div class="scene-popover" id="popover" data-element=element.clone() data-twin=twin.clone()>
                    <header>
                        <strong>{name}</strong>
                        <button class="close" id="popover-close" title="Close" on:click=move |_| picked.set(None)>"×"</button>
                    </header>
                    <nav class="tabs">
                        <button class:active=move || tab.get() == "widgets" id="tab-widgets" on:click=move |_| tab.set("widgets")>"Widgets"</button>
                        <button class:active=move || tab.get() == "properties" id="tab-properties" on:click=move |_| tab.set("properties")>"Properties"</button>
                    </nav>
                    <Show when=move || tab.get() == "widgets" fallback={
                        let twin = twin.clone();
                        move || view! { <TwinPanel id=twin.clone()/> }
                    }>
                        {
                            let groups = groups.clone();
                            if groups.is_empty() {
                                view! { <p class="hint">"No popover rules apply to this element."</p> }.into_any()
                            } else {
                                groups.into_iter().map(|(title, widgets)| view! {
                                    <div class="widget-group">
                                        <h3>{title}</h3>
                                        {widgets.into_iter().map(widget_view).collect_view()}
                                    </div>
                                }).collect_view().into_any()
                            }
                        }
                    </Show>
                </div>
            }
        })
    }
}

fn widget_view(w: WidgetView) -> AnyView {
    match w {
        WidgetView::Gauge {
            label,
            value,
            units,
            color,
            min,
            max,
        } => {
            let pct = value
                .map(|v| ((v - min) / (max - min).max(1e-9) * 100.0).clamp(0.0, 100.0))
                .unwrap_or(0.0);
            let text = value
                .map(|v| format!("{} {units}", expr::number_to_string(v)))
                .unwrap_or_else(|| "—".into());
            let label_attr = label.clone();
            view! {
                <div class="widget gauge" data-widget="gauge" data-label=label_attr data-value=value.map(|v| v.to_string()).unwrap_or_default()>
                    <span class="label">{label}</span>
                    <div class="gauge-bar"><div class="gauge-fill" style=format!("width: {pct:.0}%; background: {}", color.unwrap_or_else(|| "#4a90d9".into()))></div></div>
                    <span class="value">{text}</span>
                </div>
            }
            .into_any()
        }
        WidgetView::Value { label, text } => {
            let (label_attr, text_attr) = (label.clone(), text.clone());
            view! {
                <div class="widget value" data-widget="value" data-label=label_attr data-value=text_attr>
                    <span class="label">{label}</span>
                    <span class="value">{text}</span>
                </div>
            }
            .into_any()
        }
        WidgetView::Link { label, href } => {
            let safe = href.starts_with("https://")
                || href.starts_with("http://")
                || href.starts_with('/');
            let label_attr = label.clone();
            view! {
                <div class="widget link" data-widget="link" data-label=label_attr>
                    {if safe {
                        view! { <a href=href.clone() target="_blank" rel="noopener">{label}</a> }.into_any()
                    } else {
                        view! { <span>{label} " (" {short(&Json::String(href.clone()))} ")"</span> }.into_any()
                    }}
                </div>
            }
            .into_any()
        }
        WidgetView::Note { label, text } => view! {
            <div class="widget note" data-widget="note">
                <span class="label">{label}</span>
                <p class="hint">{text}</p>
            </div>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_read_as_intervals_or_values() {
        let r: ValueRange = serde_json::from_value(
            json!({"id": "r", "values": ["-Infinity", 18], "visual": {"color": "#000"}}),
        )
        .unwrap();
        assert_eq!(range_text(&ExpressionType::NumericRange, &r), "[−∞, 18)");
        let r: ValueRange =
            serde_json::from_value(json!({"id": "r", "values": ["fault", true], "visual": {}}))
                .unwrap();
        assert_eq!(
            range_text(&ExpressionType::CategoricalValues, &r),
            "fault, true"
        );
    }

    #[test]
    fn projection_maps_clip_space_to_pixels() {
        // Identity: clip = world, so (0,0) is the centre and (1,1) the top right.
        let mut m = [0.0f32; 16];
        for i in 0..4 {
            m[i * 5] = 1.0;
        }
        assert_eq!(
            project(&m, [200.0, 100.0], [0.0, 0.0, 0.0]),
            Some((100.0, 50.0))
        );
        assert_eq!(
            project(&m, [200.0, 100.0], [1.0, 1.0, 0.0]),
            Some((200.0, 0.0))
        );
        m[15] = 0.0;
        assert_eq!(project(&m, [200.0, 100.0], [0.0, 0.0, 0.0]), None);
    }

    #[test]
    fn the_demo_popover_shows_its_widgets_over_the_twin() {
        let config =
            twinscape_scene::config::from_value(&twinscape_demo::scene::scenes_config()).unwrap();
        let room = twinscape_demo::twins::twins()
            .into_iter()
            .find(|t| t.id == "Room101")
            .unwrap();
        let mut doc = room.doc.clone();
        doc["$dtId"] = json!("Room101");
        doc["temperature"] = json!(22.5);
        let docs = HashMap::from([("Room101".to_string(), doc)]);
        let groups = popover_widgets(
            &config,
            twinscape_demo::scene::SCENE_ID,
            None,
            "Room101",
            &docs,
        );
        assert_eq!(groups.len(), 1);
        let gauge = groups[0].1.iter().find_map(|w| match w {
            WidgetView::Gauge { value, .. } => Some(*value),
            _ => None,
        });
        assert_eq!(gauge, Some(Some(22.5)));
    }
}
