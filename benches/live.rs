//! Live-feed benchmark (issue 7): a real `twinscape serve` (this build,
//! release) on loopback, N WebSocket clients on `/live`, a writer PATCHing
//! twins; per delta, the time from the writer's 204 to each client's receipt,
//! and the total deltas delivered per second across clients (the fan-out).
//! Baseline in the same run: Debian's `mosquitto` fanning out messages of the
//! same shape and size to N subscribers, measured the same way (a rumqttc
//! publisher; minimal hand-written subscribers, as cheap as the WebSocket
//! clients, see `mqtt_subscriber`).
//!
//! Run: `cargo bench -p twinscape --bench live`
//! (`TWINSCAPE_LIVE_CLIENTS` comma list, default `1,100,1000`;
//! `TWINSCAPE_LIVE_SECS` seconds per phase, default 5; `TWINSCAPE_LIVE_RATE`
//! patches/s of the steady phase, default 100; `TWINSCAPE_LIVE_WRITERS`
//! concurrent writers of the flat-out phase, default 4;
//! `TWINSCAPE_LIVE_BIN` another `twinscape` binary to measure, e.g. a build
//! of an earlier commit; `TWINSCAPE_LIVE_MQTT_SUB=rumqttc` subscribes with
//! rumqttc instead of the minimal subscriber).
//!
//! Phases, per N:
//! - Twinscape steady: PATCHes at the steady rate (open loop, 4 connections).
//! - Twinscape flat out: the writers PATCH as fast as their 204s come back.
//! - mosquitto steady QoS 0: the same rate; "ack" = the publish was written
//!   to the socket (rumqttc's `Outgoing::Publish`, after its flush).
//! - mosquitto steady QoS 1 (publish and subscribe at QoS 1): "ack" = PUBACK.
//! - mosquitto flat out: QoS 1 publishes with as many in flight as there are
//!   Twinscape writers (each waits for its PUBACK as a writer waits for its
//!   204), subscribers at QoS 0.
//!
//! The load generator (writer, clients, subscribers) runs in this process on
//! the same cores as the server and the broker.

#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)] // shared with the tests
#[path = "../tests/harness/http.rs"]
mod http;
#[allow(dead_code)] // shared with the other benches
#[path = "common/server.rs"]
mod server;

use common::{Stats, fmt};
use futures::{SinkExt, StreamExt};
use http::Conn;
use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Outgoing, Packet, QoS};
use std::collections::{HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const MODEL: &str = "dtmi:twinscape:live:Room;1";
const API: &str = "api-version=2023-10-31";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The sequence number of a delta, read without parsing the JSON: serde
/// writes the tag first, so a delta starts `{"type":"delta","seq":N,`.
/// (The mosquitto payloads use the same shape.)
fn delta_seq(text: &[u8]) -> Option<u64> {
    let rest = text.strip_prefix(br#"{"type":"delta","seq":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at state.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Processes under test

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_twinscape(data: &std::path::Path) -> (Child, String) {
    // Another build (say, of an earlier commit) to compare with.
    let bin = std::env::var("TWINSCAPE_LIVE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_twinscape").to_string());
    server::start_server(&bin, data)
}

fn mosquitto_program() -> Option<std::path::PathBuf> {
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("mosquitto"))
            .find(|p| p.is_file())
    });
    in_path.or_else(|| {
        ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join("mosquitto"))
            .find(|p| p.is_file())
    })
}

/// Debian's mosquitto on a free loopback port: anonymous, no persistence.
fn start_mosquitto(dir: &std::path::Path) -> Option<(Child, u16)> {
    let program = mosquitto_program()?;
    let port = free_port();
    let config = dir.join("mosquitto.conf");
    std::fs::write(
        &config,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n\
             set_tcp_nodelay true\n"
        ),
    )
    .ok()?;
    let child = Command::new(program)
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, port));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

// ---------------------------------------------------------------------------
// HTTP writer (`Conn`: tests/harness/http.rs)

fn patch_body(n: u64) -> Vec<u8> {
    format!(
        "[{{\"op\":\"replace\",\"path\":\"/temperature\",\"value\":{}.{}}}]",
        15 + n % 20,
        n % 10
    )
    .into_bytes()
}

/// Acknowledged writes: the ETag (or message id) and the instant of the ack.
type Acks = Arc<Mutex<Vec<(String, Instant)>>>;

