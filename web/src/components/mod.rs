//! Pieces that pages are made of.

pub mod color;
pub mod scene_panel;
pub mod scene_runtime;
pub mod scene_viewer;
pub mod twin_panel;
