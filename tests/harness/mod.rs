//! Shared by the whole-system tests: start a real `twinscape serve` on a free
//! loopback port with a temporary data dir, talk raw HTTP to it, and drive
//! headless Chromium through chromedriver.
#![allow(dead_code)]

pub mod http;
pub use http::Response;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The repository root (this file is `tests/harness/mod.rs`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server sits two levels below the root")
        .to_path_buf()
}

/// Where tests leave screenshots and logs: `target/test-artifacts/<name>/`.
pub fn artifacts_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let dir = target.join("test-artifacts").join(name);
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// A running `twinscape serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// `http` or `https`, from the listening line.
    pub scheme: String,
    /// The whole `Twinscape listening on …` line.
    pub listening_line: String,
    pub data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server with a fresh data dir and, optionally, a web dir.
    /// Authentication is off (`--auth none`); see [`Server::start_with_auth`].
    pub fn start(web_dir: Option<&Path>) -> Server {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        Self::start_in(data_dir, web_dir)
    }

    /// Like [`Server::start`], on the given data dir.
    pub fn start_in(data_dir: tempfile::TempDir, web_dir: Option<&Path>) -> Server {
        let web = web_dir
            .map(Path::to_path_buf)
            // An empty dir: no app, whatever is built in the tree.
            .unwrap_or_else(|| data_dir.path().join("no-web-app"));
        let web = web.to_string_lossy().into_owned();
        Self::start_with_args(data_dir, &["--auth", "none", "--web-dir", &web])
    }

    /// Starts the server with authentication `mode` (`local`, `oidc`, `none`)
    /// and a fresh data dir; `twinscape token` mints tokens for `local`.
    pub fn start_with_auth(mode: &str) -> Server {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        Self::start_with_args(data_dir, &["--auth", mode])
    }

    /// Starts `twinscape serve --listen 127.0.0.1:0 --data-dir DIR ARGS…`
    /// (with no web app unless ARGS name one, and auth as ARGS say: the
    /// server's default is `--auth local`).
    pub fn start_with_args(data_dir: tempfile::TempDir, args: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_twinscape"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("RUST_LOG", "info")
            .env_remove("TWINSCAPE_AUTH")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !args.contains(&"--web-dir") {
            cmd.arg("--web-dir").arg(data_dir.path().join("no-web-app"));
        }
        cmd.args(args);
        let mut child = cmd.spawn().expect("spawn twinscape serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if line.starts_with("Twinscape listening on ") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("twinscape serve did not report its address within 30 s");
            }
        };
        let (scheme, addr) = parse_listening_line(&line)
            .unwrap_or_else(|| panic!("unexpected listening line {line:?}"));
        Server {
            child,
            addr,
            scheme,
            listening_line: line,
            data_dir,
        }
    }

    /// Runs `twinscape token --role ROLE --data-dir <this server's dir>` and
    /// returns the last line it printed.
    pub fn token(&self, role: &str) -> String {
        mint_token(self.data_dir.path(), role)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Sends one request with `Connection: close` and reads the whole answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut h = vec![("Connection", "close")];
        h.extend_from_slice(headers);
        let host = self.addr.to_string();
        self.raw(&http::request_bytes(method, path, &host, &h, body))
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    /// Writes `bytes` as they are and parses whatever comes back.
    pub fn raw(&self, bytes: &[u8]) -> Response {
        http::send_once(self.addr, bytes)
    }

    /// A data-plane request: adds `api-version`, sends `body` as JSON.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let sep = if path.contains('?') { '&' } else { '?' };
        let path = format!("{path}{sep}api-version=2023-10-31");
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if body.is_some() {
            h.push((
                "Content-Type",
                if method == "PATCH" {
                    "application/json-patch+json"
                } else {
                    "application/json"
                },
            ));
        }
        self.request(method, &path, &h, &bytes)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGKILL to the server without waiting (usable while shared).
    pub fn sigkill(&self) {
        let _ = Command::new("kill")
            .arg("-9")
            .arg(self.pid().to_string())
            .status();
    }

    /// Kills the server with SIGKILL and hands back its data dir.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("placeholder dir");
        std::mem::replace(&mut self.data_dir, dir)
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Twinscape listening on http(s)://ADDR/[ note]` → scheme and address.
pub fn parse_listening_line(line: &str) -> Option<(String, SocketAddr)> {
    let url = line
        .strip_prefix("Twinscape listening on ")?
        .split_whitespace()
        .next()?;
    let (scheme, rest) = url.split_once("://")?;
    let addr = rest.trim_end_matches('/').parse().ok()?;
    Some((scheme.to_string(), addr))
}

/// `twinscape token --role ROLE --data-dir DIR`: the token on its last line.
pub fn mint_token(data_dir: &Path, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["token", "--role", role, "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "error")
        .output()
        .expect("run twinscape token");
    assert!(
        out.status.success(),
        "twinscape token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("a token on the last line")
        .trim()
        .to_string()
}

/// A free loopback port (bound and released; fine for test helpers).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Polls `f` until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A chromedriver process and a headless Chromium session on it.
pub struct Browser {
    driver: Child,
    pub client: fantoccini::Client,
}

fn find_program(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    from_path.or_else(|| fallbacks.iter().map(PathBuf::from).find(|p| p.is_file()))
}

impl Browser {
    pub async fn start() -> Browser {
        let chromedriver = find_program("chromedriver", &["/usr/bin/chromedriver"]).expect(
            "chromedriver not found: install Debian's chromium-driver (scripts/setup does)",
        );
        let chromium = std::env::var("CHROME_BIN")
            .ok()
            .map(PathBuf::from)
            .or_else(|| find_program("chromium", &["/usr/bin/chromium"]))
            .expect("chromium not found: install Debian's chromium (scripts/setup does)");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let up = wait_for(Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(up.is_some(), "chromedriver did not start on port {port}");

        let profile = tempfile::tempdir().expect("chromium profile dir");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--enable-unsafe-swiftshader".into(),
            "--use-angle=swiftshader".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--hide-scrollbars".into(),
            "--force-device-scale-factor=1".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        // The profile dir must outlive the browser; leak it into the OS temp dir.
        let _ = profile.keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": chromium, "args": args }),
        );
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "browser": "ALL" }),
        );
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session with headless Chromium");
        Browser { driver, client }
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A decoded RGBA screenshot.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Screenshot {
    pub fn decode(png_bytes: &[u8]) -> Screenshot {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        let channels = info.color_type.samples();
        let mut rgba = Vec::with_capacity((info.width * info.height * 4) as usize);
        for px in buf[..info.buffer_size()].chunks(channels) {
            match channels {
                4 => rgba.extend_from_slice(px),
                3 => rgba.extend_from_slice(&[px[0], px[1], px[2], 255]),
                2 => rgba.extend_from_slice(&[px[0], px[0], px[0], px[1]]),
                _ => rgba.extend_from_slice(&[px[0], px[0], px[0], 255]),
            }
        }
        Screenshot {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    /// Average colour of the (2r+1)² pixels around (x, y).
    pub fn sample(&self, x: f64, y: f64, r: i64) -> [f64; 3] {
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        let mut sum = [0.0; 3];
        let mut n = 0.0;
        for dy in -r..=r {
            for dx in -r..=r {
                let (px, py) = (cx + dx, cy + dy);
                if px < 0 || py < 0 || px >= self.width as i64 || py >= self.height as i64 {
                    continue;
                }
                let i = ((py as u32 * self.width + px as u32) * 4) as usize;
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += f64::from(self.rgba[i + c]);
                }
                n += 1.0;
            }
        }
        assert!(
            n > 0.0,
            "sample ({x}, {y}) is outside the {}x{} screenshot",
            self.width,
            self.height
        );
        sum.map(|s| s / n)
    }
}

/// Euclidean distance between two RGB colours (0..255 per channel).
pub fn color_distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}
