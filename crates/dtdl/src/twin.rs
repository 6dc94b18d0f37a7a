//! Twin validation (see registry).
