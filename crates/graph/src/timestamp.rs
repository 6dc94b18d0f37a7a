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

impl Timestamp {
    /// The text as ADT writes it, for years 0 to 9999 (every timestamp a
    /// twin carries); `None` outside. Digits are written by hand from the
    /// day number (Hinnant's civil-from-days): query results format one
    /// per property.
    fn ascii(&self) -> Option<[u8; 28]> {
        let secs = self.0.div_euclid(TICKS_PER_SEC);
        let ticks = self.0.rem_euclid(TICKS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut buf = *b"0000-00-00T00:00:00.0000000Z";
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, sod / 3600);
        put(14, 2, sod / 60 % 60);
        put(17, 2, sod % 60);
        put(20, 7, ticks);
        Some(buf)
    }

    /// Appends the text as a JSON string (quoted).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self.ascii() {
            Some(buf) => {
                out.push(b'"');
                out.extend_from_slice(&buf);
                out.push(b'"');
            }
            None => {
                out.push(b'"');
                out.extend_from_slice(self.to_string().as_bytes());
                out.push(b'"');
            }
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(buf) = self.ascii() {
            return f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?);
        }
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
    fn fast_formatting_matches_the_calendar() {
        for text in [
            "0001-01-01T00:00:00Z",
            "1600-02-29T23:59:59.9999999Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56.0000001Z",
            "2024-12-31T23:59:59Z",
            "2100-03-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
        ] {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t), "{text}");
            assert_eq!(&t.to_string()[..19], &text[..19], "{text}");
        }
        // Every day over four centuries round-trips.
        let start = Timestamp::parse("1800-01-01T00:00:00Z").unwrap();
        for d in 0..146_097i64 {
            let t = Timestamp(start.0 + d * 86_400 * TICKS_PER_SEC + 1234567);
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
    }

    #[test]
    fn orders_by_time() {
        let a = Timestamp::parse("2021-01-01T00:00:00Z").unwrap();
        let b = Timestamp::parse("2021-01-01T00:00:00.0000001Z").unwrap();
        assert!(a < b);
        assert_eq!(b.0 - a.0, 1);
    }
}
