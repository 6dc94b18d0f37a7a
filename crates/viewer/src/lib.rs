//! The 3D viewer: a Bevy app that shows a glTF building, lets the user orbit
//! around it and pick its elements, and recolours elements on request.
//!
//! Owns: loading glTF models, the element index (glTF node name → entities),
//! the orbit camera, picking, and per-state materials (one material per colour,
//! shared by every element in that state, so draw calls follow the number of
//! states, not of elements).
//! Must not: know about Leptos, the DOM or the network beyond Bevy's asset
//! loader. The host talks to it only through a [`ViewerLink`]: commands in,
//! events out.

mod camera;
mod elements;
mod link;
mod load;

use bevy::asset::AssetMetaCheck;
use bevy::picking::mesh_picking::MeshPickingPlugin;
use bevy::prelude::*;
use bevy::window::WindowPlugin;

pub use link::{ElementInfo, ViewerCommand, ViewerEvent, ViewerLink};

/// Background colour of the 3D view (sRGB).
pub const BACKGROUND_SRGB: [f32; 3] = [0.11, 0.13, 0.17];

/// Builds the Bevy app that renders into the canvas matching `canvas_selector`
/// (e.g. `"#twinscape-canvas"`), driven through `link`.
pub fn build_app(canvas_selector: &str, link: ViewerLink) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    canvas: Some(canvas_selector.to_string()),
                    fit_canvas_to_parent: true,
                    // Keep the browser's own keys (reload, zoom) working.
                    prevent_default_event_handling: false,
                    ..default()
                }),
                ..default()
            })
            .set(AssetPlugin {
                // Models are fetched from the server's root: "/3d/x.glb".
                file_path: "/".into(),
                meta_check: AssetMetaCheck::Never,
                ..default()
            }),
    )
    .add_plugins((MeshPickingPlugin, ViewerPlugin { link }));
    app
}

/// Everything the viewer adds to a Bevy app. [`build_app`] uses it with Bevy's
/// default plugins; a host with its own app can add it directly.
pub struct ViewerPlugin {
    pub link: ViewerLink,
}

impl Plugin for ViewerPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.link.clone())
            .insert_resource(ClearColor(Color::srgb(
                BACKGROUND_SRGB[0],
                BACKGROUND_SRGB[1],
                BACKGROUND_SRGB[2],
            )))
            .insert_resource(GlobalAmbientLight {
                color: Color::WHITE,
                brightness: 600.0,
                ..default()
            })
            .add_message::<ViewerCommand>()
            .add_message::<ViewerEvent>()
            .init_resource::<load::ModelState>()
            .init_resource::<elements::ElementIndex>()
            .init_resource::<elements::StateMaterials>()
            .init_resource::<camera::DragTracker>()
            .add_systems(Startup, camera::spawn_camera_and_light)
            .add_systems(PreUpdate, link::import_commands)
            .add_systems(
                Update,
                (
                    load::handle_load_commands,
                    load::watch_loading,
                    elements::handle_element_commands,
                    camera::handle_camera_commands,
                    camera::orbit_input,
                    camera::fit_when_ready,
                    elements::report_picks,
                    elements::report_hover,
                )
                    .chain(),
            )
            .add_systems(
                PostUpdate,
                (
                    camera::report_camera.after(TransformSystems::Propagate),
                    load::report_rendered,
                    link::export_events,
                )
                    .chain(),
            );
    }
}
