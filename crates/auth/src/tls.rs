//! HTTPS with rustls: a certificate and key from PEM files
//! (`--tls-cert`/`--tls-key`), or a self-signed certificate for local testing
//! (`--tls-self-signed`), created in `<data-dir>/tls/` and reused while the
//! names it covers stay the same.

use anyhow::{Context, bail};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine as _;
use clap::Args;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `twinscape serve` flags for TLS.
#[derive(Debug, Args, Clone, Default)]
pub struct TlsArgs {
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, env = "TWINSCAPE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "TWINSCAPE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate for localhost, 127.0.0.1 and
    /// ::1 (kept in <data-dir>/tls/). For local testing: clients must skip
    /// verification (`twinscape --insecure`, `curl -k`) or trust it.
    #[arg(long, env = "TWINSCAPE_TLS_SELF_SIGNED", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
}

/// The rustls configuration `serve` asked for, if any.
pub async fn load(
    args: &TlsArgs,
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<Option<RustlsConfig>> {
    let (cert, key) = match (&args.tls_cert, &args.tls_key, args.tls_self_signed) {
        (Some(cert), Some(key), false) => {
            let cert_pem = std::fs::read(cert)
                .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
            let key_pem = std::fs::read(key)
                .with_context(|| format!("reading the TLS key {}", key.display()))?;
            if let Some(fp) = fingerprint(&String::from_utf8_lossy(&cert_pem)) {
                eprintln!("TLS: certificate {} (SHA-256 {fp})", cert.display());
            }
            (cert_pem, key_pem)
        }
        (None, None, true) => self_signed(data_dir, listen)?,
        (None, None, false) => return Ok(None),
        _ => bail!("use either --tls-cert with --tls-key, or --tls-self-signed"),
    };
    let config = RustlsConfig::from_pem(cert, key)
        .await
        .context("loading the TLS certificate and key (do they match, and are they PEM?)")?;
    Ok(Some(config))
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    config: RustlsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let handle = axum_server::Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        on_signal.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    // TCP_NODELAY, as over plain HTTP (see `http::serve`).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    axum_server::from_tcp(listener)
        .context("serving HTTPS")?
        .acceptor(acceptor)
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .context("serving HTTPS")
}

/// The names a self-signed certificate covers for `listen`.
fn self_signed_names(listen: SocketAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let ip = listen.ip();
    if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    names
}

/// Loads the saved self-signed certificate, or makes (and saves) a new one
/// when there is none or it covers other names.
fn self_signed(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let dir = data_dir.join("tls");
    let (cert_path, key_path, names_path) = (
        dir.join("self-signed-cert.pem"),
        dir.join("self-signed-key.pem"),
        dir.join("self-signed-names.txt"),
    );
    let names = self_signed_names(listen);
    let saved = (|| {
        let saved_names = std::fs::read_to_string(&names_path).ok()?;
        if saved_names.lines().collect::<Vec<_>>() != names {
            return None;
        }
        Some((
            std::fs::read_to_string(&cert_path).ok()?,
            std::fs::read_to_string(&key_path).ok()?,
        ))
    })();
    let (cert_pem, key_pem, created) = match saved {
        Some((c, k)) => (c, k, false),
        None => {
            let key = rcgen::KeyPair::generate().context("generating a TLS key")?;
            let mut params = rcgen::CertificateParams::new(names.clone())
                .context("self-signed certificate names")?;
            params.distinguished_name.push(
                rcgen::DnType::CommonName,
                "Twinscape self-signed (local testing)",
            );
            let cert = params
                .self_signed(&key)
                .context("signing the self-signed certificate")?;
            let (c, k) = (cert.pem(), key.serialize_pem());
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            write_private(&key_path, k.as_bytes())?;
            std::fs::write(&cert_path, c.as_bytes())
                .with_context(|| format!("writing {}", cert_path.display()))?;
            std::fs::write(&names_path, names.join("\n"))
                .with_context(|| format!("writing {}", names_path.display()))?;
            (c, k, true)
        }
    };
    let fp = fingerprint(&cert_pem).unwrap_or_else(|| "?".into());
    eprintln!(
        "TLS: {} self-signed certificate for {} ({})",
        if created { "created a" } else { "using the" },
        names.join(", "),
        cert_path.display()
    );
    eprintln!("TLS: SHA-256 fingerprint {fp}");
    eprintln!(
        "TLS: clients must trust it or skip verification (twinscape --insecure, curl -k); for local testing only"
    );
    Ok((cert_pem.into_bytes(), key_pem.into_bytes()))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The SHA-256 fingerprint (`AB:CD:…`) of the first certificate in a PEM text.
pub fn fingerprint(pem: &str) -> Option<String> {
    let der = first_cert_der(pem)?;
    Some(
        Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn first_cert_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_reused_until_the_names_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let (a, _) = self_signed(dir.path(), local).expect("create");
        let (b, _) = self_signed(dir.path(), local).expect("reuse");
        assert_eq!(a, b);
        let other: SocketAddr = "10.1.2.3:443".parse().expect("addr");
        let (c, _) = self_signed(dir.path(), other).expect("recreate");
        assert_ne!(a, c);
        let fp = fingerprint(&String::from_utf8_lossy(&c)).expect("fingerprint");
        assert_eq!(fp.len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tls/self-signed-key.pem"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
