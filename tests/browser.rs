//! The browser app end to end: a real `twinscape serve` with the trunk-built
//! app in `dist/`, driven in headless Chromium (SwiftShader WebGL2) through
//! chromedriver. Screenshots go to `target/test-artifacts/browser/`.
//!
//! Needs `trunk build --release` to have produced `dist/` (scripts/test does).

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use harness::{Browser, Screenshot, Server, color_distance};
use std::time::{Duration, Instant};

/// `twinscape_viewer::BACKGROUND_SRGB` in 0..255.
const BACKGROUND: [f64; 3] = [0.11 * 255.0, 0.13 * 255.0, 0.17 * 255.0];
/// A mesh of the demo building that nothing hides from the default view.
const TARGET: &str = "Roof_AHU1";

fn dist_dir() -> std::path::PathBuf {
    let dist = harness::repo_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "dist/ is not built: run `trunk build --release` (scripts/test does it)"
    );
    dist
}

/// Loads the demo building's models, twins and relationships over REST.
fn seed_demo(server: &Server) {
    use twinscape_demo::twins as demo;
    let r = server.api(
        "POST",
        "/models",
        Some(&serde_json::Value::Array(demo::models())),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for t in demo::twins() {
        let r = server.api("PUT", &format!("/digitaltwins/{}", t.id), Some(&t.doc), &[]);
        assert_eq!(r.status, 200, "{}: {}", t.id, r.text());
    }
    for rel in demo::relationships() {
        let r = server.api(
            "PUT",
            &format!("/digitaltwins/{}/relationships/{}", rel.source, rel.id),
            Some(&rel.doc),
            &[],
        );
        assert_eq!(r.status, 200, "{}: {}", rel.id, r.text());
    }
}

struct Page<'a> {
    client: &'a fantoccini::Client,
    artifacts: std::path::PathBuf,
}

