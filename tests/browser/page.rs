//! What every browser scenario shares: the built app, a seeded server, a
//! Chromium session, and helpers to wait for and sample the page.

use crate::harness::{self, Browser, Screenshot, Server};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use std::time::{Duration, Instant};

/// One Chromium at a time: the scenarios run one after the other, whatever
/// the test harness' threads (two software-rendered browsers on two cores
/// would time each other out).
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server with the demo building and the built app, a browser, and a page.
pub struct Session {
    pub server: Server,
    pub browser: Browser,
    pub artifacts: std::path::PathBuf,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Session {
    /// `name`: the folder of this scenario's screenshots.
    pub async fn start(name: &str) -> Session {
        Self::start_with(name, &[]).await
    }

    /// Like [`Session::start`], the server with these `serve` arguments too.
    pub async fn start_with(name: &str, args: &[&str]) -> Session {
        let turn = ONE_BROWSER.lock().await;
        let dist = dist_dir().to_string_lossy().into_owned();
        let mut all = vec!["--auth", "none", "--web-dir", &dist];
        all.extend_from_slice(args);
        let server = Server::start_with_args(tempfile::tempdir().expect("temp dir"), &all);
        seed_demo(&server);
        let browser = Browser::start().await;
        Session {
            server,
            browser,
            artifacts: harness::artifacts_dir(&format!("browser/{name}")),
            _turn: turn,
        }
    }

    pub fn page(&self) -> Page<'_> {
        Page {
            client: &self.browser.client,
            artifacts: self.artifacts.clone(),
        }
    }

    pub async fn goto(&self, path: &str) {
        self.browser
            .client
            .goto(&self.server.url(path))
            .await
            .expect("open the app");
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

pub fn dist_dir() -> std::path::PathBuf {
    let dist = harness::repo_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "dist/ is not built: run `trunk build --release` (scripts/test does it)"
    );
    dist
}

/// Loads the demo building's models, twins, relationships and 3D scene
/// over REST.
pub fn seed_demo(server: &Server) {
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
    let r = server.api(
        "PUT",
        "/scenes/$configuration",
        Some(&twinscape_demo::scene::scenes_config()),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

pub struct Page<'a> {
    pub client: &'a fantoccini::Client,
    pub artifacts: std::path::PathBuf,
}

impl Page<'_> {
    pub async fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.attr(attr).await.ok().flatten()
    }

    pub async fn text(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.text().await.ok()
    }

    pub async fn wait_attr(
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

    pub async fn wait_text(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
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

    pub async fn screenshot(&self, name: &str) -> Screenshot {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.artifacts.join(format!("{name}.png")), &png).expect("save screenshot");
        Screenshot::decode(&png)
    }

    pub async fn save(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.artifacts.join(format!("{name}.png")), png);
        }
        if let Ok(src) = self.client.source().await {
            let _ = std::fs::write(self.artifacts.join(format!("{name}.html")), src);
        }
    }

    /// The canvas' top-left corner in CSS px of the viewport.
    pub async fn canvas_origin(&self) -> (f64, f64) {
        let v = self
            .client
            .execute(
                "const r = document.querySelector('#viewer canvas').getBoundingClientRect();\
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
    pub async fn project(&self, p: [f64; 3]) -> (f64, f64) {
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

    pub async fn click_at(&self, x: f64, y: f64) {
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x: x.round(),
                y: y.round(),
            })
            // A frame or two for the pointer to be over the mesh before the
            // press, as a hand's would be (a software-rendered page may
            // draw only a few frames a second).
            .then(PointerAction::Pause {
                duration: Duration::from_millis(250),
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

    /// A click with Shift held (adding to a selection).
    pub async fn shift_click_at(&self, x: f64, y: f64) {
        use fantoccini::actions::{Actions, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let shift = char::from(Key::Shift);
        let pause = || KeyAction::Pause {
            duration: Duration::ZERO,
        };
        let keys = KeyActions::new("keys".into())
            .then(KeyAction::Down { value: shift })
            .then(pause())
            .then(pause())
            .then(pause())
            .then(pause())
            .then(pause())
            .then(KeyAction::Up { value: shift });
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::Pause {
                duration: Duration::from_millis(50),
            })
            .then(PointerAction::MoveTo {
                duration: None,
                x: x.round(),
                y: y.round(),
            })
            .then(PointerAction::Pause {
                duration: Duration::from_millis(250),
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause {
                duration: Duration::from_millis(80),
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause {
                duration: Duration::from_millis(100),
            });
        self.client
            .perform_actions(Actions::from(keys).and(mouse))
            .await
            .expect("shift-click");
    }

    /// Waits until the form control `css` holds a value `ok` accepts (its
    /// live `value`, not the attribute).
    pub async fn wait_value(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let v = self
                .client
                .execute(
                    "const el = document.querySelector(arguments[0]); return el ? el.value : null;",
                    vec![serde_json::json!(css)],
                )
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            if let Some(v) = v.as_deref().filter(|v| ok(v)) {
                return v.to_string();
            }
            if start.elapsed() > timeout {
                self.save("timeout").await;
                panic!("timed out waiting for the value of {css}; it is {v:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the input `css` selects.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Sets a form control's value as a user's edit would (an `input` and a
    /// `change` event), for controls WebDriver cannot type into (colour
    /// pickers, selects).
    pub async fn set_value(&self, css: &str, value: &str) {
        let found = self
            .client
            .execute(
                "const el = document.querySelector(arguments[0]); if (!el) return false;\
                 el.value = arguments[1];\
                 el.dispatchEvent(new Event('input', {bubbles: true}));\
                 el.dispatchEvent(new Event('change', {bubbles: true})); return true;",
                vec![serde_json::json!(css), serde_json::json!(value)],
            )
            .await
            .expect("set a value");
        assert_eq!(found, serde_json::json!(true), "no {css} on the page");
    }

    /// Clicks the element `css` selects (it must exist).
    pub async fn click_css(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Moves the pointer (no button), e.g. off a mesh so that it is not
    /// drawn highlighted.
    pub async fn move_to(&self, x: f64, y: f64) {
        let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
            duration: None,
            x: x.round(),
            y: y.round(),
        });
        self.client
            .perform_actions(mouse)
            .await
            .expect("mouse move");
    }

    /// Waits for the 3D view to draw its model, and fails with the page's
    /// error if it could not.
    pub async fn wait_rendered(&self) {
        self.wait_attr("#viewer", "data-status", Duration::from_secs(180), |st| {
            st == "rendered" || st == "failed"
        })
        .await;
        assert_eq!(
            self.attr("#viewer", "data-status").await.as_deref(),
            Some("rendered"),
            "{:?}",
            self.text("#viewer-error").await
        );
    }

    /// Waits for the live replica in the page to be in step with the server.
    pub async fn wait_live(&self) {
        self.wait_attr(
            "#live-status",
            "data-status",
            Duration::from_secs(60),
            |s| s == "live",
        )
        .await;
    }
}

/// A plain static web server for `dir` on another port (another origin
/// than the Twinscape server's): Python's `http.server`, stopped on drop.
pub struct StaticSite {
    child: std::process::Child,
    pub origin: String,
}

impl StaticSite {
    pub fn start(dir: &std::path::Path) -> StaticSite {
        let port = harness::free_port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        harness::wait_for(Duration::from_secs(20), || {
            std::net::TcpStream::connect(addr).ok()
        })
        .expect("the static site did not start");
        StaticSite {
            child,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
