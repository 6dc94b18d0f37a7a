//! A scene's state over twins: for every element a behavior applies to and
//! every `ExpressionRangeVisual` of that behavior, the expression's value,
//! the active value range, its colour, badge icon and label.
//!
//! [`SceneEvaluator::new`] compiles a scene once (every expression parsed
//! once; a rule whose expression does not parse keeps its error and the
//! others go on); [`SceneEvaluator::evaluate`] evaluates every rule over the
//! twins at hand, and [`SceneEvaluator::affected_by`] says which rules read a
//! twin, so that a change re-evaluates only those.
//!
//! Scenes Studio's rules, followed here: `PrimaryTwin` is the element's
//! primary twin and an alias name the twin the element maps it to; a
//! `NumericRange` is `[min, max)` over the value read as a number
//! (JavaScript's `Number()`: a missing value matches nothing), a
//! `CategoricalValues` range matches a strictly equal listed value; the
//! first range that matches is the active one; a badge label is the active
//! range's `labelExpression` read as a template (backticks removed, each
//! `${…}` evaluated).

use crate::config::{Element, ExpressionType, LayerSelection, ScenesConfig, ValueRange, Visual};
use crate::expr::{self, Expr, Value};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

/// Where the evaluator reads twins (the browser's replica, the server's graph).
pub trait Twins {
    fn twin(&self, id: &str) -> Option<&Json>;
}

impl Twins for HashMap<String, Json> {
    fn twin(&self, id: &str) -> Option<&Json> {
        self.get(id)
    }
}

impl Twins for BTreeMap<String, Json> {
    fn twin(&self, id: &str) -> Option<&Json> {
        self.get(id)
    }
}

/// One rule's state: an (element, behavior, expression visual) of a scene.
/// Serializes to exactly the keys of `twinscape scene states --output json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisualState {
    pub scene: String,
    /// The element's id.
    pub element: String,
    /// The element's primary twin.
    pub twin: String,
    pub behavior: String,
    /// The visual's index in the behavior's `visuals` (popovers counted).
    pub visual: usize,
    /// The expression's value (`null` when undefined or not a JSON value).
    pub value: Json,
    /// The active range's id.
    pub range: Option<String>,
    pub color: Option<String>,
    pub icon: Option<String>,
    pub label: Option<String>,
    /// Why the rule has no value (its expression does not parse), for the UI.
    #[serde(skip)]
    pub error: Option<String>,
}

struct Range {
    range: ValueRange,
    label: Option<Result<Expr, expr::ExprError>>,
}

struct Rule {
    element: String,
    twin: String,
    /// Alias name → twin id, for the element.
    aliases: Vec<(String, String)>,
    behavior: String,
    visual: usize,
    expr: Result<Expr, expr::ExprError>,
    expression_type: ExpressionType,
    ranges: Vec<Range>,
}

/// A compiled scene, ready to be evaluated many times.
pub struct SceneEvaluator {
    scene: String,
    rules: Vec<Rule>,
    by_twin: HashMap<String, Vec<usize>>,
}

