//! The explorer: models, a query box that runs on the live replica, and a
//! live property view of one twin with inline editing (PATCH over REST).

use crate::live::{LiveStatus, use_live};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::{Value as Json, json};

const DEFAULT_QUERY: &str = "SELECT * FROM DIGITALTWINS";
/// Rows shown in the results table.
const MAX_ROWS: usize = 200;

/// Sends a JSON Patch for one property of a twin.
async fn patch_property(id: String, path: String, value: Json) -> Result<(), String> {
    let body = json!([{"op": "replace", "path": format!("/{path}"), "value": value}]).to_string();
    let url = format!("/digitaltwins/{}?api-version=2023-10-31", js_encode(&id));
    let mut req =
        gloo_net::http::Request::patch(&url).header("Content-Type", "application/json-patch+json");
    if let Some(t) = crate::api_token() {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req
        .body(body)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.ok() {
        Ok(())
    } else {
        let text = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<Json>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        Err(msg)
    }
}

fn js_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn short(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[component]
pub fn ExplorerPage() -> impl IntoView {
    let live = use_live();
    let query_map = use_query_map();
    let selected = RwSignal::new(query_map.with_untracked(|q| q.get("twin")));
    let text = RwSignal::new(DEFAULT_QUERY.to_string());
    let ran = RwSignal::new(DEFAULT_QUERY.to_string());
    // Results follow the replica: re-run when it changes.
    let results = Memo::new(move |_| {
        live.version.track();
        live.query(&ran.get())
    });
    let models = Memo::new(move |_| {
        live.version.track();
        live.with_engine(|e| {
            let mut m: Vec<(String, String, usize)> = e
                .registry()
                .models()
                .map(|m| {
                    let name = m
                        .display_name
                        .get("en")
                        .cloned()
                        .unwrap_or_else(|| m.id.clone());
                    (m.id.clone(), name, e.graph().twins_of_model(&m.id).len())
                })
                .collect();
            m.sort();
            m
        })
    });
    view! {
        <div class="explorer" id="explorer">
            <aside class="explorer-models">
                <h1>"Explorer"</h1>
                <p class="live-status" id="live-status"
                    data-status=move || live.status.get().label()
                    data-seq=move || live.seq.get().to_string()
                    data-twins=move || { live.version.track(); live.with_engine(|e| e.graph().twin_count()).to_string() }
                >
                    <span class=move || format!("dot {}", live.status.get().label())></span>
                    {move || match live.status.get() {
                        LiveStatus::Live(seq) => format!("Live · seq {seq}"),
                        LiveStatus::Disconnected(why) => format!("Disconnected: {why}"),
                        other => other.label(),
                    }}
                    " · "
                    {move || { live.version.track(); live.with_engine(|e| e.graph().twin_count()) }}
                    " twins"
                </p>
                <h2>"Models"</h2>
                <ul class="models" id="model-list">
                    <For each=move || models.get() key=|m| m.0.clone() let:m>
                        <li data-model=m.0.clone() title=m.0.clone()>
                            <span class="name">{m.1.clone()}</span>
                            <span class="count">{m.2}</span>
                        </li>
                    </For>
                </ul>
            </aside>
            <section class="explorer-query">
                <form class="query-box" on:submit=move |ev| {
                    ev.prevent_default();
                    ran.set(text.get_untracked());
                }>
                    <textarea id="query-text" rows="3" prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <button type="submit" id="run-query">"Run on the replica"</button>
                </form>
                {move || match results.get() {
                    Err(e) => view! { <p class="query-error" id="query-error" role="alert">{e}</p> }.into_any(),
                    Ok(rows) => {
                        let total = rows.len();
                        let rows: Vec<Json> = rows.into_iter().take(MAX_ROWS).collect();
                        view! {
                            <p class="query-count" id="query-count" data-count=total.to_string()>{format!("{total} results")}</p>
                            <table class="results" id="query-results">
                                <thead><tr><th>"$dtId"</th><th>"model"</th><th>"properties"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| {
                                        let id = r["$dtId"].as_str().map(str::to_string);
                                        let model = r["$metadata"]["$model"].as_str().unwrap_or_default().to_string();
                                        let props: Vec<String> = r.as_object().map(|o| o.iter()
                                            .filter(|(k, v)| !k.starts_with('$') && !v.is_object())
                                            .map(|(k, v)| format!("{k}: {}", short(v)))
                                            .collect()).unwrap_or_default();
                                        let label = id.clone().unwrap_or_else(|| r.to_string());
                                        let pick = id.clone();
                                        view! {
                                            <tr class="result" data-twin=id.clone().unwrap_or_default()
                                                on:click=move |_| selected.set(pick.clone())>
                                                <td>{label}</td><td>{model}</td><td class="props">{props.join(", ")}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }}
            </section>
            <aside class="explorer-twin">
                {move || match selected.get() {
                    None => view! { <p class="hint">"Select a twin to see its live properties."</p> }.into_any(),
                    Some(id) => view! { <TwinPanel id=id/> }.into_any(),
                }}
            </aside>
        </div>
    }
}

/// One twin's properties, live, with inline editing of primitive values.
#[component]
fn TwinPanel(id: String) -> impl IntoView {
    let live = use_live();
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
                    let tid = panel_id.clone();
                    view! {
                        <p class="model">{model}</p>
                        <dl class="props">
                            {props.into_iter().map(|(k, v)| {
                                let editable = !v.is_object() && !v.is_array();
                                let (key, tid) = (k.clone(), tid.clone());
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
                                                        let (id, path) = (tid.clone(), key.clone());
                                                        leptos::task::spawn_local(async move {
                                                            error.set(patch_property(id, path, value).await.err());
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
