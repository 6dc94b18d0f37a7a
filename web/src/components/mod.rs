//! Pieces that pages are made of.

pub mod color;
pub mod scene_viewer;
pub mod twin_panel;
