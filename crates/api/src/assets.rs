//! 3D files: the generated demo building and the glTF files uploaded to
//! `<data-dir>/3d/`.
//!
//! - `GET /3d/{name}` (public, like the app's own files): the bytes, with a
//!   content `ETag` and `Cache-Control: no-cache`, so a browser revalidates
//!   and gets `304 Not Modified` while the file is unchanged.
//! - `GET /3d`: `{"value": [{"name", "size", "etag", "lastModified"}]}`.
//! - `PUT /3d/{name}` (owners): a `.glb` or `.gltf` checked as glTF before
//!   it is kept (written to a temporary file, synced, then renamed, so a
//!   crash never leaves half a file); larger than the limit: 413.
//! - `DELETE /3d/{name}` (owners).

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use std::sync::Arc;
use twinscape_protocol::ErrorCode;

pub struct Assets {
    /// The demo building, generated once at start, and its ETag.
    demo_glb: (Vec<u8>, String),
    /// `<data-dir>/3d`
    dir: PathBuf,
    /// Largest upload, in bytes.
    max_bytes: usize,
}

impl Assets {
    pub fn new(dir: PathBuf, max_bytes: usize) -> Self {
        let glb = twinscape_demo::building_glb();
        let etag = bytes_etag(&glb);
        Self {
            demo_glb: (glb, etag),
            dir,
            max_bytes,
        }
    }
}

/// A strong ETag of a file's bytes (FNV-1a 64 and the length).
fn bytes_etag(bytes: &[u8]) -> String {
    format!("\"{:016x}-{:x}\"", crate::fnv1a(bytes), bytes.len())
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

fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
}

fn content_type(name: &str) -> &'static str {
    match extension(name).as_deref() {
        Some("glb") => "model/gltf-binary",
        Some("gltf") => "model/gltf+json",
        Some("bin") => "application/octet-stream",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

fn asset_not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::AssetNotFound,
        format!("No 3D asset named '{name}'."),
    )
}

/// The file with cache validators; `304` when `If-None-Match` names it.
fn file_response(name: &str, bytes: Vec<u8>, etag: &str, headers: &HeaderMap) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let validators = [
        (header::ETAG, HeaderValue::from_str(etag).ok()),
        (
            header::CACHE_CONTROL,
            Some(HeaderValue::from_static("no-cache")),
        ),
    ];
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type(name))], bytes).into_response()
    };
    for (k, v) in validators {
        if let Some(v) = v {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// `GET /3d/{name}`
pub async fn get_asset(
    State(assets): State<Arc<Assets>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if format!("/3d/{name}") == twinscape_protocol::DEMO_MODEL_PATH {
        let (glb, etag) = &assets.demo_glb;
        return Ok(file_response(&name, glb.clone(), etag, &headers));
    }
    if !is_safe_name(&name) {
        return Err(asset_not_found(&name));
    }
    match tokio::fs::read(assets.dir.join(&name)).await {
        Ok(bytes) => {
            let etag = bytes_etag(&bytes);
            Ok(file_response(&name, bytes, &etag, &headers))
        }
        Err(_) => Err(asset_not_found(&name)),
    }
}

/// `GET /3d`
pub async fn list_assets(State(assets): State<Arc<Assets>>) -> Result<Response, ApiError> {
    let dir = assets.dir.clone();
    let mut value: Vec<Json> = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_safe_name(&name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| twinscape_graph::Timestamp((d.as_nanos() / 100) as i64).to_string());
            out.push(json!({
                "name": name,
                "url": format!("/3d/{name}"),
                "size": bytes.len(),
                "etag": bytes_etag(&bytes),
                "lastModified": modified,
            }));
        }
        out
    })
    .await
    .unwrap_or_default();
    let (demo, etag) = &assets.demo_glb;
    value.push(json!({
        "name": twinscape_protocol::DEMO_MODEL_PATH.trim_start_matches("/3d/"),
        "url": twinscape_protocol::DEMO_MODEL_PATH,
        "size": demo.len(),
        "etag": etag,
        "lastModified": null,
    }));
    value.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(axum::Json(json!({ "value": value, "nextLink": null })).into_response())
}

