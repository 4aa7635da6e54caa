//! The authenticated caller of a request, as an extractor: a handler that takes a [`Caller`] cannot run
//! for an anonymous request, so no handler can forget the check.
//!
//! A caller presents either the session cookie set at login or `Authorization: Bearer tsk_…`. Requests
//! that change state with a cookie must come from the same site (Fetch Metadata / Origin check), so
//! another site cannot ride on a logged-in browser.

use super::SESSION_COOKIE;
use super::secret::hash_secret;
use crate::error::AppError;
use crate::policy::{self, Action, Decision};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum_extra::extract::cookie::CookieJar;
use jiff::SignedDuration;
use taishi_model::{Actor, Org, OrgId, Role, TokenId, User, UserId};

/// Who is calling: a logged-in user or a machine token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user with a session cookie.
    User {
        /// The user's id.
        id: UserId,
        /// SHA-256 of the session id, to end the session at logout.
        session_hash: String,
    },
    /// A machine with an API token.
    Token(TokenId),
}

/// The authenticated caller, its role and the root of the subtree it may see.
#[derive(Debug, Clone)]
pub struct Caller {
    /// How the caller is written in the audit log.
    pub actor: Actor,
    /// Display name (login name or token name).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The root of the subtree it may see and act on.
    pub scope: OrgId,
    /// User or token.
    pub principal: Principal,
}

impl Caller {
    /// Fails with "not found" when `org` is outside the scope, with "forbidden" when the role may not do
    /// `action` there.
    pub fn check(&self, action: Action, org: &Org) -> Result<(), AppError> {
        decide(
            policy::can(self.role, action, &org.path, self.scope),
            || format!("org {}", org.id),
        )
    }

    /// Fails with "forbidden" unless the role may do `action` somewhere (for checks before the target is
    /// known, such as listing).
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if policy::role_allows(self.role, action) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "role {} may not do this",
                self.role
            )))
        }
    }

    /// The user id when the caller is a user.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            Principal::Token(_) => None,
        }
    }
}

/// Turns a policy decision into a handler result; `what` names the target for the 404 message.
pub fn decide(d: Decision, what: impl FnOnce() -> String) -> Result<(), AppError> {
    match d {
        Decision::Allow => Ok(()),
        Decision::OutOfScope => Err(AppError::not_found(what())),
        Decision::RoleDenied => Err(AppError::forbidden("your role may not do this here")),
    }
}

/// How often a token's `last_used_at` is written at most; keeps busy machine clients from turning every
/// read into a write.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(&parts.headers)? {
            return token_caller(state, &token).await;
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(AppError::Unauthenticated);
        };
        if !is_safe(&parts.method) && !same_site(&parts.headers) {
            return Err(AppError::forbidden("cross-site request refused"));
        }
        let hash = hash_secret(cookie.value());
        let Some((_, user)) = state.store().get_session(&hash, state.now()).await? else {
            return Err(AppError::Unauthenticated);
        };
        if user.disabled {
            return Err(AppError::Unauthenticated);
        }
        Ok(user_caller(user, hash))
    }
}

/// The caller for a user with a session.
pub fn user_caller(user: User, session_hash: String) -> Caller {
    Caller {
        actor: Actor::user(&user.name),
        name: user.name,
        role: user.role,
        scope: user.org_id,
        principal: Principal::User {
            id: user.id,
            session_hash,
        },
    }
}

async fn token_caller(state: &AppState, token: &str) -> Result<Caller, AppError> {
    let store = state.store();
    let Some(t) = store.token_by_hash(&hash_secret(token)).await? else {
        return Err(AppError::Unauthenticated);
    };
    if t.revoked_at.is_some() {
        return Err(AppError::Unauthenticated);
    }
    let now = state.now();
    let stale = t
        .last_used_at
        .is_none_or(|u| now.duration_since(u) >= TOUCH_EVERY);
    if stale && let Err(e) = store.touch_token(t.id, now).await {
        tracing::warn!(token = %t.name, error = %e, "Could not record token use.");
    }
    Ok(Caller {
        actor: Actor::token(&t.name),
        name: t.name,
        role: t.role,
        scope: t.org_id,
        principal: Principal::Token(t.id),
    })
}

/// The bearer token, if the request carries one; a malformed Authorization header is an error rather
/// than silently anonymous.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| AppError::Unauthenticated)?;
    match v.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(AppError::Unauthenticated),
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Fetch Metadata first (`Sec-Fetch-Site` of `same-origin` or `none`), else the `Origin` host must equal
/// `Host`; requests with neither header (non-browser clients) pass.
pub fn same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(
            bearer(&h(&[("authorization", "Bearer tsk_abc")]))
                .unwrap()
                .as_deref(),
            Some("tsk_abc")
        );
        assert_eq!(bearer(&h(&[])).unwrap(), None);
        assert!(bearer(&h(&[("authorization", "Basic eDp5")])).is_err());
        assert!(bearer(&h(&[("authorization", "Bearer ")])).is_err());
    }

    #[test]
    fn cross_site_detection() {
        assert!(same_site(&h(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_site(&h(&[("sec-fetch-site", "cross-site")])));
        assert!(same_site(&h(&[
            ("origin", "https://a.cn:8443"),
            ("host", "a.cn:8443")
        ])));
        assert!(!same_site(&h(&[
            ("origin", "https://evil.example"),
            ("host", "a.cn")
        ])));
        assert!(same_site(&h(&[])));
    }
}
