//! Browser-facing protections that depend on how the server is reached: the public URL (a
//! TLS-terminating proxy in front), `Secure` cookies and HSTS when people reach it over HTTPS,
//! and the console's security headers (CSP, `frame-ancestors 'none'`, `Referrer-Policy`,
//! `nosniff`).

use std::sync::Arc;

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, SET_COOKIE, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Uri};
use axum::response::Response;

use crate::error::{Error, Result};
use crate::login::Logins;

/// How the server is run, beyond where it listens.
#[derive(Clone, Default)]
pub struct Options {
    /// The address people and laptops use, when it is not the one the server listens on (a
    /// reverse proxy in front of it, usually terminating TLS): `https://fieldbook.example.com`.
    pub public_url: Option<PublicUrl>,
    /// Login throttling and the password-checking limit (one per server; tests pass their own
    /// to watch it).
    pub logins: Arc<Logins>,
    /// When device tokens rotate and expire (`--token-rotate-days`, `--token-life-days`).
    pub tokens: crate::devices::TokenPolicy,
    /// Who may read `/metrics` (`--metrics-token`).
    pub metrics_access: crate::metrics::Access,
    /// Set by [`crate::server::start_with`] when it serves TLS itself.
    pub serving_tls: bool,
}

/// A checked public URL: `http` or `https`, with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(text: &str) -> Result<PublicUrl> {
        let bad = |why: &str| Error::Invalid(format!("public URL '{text}': {why}; give the address people type, e.g. https://fieldbook.example.com"));
        let uri: Uri = text.trim().parse().map_err(|_| bad("not a URL"))?;
        match uri.scheme_str() {
            Some("https") | Some("http") => {}
            _ => return Err(bad("it must start with https:// (or http://)")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("it names no host"));
        }
        if uri.query().is_some() {
            return Err(bad("it cannot have a query (?…)"));
        }
        Ok(PublicUrl(text.trim().trim_end_matches('/').to_owned()))
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// HSTS: a year; subdomains are left alone (the server may share a domain with other sites).
pub const HSTS: &str = "max-age=31536000";

/// The console's content security policy. The built app is one script and one stylesheet from
/// `/console/assets/` (no inline script or style; Svelte builds its DOM from templates, chart.js
/// sizes its canvas through the CSSOM, which CSP does not govern), its only requests go to
/// `/console/api/`, and its icon is a `data:` URL.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every console answer (its API and its web app).
pub async fn console_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONSOLE_CSP));
    // For browsers without CSP's frame-ancestors.
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// Over HTTPS (served here, or by a proxy in front), cookies (the console's session) are marked
/// `Secure`, so a browser never sends them over plain HTTP, and HSTS tells the browser to use
/// HTTPS only.
pub async fn https_only(mut resp: Response) -> Response {
    resp.headers_mut().insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    let cookies: Vec<HeaderValue> = resp.headers().get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return resp;
    }
    resp.headers_mut().remove(SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text) if !text.split(';').any(|attr| attr.trim().eq_ignore_ascii_case("secure")) => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        resp.headers_mut().append(SET_COOKIE, secured);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked() {
        assert!(PublicUrl::parse("https://fieldbook.example.com/").unwrap().is_https());
        assert_eq!(PublicUrl::parse("https://fieldbook.example.com/").unwrap().as_str(), "https://fieldbook.example.com");
        assert!(!PublicUrl::parse("http://10.0.0.5:8780").unwrap().is_https());
        for bad in ["fieldbook.example.com", "ftp://x", "https://", "https://x/?a=1", ""] {
            let e = PublicUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("e.g. https://"), "{bad}: {e}");
        }
    }
}
