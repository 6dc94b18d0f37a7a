//! The explorer: models, a query box that runs on the live replica, and a
//! live property view of one twin with inline editing (PATCH over REST).

use crate::components::twin_panel::{TwinPanel, short};
use crate::state::live::{LiveStatus, use_live};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::Value as Json;

const DEFAULT_QUERY: &str = "SELECT * FROM DIGITALTWINS";
/// Rows shown in the results table.
const MAX_ROWS: usize = 200;

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
