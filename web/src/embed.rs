//! An embedded scene's two-way link with the page around it: DOM events on
//! the `<twinscape-scene>` element (the custom element, `web/embed/`), or
//! `postMessage` to the parent window (the iframe page `/embed/scenes/{id}`);
//! commands the other way (`selectElement`, `flyTo`, `setLayers`).
//!
//! The events, with their `detail` (the message's `detail` in iframe mode):
//! - `ready` `{sceneId}` (iframe mode only) as soon as the page runs;
//! - `scene-loaded` `{sceneId, elements}` once the scene's first frame is drawn;
//! - `element-click` / `element-hover` `{elementId, elementName,
//!   primaryTwinId, twinIds, states}` (`element-hover` with `elementId: null`
//!   when the pointer leaves the elements);
//! - `error` `{code, message}`.
//!
//! Messages both ways are `{source: "twinscape-scene", type, …}`.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde_json::{Value as Json, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use twinscape_scene::VisualState;
use twinscape_scene::config::{Element, Scene};
use wasm_bindgen::JsCast;

/// The `source` of every message, both ways.
pub const MESSAGE_SOURCE: &str = "twinscape-scene";

/// A command from the embedding page.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbedCommand {
    /// Select an element (its popover opens) and fly to it.
    Select(String),
    /// Fly to an element without selecting it.
    FlyTo(String),
    /// Show these layers (`None`: all).
    Layers(Option<Vec<String>>),
}

impl EmbedCommand {
    /// A command message (`{type: "selectElement", id}`, `{type: "flyTo",
    /// id}`, `{type: "setLayers", layers: [...] | null}`).
    pub fn from_message(msg: &Json) -> Option<EmbedCommand> {
        if msg["source"] != MESSAGE_SOURCE {
            return None;
        }
        let id = || msg["id"].as_str().map(str::to_string);
        match msg["type"].as_str()? {
            "selectElement" => Some(EmbedCommand::Select(id()?)),
            "flyTo" => Some(EmbedCommand::FlyTo(id()?)),
            "setLayers" => Some(EmbedCommand::Layers(layers_of(&msg["layers"]))),
            _ => None,
        }
    }
}

/// `["a","b"]` as layer ids; anything else (null) is every layer.
pub fn layers_of(v: &Json) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect()
    })
}

/// Where events go.
#[derive(Clone)]
enum Sink {
    /// DOM `CustomEvent`s on the custom element.
    Element(web_sys::HtmlElement),
    /// `postMessage` to the parent window.
    Parent,
}

/// The link with the embedding page, in the context of an embedded scene.
/// (The app runs on the page's one thread; the wrapper only lets it be a
/// Leptos context.)
#[derive(Clone)]
pub struct Embed {
    sink: SendWrapper<Sink>,
    commands: Arc<Mutex<VecDeque<EmbedCommand>>>,
}

impl Embed {
    /// Events as DOM events on `element`.
    pub fn on_element(element: web_sys::HtmlElement) -> Embed {
        Embed {
            sink: SendWrapper::new(Sink::Element(element)),
            commands: Arc::default(),
        }
    }

    /// Events to the parent window; commands from its messages.
    pub fn to_parent() -> Embed {
        let embed = Embed {
            sink: SendWrapper::new(Sink::Parent),
            commands: Arc::default(),
        };
        let queue = embed.commands.clone();
        let on_message = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                if let Some(cmd) = EmbedCommand::from_message(&from_js(&e.data()))
                    && let Ok(mut q) = queue.lock()
                {
                    q.push_back(cmd);
                }
            },
        );
        if let Some(w) = web_sys::window() {
            let _ =
                w.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        }
        on_message.forget();
        embed
    }

    /// Queues a command (from the custom element's methods).
    pub fn push(&self, cmd: EmbedCommand) {
        if let Ok(mut q) = self.commands.lock() {
            q.push_back(cmd);
        }
    }

    /// The commands since the last call.
    pub fn take(&self) -> Vec<EmbedCommand> {
        self.commands
            .lock()
            .map(|mut q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// Sends the page an event.
    pub fn emit(&self, kind: &str, detail: Json) {
        match &*self.sink {
            Sink::Element(el) => {
                let init = web_sys::CustomEventInit::new();
                init.set_bubbles(true);
                init.set_composed(true);
                init.set_detail(&to_js(&detail));
                if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(kind, &init) {
                    let _ = el.dispatch_event(&event);
                }
            }
            Sink::Parent => {
                let Some(w) = web_sys::window() else { return };
                let Ok(Some(parent)) = w.parent() else { return };
                if parent == w {
                    return; // not framed
                }
                let msg = json!({"source": MESSAGE_SOURCE, "type": kind, "detail": detail});
                let _ = parent.post_message(&to_js(&msg), "*");
            }
        }
    }

    /// An `error` event.
    pub fn error(&self, code: &str, message: &str) {
        self.emit("error", json!({"code": code, "message": message}));
    }
}

fn to_js(v: &Json) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap_or(wasm_bindgen::JsValue::NULL)
}

