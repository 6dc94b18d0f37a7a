//! The HTTP server: routes, static web app, JSON errors for everything else.

use crate::cli::ServeArgs;
use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, get_service};
use axum::serve::ListenerExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::{ServeDir, ServeFile};
use twinscape_api::ApiError;
use twinscape_api::assets::{self, Assets};
use twinscape_auth::{Auth, AuthMode};
use twinscape_core::{ApiLimits, AppState};
use twinscape_engine::EngineConfig;
use twinscape_protocol::{ErrorCode, Health};
use twinscape_query::TokenKey;
use twinscape_store::{RedbStore, Store};

// Client-side routes of the browser app (shared with the app) are served
// `index.html`, so that a reload or a shared link works. Everything else
// that is not a file is a JSON 404.
use tower::ServiceExt as _;
use twinscape_protocol::routes::{APP_ROUTES, SCENES};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let origins = crate::cors::Origins::parse(&args.cors_origins)?;
    std::fs::create_dir_all(args.data_dir.join("3d"))
        .with_context(|| format!("creating data dir {}", args.data_dir.display()))?;
    let started = std::time::Instant::now();
    let store = tokio::task::spawn_blocking({
        let dir = args.data_dir.clone();
        move || RedbStore::open(&dir)
    })
    .await
    .context("opening the store")??;
    let store: Arc<dyn Store> = Arc::new(store);
    let config = EngineConfig {
        etag_seed: random_u64(),
        token_key: TokenKey(random_bytes()),
        ..Default::default()
    };
    let files_dir = args.data_dir.join("jobs");
    std::fs::create_dir_all(&files_dir)
        .with_context(|| format!("creating {}", files_dir.display()))?;
    let state = tokio::task::spawn_blocking(move || {
        AppState::load(store, config, ApiLimits::default(), files_dir)
    })
    .await
    .context("loading the stored graph")??;
    {
        let world = state.world();
        tracing::info!(
            "loaded {} models, {} twins, {} relationships in {:.2} s",
            world.engine().registry().len(),
            world.engine().graph().twin_count(),
            world.engine().graph().relationship_count(),
            started.elapsed().as_secs_f64()
        );
    }
    let state = Arc::new(state);
    if args.demo {
        crate::demo::seed(&state).await?;
        crate::demo::simulate(state.clone(), std::time::Duration::from_secs(2));
    }
    let web_dir = resolve_web_dir(args.web_dir.as_deref());
    match &web_dir {
        Some(dir) => tracing::info!("serving the browser app from {}", dir.display()),
        None => tracing::warn!(
            "the browser app is not built (no dist/ found); run `trunk build --release` or pass --web-dir"
        ),
    }
    let (events, events_store) = (state.events.clone(), state.store.clone());
    let auth = Arc::new(Auth::from_args(&args.auth, &args.data_dir).await?);
    let tls = twinscape_auth::tls::load(&args.tls, &args.data_dir, args.listen).await?;
    let mut app = router(&args.data_dir, web_dir.as_deref(), state, auth.clone());
    app = crate::cors::apply(app, origins);
    if tls.is_some() {
        // Absolute links in responses (`nextLink`, `operation-location`)
        // take their scheme from here unless a proxy in front says otherwise.
        app = app.layer(
            tower_http::set_header::SetRequestHeaderLayer::if_not_present(
                axum::http::HeaderName::from_static("x-forwarded-proto"),
                axum::http::HeaderValue::from_static("https"),
            ),
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Event delivery (crates/events): reads the store's log; writes never wait for it.
    let _dispatcher = events.start(events_store, args.events.dispatch_config(addr));
    let no_auth = auth.mode() == AuthMode::None;
    if no_auth {
        twinscape_auth::warn_auth_disabled(&addr);
    }
    // Tests and scripts read this line to learn the scheme and port.
    println!(
        "Twinscape listening on {}://{addr}/{}",
        if tls.is_some() { "https" } else { "http" },
        if no_auth {
            " (AUTH DISABLED: --auth none, for local demos only)"
        } else {
            ""
        }
    );
    match tls {
        Some(config) => {
            twinscape_auth::tls::serve(listener.into_std()?, app, config, shutdown_signal()).await?
        }
        // TCP_NODELAY: live-feed deltas and responses are small writes that
        // Nagle would hold until the peer's (delayed, up to 40 ms) ACK.
        None => axum::serve(listener.tap_io(|tcp| _ = tcp.set_nodelay(true)), app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving HTTP")?,
    }
    Ok(())
}

/// The whole HTTP surface. `auth` guards the ADT API paths; `/healthz`, the
/// 3D files and the web app stay public.
pub fn router(
    data_dir: &Path,
    web_dir: Option<&Path>,
    state: Arc<AppState>,
    auth: Arc<Auth>,
) -> Router {
    let assets = Arc::new(Assets::new(
        data_dir.join("3d"),
        state.limits.max_asset_bytes,
    ));
    let scenes_api = twinscape_api::scenes_router(state.clone());
    // The live feed (WebSocket); it checks the token in its hello itself.
    let live = Router::new()
        .route(
            twinscape_protocol::live::LIVE_PATH,
            get(twinscape_live::upgrade),
        )
        .with_state((state.clone(), auth.clone()));
    let mut app = Router::new()
        .merge(live)
        .merge(twinscape_api::router(state))
        .route("/healthz", get(healthz))
        .route("/3d", get(assets::list_assets).with_state(assets.clone()))
        .route(
            "/3d/{name}",
            get(assets::get_asset)
                .put(assets::put_asset)
                .delete(assets::delete_asset)
                .with_state(assets),
        );

    match web_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            for route in APP_ROUTES {
                if *route == SCENES {
                    // Shared with the `/scenes` API: `api-version` decides.
                    // Called on its own, the API needs the app's 404/405s.
                    let api = scenes_api
                        .clone()
                        .fallback(not_found)
                        .method_not_allowed_fallback(method_not_allowed);
                    let split = scenes_split(api, ServeFile::new(&index));
                    app = app
                        .route_service(route, split.clone())
                        .route_service(&format!("{route}/{{*rest}}"), split);
                    continue;
                }
                app = app.route(route, get_service(ServeFile::new(&index)));
                if *route != "/" {
                    app = app.route(
                        &format!("{route}/{{*rest}}"),
                        get_service(ServeFile::new(&index)),
                    );
                }
            }
            let files = ServeDir::new(dir)
                .precompressed_gzip()
                .append_index_html_on_directories(false)
                .call_fallback_on_method_not_allowed(true)
                .fallback(tower::service_fn(|req: Request| async move {
                    Ok::<_, std::convert::Infallible>(not_found(req).await)
                }));
            app = app.fallback_service(files);
        }
        None => {
            app = app
                .merge(scenes_api)
                .route("/", get(app_not_built))
                .fallback(not_found);
        }
    }
    app.method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(cache_policy))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            twinscape_auth::require_on_api_paths,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                ErrorCode::InternalServerError,
                "The server hit an internal error.",
            )
            .into_response()
        }))
}

