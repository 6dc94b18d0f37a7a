//! Twinscape's event notifications and their durable delivery.
//!
//! Owns: ADT's notifications as CloudEvents built from graph changes and
//! telemetry ([`notification`], with the trace context of [`trace`]); the
//! event route filter language ([`filter`]); endpoints, their REST bodies and
//! the senders that reach them — webhook, MQTT, NATS ([`endpoint`]); and the
//! delivery loop ([`dispatcher`]): per-endpoint workers that read the store's
//! log from persisted cursors, deliver in order with retries, dead-letter what
//! cannot be delivered, and truncate the log behind the slowest endpoint.
//!
//! Must not: make a write wait for delivery (writers only append events to
//! the log, in the batch of their change: [`Events::log_change`], [`Events::log_telemetry`]);
//! hold an unbounded number of events in memory (workers read the log a page
//! at a time); count an event as delivered before the endpoint acknowledged
//! it (2xx, PUBACK, NATS flush) or it was stored as a dead letter; know about
//! HTTP routing, the engine or its lock (the server hands it the routes and
//! endpoints it holds).

pub mod dispatcher;
pub mod endpoint;
pub mod filter;
pub mod notification;
pub mod trace;

pub use dispatcher::{DispatchConfig, EndpointStatus, Events, RetryPolicy, Route, Routing};
pub use endpoint::{Endpoint, EndpointConfig, InvalidEndpoint, RetryOverrides};
pub use filter::{Filter, FilterError};
pub use notification::{CloudEvent, LoggedEvent, Telemetry};
