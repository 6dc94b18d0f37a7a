//! The explorer on the live replica: a REST patch reaches the page, queries
//! run in the page, and the twin panel follows whichever twin is selected.

use crate::page::Session;
use fantoccini::Locator;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_patch_reaches_the_replica_and_its_queries() {
    let s = Session::start("explorer").await;
    let page = s.page();
    // --- The live replica: a patch through REST shows up in the page -------
    s.goto("/explorer?twin=Room101").await;
    page.wait_live().await;
    let twins = page
        .attr("#live-status", "data-twins")
        .await
        .unwrap_or_default();
    assert_eq!(twins, twinscape_demo::twins::twins().len().to_string());
    let before = page
        .wait_attr(
            "#twin-panel [data-prop='temperature']",
            "data-value",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await;
    assert_ne!(before, "30.5");
    let patch = serde_json::json!([{"op": "replace", "path": "/temperature", "value": 30.5}]);
    let r = s
        .server
        .api("PATCH", "/digitaltwins/Room101", Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    let t0 = Instant::now();
    page.wait_attr(
        "#twin-panel [data-prop='temperature']",
        "data-value",
        Duration::from_secs(10),
        |t| t == "30.5",
    )
    .await;
    println!(
        "REST patch → replica in the page: {} ms (polling every 100 ms)",
        t0.elapsed().as_millis()
    );
    // Queries run on the replica in the page.
    let q = page
        .client
        .find(Locator::Id("query-text"))
        .await
        .expect("query box");
    q.clear().await.expect("clear");
    q.send_keys("SELECT * FROM DIGITALTWINS T WHERE T.temperature > 30")
        .await
        .expect("type");
    page.client
        .find(Locator::Id("run-query"))
        .await
        .expect("run")
        .click()
        .await
        .expect("click run");
    page.wait_attr("#query-count", "data-count", Duration::from_secs(10), |c| {
        c == "1"
    })
    .await;
    let rows = page
        .client
        .find_all(Locator::Css("#query-results tr.result"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].attr("data-twin").await.ok().flatten().as_deref(),
        Some("Room101")
    );
    page.save("06-explorer-live").await;

    s.close().await;
}

/// Selecting twin A, then B, then A again shows A live: the replica's
/// per-twin signals outlive the panel that first asked for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selecting_a_b_then_a_again_keeps_a_live() {
    let s = Session::start("explorer-select").await;
    let page = s.page();
    s.goto("/explorer").await;
    page.wait_live().await;
    let select = |id: &'static str| {
        let page = &page;
        async move {
            page.client
                .find(Locator::Css(&format!(
                    "#query-results tr.result[data-twin='{id}']"
                )))
                .await
                .unwrap_or_else(|_| panic!("{id} in the results"))
                .click()
                .await
                .expect("click the row");
            page.wait_attr("#twin-panel", "data-twin", Duration::from_secs(10), |t| {
                t == id
            })
            .await;
        }
    };
    select("Room101").await;
    select("Room102").await;
    select("Room101").await;
    let shown = page
        .wait_attr(
            "#twin-panel [data-prop='temperature']",
            "data-value",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await;
    assert_ne!(shown, "12.5");
    // Still live: a patch of A shows up in A's panel.
    let patch = serde_json::json!([{"op": "replace", "path": "/temperature", "value": 12.5}]);
    let r = s
        .server
        .api("PATCH", "/digitaltwins/Room101", Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    page.wait_attr(
        "#twin-panel [data-prop='temperature']",
        "data-value",
        Duration::from_secs(10),
        |t| t == "12.5",
    )
    .await;
    // And so does an edit made in the panel (PATCH through the app's API client).
    let input = page
        .client
        .find(Locator::Css("#twin-panel [data-prop-input='temperature']"))
        .await
        .expect("temperature input");
    input.clear().await.expect("clear");
    input.send_keys("19.5\n").await.expect("type");
    // A change event: blur the input.
    page.client
        .execute("document.activeElement.blur();", vec![])
        .await
        .expect("blur");
    page.wait_attr(
        "#twin-panel [data-prop='temperature']",
        "data-value",
        Duration::from_secs(10),
        |t| t == "19.5",
    )
    .await;
    let r = s.server.api("GET", "/digitaltwins/Room101", None, &[]);
    assert_eq!(r.json()["temperature"], serde_json::json!(19.5));
    assert!(
        page.text("#twin-panel .patch-error").await.is_none(),
        "no error is shown"
    );
    page.save("select-a-b-a").await;
    s.close().await;
}
