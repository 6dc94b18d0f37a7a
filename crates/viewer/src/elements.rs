//! The element index (glTF node name → entities), picking, and recolouring by
//! state with shared materials.

use crate::link::{ViewerCommand, ViewerEvent};
use crate::load::{ModelState, mark_spawned};
use bevy::mesh::Indices;
use bevy::picking::events::{Click, Out, Over, Pointer, Press};
use bevy::picking::pointer::PointerButton;
use bevy::prelude::*;
use bevy::world_serialization::WorldInstanceReady;
use std::collections::HashMap;

/// Named elements of the loaded model.
#[derive(Resource, Default)]
pub(crate) struct ElementIndex {
    /// Element names in model order.
    pub names: Vec<String>,
    pub by_name: HashMap<String, Entity>,
    pub name_of: HashMap<Entity, String>,
    /// The mesh entities that draw each element.
    pub meshes: HashMap<Entity, Vec<Entity>>,
    /// Each mesh entity's own material, to restore it.
    pub original: HashMap<Entity, Handle<StandardMaterial>>,
    /// The state material set on a mesh (`SetColor`), shown when the
    /// pointer is not over it; absent: its own material.
    pub assigned: HashMap<Entity, Handle<StandardMaterial>>,
    pub selected: Option<String>,
    /// The element under the pointer (drawn with the highlight material).
    pub hovered: Option<String>,
}

impl ElementIndex {
    /// The element an entity belongs to: itself or its nearest indexed ancestor.
    fn element_of(&self, entity: Entity, parents: &Query<&ChildOf>) -> Option<&String> {
        std::iter::once(entity)
            .chain(parents.iter_ancestors(entity))
            .find_map(|e| self.name_of.get(&e))
    }
}

/// One material per colour: every element in the same state shares it.
#[derive(Resource, Default)]
pub(crate) struct StateMaterials {
    by_rgba: HashMap<[u8; 4], Handle<StandardMaterial>>,
    highlight: Option<Handle<StandardMaterial>>,
}

/// Colour of the element under the pointer (sRGB).
const HIGHLIGHT: [f32; 4] = [1.0, 0.93, 0.55, 1.0];

impl StateMaterials {
    /// The one material of the hovered element.
    fn highlight(&mut self, materials: &mut Assets<StandardMaterial>) -> Handle<StandardMaterial> {
        self.highlight
            .get_or_insert_with(|| {
                materials.add(StandardMaterial {
                    base_color: Color::srgba(
                        HIGHLIGHT[0],
                        HIGHLIGHT[1],
                        HIGHLIGHT[2],
                        HIGHLIGHT[3],
                    ),
                    emissive: LinearRgba::rgb(0.25, 0.22, 0.08),
                    perceptual_roughness: 0.6,
                    ..default()
                })
            })
            .clone()
    }

    fn get(
        &mut self,
        rgba: [f32; 4],
        materials: &mut Assets<StandardMaterial>,
    ) -> Handle<StandardMaterial> {
        let key = rgba.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8);
        self.by_rgba
            .entry(key)
            .or_insert_with(|| {
                let color = Color::srgba(rgba[0], rgba[1], rgba[2], rgba[3]);
                materials.add(StandardMaterial {
                    base_color: color,
                    perceptual_roughness: 0.8,
                    alpha_mode: if rgba[3] < 1.0 {
                        AlphaMode::Blend
                    } else {
                        AlphaMode::Opaque
                    },
                    ..default()
                })
            })
            .clone()
    }
}

/// A hash of a mesh's topology, vertex data and indices (`None` when its
/// data already went to the render world).
fn mesh_key(mesh: &Mesh) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    mesh.primitive_topology().hash(&mut h);
    for (attr, values) in mesh.try_attributes().ok()? {
        attr.id.hash(&mut h);
        values.get_bytes().hash(&mut h);
    }
    match mesh.try_indices_option().ok()? {
        Some(Indices::U16(v)) => v.hash(&mut h),
        Some(Indices::U32(v)) => v.hash(&mut h),
        None => {}
    }
    Some(h.finish())
}

fn same_mesh(a: &Mesh, b: &Mesh) -> bool {
    let (Ok(xa), Ok(xb)) = (a.try_attributes(), b.try_attributes()) else {
        return false;
    };
    let (xa, xb): (Vec<_>, Vec<_>) = (xa.collect(), xb.collect());
    a.primitive_topology() == b.primitive_topology()
        && xa.len() == xb.len()
        && xa
            .iter()
            .zip(&xb)
            .all(|((p, pv), (q, qv))| p.id == q.id && pv.get_bytes() == qv.get_bytes())
        && match (a.try_indices_option(), b.try_indices_option()) {
            (Ok(Some(Indices::U16(p))), Ok(Some(Indices::U16(q)))) => p == q,
            (Ok(Some(Indices::U32(p))), Ok(Some(Indices::U32(q)))) => p == q,
            (Ok(None), Ok(None)) => true,
            _ => false,
        }
}

