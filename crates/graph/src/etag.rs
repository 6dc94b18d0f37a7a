//! ETags: weak validators in ADT's form, `W/"<uuid>"`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Etag(pub u128);

impl Etag {
    /// A new ETag from a per-graph seed and a counter; distinct for distinct
    /// counters, and unpredictable enough not to be mistaken for a version.
    pub fn generate(seed: u64, counter: u64) -> Etag {
        let hi = splitmix(seed ^ counter.rotate_left(17));
        let lo = splitmix(counter.wrapping_add(seed.rotate_left(32)));
        let mut v = (u128::from(hi) << 64) | u128::from(lo);
        // Shape it like a version-4 UUID.
        v = (v & !(0xf << 76)) | (0x4 << 76);
        v = (v & !(0x3 << 62)) | (0x2 << 62);
        Etag(v)
    }

    /// Parses `W/"uuid"`, `"uuid"` or a bare uuid.
    pub fn parse(s: &str) -> Option<Etag> {
        let s = s.trim();
        let s = s.strip_prefix("W/").unwrap_or(s);
        let s = s
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(s);
        if s.len() != 36 {
            return None;
        }
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Etag)
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Etag {
    /// `W/"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`, written by hand: every
    /// twin in a query result carries one.
    fn ascii(&self) -> [u8; 40] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = *b"W/\"00000000-0000-0000-0000-000000000000\"";
        let mut v = self.0;
        let mut i = buf.len() - 2;
        for _ in 0..32 {
            if buf[i] == b'-' {
                i -= 1;
            }
            buf[i] = HEX[(v & 0xf) as usize];
            v >>= 4;
            i -= 1;
        }
        buf
    }

    /// Appends the ETag as a JSON string (its quotes escaped).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let buf = self.ascii();
        out.extend_from_slice(b"\"W/\\\"");
        out.extend_from_slice(&buf[3..39]);
        out.extend_from_slice(b"\\\"\"");
    }
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.ascii()).map_err(|_| fmt::Error)?)
    }
}

/// An HTTP precondition on a write (`If-Match` / `If-None-Match`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// No precondition.
    #[default]
    None,
    /// `If-Match: *` — the target must exist.
    Exists,
    /// `If-None-Match: *` — the target must not exist.
    NotExists,
    /// `If-Match: <etag>` — the target must exist and carry this ETag.
    Matches(String),
}

impl Precondition {
    /// Builds the precondition from the raw header values.
    pub fn from_headers(if_match: Option<&str>, if_none_match: Option<&str>) -> Precondition {
        match (if_match.map(str::trim), if_none_match.map(str::trim)) {
            (_, Some("*")) => Precondition::NotExists,
            (Some("*"), _) => Precondition::Exists,
            (Some(tag), _) if !tag.is_empty() => Precondition::Matches(tag.to_string()),
            _ => Precondition::None,
        }
    }

    /// Whether a target with `current` ETag (`None`: absent) satisfies it.
    pub fn holds(&self, current: Option<Etag>) -> bool {
        match (self, current) {
            (Precondition::None, _) => true,
            (Precondition::Exists, c) => c.is_some(),
            (Precondition::NotExists, c) => c.is_none(),
            (Precondition::Matches(tag), Some(c)) => tag
                .split(',')
                .any(|t| t.trim() == "*" || Etag::parse(t) == Some(c)),
            (Precondition::Matches(_), None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_parse_round_trip_and_uniqueness() {
        let a = Etag::generate(42, 1);
        let b = Etag::generate(42, 2);
        assert_ne!(a, b);
        let s = a.to_string();
        assert!(
            s.starts_with("W/\"") && s.ends_with('"') && s.len() == 40,
            "{s}"
        );
        assert_eq!(&s[17..18], "4", "version nibble: {s}");
        for e in [
            a,
            b,
            Etag(0),
            Etag(u128::MAX),
            Etag(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
        ] {
            let s = e.to_string();
            assert_eq!(s[3..39].replace('-', ""), format!("{:032x}", e.0));
            assert_eq!(
                [&s[11..12], &s[16..17], &s[21..22], &s[26..27]],
                ["-"; 4],
                "{s}"
            );
        }
        assert_eq!(Etag::parse(&s), Some(a));
        assert_eq!(Etag::parse(&s[2..]), Some(a));
        assert_eq!(Etag::parse("W/\"nope\""), None);
    }

    #[test]
    fn preconditions() {
        let e = Etag::generate(1, 1);
        let other = Etag::generate(1, 2);
        assert!(Precondition::None.holds(None));
        assert!(Precondition::NotExists.holds(None));
        assert!(!Precondition::NotExists.holds(Some(e)));
        assert!(Precondition::Exists.holds(Some(e)));
        assert!(!Precondition::Exists.holds(None));
        let m = Precondition::from_headers(Some(&e.to_string()), None);
        assert!(m.holds(Some(e)));
        assert!(!m.holds(Some(other)));
        assert!(!m.holds(None));
        assert_eq!(
            Precondition::from_headers(Some("*"), None),
            Precondition::Exists
        );
        assert_eq!(
            Precondition::from_headers(None, Some("*")),
            Precondition::NotExists
        );
        let list = Precondition::from_headers(Some(&format!("{other}, {e}")), None);
        assert!(list.holds(Some(e)));
    }
}
