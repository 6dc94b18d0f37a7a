//! Helpers shared by the bench binaries: timing statistics and memory readings.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Latency distribution of repeated operations.
pub struct Stats {
    pub samples: Vec<Duration>,
}

impl Stats {
    /// Times `f` once per item.
    pub fn measure<T>(items: impl IntoIterator<Item = T>, mut f: impl FnMut(T)) -> Stats {
        let mut samples = Vec::new();
        for item in items {
            let t = Instant::now();
            f(item);
            samples.push(t.elapsed());
        }
        samples.sort_unstable();
        Stats { samples }
    }

    pub fn quantile(&self, q: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.samples.len() as f64 - 1.0) * q).round() as usize;
        self.samples[i.min(self.samples.len() - 1)]
    }

    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    pub fn line(&self, name: &str) -> String {
        format!(
            "{name:<48} median {:>10} p99 {:>10} (n={})",
            fmt(self.median()),
            fmt(self.p99()),
            self.samples.len()
        )
    }
}

pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}

/// Resident memory of this process in bytes (Linux), 0 elsewhere.
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A small deterministic PRNG for picking ids.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Number of twins to generate: `TWINSCAPE_BENCH_TWINS` or the default.
pub fn twins_from_env(default: usize) -> usize {
    std::env::var("TWINSCAPE_BENCH_TWINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
