//! `twinscape`: the server and the command-line client in one binary, and
//! the library that assembles them (so the whole app can be built and
//! tested in process: [`http::router`]).
//!
//! Owns: assembling the HTTP surface from `twinscape-api`,
//! `twinscape-live` and `twinscape-auth`; serving the built web app;
//! process lifecycle (store, state, event dispatcher, TLS, signals); the
//! demo building (`serve --demo`); the command line. Must not: hold engine,
//! API or live-feed logic; those crates own it.

pub mod cli;
pub mod cors;
pub mod demo;
pub mod events;
pub mod http;
