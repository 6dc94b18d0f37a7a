//! A scene evaluated live on the replica: the compiled scene
//! ([`SceneEvaluator`]), its rules' states, and what they mean for the 3D
//! view (mesh colours, badges), kept up to date incrementally.
//!
//! A twin the scene reads has a watcher (an effect on its replica signal)
//! that marks it pending; once per animation frame [`SceneRuntime::frame`]
//! re-evaluates only the rules that read the pending twins, publishes the
//! states once, and sends the viewer colour commands only for meshes whose
//! colour changed. Several active colours on one element alternate (one
//! step a second), as in Scenes Studio.

use super::color::parse_hex;
use crate::state::live::Live;
use leptos::prelude::*;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use twinscape_scene::config::{Element, Scene};
use twinscape_scene::{SceneEvaluator, ScenesConfig, VisualState};
use twinscape_viewer::{ViewerCommand, ViewerLink};

/// How long each of several active colours shows, in ms.
pub const ALTERNATE_MS: f64 = 1000.0;

/// The colour of selected meshes (a builder's selection): cyan.
pub const SELECTION: [f32; 4] = [0.0, 0.85, 1.0, 1.0];

/// A badge on an element: an active range with an icon.
#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    pub icon: String,
    pub color: Option<String>,
    pub label: Option<String>,
    pub behavior: String,
}

/// The active colours of each element, in rule order, without repeats.
pub fn element_colors(states: &[VisualState]) -> BTreeMap<String, Vec<[f32; 4]>> {
    let mut out: BTreeMap<String, Vec<[f32; 4]>> = BTreeMap::new();
    for s in states {
        let Some(rgba) = s.color.as_deref().and_then(parse_hex) else {
            continue;
        };
        let colors = out.entry(s.element.clone()).or_default();
        if !colors.contains(&rgba) {
            colors.push(rgba);
        }
    }
    out
}

/// The badges of each element (active ranges with an icon), in rule order.
pub fn element_badges(states: &[VisualState]) -> BTreeMap<String, Vec<Badge>> {
    let mut out: BTreeMap<String, Vec<Badge>> = BTreeMap::new();
    for s in states {
        let Some(icon) = s.icon.clone() else { continue };
        out.entry(s.element.clone()).or_default().push(Badge {
            icon,
            color: s.color.clone(),
            label: s.label.clone(),
            behavior: s.behavior.clone(),
        });
    }
    out
}

/// A glyph for a Fluent UI icon name (what Scenes Studio's badges name).
pub fn glyph(icon: &str) -> String {
    // Symbols that common fonts (DejaVu, as in a headless browser) have.
    let g = match icon {
        "Warning" | "WarningSolid" | "IncidentTriangle" => "⚠",
        "Error" | "ErrorBadge" | "StatusErrorFull" | "Blocked" | "Blocked2" => "⊘",
        "Frigid" | "Snowflake" => "❄",
        "Fire" | "FireSolid" | "Hot" => "♨",
        "Info" | "InfoSolid" => "ℹ",
        "People" | "Group" | "Family" | "Crowd" | "Contact" | "Person" => "☺",
        "Lightbulb" | "Light" | "Sunny" => "☀",
        "Drop" | "Precipitation" | "Water" | "Umbrella" => "☂",
        "Thermometer" | "Temperature" => "°",
        "Settings" | "Repair" | "ConstructionCone" => "⚙",
        "Plug" | "PlugDisconnected" | "Power" | "PowerButton" | "LightningBolt" => "⚡",
        "CheckMark" | "Completed" | "SkypeCheck" => "✔",
        "Clock" | "Timer" => "⌚",
        "Cancel" | "StatusCircleErrorX" => "✖",
        "Heart" => "♥",
        "Flag" => "⚑",
        "Star" | "FavoriteStar" => "★",
        _ => "",
    };
    if g.is_empty() {
        icon.chars().next().map(String::from).unwrap_or_default()
    } else {
        g.to_string()
    }
}

/// Scene elements' meshes, and which element a mesh belongs to.
#[derive(Default)]
pub struct MeshMap {
    pub meshes_of: HashMap<String, Vec<String>>,
    pub element_of: HashMap<String, String>,
}

