//! OIDC mode: tokens from an identity provider, checked against its JSON Web
//! Key Set. The set is found by discovery (`<issuer>/.well-known/openid-configuration`)
//! unless `--oidc-jwks-url` names it, cached, refreshed when a token names a
//! key id the cache lacks (at most once a second) and every hour.

use super::local::describe;
use super::{ADT_APP_ID, ADT_AUDIENCE, AuthArgs, AuthError, Role, RoleMap};
use anyhow::Context;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// No more than one fetch per this interval, however many unknown key ids arrive.
const MIN_REFRESH: Duration = Duration::from_secs(1);
/// Keys are fetched again after this long even if every kid is known.
const MAX_AGE: Duration = Duration::from_secs(3600);

struct Key {
    decoding: DecodingKey,
    family: AlgorithmFamily,
    /// The JWK's own `alg`, when it names one.
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Key>,
    /// Keys without a `kid`: usable by tokens without one.
    anonymous: Vec<Key>,
    fetched: Option<Instant>,
}

pub struct OidcVerifier {
    issuer: String,
    jwks_url: Option<String>,
    audiences: Vec<String>,
    roles: RoleMap,
    http: reqwest::Client,
    cache: RwLock<Cache>,
    /// When the last fetch started; held while fetching so fetches never pile up.
    last_fetch: Mutex<Option<Instant>>,
}

impl OidcVerifier {
    pub fn new(args: &AuthArgs) -> anyhow::Result<OidcVerifier> {
        let issuer = args
            .oidc_issuer
            .clone()
            .context("--auth oidc needs --oidc-issuer")?;
        for url in std::iter::once(&issuer).chain(args.oidc_jwks_url.iter()) {
            let parsed = reqwest::Url::parse(url).with_context(|| format!("{url} is not a URL"))?;
            let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if parsed.scheme() != "https" && !loopback {
                tracing::warn!(
                    "auth: {url} is not https: its keys could be tampered with on the way"
                );
            }
        }
        let audiences = if args.oidc_audiences.is_empty() {
            vec![ADT_AUDIENCE.to_string(), ADT_APP_ID.to_string()]
        } else {
            args.oidc_audiences.clone()
        };
        let defaults = RoleMap::default();
        let roles = RoleMap {
            claim: args.oidc_role_claim.clone(),
            owner: if args.oidc_owner_roles.is_empty() {
                defaults.owner
            } else {
                args.oidc_owner_roles.clone()
            },
            reader: if args.oidc_reader_roles.is_empty() {
                defaults.reader
            } else {
                args.oidc_reader_roles.clone()
            },
            default: args.oidc_default_role,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("twinscape/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client for the JWKS")?;
        tracing::info!(
            "auth: OIDC tokens from {issuer}, audience {}, roles from claim `{}`",
            audiences.join(" or "),
            roles.claim
        );
        Ok(OidcVerifier {
            issuer,
            jwks_url: args.oidc_jwks_url.clone(),
            audiences,
            roles,
            http,
            cache: RwLock::new(Cache::default()),
            last_fetch: Mutex::new(None),
        })
    }

    /// A first fetch at start, so that a wrong URL shows in the log at once.
    /// A failure is not fatal: the next token triggers another try.
    pub async fn warm_up(&self) {
        match self.fetch().await {
            Ok(n) => tracing::info!("auth: loaded {n} signing key(s) from the identity provider"),
            Err(e) => tracing::warn!(
                "auth: could not load the identity provider's keys yet: {e:#}; tokens are refused until it answers"
            ),
        }
    }

    /// Checks a token; returns its subject and role.
    pub async fn verify(&self, token: &str) -> Result<(String, Option<Role>), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| describe(&e))?;
        if header.alg.family() == AlgorithmFamily::Hmac {
            return Err(AuthError::Invalid(
                "its signing algorithm is not accepted".into(),
            ));
        }
        let kid = header.kid.as_deref();
        let stale = {
            let cache = self.cache.read().await;
            let known = match kid {
                Some(k) => cache.keys.contains_key(k),
                None => !cache.anonymous.is_empty() || cache.keys.len() == 1,
            };
            !known || cache.fetched.is_none_or(|t| t.elapsed() > MAX_AGE)
        };
        if stale {
            self.refresh().await;
        }
        let cache = self.cache.read().await;
        let candidates: Vec<&Key> = match kid {
            Some(k) => cache.keys.get(k).into_iter().collect(),
            None => cache.anonymous.iter().chain(cache.keys.values()).collect(),
        };
        if candidates.is_empty() {
            return Err(AuthError::Invalid(if cache.fetched.is_none() {
                "the identity provider's keys could not be loaded".into()
            } else {
                "it is signed by a key the identity provider does not publish".into()
            }));
        }
        let mut last = AuthError::Invalid("its signing algorithm is not accepted".into());
        for key in candidates {
            if key.family != header.alg.family() || key.alg.is_some_and(|a| a != header.alg) {
                continue;
            }
            let mut validation = Validation::new(header.alg);
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&self.audiences);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.validate_nbf = true;
            match jsonwebtoken::decode::<serde_json::Map<String, Json>>(
                token,
                &key.decoding,
                &validation,
            ) {
                Ok(data) => {
                    let subject = ["sub", "oid", "preferred_username"]
                        .iter()
                        .find_map(|c| data.claims.get(*c).and_then(Json::as_str))
                        .unwrap_or_default()
                        .to_string();
                    return Ok((subject, self.roles.role(&data.claims)));
                }
                Err(e) => last = describe(&e),
            }
        }
        Err(last)
    }

    /// Fetches the keys again unless a fetch started less than `MIN_REFRESH` ago.
    async fn refresh(&self) {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < MIN_REFRESH) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.fetch().await {
            tracing::warn!("auth: refreshing the identity provider's keys failed: {e:#}");
        }
    }

    async fn fetch(&self) -> anyhow::Result<usize> {
        let url = match &self.jwks_url {
            Some(u) => u.clone(),
            None => self.discover().await?,
        };
        let set: JwkSet = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching {url}"))?
            .json()
            .await
            .with_context(|| format!("{url} is not a JSON Web Key Set"))?;
        let mut cache = Cache::default();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let Some(key) = to_key(jwk) else { continue };
            match &jwk.common.key_id {
                Some(kid) => {
                    cache.keys.insert(kid.clone(), key);
                }
                None => cache.anonymous.push(key),
            }
        }
        cache.fetched = Some(Instant::now());
        let n = cache.keys.len() + cache.anonymous.len();
        *self.cache.write().await = cache;
        Ok(n)
    }

    async fn discover(&self) -> anyhow::Result<String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let doc: Json = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching {url}"))?
            .json()
            .await
            .with_context(|| format!("{url} is not JSON"))?;
        if let Some(iss) = doc.get("issuer").and_then(Json::as_str)
            && iss != self.issuer
        {
            tracing::warn!(
                "auth: the discovery document names the issuer {iss}, not {}; tokens must carry --oidc-issuer exactly",
                self.issuer
            );
        }
        doc.get("jwks_uri")
            .and_then(Json::as_str)
            .map(str::to_string)
            .with_context(|| format!("{url} names no jwks_uri"))
    }
}

fn to_key(jwk: &Jwk) -> Option<Key> {
    let decoding = DecodingKey::from_jwk(jwk).ok()?;
    let family = decoding.family();
    if family == AlgorithmFamily::Hmac {
        return None;
    }
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|a| Algorithm::try_from(a).ok());
    Some(Key {
        decoding,
        family,
        alg,
    })
}