impl Page<'_> {
    async fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.attr(attr).await.ok().flatten()
    }

    async fn text(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.text().await.ok()
    }

    async fn wait_attr(
        &self,
        css: &str,
        attr: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            if let Some(v) = self.attr(css, attr).await
                && ok(&v)
            {
                return v;
            }
            if start.elapsed() > timeout {
                self.save("timeout").await;
                panic!(
                    "timed out waiting for {css}[{attr}]; it is {:?}; page error: {:?}",
                    self.attr(css, attr).await,
                    self.text("#viewer-error").await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_text(&self, css: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            if let Some(v) = self.text(css).await
                && ok(&v)
            {
                return v;
            }
            if start.elapsed() > timeout {
                self.save("timeout").await;
                panic!(
                    "timed out waiting for the text of {css}; it is {:?}",
                    self.text(css).await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) -> Screenshot {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.artifacts.join(format!("{name}.png")), &png).expect("save screenshot");
        Screenshot::decode(&png)
    }

    async fn save(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.artifacts.join(format!("{name}.png")), png);
        }
        if let Ok(src) = self.client.source().await {
            let _ = std::fs::write(self.artifacts.join(format!("{name}.html")), src);
        }
    }

    /// The canvas' top-left corner in CSS px of the viewport.
    async fn canvas_origin(&self) -> (f64, f64) {
        let v = self
            .client
            .execute(
                "const r = document.getElementById('twinscape-canvas').getBoundingClientRect();\
                 return [r.left, r.top, window.devicePixelRatio];",
                vec![],
            )
            .await
            .expect("canvas rect");
        let dpr = v[2].as_f64().unwrap_or(1.0);
        assert!(
            (dpr - 1.0).abs() < 1e-9,
            "the test expects device pixel ratio 1, got {dpr}"
        );
        (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0))
    }

    /// Projects a world point with the camera matrix the viewer publishes,
    /// giving CSS px inside the canvas.
    async fn project(&self, p: [f64; 3]) -> (f64, f64) {
        let m: Vec<f64> = self
            .attr("#viewer", "data-clip-from-world")
            .await
            .expect("camera matrix")
            .split(',')
            .map(|s| s.parse().expect("matrix entry"))
            .collect();
        assert_eq!(m.len(), 16);
        let vp: Vec<f64> = self
            .attr("#viewer", "data-viewport")
            .await
            .expect("viewport")
            .split(',')
            .map(|s| s.parse().expect("viewport entry"))
            .collect();
        let v = [p[0], p[1], p[2], 1.0];
        let clip: Vec<f64> = (0..4)
            .map(|i| (0..4).map(|j| m[j * 4 + i] * v[j]).sum())
            .collect();
        let (nx, ny) = (clip[0] / clip[3], clip[1] / clip[3]);
        assert!(
            nx.abs() < 1.0 && ny.abs() < 1.0,
            "point {p:?} is off screen (ndc {nx}, {ny})"
        );
        ((nx + 1.0) / 2.0 * vp[0], (1.0 - ny) / 2.0 * vp[1])
    }

    async fn click_at(&self, x: f64, y: f64) {
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x: x.round(),
                y: y.round(),
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause {
                duration: Duration::from_millis(80),
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(mouse)
            .await
            .expect("mouse click");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_shows_picks_and_recolours_the_demo_building() {
    let dist = dist_dir();
    let server = Server::start(Some(&dist));
    seed_demo(&server);
    let browser = Browser::start().await;
    let page = Page {
        client: &browser.client,
        artifacts: harness::artifacts_dir("browser"),
    };

    // --- The model renders ---------------------------------------------------
    let t0 = Instant::now();
    page.client
        .goto(&server.url("/"))
        .await
        .expect("open the app");
    page.wait_attr("#viewer", "data-status", Duration::from_secs(180), |s| {
        s == "rendered" || s == "failed"
    })
    .await;
    let wall = t0.elapsed();
    assert_eq!(
        page.attr("#viewer", "data-status").await.as_deref(),
        Some("rendered"),
        "{:?}",
        page.text("#viewer-error").await
    );
    let first_frame_ms: f64 = page
        .wait_attr(
            "#viewer",
            "data-first-frame-ms",
            Duration::from_secs(5),
            |s| !s.is_empty(),
        )
        .await
        .parse()
        .expect("first frame time");
    let started_ms: f64 = page
        .attr("#viewer", "data-started-ms")
        .await
        .unwrap_or_default()
        .parse()
        .unwrap_or(-1.0);
    println!(
        "browser timings: bevy first frame {started_ms:.0} ms, model rendered {first_frame_ms:.0} ms after navigation start (wall {} ms)",
        wall.as_millis()
    );
    std::fs::write(
        page.artifacts.join("timings.json"),
        serde_json::json!({
            "bevy_first_frame_ms": started_ms,
            "model_first_frame_ms": first_frame_ms,
            "wall_ms_until_rendered_seen": wall.as_millis() as u64,
        })
        .to_string(),
    )
    .expect("write timings");
    assert!(first_frame_ms > 0.0);

    // Every element of the demo building is listed, with the bounds it was generated with.
    let expected = twinscape_demo::elements();
    let listed = page
        .client
        .find_all(Locator::Css("#element-list [data-element]"))
        .await
        .expect("element list");
    assert_eq!(listed.len(), expected.len());
    let target = expected
        .iter()
        .find(|e| e.name == TARGET)
        .expect("target in the demo");
    let center_attr = page
        .attr(
            &format!("#element-list [data-element='{TARGET}']"),
            "data-center",
        )
        .await
        .expect("target listed");
    let center: Vec<f64> = center_attr
        .split(',')
        .map(|s| s.parse().expect("coordinate"))
        .collect();
    let want = target.bounds.center();
    for i in 0..3 {
        assert!(
            (center[i] - f64::from(want[i])).abs() < 1e-3,
            "{TARGET} centre {center:?} vs {want:?}"
        );
    }

    // Let the frame settle, then sample the canvas at the target and in a corner.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ox, oy) = page.canvas_origin().await;
    let (tx, ty) = page.project([center[0], center[1], center[2]]).await;
    let (sx, sy) = (ox + tx, oy + ty);
    let shot = page.screenshot("01-model-rendered").await;
    let corner = shot.sample(ox + 6.0, oy + 6.0, 2);
    assert!(
        color_distance(corner, BACKGROUND) < 12.0,
        "the canvas corner should be background, got {corner:?}"
    );
    let before = shot.sample(sx, sy, 2);
    assert!(
        color_distance(before, BACKGROUND) > 60.0,
        "{TARGET} at ({sx:.0}, {sy:.0}) should show the model, got {before:?} (background {BACKGROUND:?})"
    );

    // --- Clicking the mesh selects it (Bevy → Leptos) ------------------------
    assert_eq!(page.text("#selected-name").await.as_deref(), Some("none"));
    page.click_at(sx, sy).await;
    page.wait_text("#selected-name", Duration::from_secs(20), |t| t == TARGET)
        .await;
    let highlighted = page
        .attr(&format!("#element-list [data-element='{TARGET}']"), "class")
        .await
        .unwrap_or_default();
    assert!(
        highlighted.contains("selected"),
        "list entry not highlighted: {highlighted}"
    );

    // --- Recolouring it changes its pixels (Leptos → Bevy) -------------------
    page.client
        .find(Locator::Css("button[data-color='#e53935']"))
        .await
        .expect("red swatch")
        .click()
        .await
        .expect("click red");
    let start = Instant::now();
    let after = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let shot = page.screenshot("02-recoloured").await;
        let c = shot.sample(sx, sy, 2);
        if color_distance(c, before) > 40.0 || start.elapsed() > Duration::from_secs(20) {
            break c;
        }
    };
    assert!(
        color_distance(after, before) > 40.0,
        "recolouring did not change the pixel: before {before:?}, after {after:?}"
    );
    assert!(
        after[0] > 1.8 * after[1] && after[0] > 1.8 * after[2],
        "expected red, got {after:?}"
    );

    // Reset restores the model's own colour.
    page.client
        .find(Locator::Id("recolor-reset"))
        .await
        .expect("reset")
        .click()
        .await
        .expect("click reset");
    let start = Instant::now();
    let restored = loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let c = page.screenshot("03-reset").await.sample(sx, sy, 2);
        if color_distance(c, before) < 10.0 || start.elapsed() > Duration::from_secs(20) {
            break c;
        }
    };
    assert!(
        color_distance(restored, before) < 10.0,
        "reset: before {before:?}, now {restored:?}"
    );

    // Selecting from the list works too, and the other pages are reachable.
    page.client
        .find(Locator::Css("#element-list [data-element='Room101']"))
        .await
        .expect("Room101 listed")
        .click()
        .await
        .expect("click list entry");
    page.wait_text("#selected-name", Duration::from_secs(10), |t| {
        t == "Room101"
    })
    .await;
    page.client
        .find(Locator::LinkText("Explorer"))
        .await
        .expect("nav")
        .click()
        .await
        .expect("go");
    page.wait_text("#explorer h1", Duration::from_secs(10), |t| t == "Explorer")
        .await;

    // --- The live replica: a patch through REST shows up in the page -------
    page.client
        .goto(&server.url("/explorer?twin=Room101"))
        .await
        .expect("open the explorer");
    page.wait_attr(
        "#live-status",
        "data-status",
        Duration::from_secs(60),
        |s| s == "live",
    )
    .await;
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
    let r = server.api("PATCH", "/digitaltwins/Room101", Some(&patch), &[]);
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

    // --- A replica limited to a query (`?scope=`) ----------------------------
    // Only Room101 is above 30 degrees now; a room that warms up enters.
    page.client
        .goto(&server.url(
            "/explorer?scope=SELECT%20*%20FROM%20DIGITALTWINS%20T%20WHERE%20T.temperature%20%3E%2030",
        ))
        .await
        .expect("open the scoped explorer");
    page.wait_attr(
        "#live-status",
        "data-status",
        Duration::from_secs(60),
        |s| s == "live",
    )
    .await;
    page.wait_attr("#live-status", "data-twins", Duration::from_secs(10), |n| {
        n == "1"
    })
    .await;
    let patch = serde_json::json!([{"op": "replace", "path": "/temperature", "value": 35.0}]);
    let r = server.api("PATCH", "/digitaltwins/Room102", Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    page.wait_attr("#live-status", "data-twins", Duration::from_secs(10), |n| {
        n == "2"
    })
    .await;

    // --- A missing or broken model shows an error, not a blank canvas --------
    page.client
        .goto(&server.url("/scenes?model=/3d/missing.glb"))
        .await
        .expect("open");
    let err = page
        .wait_text("#viewer-error", Duration::from_secs(120), |t| !t.is_empty())
        .await;
    assert!(err.contains("missing.glb"), "{err}");
    assert_eq!(
        page.attr("#viewer", "data-status").await.as_deref(),
        Some("failed")
    );
    page.save("04-missing-model").await;

    std::fs::write(
        server.data_dir.path().join("3d").join("broken.glb"),
        b"glTF\x02\0\0\0not really a model",
    )
    .unwrap();
    page.client
        .goto(&server.url("/scenes?model=/3d/broken.glb"))
        .await
        .expect("open");
    let err = page
        .wait_text("#viewer-error", Duration::from_secs(120), |t| !t.is_empty())
        .await;
    assert!(err.contains("broken.glb"), "{err}");
    page.save("05-broken-model").await;

    browser.close().await;
}
