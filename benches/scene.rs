//! The 3D viewer on a big model (issue 12), against Babylon.js (the engine
//! under 3D Scenes Studio) in the same headless Chromium run.
//!
//! A generated building of N separately named box meshes (default 10,000;
//! the generator of `../shared/scene-bench/make_glb.py`, ported) is bound to
//! N twins by a Scenes Studio configuration (one categorical rule, three
//! colours). A real `twinscape serve` (release, auth on, durable store)
//! serves it; Chromium (SwiftShader WebGL2, 1280×800) opens
//! `/scenes/bench`. Measured: time from navigation to the first frame with
//! the model, then the frame interval (requestAnimationFrame) for SECS
//! seconds idle and SECS seconds while RATE twins/s are patched over REST
//! (each patch reaches the page over the live feed, is evaluated on the
//! replica and recolours its mesh). Then Babylon.js loads the same GLB in
//! the same browser and recolours RATE meshes/s by swapping cached
//! materials (`benches/scene-bench/babylon.html`, from the baseline
//! harness).
//!
//! Run: `cargo bench -p twinscape --bench scene` (needs `dist/` built and
//! Debian's chromium + chromium-driver; Babylon.js is installed with npm
//! into the target dir on first use (babylonjs 9.34.0, the baseline's, with
//! babylonjs-loaders 9.28.0, the newest published), or taken from
//! `TWINSCAPE_BABYLON_DIR` (a `node_modules` folder)).
//! `TWINSCAPE_SCENE_MESHES` (10000), `TWINSCAPE_SCENE_RATE` (1000/s),
//! `TWINSCAPE_SCENE_SECS` (20).

#[path = "../tests/harness/mod.rs"]
mod harness;

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `make_glb.py N`: N unit boxes, one node and one mesh each, named
/// `el-00000`…, on floors of a square grid; one shared material.
fn building_glb(n: usize) -> Vec<u8> {
    let faces: [([f32; 3], [[f32; 3]; 4]); 6] = [
        (
            [1., 0., 0.],
            [[1., -1., -1.], [1., 1., -1.], [1., 1., 1.], [1., -1., 1.]],
        ),
        (
            [-1., 0., 0.],
            [
                [-1., -1., 1.],
                [-1., 1., 1.],
                [-1., 1., -1.],
                [-1., -1., -1.],
            ],
        ),
        (
            [0., 1., 0.],
            [[-1., 1., -1.], [-1., 1., 1.], [1., 1., 1.], [1., 1., -1.]],
        ),
        (
            [0., -1., 0.],
            [
                [-1., -1., 1.],
                [-1., -1., -1.],
                [1., -1., -1.],
                [1., -1., 1.],
            ],
        ),
        (
            [0., 0., 1.],
            [[1., -1., 1.], [1., 1., 1.], [-1., 1., 1.], [-1., -1., 1.]],
        ),
        (
            [0., 0., -1.],
            [
                [-1., -1., -1.],
                [-1., 1., -1.],
                [1., 1., -1.],
                [1., -1., -1.],
            ],
        ),
    ];
    let (mut pos, mut nor, mut idx) = (Vec::new(), Vec::new(), Vec::<u16>::new());
    for (f, (normal, vs)) in faces.iter().enumerate() {
        for v in vs {
            pos.extend(v.iter().map(|c| c * 0.45));
            nor.extend_from_slice(normal);
        }
        let b = (f * 4) as u16;
        idx.extend([b, b + 1, b + 2, b, b + 2, b + 3]);
    }
    let mut buf: Vec<u8> = Vec::new();
    let (pl, nl, il) = (pos.len() * 4, nor.len() * 4, idx.len() * 2);
    pos.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    nor.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    idx.iter().for_each(|x| buf.extend(x.to_le_bytes()));
    let side = ((n as f64 / 10.0).sqrt()).ceil() as usize;
    let nodes: Vec<Json> = (0..n)
        .map(|i| {
            let (floor, k) = (i / (side * side), i % (side * side));
            let (x, z) = (k / side, k % side);
            json!({"name": format!("el-{i:05}"), "mesh": i, "translation": [
                x as f64 - side as f64 / 2.0, floor as f64 * 1.2, z as f64 - side as f64 / 2.0]})
        })
        .collect();
    let meshes: Vec<Json> = (0..n)
        .map(|i| json!({"name": format!("el-{i:05}"), "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0}]}))
        .collect();
    let gltf = json!({
        "asset": {"version": "2.0", "generator": "scene-bench"}, "scene": 0,
        "scenes": [{"nodes": (0..n).collect::<Vec<_>>()}], "nodes": nodes, "meshes": meshes,
        "materials": [{"name": "default", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.8, 0.8, 1], "metallicFactor": 0, "roughnessFactor": 1}}],
        "buffers": [{"byteLength": buf.len()}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": pl, "target": 34962},
            {"buffer": 0, "byteOffset": pl, "byteLength": nl, "target": 34962},
            {"buffer": 0, "byteOffset": pl + nl, "byteLength": il, "target": 34963}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 24, "type": "VEC3", "min": [-0.45, -0.45, -0.45], "max": [0.45, 0.45, 0.45]},
            {"bufferView": 1, "componentType": 5126, "count": 24, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5123, "count": 36, "type": "SCALAR"}]
    });
    let mut js = serde_json::to_vec(&gltf).expect("json");
    while !js.len().is_multiple_of(4) {
        js.push(b' ');
    }
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
    let total = 12 + 8 + js.len() + 8 + buf.len();
    let mut out = Vec::with_capacity(total);
    for w in [
        0x4654_6C67u32,
        2,
        total as u32,
        js.len() as u32,
        0x4E4F_534A,
    ] {
        out.extend(w.to_le_bytes());
    }
    out.extend(&js);
    out.extend((buf.len() as u32).to_le_bytes());
    out.extend(0x004E_4942u32.to_le_bytes());
    out.extend(&buf);
    out
}

