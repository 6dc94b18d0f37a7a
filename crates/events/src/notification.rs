//! ADT's notifications as CloudEvents 1.0 (structured mode, JSON).
//!
//! | change | `type` | `subject` | `data` |
//! | --- | --- | --- | --- |
//! | twin created / deleted | `Microsoft.DigitalTwins.Twin.Create` / `.Delete` | twin id | the twin (as it is / as it was) |
//! | twin updated | `Microsoft.DigitalTwins.Twin.Update` | twin id | `{modelId, patch}` |
//! | relationship created / deleted | `Microsoft.DigitalTwins.Relationship.Create` / `.Delete` | `<source>/relationships/<id>` | the relationship |
//! | relationship updated | `Microsoft.DigitalTwins.Relationship.Update` | `<source>/relationships/<id>` | `{modelId, patch}` |
//! | telemetry | `microsoft.iot.telemetry` | component name, or none | the payload as sent |
//!
//! `source` is the instance's host name (for telemetry
//! `<host>/digitaltwins/<twin id>`); the log holds it relative to the host
//! (see [`LoggedEvent`]) and the dispatcher prefixes the configured host when
//! it delivers.

use crate::trace;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use twinscape_graph::{Change, ChangeKind, Timestamp};

pub const TWIN_CREATE: &str = "Microsoft.DigitalTwins.Twin.Create";
pub const TWIN_UPDATE: &str = "Microsoft.DigitalTwins.Twin.Update";
pub const TWIN_DELETE: &str = "Microsoft.DigitalTwins.Twin.Delete";
pub const RELATIONSHIP_CREATE: &str = "Microsoft.DigitalTwins.Relationship.Create";
pub const RELATIONSHIP_UPDATE: &str = "Microsoft.DigitalTwins.Relationship.Update";
pub const RELATIONSHIP_DELETE: &str = "Microsoft.DigitalTwins.Relationship.Delete";
/// Telemetry's type is lower case, unlike the others (as in ADT).
pub const TELEMETRY: &str = "microsoft.iot.telemetry";

/// One CloudEvent 1.0, with the attributes ADT sets. Serializes in
/// structured mode with the keys in the order of ADT's examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    pub specversion: String,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: String,
    pub data: Json,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataschema: Option<String>,
    pub datacontenttype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl CloudEvent {
    fn new(event_type: &str, source: String, subject: Option<String>, data: Json) -> CloudEvent {
        CloudEvent {
            specversion: "1.0".into(),
            id: new_uuid(),
            event_type: event_type.into(),
            source,
            data,
            subject,
            time: None,
            dataschema: None,
            datacontenttype: "application/json".into(),
            traceparent: Some(trace::next_traceparent()),
        }
    }

    /// A context attribute by its CloudEvents name (`type`, `source`,
    /// `subject`, `id`, `time`, `specversion`, `datacontenttype`,
    /// `dataschema`, `traceparent`); `None` when the event has none.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        match name {
            "specversion" => Some(&self.specversion),
            "id" => Some(&self.id),
            "type" => Some(&self.event_type),
            "source" => Some(&self.source),
            "subject" => self.subject.as_deref(),
            "time" => self.time.as_deref(),
            "datacontenttype" => Some(&self.datacontenttype),
            "dataschema" => self.dataschema.as_deref(),
            "traceparent" => self.traceparent.as_deref(),
            _ => None,
        }
    }

    /// The event in CloudEvents' JSON format (structured mode).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The events of one graph change (one today; a `Vec` so that a change may
/// one day notify more than once), stamped with `time` and a traceparent
/// from the current request (see [`crate::trace`]).
pub fn from_change(change: &Change, time: Timestamp) -> Vec<CloudEvent> {
    let rel_subject = |source: &str, rel: &str| Some(format!("{source}/relationships/{rel}"));
    let (event_type, subject, data) = match &change.kind {
        ChangeKind::TwinCreated { id, twin } => (TWIN_CREATE, Some(id.clone()), twin.clone()),
        ChangeKind::TwinUpdated {
            id,
            model_id,
            patch,
            ..
        } => (
            TWIN_UPDATE,
            Some(id.clone()),
            json!({ "modelId": model_id, "patch": patch }),
        ),
        ChangeKind::TwinDeleted { id, twin } => (TWIN_DELETE, Some(id.clone()), twin.clone()),
        ChangeKind::RelationshipCreated {
            source_id,
            relationship_id,
            relationship,
        } => (
            RELATIONSHIP_CREATE,
            rel_subject(source_id, relationship_id),
            relationship.clone(),
        ),
        ChangeKind::RelationshipUpdated {
            source_id,
            relationship_id,
            model_id,
            patch,
            ..
        } => (
            RELATIONSHIP_UPDATE,
            rel_subject(source_id, relationship_id),
            json!({ "modelId": model_id, "patch": patch }),
        ),
        ChangeKind::RelationshipDeleted {
            source_id,
            relationship_id,
            relationship,
        } => (
            RELATIONSHIP_DELETE,
            rel_subject(source_id, relationship_id),
            relationship.clone(),
        ),
    };
    let mut event = CloudEvent::new(event_type, String::new(), subject, data);
    event.time = Some(time.to_string());
    vec![event]
}

