//! One twin's properties, live from the replica, with inline editing of
//! primitive values (a JSON Patch over REST; the change comes back through
//! the live feed like anyone else's).

use crate::state::live::use_live;
use crate::state::use_config;
use leptos::prelude::*;
use serde_json::{Value as Json, json};

/// A value as one line of text (strings without their quotes).
pub fn short(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One twin's properties, live, with inline editing of primitive values.
#[component]
pub fn TwinPanel(id: String) -> impl IntoView {
    let live = use_live();
    let api = use_config().api();
    let twin = live.twin(&id);
    let error = RwSignal::new(None::<String>);
    let panel_id = id.clone();
    view! {
        <div class="twin-panel" id="twin-panel" data-twin=id.clone()>
            <h2>{id.clone()}</h2>
            {move || match twin.get() {
                None => view! { <p class="hint">"This twin does not exist (yet)."</p> }.into_any(),
                Some(doc) => {
                    let model = doc["$metadata"]["$model"].as_str().unwrap_or_default().to_string();
                    let props: Vec<(String, Json)> = doc.as_object().map(|o| o.iter()
                        .filter(|(k, _)| !k.starts_with('$'))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()).unwrap_or_default();
                    let (tid, api) = (panel_id.clone(), api.clone());
                    view! {
                        <p class="model">{model}</p>
                        <dl class="props">
                            {props.into_iter().map(|(k, v)| {
                                let editable = !v.is_object() && !v.is_array();
                                let (key, tid, api) = (k.clone(), tid.clone(), api.clone());
                                let shown = short(&v);
                                let shown_attr = shown.clone();
                                view! {
                                    <dt>{k.clone()}</dt>
                                    <dd data-prop=k.clone() data-value=shown_attr>
                                        {if editable {
                                            let original = v.clone();
                                            view! {
                                                <input class="prop-input" value=shown.clone() data-prop-input=key.clone()
                                                    on:change=move |ev| {
                                                        let raw = event_target_value(&ev);
                                                        // Keep the property's JSON type.
                                                        let value = match &original {
                                                            Json::Number(_) | Json::Bool(_) | Json::Null => serde_json::from_str(&raw).unwrap_or(Json::String(raw)),
                                                            _ => Json::String(raw),
                                                        };
                                                        let (id, path, api) = (tid.clone(), key.clone(), api.clone());
                                                        leptos::task::spawn_local(async move {
                                                            let patch = json!([{"op": "replace", "path": format!("/{path}"), "value": value}]);
                                                            error.set(api.patch_twin(&id, &patch).await.err().map(|e| e.message));
                                                        });
                                                    }/>
                                                <span class="value">{shown}</span>
                                            }.into_any()
                                        } else {
                                            view! { <pre class="value">{serde_json::to_string_pretty(&v).unwrap_or_default()}</pre> }.into_any()
                                        }}
                                    </dd>
                                }
                            }).collect_view()}
                        </dl>
                    }.into_any()
                }
            }}
            {move || error.get().map(|e| view! { <p class="patch-error" role="alert">{e}</p> })}
        </div>
    }
}
