//! Real message brokers for the event tests: Debian's `mosquitto` (MQTT)
//! and `nats-server`, each started on a free loopback port with a config
//! file in a temp dir, and stopped (SIGKILL) when dropped. No system service
//! is involved. `scripts/setup` installs both. Include it beside the
//! harness: `#[path = "harness/brokers.rs"] mod brokers;`.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A broker process, killed when dropped.
pub struct Broker {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

fn program(name: &str) -> PathBuf {
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    in_path
        .or_else(|| {
            ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]
                .iter()
                .map(|d| PathBuf::from(d).join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("{name} not found: install Debian's {name} package (scripts/setup does)")
        })
}

impl Broker {
    fn start(name: &str, config_name: &str, config: &str, args: &[&str], port: u16) -> Broker {
        let dir = tempfile::tempdir().expect("broker temp dir");
        let conf = dir.path().join(config_name);
        std::fs::write(&conf, config).expect("write broker config");
        let child = Command::new(program(name))
            .args(args)
            .arg(&conf)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let mut broker = Broker {
            child,
            port,
            _dir: dir,
        };
        let up = crate::harness::wait_for(Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        if up.is_none() {
            let status = broker.child.try_wait();
            panic!("{name} did not listen on 127.0.0.1:{port} within 20 s (process: {status:?})");
        }
        broker
    }

    /// `mosquitto` on a free port: anonymous, no persistence.
    pub fn mosquitto() -> Broker {
        let port = crate::harness::free_port();
        let config = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        );
        Broker::start("mosquitto", "mosquitto.conf", &config, &["-c"], port)
    }

    /// `nats-server` on a free port, no monitoring, no JetStream.
    pub fn nats() -> Broker {
        let port = crate::harness::free_port();
        let config = format!("listen: \"127.0.0.1:{port}\"\nmax_payload: 1048576\n");
        Broker::start("nats-server", "nats.conf", &config, &["-c"], port)
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
