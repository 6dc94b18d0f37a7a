//! W3C trace context for notifications.
//!
//! ADT stamps each notification with a `traceparent`. When the request that
//! caused it carried one, the notification continues that trace (same trace
//! id and flags, a new span id of its own); otherwise a new trace starts. The
//! server runs each request inside [`scope`], and the notification builders,
//! which run synchronously inside the request's write, read it from there.

use std::future::Future;

tokio::task_local! {
    static CURRENT: TraceParent;
}

/// The parts of a `traceparent` header a notification continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub flags: u8,
}

impl TraceParent {
    /// Parses `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`
    /// (version 00; later versions may append fields). All-zero ids are
    /// invalid, as the specification says.
    pub fn parse(header: &str) -> Option<TraceParent> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let parent = parts.next()?;
        let flags = parts.next()?;
        let lower_hex = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !lower_hex(version, 2) || version == "ff" || !lower_hex(trace, 32) {
            return None;
        }
        if !lower_hex(parent, 16) || !lower_hex(flags, 2) {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let mut trace_id = [0u8; 16];
        for (i, byte) in trace_id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&trace[2 * i..2 * i + 2], 16).ok()?;
        }
        if trace_id == [0; 16] || parent == "0000000000000000" {
            return None;
        }
        Some(TraceParent {
            trace_id,
            flags: u8::from_str_radix(flags, 16).ok()?,
        })
    }

    /// A new trace, sampled.
    pub fn new_trace() -> TraceParent {
        let mut trace_id = [0u8; 16];
        while trace_id == [0; 16] {
            random_bytes(&mut trace_id);
        }
        TraceParent {
            trace_id,
            flags: 0x01,
        }
    }

    /// A `traceparent` value for a new span of this trace.
    pub fn child(&self) -> String {
        let mut span = [0u8; 8];
        while span == [0; 8] {
            random_bytes(&mut span);
        }
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&span),
            self.flags
        )
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `fut` with `parent` (or a new trace) as the trace context of the
/// notifications it produces.
pub async fn scope<F: Future>(parent: Option<TraceParent>, fut: F) -> F::Output {
    CURRENT
        .scope(parent.unwrap_or_else(TraceParent::new_trace), fut)
        .await
}

/// A `traceparent` for one notification: a new span of the current
/// request's trace, or of a new trace outside any request.
pub fn next_traceparent() -> String {
    CURRENT
        .try_with(TraceParent::child)
        .unwrap_or_else(|_| TraceParent::new_trace().child())
}

/// Fills `buf` from the operating system's random source.
pub fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // No OS randomness: fall back to the clock and a counter, which is
        // still unique enough for ids within one process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut x = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32);
        for b in buf.iter_mut() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (x >> 56) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_w3c_examples() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
        assert_eq!(tp.flags, 1);
        assert_eq!(hex(&tp.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
    }

    #[tokio::test]
    async fn notifications_continue_the_request_trace() {
        let parent = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let (a, b) = scope(parent, async { (next_traceparent(), next_traceparent()) }).await;
        assert!(a.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(a.ends_with("-01"));
        assert_ne!(a, b, "each notification is a span of its own");
        assert!(!a.contains("00f067aa0ba902b7"));
        let outside = next_traceparent();
        assert!(TraceParent::parse(&outside).is_some());
        assert!(!outside.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
    }
}
