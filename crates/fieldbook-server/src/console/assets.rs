//! The console's web app, embedded in the binary at build time (see `build.rs`): `/console/`
//! serves `index.html`, `/console/<file>` the built files, and any other path under `/console/`
//! falls back to `index.html` (the app routes in the browser). Hashed files under `assets/` are
//! cached for a year (`immutable`); `index.html` is revalidated every time (`no-cache`), so a new
//! server version is picked up at the next page load. `/` redirects to `/console/`.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::api::AppState;
use crate::error::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// Shown when the server was built without the console UI.
pub const NOT_BUILT_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fieldbook console</title></head>\
<body><h1>Fieldbook office console</h1><p>The console UI was not built: run <code>npm run build</code> in ui/, then rebuild \
fieldbook-server.</p><p>控制台界面尚未构建：请在 ui/ 目录运行 <code>npm run build</code>，然后重新构建 fieldbook-server。</p></body></html>";

/// Whether this binary carries the built console UI.
pub fn built() -> bool {
    embedded::BUILT
}

pub fn file(path: &str) -> Option<&'static [u8]> {
    embedded::FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(path: &str, bytes: &'static [u8]) -> Response {
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

fn index() -> Response {
    match file("index.html") {
        Some(b) => respond("index.html", b),
        None => respond("index.html", NOT_BUILT_PAGE.as_bytes()),
    }
}

async fn index_handler() -> Response {
    index()
}

async fn path_handler(Path(path): Path<String>) -> Response {
    if let Some(b) = file(&path) {
        return respond(&path, b);
    }
    // A missing build file is a 404 (a stale page asking for an old hash), not the app.
    if path.starts_with("assets/") || path.starts_with("api/") {
        return Error::NotFound(format!("no console file /console/{path}")).into_response();
    }
    index()
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, HeaderValue::from_static(to))]).into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { redirect("/console/") }))
        .route("/console", get(|| async { redirect("/console/") }))
        .route("/console/", get(index_handler))
        .route("/console/{*path}", get(path_handler))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("assets/index-3f2a.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("assets/index-3f2a.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }

    #[test]
    fn index_is_served_built_or_not() {
        let resp = index();
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-cache");
        assert!(resp.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert_eq!(built(), file("index.html").is_some());
    }
}
