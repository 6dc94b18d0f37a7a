//! What the app knows: its connection settings ([`Config`], passed in, never
//! read from the window by the components) and the live replica ([`live`]).

pub mod live;

use crate::api::Api;
use leptos::prelude::*;

/// How the app reaches its server. The app reads one from the page it is
/// in ([`Config::from_window`]); an embedding page builds its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The server's origin (`https://twins.example:8080`); empty for the
    /// page's own origin.
    pub server: String,
    /// Bearer token for the API and the live feed.
    pub token: Option<String>,
    /// A query limiting the replica to the twins it selects
    /// (`SELECT … FROM DIGITALTWINS …`); `None` for the whole graph.
    pub scope: Option<String>,
}

impl Config {
    /// The page's own origin; the token handed once in `?token=` (then kept
    /// in session storage); the replica's scope from `?scope=`.
    pub fn from_window() -> Config {
        let params = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok());
        let param = |name: &str| {
            params
                .as_ref()
                .and_then(|p| p.get(name))
                .filter(|v| !v.trim().is_empty())
        };
        let storage = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
        let from_url = param("token");
        if let (Some(t), Some(st)) = (&from_url, &storage) {
            let _ = st.set_item("twinscape-token", t);
        }
        let token = from_url
            .or_else(|| storage.and_then(|st| st.get_item("twinscape-token").ok().flatten()));
        Config {
            server: String::new(),
            token,
            scope: param("scope"),
        }
    }

    /// The REST API of the server.
    pub fn api(&self) -> Api {
        Api::new(self.server.clone(), self.token.clone())
    }

    /// The live feed's WebSocket URL.
    pub fn live_url(&self) -> Option<String> {
        let path = twinscape_protocol::live::LIVE_PATH;
        if let Some(rest) = self.server.strip_prefix("https://") {
            return Some(format!("wss://{}{path}", rest.trim_end_matches('/')));
        }
        if let Some(rest) = self.server.strip_prefix("http://") {
            return Some(format!("ws://{}{path}", rest.trim_end_matches('/')));
        }
        let loc = web_sys::window()?.location();
        let scheme = if loc.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}{path}", loc.host().ok()?))
    }
}

/// The app's config from context.
pub fn use_config() -> Config {
    expect_context::<Config>()
}
