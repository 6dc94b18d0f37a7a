//! The builder's behaviors: the list, and a form for a new one (elements,
//! layer, a visual rule on a property of the primary twin's model or on a
//! custom expression checked as it is typed, conditions by the value's
//! kind, popover widgets). The rule being filled in is previewed on the
//! replica before it is added.

use super::draft::{BehaviorSpec, Condition, LayerChoice, Look, ValueSource, WidgetSpec};
use super::lookup::{self, Kind};
use super::{Builder, draft};
use crate::components::scene_runtime::SceneRuntime;
use crate::state::live::use_live;
use leptos::prelude::*;
use serde_json::Value as Json;

/// Badge icons offered (Fluent UI names, as Scenes Studio uses).
const ICONS: &[&str] = &[
    "Warning",
    "Error",
    "Info",
    "Fire",
    "Frigid",
    "People",
    "Lightbulb",
    "Drop",
    "Settings",
    "Plug",
    "CheckMark",
    "Clock",
    "Flag",
    "Star",
];

/// Default colours of new conditions, in turn.
const COLORS: &[&str] = &["#4DB36B", "#E0A030", "#EB4033", "#3373F2"];

/// One condition row of the form, as typed.
#[derive(Debug, Clone, PartialEq, Default)]
struct Row {
    min: String,
    max: String,
    value: String,
    color: String,
    icon: String,
    label: String,
}

fn new_row(n: usize) -> Row {
    Row {
        color: COLORS[n % COLORS.len()].to_string(),
        value: "true".into(),
        ..Row::default()
    }
}

fn number(s: &str, what: &str, n: usize) -> Result<Option<f64>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>()
        .map(Some)
        .map_err(|_| format!("Condition {n}: the {what} '{t}' is not a number."))
}

/// The rows as conditions for a value of `kind`.
fn conditions(kind: Kind, rows: &[Row]) -> Result<Vec<Condition>, String> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let n = i + 1;
            let look = Look {
                color: r.color.clone(),
                icon: Some(r.icon.clone()).filter(|s| !s.is_empty()),
                label: Some(r.label.clone()).filter(|s| !s.trim().is_empty()),
            };
            Ok(match kind {
                Kind::Number => Condition::Range(
                    number(&r.min, "minimum", n)?,
                    number(&r.max, "maximum", n)?,
                    look,
                ),
                Kind::Bool => Condition::Bool(r.value.trim() == "true", look),
                Kind::Text => {
                    let values: Vec<String> = r
                        .value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    if values.is_empty() {
                        return Err(format!(
                            "Condition {n}: give the value(s) it matches, separated by commas."
                        ));
                    }
                    Condition::Text(values, look)
                }
            })
        })
        .collect()
}

/// Where an expression is wrong: the message and a caret under the place.
fn expression_problem(text: &str) -> Option<(String, String)> {
    let e = twinscape_scene::expr::parse(text).err()?;
    let col = text
        .get(..e.position)
        .map(|s| s.chars().count())
        .unwrap_or(0);
    let caret = format!("{text}\n{}^", " ".repeat(col));
    Some((format!("{} (at character {})", e.message, col + 1), caret))
}

