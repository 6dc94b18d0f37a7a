//! Timestamps as ADT writes them: UTC, ISO 8601 with seven fractional digits
//! (`2023-06-06T22:28:35.4413766Z`), stored as 100-ns ticks since the Unix epoch.

use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time with 100-ns resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

const TICKS_PER_SEC: i64 = 10_000_000;

impl Timestamp {
    pub fn from_unix_nanos(nanos: i128) -> Timestamp {
        Timestamp((nanos / 100) as i64)
    }

    pub fn from_unix_millis(ms: f64) -> Timestamp {
        Timestamp((ms * 10_000.0) as i64)
    }

    /// Parses any RFC 3339 date-time (any offset, any precision).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        Some(Timestamp::from_unix_nanos(t.unix_timestamp_nanos()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(TICKS_PER_SEC);
        let ticks = self.0.rem_euclid(TICKS_PER_SEC);
        let t = OffsetDateTime::from_unix_timestamp(secs).map_err(|_| fmt::Error)?;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ticks
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_adt() {
        let t = Timestamp::parse("2023-06-06T22:28:35.4413766Z").unwrap();
        assert_eq!(t.to_string(), "2023-06-06T22:28:35.4413766Z");
        let t = Timestamp::parse("2021-01-01T00:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2020-12-31T22:00:00.0000000Z");
        let t = Timestamp::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.5000000Z");
        assert!(Timestamp::parse("yesterday").is_none());
        assert!(Timestamp::parse("2021-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn orders_by_time() {
        let a = Timestamp::parse("2021-01-01T00:00:00Z").unwrap();
        let b = Timestamp::parse("2021-01-01T00:00:00.0000001Z").unwrap();
        assert!(a < b);
        assert_eq!(b.0 - a.0, 1);
    }
}
