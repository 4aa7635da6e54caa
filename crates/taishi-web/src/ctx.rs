//! The request context of a console page: who is signed in (the server's own [`Caller`] extractor, so
//! the console and the API share one authentication and one scoping), the language, the CSRF token, and
//! the extractor for posted forms that refuses any form without the right token.

use crate::error::WebError;
use crate::i18n::{Catalogues, Lang, Tr};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::cookie::CookieJar;
use jiff::tz::TimeZone;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use taishi_model::Role;
use taishi_server::auth::SESSION_COOKIE;
use taishi_server::{AppError, AppState, Caller, Principal};

/// Name of the cookie holding the console language.
pub const LANG_COOKIE: &str = "taishi_lang";
/// Largest posted form the console reads (attachments use their own limit).
pub const FORM_LIMIT: usize = 256 * 1024;

/// The console's state: the server's state (store, options, clock) plus the message catalogues and the
/// display time zone.
#[derive(Clone)]
pub struct WebState {
    /// The API server's state; handlers check callers and read the store through it.
    pub app: AppState,
    /// Message catalogues, parsed once.
    pub cats: Arc<Catalogues>,
    /// Time zone for displayed dates.
    pub tz: TimeZone,
    /// Cache-busting version of the static files.
    pub static_version: Arc<str>,
    /// The loop settings the server started with, restored when an admin drops a stored setting.
    pub baseline: Arc<crate::pages::admin::Baseline>,
}

impl WebState {
    /// The closed loop (findings, notices, scores) of the server: every change a page makes goes
    /// through it, with the policy, notifier and re-verifier the binary configured.
    pub fn loops(&self) -> &taishi_loop::LoopService {
        self.app.loop_service()
    }

    /// A translator for `lang`.
    pub fn tr(&self, lang: Lang) -> Tr {
        Tr::new(lang, self.cats.clone(), self.tz.clone())
    }
}

/// The language of a request: the cookie, else `Accept-Language`, else Simplified Chinese.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    let jar = CookieJar::from_headers(headers);
    jar.get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::ZhCn)
}

/// The CSRF token of a session: a hash of the session secret under a label of its own, so it differs
/// from the stored session hash and cannot be forged without the HttpOnly cookie.
pub fn csrf_for(session_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"taishi-web-csrf\x1f");
    h.update(session_secret.as_bytes());
    hex::encode(&h.finalize()[..20])
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in console request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller, exactly as the API sees it.
    pub caller: Caller,
    /// Translation and formatting.
    pub tr: Tr,
    /// The CSRF token every form of this page carries.
    pub csrf: String,
    /// Path and query of this request (for `next=` after a language switch).
    pub here: String,
}

impl Ctx {
    /// The caller as the loop service knows it: same actor, role and subtree.
    pub fn loop_caller(&self) -> taishi_loop::Caller {
        taishi_loop::Caller {
            actor: taishi_model::notice::LoopActor {
                actor: self.caller.actor.clone(),
                role: Some(self.caller.role),
            },
            scope: Some(self.caller.scope),
        }
    }

    /// True for roles that triage and issue notices.
    pub fn is_analyst(&self) -> bool {
        matches!(self.caller.role, Role::Admin | Role::Analyst)
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.caller.role == Role::Admin
    }

    /// Refuses a posted token that is not this session's.
    pub fn check_csrf(&self, posted: &str) -> Result<(), WebError> {
        match self.caller.principal {
            // Bearer tokens are not sent by browsers on their own, so they need no CSRF token.
            Principal::Token(_) => Ok(()),
            Principal::User { .. } if same_token(&self.csrf, posted) => Ok(()),
            Principal::User { .. } => Err(WebError::Csrf),
        }
    }
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let caller = match Caller::from_request_parts(parts, &state.app).await {
            Ok(c) => c,
            Err(AppError::Unauthenticated) => {
                let next = if parts.method == Method::GET {
                    here
                } else {
                    "/".into()
                };
                return Err(WebError::Login { next });
            }
            Err(e) => return Err(e.into()),
        };
        let jar = CookieJar::from_headers(&parts.headers);
        let csrf = jar
            .get(SESSION_COOKIE)
            .map(|c| csrf_for(c.value()))
            .unwrap_or_default();
        let tr = state.tr(request_lang(&parts.headers));
        Ok(Ctx {
            caller,
            tr,
            csrf,
            here,
        })
    }
}

/// A posted form with a valid CSRF token, and the context of its sender.
#[derive(Debug)]
pub struct Posted<T> {
    /// The sender.
    pub ctx: Ctx,
    /// The form's fields (without `csrf`).
    pub form: T,
    /// Every field as posted, in order (for repeated fields such as selected ids).
    pub pairs: Vec<(String, String)>,
}

impl<T: DeserializeOwned> FromRequest<WebState> for Posted<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| WebError::BadForm("body".into()))?;
        let (form, pairs) = decode_form::<T>(&bytes)?;
        let posted = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        ctx.check_csrf(posted)?;
        Ok(Posted { ctx, form, pairs })
    }
}

/// Decodes an urlencoded body into `T` and the raw pairs; names the field on error.
pub fn decode_form<T: DeserializeOwned>(
    bytes: &Bytes,
) -> Result<(T, Vec<(String, String)>), WebError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(bytes).map_err(|e| WebError::BadForm(e.to_string()))?;
    // Repeated keys are for `pairs`; the typed form sees the last value of each key.
    let form =
        serde_urlencoded::from_bytes::<T>(bytes).map_err(|e| WebError::BadForm(e.to_string()))?;
    Ok((form, pairs))
}

/// A `next=` target that stays on this site: a path starting with one `/`, else the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains(['\r', '\n']) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_depend_on_the_session_and_differ_from_its_hash() {
        let a = csrf_for("abc");
        assert_eq!(a, csrf_for("abc"));
        assert_ne!(a, csrf_for("abd"));
        assert_ne!(a, taishi_server::auth::secret::hash_secret("abc"));
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &a[1..]));
        assert!(!same_token(&a, ""));
    }

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/orgs/3?x=1")), "/orgs/3?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn forms_decode_with_repeated_fields() {
        #[derive(serde::Deserialize)]
        struct F {
            action: String,
        }
        let (f, pairs) =
            decode_form::<F>(&Bytes::from_static(b"csrf=t&action=fp&id=1&id=2")).unwrap();
        assert_eq!(f.action, "fp");
        assert_eq!(pairs.iter().filter(|(k, _)| k == "id").count(), 2);
    }
}
