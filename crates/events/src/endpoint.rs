//! Endpoints: where routes send events, as configured over REST, and the
//! senders that deliver to them.
//!
//! | `type` | body | delivery | delivered when |
//! | --- | --- | --- | --- |
//! | `webhook` | `{"type":"webhook","url":"http(s)://…"}` | HTTP POST, CloudEvents structured mode (`application/cloudevents+json`) | a 2xx answer |
//! | `mqtt` | `{"type":"mqtt","url":"mqtt://host:port","topic":"…"}` | MQTT 3.1.1 PUBLISH, QoS 1 | the broker's PUBACK |
//! | `nats` | `{"type":"nats","url":"nats://host:port","subject":"…"}` | NATS PUB | the server's answer to a flush (PING/PONG) |
//!
//! MQTT and NATS carry the same JSON body as the webhook. Credentials may be
//! given in the URL (`mqtt://user:pass@host`, `nats://user:pass@host`).
//! TLS: webhooks may use `https`; `mqtts` and `tls` NATS are not supported.

use crate::notification::CloudEvent;
use serde_json::{Map, Value as Json, json};
use std::time::Duration;

/// Endpoint names: like route ids, 1 to 50 letters, digits, `-` or `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 50
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// What an endpoint is, as given over REST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointConfig {
    Webhook { url: String },
    Mqtt { url: String, topic: String },
    Nats { url: String, subject: String },
}

/// Per-endpoint changes to the server's retry policy (`"retry"` in the
/// body): `{"maxAttempts", "backoffMs", "maxBackoffMs", "timeoutMs"}`, each
/// optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOverrides {
    pub max_attempts: Option<u32>,
    pub backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
}

