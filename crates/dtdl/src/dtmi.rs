//! Digital Twin Model Identifiers: syntax per the DTMI specification and the
//! stricter per-version rules DTDL v2 and v3 put on identifiers.

use std::fmt;

/// A syntactically valid DTMI, e.g. `dtmi:com:example:Thermostat;1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dtmi(String);

/// Why a string is not a DTMI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a valid DTMI: expected 'dtmi:' followed by ':'-separated segments of letters, digits and underscores (each starting with a letter, not ending with an underscore) and ';' with a version number 1-999999999 (v3 also allows a minor version such as ';2.1')"
)]
pub struct DtmiError(pub String);

impl Dtmi {
    /// Parses a DTMI as DTDL v3 allows it for a model (user segments, optional
    /// version with optional minor version, no fragment).
    pub fn parse(s: &str) -> Result<Dtmi, DtmiError> {
        if is_valid_id(s, 3) {
            Ok(Dtmi(s.to_string()))
        } else {
            Err(DtmiError(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identifier without its version: `dtmi:com:example:Thermostat`.
    pub fn versionless(&self) -> &str {
        self.0.split(';').next().unwrap_or(&self.0)
    }

    /// The major version, 0 when the identifier has none.
    pub fn major_version(&self) -> u32 {
        version_parts(&self.0).0
    }

    /// The minor version, 0 when the identifier has none.
    pub fn minor_version(&self) -> u32 {
        version_parts(&self.0).1
    }
}

impl fmt::Display for Dtmi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Dtmi {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

pub(crate) fn version_parts(s: &str) -> (u32, u32) {
    let Some((_, v)) = s.split_once(';') else {
        return (0, 0);
    };
    let v = v.split('#').next().unwrap_or_default();
    let (maj, min) = v.split_once('.').unwrap_or((v, "0"));
    (maj.parse().unwrap_or(0), min.parse().unwrap_or(0))
}

/// A user segment: a letter, then letters/digits/underscores, not ending with `_`.
fn is_user_segment(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphabetic()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

/// A system segment as generated identifiers use: leading underscores allowed.
fn is_any_segment(s: &str) -> bool {
    let t = s.trim_start_matches('_');
    if t.len() == s.len() {
        return is_user_segment(s);
    }
    let b = t.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

fn is_number(s: &str, max_digits: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && b.len() <= max_digits && b[0] != b'0' && b.iter().all(u8::is_ascii_digit)
}

fn check_version(v: &str, allow_minor: bool) -> bool {
    match v.split_once('.') {
        Some((maj, min)) => allow_minor && is_number(maj, 9) && is_number(min, 6),
        None => is_number(v, 9),
    }
}

/// Whether `s` is a DTMI at all (DTMI specification syntax, system segments and
/// a fragment allowed).
pub(crate) fn is_generic_dtmi(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("dtmi:") else {
        return false;
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    if let Some(f) = fragment
        && !f.is_empty()
        && !is_any_segment(f)
    {
        return false;
    }
    let (path, version) = match rest.split_once(';') {
        Some((p, v)) => (p, Some(v)),
        None => (rest, None),
    };
    if let Some(v) = version
        && !check_version(v, true)
    {
        return false;
    }
    !path.is_empty() && path.split(':').all(is_any_segment)
}

/// Whether `s` is a valid identifier (definition or reference) in DTDL `version`:
/// user segments only, no fragment; v2 requires a single version number, v3 makes
/// the version optional and allows a minor version.
pub(crate) fn is_valid_id(s: &str, version: u8) -> bool {
    if s.len() > 2048 {
        return false;
    }
    let Some(rest) = s.strip_prefix("dtmi:") else {
        return false;
    };
    let (path, ver) = match rest.split_once(';') {
        Some((p, v)) => (p, Some(v)),
        None => (rest, None),
    };
    let version_ok = match (ver, version) {
        (None, 2) => false,
        (None, _) => true,
        (Some(v), 2) => check_version(v, false),
        (Some(v), _) => check_version(v, true),
    };
    version_ok && !path.is_empty() && path.split(':').all(is_user_segment)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_identifiers() {
        assert!(is_valid_id("dtmi:foo:bar;7", 2));
        assert!(is_valid_id("dtmi:foo;999999999", 2));
        assert!(!is_valid_id("dtmi:foo:bar", 2));
        assert!(is_valid_id("dtmi:foo:bar", 3));
        assert!(is_valid_id("dtmi:foo:bar;3.141592", 3));
        assert!(!is_valid_id("dtmi:foo:bar;3.14", 2));
        for bad in [
            "dtmi:foo:bar;0",
            "dtmi:foo:bar;0.0",
            "dtmi:foo:bar;1234567890",
            "dtmi:foo:bar;1a",
            "dtmi:foo:bar;3.0",
            "dtmi:foo:bar;3.1415926",
            "dtmi:foo:bar;6.02",
            "dtmi:foo:bar;01",
            "dtmi:foo:bar;",
            "dtmi:test:invalidId_;1",
            "dtmi:test:_invalidUserId;1",
            "dtmi:test:1seg;1",
            "dtmi:foo:bar.baz;1",
            "dtmi:foo::bar;1",
            "urn:foo:bar:1",
            "dtmi:;1",
        ] {
            assert!(!is_valid_id(bad, 3), "{bad}");
        }
    }

    #[test]
    fn generic_dtmis_allow_system_segments() {
        assert!(is_generic_dtmi("dtmi:ex:a:_contents:__foo;1"));
        assert!(is_generic_dtmi("dtmi:dtdl:context;3#limitless"));
        assert!(!is_generic_dtmi("dtmi:foo::bar;1"));
        assert!(!is_generic_dtmi("foo"));
    }

    #[test]
    fn dtmi_parts() {
        let d = Dtmi::parse("dtmi:com:example:Thermostat;2.1").unwrap();
        assert_eq!(d.versionless(), "dtmi:com:example:Thermostat");
        assert_eq!((d.major_version(), d.minor_version()), (2, 1));
        assert!(Dtmi::parse("dtmi:x;0").is_err());
    }
}
