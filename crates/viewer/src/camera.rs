//! The orbit camera: left-drag orbits, right/middle-drag pans, the wheel zooms,
//! and the view fits the model when it loads or on request.

use crate::elements::ElementIndex;
use crate::link::{ElementInfo, ViewerCommand, ViewerEvent};
use crate::load::{ModelState, Phase};
use bevy::camera::primitives::Aabb;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use std::f32::consts::FRAC_PI_2;

/// A press that moves less than this (CSS px) before release is a click.
pub(crate) const CLICK_SLOP_PX: f32 = 5.0;

#[derive(Component, Debug, Clone, Copy)]
pub(crate) struct OrbitCamera {
    pub focus: Vec3,
    pub radius: f32,
    /// Rotation about +Y, radians.
    pub yaw: f32,
    /// Elevation above the horizon, radians.
    pub pitch: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self {
            focus: Vec3::ZERO,
            radius: 40.0,
            yaw: 0.6,
            pitch: 0.5,
        }
    }
}

impl OrbitCamera {
    pub fn transform(&self) -> Transform {
        let dir = Vec3::new(
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
            self.pitch.cos() * self.yaw.cos(),
        );
        Transform::from_translation(self.focus + dir * self.radius).looking_at(self.focus, Vec3::Y)
    }

    /// Frames a box of the given centre and half-extents for a vertical field of
    /// view `fov_y` and an `aspect` (width / height).
    pub fn fit(&mut self, center: Vec3, half_extents: Vec3, fov_y: f32, aspect: f32) {
        let sphere = half_extents.length().max(0.01);
        let fov_x = 2.0 * ((fov_y / 2.0).tan() * aspect).atan();
        let half_fov = (fov_y.min(fov_x) / 2.0).max(0.05);
        self.focus = center;
        self.radius = sphere / half_fov.sin() * 1.02;
    }
}

/// How far the primary button has travelled since it was pressed.
#[derive(Resource, Default)]
pub(crate) struct DragTracker {
    travelled: f32,
}

impl DragTracker {
    pub fn was_drag(&self) -> bool {
        self.travelled > CLICK_SLOP_PX
    }
}