impl SceneEvaluator {
    /// Compiles the scene `scene_id` of `config`, limited to `layers`
    /// (`None`: every behavior). `None` when there is no such scene.
    pub fn new(
        config: &ScenesConfig,
        scene_id: &str,
        layers: LayerSelection<'_>,
    ) -> Option<SceneEvaluator> {
        let scene = config.scene(scene_id)?;
        let mut rules = Vec::new();
        for behavior in config.scene_behaviors(scene, layers) {
            for element in scene.elements_of_behavior(behavior) {
                let Element::TwinToObjectMapping(mapping) = element else {
                    continue;
                };
                let aliases: Vec<(String, String)> = mapping
                    .twin_aliases
                    .iter()
                    .flatten()
                    .filter_map(|(alias, twin)| Some((alias.clone(), twin.as_str()?.to_string())))
                    .collect();
                for (index, visual) in behavior.visuals.iter().enumerate() {
                    let Visual::ExpressionRange(v) = visual else {
                        continue;
                    };
                    rules.push(Rule {
                        element: mapping.id.clone(),
                        twin: mapping.primary_twin_id.clone(),
                        aliases: aliases.clone(),
                        behavior: behavior.id.clone(),
                        visual: index,
                        expr: expr::parse(&v.value_expression),
                        expression_type: v.expression_type.clone(),
                        ranges: v
                            .value_ranges
                            .iter()
                            .map(|r| Range {
                                range: r.clone(),
                                label: r.visual.label_expression.as_deref().map(expr::template),
                            })
                            .collect(),
                    });
                }
            }
        }
        let mut by_twin: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let mut read: Vec<&str> = vec![rule.twin.as_str()];
            let names = rule.expr.iter().flat_map(|e| e.names()).chain(
                rule.ranges
                    .iter()
                    .filter_map(|r| r.label.as_ref()?.as_ref().ok())
                    .flat_map(|e| e.names()),
            );
            for name in names {
                if let Some((_, twin)) = rule.aliases.iter().find(|(a, _)| a == name) {
                    read.push(twin);
                }
            }
            read.sort_unstable();
            read.dedup();
            for twin in read {
                by_twin.entry(twin.to_string()).or_default().push(i);
            }
        }
        Some(SceneEvaluator {
            scene: scene.id.clone(),
            rules,
            by_twin,
        })
    }

    /// How many rules the scene has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every twin the scene reads (to scope a replica to it).
    pub fn twin_ids(&self) -> impl Iterator<Item = &str> {
        self.by_twin.keys().map(String::as_str)
    }

    /// The rules that read `twin_id` (re-evaluate these after it changes).
    pub fn affected_by(&self, twin_id: &str) -> &[usize] {
        self.by_twin.get(twin_id).map_or(&[], Vec::as_slice)
    }

    /// Every rule's state, in scene order (behaviors in `behaviorIDs`
    /// order, then elements, then visuals).
    pub fn evaluate(&self, twins: &dyn Twins) -> Vec<VisualState> {
        (0..self.rules.len())
            .map(|i| self.evaluate_rule(i, twins))
            .collect()
    }

    /// One rule's state (`i` below [`SceneEvaluator::len`]; past it, an
    /// empty state).
    pub fn evaluate_rule(&self, i: usize, twins: &dyn Twins) -> VisualState {
        let Some(rule) = self.rules.get(i) else {
            return VisualState {
                scene: self.scene.clone(),
                element: String::new(),
                twin: String::new(),
                behavior: String::new(),
                visual: 0,
                value: Json::Null,
                range: None,
                color: None,
                icon: None,
                label: None,
                error: Some(format!("no rule {i}")),
            };
        };
        let resolve = |name: &str| -> Option<&Json> {
            if name == "PrimaryTwin" {
                return twins.twin(&rule.twin);
            }
            let (_, id) = rule.aliases.iter().find(|(a, _)| a == name)?;
            twins.twin(id)
        };
        let mut state = VisualState {
            scene: self.scene.clone(),
            element: rule.element.clone(),
            twin: rule.twin.clone(),
            behavior: rule.behavior.clone(),
            visual: rule.visual,
            value: Json::Null,
            range: None,
            color: None,
            icon: None,
            label: None,
            error: None,
        };
        let value = match &rule.expr {
            Ok(e) => e.eval(&resolve),
            Err(err) => {
                state.error = Some(err.to_string());
                return state;
            }
        };
        state.value = to_json(&value);
        let active = rule
            .ranges
            .iter()
            .find(|r| matches(&rule.expression_type, &r.range, &value));
        if let Some(r) = active {
            state.range = Some(r.range.id.clone());
            state.color = r.range.visual.color.clone();
            state.icon = r.range.visual.icon_name.clone();
            state.label = match &r.label {
                None => None,
                Some(Ok(t)) => Some(t.eval(&resolve).to_string()),
                Some(Err(err)) => {
                    state.error = Some(format!("label: {err}"));
                    None
                }
            };
        }
        state
    }
}

/// Whether `value` falls in `range` (see the module doc).
fn matches(expression_type: &ExpressionType, range: &ValueRange, value: &Value) -> bool {
    match expression_type {
        ExpressionType::NumericRange => {
            if matches!(value, Value::Undefined) {
                return false;
            }
            let x = value.to_number();
            !x.is_nan() && range.contains_number(x)
        }
        other => range.contains(other, &to_json(value)),
    }
}

/// An expression's value as JSON (`null` for undefined and for numbers
/// JSON cannot hold).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Undefined | Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(x) => {
            if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
                Json::from(*x as i64)
            } else {
                serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number)
            }
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Array(a) => Json::Array(a.clone()),
        Value::Object(o) => Json::Object(o.clone()),
    }
}