impl RetryOverrides {
    const FIELDS: [(&'static str, u64, u64); 4] = [
        ("maxAttempts", 1, 1_000),
        ("backoffMs", 1, 3_600_000),
        ("maxBackoffMs", 1, 3_600_000),
        ("timeoutMs", 1, 600_000),
    ];

    fn from_json(v: &Json) -> Result<RetryOverrides, InvalidEndpoint> {
        let obj = v.as_object().ok_or_else(|| {
            bad("\"retry\" must be an object such as {\"maxAttempts\": 10, \"backoffMs\": 1000}.")
        })?;
        if let Some(key) = obj
            .keys()
            .find(|k| !Self::FIELDS.iter().any(|(f, _, _)| f == k))
        {
            return Err(bad(format!(
                "\"retry\" has no property '{key}'; it has \"maxAttempts\", \"backoffMs\", \"maxBackoffMs\" and \"timeoutMs\"."
            )));
        }
        let mut values = [None; 4];
        for (i, (field, min, max)) in Self::FIELDS.iter().enumerate() {
            if let Some(x) = obj.get(*field) {
                let n = x
                    .as_u64()
                    .filter(|n| (*min..=*max).contains(n))
                    .ok_or_else(|| {
                        bad(format!(
                            "\"retry.{field}\" must be an integer from {min} to {max}."
                        ))
                    })?;
                values[i] = Some(n);
            }
        }
        Ok(RetryOverrides {
            max_attempts: values[0].map(|n| n as u32),
            backoff_ms: values[1],
            max_backoff_ms: values[2],
            timeout_ms: values[3],
        })
    }

    fn to_json(&self) -> Option<Json> {
        let mut m = Map::new();
        let pairs = [
            ("maxAttempts", self.max_attempts.map(u64::from)),
            ("backoffMs", self.backoff_ms),
            ("maxBackoffMs", self.max_backoff_ms),
            ("timeoutMs", self.timeout_ms),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        (!m.is_empty()).then_some(Json::Object(m))
    }
}

/// An endpoint as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub config: EndpointConfig,
    pub retry: RetryOverrides,
    /// The log position when the endpoint was created: it receives events
    /// from there on. Also tells a re-created endpoint from an old one of the
    /// same name.
    pub since: u64,
}

/// A REST body that is not a valid endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEndpoint(pub String);

fn bad(msg: impl Into<String>) -> InvalidEndpoint {
    InvalidEndpoint(msg.into())
}

impl EndpointConfig {
    /// Validates a REST body.
    pub fn from_json(body: &Json) -> Result<EndpointConfig, InvalidEndpoint> {
        let obj = body
            .as_object()
            .ok_or_else(|| bad("The endpoint must be a JSON object such as {\"type\":\"webhook\",\"url\":\"http://host/path\"}."))?;
        let kind = obj.get("type").and_then(Json::as_str).ok_or_else(|| {
            bad("The endpoint needs a \"type\": \"webhook\", \"mqtt\" or \"nats\".")
        })?;
        let allowed: &[&str] = match kind {
            "webhook" => &["type", "url", "name", "retry"],
            "mqtt" => &["type", "url", "topic", "name", "retry"],
            "nats" => &["type", "url", "subject", "name", "retry"],
            other => {
                return Err(bad(format!(
                    "The endpoint type '{other}' is not supported: use \"webhook\", \"mqtt\" or \"nats\"."
                )));
            }
        };
        if let Some(key) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad(format!(
                "A {kind} endpoint has no property '{key}'; it has {}.",
                allowed
                    .iter()
                    .filter(|k| !matches!(**k, "name" | "retry"))
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let field = |name: &str| -> Result<String, InvalidEndpoint> {
            match obj.get(name) {
                Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(Json::String(_)) | None => Err(bad(format!(
                    "A {kind} endpoint needs a non-empty \"{name}\"."
                ))),
                Some(_) => Err(bad(format!("The endpoint's \"{name}\" must be a string."))),
            }
        };
        let url = field("url")?;
        let config = match kind {
            "webhook" => EndpointConfig::Webhook { url },
            "mqtt" => EndpointConfig::Mqtt {
                url,
                topic: field("topic")?,
            },
            _ => EndpointConfig::Nats {
                url,
                subject: field("subject")?,
            },
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), InvalidEndpoint> {
        match self {
            EndpointConfig::Webhook { url } => {
                let u = parse_url(url, &["http", "https"])?;
                if u.host_str().is_none_or(str::is_empty) {
                    return Err(bad(format!("The webhook URL '{url}' has no host.")));
                }
            }
            EndpointConfig::Mqtt { url, topic } => {
                mqtt_address(url)?;
                if topic.contains(['+', '#', '\0']) {
                    return Err(bad(format!(
                        "The MQTT topic '{topic}' is invalid: a topic to publish to cannot contain '+', '#' or NUL."
                    )));
                }
                if topic.len() > 65_535 {
                    return Err(bad("The MQTT topic is longer than 65,535 bytes."));
                }
            }
            EndpointConfig::Nats { url, subject } => {
                nats_url(url)?;
                let tokens_ok = subject.split('.').all(|t| {
                    !t.is_empty()
                        && t != "*"
                        && t != ">"
                        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
                });
                if !tokens_ok {
                    return Err(bad(format!(
                        "The NATS subject '{subject}' is invalid: use dot-separated tokens without spaces or the wildcards '*' and '>'."
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            EndpointConfig::Webhook { .. } => "webhook",
            EndpointConfig::Mqtt { .. } => "mqtt",
            EndpointConfig::Nats { .. } => "nats",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            EndpointConfig::Webhook { url }
            | EndpointConfig::Mqtt { url, .. }
            | EndpointConfig::Nats { url, .. } => url,
        }
    }
}

fn parse_url(url: &str, schemes: &[&str]) -> Result<url::Url, InvalidEndpoint> {
    let u = url::Url::parse(url).map_err(|e| bad(format!("The URL '{url}' is invalid: {e}.")))?;
    if !schemes.contains(&u.scheme()) {
        return Err(bad(format!(
            "The URL '{url}' must start with {}.",
            schemes
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    Ok(u)
}

/// Host, port and credentials of an MQTT broker URL.
struct MqttAddress {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

fn mqtt_address(url: &str) -> Result<MqttAddress, InvalidEndpoint> {
    let u = parse_url(url, &["mqtt", "tcp"])?;
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad(format!("The MQTT URL '{url}' has no host.")))?;
    if !matches!(u.path(), "" | "/") || u.query().is_some() {
        return Err(bad(format!(
            "The MQTT URL '{url}' must be mqtt://host:port; give the topic as \"topic\"."
        )));
    }
    let credentials = (!u.username().is_empty()).then(|| {
        (
            decode(u.username()),
            u.password().map(decode).unwrap_or_default(),
        )
    });
    Ok(MqttAddress {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port: u.port().unwrap_or(1883),
        credentials,
    })
}

fn nats_url(url: &str) -> Result<(), InvalidEndpoint> {
    let u = parse_url(url, &["nats"])?;
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("The NATS URL '{url}' has no host.")));
    }
    if !matches!(u.path(), "" | "/") || u.query().is_some() {
        return Err(bad(format!(
            "The NATS URL '{url}' must be nats://host:port; give the subject as \"subject\"."
        )));
    }
    Ok(())
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Endpoint {
    /// An endpoint from a REST body (`name` in the body, if any, is ignored:
    /// the path's wins).
    pub fn from_json(name: &str, since: u64, body: &Json) -> Result<Endpoint, InvalidEndpoint> {
        let config = EndpointConfig::from_json(body)?;
        let retry = match body.get("retry") {
            None | Some(Json::Null) => RetryOverrides::default(),
            Some(v) => RetryOverrides::from_json(v)?,
        };
        Ok(Endpoint {
            name: name.to_string(),
            config,
            retry,
            since,
        })
    }

    /// The endpoint as the REST API shows it: `{name, type, url,
    /// topic|subject, retry?}`.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.config.kind()));
        m.insert("url".into(), json!(self.config.url()));
        match &self.config {
            EndpointConfig::Mqtt { topic, .. } => {
                m.insert("topic".into(), json!(topic));
            }
            EndpointConfig::Nats { subject, .. } => {
                m.insert("subject".into(), json!(subject));
            }
            EndpointConfig::Webhook { .. } => {}
        }
        if let Some(retry) = self.retry.to_json() {
            m.insert("retry".into(), retry);
        }
        Json::Object(m)
    }

    /// The stored row: the REST form plus `since`.
    pub fn to_row(&self) -> Vec<u8> {
        let mut v = self.to_json();
        if let Some(m) = v.as_object_mut() {
            m.insert("since".into(), json!(self.since));
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }

    pub fn from_row(name: &str, bytes: &[u8]) -> Result<Endpoint, InvalidEndpoint> {
        let mut v: Json = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("stored endpoint {name} is not JSON: {e}")))?;
        let since = v.get("since").and_then(Json::as_u64).unwrap_or(0);
        if let Some(m) = v.as_object_mut() {
            m.remove("since");
        }
        Endpoint::from_json(name, since, &v)
    }
}

// ----- senders ----------------------------------------------------------------

/// Why a delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// Retrying cannot help (the endpoint rejected the event itself): the
    /// event goes to the dead letters at once.
    pub permanent: bool,
}

fn retryable(message: impl Into<String>) -> SendError {
    SendError {
        message: message.into(),
        permanent: false,
    }
}

/// A connection (or client) to one endpoint, reused across events.
pub enum Sender {
    Webhook(WebhookSender),
    Mqtt(Box<MqttSender>),
    Nats(NatsSender),
}

impl Sender {
    /// A sender for `endpoint`; `timeout` bounds each attempt.
    pub fn new(endpoint: &Endpoint, timeout: Duration) -> Sender {
        match &endpoint.config {
            EndpointConfig::Webhook { url } => Sender::Webhook(WebhookSender {
                url: url.clone(),
                client: reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| e.to_string()),
            }),
            EndpointConfig::Mqtt { url, topic } => Sender::Mqtt(Box::new(MqttSender {
                client_id: format!("twinscape-{}-{}", endpoint.name, short_random()),
                address: mqtt_address(url).map_err(|e| e.0),
                topic: topic.clone(),
                timeout,
                conn: None,
            })),
            EndpointConfig::Nats { url, subject } => Sender::Nats(NatsSender {
                url: url.clone(),
                subject: subject.clone(),
                timeout,
                client: None,
            }),
        }
    }

    /// Delivers one event (`body` is its JSON) and returns once the endpoint
    /// has it.
    pub async fn send(&mut self, event: &CloudEvent, body: &[u8]) -> Result<(), SendError> {
        match self {
            Sender::Webhook(s) => s.send(body).await,
            Sender::Mqtt(s) => s.send(body).await,
            Sender::Nats(s) => s.send(event, body).await,
        }
    }
}

fn short_random() -> String {
    let mut b = [0u8; 4];
    crate::trace::random_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub struct WebhookSender {
    url: String,
    client: Result<reqwest::Client, String>,
}

impl WebhookSender {
    async fn send(&mut self, body: &[u8]) -> Result<(), SendError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| retryable(format!("no HTTP client: {e}")))?;
        let resp = client
            .post(&self.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/cloudevents+json; charset=utf-8",
            )
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| retryable(format!("POST {}: {}", self.url, error_chain(&e))))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // As Event Grid does: a request the endpoint calls malformed or too
        // large will not get better by sending it again.
        Err(SendError {
            message: format!("POST {} answered {status}", self.url),
            permanent: matches!(status.as_u16(), 400 | 413),
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

pub struct MqttSender {
    client_id: String,
    address: Result<MqttAddress, String>,
    topic: String,
    timeout: Duration,
    conn: Option<(rumqttc::AsyncClient, rumqttc::EventLoop)>,
}

impl MqttSender {
    async fn send(&mut self, body: &[u8]) -> Result<(), SendError> {
        let result = tokio::time::timeout(self.timeout, self.publish(body)).await;
        let result = result.unwrap_or_else(|_| {
            Err(retryable(format!(
                "MQTT: no PUBACK within {} ms",
                self.timeout.as_millis()
            )))
        });
        if result.is_err() {
            // Start over on a fresh connection: nothing half-sent lingers.
            self.conn = None;
        }
        result
    }

    async fn publish(&mut self, body: &[u8]) -> Result<(), SendError> {
        use rumqttc::{Event, Packet, QoS};
        let address = self.address.as_ref().map_err(|e| retryable(e.clone()))?;
        let (client, eventloop) = self.conn.get_or_insert_with(|| {
            let mut options =
                rumqttc::MqttOptions::new(&self.client_id, &address.host, address.port);
            options
                .set_keep_alive(Duration::from_secs(30))
                .set_clean_session(true)
                .set_max_packet_size(1 << 20, 256 << 20);
            if let Some((user, pass)) = &address.credentials {
                options.set_credentials(user, pass);
            }
            rumqttc::AsyncClient::new(options, 4)
        });
        client
            .publish(&self.topic, QoS::AtLeastOnce, false, body.to_vec())
            .await
            .map_err(|e| retryable(format!("MQTT: {e}")))?;
        // One publish in flight at a time: the next PUBACK is ours.
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    return Err(retryable(format!(
                        "MQTT {}:{}: {e}",
                        address.host, address.port
                    )));
                }
            }
        }
    }
}

pub struct NatsSender {
    url: String,
    subject: String,
    timeout: Duration,
    client: Option<async_nats::Client>,
}

impl NatsSender {
    async fn send(&mut self, _event: &CloudEvent, body: &[u8]) -> Result<(), SendError> {
        let result = tokio::time::timeout(self.timeout, self.publish(body)).await;
        let result = result.unwrap_or_else(|_| {
            Err(retryable(format!(
                "NATS: not acknowledged within {} ms",
                self.timeout.as_millis()
            )))
        });
        if result.is_err() {
            self.client = None;
        }
        result
    }

    async fn publish(&mut self, body: &[u8]) -> Result<(), SendError> {
        if self.client.is_none() {
            let client = async_nats::ConnectOptions::new()
                .name("twinscape")
                .connection_timeout(self.timeout)
                .connect(self.url.as_str())
                .await
                .map_err(|e| retryable(format!("NATS {}: {e}", self.url)))?;
            self.client = Some(client);
        }
        let Some(client) = &self.client else {
            return Err(retryable("NATS: not connected"));
        };
        client
            .publish(self.subject.clone(), bytes::Bytes::copy_from_slice(body))
            .await
            .map_err(|e| retryable(format!("NATS publish: {e}")))?;
        // A flush is a PING answered after the server has processed the PUB.
        client
            .flush()
            .await
            .map_err(|e| retryable(format!("NATS flush: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Json) -> Result<EndpointConfig, String> {
        EndpointConfig::from_json(&v).map_err(|e| e.0)
    }

    #[test]
    fn valid_bodies() {
        assert_eq!(
            parse(json!({"type": "webhook", "url": "http://127.0.0.1:9000/hook"})),
            Ok(EndpointConfig::Webhook {
                url: "http://127.0.0.1:9000/hook".into()
            })
        );
        assert!(parse(json!({"type": "webhook", "url": "https://example.com"})).is_ok());
        assert!(
            parse(json!({"type": "mqtt", "url": "mqtt://localhost:1883", "topic": "twins/events"}))
                .is_ok()
        );
        assert!(parse(json!({"type": "mqtt", "url": "mqtt://u:p@[::1]", "topic": "a"})).is_ok());
        assert!(
            parse(
                json!({"type": "nats", "url": "nats://127.0.0.1:4222", "subject": "twins.events"})
            )
            .is_ok()
        );
        let addr = mqtt_address("mqtt://us%40er:p%3Ass@[::1]").unwrap();
        assert_eq!(addr.host, "::1");
        assert_eq!(addr.port, 1883);
        assert_eq!(addr.credentials, Some(("us@er".into(), "p:ss".into())));
    }

    #[test]
    fn invalid_bodies_say_why() {
        let cases = [
            (json!([]), "JSON object"),
            (json!({"url": "http://x"}), "needs a \"type\""),
            (json!({"type": "kafka", "url": "x"}), "not supported"),
            (json!({"type": "webhook"}), "needs a non-empty \"url\""),
            (json!({"type": "webhook", "url": 5}), "must be a string"),
            (
                json!({"type": "webhook", "url": "ftp://x"}),
                "must start with http:// or https://",
            ),
            (json!({"type": "webhook", "url": "not a url"}), "is invalid"),
            (
                json!({"type": "webhook", "url": "http://x", "topic": "t"}),
                "has no property 'topic'",
            ),
            (
                json!({"type": "mqtt", "url": "mqtt://h:1883"}),
                "needs a non-empty \"topic\"",
            ),
            (
                json!({"type": "mqtt", "url": "mqtt://h", "topic": "a/#"}),
                "cannot contain",
            ),
            (
                json!({"type": "mqtt", "url": "http://h", "topic": "a"}),
                "mqtt://",
            ),
            (
                json!({"type": "mqtt", "url": "mqtt://h/topic", "topic": "a"}),
                "mqtt://host:port",
            ),
            (
                json!({"type": "nats", "url": "nats://h", "subject": "a.*"}),
                "wildcards",
            ),
            (
                json!({"type": "nats", "url": "nats://h", "subject": "a b"}),
                "invalid",
            ),
            (
                json!({"type": "nats", "url": "nats://h", "subject": "a..b"}),
                "invalid",
            ),
            (
                json!({"type": "nats", "url": "mqtt://h", "subject": "a"}),
                "nats://",
            ),
        ];
        for (body, want) in cases {
            let err = parse(body.clone()).expect_err(&body.to_string());
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn rows_round_trip_and_rest_form_hides_since() {
        let e = Endpoint {
            name: "ep".into(),
            config: EndpointConfig::Nats {
                url: "nats://h:4222".into(),
                subject: "s".into(),
            },
            retry: RetryOverrides {
                max_attempts: Some(3),
                ..Default::default()
            },
            since: 42,
        };
        assert_eq!(
            e.to_json(),
            json!({"name": "ep", "type": "nats", "url": "nats://h:4222", "subject": "s", "retry": {"maxAttempts": 3}})
        );
        assert_eq!(Endpoint::from_row("ep", &e.to_row()), Ok(e));
    }

    #[test]
    fn retry_overrides() {
        let body = json!({"type": "webhook", "url": "http://h", "retry": {"maxAttempts": 2, "backoffMs": 50}});
        let e = Endpoint::from_json("ep", 1, &body).unwrap();
        assert_eq!(e.retry.max_attempts, Some(2));
        assert_eq!(e.retry.backoff_ms, Some(50));
        assert_eq!(e.retry.timeout_ms, None);
        for (retry, want) in [
            (json!(5), "must be an object"),
            (json!({"maxAttempts": 0}), "from 1 to 1000"),
            (json!({"backoffMs": -1}), "from 1"),
            (json!({"tries": 1}), "no property 'tries'"),
        ] {
            let body = json!({"type": "webhook", "url": "http://h", "retry": retry});
            let err = Endpoint::from_json("ep", 1, &body).unwrap_err().0;
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("ep-1_a"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(51)));
    }
}