pub(crate) fn spawn_camera_and_light(mut commands: Commands) {
    let orbit = OrbitCamera::default();
    commands.spawn((
        Camera3d::default(),
        // No tonemapping LUTs are bundled (smaller wasm), and colours stay as set.
        Tonemapping::None,
        orbit.transform(),
        orbit,
    ));
    commands.spawn((
        DirectionalLight {
            illuminance: 2_500.0,
            shadow_maps_enabled: false,
            ..default()
        },
        Transform::from_xyz(20.0, 40.0, 25.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}

pub(crate) fn orbit_input(
    mouse: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    mut drag: ResMut<DragTracker>,
    mut cams: Query<(&mut OrbitCamera, &mut Transform)>,
) {
    if mouse.just_pressed(MouseButton::Left) {
        drag.travelled = 0.0;
    }
    let Ok((mut orbit, mut transform)) = cams.single_mut() else {
        return;
    };
    let delta = motion.delta;
    let mut changed = false;
    if mouse.pressed(MouseButton::Left) && delta != Vec2::ZERO {
        drag.travelled += delta.length();
        if drag.was_drag() {
            orbit.yaw -= delta.x * 0.008;
            orbit.pitch =
                (orbit.pitch + delta.y * 0.008).clamp(-FRAC_PI_2 + 0.05, FRAC_PI_2 - 0.05);
            changed = true;
        }
    }
    if (mouse.pressed(MouseButton::Right) || mouse.pressed(MouseButton::Middle))
        && delta != Vec2::ZERO
    {
        let scale = orbit.radius * 0.0015;
        let right = transform.right();
        let up = transform.up();
        orbit.focus += (-right * delta.x + up * delta.y) * scale;
        changed = true;
    }
    if scroll.delta.y != 0.0 {
        let lines = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 100.0,
        };
        orbit.radius = (orbit.radius * (-lines * 0.15).exp()).clamp(0.5, 10_000.0);
        changed = true;
    }
    if changed {
        *transform = orbit.transform();
    }
}

/// World-space bounds of each element, from its meshes' AABBs.
fn element_bounds(
    index: &ElementIndex,
    meshes: &Query<(&Aabb, &GlobalTransform)>,
) -> Vec<ElementInfo> {
    let mut out = Vec::with_capacity(index.names.len());
    for name in &index.names {
        let Some(node) = index.by_name.get(name) else {
            continue;
        };
        let (mut lo, mut hi) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
        for mesh in index.meshes.get(node).into_iter().flatten() {
            let Ok((aabb, gt)) = meshes.get(*mesh) else {
                continue;
            };
            let (c, h) = (Vec3::from(aabb.center), Vec3::from(aabb.half_extents));
            for i in 0..8 {
                let corner = c + h * Vec3::new(
                    if i & 1 == 0 { -1.0 } else { 1.0 },
                    if i & 2 == 0 { -1.0 } else { 1.0 },
                    if i & 4 == 0 { -1.0 } else { 1.0 },
                );
                let w = gt.transform_point(corner);
                lo = lo.min(w);
                hi = hi.max(w);
            }
        }
        if lo.x <= hi.x {
            out.push(ElementInfo {
                name: name.clone(),
                min: lo.to_array(),
                max: hi.to_array(),
            });
        }
    }
    out
}

fn fit_camera(
    elements: &[ElementInfo],
    cams: &mut Query<(&mut OrbitCamera, &mut Transform, &Camera, &Projection)>,
) {
    let (mut lo, mut hi) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
    for e in elements {
        lo = lo.min(Vec3::from(e.min));
        hi = hi.max(Vec3::from(e.max));
    }
    if lo.x > hi.x {
        return;
    }
    let Ok((mut orbit, mut transform, camera, projection)) = cams.single_mut() else {
        return;
    };
    let (fov, aspect) = match projection {
        Projection::Perspective(p) => {
            let aspect = camera
                .logical_viewport_size()
                .map(|s| s.x / s.y.max(1.0))
                .unwrap_or(p.aspect_ratio);
            (p.fov, aspect)
        }
        _ => (std::f32::consts::FRAC_PI_4, 1.0),
    };
    orbit.fit((lo + hi) / 2.0, (hi - lo) / 2.0, fov, aspect);
    *transform = orbit.transform();
}

/// Once the model is spawned and its transforms propagated: fit the view and
/// report the elements with their bounds.
pub(crate) fn fit_when_ready(
    mut state: ResMut<ModelState>,
    index: Res<ElementIndex>,
    meshes: Query<(&Aabb, &GlobalTransform)>,
    mut cams: Query<(&mut OrbitCamera, &mut Transform, &Camera, &Projection)>,
    mut events: MessageWriter<ViewerEvent>,
) {
    if state.phase != Phase::Spawned {
        return;
    }
    let elements = element_bounds(&index, &meshes);
    fit_camera(&elements, &mut cams);
    state.phase = Phase::Shown { frames: 0 };
    events.write(ViewerEvent::Loaded {
        url: state.url.clone(),
        elements,
        shared_meshes: state.shared_meshes,
    });
}

pub(crate) fn handle_camera_commands(
    mut cmds: MessageReader<ViewerCommand>,
    index: Res<ElementIndex>,
    meshes: Query<(&Aabb, &GlobalTransform)>,
    mut cams: Query<(&mut OrbitCamera, &mut Transform, &Camera, &Projection)>,
) {
    for cmd in cmds.read() {
        match cmd {
            ViewerCommand::FitToModel => {
                let elements = element_bounds(&index, &meshes);
                fit_camera(&elements, &mut cams);
            }
            ViewerCommand::Focus { names } => {
                // Room around the elements: twice their size, so the
                // neighbourhood stays in view.
                let elements: Vec<ElementInfo> = element_bounds(&index, &meshes)
                    .into_iter()
                    .filter(|e| names.contains(&e.name))
                    .map(|e| {
                        let (lo, hi) = (Vec3::from(e.min), Vec3::from(e.max));
                        let (c, h) = ((lo + hi) / 2.0, (hi - lo).max(Vec3::splat(0.5)));
                        ElementInfo {
                            name: e.name,
                            min: (c - h).to_array(),
                            max: (c + h).to_array(),
                        }
                    })
                    .collect();
                fit_camera(&elements, &mut cams);
            }
            _ => {}
        }
    }
}

type ViewChanged = Or<(Changed<GlobalTransform>, Changed<Camera>)>;

/// Publishes the camera's clip-from-world matrix whenever the view changes.
pub(crate) fn report_camera(
    cams: Query<(&Camera, &GlobalTransform), ViewChanged>,
    mut last: Local<Option<([f32; 16], [f32; 2])>>,
    mut events: MessageWriter<ViewerEvent>,
) {
    let Ok((camera, gt)) = cams.single() else {
        return;
    };
    let Some(size) = camera.logical_viewport_size() else {
        return;
    };
    let clip_from_world = (camera.clip_from_view() * gt.to_matrix().inverse()).to_cols_array();
    let now = (clip_from_world, size.to_array());
    if last.as_ref() != Some(&now) {
        *last = Some(now);
        events.write(ViewerEvent::Camera {
            clip_from_world,
            viewport: size.to_array(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_puts_the_whole_box_in_view() {
        let mut o = OrbitCamera::default();
        let half = Vec3::new(12.0, 6.0, 8.0);
        o.fit(
            Vec3::new(0.0, 6.0, 0.0),
            half,
            std::f32::consts::FRAC_PI_4,
            16.0 / 9.0,
        );
        assert_eq!(o.focus, Vec3::new(0.0, 6.0, 0.0));
        // The bounding sphere subtends at most the vertical field of view.
        let sphere = half.length();
        assert!((sphere / o.radius).asin() <= std::f32::consts::FRAC_PI_8 + 1e-4);
        assert!(o.radius > sphere);
        // The camera looks at the focus.
        let t = o.transform();
        let fwd = t.forward();
        let to_focus = (o.focus - t.translation).normalize();
        assert!(fwd.dot(to_focus) > 0.9999);
    }

    #[test]
    fn narrow_viewports_use_the_horizontal_fov() {
        let mut wide = OrbitCamera::default();
        let mut narrow = OrbitCamera::default();
        wide.fit(Vec3::ZERO, Vec3::ONE, 0.8, 2.0);
        narrow.fit(Vec3::ZERO, Vec3::ONE, 0.8, 0.5);
        assert!(narrow.radius > wide.radius);
    }
}