impl MeshMap {
    pub fn of(scene: &Scene) -> MeshMap {
        let mut map = MeshMap::default();
        for e in &scene.elements {
            let Element::TwinToObjectMapping(m) = e else {
                continue;
            };
            for mesh in &m.object_ids {
                map.element_of
                    .entry(mesh.clone())
                    .or_insert_with(|| m.id.clone());
            }
            map.meshes_of.insert(m.id.clone(), m.object_ids.clone());
        }
        map
    }
}

/// The colour each mesh should show at alternation step `step`.
pub fn mesh_colors(
    colors: &BTreeMap<String, Vec<[f32; 4]>>,
    meshes: &MeshMap,
    step: u64,
) -> HashMap<String, [f32; 4]> {
    let mut out = HashMap::new();
    for (element, c) in colors {
        if c.is_empty() {
            continue;
        }
        let rgba = c[(step % c.len() as u64) as usize];
        for mesh in meshes.meshes_of.get(element).into_iter().flatten() {
            out.insert(mesh.clone(), rgba);
        }
    }
    out
}

/// A scene evaluated live on the replica. Cheap to copy.
#[derive(Clone, Copy)]
pub struct SceneRuntime {
    live: Live,
    pub scene_id: StoredValue<String>,
    /// The scene configuration (the replica's), `None` until it arrives.
    pub config: Memo<Option<Arc<ScenesConfig>>>,
    /// Selected layers (`None`: all).
    pub layers: RwSignal<Option<Vec<String>>>,
    /// Every rule's state, published at most once per frame.
    pub states: RwSignal<Vec<VisualState>>,
    /// Bumped each time states are published.
    pub version: RwSignal<u64>,
    /// Meshes drawn in the selection colour over their rules' (a builder's
    /// selection).
    pub highlight: RwSignal<HashSet<String>>,
    recolor: StoredValue<bool, LocalStorage>,
    evaluator: StoredValue<Option<SceneEvaluator>, LocalStorage>,
    docs: StoredValue<HashMap<String, Json>, LocalStorage>,
    pending: StoredValue<HashSet<String>, LocalStorage>,
    rebuild: StoredValue<bool, LocalStorage>,
    meshes: StoredValue<MeshMap, LocalStorage>,
    colors: StoredValue<BTreeMap<String, Vec<[f32; 4]>>, LocalStorage>,
    sent: StoredValue<HashMap<String, [f32; 4]>, LocalStorage>,
    step: StoredValue<u64, LocalStorage>,
}

impl SceneRuntime {
    /// Evaluates `scene_id` of the replica's configuration from now on.
    pub fn new(live: Live, scene_id: String, layers: Option<Vec<String>>) -> SceneRuntime {
        Self::over(
            live,
            Signal::derive(move || live.scenes.get()),
            scene_id,
            layers,
        )
    }

    /// Evaluates `scene_id` of the configuration `source` gives (a draft
    /// in the builder) on the replica's twins.
    pub fn over(
        live: Live,
        source: Signal<Option<Arc<ScenesConfig>>>,
        scene_id: String,
        layers: Option<Vec<String>>,
    ) -> SceneRuntime {
        let config = Memo::new(move |_| source.get());
        let rt = SceneRuntime {
            live,
            scene_id: StoredValue::new(scene_id),
            config,
            layers: RwSignal::new(layers),
            states: RwSignal::new(Vec::new()),
            version: RwSignal::new(0),
            highlight: RwSignal::new(HashSet::new()),
            recolor: StoredValue::new_local(false),
            evaluator: StoredValue::new_local(None),
            docs: StoredValue::new_local(HashMap::new()),
            pending: StoredValue::new_local(HashSet::new()),
            rebuild: StoredValue::new_local(true),
            meshes: StoredValue::new_local(MeshMap::default()),
            colors: StoredValue::new_local(BTreeMap::new()),
            sent: StoredValue::new_local(HashMap::new()),
            step: StoredValue::new_local(0),
        };
        Effect::new(move |_| {
            rt.highlight.track();
            rt.recolor.set_value(true);
        });
        // A new configuration or layer choice recompiles the scene and
        // watches the twins it reads (the watchers of the last one go).
        Effect::new(move |_| {
            let config = rt.config.get();
            let layers = rt.layers.get();
            rt.rebuild.set_value(true);
            let Some(config) = config else { return };
            let id = rt.scene_id.get_value();
            let names: Option<Vec<&str>> = layers
                .as_ref()
                .map(|l| l.iter().map(String::as_str).collect());
            let Some(evaluator) = SceneEvaluator::new(&config, &id, names.as_deref()) else {
                rt.evaluator.set_value(None);
                return;
            };
            let twins: Vec<String> = evaluator.twin_ids().map(str::to_string).collect();
            if let Some(scene) = config.scene(&id) {
                rt.meshes.set_value(MeshMap::of(scene));
            }
            rt.evaluator.set_value(Some(evaluator));
            for twin in twins {
                let signal = live.twin(&twin);
                Effect::new(move |_| {
                    signal.track();
                    rt.pending.update_value(|p| {
                        p.insert(twin.clone());
                    });
                });
            }
        });
        rt
    }

