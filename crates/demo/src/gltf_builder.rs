//! A small builder for binary glTF made of boxes, on top of `gltf-json`'s types.

use gltf_json as json;
use json::validation::{Checked::Valid, USize64};
use json::{Index, Root};
use std::collections::BTreeMap;

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Box3 {
    pub min: [f32; 3],
    pub max: [f32; 3],
}

impl Box3 {
    pub fn new(min: [f32; 3], max: [f32; 3]) -> Self {
        Self { min, max }
    }

    pub fn center(&self) -> [f32; 3] {
        std::array::from_fn(|i| (self.min[i] + self.max[i]) / 2.0)
    }

    pub fn size(&self) -> [f32; 3] {
        std::array::from_fn(|i| self.max[i] - self.min[i])
    }
}

pub struct GlbBuilder {
    root: Root,
    bin: Vec<u8>,
}

impl GlbBuilder {
    pub fn new(generator: &str) -> Self {
        let mut root = Root::default();
        root.asset.generator = Some(generator.to_string());
        Self {
            root,
            bin: Vec::new(),
        }
    }

    fn push_view(
        &mut self,
        bytes: &[u8],
        target: json::buffer::Target,
    ) -> Index<json::buffer::View> {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        let offset = self.bin.len();
        self.bin.extend_from_slice(bytes);
        self.root.push(json::buffer::View {
            buffer: Index::new(0),
            byte_length: USize64::from(bytes.len()),
            byte_offset: Some(USize64::from(offset)),
            byte_stride: None,
            name: None,
            target: Some(Valid(target)),
            extensions: None,
            extras: Default::default(),
        })
    }

