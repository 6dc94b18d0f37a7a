//! The one HTTP/1.1 client of the tests and the benches, raw on purpose:
//! requests are written byte for byte (tests also send malformed ones) and
//! responses parsed by hand, so what the server sends is what is checked.
//! [`send_once`] is a blocking one-shot (`Connection: close`) for tests;
//! [`Conn`] a keep-alive async connection for load generators.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A request's bytes: head (with `Host` and, for a body, `Content-Length`)
/// and body.
pub fn request_bytes(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Writes `bytes` as they are on a new connection and parses whatever comes
/// back until the server closes it.
pub fn send_once(addr: SocketAddr, bytes: &[u8]) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect to server");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.write_all(bytes).expect("write request");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Response::parse(&out)
}

/// A parsed HTTP/1.1 response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn parse(raw: &[u8]) -> Response {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| {
                panic!(
                    "no header end in response: {:?}",
                    String::from_utf8_lossy(raw)
                )
            });
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// Asserts ADT's error shape and code, and returns the message.
    pub fn assert_adt_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("x-ms-error-code"), Some(code));
        let v = self.json();
        let obj = v.as_object().expect("error body is an object");
        assert_eq!(obj.len(), 1, "only `error` at the top: {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        let msg = v["error"]["message"].as_str().expect("message is a string");
        assert!(!msg.is_empty());
        msg.to_string()
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size_str = String::from_utf8_lossy(&body[..end]).to_string();
        let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        body = &body[end + 2..];
        if size == 0 || body.len() < size {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[(size + 2).min(body.len())..];
    }
    out
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    stream: BufReader<tokio::net::TcpStream>,
    host: String,
    /// `Bearer …` for every request's `Authorization`, when set.
    auth: Option<String>,
}

impl Conn {
    pub async fn open(addr: &str) -> std::io::Result<Conn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(s),
            host: addr.to_string(),
            auth: None,
        })
    }

    /// Sends `token` as a bearer token with every request.
    pub fn with_token(mut self, token: &str) -> Conn {
        self.auth = Some(format!("Bearer {token}"));
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
        let mut headers = vec![("Content-Type", content_type)];
        if let Some(auth) = &self.auth {
            headers.push(("Authorization", auth.as_str()));
        }
        // Head and body in one write.
        let req = request_bytes(method, path, &self.host, &headers, body);
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
