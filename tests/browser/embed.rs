//! `/embed`: the scene alone (no navigation), for an iframe in another page.

use crate::page::Session;
use fantoccini::Locator;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_route_shows_the_scene_without_the_app_around_it() {
    let s = Session::start("embed").await;
    let page = s.page();
    s.goto("/embed").await;
    page.wait_attr(
        "#embed #viewer",
        "data-status",
        Duration::from_secs(180),
        |st| st == "rendered" || st == "failed",
    )
    .await;
    assert_eq!(
        page.attr("#viewer", "data-status").await.as_deref(),
        Some("rendered"),
        "{:?}",
        page.text("#viewer-error").await
    );
    assert!(
        page.client.find(Locator::Css(".topbar")).await.is_err(),
        "no navigation in an embedded scene"
    );
    page.save("embed").await;
    s.close().await;
}
