//! A minimal keep-alive HTTP/1.1 client for the benches that drive a real
//! server (load, live): one request in one write, the response read whole.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
    /// `Authorization: Bearer …` on every request, when set.
    auth: String,
}

impl Conn {
    pub async fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(s),
            host: addr.to_string(),
            auth: String::new(),
        })
    }

    /// Sends `token` as a bearer token with every request.
    #[allow(dead_code)] // not every bench runs with auth on
    pub fn with_token(mut self, token: &str) -> Conn {
        self.auth = format!("Authorization: Bearer {token}\r\n");
        self
    }

    /// Sends a request; returns the status and the ETag header.
    pub async fn call(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Option<String>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.auth,
            body.len()
        );
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        self.stream.get_mut().write_all(&req).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (mut len, mut etag) = (0usize, None);
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            } else if lower.starts_with("etag:") {
                etag = Some(line[5..].trim().to_string());
            }
        }
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).await?;
        Ok((status, etag))
    }
}

/// Starts `bin serve` on a free loopback port with a data dir (and
/// `--auth none` when the build has auth); returns the child and its
/// address once it listens. Its later output is drained.
pub fn start_server(bin: &str, data: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("twinscape");
    let mut args = vec![
        "serve".to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    if String::from_utf8_lossy(&help.stdout).contains("--auth") {
        args.extend(["--auth".into(), "none".into()]);
    }
    let mut child = Command::new(bin)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the server exited");
        }
        if let Some(rest) = line.strip_prefix("Twinscape listening on http://") {
            break rest.split('/').next().unwrap_or_default().to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, addr)
}
