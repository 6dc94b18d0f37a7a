//! `twinscape serve` flags for event delivery.

use clap::Args;
use std::time::Duration;
use twinscape_events::{DispatchConfig, RetryPolicy};

/// `twinscape serve` flags for event delivery.
#[derive(Debug, Args, Clone)]
pub struct EventArgs {
    /// The `source` of event notifications: this instance's host name (ADT
    /// uses `<instance>.api.<region>.digitaltwins.azure.net`). Defaults to
    /// the address the server listens on.
    #[arg(long, env = "TWINSCAPE_EVENT_SOURCE")]
    pub event_source: Option<String>,
    /// Delivery attempts per event before it becomes a dead letter.
    #[arg(long, env = "TWINSCAPE_EVENT_MAX_ATTEMPTS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub event_max_attempts: u32,
    /// Wait after a failed delivery, in milliseconds; doubles after each
    /// further failure.
    #[arg(long, env = "TWINSCAPE_EVENT_RETRY_MS", default_value_t = 1000)]
    pub event_retry_ms: u64,
    /// Longest wait between two delivery attempts, in milliseconds.
    #[arg(long, env = "TWINSCAPE_EVENT_RETRY_MAX_MS", default_value_t = 60_000)]
    pub event_retry_max_ms: u64,
    /// Time limit of one delivery attempt, in milliseconds.
    #[arg(long, env = "TWINSCAPE_EVENT_TIMEOUT_MS", default_value_t = 10_000)]
    pub event_timeout_ms: u64,
}

impl EventArgs {
    pub fn dispatch_config(&self, listening: std::net::SocketAddr) -> DispatchConfig {
        DispatchConfig {
            source: self
                .event_source
                .clone()
                .unwrap_or_else(|| listening.to_string()),
            retry: RetryPolicy {
                max_attempts: self.event_max_attempts.max(1),
                initial_backoff: Duration::from_millis(self.event_retry_ms.max(1)),
                max_backoff: Duration::from_millis(
                    self.event_retry_max_ms.max(self.event_retry_ms).max(1),
                ),
                attempt_timeout: Duration::from_millis(self.event_timeout_ms.max(1)),
            },
            ..DispatchConfig::default()
        }
    }
}
