//! DTDL benchmark (filled in below): parse + resolve a whole ontology.
fn main() {}