/// Makes mesh entities whose meshes hold the same data share one handle, so
/// that Bevy batches their draws (a BIM export has one mesh per element even
/// where elements are copies of one geometry). Returns how many changed.
fn share_identical_meshes(
    entities: &[Entity],
    meshes: &Assets<Mesh>,
    handles: &mut Query<&mut Mesh3d>,
) -> usize {
    let mut buckets: HashMap<u64, Vec<Handle<Mesh>>> = HashMap::new();
    let mut canonical: HashMap<AssetId<Mesh>, Handle<Mesh>> = HashMap::new();
    let mut changed = 0;
    for &e in entities {
        let Ok(mut m3d) = handles.get_mut(e) else {
            continue;
        };
        let id = m3d.0.id();
        let target = match canonical.get(&id) {
            Some(c) => c.clone(),
            None => {
                let Some(mesh) = meshes.get(id) else { continue };
                let Some(key) = mesh_key(mesh) else { continue };
                let bucket = buckets.entry(key).or_default();
                let found = bucket
                    .iter()
                    .find(|h| {
                        meshes
                            .get(h.id())
                            .is_some_and(|other| same_mesh(mesh, other))
                    })
                    .cloned();
                let c = found.unwrap_or_else(|| {
                    bucket.push(m3d.0.clone());
                    m3d.0.clone()
                });
                canonical.insert(id, c.clone());
                c
            }
        };
        if target.id() != id {
            m3d.0 = target;
            changed += 1;
        }
    }
    changed
}

/// Observer on the model root: indexes every named node that draws a mesh,
/// and lets identical meshes share one handle.
#[allow(clippy::too_many_arguments)]
pub(crate) fn index_spawned_model(
    ready: On<WorldInstanceReady>,
    mut state: ResMut<ModelState>,
    mut index: ResMut<ElementIndex>,
    children: Query<&Children>,
    parents: Query<&ChildOf>,
    names: Query<&Name>,
    meshes: Query<&MeshMaterial3d<StandardMaterial>, With<Mesh3d>>,
    mesh_assets: Res<Assets<Mesh>>,
    mut mesh_handles: Query<&mut Mesh3d>,
) {
    let root = ready.entity;
    let mut idx = ElementIndex::default();
    for e in children.iter_descendants(root) {
        let Ok(material) = meshes.get(e) else {
            continue;
        };
        // glTF primitives are children of their node; the node carries the name.
        let node = parents.get(e).map(|p| p.parent()).unwrap_or(e);
        let Ok(name) = names.get(node).or_else(|_| names.get(e)) else {
            continue;
        };
        let name = name.as_str().to_string();
        if !idx.by_name.contains_key(&name) {
            idx.names.push(name.clone());
            idx.by_name.insert(name.clone(), node);
            idx.name_of.insert(node, name);
        }
        idx.meshes.entry(node).or_default().push(e);
        idx.original.insert(e, material.0.clone());
    }
    let drawn: Vec<Entity> = idx.original.keys().copied().collect();
    state.shared_meshes = share_identical_meshes(&drawn, &mesh_assets, &mut mesh_handles);
    *index = idx;
    mark_spawned(&ready, &mut state);
}

