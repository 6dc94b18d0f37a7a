//! Local mode: an Ed25519 signing key in `<data-dir>/auth/`, created at first
//! use (mode 0600) and reused after; tokens are EdDSA-signed JWTs.

use super::{ADT_APP_ID, ADT_AUDIENCE, AuthError, LOCAL_ISSUER, Role, RoleMap};
use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The key file inside the data dir.
pub const KEY_FILE: &str = "auth/local-signing-key.pem";

/// The local signing key and what verifies its tokens.
pub struct LocalKey {
    path: PathBuf,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    roles: RoleMap,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey")
            .field("path", &self.path)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl LocalKey {
    /// Loads `<data_dir>/auth/local-signing-key.pem`, creating it (and the
    /// directories) first if it does not exist. Two processes racing to create
    /// it end up with the same key: the file appears atomically, once.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<LocalKey> {
        let path = data_dir.join(KEY_FILE);
        let dir = path.parent().unwrap_or(data_dir).to_path_buf();
        if !path.exists() {
            create_private_dir(&dir)?;
            create_key_file(&path).with_context(|| format!("creating {}", path.display()))?;
            tracing::info!("auth: created the local signing key {}", path.display());
        }
        warn_if_readable_by_others(&path);
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the signing key {}", path.display()))?;
        Self::from_pem(&pem, path)
    }

    fn from_pem(pem: &str, path: PathBuf) -> anyhow::Result<LocalKey> {
        let pair = rcgen::KeyPair::from_pem(pem)
            .with_context(|| format!("{} is not a PEM private key", path.display()))?;
        if pair.algorithm() != &rcgen::PKCS_ED25519 {
            bail!(
                "{} is not an Ed25519 key; delete it to have a new one created (every token issued so far stops working)",
                path.display()
            );
        }
        let public_x = URL_SAFE_NO_PAD.encode(pair.public_key_raw());
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes())
            .with_context(|| format!("loading the signing key {}", path.display()))?;
        let decoding = DecodingKey::from_ed_components(&public_x)
            .context("loading the public half of the signing key")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[LOCAL_ISSUER]);
        validation.set_audience(&[ADT_AUDIENCE, ADT_APP_ID]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        Ok(LocalKey {
            kid: jwk_thumbprint(&public_x),
            path,
            encoding,
            decoding,
            validation,
            roles: RoleMap::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Mints a token for `subject` with `role`, valid for `ttl`.
    pub fn issue(&self, role: Role, subject: &str, ttl: Duration) -> anyhow::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let mut jti = [0u8; 12];
        getrandom::fill(&mut jti).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let claims = json!({
            "iss": LOCAL_ISSUER,
            "aud": ADT_AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs(),
            "roles": [role.claim_value()],
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).context("signing the token")
    }

    /// Checks a token's signature and claims; returns its subject and role.
    pub fn verify(&self, token: &str) -> Result<(String, Option<Role>), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| describe(&e))?;
        if let Some(kid) = &header.kid
            && *kid != self.kid
        {
            return Err(AuthError::Invalid(
                "it is signed by another key than this server's (was the data dir's key replaced?)"
                    .into(),
            ));
        }
        let data = jsonwebtoken::decode::<serde_json::Map<String, Json>>(
            token,
            &self.decoding,
            &self.validation,
        )
        .map_err(|e| describe(&e))?;
        let subject = data
            .claims
            .get("sub")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        Ok((subject, self.roles.role(&data.claims)))
    }
}

/// RFC 7638 thumbprint of an Ed25519 JWK, base64url.
fn jwk_thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Why a JWT was rejected, in words.
pub(super) fn describe(e: &jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    let why = match e.kind() {
        K::ExpiredSignature => "it has expired".to_string(),
        K::ImmatureSignature => "it is not valid yet (nbf)".to_string(),
        K::InvalidSignature => "its signature does not match".to_string(),
        K::InvalidIssuer => "its issuer (iss) is not accepted".to_string(),
        K::InvalidAudience => "its audience (aud) is not accepted".to_string(),
        K::InvalidAlgorithm | K::MissingAlgorithm | K::UnsupportedAlgorithm => {
            "its signing algorithm is not accepted".to_string()
        }
        K::MissingRequiredClaim(c) => format!("it has no `{c}` claim"),
        K::InvalidClaimFormat(c) => format!("its `{c}` claim is malformed"),
        K::InvalidEddsaKey | K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::InvalidKeyFormat => {
            "its signing key is not usable".to_string()
        }
        _ => "it is not a well-formed JWT".to_string(),
    };
    AuthError::Invalid(why)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    // A directory made by someone else keeps its mode unless it is open to all.
    if let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o007 != 0
    {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Writes a new key to a private temporary file, then links it into place:
/// the key file appears whole and only once, even with two racing processes.
fn create_key_file(path: &Path) -> anyhow::Result<()> {
    let pair =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).context("generating an Ed25519 key")?;
    let pem = pair.serialize_pem();
    let mut suffix = [0u8; 8];
    let _ = getrandom::fill(&mut suffix);
    let tmp = path.with_extension(format!(
        "pem.tmp-{}-{}",
        std::process::id(),
        URL_SAFE_NO_PAD.encode(suffix)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| -> std::io::Result<()> {
        let mut f = options.open(&tmp)?;
        f.write_all(pem.as_bytes())?;
        f.sync_all()?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {}
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        if let Some(dir) = path.parent()
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    Ok(())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "auth: {} can be read by other users (mode {:o}); `chmod 600` it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_reuses_and_verifies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = LocalKey::load_or_create(dir.path()).expect("create");
        let b = LocalKey::load_or_create(dir.path()).expect("reload");
        assert_eq!(a.kid, b.kid);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let t = a
            .issue(Role::Reader, "alice", Duration::from_secs(60))
            .expect("issue");
        assert_eq!(b.verify(&t), Ok(("alice".to_string(), Some(Role::Reader))));
        let other = tempfile::tempdir().expect("tempdir");
        let c = LocalKey::load_or_create(other.path()).expect("create");
        assert!(matches!(c.verify(&t), Err(AuthError::Invalid(_))));
        assert!(matches!(a.verify("a.b.c"), Err(AuthError::Invalid(_))));
        assert!(matches!(a.verify("garbage"), Err(AuthError::Invalid(_))));
    }
}
