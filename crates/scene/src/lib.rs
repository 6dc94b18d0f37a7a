//! 3D scenes in Azure 3D Scenes Studio's configuration format
//! (`3DScenesConfiguration/v1.0.0`, microsoft/iot-cardboard-js), and their
//! evaluation over twins.
//!
//! Owns: the configuration model ([`config`]: read and written unchanged,
//! unknown properties kept, validated with the JSON path of every problem),
//! the safe evaluator of Scenes Studio's JavaScript-expression subset
//! ([`expr`]: parsed once, evaluated many times, JavaScript's semantics
//! where users meet them, no `eval`), and a scene's state over twins
//! ([`eval`]: every element's active range, colour, badge and label,
//! re-evaluated only where a twin changed).
//! Must not: do I/O, depend on Bevy, the DOM or the server; compiles for
//! `wasm32-unknown-unknown` (the browser's replica evaluates scenes live).

pub mod config;
pub mod eval;
pub mod expr;

pub use config::{DEFAULT_LAYER_ID, ScenesConfig};
pub use eval::{SceneEvaluator, Twins, VisualState};
