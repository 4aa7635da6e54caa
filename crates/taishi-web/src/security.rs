//! Response hardening for every console response, the static files served from the binary, and the
//! check that keeps links to the outside world to `http` and `https`.
//!
//! The Content-Security-Policy allows scripts, styles and images only from this origin: no inline
//! script, no `eval`, no inline `style` attributes, no framing, forms post only here. Charts are inline
//! SVG markup with presentation attributes, which the policy permits.

use axum::extract::{Path, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The console's Content-Security-Policy.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every console response; pages are never cached, static files are.
pub async fn harden(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set a policy of its own (the bulletin view and its sandboxed frame); every
    // other response gets the console's.
    let csp = HeaderName::from_static("content-security-policy");
    if !h.contains_key(&csp) {
        h.insert(csp, HeaderValue::from_static(CSP));
    }
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

struct StaticFile {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

const FILES: [StaticFile; 3] = [
    StaticFile {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../static/app.css"),
    },
    StaticFile {
        name: "app.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../static/app.js"),
    },
    StaticFile {
        name: "favicon.svg",
        mime: "image/svg+xml",
        body: include_bytes!("../static/favicon.svg"),
    },
];

/// A short hash of every static file, appended to their URLs (`?v=`) so a new build is fetched at once
/// while an unchanged one is cached for a year.
pub fn static_version() -> String {
    let mut h = Sha256::new();
    for f in &FILES {
        h.update(f.body);
    }
    hex::encode(&h.finalize()[..6])
}

/// `GET /static/{name}`: a file embedded in the binary, cached for a year (URLs carry the version).
pub async fn static_file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|f| f.name == name) {
        Some(f) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(f.mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            f.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The URL when it is an absolute `http` or `https` URL with a host and no characters that could break
/// out of an attribute; anything else (`javascript:`, `data:`, relative tricks) gives `None`, and the
/// page shows the text without a link.
pub fn external_href(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &u[8..]
    } else if lower.starts_with("http://") {
        &u[7..]
    } else {
        return None;
    };
    let host_ok = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[');
    let clean = !u
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'));
    (host_ok && clean).then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_links() {
        assert_eq!(
            external_href("https://gov.example.cn/a?b=1"),
            Some("https://gov.example.cn/a?b=1")
        );
        assert_eq!(external_href("HTTP://x.cn"), Some("HTTP://x.cn"));
        assert_eq!(external_href("javascript:alert(1)"), None);
        assert_eq!(external_href("JaVaScRiPt:alert(1)"), None);
        assert_eq!(external_href(" javascript:alert(1)"), None);
        assert_eq!(external_href("data:text/html,<script>"), None);
        assert_eq!(external_href("//evil.example"), None);
        assert_eq!(external_href("https://"), None);
        assert_eq!(external_href("https:///x"), None);
        assert_eq!(external_href("https://a.cn/\"onmouseover=alert(1)"), None);
        assert_eq!(external_href("https://a.cn/\n"), Some("https://a.cn/"));
    }

    #[test]
    fn static_files_have_a_stable_version() {
        assert_eq!(static_version(), static_version());
        assert_eq!(static_version().len(), 12);
    }
}
