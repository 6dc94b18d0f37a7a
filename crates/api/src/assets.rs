//! 3D assets: the generated demo building and glTF files under `<data-dir>/3d/`.

use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Assets {
    /// The demo building, generated once at start.
    demo_glb: Vec<u8>,
    /// `<data-dir>/3d`
    dir: PathBuf,
}

impl Assets {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            demo_glb: twinscape_demo::building_glb(),
            dir,
        }
    }
}

/// A file name we are willing to look up: no separators, no dot-dot, no hidden files.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn content_type(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "glb" => "model/gltf-binary",
        Some(ext) if ext == "gltf" => "model/gltf+json",
        Some(ext) if ext == "bin" => "application/octet-stream",
        Some(ext) if ext == "png" => "image/png",
        Some(ext) if ext == "jpg" || ext == "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// `GET /3d/{name}`
pub async fn get_asset(
    State(assets): State<Arc<Assets>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if format!("/3d/{name}") == twinscape_protocol::DEMO_MODEL_PATH {
        return Ok((
            [(header::CONTENT_TYPE, "model/gltf-binary")],
            assets.demo_glb.clone(),
        )
            .into_response());
    }
    if !is_safe_name(&name) {
        return Err(ApiError::not_found(format!("No 3D asset named '{name}'.")));
    }
    match tokio::fs::read(assets.dir.join(&name)).await {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, content_type(&name))], bytes).into_response()),
        Err(_) => Err(ApiError::not_found(format!("No 3D asset named '{name}'."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_looked_up() {
        assert!(is_safe_name("building.glb"));
        assert!(is_safe_name("floor-2_v3.gltf"));
        for bad in [
            "",
            "..",
            "../etc/passwd",
            ".hidden",
            "a/b.glb",
            "a\\b",
            "x%2F..",
            "nul\0",
        ] {
            assert!(!is_safe_name(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a.GLB"), "model/gltf-binary");
        assert_eq!(content_type("a.gltf"), "model/gltf+json");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
