//! Logging in and out, who am I, and changing one's own password.

use super::extract::ApiJson;
use super::users::hash_blocking;
use crate::auth::caller::{Caller, Principal, user_caller};
use crate::auth::proxy::TrustedProxies;
use crate::auth::{SESSION_COOKIE, password, secret};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use taishi_model::{Actor, OrgId, Role, Session, User};
use taishi_store::NewAudit;

/// Where a request came from: the TCP peer (unknown in in-process tests without `ConnectInfo`) and its
/// `X-Forwarded-For` values. [`ClientAddr::resolve`] names the client under the server's trusted
/// proxies (see [`crate::auth::proxy`]).
#[derive(Debug, Clone, Default)]
pub struct ClientAddr {
    peer: Option<IpAddr>,
    forwarded_for: Vec<String>,
}

impl ClientAddr {
    /// The client's address: the peer, or what trusted proxies say it is.
    pub fn resolve(&self, trusted: &TrustedProxies) -> Option<IpAddr> {
        self.peer
            .map(|p| trusted.client_address(p, self.forwarded_for.iter().map(String::as_str)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        Ok(ClientAddr {
            peer,
            forwarded_for,
        })
    }
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
}

/// Who the caller is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Whoami {
    /// Login name or token name.
    pub name: String,
    /// `user` or `token`.
    pub kind: &'static str,
    /// Role.
    pub role: Role,
    /// Root of the subtree the caller may see.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
}

impl From<&Caller> for Whoami {
    fn from(c: &Caller) -> Self {
        let kind = match c.principal {
            Principal::User { .. } => "user",
            Principal::Token(_) => "token",
        };
        Whoami {
            name: c.name.clone(),
            kind,
            role: c.role,
            org_id: c.scope,
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.options().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let v = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&v)
        .unwrap_or_else(|_| HeaderValue::from_static("taishi_session=; Max-Age=0"))
}

async fn verify_blocking(password: String, phc: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || password::verify_password(&password, &phc))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

async fn audit(state: &AppState, actor: Actor, action: &str, user: &str, org: Option<OrgId>) {
    let entry = NewAudit {
        actor,
        action: action.to_owned(),
        entity_type: "session".into(),
        entity_id: user.to_owned(),
        org_id: org,
        before: None,
        after: None,
    };
    if let Err(e) = state.store().append_audit(entry).await {
        tracing::warn!(error = %e, action, "Could not write audit entry.");
    }
}

/// Opens a session for `user` and returns the Set-Cookie header for it.
async fn open_session(state: &AppState, user: &User) -> AppResult<HeaderValue> {
    let (value, hash) = secret::new_session_secret();
    let now = state.now();
    let ttl = state.options().session_ttl;
    let expires_at = now
        .saturating_add(ttl)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .store()
        .create_session(&Session {
            token_hash: hash,
            user_id: user.id,
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(session_cookie(state, &value, ttl.as_secs()))
}

/// Checks a password for `name`, counting failures against the rate limits.
async fn check_password(
    state: &AppState,
    name: &str,
    pw: String,
    from: &ClientAddr,
) -> AppResult<User> {
    let addr = from.resolve(&state.options().trusted_proxies);
    let now = state.now();
    state
        .limiter()
        .check(name, addr, now)
        .map_err(AppError::RateLimited)?;
    let creds = state.store().user_credentials(name).await?;
    let (user, ok) = match creds {
        Some((user, phc)) => {
            let ok = verify_blocking(pw, phc).await?;
            (Some(user), ok)
        }
        None => {
            verify_blocking(pw, password::dummy_hash().to_owned()).await?;
            (None, false)
        }
    };
    match user {
        Some(u) if ok && !u.disabled => {
            state.limiter().record_success(name);
            Ok(u)
        }
        u => {
            state.limiter().record_failure(name, addr, now);
            let org = u.as_ref().map(|u| u.org_id);
            audit(state, Actor::user(name), "session.login_failed", name, org).await;
            Err(AppError::InvalidCredentials)
        }
    }
}

/// Logs in with a password and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = Whoami), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    from: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<Response> {
    let user = check_password(&state, &body.name, body.password, &from).await?;
    let cookie = open_session(&state, &user).await?;
    state.store().record_login(user.id, state.now()).await?;
    audit(
        &state,
        Actor::user(&user.name),
        "session.login",
        &user.name,
        Some(user.org_id),
    )
    .await;
    let who = Whoami::from(&user_caller(user, String::new()));
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie);
    Ok((headers, Json(who)).into_response())
}

/// Ends the current session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    if let Principal::User { session_hash, .. } = &caller.principal {
        state.store().delete_session(session_hash).await?;
        audit(
            &state,
            caller.actor.clone(),
            "session.logout",
            &caller.name,
            Some(caller.scope),
        )
        .await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Who is calling.
#[utoipa::path(get, path = "/api/v1/auth/whoami", tag = "auth",
    responses((status = 200, body = Whoami), (status = 401, body = ErrorBody)))]
pub async fn whoami(caller: Caller) -> Json<Whoami> {
    Json(Whoami::from(&caller))
}

/// Body of `POST /api/v1/auth/password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

/// Changes the caller's own password; every other session of the user ends, this one is renewed.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePassword,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    from: ClientAddr,
    ApiJson(body): ApiJson<ChangePassword>,
) -> AppResult<Response> {
    if caller.user_id().is_none() {
        return Err(AppError::forbidden("API tokens have no password"));
    }
    password::check_new_password(&body.new_password)
        .map_err(|m| AppError::invalid("new_password", m))?;
    let user = check_password(&state, &caller.name, body.current_password, &from).await?;
    let hash = hash_blocking(body.new_password).await?;
    state
        .store()
        .set_password(&caller.actor, user.id, &hash)
        .await?;
    let cookie = open_session(&state, &user).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie);
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}