/// How long browsers may keep the app's files: those with a content hash
/// in their name (trunk's `name-<hash>.ext`, `…-<hash>_bg.wasm`) for a year,
/// everything else (pages, `twinscape-scene.js`, 3D files) revalidated each
/// time (`no-cache`: the ETag or Last-Modified makes that a 304), so an
/// upgraded server is never seen half old, half new. API answers are left
/// as they are.
async fn cache_policy(req: Request, next: axum::middleware::Next) -> Response {
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let path = req.uri().path().to_string();
    let api =
        twinscape_protocol::routes::is_api_request(req.method().as_str(), &path, req.uri().query())
            || path == twinscape_protocol::live::LIVE_PATH
            || path == "/healthz";
    let mut res = next.run(req).await;
    let ok = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    if read && !api && ok && !res.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if is_hashed_file(&path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(policy),
        );
    }
    res
}

/// Whether a file name carries trunk's content hash (15 or 16 hex digits
/// after the last `-` of its stem, before an optional `_bg`).
fn is_hashed_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(base, hash)| {
        !base.is_empty()
            && (15..=16).contains(&hash.len())
            && hash.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// `/scenes…`: the API when the request has an `api-version`, else the
/// app's page (which only reads).
fn scenes_split(
    api: Router,
    page: ServeFile,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |req: Request| {
        let (api, page) = (api.clone(), page.clone());
        async move {
            let read = matches!(
                *req.method(),
                axum::http::Method::GET | axum::http::Method::HEAD
            );
            if twinscape_protocol::routes::has_api_version(req.uri().query()) {
                api.oneshot(req).await
            } else if read {
                page.oneshot(req).await.map(IntoResponse::into_response)
            } else {
                Ok(method_not_allowed(req).await)
            }
        }
    })
}

async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

async fn not_found(req: Request) -> Response {
    let method = req.method().clone();
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return method_not_allowed(req).await;
    }
    ApiError::not_found(format!("No resource at {} {}.", method, req.uri().path())).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    let (method, path) = (req.method(), req.uri().path());
    // A method on a path that does not exist at all is a 404, as ADT answers.
    if !is_known_path(path) {
        return ApiError::not_found(format!("No resource at {method} {path}.")).into_response();
    }
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {path}."),
    )
    .into_response()
}

fn is_known_path(path: &str) -> bool {
    path == "/healthz"
        || twinscape_protocol::routes::is_api_path(path)
        || path == twinscape_protocol::routes::ASSETS
        || path.starts_with("/3d/")
        || twinscape_protocol::routes::is_app_route(path)
}

async fn app_not_built() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Html(
            "<!doctype html><title>Twinscape</title><h1>Twinscape is running</h1>\
             <p>The browser app is not built. Run <code>trunk build --release</code> \
             (or <code>scripts/run</code>) and restart, or pass <code>--web-dir</code>.</p>",
        ),
    )
}

/// `--web-dir`, else `./dist`, else the `dist/` of the source tree this binary
/// was built in (`target/<profile>/twinscape` → `dist/`).
fn resolve_web_dir(flag: Option<&Path>) -> Option<PathBuf> {
    let has_index = |d: &Path| d.join("index.html").is_file();
    if let Some(dir) = flag {
        return has_index(dir).then(|| dir.to_path_buf());
    }
    let cwd = PathBuf::from("dist");
    if has_index(&cwd) {
        return Some(cwd);
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(4)
        .map(|a| a.join("dist"))
        .find(|d| has_index(d))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn random_u64() -> u64 {
    twinscape_core::random_u128() as u64
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    for chunk in b.chunks_mut(16) {
        let r = twinscape_core::random_u128().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::is_hashed_file;

    #[test]
    fn trunks_hashed_names_are_told_apart() {
        assert!(is_hashed_file("/twinscape-web-8675e182966d497.js"));
        assert!(is_hashed_file("/twinscape-web-8675e182966d497_bg.wasm"));
        assert!(is_hashed_file("/style-f586107d308cdb0c.css"));
        assert!(is_hashed_file("/style-f586107d308cdb0c.css.gz"));
        assert!(!is_hashed_file("/twinscape-scene.js"));
        assert!(!is_hashed_file("/index.html"));
        assert!(!is_hashed_file("/3d/demo-building.glb"));
        assert!(!is_hashed_file("/app-123.js"));
        assert!(!is_hashed_file("/-0123456789abcdef.js"));
    }
}