/// The behaviors tab.
#[component]
pub fn BehaviorsPanel(b: Builder, rt: SceneRuntime) -> impl IntoView {
    let live = use_live();
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let layer = RwSignal::new(String::new());
    let new_layer = RwSignal::new(String::new());
    let source = RwSignal::new("property");
    let property = RwSignal::new(String::new());
    let expression = RwSignal::new(String::new());
    let expr_kind = RwSignal::new(Kind::Number);
    let rows = RwSignal::new(vec![new_row(0)]);
    let gauge = RwSignal::new(false);
    let value_widget = RwSignal::new(false);
    let link = RwSignal::new(false);
    let link_url = RwSignal::new("https://example.com/${PrimaryTwin.$dtId}".to_string());
    let (gauge_min, gauge_max) = (
        RwSignal::new("0".to_string()),
        RwSignal::new("100".to_string()),
    );

    // The properties of the first chosen element's twin's model.
    let props = Memo::new(move |_| {
        let first = chosen.with(|c| c.first().cloned());
        let twin = first.and_then(|id| {
            b.draft.with(|d| {
                d["configuration"]["scenes"][0]["elements"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["id"] == id)
                    .and_then(|e| e["primaryTwinID"].as_str().map(str::to_string))
            })
        });
        twin.map(|t| {
            live.with_engine(|e| {
                lookup::model_of(e, &t)
                    .map(|m| lookup::properties(e, &m))
                    .unwrap_or_default()
            })
        })
        .unwrap_or_default()
    });
    let kind = move || match source.get() {
        "expression" => expr_kind.get(),
        _ => property
            .with(|p| props.with(|ps| ps.iter().find(|x| x.path == *p).map(|x| x.kind)))
            .unwrap_or(Kind::Number),
    };
    let expr_error = move || {
        (source.get() == "expression")
            .then(|| expression.with(|t| expression_problem(t)))
            .flatten()
    };
    // The form as a behavior, or what is missing.
    let spec = Memo::new(move |_| -> Result<BehaviorSpec, String> {
        let elements = chosen.get();
        if elements.is_empty() {
            return Err("Choose the elements it applies to.".into());
        }
        let value = match source.get() {
            "expression" => {
                if let Some((m, _)) = expr_error() {
                    return Err(format!("The expression: {m}"));
                }
                ValueSource::Expression(expression.get())
            }
            _ => {
                let p = property.get();
                if p.is_empty() {
                    return Err("Choose the property the rule reads.".into());
                }
                ValueSource::Property(p)
            }
        };
        let conditions = conditions(kind(), &rows.get())?;
        let expr = value.expression();
        let mut widgets = Vec::new();
        if gauge.get() {
            let min = number(&gauge_min.get(), "gauge minimum", 0)?.unwrap_or(0.0);
            let max = number(&gauge_max.get(), "gauge maximum", 0)?.unwrap_or(100.0);
            widgets.push(WidgetSpec::Gauge {
                label: name.get(),
                expression: expr.clone(),
                min,
                max,
            });
        }
        if value_widget.get() {
            widgets.push(WidgetSpec::Value {
                label: name.get(),
                expression: expr.clone(),
            });
        }
        if link.get() {
            widgets.push(WidgetSpec::Link {
                label: "Open".into(),
                url: link_url.get(),
            });
        }
        let layer = match layer.get().as_str() {
            "" => None,
            "__new" => Some(LayerChoice::New(new_layer.get())),
            id => Some(LayerChoice::Existing(id.to_string())),
        };
        let n = name.get();
        Ok(BehaviorSpec {
            name: if n.trim().is_empty() {
                "Behavior".into()
            } else {
                n
            },
            elements,
            layer,
            value,
            conditions,
            widgets,
        })
    });
    Effect::new(move |_| b.pending.set(spec.get().ok()));
    on_cleanup(move || b.pending.set(None));

    let create = move |_| {
        let Ok(s) = spec.get_untracked() else { return };
        b.pending.set(None);
        b.edit(|d| {
            draft::add_behavior(d, &s);
        });
        name.set(String::new());
        chosen.set(Vec::new());
        rows.set(vec![new_row(0)]);
    };
    let behaviors = move || {
        b.draft.with(|d| {
            d["configuration"]["behaviors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
    };
    let element_list = move || {
        b.draft
            .with(|d| draft::id_names(&d["configuration"]["scenes"][0]["elements"]))
    };
    let layers = move || {
        b.draft
            .with(|d| draft::id_names(&d["configuration"]["layers"]))
    };
    let rule_errors = move || {
        rt.states
            .with(|s| s.iter().filter(|s| s.error.is_some()).count())
    };

    view! {
        <section class="builder-behaviors" id="builder-behaviors">
            <h2>"Behaviors " <span class="count">{move || b.draft.with(|d| draft::behavior_ids(d).len())}</span></h2>
            <ul id="builder-behavior-list" class="builder-list">
                {move || behaviors().into_iter().map(|bh: Json| {
                    let id = bh["id"].as_str().unwrap_or_default().to_string();
                    let del = id.clone();
                    let n = bh["datasources"][0]["elementIDs"].as_array().map(Vec::len).unwrap_or(0);
                    view! {
                        <li data-behavior=id.clone()>
                            <strong>{bh["displayName"].as_str().unwrap_or_default().to_string()}</strong>
                            <span class="hint">{format!(" {n} element(s)")}</span>
                            <button class="behavior-delete" on:click=move |_| b.edit(|d| draft::delete_behavior(d, &del))>"Delete"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Show when=move || { rule_errors() > 0 }>
                <p class="error" id="rule-errors">{move || format!("{} rule state(s) with an error in the preview.", rule_errors())}</p>
            </Show>
            <div class="new-behavior" id="new-behavior">
                <h2>"New behavior"</h2>
                <label>"Name" <input id="behavior-name" type="text" prop:value=move || name.get()
                    on:input=move |e| name.set(event_target_value(&e))/></label>
                <fieldset>
                    <legend>"Elements"</legend>
                    {move || element_list().into_iter().map(|(id, label)| {
                        let checked = { let id = id.clone(); move || chosen.with(|c| c.contains(&id)) };
                        let toggle = id.clone();
                        view! {
                            <label class="check">
                                <input type="checkbox" class="behavior-element" data-element=id.clone() prop:checked=checked
                                    on:change=move |_| chosen.update(|c| {
                                        if let Some(i) = c.iter().position(|x| *x == toggle) { c.remove(i); } else { c.push(toggle.clone()); }
                                    })/>
                                {label}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <label>"Layer"
                    <select id="behavior-layer" on:change=move |e| layer.set(event_target_value(&e))>
                        <option value="" selected=move || layer.get().is_empty()>"(always shown)"</option>
                        {move || layers().into_iter().map(|(id, label)| {
                            let sel = { let id = id.clone(); move || layer.get() == id };
                            view! { <option value=id.clone() selected=sel>{label}</option> }
                        }).collect_view()}
                        <option value="__new" selected=move || layer.get() == "__new">"New layer…"</option>
                    </select>
                </label>
                <Show when=move || layer.get() == "__new">
                    <input id="behavior-new-layer" type="text" placeholder="New layer's name" prop:value=move || new_layer.get()
                        on:input=move |e| new_layer.set(event_target_value(&e))/>
                </Show>
                <fieldset>
                    <legend>"Value"</legend>
                    <label class="check"><input type="radio" name="value-source" value="property" prop:checked=move || source.get() == "property"
                        on:change=move |_| source.set("property")/>"A property of the primary twin"</label>
                    <label class="check"><input type="radio" name="value-source" value="expression" prop:checked=move || source.get() == "expression"
                        on:change=move |_| source.set("expression")/>"A custom expression"</label>
                    <Show when=move || source.get() == "property">
                        <select id="behavior-property" on:change=move |e| property.set(event_target_value(&e))>
                            <option value="" selected=move || property.get().is_empty()>
                                {move || if props.with(Vec::is_empty) { "Choose an element first" } else { "Choose a property…" }}
                            </option>
                            {move || props.get().into_iter().map(|p| {
                                let sel = { let path = p.path.clone(); move || property.get() == path };
                                view! { <option value=p.path.clone() selected=sel>{format!("{} ({})", p.path, p.schema)}</option> }
                            }).collect_view()}
                        </select>
                    </Show>
                    <Show when=move || source.get() == "expression">
                        <input id="behavior-expression" type="text" placeholder="PrimaryTwin.temperature * 1.8 + 32"
                            prop:value=move || expression.get() on:input=move |e| expression.set(event_target_value(&e))/>
                        <select id="behavior-kind" on:change=move |e| expr_kind.set(match event_target_value(&e).as_str() {
                            "bool" => Kind::Bool, "text" => Kind::Text, _ => Kind::Number })>
                            <option value="number">"a number"</option>
                            <option value="bool">"true / false"</option>
                            <option value="text">"text"</option>
                        </select>
                        {move || expr_error().map(|(m, caret)| view! {
                            <div class="error" id="expression-error" role="alert"><p>{m}</p><pre>{caret}</pre></div>
                        })}
                    </Show>
                </fieldset>
                <fieldset id="conditions">
                    <legend>{move || match kind() { Kind::Number => "Conditions (ranges: from ≤ value < to)", Kind::Bool => "Conditions (true / false)", Kind::Text => "Conditions (values)" }}</legend>
                    {move || {
                        let k = kind();
                        (0..rows.with(Vec::len)).map(|i| {
                            let field = move |f: fn(&Row) -> String| move || rows.with(|r| r.get(i).map(f).unwrap_or_default());
                            let set = move |f: fn(&mut Row, String)| move |e: web_sys::Event| {
                                let v = event_target_value(&e);
                                rows.update(|r| if let Some(row) = r.get_mut(i) { f(row, v) });
                            };
                            view! {
                                <div class="condition" data-index=i.to_string()>
                                    {match k {
                                        Kind::Number => view! {
                                            <input class="cond-min" type="text" placeholder="from (−∞)" prop:value=field(|r| r.min.clone()) on:input=set(|r, v| r.min = v)/>
                                            <input class="cond-max" type="text" placeholder="to (∞)" prop:value=field(|r| r.max.clone()) on:input=set(|r, v| r.max = v)/>
                                        }.into_any(),
                                        Kind::Bool => view! {
                                            <select class="cond-value" on:change=set(|r, v| r.value = v)>
                                                <option value="true" selected=move || field(|r| r.value.clone())() == "true">"true"</option>
                                                <option value="false" selected=move || field(|r| r.value.clone())() == "false">"false"</option>
                                            </select>
                                        }.into_any(),
                                        Kind::Text => view! {
                                            <input class="cond-value" type="text" placeholder="value, another" prop:value=field(|r| r.value.clone()) on:input=set(|r, v| r.value = v)/>
                                        }.into_any(),
                                    }}
                                    <input class="cond-color" type="color" prop:value=field(|r| r.color.clone()) on:input=set(|r, v| r.color = v)/>
                                    <select class="cond-icon" title="A badge instead of colouring the element" on:change=set(|r, v| r.icon = v)>
                                        <option value="">"colour the element"</option>
                                        {ICONS.iter().map(|icon| view! {
                                            <option value=*icon selected=move || field(|r| r.icon.clone())() == *icon>{format!("badge: {icon}")}</option>
                                        }).collect_view()}
                                    </select>
                                    <input class="cond-label" type="text" placeholder="label (optional): `${PrimaryTwin.name}`"
                                        prop:value=field(|r| r.label.clone()) on:input=set(|r, v| r.label = v)/>
                                    <button class="cond-remove" title="Remove" on:click=move |_| rows.update(|r| { if r.len() > 1 { r.remove(i); } })>"×"</button>
                                </div>
                            }
                        }).collect_view()
                    }}
                    <button id="add-condition" on:click=move |_| rows.update(|r| { let n = r.len(); r.push(new_row(n)); })>"Add a condition"</button>
                </fieldset>
                <fieldset>
                    <legend>"Popover widgets"</legend>
                    <label class="check"><input id="widget-gauge" type="checkbox" prop:checked=move || gauge.get() on:change=move |_| gauge.update(|g| *g = !*g)/>"Gauge"</label>
                    <Show when=move || gauge.get()>
                        <input id="gauge-min" type="text" prop:value=move || gauge_min.get() on:input=move |e| gauge_min.set(event_target_value(&e))/>
                        <input id="gauge-max" type="text" prop:value=move || gauge_max.get() on:input=move |e| gauge_max.set(event_target_value(&e))/>
                    </Show>
                    <label class="check"><input id="widget-value" type="checkbox" prop:checked=move || value_widget.get() on:change=move |_| value_widget.update(|g| *g = !*g)/>"Value"</label>
                    <label class="check"><input id="widget-link" type="checkbox" prop:checked=move || link.get() on:change=move |_| link.update(|g| *g = !*g)/>"Link"</label>
                    <Show when=move || link.get()>
                        <input id="widget-link-url" type="text" prop:value=move || link_url.get() on:input=move |e| link_url.set(event_target_value(&e))/>
                    </Show>
                </fieldset>
                <p class="hint" id="behavior-problem">{move || match spec.get() {
                    Ok(_) => "Previewed in the view; not added yet.".to_string(),
                    Err(e) => e,
                }}</p>
                <button id="create-behavior" class="primary" disabled=move || spec.with(Result::is_err) on:click=create>"Add behavior"</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_conditions_by_kind() {
        let rows = vec![
            Row {
                max: "21".into(),
                color: "#00ff00".into(),
                ..Row::default()
            },
            Row {
                min: "21".into(),
                color: "#ff0000".into(),
                icon: "Fire".into(),
                label: "`hot`".into(),
                ..Row::default()
            },
        ];
        let c = conditions(Kind::Number, &rows).unwrap_or_default();
        assert_eq!(c.len(), 2);
        assert!(
            matches!(&c[0], Condition::Range(None, Some(x), l) if *x == 21.0 && l.icon.is_none())
        );
        assert!(
            matches!(&c[1], Condition::Range(Some(_), None, l) if l.icon.as_deref() == Some("Fire"))
        );
        let bad = vec![Row {
            min: "warm".into(),
            ..Row::default()
        }];
        assert_eq!(
            conditions(Kind::Number, &bad),
            Err("Condition 1: the minimum 'warm' is not a number.".into())
        );
        let text = vec![Row {
            value: "fault, off".into(),
            ..Row::default()
        }];
        assert!(
            matches!(&conditions(Kind::Text, &text).unwrap_or_default()[0], Condition::Text(v, _) if v == &["fault", "off"])
        );
    }

    #[test]
    fn an_expression_error_points_at_its_place() {
        assert_eq!(expression_problem("PrimaryTwin.temperature > 20"), None);
        let (msg, caret) = expression_problem("PrimaryTwin.temperature >").unwrap_or_default();
        assert!(msg.contains("at character 26"), "{msg}");
        assert!(
            caret.ends_with(&format!("\n{}^", " ".repeat(25))),
            "{caret:?}"
        );
    }
}