    /// The scene as configured now.
    pub fn scene(&self) -> Option<Scene> {
        let id = self.scene_id.get_value();
        self.config
            .with(|c| c.as_ref().and_then(|c| c.scene(&id).cloned()))
    }

    /// The element a mesh belongs to.
    pub fn element_of_mesh(&self, mesh: &str) -> Option<String> {
        self.meshes.with_value(|m| m.element_of.get(mesh).cloned())
    }

    /// An element's meshes.
    pub fn meshes_of(&self, element: &str) -> Vec<String> {
        self.meshes
            .with_value(|m| m.meshes_of.get(element).cloned().unwrap_or_default())
    }

    /// Brings states and colours up to date; call once per animation frame.
    pub fn frame(&self, link: &ViewerLink, now_ms: f64) {
        let rebuild = self.rebuild.get_value();
        let pending: Vec<String> = self
            .pending
            .try_update_value(|p| p.drain().collect())
            .unwrap_or_default();
        let step = (now_ms / ALTERNATE_MS).max(0.0) as u64;
        let stepped = step != self.step.get_value();
        if self.recolor.get_value() && !rebuild {
            self.recolor.set_value(false);
            self.send_all(link, step);
        }
        if !rebuild && pending.is_empty() && !stepped {
            return;
        }
        self.step.set_value(step);
        let mut touched: HashSet<String> = HashSet::new();
        if rebuild {
            self.rebuild.set_value(false);
            let live = self.live;
            let docs: HashMap<String, Json> = self.evaluator.with_value(|ev| {
                ev.as_ref()
                    .map(|ev| {
                        live.with_engine(|e| {
                            ev.twin_ids()
                                .filter_map(|id| Some((id.to_string(), e.graph().twin_json(id)?)))
                                .collect()
                        })
                    })
                    .unwrap_or_default()
            });
            let states = self
                .evaluator
                .with_value(|ev| ev.as_ref().map(|ev| ev.evaluate(&docs)).unwrap_or_default());
            self.docs.set_value(docs);
            self.colors.set_value(element_colors(&states));
            self.states.set(states);
            self.version.update(|v| *v += 1);
            self.send_all(link, step);
            return;
        }
        if !pending.is_empty() {
            let live = self.live;
            let mut rules: Vec<usize> = Vec::new();
            self.docs.update_value(|docs| {
                live.with_engine(|e| {
                    for id in &pending {
                        match e.graph().twin_json(id) {
                            Some(doc) => docs.insert(id.clone(), doc),
                            None => docs.remove(id),
                        };
                    }
                });
            });
            self.evaluator.with_value(|ev| {
                if let Some(ev) = ev {
                    for id in &pending {
                        rules.extend_from_slice(ev.affected_by(id));
                    }
                }
            });
            rules.sort_unstable();
            rules.dedup();
            if !rules.is_empty() {
                let fresh: Vec<(usize, VisualState)> = self.docs.with_value(|docs| {
                    self.evaluator.with_value(|ev| {
                        ev.as_ref()
                            .map(|ev| {
                                rules
                                    .iter()
                                    .map(|&i| (i, ev.evaluate_rule(i, docs)))
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                });
                self.states.update_untracked(|states| {
                    for (i, s) in fresh {
                        if let Some(slot) = states.get_mut(i)
                            && *slot != s
                        {
                            touched.insert(s.element.clone());
                            *slot = s;
                        }
                    }
                });
                if !touched.is_empty() {
                    self.states.notify();
                    // Recompute only the touched elements' colours.
                    let states = self.states.read_untracked();
                    let mine: Vec<VisualState> = states
                        .iter()
                        .filter(|s| touched.contains(&s.element))
                        .cloned()
                        .collect();
                    drop(states);
                    let fresh = element_colors(&mine);
                    self.colors.update_value(|colors| {
                        for element in &touched {
                            match fresh.get(element) {
                                Some(c) => colors.insert(element.clone(), c.clone()),
                                None => colors.remove(element),
                            };
                        }
                    });
                    self.version.update(|v| *v += 1);
                }
            }
        }
        if stepped {
            // Elements with several colours move to the next one.
            self.colors.with_value(|c| {
                for (element, colors) in c {
                    if colors.len() > 1 {
                        touched.insert(element.clone());
                    }
                }
            });
        }
        if !touched.is_empty() {
            self.send_elements(link, step, &touched);
        }
    }

    /// Sends the viewer every mesh's colour (after a rebuild or a load).
    fn send_all(&self, link: &ViewerLink, step: u64) {
        let mut want = self
            .colors
            .with_value(|c| self.meshes.with_value(|m| mesh_colors(c, m, step)));
        self.highlight.with_untracked(|h| {
            for mesh in h {
                want.insert(mesh.clone(), SELECTION);
            }
        });
        self.sent.update_value(|sent| {
            for (mesh, rgba) in &want {
                link.send(ViewerCommand::SetColor {
                    name: mesh.clone(),
                    rgba: Some(*rgba),
                });
            }
            for mesh in sent.keys() {
                if !want.contains_key(mesh) {
                    link.send(ViewerCommand::SetColor {
                        name: mesh.clone(),
                        rgba: None,
                    });
                }
            }
            *sent = want;
        });
    }

    /// Sends the colours of these elements' meshes that changed.
    fn send_elements(&self, link: &ViewerLink, step: u64, elements: &HashSet<String>) {
        self.colors.with_value(|colors| {
            self.meshes.with_value(|m| {
                self.sent.update_value(|sent| {
                    for element in elements {
                        let rgba = colors
                            .get(element)
                            .filter(|c| !c.is_empty())
                            .map(|c| c[(step % c.len() as u64) as usize]);
                        for mesh in m.meshes_of.get(element).into_iter().flatten() {
                            if sent.get(mesh) == rgba.as_ref()
                                || self.highlight.with_untracked(|h| h.contains(mesh))
                            {
                                continue;
                            }
                            link.send(ViewerCommand::SetColor {
                                name: mesh.clone(),
                                rgba,
                            });
                            match rgba {
                                Some(c) => sent.insert(mesh.clone(), c),
                                None => sent.remove(mesh),
                            };
                        }
                    }
                });
            });
        });
    }

    /// After the viewer loaded a model: every colour again.
    pub fn resend(&self) {
        self.sent.set_value(HashMap::new());
        self.rebuild.set_value(true);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn state(element: &str, color: Option<&str>, icon: Option<&str>) -> VisualState {
        VisualState {
            scene: "s".into(),
            element: element.into(),
            twin: element.into(),
            behavior: "b".into(),
            visual: 0,
            value: json!(1),
            range: color.map(|_| "r".to_string()),
            color: color.map(str::to_string),
            icon: icon.map(str::to_string),
            label: None,
            error: None,
        }
    }

    #[test]
    fn colours_are_per_element_in_rule_order_without_repeats() {
        let states = [
            state("a", Some("#ff0000"), None),
            state("a", Some("#00ff00"), Some("Warning")),
            state("a", Some("#ff0000"), None),
            state("b", None, None),
        ];
        let c = element_colors(&states);
        assert_eq!(c.len(), 1);
        assert_eq!(c["a"], vec![[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]);
        let badges = element_badges(&states);
        assert_eq!(badges["a"].len(), 1);
        assert_eq!(badges["a"][0].icon, "Warning");
    }

    #[test]
    fn several_colours_alternate_on_every_mesh_of_the_element() {
        let mut colors = BTreeMap::new();
        colors.insert(
            "a".to_string(),
            vec![[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]],
        );
        let mut meshes = MeshMap::default();
        meshes
            .meshes_of
            .insert("a".into(), vec!["m1".into(), "m2".into()]);
        let even = mesh_colors(&colors, &meshes, 0);
        let odd = mesh_colors(&colors, &meshes, 1);
        assert_eq!(even["m1"], [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(even["m2"], even["m1"]);
        assert_eq!(odd["m1"], [0.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn icons_have_glyphs_and_unknown_ones_their_initial() {
        assert_eq!(glyph("Warning"), "⚠");
        assert_eq!(glyph("Frigid"), "❄");
        assert_eq!(glyph("Zebra"), "Z");
        assert_eq!(glyph(""), "");
    }
}