pub(crate) fn handle_element_commands(
    mut cmds: MessageReader<ViewerCommand>,
    mut index: ResMut<ElementIndex>,
    mut states: ResMut<StateMaterials>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut mesh_materials: Query<&mut MeshMaterial3d<StandardMaterial>>,
    mut events: MessageWriter<ViewerEvent>,
) {
    for cmd in cmds.read() {
        match cmd {
            ViewerCommand::SetColor { name, rgba } => {
                let Some(node) = index.by_name.get(name).copied() else {
                    continue;
                };
                let handle = rgba.map(|c| states.get(c, &mut materials));
                let hovered = index.hovered.as_ref() == Some(name);
                let index = &mut *index;
                for mesh in index.meshes.get(&node).into_iter().flatten() {
                    match &handle {
                        Some(h) => index.assigned.insert(*mesh, h.clone()),
                        None => index.assigned.remove(mesh),
                    };
                    if hovered {
                        continue;
                    }
                    let Ok(mut current) = mesh_materials.get_mut(*mesh) else {
                        continue;
                    };
                    let target = match &handle {
                        Some(h) => h.clone(),
                        None => match index.original.get(mesh) {
                            Some(h) => h.clone(),
                            None => continue,
                        },
                    };
                    if current.0 != target {
                        current.0 = target;
                    }
                }
            }
            ViewerCommand::ClearColors => {
                index.assigned.clear();
                let hovered_node = index.hovered.as_ref().and_then(|n| index.by_name.get(n));
                let skip: &[Entity] = hovered_node
                    .and_then(|n| index.meshes.get(n))
                    .map_or(&[], Vec::as_slice);
                for (mesh, original) in &index.original {
                    if skip.contains(mesh) {
                        continue;
                    }
                    if let Ok(mut current) = mesh_materials.get_mut(*mesh)
                        && current.0 != *original
                    {
                        current.0 = original.clone();
                    }
                }
            }
            ViewerCommand::Select { name } => {
                let name = name.clone().filter(|n| index.by_name.contains_key(n));
                if index.selected != name {
                    index.selected = name.clone();
                    events.write(ViewerEvent::Selected { name });
                }
            }
            ViewerCommand::LoadModel { .. }
            | ViewerCommand::FitToModel
            | ViewerCommand::Focus { .. } => {}
        }
    }
}

/// Highlights the element under the pointer (one shared material) and
/// tells the host; leaving it restores its state colour or its own material.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report_hover(
    mut overs: MessageReader<Pointer<Over>>,
    mut outs: MessageReader<Pointer<Out>>,
    mut index: ResMut<ElementIndex>,
    mut states: ResMut<StateMaterials>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut mesh_materials: Query<&mut MeshMaterial3d<StandardMaterial>>,
    parents: Query<&ChildOf>,
    mut events: MessageWriter<ViewerEvent>,
) {
    let mut next = index.hovered.clone();
    for out in outs.read() {
        if index.element_of(out.entity, &parents) == next.as_ref() {
            next = None;
        }
    }
    for over in overs.read() {
        if let Some(name) = index.element_of(over.entity, &parents) {
            next = Some(name.clone());
        }
    }
    if next == index.hovered {
        return;
    }
    let index = &mut *index;
    if let Some(node) = index.hovered.as_ref().and_then(|n| index.by_name.get(n)) {
        for mesh in index.meshes.get(node).into_iter().flatten() {
            let target = index
                .assigned
                .get(mesh)
                .or_else(|| index.original.get(mesh));
            if let (Some(target), Ok(mut current)) = (target, mesh_materials.get_mut(*mesh)) {
                current.0 = target.clone();
            }
        }
    }
    if let Some(node) = next.as_ref().and_then(|n| index.by_name.get(n)) {
        let highlight = states.highlight(&mut materials);
        for mesh in index.meshes.get(node).into_iter().flatten() {
            if let Ok(mut current) = mesh_materials.get_mut(*mesh) {
                current.0 = highlight.clone();
            }
        }
    }
    index.hovered = next.clone();
    events.write(ViewerEvent::Hovered { name: next });
}

/// Turns primary clicks (not drags) into selections; a click on the background clears it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report_picks(
    mut presses: MessageReader<Pointer<Press>>,
    mut clicks: MessageReader<Pointer<Click>>,
    mouse: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    drag: Res<crate::camera::DragTracker>,
    mut press_at: Local<Option<Vec2>>,
    mut index: ResMut<ElementIndex>,
    parents: Query<&ChildOf>,
    mut events: MessageWriter<ViewerEvent>,
) {
    for p in presses.read() {
        if p.button == PointerButton::Primary {
            *press_at = Some(p.pointer_location.position);
        }
    }
    let mut picked: Option<Option<String>> = None;
    for c in clicks.read() {
        if c.button != PointerButton::Primary {
            continue;
        }
        let moved = press_at
            .map(|p| p.distance(c.pointer_location.position))
            .unwrap_or(0.0);
        if moved > crate::camera::CLICK_SLOP_PX {
            continue;
        }
        if let Some(name) = index.element_of(c.entity, &parents) {
            picked = Some(Some(name.clone()));
        }
    }
    if picked.is_none() && mouse.just_released(MouseButton::Left) && !drag.was_drag() {
        picked = Some(None);
    }
    let Some(name) = picked else { return };
    events.write(ViewerEvent::Clicked {
        name: name.clone(),
        shift: keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]),
    });
    if index.selected != name {
        index.selected = name.clone();
        events.write(ViewerEvent::Selected { name });
    }
}
