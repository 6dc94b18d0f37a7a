//! The builder's elements: the mesh selection, a new element from it bound
//! to a twin found by search (and aliases), and the list to search,
//! rename, select and delete.

use super::{Builder, draft, lookup};
use crate::state::live::use_live;
use leptos::prelude::*;
use serde_json::Value as Json;

/// A twin search box over the replica; `chosen` gets the picked id.
#[component]
pub fn TwinSearch(chosen: RwSignal<String>, #[prop(into)] id: String) -> impl IntoView {
    let live = use_live();
    let text = RwSignal::new(String::new());
    let hits = Memo::new(move |_| {
        let t = text.get();
        live.with_engine(|e| lookup::find_twins(e, &t, 8))
    });
    let results_id = format!("{id}-results");
    view! {
        <div class="twin-search">
            <input id=id type="search" placeholder="Find a twin by id, name or model"
                prop:value=move || text.get() on:input=move |e| text.set(event_target_value(&e))/>
            <ul class="twin-results" id=results_id>
                {move || hits.get().into_iter().map(|h| {
                    let pick = h.id.clone();
                    let is_chosen = { let id = h.id.clone(); move || chosen.get() == id };
                    view! {
                        <li>
                            <button class="twin-hit" class:chosen=is_chosen data-twin=h.id.clone()
                                on:click=move |_| chosen.set(pick.clone())>
                                <strong>{h.id.clone()}</strong>
                                {h.name.map(|n| format!(" {n}"))}
                                <span class="model">{format!(" {}", h.model)}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// The elements tab.
#[component]
pub fn ElementsPanel(b: Builder) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let twin = RwSignal::new(String::new());
    let aliases = RwSignal::new(Vec::<(String, String)>::new());
    let alias_name = RwSignal::new(String::new());
    let alias_twin = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    // A fresh selection suggests its first mesh's name.
    Effect::new(move |_| {
        let sel = b.selection.get();
        if name.get_untracked().is_empty()
            && let Some(first) = sel.first()
        {
            name.set(first.clone());
        }
    });
    let create = move |_| {
        let meshes = b.selection.get_untracked();
        let (n, t) = (name.get_untracked(), twin.get_untracked());
        if meshes.is_empty() || n.trim().is_empty() || t.is_empty() {
            return;
        }
        let a = aliases.get_untracked();
        b.edit(|d| {
            draft::add_element(d, &n, &t, &meshes, &a);
        });
        b.selection.set(Vec::new());
        name.set(String::new());
        twin.set(String::new());
        aliases.set(Vec::new());
    };
    let add_alias = move |_| {
        let (a, t) = (alias_name.get_untracked(), alias_twin.get_untracked());
        if a.trim().is_empty() || t.is_empty() {
            return;
        }
        aliases.update(|l| l.push((a.trim().to_string(), t)));
        alias_name.set(String::new());
        alias_twin.set(String::new());
    };
    let elements = move || {
        let f = filter.get().to_lowercase();
        b.draft.with(|d| {
            d["configuration"]["scenes"][0]["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| {
                    f.is_empty()
                        || [&e["id"], &e["displayName"], &e["primaryTwinID"]]
                            .iter()
                            .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(&f)))
                })
                .cloned()
                .collect::<Vec<Json>>()
        })
    };
    view! {
        <section class="builder-elements" id="builder-elements">
            <h2>"Selection"</h2>
            <p id="selection" data-count=move || b.selection.with(Vec::len).to_string()>
                {move || match b.selection.with(Vec::len) {
                    0 => "Click meshes in the view (Shift adds, a second click removes).".to_string(),
                    n => format!("{n} selected: {}", b.selection.get().join(", ")),
                }}
            </p>
            <Show when=move || !b.selection.with(Vec::is_empty)>
                <button id="clear-selection" on:click=move |_| b.selection.set(Vec::new())>"Clear"</button>
                <div class="new-element" id="new-element">
                    <h2>"New element"</h2>
                    <label>"Name" <input id="element-name" type="text" prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e))/></label>
                    <label>"Primary twin"</label>
                    <TwinSearch chosen=twin id="twin-search"/>
                    <p class="chosen" id="element-twin">{move || {
                        let t = twin.get();
                        if t.is_empty() { "No twin chosen".to_string() } else { format!("Twin: {t}") }
                    }}</p>
                    <details class="aliases">
                        <summary>{move || format!("Aliases ({})", aliases.with(Vec::len))}</summary>
                        <ul>{move || aliases.get().into_iter().map(|(a, t)| view! { <li>{format!("{a} → {t}")}</li> }).collect_view()}</ul>
                        <input id="alias-name" type="text" placeholder="alias (e.g. hvac)" prop:value=move || alias_name.get()
                            on:input=move |e| alias_name.set(event_target_value(&e))/>
                        <TwinSearch chosen=alias_twin id="alias-search"/>
                        <button id="add-alias" disabled=move || alias_twin.get().is_empty() on:click=add_alias>"Add alias"</button>
                    </details>
                    <button id="create-element" class="primary"
                        disabled=move || twin.get().is_empty() || name.get().trim().is_empty()
                        on:click=create>"Create element"</button>
                </div>
            </Show>
            <h2>"Elements " <span class="count">{move || b.draft.with(|d| draft::element_ids(d).len())}</span></h2>
            <input id="element-filter" type="search" placeholder="Search elements"
                prop:value=move || filter.get() on:input=move |e| filter.set(event_target_value(&e))/>
            <ul id="builder-element-list" class="builder-list">
                {move || elements().into_iter().map(|e| {
                    let id = e["id"].as_str().unwrap_or_default().to_string();
                    let meshes: Vec<String> = e["objectIDs"].as_array().into_iter().flatten()
                        .filter_map(|m| m.as_str().map(str::to_string)).collect();
                    let (rename_id, delete_id) = (id.clone(), id.clone());
                    let count = meshes.len();
                    view! {
                        <li data-element=id.clone()>
                            <input class="element-rename" type="text"
                                prop:value=e["displayName"].as_str().unwrap_or_default().to_string()
                                on:change=move |ev| {
                                    let n = event_target_value(&ev);
                                    b.edit(|d| draft::rename_element(d, &rename_id, &n));
                                }/>
                            <span class="hint">{format!(" {} · {count} mesh(es)", e["primaryTwinID"].as_str().unwrap_or_default())}</span>
                            <button class="element-select" on:click=move |_| b.selection.set(meshes.clone())>"Select"</button>
                            <button class="element-delete" on:click=move |_| b.edit(|d| draft::delete_element(d, &delete_id))>"Delete"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
