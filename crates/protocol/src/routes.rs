//! Paths both ends agree on: the browser app's client-side routes (the
//! server answers them with `index.html`, the app's router draws them) and
//! the prefixes of ADT's REST API (guarded by auth, told apart from 404s).

/// The explorer: models, queries on the replica, twins.
pub const EXPLORER: &str = "/explorer";
/// The 3D scenes.
pub const SCENES: &str = "/scenes";
/// A scene alone, without the app's navigation (for iframes).
pub const EMBED: &str = "/embed";

/// Client-side routes of the browser app. Each also matches everything
/// below it (`/scenes/…`), except `/`.
pub const APP_ROUTES: &[&str] = &["/", EXPLORER, SCENES, EMBED];

/// A route as the app's router names it: without its leading `/`.
pub fn segment(route: &'static str) -> &'static str {
    route.trim_start_matches('/')
}

/// Prefixes of ADT's data-plane API (a bare name also matches itself).
pub const API_PREFIXES: &[&str] = &[
    "/models",
    "/digitaltwins/",
    "/query",
    "/eventroutes",
    "/endpoints",
    "/jobs/",
];

/// Everything but RFC 3986's unreserved characters is escaped in a segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment (a twin id, a relationship id), percent-encoded: what
/// the server writes into links and the app into request paths.
pub fn segment_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Whether `path` is one of the app's client-side routes.
pub fn is_app_route(path: &str) -> bool {
    APP_ROUTES.iter().any(|r| {
        path == *r || (*r != "/" && path.starts_with(r) && path[r.len()..].starts_with('/'))
    })
}

/// The 3D files: `GET /3d/{name}` is public (the viewer loads them like
/// the app's own files); listing (`GET /3d`) and uploads are API calls.
pub const ASSETS: &str = "/3d";

/// Whether a request is an API call (authenticated, answered in ADT's
/// shapes): an ADT path; a `/scenes` path with an `api-version` parameter
/// (without one it is the app's page); the 3D files' list and writes.
pub fn is_api_request(method: &str, path: &str, query: Option<&str>) -> bool {
    if is_api_path(path) || path == ASSETS {
        return true;
    }
    if path.starts_with("/3d/") {
        return !matches!(method, "GET" | "HEAD");
    }
    under(path, SCENES) && has_api_version(query)
}

/// Whether `path` is `route` or below it.
fn under(path: &str, route: &str) -> bool {
    path == route || (path.starts_with(route) && path[route.len()..].starts_with('/'))
}

/// Whether a query string has an `api-version` parameter.
pub fn has_api_version(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|p| {
            p.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("api-version"))
        })
    })
}

/// Whether `path` belongs to the REST API, matched by a route or not.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_routes_match_themselves_and_below() {
        assert!(is_app_route("/"));
        assert!(is_app_route("/scenes"));
        assert!(is_app_route("/scenes/lobby/edit"));
        assert!(is_app_route("/embed/x"));
        assert!(!is_app_route("/scenesx"));
        assert!(!is_app_route("/models"));
    }

    #[test]
    fn segments_escape_all_but_unreserved_characters() {
        assert_eq!(segment_encode("Room 1/ä-_.~"), "Room%201%2F%C3%A4-_.~");
    }

    #[test]
    fn scenes_are_api_calls_only_with_an_api_version() {
        let q = Some("api-version=2023-10-31");
        assert!(is_api_request("GET", "/scenes", q));
        assert!(is_api_request(
            "PUT",
            "/scenes/lobby",
            Some("x=1&API-VERSION=2023-10-31")
        ));
        assert!(!is_api_request("GET", "/scenes", None));
        assert!(!is_api_request("GET", "/scenes/lobby", Some("layers=a")));
        assert!(!is_api_request("GET", "/scenesx", q));
        assert!(is_api_request("GET", "/3d", None));
        assert!(is_api_request("PUT", "/3d/a.glb", None));
        assert!(!is_api_request("GET", "/3d/a.glb", None));
        assert!(is_api_request("GET", "/digitaltwins/a", None));
    }

    #[test]
    fn api_paths() {
        assert!(is_api_path("/models"));
        assert!(is_api_path("/models/dtmi:x;1"));
        assert!(is_api_path("/digitaltwins/a"));
        assert!(is_api_path("/digitaltwins"));
        assert!(is_api_path("/jobs/imports"));
        assert!(!is_api_path("/healthz"));
        assert!(!is_api_path("/explorer"));
    }
}
