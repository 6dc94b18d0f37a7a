//! Scenes in other pages: `/embed` (the scene alone, no navigation), and
//! the example page `web/examples/embed.html` served from another origin,
//! with the custom element `<twinscape-scene>` and the iframe
//! `/embed/scenes/{id}`.

use crate::page::{Page, Session, StaticSite};
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

/// The events the example page logged (`#events li`): (way, type, detail).
async fn logged(page: &Page<'_>) -> Vec<(String, String, serde_json::Value)> {
    let v = page
        .client
        .execute(
            "return [...document.querySelectorAll('#events li')]\
             .map(li => [li.dataset.way, li.dataset.type, li.dataset.detail]);",
            vec![],
        )
        .await
        .expect("read the event log");
    v.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_string(),
                e[1].as_str().unwrap_or_default().to_string(),
                serde_json::from_str(e[2].as_str().unwrap_or("null")).unwrap_or_default(),
            )
        })
        .collect()
}

/// Waits for an event `way` `kind` whose detail passes `ok`.
async fn wait_event(
    page: &Page<'_>,
    way: &str,
    kind: &str,
    secs: u64,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let events = logged(page).await;
        if let Some((_, _, d)) = events
            .iter()
            .find(|(w, k, d)| w == way && k == kind && ok(d))
        {
            return d.clone();
        }
        if start.elapsed() > Duration::from_secs(secs) {
            page.save(&format!("timeout-{way}-{kind}")).await;
            panic!("no {way} {kind} event in {secs} s; the log: {events:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Where a world point of the scene is drawn in the top page, for the
/// viewer of the current frame whose canvas starts at `origin`.
async fn on_screen(page: &Page<'_>, origin: (f64, f64), p: [f32; 3]) -> (f64, f64) {
    let (x, y) = page
        .project([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])])
        .await;
    (origin.0 + x, origin.1 + y)
}

/// The iframe's viewer canvas, in the top page: the frame's content box
/// plus the canvas' place inside it.
async fn iframe_canvas_origin(page: &Page<'_>) -> (f64, f64) {
    let v = page
        .client
        .execute(
            "const f = document.querySelector('#iframe-slot iframe');\
             const r = f.getBoundingClientRect();\
             return [r.left + f.clientLeft, r.top + f.clientTop];",
            vec![],
        )
        .await
        .expect("iframe rect");
    let frame = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
    page.client.enter_frame(0).await.expect("enter the iframe");
    let inner = page.canvas_origin().await;
    (frame.0 + inner.0, frame.1 + inner.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_embeds_a_live_scene_as_element_and_iframe() {
    use crate::scene_rules::{AHU, red, set_status, wait_pixel};
    let site = StaticSite::start(&crate::harness::repo_root().join("web/examples"));
    let s = Session::start_with("embed-other-origin", &["--cors-origin", &site.origin]).await;
    let page = s.page();
    set_status(&s, "running");
    let server = format!("http://{}", s.server.addr);
    let url = format!(
        "{}/embed.html?server={server}&scene=demo-building",
        site.origin
    );
    page.client.goto(&url).await.expect("open the example page");

    // Both ways load the scene and say so.
    for way in ["element", "iframe"] {
        let d = wait_event(&page, way, "scene-loaded", 240, |_| true).await;
        assert_eq!(d["sceneId"], "demo-building", "{way}: {d}");
        assert!(d["elements"].as_u64().unwrap() > 1, "{way}: {d}");
    }
    wait_event(&page, "iframe", "ready", 5, |d| {
        d["sceneId"] == "demo-building"
    })
    .await;
    page.save("01-loaded").await;

    // Where the equipment is drawn in each (both canvases fit the model).
    let c = twinscape_demo::elements()
        .into_iter()
        .find(|e| e.name == AHU)
        .unwrap()
        .bounds
        .center();
    // The element's viewer is the top page's only #viewer.
    let element_origin = page.canvas_origin().await;
    let (ex, ey) = on_screen(&page, element_origin, c).await;
    let iframe_origin = iframe_canvas_origin(&page).await;
    let (ix, iy) = on_screen(&page, iframe_origin, c).await;
    page.client
        .enter_parent_frame()
        .await
        .expect("leave the iframe");

    // A twin patched over REST recolours both, live.
    set_status(&s, "fault");
    wait_pixel(&page, "02-fault-element", ex, ey, 30, red).await;
    wait_pixel(&page, "03-fault-iframe", ix, iy, 30, red).await;

    // setLayers: on the element (method) and the iframe (postMessage),
    // the equipment layer off removes the fault colour, and back on.
    let set_layers = |layers: serde_json::Value| {
        let client = page.client.clone();
        let server = server.clone();
        async move {
            client
                .execute(
                    "document.querySelector('twinscape-scene').setLayers(arguments[0]);\
                     document.querySelector('iframe').contentWindow.postMessage(\
                     {source: 'twinscape-scene', type: 'setLayers', layers: arguments[0]}, arguments[1]);",
                    vec![layers, serde_json::json!(server)],
                )
                .await
                .unwrap();
        }
    };
    set_layers(serde_json::json!(["comfort"])).await;
    wait_pixel(&page, "04-layers-element", ex, ey, 30, |c| !red(c)).await;
    wait_pixel(&page, "05-layers-iframe", ix, iy, 30, |c| !red(c)).await;
    set_layers(serde_json::Value::Null).await;
    wait_pixel(&page, "06-all-layers-element", ex, ey, 30, red).await;
    wait_pixel(&page, "07-all-layers-iframe", ix, iy, 30, red).await;

    // A click on the equipment is an element-click event with the element,
    // its twins and its rules' states: from the element as a DOM event…
    page.click_at(ex, ey).await;
    let d = wait_event(&page, "element", "element-click", 30, |_| true).await;
    assert_eq!(d["elementId"], AHU, "{d}");
    assert_eq!(d["primaryTwinId"], AHU);
    assert_eq!(d["twinIds"][0], AHU);
    let status = d["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["behaviorId"] == "equipment-status")
        .unwrap_or_else(|| panic!("no equipment-status state in {d}"));
    assert_eq!(status["value"], "fault");
    assert_eq!(
        status["color"]
            .as_str()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("#EB4033")
    );
    // …and from the iframe over postMessage.
    // The first click into a frame of another document only gives it the
    // focus (Chromium and winit): a click on the background first.
    page.click_at(iframe_origin.0 + 4.0, iframe_origin.1 + 4.0)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    page.click_at(ix, iy).await;
    let d = wait_event(&page, "iframe", "element-click", 30, |_| true).await;
    assert_eq!(d["elementId"], AHU, "{d}");
    assert_eq!(d["twinIds"][0], AHU);
    page.save("08-clicked").await;

    // An unknown element is an error event, not silence.
    page.client
        .execute(
            "document.querySelector('twinscape-scene').flyTo('no-such-element');",
            vec![],
        )
        .await
        .unwrap();
    let d = wait_event(&page, "element", "error", 10, |_| true).await;
    assert_eq!(d["code"], "ElementNotFound", "{d}");

    // A second element on the same page runs beside the first (its own
    // copy of the app), on another scene attribute set later.
    page.client
        .execute(
            "const el = document.createElement('twinscape-scene');\
             el.setAttribute('server', arguments[0]);\
             el.setAttribute('scene', 'no-such-scene');\
             el.style.height = '200px';\
             for (const t of ['scene-loaded', 'error']) el.addEventListener(t, (e) => {\
               const li = document.createElement('li'); li.dataset.way = 'second'; li.dataset.type = t;\
               li.dataset.detail = JSON.stringify(e.detail); document.getElementById('events').appendChild(li); });\
             document.body.appendChild(el);",
            vec![serde_json::json!(server)],
        )
        .await
        .unwrap();
    let d = wait_event(&page, "second", "error", 120, |_| true).await;
    assert_eq!(d["code"], "SceneNotFound", "{d}");
    page.client
        .execute(
            "document.querySelectorAll('twinscape-scene')[1].scene = 'demo-building';",
            vec![],
        )
        .await
        .unwrap();
    let d = wait_event(&page, "second", "scene-loaded", 180, |_| true).await;
    assert_eq!(d["sceneId"], "demo-building");
    // The first one still follows the twins.
    set_status(&s, "running");
    wait_pixel(&page, "09-first-still-live", ex, ey, 30, |c| !red(c)).await;

    // The same page on a server that does not allow its origin: a clear
    // error in the box and as an event, and a notice for the iframe.
    let closed = crate::harness::Server::start(Some(&crate::page::dist_dir()));
    let url = format!(
        "{}/embed.html?server=http://{}&scene=demo-building",
        site.origin, closed.addr
    );
    page.client.goto(&url).await.expect("open the example page");
    let d = wait_event(&page, "element", "error", 120, |_| true).await;
    let hint = format!("--cors-origin {}", site.origin);
    assert!(d["message"].as_str().unwrap().contains(&hint), "{d}");
    let shown = page
        .wait_text(
            "twinscape-scene .embed-error",
            Duration::from_secs(10),
            |t| !t.is_empty(),
        )
        .await;
    assert!(shown.contains(&hint), "{shown}");
    let notice = page
        .wait_text("#iframe-notice", Duration::from_secs(30), |t| !t.is_empty())
        .await;
    assert!(notice.contains(&hint), "{notice}");
    page.save("06-not-allowed").await;
    s.close().await;
}
