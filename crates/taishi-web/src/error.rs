//! Errors of console pages: a missing session sends the browser to the login page; everything else is
//! a small bilingual HTML page with the status the API would give for the same thing (404 for anything
//! outside the caller's subtree, 403 for a role that may not act).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use taishi_server::AppError;

/// What went wrong while answering a console request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in (or the session expired): go to the login page, then back to `next`.
    #[error("sign-in required")]
    Login {
        /// Where to return after signing in.
        next: String,
    },
    /// The form's CSRF token is missing or wrong.
    #[error("the form expired or came from another site")]
    Csrf,
    /// The form could not be read.
    #[error("bad form: {0}")]
    BadForm(String),
    /// An error of the API layer (scoping, store, validation).
    #[error(transparent)]
    App(#[from] AppError),
    /// The loop refused or failed an operation.
    #[error(transparent)]
    Loop(#[from] taishi_loop::LoopError),
    /// A page could not be rendered.
    #[error("template: {0}")]
    Render(#[from] askama::Error),
}

/// Shorthand for page results.
pub type WebResult<T> = Result<T, WebError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    zh: &'static str,
    en: &'static str,
    detail: String,
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::Login { .. } => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadForm(_) => StatusCode::BAD_REQUEST,
            WebError::App(e) => e.status(),
            WebError::Loop(e) => loop_status(e),
            WebError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn loop_status(e: &taishi_loop::LoopError) -> StatusCode {
    use taishi_loop::LoopError as L;
    use taishi_store::StoreError as S;
    match e {
        L::Store(S::NotFound { .. }) => StatusCode::NOT_FOUND,
        L::Store(S::Conflict(_) | S::Refused(_)) => StatusCode::CONFLICT,
        L::Store(S::Invalid(_) | S::Rejected(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        L::Store(S::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        L::Store(_) | L::Tree(_) => StatusCode::INTERNAL_SERVER_ERROR,
        L::Forbidden(_) => StatusCode::FORBIDDEN,
        L::Invalid(_) | L::Attachment(_) => StatusCode::UNPROCESSABLE_ENTITY,
        L::Notice(_) | L::Finding(_) => StatusCode::CONFLICT,
    }
}

fn words(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("请求无效", "Bad request"),
        401 => ("需要登录", "Sign-in required"),
        403 => ("无权执行此操作", "Not allowed"),
        404 => (
            "未找到，或不在您的管辖范围内",
            "Not found, or outside your organisations",
        ),
        409 => ("操作与当前状态冲突", "Conflicts with the current state"),
        422 => ("输入有误", "Invalid input"),
        429 => (
            "尝试过于频繁，请稍后再试",
            "Too many attempts, try again later",
        ),
        503 => ("服务暂不可用", "Service unavailable"),
        _ => ("内部错误", "Internal error"),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Login { next } = &self {
            let to = format!("/login?next={}", urlencode(next));
            return Redirect::to(&to).into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "Console request failed.");
        }
        let detail = match &self {
            WebError::App(e) if !status.is_server_error() => e.to_string(),
            WebError::Csrf | WebError::BadForm(_) => self.to_string(),
            WebError::Loop(_) if !status.is_server_error() => self.to_string(),
            _ => String::new(),
        };
        let (zh, en) = words(status);
        let page = ErrorPage {
            status: status.as_u16(),
            zh,
            en,
            detail,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{} {en}", status.as_u16()));
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        resp
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_redirect_keeps_the_target() {
        let r = WebError::Login {
            next: "/orgs/3?q=a b".into(),
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?next=/orgs/3%3Fq%3Da%20b"
        );
    }

    #[test]
    fn out_of_scope_is_a_404_page() {
        let r = WebError::App(AppError::not_found("org 7")).into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}