/// Telemetry sent to a twin or one of its components.
#[derive(Debug, Clone)]
pub struct Telemetry<'a> {
    pub twin_id: &'a str,
    /// The component's name, for component telemetry.
    pub component: Option<&'a str>,
    /// The client's `Message-Id`: the event's `id`.
    pub message_id: &'a str,
    /// The model of the twin or of the component (`dataschema`).
    pub model_id: Option<&'a str>,
    /// `Telemetry-Source-Time` when sent, else when it was received.
    pub time: Timestamp,
    /// The body as sent.
    pub payload: Json,
}

/// The telemetry event: `id` is the client's `Message-Id`, `source`
/// `<host>/digitaltwins/<twin id>`, `subject` the component (absent for the
/// twin's own telemetry), `dataschema` the twin's or component's model.
pub fn from_telemetry(t: Telemetry<'_>) -> CloudEvent {
    let mut event = CloudEvent::new(
        TELEMETRY,
        format!("/digitaltwins/{}", t.twin_id),
        t.component.map(str::to_string),
        t.payload,
    );
    event.id = t.message_id.to_string();
    event.time = Some(t.time.to_string());
    event.dataschema = t.model_id.map(str::to_string);
    event
}

/// An event as the store's log holds it: `source` is relative to the
/// instance host (`""`, or `/digitaltwins/<id>` for telemetry) so that the
/// host is configured in one place, the dispatcher. `kind` tells these
/// entries from any other user of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedEvent {
    pub kind: String,
    pub event: CloudEvent,
}

const KIND: &str = "event";

impl LoggedEvent {
    pub fn encode(event: CloudEvent) -> Vec<u8> {
        serde_json::to_vec(&LoggedEvent {
            kind: KIND.into(),
            event,
        })
        .unwrap_or_default()
    }

    /// The event in a log entry, with `source` made absolute; `None` when the
    /// entry is not an event.
    pub fn decode(bytes: &[u8], host: &str) -> Option<CloudEvent> {
        let logged: LoggedEvent = serde_json::from_slice(bytes).ok()?;
        if logged.kind != KIND {
            return None;
        }
        let mut event = logged.event;
        event.source = format!("{host}{}", event.source);
        Some(event)
    }
}

