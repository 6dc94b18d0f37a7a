//! Loading a glTF model and reporting how it went.

use crate::elements::ElementIndex;
use crate::link::{ViewerCommand, ViewerEvent};
use bevy::gltf::Gltf;
use bevy::prelude::*;
use bevy::world_serialization::{WorldAssetRoot, WorldInstanceReady};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    #[default]
    Idle,
    Loading,
    Spawning,
    /// Spawned; the camera still has to be fitted (needs propagated transforms).
    Spawned,
    /// Fitted and reported; counting frames until one has been rendered.
    Shown {
        frames: u32,
    },
    Rendered,
    Failed,
}

#[derive(Resource, Default)]
pub(crate) struct ModelState {
    pub url: String,
    pub handle: Option<Handle<Gltf>>,
    pub root: Option<Entity>,
    pub phase: Phase,
    /// Mesh entities of the model that now share another's geometry.
    pub shared_meshes: usize,
    started_reported: bool,
}

/// `/3d/x.glb` → the asset path the server-rooted asset reader expects;
/// an absolute `http(s)://` URL stays as it is (Bevy's web source fetches it).
pub(crate) fn asset_path(url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        return url.to_string();
    }
    url.trim_start_matches('/').to_string()
}

pub(crate) fn handle_load_commands(
    mut commands: Commands,
    mut cmds: MessageReader<ViewerCommand>,
    mut state: ResMut<ModelState>,
    mut index: ResMut<ElementIndex>,
    assets: Res<AssetServer>,
    mut events: MessageWriter<ViewerEvent>,
) {
    for cmd in cmds.read() {
        let ViewerCommand::LoadModel { url } = cmd else {
            continue;
        };
        if let Some(root) = state.root.take() {
            commands.entity(root).despawn();
        }
        *index = ElementIndex::default();
        state.url = url.clone();
        state.handle = Some(assets.load::<Gltf>(asset_path(url)));
        state.phase = Phase::Loading;
        events.write(ViewerEvent::Loading { url: url.clone() });
    }
}

pub(crate) fn watch_loading(
    mut commands: Commands,
    mut state: ResMut<ModelState>,
    assets: Res<AssetServer>,
    gltfs: Res<Assets<Gltf>>,
    mut events: MessageWriter<ViewerEvent>,
) {
    if state.phase != Phase::Loading {
        return;
    }
    let Some(handle) = state.handle.clone() else {
        return;
    };
    let fail = |state: &mut ModelState, events: &mut MessageWriter<ViewerEvent>, error: String| {
        state.phase = Phase::Failed;
        events.write(ViewerEvent::LoadFailed {
            url: state.url.clone(),
            error,
        });
    };
    match assets.load_state(&handle) {
        bevy::asset::LoadState::Failed(err) => fail(&mut state, &mut events, err.to_string()),
        bevy::asset::LoadState::Loaded => {
            let Some(gltf) = gltfs.get(&handle) else {
                return;
            };
            let Some(scene) = gltf
                .default_scene
                .clone()
                .or_else(|| gltf.scenes.first().cloned())
            else {
                fail(&mut state, &mut events, "the model has no scene".into());
                return;
            };
            let root = commands
                .spawn((WorldAssetRoot(scene), Name::new("twinscape-model")))
                .observe(crate::elements::index_spawned_model)
                .id();
            state.root = Some(root);
            state.phase = Phase::Spawning;
        }
        _ => {}
    }
}

/// Marks the model spawned once its world instance is ready.
pub(crate) fn mark_spawned(_ready: &On<WorldInstanceReady>, state: &mut ModelState) {
    if state.phase == Phase::Spawning {
        state.phase = Phase::Spawned;
    }
}

/// Reports `Started` on the first frame and `ModelRendered` once a frame with
/// the fitted model has gone to the renderer.
pub(crate) fn report_rendered(
    mut state: ResMut<ModelState>,
    mut events: MessageWriter<ViewerEvent>,
) {
    if !state.started_reported {
        state.started_reported = true;
        events.write(ViewerEvent::Started);
    }
    if let Phase::Shown { frames } = state.phase {
        // PostUpdate of frame N runs before frame N is rendered: wait one more.
        if frames >= 1 {
            state.phase = Phase::Rendered;
            events.write(ViewerEvent::ModelRendered);
        } else {
            state.phase = Phase::Shown { frames: frames + 1 };
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn asset_paths_are_server_rooted() {
        assert_eq!(
            super::asset_path("/3d/demo-building.glb"),
            "3d/demo-building.glb"
        );
        assert_eq!(super::asset_path("3d/x.glb"), "3d/x.glb");
        assert_eq!(
            super::asset_path("https://example.com/m.glb"),
            "https://example.com/m.glb"
        );
    }
}