/// PATCHes twin `k % twins` and records the ack (its ETag and when the 204
/// came); false when the request failed.
async fn patch_once(conn: &mut Conn, k: u64, twins: usize, acks: &Acks) -> bool {
    let path = format!("/digitaltwins/t{}?{API}", k as usize % twins);
    match conn
        .call(
            "PATCH",
            &path,
            "application/json-patch+json",
            &patch_body(k),
        )
        .await
    {
        Ok((204, Some(etag))) => {
            acks.lock().expect("acks").push((etag, Instant::now()));
            true
        }
        _ => false,
    }
}

/// Steady phase: `rate` PATCHes per second for `secs`, spread over `conns`
/// connections (each sends on its own schedule, catching up if late).
async fn twinscape_steady(addr: &str, twins: usize, rate: usize, secs: u64, acks: Acks) -> u64 {
    let conns = 4usize;
    let start = Instant::now() + Duration::from_millis(50);
    let total = rate as u64 * secs;
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, acks) = (addr.to_string(), acks.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await.expect("connect");
            let mut errors = 0u64;
            let mut k = c as u64;
            while k < total {
                let at = start + Duration::from_secs_f64(k as f64 / rate as f64);
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                if !patch_once(&mut conn, k, twins, &acks).await {
                    errors += 1;
                }
                k += conns as u64;
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap_or(1);
    }
    errors
}

/// Flat-out phase: `writers` connections, each PATCHing as soon as its
/// previous 204 came back, for `secs`.
async fn twinscape_flat_out(
    addr: &str,
    twins: usize,
    writers: usize,
    secs: u64,
    acks: Acks,
) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..writers {
        let (addr, acks, stop) = (addr.to_string(), acks.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await.expect("connect");
            let mut errors = 0u64;
            let mut k = c as u64;
            while !stop.load(Ordering::Relaxed) {
                if !patch_once(&mut conn, k, twins, &acks).await {
                    errors += 1;
                }
                k += writers as u64;
            }
            errors
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap_or(1);
    }
    errors
}

// ---------------------------------------------------------------------------
// Receivers (WebSocket clients and MQTT subscribers)

#[derive(Default)]
struct Receipts {
    /// (sequence number or message id, instant received)
    got: Vec<(u64, Instant)>,
    resets: u64,
    /// Sequence numbers skipped (a delta never received).
    gaps: u64,
}

#[derive(Default)]
struct Receiver {
    rec: Mutex<Receipts>,
    /// The last sequence number received (for draining).
    last: AtomicU64,
}

impl Receiver {
    fn take(&self) -> Receipts {
        std::mem::take(&mut *self.rec.lock().expect("receipts"))
    }
}

/// seq → ETag of the twin the delta carries, kept by one observer client.
type EtagsBySeq = Arc<Mutex<HashMap<u64, String>>>;

