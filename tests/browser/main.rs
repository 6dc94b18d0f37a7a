//! The browser app end to end: a real `twinscape serve` with the trunk-built
//! app in `dist/`, driven in headless Chromium (SwiftShader WebGL2) through
//! chromedriver, one scenario per feature. Screenshots go to
//! `target/test-artifacts/browser/<scenario>/`.
//!
//! Needs `trunk build --release` to have produced `dist/` (scripts/test does).

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "../harness/mod.rs"]
mod harness;

mod builder;
mod embed;
mod explorer;
mod page;
mod scene;
mod scene_rules;
mod scope;
