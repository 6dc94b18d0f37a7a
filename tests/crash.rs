//! kill -9 during a write load: every acknowledged write is there after the
//! restart, and no write is there in part.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::Server;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const MODEL: &str = "dtmi:twinscape:crash:Counter;1";

fn model() -> serde_json::Value {
    json!([{
        "@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "contents": [
            {"@type": "Property", "name": "a", "schema": "integer"},
            {"@type": "Property", "name": "b", "schema": "integer"},
            {"@type": "Property", "name": "c", "schema": "string"}
        ]
    }])
}

/// What one writer had acknowledged when the server died.
#[derive(Default, Clone)]
struct Acked {
    /// Twins whose creation was acknowledged.
    created: Vec<String>,
    /// Last acknowledged counter of the writer's own twin.
    counter: Option<i64>,
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    for round in 0..3 {
        let server = Server::start(None);
        assert_eq!(
            server.api("POST", "/models", Some(&model()), &[]).status,
            201
        );
        let stop = Arc::new(AtomicBool::new(false));
        let server = Arc::new(server);
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (server, stop) = (server.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut acked = Acked::default();
                    let own = format!("w{w}");
                    let doc = json!({"$metadata": {"$model": MODEL}, "a": 0, "b": 0, "c": "0"});
                    // The writer's counter twin; creation may be cut short by the kill.
                    if server.api("PUT", &format!("/digitaltwins/{own}"), Some(&doc), &[]).status != 200 {
                        return acked;
                    }
                    acked.counter = Some(0);
                    let mut i = 0i64;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        // A new twin, all three properties equal.
                        let id = format!("w{w}-t{i}");
                        let doc = json!({"$metadata": {"$model": MODEL}, "a": i, "b": i, "c": i.to_string()});
                        let r = std::panic::catch_unwind(|| server.api("PUT", &format!("/digitaltwins/{id}"), Some(&doc), &[]));
                        match r {
                            Ok(r) if r.status == 200 => acked.created.push(id),
                            _ => break,
                        }
                        // A patch that writes three properties at once.
                        let patch = json!([
                            {"op": "replace", "path": "/a", "value": i},
                            {"op": "replace", "path": "/b", "value": i},
                            {"op": "replace", "path": "/c", "value": i.to_string()}
                        ]);
                        let r = std::panic::catch_unwind(|| server.api("PATCH", &format!("/digitaltwins/{own}"), Some(&patch), &[]));
                        match r {
                            Ok(r) if r.status == 204 => acked.counter = Some(i),
                            _ => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        // Let the load run, then kill the server in the middle of it.
        std::thread::sleep(Duration::from_millis(700 + 400 * round));
        server.sigkill();
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<Acked> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        let dir = match Arc::try_unwrap(server) {
            Ok(s) => s.kill(),
            Err(_) => panic!("writers still hold the server"),
        };
        let total: usize = acked.iter().map(|a| a.created.len()).sum();
        assert!(
            total > 20,
            "the load was too light to test anything ({total} acknowledged creations)"
        );

        let server = Server::start_in(dir, None);
        for (w, a) in acked.iter().enumerate() {
            for id in &a.created {
                let r = server.api("GET", &format!("/digitaltwins/{id}"), None, &[]);
                assert_eq!(
                    r.status, 200,
                    "round {round}: acknowledged twin {id} is missing"
                );
                let t = r.json();
                assert_eq!(t["a"], t["b"], "{t}");
                assert_eq!(t["c"], json!(t["a"].as_i64().unwrap().to_string()), "{t}");
            }
            if let Some(n) = a.counter {
                let t = server
                    .api("GET", &format!("/digitaltwins/w{w}"), None, &[])
                    .json();
                let a_now = t["a"].as_i64().unwrap();
                // The last acknowledged patch, or the one in flight when the server died.
                assert!(
                    a_now == n || a_now == n + 1,
                    "round {round}: w{w} is at {a_now}, acknowledged {n}"
                );
                assert_eq!(t["a"], t["b"], "a patch was applied in part: {t}");
                assert_eq!(
                    t["c"],
                    json!(a_now.to_string()),
                    "a patch was applied in part: {t}"
                );
            }
        }
        // The store still takes writes after the restart.
        let r = server.api(
            "PUT",
            "/digitaltwins/after",
            Some(&json!({"$metadata": {"$model": MODEL}, "a": 1})),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}
