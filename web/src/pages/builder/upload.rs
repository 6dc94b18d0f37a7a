//! Uploading a 3D file (`PUT /3d/{name}`) with its progress: an
//! `XMLHttpRequest`, because `fetch` reports no upload progress.

use crate::api::{Api, ApiError, segment};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    Idle,
    /// Bytes sent of the total.
    Sending(f64, f64),
    /// Uploaded under this name.
    Done(String),
    Failed(String),
}

/// Whether a file name is one the server takes (`.glb`, `.gltf`).
pub fn is_model_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".glb") || lower.ends_with(".gltf")
}

/// Uploads `file`; `state` follows it.
pub fn upload(api: &Api, file: web_sys::File, state: RwSignal<Upload>) {
    let name = file.name();
    if !is_model_file(&name) {
        state.set(Upload::Failed(format!(
            "{name} is not a glTF model: choose a .glb or .gltf file."
        )));
        return;
    }
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        state.set(Upload::Failed("This browser cannot upload files.".into()));
        return;
    };
    let url = api.url(&format!("/3d/{}", segment(&name)));
    if xhr.open("PUT", &url).is_err() {
        state.set(Upload::Failed(format!("Could not open {url}.")));
        return;
    }
    if let Some(t) = api.token() {
        let _ = xhr.set_request_header("Authorization", &format!("Bearer {t}"));
    }
    let content_type = if name.to_ascii_lowercase().ends_with(".glb") {
        "model/gltf-binary"
    } else {
        "model/gltf+json"
    };
    let _ = xhr.set_request_header("Content-Type", content_type);
    state.set(Upload::Sending(0.0, file.size()));
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                state.set(Upload::Sending(e.loaded(), e.total()));
            }
        });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();
    let done_xhr = xhr.clone();
    let on_load = Closure::<dyn Fn()>::new(move || {
        let status = done_xhr.status().unwrap_or(0);
        if (200..300).contains(&status) {
            state.set(Upload::Done(name.clone()));
        } else {
            let text = done_xhr.response_text().ok().flatten().unwrap_or_default();
            let e = ApiError::from_body(status, &text);
            state.set(Upload::Failed(e.summary()));
        }
    });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    on_load.forget();
    let on_error = Closure::<dyn Fn()>::new(move || {
        state.set(Upload::Failed(
            "The upload did not reach the server.".into(),
        ));
    });
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        state.set(Upload::Failed("The upload could not start.".into()));
    }
}
