//! A 3D model alone (`/scenes?model=`): the demo building renders, a click
//! picks a mesh (Bevy → Leptos), a swatch recolours it (Leptos → Bevy), a
//! missing or broken model shows an error instead of a blank canvas.

use crate::harness::color_distance;
use crate::page::Session;
use fantoccini::Locator;
use std::time::{Duration, Instant};

/// `twinscape_viewer::BACKGROUND_SRGB` in 0..255.
const BACKGROUND: [f64; 3] = [0.11 * 255.0, 0.13 * 255.0, 0.17 * 255.0];
/// A mesh of the demo building that nothing hides from the default view.
const TARGET: &str = "Roof_AHU1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_building_renders_picks_and_recolours() {
    let s = Session::start("scene").await;
    let page = s.page();

    // --- The model renders ---------------------------------------------------
    let t0 = Instant::now();
    s.goto("/scenes?model=/3d/demo-building.glb").await;
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
    // Off the mesh again, so that it is not drawn hovered.
    page.move_to(ox + 6.0, oy + 6.0).await;
    page.wait_attr("#viewer", "data-hovered", Duration::from_secs(10), |h| {
        h.is_empty()
    })
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

    // --- A missing or broken model shows an error, not a blank canvas --------
    s.goto("/scenes?model=/3d/missing.glb").await;
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
        s.server.data_dir.path().join("3d").join("broken.glb"),
        b"glTF\x02\0\0\0not really a model",
    )
    .unwrap();
    s.goto("/scenes?model=/3d/broken.glb").await;
    let err = page
        .wait_text("#viewer-error", Duration::from_secs(120), |t| !t.is_empty())
        .await;
    assert!(err.contains("broken.glb"), "{err}");
    page.save("05-broken-model").await;

    s.close().await;
}

/// One Bevy app per copy of the app (winit's one event loop): going back to
/// a scene inside the app (the top bar, then history's back button) reloads
/// the page instead of stopping the viewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_back_to_a_scene_inside_the_app_shows_it_again() {
    let s = Session::start("scene-back").await;
    let page = s.page();
    s.goto("/scenes/demo-building").await;
    page.wait_rendered().await;
    page.click_css(".nav a[href='/explorer']").await;
    page.wait_attr("#explorer", "class", Duration::from_secs(30), |_| true)
        .await;
    page.client
        .execute("history.back();", vec![])
        .await
        .expect("history.back");
    page.wait_rendered().await;
    assert_eq!(
        page.attr("#viewer", "data-scene").await.as_deref(),
        Some("demo-building")
    );
    page.save("back").await;
    s.close().await;
}