/// A WebSocket client of `/live`: hello, snapshot, then records every delta.
/// Signals `ready` once the snapshot has been read.
async fn ws_client(
    addr: String,
    me: Arc<Receiver>,
    observer: Option<EtagsBySeq>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    // tungstenite zero-fills its whole read buffer on every read attempt:
    // 4 KiB (not the default 128 KiB) still takes ~10 deltas per read.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let url = format!("ws://{addr}/live");
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .expect("connect /live");
    ws.send(Message::Text(r#"{"type":"hello"}"#.into()))
        .await
        .expect("hello");
    let mut ready = Some(ready);
    let mut last = 0u64;
    let mut in_snapshot = true;
    while let Some(Ok(msg)) = ws.next().await {
        let now = Instant::now();
        let Message::Text(text) = msg else { continue };
        if let Some(seq) = delta_seq(text.as_bytes()) {
            if in_snapshot || seq <= last {
                continue; // decommission markers inside a snapshot
            }
            let mut rec = me.rec.lock().expect("receipts");
            rec.gaps += seq - last - 1;
            rec.got.push((seq, now));
            drop(rec);
            last = seq;
            me.last.store(seq, Ordering::Release);
            if let Some(obs) = &observer {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if let Some(etag) = v["ops"][0]["twin"]["$etag"].as_str() {
                    obs.lock().expect("etags").insert(seq, etag.to_string());
                }
            }
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match v["type"].as_str() {
            Some("reset") => {
                me.rec.lock().expect("receipts").resets += 1;
                in_snapshot = true;
            }
            Some("snapshotEnd") => {
                let seq = v["seq"].as_u64().unwrap_or(0);
                // Deltas between our last one and the snapshot were missed
                // (only after a reset; the first snapshot starts the count).
                if last > 0 && seq > last {
                    me.rec.lock().expect("receipts").gaps += seq - last;
                }
                last = seq;
                me.last.store(seq, Ordering::Release);
                in_snapshot = false;
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            _ => {}
        }
    }
}

const TOPIC_Q0: &str = "twinscape/bench/q0";
const TOPIC_Q1: &str = "twinscape/bench/q1";

/// An MQTT client with TCP_NODELAY, like the broker and Twinscape's clients
/// (without it, Nagle + delayed ACKs hold small messages up to 40 ms).
fn mqtt_client(o: MqttOptions, cap: usize) -> (AsyncClient, rumqttc::EventLoop) {
    let (client, mut el) = AsyncClient::new(o, cap);
    let mut net = NetworkOptions::new();
    net.set_tcp_nodelay(true);
    el.set_network_options(net);
    (client, el)
}

fn mqtt_options(id: String, port: u16) -> MqttOptions {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(60));
    o.set_max_packet_size(1 << 20, 1 << 20);
    o
}

/// An MQTT subscriber: `TOPIC_Q0` at QoS 0 and `TOPIC_Q1` at QoS 1; records
/// every message's id. `base` is the last id published before it subscribed.
async fn rumqttc_subscriber(
    port: u16,
    i: usize,
    base: u64,
    me: Arc<Receiver>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let (client, mut el) = mqtt_client(mqtt_options(format!("live-bench-sub-{i}"), port), 16);
    client
        .subscribe(TOPIC_Q0, QoS::AtMostOnce)
        .await
        .expect("subscribe");
    client
        .subscribe(TOPIC_Q1, QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let mut ready = Some(ready);
    let (mut subacks, mut last) = (0, base);
    while let Ok(ev) = el.poll().await {
        match ev {
            Event::Incoming(Packet::Publish(p)) => {
                let now = Instant::now();
                let Some(seq) = delta_seq(&p.payload) else {
                    continue;
                };
                if seq <= last {
                    continue;
                }
                let mut rec = me.rec.lock().expect("receipts");
                rec.gaps += seq - last - 1;
                rec.got.push((seq, now));
                drop(rec);
                last = seq;
                me.last.store(seq, Ordering::Release);
            }
            Event::Incoming(Packet::SubAck(_)) => {
                subacks += 1;
                if subacks == 2
                    && let Some(r) = ready.take()
                {
                    let _ = r.send(());
                }
            }
            _ => {}
        }
    }
    drop(client);
}

/// An MQTT packet: fixed header (type and flags, remaining length) + body.
fn mqtt_packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![kind];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        p.push(b);
        if len == 0 {
            break;
        }
    }
    p.extend_from_slice(body);
    p
}

/// Reads one MQTT packet into `body`; returns its first byte.
async fn read_mqtt_packet(
    rd: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    body: &mut Vec<u8>,
) -> std::io::Result<u8> {
    let kind = rd.read_u8().await?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let b = rd.read_u8().await?;
        len |= ((b & 0x7f) as usize) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    body.resize(len, 0);
    rd.read_exact(body).await?;
    Ok(kind)
}

/// A minimal MQTT 3.1.1 subscriber over a plain socket: CONNECT, SUBSCRIBE
/// to `TOPIC_Q0` at QoS 0 and `TOPIC_Q1` at QoS 1, then PUBLISH in (PUBACK
/// out at QoS 1); records every message's id. `base` is the last id
/// published before it subscribed. It reads like the WebSocket clients (a
/// 4 KiB buffer, no per-message allocation): rumqttc's event loop cost ~4x
/// a WebSocket client's CPU per message, which on 2 shared cores took CPU
/// from the broker (`TWINSCAPE_LIVE_MQTT_SUB=rumqttc` uses it anyway).
async fn mqtt_subscriber(
    port: u16,
    i: usize,
    base: u64,
    me: Arc<Receiver>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect mosquitto");
    s.set_nodelay(true).expect("nodelay");
    let (rd, mut wr) = s.into_split();
    let mut rd = BufReader::with_capacity(4096, rd);
    let id = format!("live-bench-sub-{i}");
    // Protocol name and level 4 (3.1.1), clean session, no keep-alive.
    let mut connect = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 0];
    connect.extend_from_slice(&(id.len() as u16).to_be_bytes());
    connect.extend_from_slice(id.as_bytes());
    let mut subscribe = vec![0, 1]; // packet id 1
    for (topic, qos) in [(TOPIC_Q0, 0), (TOPIC_Q1, 1)] {
        subscribe.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        subscribe.extend_from_slice(topic.as_bytes());
        subscribe.push(qos);
    }
    let mut hello = mqtt_packet(0x10, &connect);
    hello.extend(mqtt_packet(0x82, &subscribe));
    wr.write_all(&hello).await.expect("subscribe");
    let mut ready = Some(ready);
    let mut last = base;
    let mut body = Vec::with_capacity(4096);
    while let Ok(kind) = read_mqtt_packet(&mut rd, &mut body).await {
        match kind >> 4 {
            3 => {
                let now = Instant::now();
                let qos = (kind >> 1) & 3;
                let topic_len = u16::from_be_bytes([body[0], body[1]]) as usize;
                let mut at = 2 + topic_len;
                if qos > 0 {
                    let puback = [0x40, 2, body[at], body[at + 1]];
                    at += 2;
                    if wr.write_all(&puback).await.is_err() {
                        return;
                    }
                }
                let Some(seq) = delta_seq(&body[at..]) else {
                    continue;
                };
                if seq <= last {
                    continue;
                }
                let mut rec = me.rec.lock().expect("receipts");
                rec.gaps += seq - last - 1;
                rec.got.push((seq, now));
                drop(rec);
                last = seq;
                me.last.store(seq, Ordering::Release);
            }
            9 => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            _ => {}
        }
    }
}

/// The MQTT publisher: its event loop turns `Outgoing::Publish` (QoS 0: the
/// packet is flushed) or the PUBACK (QoS 1) into the ack of that message id.
struct Publisher {
    client: AsyncClient,
    /// Ids in the order they were handed to `publish`.
    queue: Arc<Mutex<VecDeque<(u64, QoS)>>>,
    acks: Arc<Mutex<HashMap<u64, Instant>>>,
    task: JoinHandle<()>,
}

impl Publisher {
    async fn start(port: u16, inflight: u16) -> Publisher {
        let mut o = mqtt_options("live-bench-pub".into(), port);
        o.set_inflight(inflight);
        let (client, mut el) = mqtt_client(o, 1);
        let queue: Arc<Mutex<VecDeque<(u64, QoS)>>> = Arc::default();
        let acks: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        let (q, a) = (queue.clone(), acks.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut by_pkid: HashMap<u16, u64> = HashMap::new();
            while let Ok(ev) = el.poll().await {
                match ev {
                    Event::Incoming(Packet::ConnAck(_)) => {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Event::Outgoing(Outgoing::Publish(pkid)) => {
                        let now = Instant::now();
                        let Some((id, qos)) = q.lock().expect("queue").pop_front() else {
                            continue;
                        };
                        if qos == QoS::AtMostOnce {
                            a.lock().expect("acks").insert(id, now);
                        } else {
                            by_pkid.insert(pkid, id);
                        }
                    }
                    Event::Incoming(Packet::PubAck(p)) => {
                        let now = Instant::now();
                        if let Some(id) = by_pkid.remove(&p.pkid) {
                            a.lock().expect("acks").insert(id, now);
                        }
                    }
                    _ => {}
                }
            }
        });
        let _ = tokio::time::timeout(Duration::from_secs(10), rx).await;
        Publisher {
            client,
            queue,
            acks,
            task,
        }
    }

    async fn publish(&self, id: u64, qos: QoS, topic: &str, payload: Vec<u8>) {
        self.queue.lock().expect("queue").push_back((id, qos));
        self.client
            .publish(topic, qos, false, payload)
            .await
            .expect("publish");
    }
}

/// A payload shaped like a delta, of the same size as `template` (a real
/// delta), carrying message id `id` where the delta has its seq.
fn payload(template: &(String, String), id: u64) -> Vec<u8> {
    format!("{{\"type\":\"delta\",\"seq\":{id}{}", template.1).into_bytes()
}

// ---------------------------------------------------------------------------
// Phases and results

struct PhaseResult {
    name: String,
    writes: usize,
    write_errors: u64,
    /// How long the writer wrote.
    write_secs: f64,
    receipts: usize,
    matched: usize,
    negative: usize,
    p50: Duration,
    p99: Duration,
    /// From the first client's receipt of a delta to the last one's.
    span50: Duration,
    span99: Duration,
    fanout: f64,
    resets: u64,
    gaps: u64,
    load: String,
    cpu: Vec<(&'static str, f64)>,
    /// The seconds over which `cpu` was measured.
    cpu_secs: f64,
}

impl PhaseResult {
    fn row(&self, n: usize) -> String {
        // CPU per delivered delta says more than the rates on a shared machine.
        let per = |pct: f64| pct / 100.0 * self.cpu_secs / self.receipts.max(1) as f64 * 1e6;
        let cpu: Vec<String> = self
            .cpu
            .iter()
            .map(|(who, pct)| format!("{who} {pct:.0}% ({:.1} µs/delta)", per(*pct)))
            .collect();
        format!(
            "| {} | {} ({:.0}/s) | {} / {} | {} | {} | {} / {} | {} ({:.1}%) | **{:.0}** | {} | {} | {} | {} |",
            self.name,
            self.writes,
            self.writes as f64 / self.write_secs,
            self.receipts,
            self.writes * n,
            fmt(self.p50),
            fmt(self.p99),
            fmt(self.span50),
            fmt(self.span99),
            self.negative,
            100.0 * self.negative as f64 / self.matched.max(1) as f64,
            self.fanout,
            self.resets,
            self.gaps,
            self.load,
            cpu.join(", "),
        ) + if self.write_errors > 0 {
            " write errors!"
        } else {
            ""
        }
    }
}

const HEADER: &str = "| phase | writes (rate) | deltas received / expected | ack→receive p50 | p99 | first→last client p50 / p99 | clamped at 0 (delta before ack) | fan-out deltas/s | resets | missed seqs | load avg (1 min) | CPU (% of one core) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

/// Waits until every receiver has `target` (or nothing moved for 2 s).
async fn drain(receivers: &[Arc<Receiver>], target: impl Fn() -> u64) {
    let mut stable_since = Instant::now();
    let mut seen = 0u64;
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let t = target();
        let sum: u64 = receivers
            .iter()
            .map(|r| r.last.load(Ordering::Acquire))
            .sum();
        if receivers
            .iter()
            .all(|r| r.last.load(Ordering::Acquire) >= t)
        {
            return;
        }
        if sum != seen {
            seen = sum;
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_secs(2) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Latency of every receipt against its ack; fan-out over the phase.
#[allow(clippy::too_many_arguments)]
fn summarize(
    name: String,
    receivers: &[Arc<Receiver>],
    acks: &HashMap<u64, Instant>,
    // The phase's sequence numbers (a late delta of the phase before is not counted).
    range: std::ops::RangeInclusive<u64>,
    writes: usize,
    write_errors: u64,
    start: Instant,
    load: String,
    (cpu, cpu_secs): (Vec<(&'static str, f64)>, f64),
) -> PhaseResult {
    let (mut lat, mut negative, mut receipts, mut resets, mut gaps) = (Vec::new(), 0, 0, 0, 0);
    let mut last_receipt = start;
    // Per delta: its first and last receipt over all clients.
    let mut spans: HashMap<u64, (Instant, Instant)> = HashMap::new();
    for r in receivers {
        let rec = r.take();
        resets += rec.resets;
        gaps += rec.gaps;
        for (seq, at) in rec.got {
            if !range.contains(&seq) {
                continue;
            }
            receipts += 1;
            last_receipt = last_receipt.max(at);
            let span = spans.entry(seq).or_insert((at, at));
            span.0 = span.0.min(at);
            span.1 = span.1.max(at);
            if let Some(ack) = acks.get(&seq) {
                match at.checked_duration_since(*ack) {
                    Some(d) => lat.push(d),
                    None => {
                        negative += 1;
                        lat.push(Duration::ZERO);
                    }
                }
            }
        }
    }
    lat.sort_unstable();
    let matched = lat.len();
    let stats = Stats { samples: lat };
    let mut span: Vec<Duration> = spans.values().map(|(a, b)| *b - *a).collect();
    span.sort_unstable();
    let span = Stats { samples: span };
    let secs = last_receipt.duration_since(start).as_secs_f64().max(1e-9);
    PhaseResult {
        name,
        writes,
        write_errors,
        write_secs: secs,
        receipts,
        matched,
        negative,
        p50: stats.median(),
        p99: stats.p99(),
        span50: span.median(),
        span99: span.p99(),
        fanout: receipts as f64 / secs,
        resets,
        gaps,
        load,
        cpu,
        cpu_secs,
    }
}

struct Cpu {
    who: Vec<(&'static str, String)>,
    at: Instant,
    before: Vec<f64>,
}

impl Cpu {
    fn start(who: Vec<(&'static str, String)>) -> Cpu {
        let before = who.iter().map(|(_, pid)| cpu_secs(pid)).collect();
        Cpu {
            who,
            at: Instant::now(),
            before,
        }
    }

    /// CPU used since `start` by each, in % of one core, and the seconds.
    fn stop(self) -> (Vec<(&'static str, f64)>, f64) {
        let secs = self.at.elapsed().as_secs_f64();
        let used = self
            .who
            .iter()
            .zip(self.before)
            .map(|((name, pid), b)| (*name, 100.0 * (cpu_secs(pid) - b) / secs))
            .collect();
        (used, secs)
    }
}

/// What every phase shares.
#[derive(Clone, Copy)]
struct Cfg {
    twins: usize,
    rate: usize,
    writers: usize,
    secs: u64,
}

async fn run_twinscape(addr: &str, n: usize, cfg: &Cfg, pid: &str) -> Vec<PhaseResult> {
    let Cfg {
        twins,
        rate,
        writers,
        secs,
    } = *cfg;
    let t = Instant::now();
    let etags: EtagsBySeq = Arc::default();
    let receivers: Vec<Arc<Receiver>> = (0..n).map(|_| Arc::default()).collect();
    let mut tasks = Vec::new();
    let mut readies = Vec::new();
    for (i, r) in receivers.iter().enumerate() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let observer = (i == 0).then(|| etags.clone());
        tasks.push(tokio::spawn(ws_client(
            addr.to_string(),
            r.clone(),
            observer,
            tx,
        )));
        readies.push(rx);
        if i % 50 == 49 {
            // Let the server take connections in bursts, not all at once.
            tokio::task::yield_now().await;
        }
    }
    for rx in readies {
        rx.await.expect("a client read its snapshot");
    }
    println!(
        "  twinscape: {n} WebSocket clients connected and read their snapshot in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();
    for steady in [true, false] {
        for r in &receivers {
            r.take();
        }
        let acks: Acks = Arc::default();
        let load = loadavg();
        let cpu = Cpu::start(vec![("server", pid.to_string()), ("bench", "self".into())]);
        let start = Instant::now();
        let errors = if steady {
            twinscape_steady(addr, twins, rate, secs, acks.clone()).await
        } else {
            twinscape_flat_out(addr, twins, writers, secs, acks.clone()).await
        };
        let write_secs = start.elapsed().as_secs_f64();
        // Everything sent is acknowledged; wait for every client to have the
        // delta of the last acknowledged write.
        let last_etag = acks
            .lock()
            .expect("acks")
            .iter()
            .max_by_key(|(_, at)| *at)
            .map(|(e, _)| e.clone());
        let target = {
            let etags = etags.clone();
            move || {
                let map = etags.lock().expect("etags");
                match &last_etag {
                    Some(e) => map
                        .iter()
                        .filter(|(_, v)| *v == e)
                        .map(|(k, _)| *k)
                        .max()
                        .unwrap_or(u64::MAX),
                    None => 0,
                }
            }
        };
        drain(&receivers, target).await;
        let cpu = cpu.stop();
        let acks = std::mem::take(&mut *acks.lock().expect("acks"));
        let writes = acks.len();
        let by_etag: HashMap<String, Instant> = acks.into_iter().collect();
        let by_seq: HashMap<u64, Instant> = etags
            .lock()
            .expect("etags")
            .drain()
            .filter_map(|(seq, e)| by_etag.get(&e).map(|at| (seq, *at)))
            .collect();
        let name = if steady {
            format!("Twinscape, steady {rate}/s")
        } else {
            format!("Twinscape, flat out ({writers} writers)")
        };
        let range =
            by_seq.keys().min().copied().unwrap_or(1)..=by_seq.keys().max().copied().unwrap_or(0);
        let mut r = summarize(
            name, &receivers, &by_seq, range, writes, errors, start, load, cpu,
        );
        r.write_secs = write_secs;
        results.push(r);
    }
    for t in tasks {
        t.abort();
    }
    results
}

async fn capture_template(addr: &str) -> (String, String) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/live"))
        .await
        .expect("connect /live");
    ws.send(Message::Text(r#"{"type":"hello"}"#.into()))
        .await
        .expect("hello");
    let mut snapshot_done = false;
    let mut conn = Conn::open(addr).await.expect("connect");
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message")
            .expect("open")
            .expect("message");
        let Message::Text(text) = msg else { continue };
        if text.contains("\"snapshotEnd\"") && !snapshot_done {
            snapshot_done = true;
            let r = conn
                .call(
                    "PATCH",
                    &format!("/digitaltwins/t0?{API}"),
                    "application/json-patch+json",
                    &patch_body(7),
                )
                .await
                .expect("patch");
            assert_eq!(r.0, 204);
            continue;
        }
        if snapshot_done && let Some(seq) = delta_seq(text.as_bytes()) {
            let prefix = format!("{{\"type\":\"delta\",\"seq\":{seq}");
            let rest = text
                .strip_prefix(prefix.as_str())
                .unwrap_or_default()
                .to_string();
            return (text.to_string(), rest);
        }
    }
}

async fn run_mosquitto(
    port: u16,
    n: usize,
    cfg: &Cfg,
    pid: &str,
    template: &(String, String),
    next_id: &mut u64,
) -> Vec<PhaseResult> {
    let Cfg {
        rate,
        writers,
        secs,
        ..
    } = *cfg;
    let t = Instant::now();
    let receivers: Vec<Arc<Receiver>> = (0..n).map(|_| Arc::default()).collect();
    let mut tasks = Vec::new();
    let mut readies = Vec::new();
    for (i, r) in receivers.iter().enumerate() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if std::env::var("TWINSCAPE_LIVE_MQTT_SUB").as_deref() == Ok("rumqttc") {
            tasks.push(tokio::spawn(rumqttc_subscriber(
                port,
                i,
                *next_id,
                r.clone(),
                tx,
            )));
        } else {
            tasks.push(tokio::spawn(mqtt_subscriber(
                port,
                i,
                *next_id,
                r.clone(),
                tx,
            )));
        }
        readies.push(rx);
        if i % 50 == 49 {
            tokio::task::yield_now().await;
        }
    }
    for rx in readies {
        rx.await.expect("a subscriber subscribed");
    }
    println!(
        "  mosquitto: {n} subscribers connected and subscribed in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let publisher = Publisher::start(port, writers as u16).await;
    let mut results = Vec::new();
    for phase in 0..3 {
        for r in &receivers {
            r.take();
        }
        let load = loadavg();
        let cpu = Cpu::start(vec![
            ("mosquitto", pid.to_string()),
            ("bench", "self".into()),
        ]);
        let start = Instant::now();
        let first = *next_id + 1;
        let name = match phase {
            0 => {
                let total = rate as u64 * secs;
                for k in 0..total {
                    let at = start + Duration::from_secs_f64(k as f64 / rate as f64);
                    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                    *next_id += 1;
                    publisher
                        .publish(
                            *next_id,
                            QoS::AtMostOnce,
                            TOPIC_Q0,
                            payload(template, *next_id),
                        )
                        .await;
                }
                format!("mosquitto QoS 0, steady {rate}/s")
            }
            1 => {
                let total = rate as u64 * secs;
                for k in 0..total {
                    let at = start + Duration::from_secs_f64(k as f64 / rate as f64);
                    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                    *next_id += 1;
                    publisher
                        .publish(
                            *next_id,
                            QoS::AtLeastOnce,
                            TOPIC_Q1,
                            payload(template, *next_id),
                        )
                        .await;
                }
                format!("mosquitto QoS 1, steady {rate}/s")
            }
            _ => {
                let until = start + Duration::from_secs(secs);
                while Instant::now() < until {
                    *next_id += 1;
                    publisher
                        .publish(
                            *next_id,
                            QoS::AtLeastOnce,
                            TOPIC_Q0,
                            payload(template, *next_id),
                        )
                        .await;
                }
                format!(
                    "mosquitto flat out (QoS 1 publish, {writers} in flight; QoS 0 subscribers)"
                )
            }
        };
        let last = *next_id;
        let write_secs = start.elapsed().as_secs_f64();
        // Wait for the acks of everything published, then for the receivers.
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && !publisher.acks.lock().expect("acks").contains_key(&last) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drain(&receivers, || last).await;
        let cpu = cpu.stop();
        let acks: HashMap<u64, Instant> =
            std::mem::take(&mut *publisher.acks.lock().expect("acks"));
        let writes = (last + 1 - first) as usize;
        let mut r = summarize(
            name,
            &receivers,
            &acks,
            first..=last,
            writes,
            0,
            start,
            load,
            cpu,
        );
        r.write_secs = write_secs;
        results.push(r);
    }
    publisher.task.abort();
    for t in tasks {
        t.abort();
    }
    results
}

fn main() {
    let clients: Vec<usize> = std::env::var("TWINSCAPE_LIVE_CLIENTS")
        .unwrap_or_else(|_| "1,100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let secs = env_or("TWINSCAPE_LIVE_SECS", 5) as u64;
    let rate = env_or("TWINSCAPE_LIVE_RATE", 100);
    let writers = env_or("TWINSCAPE_LIVE_WRITERS", 4);
    let twins = 100;
    let max = clients.iter().copied().max().unwrap_or(0);
    // Each client is a socket here and one in the server (which inherits the limit).
    let want = (4 * max + 1024) as u64;
    match rlimit::increase_nofile_limit(want) {
        Ok(got) if got < want => println!("warning: open files limited to {got} (wanted {want})"),
        Ok(_) => {}
        Err(e) => println!("warning: could not raise the open files limit: {e}"),
    }

    let data = tempfile::tempdir().expect("temp dir");
    let (mut server, addr) = start_twinscape(data.path());
    let server_pid = server.id().to_string();
    let mosq_dir = tempfile::tempdir().expect("temp dir");
    let mosquitto = start_mosquitto(mosq_dir.path());
    if mosquitto.is_none() {
        println!(
            "mosquitto not found or did not start (apt-get install -y mosquitto): no baseline"
        );
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = Conn::open(&addr).await.expect("connect");
        let model = serde_json::json!([{
            "@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "temperature", "schema": "double"},
                         {"@type": "Property", "name": "name", "schema": "string"}]
        }]);
        let (s, _) = c
            .call("POST", &format!("/models?{API}"), "application/json", model.to_string().as_bytes())
            .await
            .expect("models");
        assert_eq!(s, 201);
        for i in 0..twins {
            let doc = format!("{{\"$metadata\":{{\"$model\":\"{MODEL}\"}},\"name\":\"Room {i}\",\"temperature\":20.5}}");
            let (s, _) = c
                .call("PUT", &format!("/digitaltwins/t{i}?{API}"), "application/json", doc.as_bytes())
                .await
                .expect("put");
            assert_eq!(s, 200);
        }
        let template = capture_template(&addr).await;
        println!(
            "twinscape on {addr}, mosquitto on {}; {twins} twins; a delta is {} bytes; {secs} s per phase; steady rate {rate}/s; {writers} writers flat out; {} cores; load average {}",
            mosquitto.as_ref().map(|(_, p)| format!("127.0.0.1:{p}")).unwrap_or("-".into()),
            template.0.len(),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            loadavg(),
        );
        let mut next_id = 0u64;
        let cfg = Cfg { twins, rate, writers, secs };
        for &n in &clients {
            println!("\n### {n} client{}\n", if n == 1 { "" } else { "s" });
            let ts = run_twinscape(&addr, n, &cfg, &server_pid).await;
            let ms = match &mosquitto {
                Some((child, port)) => run_mosquitto(*port, n, &cfg, &child.id().to_string(), &template, &mut next_id).await,
                None => Vec::new(),
            };
            println!("{HEADER}");
            for r in ts.iter().chain(&ms) {
                println!("{}", r.row(n));
            }
            if ms.len() == 3 {
                println!();
                let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.2}", a / b) } else { "-".into() };
                let ms_ = |d: Duration| d.as_secs_f64();
                for (t, m, what) in [(&ts[0], &ms[0], "steady vs QoS 0 steady"), (&ts[0], &ms[1], "steady vs QoS 1 steady"), (&ts[1], &ms[2], "flat out vs flat out")] {
                    println!(
                        "Twinscape / mosquitto, {what}: p50 {}  p99 {}  fan-out {}",
                        ratio(ms_(t.p50), ms_(m.p50)),
                        ratio(ms_(t.p99), ms_(m.p99)),
                        ratio(t.fanout, m.fanout)
                    );
                }
            }
        }
        println!("\nfinal load average {}", loadavg());
    });
    let _ = server.kill();
    let _ = server.wait();
    if let Some((mut child, _)) = mosquitto {
        let _ = child.kill();
        let _ = child.wait();
    }
}