/// Checks that `bytes` are a glTF file of the kind its name says.
fn check_gltf(name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let bad = |why: String| {
        ApiError::new(
            ErrorCode::AssetInvalid,
            format!("'{name}' is not a valid glTF file: {why}"),
        )
    };
    let glb = bytes.starts_with(b"glTF");
    match extension(name).as_deref() {
        Some("glb") if !glb => {
            return Err(bad("a .glb starts with the magic bytes 'glTF'.".into()));
        }
        Some("gltf") if glb => return Err(bad("this is binary glTF; name it .glb.".into())),
        Some("glb" | "gltf") => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::AssetInvalid,
                format!("'{name}': only .glb and .gltf files can be uploaded."),
            ));
        }
    }
    gltf::Gltf::from_slice(bytes)
        .map(|_| ())
        .map_err(|e| bad(e.to_string()))
}

/// `PUT /3d/{name}`
pub async fn put_asset(
    State(assets): State<Arc<Assets>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !is_safe_name(&name)
        || name == twinscape_protocol::DEMO_MODEL_PATH.trim_start_matches("/3d/")
    {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "'{name}' cannot be a 3D file's name: use letters, digits, '.', '-' and '_', not starting with '.'."
            ),
        ));
    }
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "The 3D file is larger than the limit of {} bytes.",
                assets.max_bytes
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > assets.max_bytes) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, assets.max_bytes)
        .await
        .map_err(|_| too_large())?;
    check_gltf(&name, &bytes)?;
    let etag = bytes_etag(&bytes);
    let dir = assets.dir.clone();
    let target = dir.join(&name);
    let existed = target.is_file();
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".upload-{:032x}", twinscape_core::random_u128()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)?;
            std::fs::File::open(&dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))
    .and_then(|r| r);
    if let Err(e) = written {
        tracing::error!("storing 3D file {name}: {e}");
        return Err(ApiError::new(
            ErrorCode::InternalServerError,
            format!("The 3D file could not be stored: {e}"),
        ));
    }
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = json!({ "name": name, "url": format!("/3d/{name}"), "etag": etag });
    Ok((status, [(header::ETAG, etag)], axum::Json(body)).into_response())
}

/// `DELETE /3d/{name}`
pub async fn delete_asset(
    State(assets): State<Arc<Assets>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if !is_safe_name(&name) {
        return Err(asset_not_found(&name));
    }
    match tokio::fs::remove_file(assets.dir.join(&name)).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(_) => Err(asset_not_found(&name)),
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
    fn uploads_are_checked_as_gltf() {
        let glb = twinscape_demo::building_glb();
        assert!(check_gltf("b.glb", &glb).is_ok());
        assert_eq!(
            check_gltf("b.gltf", &glb).unwrap_err().code,
            ErrorCode::AssetInvalid
        );
        assert_eq!(
            check_gltf("b.glb", b"glTF\x02\0\0\0junk").unwrap_err().code,
            ErrorCode::AssetInvalid
        );
        assert!(check_gltf("b.gltf", br#"{"asset":{"version":"2.0"}}"#).is_ok());
        assert!(check_gltf("b.gltf", br#"{"nodes":[]}"#).is_err());
        assert!(check_gltf("b.obj", b"o cube").is_err());
    }

    #[test]
    fn etags_name_the_bytes() {
        assert_eq!(bytes_etag(b"abc"), bytes_etag(b"abc"));
        assert_ne!(bytes_etag(b"abc"), bytes_etag(b"abd"));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a.GLB"), "model/gltf-binary");
        assert_eq!(content_type("a.gltf"), "model/gltf+json");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
