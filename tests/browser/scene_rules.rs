//! A scene's rules live in the browser (`/scenes/demo-building`): a twin
//! patched over REST recolours its mesh by the rule and shows its badge, a
//! click opens the element's popover with the new value, hiding a layer
//! removes its colouring, and a broken rule saved on the server shows its
//! error on that rule while the rest of the scene goes on.

use crate::page::{Page, Session};
use fantoccini::Locator;
use serde_json::json;
use std::time::{Duration, Instant};

/// Equipment on the roof: nothing hides it from the default view.
pub const AHU: &str = "Roof_AHU1";

pub fn set_status(s: &Session, status: &str) {
    let patch = json!([{"op": "replace", "path": "/status", "value": status}]);
    let r = s
        .server
        .api("PATCH", &format!("/digitaltwins/{AHU}"), Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Samples the canvas at (x, y) until `ok`, or fails after `secs`.
pub async fn wait_pixel(
    page: &Page<'_>,
    name: &str,
    x: f64,
    y: f64,
    secs: u64,
    ok: impl Fn([f64; 3]) -> bool,
) -> [f64; 3] {
    let start = Instant::now();
    loop {
        let c = page.screenshot(name).await.sample(x, y, 2);
        if ok(c) {
            return c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{name}: the pixel at ({x:.0}, {y:.0}) is {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub fn green(c: [f64; 3]) -> bool {
    c[1] > 1.2 * c[0] && c[1] > 1.1 * c[2]
}

/// The fault colour (#EB4033), told apart from the equipment's own orange
/// (r/g about 1.7).
pub fn red(c: [f64; 3]) -> bool {
    c[0] > 2.5 * c[1] && c[0] > 2.5 * c[2]
}

/// The equipment's own material (`twinscape_demo::base_color`: orange).
fn orange(c: [f64; 3]) -> bool {
    c[0] > 1.15 * c[1] && c[1] > 1.5 * c[2] && !red(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scene_rules_colour_badge_pop_over_and_follow_layers_live() {
    let s = Session::start("scene-rules").await;
    let page = s.page();
    set_status(&s, "running");
    s.goto("/scenes/demo-building").await;
    page.wait_attr("#viewer", "data-status", Duration::from_secs(180), |st| {
        st == "rendered" || st == "failed"
    })
    .await;
    assert_eq!(
        page.attr("#viewer", "data-status").await.as_deref(),
        Some("rendered"),
        "{:?}",
        page.text("#viewer-error").await
    );
    assert_eq!(
        page.attr("#viewer", "data-scene").await.as_deref(),
        Some("demo-building")
    );
    // Every element of the scene is listed.
    let listed = page
        .client
        .find_all(Locator::Css("#scene-elements [data-element]"))
        .await
        .unwrap();
    let config = twinscape_demo::scene::scenes_config();
    assert_eq!(
        listed.len(),
        config["configuration"]["scenes"][0]["elements"]
            .as_array()
            .unwrap()
            .len()
    );

    let bounds = twinscape_demo::elements()
        .into_iter()
        .find(|e| e.name == AHU)
        .unwrap()
        .bounds;
    let c = bounds.center();
    let (ox, oy) = page.canvas_origin().await;
    let (tx, ty) = page
        .project([f64::from(c[0]), f64::from(c[1]), f64::from(c[2])])
        .await;
    let (sx, sy) = (ox + tx, oy + ty);

    // --- running: the rule's green, no badge ----------------------------------
    wait_pixel(&page, "01-running", sx, sy, 30, green).await;
    let badge = format!(".badge-group[data-element='{AHU}'] .badge[data-icon='Warning']");
    assert!(page.client.find(Locator::Css(&badge)).await.is_err());
    let running = twinscape_demo::twins::twins()
        .iter()
        .filter(|t| t.id != AHU && t.doc["status"] == "running")
        .count()
        + 1;
    page.wait_attr(
        "#legend [data-behavior='equipment-status'] [data-range='running']",
        "data-count",
        Duration::from_secs(10),
        |n| n == running.to_string(),
    )
    .await;

    // --- a patch over REST: the fault colour and badge, live -------------------
    set_status(&s, "fault");
    wait_pixel(&page, "02-fault", sx, sy, 30, red).await;
    page.wait_attr(&badge, "data-icon", Duration::from_secs(10), |i| {
        i == "Warning"
    })
    .await;
    let label = page
        .text(&format!(".badge-group[data-element='{AHU}'] .badge-label"))
        .await
        .unwrap_or_default();
    assert!(label.ends_with("is in fault"), "{label}");

    // --- a click opens the popover with the new value --------------------------
    page.click_at(sx, sy).await;
    page.wait_attr("#popover", "data-element", Duration::from_secs(20), |e| {
        e == AHU
    })
    .await;
    page.wait_attr(
        "#popover [data-widget='value'][data-label='Status']",
        "data-value",
        Duration::from_secs(10),
        |v| v == "fault",
    )
    .await;
    let href = page
        .attr("#popover [data-widget='link'] a", "href")
        .await
        .unwrap_or_default();
    assert!(href.ends_with(&format!("/explorer?twin={AHU}")), "{href}");
    set_status(&s, "running");
    page.wait_attr(
        "#popover [data-widget='value'][data-label='Status']",
        "data-value",
        Duration::from_secs(10),
        |v| v == "running",
    )
    .await;
    page.save("03-popover").await;
    page.click_css("#popover-close").await;
    page.move_to(ox + 6.0, oy + 6.0).await;
    page.wait_attr("#viewer", "data-hovered", Duration::from_secs(10), |h| {
        h.is_empty()
    })
    .await;
    set_status(&s, "fault");
    wait_pixel(&page, "04-fault-again", sx, sy, 30, red).await;

    // --- hiding the equipment layer removes its colour and badge ---------------
    page.click_css("#layers input[data-layer='equipment']")
        .await;
    let plain = wait_pixel(&page, "05-layer-hidden", sx, sy, 30, orange).await;
    assert!(
        page.client.find(Locator::Css(&badge)).await.is_err(),
        "the badge stays"
    );
    assert!(
        page.client
            .find(Locator::Css("#legend [data-behavior='equipment-status']"))
            .await
            .is_err(),
        "the hidden layer's rule stays in the legend"
    );
    // Rooms keep their comfort colours: the other layer is still on.
    assert!(
        page.client
            .find(Locator::Css("#legend [data-behavior='room-temperature']"))
            .await
            .is_ok()
    );
    page.click_css("#layers input[data-layer='equipment']")
        .await;
    wait_pixel(&page, "06-layer-shown", sx, sy, 30, red).await;
    println!("equipment colour with its layer hidden: {plain:?}");

    // --- a broken rule saved on the server shows its error, live ---------------
    let mut config = twinscape_demo::scene::scenes_config();
    config["configuration"]["behaviors"][2]["visuals"][0]["valueExpression"] =
        json!("PrimaryTwin.status ===");
    let r = s
        .server
        .api("PUT", "/scenes/$configuration", Some(&config), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let error = page
        .wait_text(
            "#legend [data-behavior='equipment-status'] .rule-error",
            Duration::from_secs(20),
            |t| !t.is_empty(),
        )
        .await;
    assert!(error.contains("cannot be evaluated"), "{error}");
    // Its colour goes; the other rules go on.
    wait_pixel(&page, "07-broken-rule", sx, sy, 30, orange).await;
    assert!(
        page.client
            .find(Locator::Css(
                "#legend [data-behavior='room-temperature'] .rule-error"
            ))
            .await
            .is_err()
    );

    // --- deep links: the address bar follows; a link opens the scene as it was
    page.click_css("#layers input[data-layer='equipment']")
        .await;
    page.click_css("#scene-elements [data-element='Room101']")
        .await;
    page.wait_attr("#popover", "data-element", Duration::from_secs(10), |e| {
        e == "Room101"
    })
    .await;
    let url = page.client.current_url().await.unwrap().to_string();
    assert!(
        url.contains("layers=comfort") && url.contains("element=Room101"),
        "{url}"
    );
    s.goto("/scenes/demo-building?layers=comfort&element=Room102")
        .await;
    page.wait_attr("#popover", "data-element", Duration::from_secs(180), |e| {
        e == "Room102"
    })
    .await;
    page.wait_attr(
        "#popover [data-widget='gauge']",
        "data-value",
        Duration::from_secs(10),
        |v| !v.is_empty(),
    )
    .await;
    let equipment_on = page
        .client
        .find(Locator::Css("#layers input[data-layer='equipment']"))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(equipment_on.as_deref(), Some("false"));
    page.save("08-deep-link").await;
    s.close().await;
}