/// A JavaScript value as JSON (`null` for what JSON cannot hold).
pub fn from_js(v: &wasm_bindgen::JsValue) -> Json {
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Json::Null)
}

/// What `element-click` and `element-hover` tell of an element: its ids,
/// its twins (primary first, then the aliases'), and its rules' states.
pub fn element_detail(scene: &Scene, element_id: &str, states: &[VisualState]) -> Json {
    let mapping = scene.elements.iter().find_map(|e| match e {
        Element::TwinToObjectMapping(m) if m.id == element_id => Some(m),
        _ => None,
    });
    let Some(m) = mapping else {
        return json!({"elementId": element_id});
    };
    let mut twins = vec![m.primary_twin_id.clone()];
    for t in m
        .twin_aliases
        .iter()
        .flatten()
        .filter_map(|(_, t)| t.as_str())
    {
        if !twins.iter().any(|x| x == t) {
            twins.push(t.to_string());
        }
    }
    let states: Vec<Json> = states
        .iter()
        .filter(|s| s.element == element_id)
        .map(|s| {
            json!({
                "behaviorId": s.behavior,
                "twinId": s.twin,
                "value": s.value,
                "color": s.color,
                "icon": s.icon,
                "label": s.label,
                "error": s.error,
            })
        })
        .collect();
    json!({
        "elementId": m.id,
        "elementName": m.display_name,
        "primaryTwinId": m.primary_twin_id,
        "twinIds": twins,
        "states": states,
    })
}

/// The embedding page's link, where there is one.
pub fn use_embed() -> Option<Embed> {
    use_context::<Embed>()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn command_messages_are_read_and_others_ignored() {
        let m = |v: Json| EmbedCommand::from_message(&v);
        assert_eq!(
            m(json!({"source": MESSAGE_SOURCE, "type": "selectElement", "id": "e1"})),
            Some(EmbedCommand::Select("e1".into()))
        );
        assert_eq!(
            m(json!({"source": MESSAGE_SOURCE, "type": "setLayers", "layers": ["a"]})),
            Some(EmbedCommand::Layers(Some(vec!["a".into()])))
        );
        assert_eq!(
            m(json!({"source": MESSAGE_SOURCE, "type": "setLayers", "layers": null})),
            Some(EmbedCommand::Layers(None))
        );
        assert_eq!(
            m(json!({"source": "other", "type": "flyTo", "id": "e1"})),
            None
        );
        assert_eq!(m(json!({"source": MESSAGE_SOURCE, "type": "flyTo"})), None);
        assert_eq!(m(json!("text")), None);
    }

    #[test]
    fn an_elements_detail_has_its_twins_and_states() {
        let scene: Scene = serde_json::from_value(json!({
            "id": "s", "displayName": "S", "behaviorIDs": [], "assets": [],
            "elements": [{"type": "TwinToObjectMapping", "id": "e1", "displayName": "Room 1",
                "primaryTwinID": "room1", "objectIDs": ["m1"], "twinAliases": {"hvac": "ahu1"}}]
        }))
        .unwrap();
        let state = VisualState {
            scene: "s".into(),
            element: "e1".into(),
            twin: "room1".into(),
            behavior: "b".into(),
            visual: 0,
            value: json!(21),
            range: Some("r".into()),
            color: Some("#ff0000".into()),
            icon: None,
            label: None,
            error: None,
        };
        let d = element_detail(&scene, "e1", &[state]);
        assert_eq!(d["elementName"], "Room 1");
        assert_eq!(d["twinIds"], json!(["room1", "ahu1"]));
        assert_eq!(d["states"][0]["value"], 21);
        assert_eq!(d["states"][0]["color"], "#ff0000");
        assert_eq!(
            element_detail(&scene, "nope", &[]),
            json!({"elementId": "nope"})
        );
    }
}