    fn push_accessor(
        &mut self,
        view: Index<json::buffer::View>,
        count: usize,
        component: json::accessor::ComponentType,
        type_: json::accessor::Type,
        min_max: Option<(serde_json::Value, serde_json::Value)>,
    ) -> Index<json::Accessor> {
        let (min, max) = match min_max {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        self.root.push(json::Accessor {
            buffer_view: Some(view),
            byte_offset: None,
            count: USize64::from(count),
            component_type: Valid(json::accessor::GenericComponentType(component)),
            extensions: None,
            extras: Default::default(),
            type_: Valid(type_),
            min,
            max,
            name: None,
            normalized: false,
            sparse: None,
        })
    }

    /// A cube of side 1 centred on the origin, with flat normals (24 vertices).
    pub fn unit_cube_mesh(&mut self, name: &str) -> Index<json::Mesh> {
        let mut positions: Vec<[f32; 3]> = Vec::with_capacity(24);
        let mut normals: Vec<[f32; 3]> = Vec::with_capacity(24);
        let mut indices: Vec<u16> = Vec::with_capacity(36);
        // Each face: its normal and two in-plane axes (u × v = normal).
        let faces: [([f32; 3], [f32; 3], [f32; 3]); 6] = [
            ([1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]),
            ([-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
            ([0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]),
            ([0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]),
            ([0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
            ([0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
        ];
        for (n, u, v) in faces {
            let base = positions.len() as u16;
            for (su, sv) in [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)] {
                positions.push(std::array::from_fn(|i| n[i] * 0.5 + u[i] * su + v[i] * sv));
                normals.push(n);
            }
            indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
        }
        let pos_bytes: Vec<u8> = positions
            .iter()
            .flatten()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let nrm_bytes: Vec<u8> = normals
            .iter()
            .flatten()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let idx_bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();

        use json::accessor::{ComponentType, Type};
        use json::buffer::Target;
        let pv = self.push_view(&pos_bytes, Target::ArrayBuffer);
        let pa = self.push_accessor(
            pv,
            positions.len(),
            ComponentType::F32,
            Type::Vec3,
            Some((
                serde_json::json!([-0.5, -0.5, -0.5]),
                serde_json::json!([0.5, 0.5, 0.5]),
            )),
        );
        let nv = self.push_view(&nrm_bytes, Target::ArrayBuffer);
        let na = self.push_accessor(nv, normals.len(), ComponentType::F32, Type::Vec3, None);
        let iv = self.push_view(&idx_bytes, Target::ElementArrayBuffer);
        let ia = self.push_accessor(iv, indices.len(), ComponentType::U16, Type::Scalar, None);

        let mut attributes = BTreeMap::new();
        attributes.insert(Valid(json::mesh::Semantic::Positions), pa);
        attributes.insert(Valid(json::mesh::Semantic::Normals), na);
        self.root.push(json::Mesh {
            extensions: None,
            extras: Default::default(),
            name: Some(name.to_string()),
            primitives: vec![json::mesh::Primitive {
                attributes,
                extensions: None,
                extras: Default::default(),
                indices: Some(ia),
                material: None,
                mode: Valid(json::mesh::Mode::Triangles),
                targets: None,
            }],
            weights: None,
        })
    }

    pub fn material(&mut self, name: &str, base_color: [f32; 4]) -> Index<json::Material> {
        let mut m = json::Material {
            name: Some(name.to_string()),
            ..Default::default()
        };
        m.pbr_metallic_roughness.base_color_factor = json::material::PbrBaseColorFactor(base_color);
        m.pbr_metallic_roughness.metallic_factor = json::material::StrengthFactor(0.0);
        m.pbr_metallic_roughness.roughness_factor = json::material::StrengthFactor(0.8);
        self.root.push(m)
    }

    /// A named node showing `mesh` (a unit cube) stretched to `bounds`.
    ///
    /// glTF materials belong to primitives, not nodes, so each distinct material
    /// gets its own variant of the mesh, created on first use and then shared.
    pub fn box_node(
        &mut self,
        name: &str,
        bounds: Box3,
        mesh: Index<json::Mesh>,
        material: Index<json::Material>,
    ) -> Index<json::Node> {
        let mesh = self.mesh_with_material(mesh, material);
        self.root.push(json::Node {
            mesh: Some(mesh),
            name: Some(name.to_string()),
            translation: Some(bounds.center()),
            scale: Some(bounds.size()),
            ..Default::default()
        })
    }

    fn mesh_with_material(
        &mut self,
        mesh: Index<json::Mesh>,
        material: Index<json::Material>,
    ) -> Index<json::Mesh> {
        let base = &self.root.meshes[mesh.value()];
        let prim = &base.primitives[0];
        if prim.material.is_none() || prim.material == Some(material) {
            self.root.meshes[mesh.value()].primitives[0].material = Some(material);
            return mesh;
        }
        let variant_name = format!(
            "{}_{}",
            base.name.as_deref().unwrap_or("Mesh"),
            self.root.materials[material.value()]
                .name
                .as_deref()
                .unwrap_or("Material")
        );
        if let Some(i) = self
            .root
            .meshes
            .iter()
            .position(|m| m.name.as_deref() == Some(variant_name.as_str()))
        {
            return Index::new(i as u32);
        }
        let mut variant = base.clone();
        variant.name = Some(variant_name);
        variant.primitives[0].material = Some(material);
        self.root.push(variant)
    }

    pub fn scene(&mut self, name: &str, nodes: Vec<Index<json::Node>>) {
        let scene = self.root.push(json::Scene {
            extensions: None,
            extras: Default::default(),
            name: Some(name.to_string()),
            nodes,
        });
        self.root.scene = Some(scene);
    }

    /// Serializes the GLB container: header, JSON chunk, BIN chunk.
    pub fn finish(mut self) -> Vec<u8> {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        self.root.buffers = vec![json::Buffer {
            byte_length: USize64::from(self.bin.len()),
            name: None,
            uri: None,
            extensions: None,
            extras: Default::default(),
        }];
        // Serializing a Root built from valid parts cannot fail; fall back to an
        // empty document rather than panicking.
        let mut json_bytes = self.root.to_vec().unwrap_or_else(|_| b"{}".to_vec());
        while !json_bytes.len().is_multiple_of(4) {
            json_bytes.push(b' ');
        }
        let total = 12 + 8 + json_bytes.len() + 8 + self.bin.len();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(b"glTF");
        out.extend_from_slice(&2u32.to_le_bytes());
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&(json_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(b"JSON");
        out.extend_from_slice(&json_bytes);
        out.extend_from_slice(&(self.bin.len() as u32).to_le_bytes());
        out.extend_from_slice(b"BIN\0");
        out.extend_from_slice(&self.bin);
        out
    }
}
