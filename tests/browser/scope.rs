//! A replica limited by `?scope=`: it holds the query's twins, and a twin
//! that comes to match arrives.

use crate::page::Session;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_replica_holds_the_querys_twins() {
    let s = Session::start("scope").await;
    let page = s.page();
    // --- A replica limited to a query (`?scope=`) ----------------------------
    // Only Room101 is above 30 degrees; a room that warms up enters.
    let patch = serde_json::json!([{"op": "replace", "path": "/temperature", "value": 30.5}]);
    let r = s
        .server
        .api("PATCH", "/digitaltwins/Room101", Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    s.goto(
        "/explorer?scope=SELECT%20*%20FROM%20DIGITALTWINS%20T%20WHERE%20T.temperature%20%3E%2030",
    )
    .await;
    page.wait_live().await;
    page.wait_attr("#live-status", "data-twins", Duration::from_secs(10), |n| {
        n == "1"
    })
    .await;
    let patch = serde_json::json!([{"op": "replace", "path": "/temperature", "value": 35.0}]);
    let r = s
        .server
        .api("PATCH", "/digitaltwins/Room102", Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    page.wait_attr("#live-status", "data-twins", Duration::from_secs(10), |n| {
        n == "2"
    })
    .await;

    s.close().await;
}