/// The scene: element `el-i` ↔ twin `t-i`, one rule on `PrimaryTwin.state`.
fn scenes_config(n: usize) -> Json {
    let elements: Vec<Json> = (0..n)
        .map(|i| json!({"type": "TwinToObjectMapping", "id": format!("el-{i:05}"), "displayName": format!("el-{i:05}"),
            "primaryTwinID": format!("t-{i}"), "objectIDs": [format!("el-{i:05}")]}))
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("el-{i:05}")).collect();
    let range =
        |v: i64, c: &str| json!({"id": format!("s{v}"), "values": [v], "visual": {"color": c}});
    json!({
        "$schema": twinscape_scene::config::SCHEMA_URL,
        "configuration": {
            "scenes": [{"id": "bench", "displayName": "Bench", "assets": [{"type": "3DAsset", "url": "/3d/bench.glb"}],
                "elements": elements, "behaviorIDs": ["state"]}],
            "behaviors": [{"id": "state", "displayName": "State",
                "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ids}],
                "visuals": [{"type": "ExpressionRangeVisual", "valueExpression": "PrimaryTwin.state",
                    "expressionType": "CategoricalValues", "objectIDs": {"expression": "meshIDs"},
                    "valueRanges": [range(0, "#dd3333"), range(1, "#33aa33"), range(2, "#ffcc22")]}]}],
            "layers": []
        }
    })
}

fn check(r: &harness::Response, what: &str) {
    assert!(
        (200..300).contains(&r.status),
        "{what}: {} {}",
        r.status,
        r.text()
    );
}

/// Median and 95th percentile of frame intervals (ms).
fn stats(mut v: Vec<f64>) -> (usize, f64, f64) {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return (0, f64::NAN, f64::NAN);
    }
    let n = v.len();
    (n, v[n / 2], v[(n * 95 / 100).min(n - 1)])
}

const RECORDER: &str = "window.__frames = []; window.__phase = arguments[0]; \
    let last = performance.now(); \
    const f = t => { window.__frames.push(t - last); last = t; if (window.__phase) requestAnimationFrame(f); }; \
    requestAnimationFrame(f); return true;";

/// Frame intervals in the page for `secs` seconds (`work` runs meanwhile).
async fn record<F: std::future::Future<Output = ()>>(
    client: &fantoccini::Client,
    secs: u64,
    work: F,
) -> Vec<f64> {
    client
        .execute(RECORDER, vec![json!("on")])
        .await
        .expect("recorder");
    let wait = tokio::time::sleep(Duration::from_secs(secs));
    tokio::join!(wait, work);
    let v = client
        .execute("window.__phase = null; return window.__frames;", vec![])
        .await
        .expect("frames");
    v.as_array()
        .map(|a| a.iter().filter_map(Json::as_f64).collect())
        .unwrap_or_default()
}

