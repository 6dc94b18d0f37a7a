//! The viewer's only door to its host: unbounded, lossless mailboxes of
//! commands (host → viewer) and events (viewer → host).
//!
//! Both sides run on the browser's one thread, but Bevy resources must be
//! `Send + Sync`, hence `Arc<Mutex<…>>`.

use bevy::prelude::*;
use std::sync::{Arc, Mutex};

/// A request from the host to the viewer.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ViewerCommand {
    /// Load a glTF/GLB model from a server path such as `/3d/demo-building.glb`,
    /// replacing the current one.
    LoadModel { url: String },
    /// Recolour an element (sRGB, 0..1 with alpha); `None` restores the model's own material.
    SetColor {
        name: String,
        rgba: Option<[f32; 4]>,
    },
    /// Restore every element's own material.
    ClearColors,
    /// Select an element by name (as if clicked), or clear the selection.
    Select { name: Option<String> },
    /// Frame the whole model.
    FitToModel,
    /// Fly to these elements: frame their bounds (with some room around).
    Focus { names: Vec<String> },
}

/// Bounds of a named element, in world space.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementInfo {
    pub name: String,
    pub min: [f32; 3],
    pub max: [f32; 3],
}

/// Something the viewer tells its host.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ViewerEvent {
    /// The first frame was drawn (the canvas is live, the model may still be loading).
    Started,
    /// A model started loading.
    Loading { url: String },
    /// A model finished loading; its named elements, in model order.
    Loaded {
        url: String,
        elements: Vec<ElementInfo>,
        /// Mesh entities drawn with another's (identical) geometry, so that
        /// their draws batch.
        shared_meshes: usize,
    },
    /// A model could not be loaded (missing, not glTF, broken).
    LoadFailed { url: String, error: String },
    /// A frame with the loaded model in view has been rendered.
    ModelRendered,
    /// The user picked an element (`None`: the selection was cleared).
    Selected { name: Option<String> },
    /// The pointer is over an element (highlighted), or over none.
    Hovered { name: Option<String> },
    /// A primary click (not a drag) on an element, or on the background
    /// (`None`), every time, also on the selected element; `shift`: with a
    /// Shift key down (adding to a selection, as builders do).
    Clicked { name: Option<String>, shift: bool },
    /// The camera moved: its clip-from-world matrix (column-major) and the
    /// canvas size in CSS pixels, so a host can place overlays on elements.
    Camera {
        clip_from_world: [f32; 16],
        viewport: [f32; 2],
    },
}

#[derive(Default)]
struct Mailboxes {
    commands: Vec<ViewerCommand>,
    events: Vec<ViewerEvent>,
}

/// Shared handle between a host and one viewer app. Clone it freely.
#[derive(Resource, Clone, Default)]
pub struct ViewerLink {
    inner: Arc<Mutex<Mailboxes>>,
}

impl ViewerLink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Host side: queue a command for the next frame.
    pub fn send(&self, command: ViewerCommand) {
        if let Ok(mut m) = self.inner.lock() {
            m.commands.push(command);
        }
    }

    /// Host side: take every event the viewer produced since the last call.
    pub fn drain_events(&self) -> Vec<ViewerEvent> {
        self.inner
            .lock()
            .map(|mut m| std::mem::take(&mut m.events))
            .unwrap_or_default()
    }

    fn take_commands(&self) -> Vec<ViewerCommand> {
        self.inner
            .lock()
            .map(|mut m| std::mem::take(&mut m.commands))
            .unwrap_or_default()
    }

    fn push_events(&self, events: impl IntoIterator<Item = ViewerEvent>) {
        if let Ok(mut m) = self.inner.lock() {
            m.events.extend(events);
        }
    }
}

pub(crate) fn import_commands(link: Res<ViewerLink>, mut out: MessageWriter<ViewerCommand>) {
    out.write_batch(link.take_commands());
}

pub(crate) fn export_events(link: Res<ViewerLink>, mut events: MessageReader<ViewerEvent>) {
    link.push_events(events.read().cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_are_lossless_and_ordered() {
        let link = ViewerLink::new();
        for i in 0..500 {
            link.send(ViewerCommand::Select {
                name: Some(format!("e{i}")),
            });
        }
        let got = link.take_commands();
        assert_eq!(got.len(), 500);
        assert_eq!(
            got[499],
            ViewerCommand::Select {
                name: Some("e499".into())
            }
        );
        assert!(link.take_commands().is_empty());
        link.push_events([ViewerEvent::Started, ViewerEvent::ModelRendered]);
        assert_eq!(
            link.drain_events(),
            vec![ViewerEvent::Started, ViewerEvent::ModelRendered]
        );
        assert!(link.drain_events().is_empty());
    }
}