/// A random (version 4) UUID in its hyphenated lower-case form.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    trace::random_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeKind) -> Change {
        Change { seq: 1, kind }
    }

    fn t() -> Timestamp {
        Timestamp::parse("2021-12-09T20:28:52.9795363Z").unwrap()
    }

    #[test]
    fn twin_update_is_model_and_patch_in_adt_key_order() {
        let patch = json!([{"value": "new name", "path": "/room", "op": "replace"}]);
        let events = from_change(
            &change(ChangeKind::TwinUpdated {
                id: "example-twin1".into(),
                model_id: "dtmi:examplecom:interfaceName;1".into(),
                patch: patch.clone(),
                before_etag: String::new(),
                after_etag: String::new(),
                twin: json!({}),
            }),
            t(),
        );
        let [e] = events.as_slice() else {
            panic!("one event")
        };
        assert_eq!(e.event_type, TWIN_UPDATE);
        assert_eq!(e.subject.as_deref(), Some("example-twin1"));
        assert_eq!(e.time.as_deref(), Some("2021-12-09T20:28:52.9795363Z"));
        let json: Json = serde_json::from_slice(&e.to_json_bytes()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "specversion",
                "id",
                "type",
                "source",
                "data",
                "subject",
                "time",
                "datacontenttype",
                "traceparent"
            ]
        );
        assert_eq!(
            json["data"],
            json!({"modelId": "dtmi:examplecom:interfaceName;1", "patch": patch})
        );
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["datacontenttype"], "application/json");
        let tp = json["traceparent"].as_str().unwrap();
        assert!(trace::TraceParent::parse(tp).is_some(), "{tp}");
    }

    #[test]
    fn twin_lifecycle_carries_the_twin() {
        let twin = json!({"$dtId": "floor1", "$etag": "W/\"e398dbf4-8214-4483-9d52-880b61e491ec\"", "$metadata": {"$model": "dtmi:example:Floor;1"}});
        let created = from_change(
            &change(ChangeKind::TwinCreated {
                id: "floor1".into(),
                twin: twin.clone(),
            }),
            t(),
        );
        let deleted = from_change(
            &change(ChangeKind::TwinDeleted {
                id: "floor1".into(),
                twin: twin.clone(),
            }),
            t(),
        );
        assert_eq!(created[0].event_type, TWIN_CREATE);
        assert_eq!(deleted[0].event_type, TWIN_DELETE);
        for e in [&created[0], &deleted[0]] {
            assert_eq!(e.data, twin);
            assert_eq!(e.subject.as_deref(), Some("floor1"));
        }
        assert_ne!(created[0].id, deleted[0].id, "ids are unique");
    }

    #[test]
    fn relationship_subjects_and_bodies() {
        let rel = json!({"$relationshipId": "r1", "$etag": "W/\"x\"", "$sourceId": "a", "$relationshipName": "has", "$targetId": "b"});
        let c = from_change(
            &change(ChangeKind::RelationshipCreated {
                source_id: "a".into(),
                relationship_id: "r1".into(),
                relationship: rel.clone(),
            }),
            t(),
        );
        assert_eq!(c[0].event_type, RELATIONSHIP_CREATE);
        assert_eq!(c[0].subject.as_deref(), Some("a/relationships/r1"));
        assert_eq!(c[0].data, rel);
        let u = from_change(
            &change(ChangeKind::RelationshipUpdated {
                source_id: "a".into(),
                relationship_id: "r1".into(),
                model_id: "dtmi:example:Floor;1".into(),
                patch: json!([{"op": "replace", "path": "/p", "value": 1}]),
                before_etag: String::new(),
                after_etag: String::new(),
                relationship: rel.clone(),
            }),
            t(),
        );
        assert_eq!(u[0].event_type, RELATIONSHIP_UPDATE);
        assert_eq!(
            u[0].data,
            json!({"modelId": "dtmi:example:Floor;1", "patch": [{"op": "replace", "path": "/p", "value": 1}]})
        );
        let d = from_change(
            &change(ChangeKind::RelationshipDeleted {
                source_id: "a".into(),
                relationship_id: "r1".into(),
                relationship: rel.clone(),
            }),
            t(),
        );
        assert_eq!(d[0].event_type, RELATIONSHIP_DELETE);
        assert_eq!(d[0].data, rel);
    }

    #[test]
    fn telemetry_like_adt() {
        let e = from_telemetry(Telemetry {
            twin_id: "room1",
            component: None,
            message_id: "df5a5992-817b-4e8a-b12c-e0b18d4bf8fb",
            model_id: Some("dtmi:example:com:floor4;2"),
            time: t(),
            payload: json!({"Temperature": 10}),
        });
        let bytes = LoggedEvent::encode(e);
        let e = LoggedEvent::decode(&bytes, "contoso-adt.api.wus2.digitaltwins.azure.net").unwrap();
        assert_eq!(e.event_type, "microsoft.iot.telemetry");
        assert_eq!(e.id, "df5a5992-817b-4e8a-b12c-e0b18d4bf8fb");
        assert_eq!(
            e.source,
            "contoso-adt.api.wus2.digitaltwins.azure.net/digitaltwins/room1"
        );
        assert_eq!(e.subject, None);
        assert_eq!(e.dataschema.as_deref(), Some("dtmi:example:com:floor4;2"));
        assert_eq!(e.data, json!({"Temperature": 10}));
        let c = from_telemetry(Telemetry {
            twin_id: "room1",
            component: Some("thermostat"),
            message_id: "m2",
            model_id: Some("dtmi:example:Thermostat;1"),
            time: t(),
            payload: json!({"t": 1}),
        });
        assert_eq!(c.subject.as_deref(), Some("thermostat"));
    }

    #[test]
    fn other_log_entries_are_not_events() {
        assert!(LoggedEvent::decode(b"{\"kind\":\"delta\",\"event\":{}}", "h").is_none());
        assert!(LoggedEvent::decode(b"not json", "h").is_none());
    }

    #[test]
    fn uuids_are_version_4() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