/// Babylon.js' two files: `TWINSCAPE_BABYLON_DIR`, else npm into the target dir.
fn babylon_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TWINSCAPE_BABYLON_DIR") {
        return Some(PathBuf::from(d));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness::repo_root().join("target"));
    let dir = target.join("scene-bench");
    let ready = |d: &Path| d.join("node_modules/babylonjs/babylon.js").is_file();
    if !ready(&dir) {
        std::fs::create_dir_all(&dir).ok()?;
        let ok = std::process::Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--silent",
                "babylonjs@9.34.0",
                "babylonjs-loaders@9.34.0",
            ])
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !ready(&dir) {
            return None;
        }
    }
    Some(dir.join("node_modules"))
}

/// Serves `dir` on loopback; returns its address.
async fn static_server(dir: PathBuf) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_or("TWINSCAPE_SCENE_MESHES", 10_000) as usize;
    let rate = env_or("TWINSCAPE_SCENE_RATE", 1000);
    let secs = env_or("TWINSCAPE_SCENE_SECS", 20);
    let dist = harness::repo_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "build the app first (scripts/build-web)"
    );
    let glb = building_glb(n);
    println!(
        "scene bench: {n} meshes ({} bytes GLB), {rate} changes/s, {secs} s per phase",
        glb.len()
    );

    // --- Twinscape --------------------------------------------------------------
    let data = tempfile::tempdir().expect("data dir");
    let dist_arg = dist.to_string_lossy().into_owned();
    let server = harness::Server::start_with_args(data, &["--web-dir", &dist_arg]);
    let token = server.token("owner");
    let auth = format!("Bearer {token}");
    let json_h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let model = json!([{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:bench:Element;1", "@type": "Interface",
        "contents": [{"@type": "Property", "name": "state", "schema": "integer"}]}]);
    let body = |v: &Json| serde_json::to_vec(v).expect("json");
    check(
        &server.request(
            "POST",
            "/models?api-version=2023-10-31",
            &json_h,
            &body(&model),
        ),
        "model",
    );
    let t = Instant::now();
    {
        let mut conn = harness::http::Conn::open(&server.addr.to_string())
            .await
            .expect("connect")
            .with_token(&token);
        for i in 0..n {
            let doc =
                json!({"$metadata": {"$model": "dtmi:bench:Element;1"}, "state": (i % 3) as i64});
            let (status, _) = conn
                .call(
                    "PUT",
                    &format!("/digitaltwins/t-{i}?api-version=2023-10-31"),
                    "application/json",
                    &body(&doc),
                )
                .await
                .expect("put twin");
            assert_eq!(status, 200);
        }
    }
    println!("  {n} twins created in {:.1} s", t.elapsed().as_secs_f64());
    check(
        &server.request(
            "PUT",
            "/3d/bench.glb",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "model/gltf-binary"),
            ],
            &glb,
        ),
        "upload",
    );
    check(
        &server.request(
            "PUT",
            "/scenes/$configuration?api-version=2023-10-31",
            &json_h,
            &body(&scenes_config(n)),
        ),
        "scene",
    );

    let browser = harness::Browser::start().await;
    let client = &browser.client;
    let t0 = Instant::now();
    // `TWINSCAPE_SCENE_PAGE=model`: the model alone (no scene rules), to
    // tell the viewer's own cost from the scene's.
    let page = match std::env::var("TWINSCAPE_SCENE_PAGE").as_deref() {
        Ok("model") => format!("/scenes?model=/3d/bench.glb&token={token}"),
        _ => format!("/scenes/bench?token={token}"),
    };
    client.goto(&server.url(&page)).await.expect("open");
    let first_frame_ms = loop {
        let v = client
            .execute("const v = document.querySelector('#viewer'); return v ? [v.dataset.status, v.dataset.firstFrameMs, v.dataset.statesVersion] : null;", vec![])
            .await
            .expect("poll");
        if v[0] == "failed" {
            panic!("the viewer failed: {v}");
        }
        if let Some(ms) = v[1].as_str().and_then(|s| s.parse::<f64>().ok())
            && v[2].as_str().is_some_and(|s| s != "0")
        {
            break ms;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "no first frame in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let shared = client
        .execute(
            "return document.querySelector('#viewer').dataset.sharedMeshes;",
            vec![],
        )
        .await
        .unwrap_or_default();
    println!(
        "  twinscape: first frame {first_frame_ms:.0} ms after navigation ({shared} meshes share another's geometry)"
    );
    let idle = record(client, secs, async {}).await;
    let addr = server.addr.to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = {
        let stop = stop.clone();
        let (addr, token) = (addr.clone(), token.clone());
        async move {
            let tasks: Vec<_> = (0..4u64)
                .map(|w| {
                    let (addr, token, stop) = (addr.clone(), token.clone(), stop.clone());
                    tokio::spawn(async move {
                        let mut conn = harness::http::Conn::open(&addr)
                            .await
                            .expect("connect")
                            .with_token(&token);
                        let period = Duration::from_micros(4_000_000 / rate.max(1));
                        let mut next = Instant::now();
                        let mut k = w;
                        let mut sent = 0u64;
                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            let now = Instant::now();
                            if next > now {
                                tokio::time::sleep(next - now).await;
                            }
                            next += period;
                            let i = (k * 7919) % n as u64;
                            let patch = format!(
                                r#"[{{"op":"replace","path":"/state","value":{}}}]"#,
                                (k / 3) % 3
                            );
                            let (status, _) = conn
                                .call(
                                    "PATCH",
                                    &format!("/digitaltwins/t-{i}?api-version=2023-10-31"),
                                    "application/json-patch+json",
                                    patch.as_bytes(),
                                )
                                .await
                                .expect("patch");
                            assert_eq!(status, 204);
                            k += 4;
                            sent += 1;
                        }
                        sent
                    })
                })
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap_or(0);
            }
            total
        }
    };
    let writing = Instant::now();
    let writers = tokio::spawn(writers);
    let update = record(client, secs, async {}).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = writers.await.unwrap_or(0);
    let write_secs = writing.elapsed().as_secs_f64();
    let shot = client.screenshot().await.unwrap_or_default();
    let artifacts = harness::artifacts_dir("scene-bench");
    let _ = std::fs::write(artifacts.join("twinscape.png"), shot);
    let (ti, tu) = (stats(idle), stats(update));
    println!(
        "  twinscape: idle frame median {:.1} ms / p95 {:.1} ms ({} frames); while {:.0} patches/s: median {:.1} ms / p95 {:.1} ms ({} frames)",
        ti.1,
        ti.2,
        ti.0,
        sent as f64 / write_secs,
        tu.1,
        tu.2,
        tu.0
    );

    // --- Babylon.js, same GLB, same browser -------------------------------------
    let Some(babylon) = babylon_dir() else {
        println!(
            "  babylon: not measured (npm could not install babylonjs; set TWINSCAPE_BABYLON_DIR)"
        );
        browser.close().await;
        return;
    };
    let site = tempfile::tempdir().expect("site");
    std::fs::write(site.path().join("building.glb"), &glb).expect("glb");
    std::fs::write(
        site.path().join("babylon.html"),
        include_str!("scene-bench/babylon.html"),
    )
    .expect("page");
    for (from, to) in [
        ("babylonjs/babylon.js", "babylon.js"),
        (
            "babylonjs-loaders/babylonjs.loaders.min.js",
            "babylonjs.loaders.min.js",
        ),
    ] {
        if let Err(e) = std::fs::copy(babylon.join(from), site.path().join(to)) {
            println!(
                "  babylon: not measured ({}: {e})",
                babylon.join(from).display()
            );
            browser.close().await;
            return;
        }
    }
    let addr = static_server(site.path().to_path_buf()).await;
    client
        .goto(&format!(
            "http://{addr}/babylon.html?glb=building.glb&rate={rate}&secs={secs}"
        ))
        .await
        .expect("open babylon");
    let t0 = Instant::now();
    let result = loop {
        let v = client
            .execute("return window.__result || null;", vec![])
            .await
            .expect("poll");
        if !v.is_null() {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs * 2 + 600),
            "babylon did not finish"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let shot = client.screenshot().await.unwrap_or_default();
    let _ = std::fs::write(artifacts.join("babylon.png"), shot);
    browser.close().await;
    println!("  babylon: {result}");
    let b_first = result["firstFrameMs"].as_f64().unwrap_or(f64::NAN);
    let b_idle = result["idle"]["median"].as_f64().unwrap_or(f64::NAN);
    let b_update = result["update"]["median"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  ratio twinscape/babylon: first frame {:.2}, idle frame {:.2}, frame while recolouring {:.2} (goal ≤ 0.2; first frame ≤ 1 s)",
        first_frame_ms / b_first,
        ti.1 / b_idle,
        tu.1 / b_update
    );
}
