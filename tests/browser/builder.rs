//! The scene builder driven as a user would, from a server with twins and
//! no scene: a scene made on an uploaded GLB, an element made by clicking
//! two meshes and bound to a twin found by search, a rule colouring it by a
//! property; after a reload the scene is there, and REST patches of the
//! twin recolour both meshes. Then a save that meets another tab's save
//! shows the conflict, and the user's choice resolves it.

use crate::page::{Page, Session};
use crate::scene_rules::{green, red, wait_pixel};
use serde_json::json;
use std::time::Duration;

const SCENE: &str = "roof-units";

fn patch_supply(s: &Session, twin: &str, value: f64) {
    let patch = json!([{"op": "add", "path": "/supplyAirTemperature", "value": value}]);
    let r = s
        .server
        .api("PATCH", &format!("/digitaltwins/{twin}"), Some(&patch), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Where an element of the demo model is drawn, in the page.
async fn screen_of(page: &Page<'_>, name: &str) -> (f64, f64) {
    let c = twinscape_demo::elements()
        .into_iter()
        .find(|e| e.name == name)
        .unwrap()
        .bounds
        .center();
    let (ox, oy) = page.canvas_origin().await;
    let (x, y) = page
        .project([f64::from(c[0]), f64::from(c[1]), f64::from(c[2])])
        .await;
    (ox + x, oy + y)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scene_built_by_clicking_colours_live_after_a_reload() {
    let s = Session::start("builder").await;
    let page = s.page();
    // Twins, no scene.
    let empty = json!({"$schema": twinscape_scene::config::SCHEMA_URL,
        "configuration": {"scenes": [], "behaviors": [], "layers": []}});
    let r = s
        .server
        .api("PUT", "/scenes/$configuration", Some(&empty), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    patch_supply(&s, "Roof_AHU1", 14.0);

    // --- a new scene on an uploaded GLB ---------------------------------------
    let glb = tempfile::Builder::new()
        .prefix("roof-")
        .suffix(".glb")
        .tempfile()
        .unwrap();
    std::fs::write(glb.path(), twinscape_demo::building_glb()).unwrap();
    let bad = tempfile::Builder::new()
        .prefix("broken-")
        .suffix(".glb")
        .tempfile()
        .unwrap();
    std::fs::write(bad.path(), b"not a model").unwrap();
    s.goto("/scenes").await;
    page.wait_attr("#new-scene-link", "href", Duration::from_secs(60), |_| true)
        .await;
    page.click_css("#new-scene-link").await;
    page.wait_attr("#create-scene", "id", Duration::from_secs(30), |_| true)
        .await;
    // A broken file is refused with the server's reason.
    page.type_into("#asset-file", &bad.path().to_string_lossy())
        .await;
    page.wait_attr(
        "#upload-state",
        "data-state",
        Duration::from_secs(30),
        |st| st == "failed",
    )
    .await;
    let why = page.text("#upload-error").await.unwrap_or_default();
    assert!(why.contains("AssetInvalid"), "{why}");
    page.type_into("#asset-file", &glb.path().to_string_lossy())
        .await;
    page.wait_attr(
        "#upload-state",
        "data-state",
        Duration::from_secs(60),
        |st| st == "done",
    )
    .await;
    let uploaded = glb
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // The uploaded file is chosen.
    page.wait_value("#scene-asset", Duration::from_secs(5), |v| v == uploaded)
        .await;
    page.type_into("#scene-name", "Roof units").await;
    page.wait_value("#scene-id", Duration::from_secs(5), |v| v == SCENE)
        .await;
    page.click_css("#create-scene").await;

    // --- the editor: two meshes clicked make an element -----------------------
    page.wait_attr("#builder", "data-scene", Duration::from_secs(60), |v| {
        v == SCENE
    })
    .await;
    page.wait_rendered().await;
    let (ax, ay) = screen_of(&page, "Roof_AHU1").await;
    let (bx, by) = screen_of(&page, "Roof_AHU2").await;
    page.click_at(ax, ay).await;
    page.wait_attr("#builder", "data-selection", Duration::from_secs(20), |v| {
        v == "Roof_AHU1"
    })
    .await;
    page.shift_click_at(bx, by).await;
    page.wait_attr("#builder", "data-selection", Duration::from_secs(20), |v| {
        v == "Roof_AHU1,Roof_AHU2"
    })
    .await;
    // The selection is highlighted (the selection colour, cyan), once the
    // pointer is off the mesh (the hover colour is over it).
    let (ox, oy) = page.canvas_origin().await;
    page.move_to(ox + 4.0, oy + 4.0).await;
    wait_pixel(&page, "01-selected", bx, by, 20, |c| {
        c[2] > 1.3 * c[0] && c[1] > 1.3 * c[0]
    })
    .await;
    page.client
        .find(fantoccini::Locator::Css("#element-name"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    page.type_into("#element-name", "Air handlers").await;
    page.type_into("#twin-search", "ahu1").await;
    page.click_css("#twin-search-results [data-twin='Roof_AHU1']")
        .await;
    page.click_css("#create-element").await;
    page.wait_attr(
        "#builder-element-list li",
        "data-element",
        Duration::from_secs(10),
        |v| v == "air-handlers",
    )
    .await;

    // --- a rule by property, previewed before it is added ---------------------
    page.click_css("[data-tab='behaviors']").await;
    page.type_into("#behavior-name", "Supply air").await;
    page.click_css(".behavior-element[data-element='air-handlers']")
        .await;
    page.wait_attr(
        "#behavior-property option[value='supplyAirTemperature']",
        "value",
        Duration::from_secs(10),
        |_| true,
    )
    .await;
    // A custom expression is checked as it is typed, the error placed.
    page.click_css("input[name='value-source'][value='expression']")
        .await;
    page.type_into("#behavior-expression", "PrimaryTwin.supplyAirTemperature >")
        .await;
    let err = page
        .wait_text("#expression-error", Duration::from_secs(10), |t| {
            !t.is_empty()
        })
        .await;
    assert!(err.contains("at character 35"), "{err}");
    page.click_css("input[name='value-source'][value='property']")
        .await;
    page.set_value("#behavior-property", "supplyAirTemperature")
        .await;
    page.type_into(".condition[data-index='0'] .cond-max", "20")
        .await;
    page.click_css("#add-condition").await;
    page.type_into(".condition[data-index='1'] .cond-min", "20")
        .await;
    page.set_value(".condition[data-index='1'] .cond-color", "#eb4033")
        .await;
    // The preview already colours both meshes (14 < 20: green), before
    // anything is added or saved.
    wait_pixel(&page, "02-preview-a", ax, ay, 20, green).await;
    wait_pixel(&page, "03-preview-b", bx, by, 20, green).await;
    page.click_css("#create-behavior").await;
    page.wait_attr(
        "#builder-behavior-list li",
        "data-behavior",
        Duration::from_secs(10),
        |v| v == "supply-air",
    )
    .await;
    // Undo takes it back, redo brings it again.
    page.click_css("#undo").await;
    page.wait_text(
        "#builder-behaviors h2 .count",
        Duration::from_secs(10),
        |t| t == "0",
    )
    .await;
    page.click_css("#redo").await;
    page.wait_attr(
        "#builder-behavior-list li",
        "data-behavior",
        Duration::from_secs(10),
        |v| v == "supply-air",
    )
    .await;
    page.click_css("#save-scene").await;
    page.wait_attr("#builder", "data-state", Duration::from_secs(20), |v| {
        v == "saved"
    })
    .await;

    // --- after a reload: the scene is there and follows the twin -------------
    let r = s.server.api("GET", &format!("/scenes/{SCENE}"), None, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let scene = r.json();
    assert_eq!(
        scene["elements"][0]["objectIDs"],
        json!(["Roof_AHU1", "Roof_AHU2"])
    );
    assert_eq!(scene["elements"][0]["primaryTwinID"], "Roof_AHU1");
    assert_eq!(scene["assets"][0]["url"], format!("/3d/{uploaded}"));
    s.goto(&format!("/scenes/{SCENE}")).await;
    page.wait_rendered().await;
    let (ax, ay) = screen_of(&page, "Roof_AHU1").await;
    let (bx, by) = screen_of(&page, "Roof_AHU2").await;
    wait_pixel(&page, "04-reloaded-green", ax, ay, 30, green).await;
    patch_supply(&s, "Roof_AHU1", 30.0);
    wait_pixel(&page, "05-hot-a", ax, ay, 30, red).await;
    wait_pixel(&page, "06-hot-b", bx, by, 30, red).await;
    patch_supply(&s, "Roof_AHU1", 12.0);
    wait_pixel(&page, "07-cool-b", bx, by, 30, green).await;

    // --- a conflict: another tab saved between load and save ------------------
    s.goto(&format!("/scenes/{SCENE}/edit")).await;
    page.wait_attr("#builder", "data-scene", Duration::from_secs(60), |v| {
        v == SCENE
    })
    .await;
    let rename = "#builder-element-list li[data-element='air-handlers'] .element-rename";
    page.wait_attr(rename, "class", Duration::from_secs(10), |_| true)
        .await;
    // The other tab: a REST save of the scene with a new name.
    let mut theirs = r.json();
    theirs["displayName"] = json!("Roof (their name)");
    let r = s
        .server
        .api("PUT", &format!("/scenes/{SCENE}"), Some(&theirs), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    page.set_value(rename, "AHUs").await;
    page.click_css("#save-scene").await;
    page.wait_attr("#builder", "data-state", Duration::from_secs(20), |v| {
        v == "conflict"
    })
    .await;
    let conflict = page.text("#conflict").await.unwrap_or_default();
    assert!(
        conflict.contains("element 'air-handlers': changed"),
        "{conflict}"
    );
    page.save("08-conflict").await;
    page.click_css("#conflict-overwrite").await;
    page.wait_attr("#builder", "data-state", Duration::from_secs(20), |v| {
        v == "saved"
    })
    .await;
    let r = s.server.api("GET", &format!("/scenes/{SCENE}"), None, &[]);
    assert_eq!(r.json()["elements"][0]["displayName"], "AHUs");
    s.close().await;
}
