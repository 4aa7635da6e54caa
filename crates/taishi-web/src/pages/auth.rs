//! Signing in and out, changing one's password and switching the language. The work is done by the
//! API's own session handlers (same rate limits, audit entries and cookies); these pages only turn
//! forms into their calls and their answers into redirects.

use crate::ctx::{LANG_COOKIE, Posted, WebState, request_lang, safe_next, same_token};
use crate::error::{WebError, WebResult};
use crate::i18n::{Lang, Tr};
use crate::layout::{Shell, html};
use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use std::sync::Arc;
use taishi_server::api::extract::ApiJson;
use taishi_server::api::session::{self, ChangePassword, ClientAddr, LoginBody};
use taishi_server::auth::caller::same_site;
use taishi_server::auth::secret::new_session_secret;
use taishi_server::{AppError, Caller};

/// Cookie carrying the login form's CSRF token before any session exists (double submit).
const LOGIN_COOKIE: &str = "taishi_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    v: Arc<str>,
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

fn cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let s = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{s}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

fn lang_cookie(lang: Lang, secure: bool) -> HeaderValue {
    let s = if secure { "; Secure" } else { "" };
    let v = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{s}",
        lang.tag()
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

fn login_page(
    state: &WebState,
    lang: Lang,
    next: String,
    name: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (token, _) = new_session_secret();
    let page = LoginPage {
        tr: state.tr(lang),
        v: state.static_version.clone(),
        csrf: token.clone(),
        next,
        name,
        error,
    };
    let secure = state.app.options().secure_cookies;
    match html(&page) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r.headers_mut().append(
                header::SET_COOKIE,
                cookie(LOGIN_COOKIE, &token, "/login", 3600, secure),
            );
            r
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /login`: the sign-in form (or straight on when already signed in).
pub async fn login_form(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let chosen = q.lang.as_deref().and_then(Lang::parse);
    let lang = chosen.unwrap_or_else(|| request_lang(&headers));
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    if Caller::from_request_parts(&mut parts, &state.app)
        .await
        .is_ok()
    {
        return Redirect::to(&next).into_response();
    }
    let mut resp = login_page(&state, lang, next, String::new(), None, StatusCode::OK);
    if let Some(l) = chosen {
        resp.headers_mut().append(
            header::SET_COOKIE,
            lang_cookie(l, state.app.options().secure_cookies),
        );
    }
    resp
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    next: Option<String>,
    name: String,
    password: String,
}

/// `POST /login`: checks the form's token, then signs in through the API's login handler.
pub async fn login(
    State(state): State<WebState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let lang = request_lang(&headers);
    let Ok((form, _)) = crate::ctx::decode_form::<LoginForm>(&body) else {
        return WebError::BadForm("login".into()).into_response();
    };
    let next = safe_next(form.next.as_deref());
    let jar = CookieJar::from_headers(&headers);
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !same_site(&headers) || expected.is_empty() || !same_token(&expected, &form.csrf) {
        let msg = state.tr(lang).t("login.expired").to_owned();
        return login_page(
            &state,
            lang,
            next,
            form.name,
            Some(msg),
            StatusCode::FORBIDDEN,
        );
    }
    let body = LoginBody {
        name: form.name.clone(),
        password: form.password,
    };
    match session::login(State(state.app.clone()), addr, ApiJson(body)).await {
        Ok(resp) => {
            let mut out = Redirect::to(&next).into_response();
            for c in resp.headers().get_all(header::SET_COOKIE) {
                out.headers_mut().append(header::SET_COOKIE, c.clone());
            }
            let secure = state.app.options().secure_cookies;
            out.headers_mut().append(
                header::SET_COOKIE,
                cookie(LOGIN_COOKIE, "", "/login", 0, secure),
            );
            out
        }
        Err(e) => {
            let tr = state.tr(lang);
            let (msg, status) = match &e {
                AppError::RateLimited(s) => (
                    tr.f("login.limited", &[("s", s)]),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                AppError::InvalidCredentials => {
                    (tr.t("login.failed").to_owned(), StatusCode::UNAUTHORIZED)
                }
                _ => return WebError::App(e).into_response(),
            };
            login_page(&state, lang, next, form.name, Some(msg), status)
        }
    }
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /logout`: ends the session through the API and returns to the login page.
pub async fn logout(State(state): State<WebState>, p: Posted<Empty>) -> WebResult<Response> {
    let resp = session::logout(State(state.app.clone()), p.ctx.caller).await?;
    let mut out = Redirect::to("/login").into_response();
    for c in resp.headers().get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    Ok(out)
}

/// The language switch's fields.
#[derive(Debug, Deserialize)]
pub struct LangForm {
    lang: String,
    next: Option<String>,
}

/// `POST /lang`: remembers the language in a cookie and goes back.
pub async fn set_lang(State(state): State<WebState>, p: Posted<LangForm>) -> WebResult<Response> {
    let lang = Lang::parse(&p.form.lang).ok_or_else(|| WebError::BadForm("lang".into()))?;
    let mut out = Redirect::to(&safe_next(p.form.next.as_deref())).into_response();
    out.headers_mut().append(
        header::SET_COOKIE,
        lang_cookie(lang, state.app.options().secure_cookies),
    );
    Ok(out)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    s: Shell,
    error: Option<String>,
    done: bool,
}

/// Query of `GET /password`.
#[derive(Debug, Deserialize)]
pub struct PasswordQuery {
    done: Option<u8>,
}

/// `GET /password`: the change-password form.
pub async fn password_form(
    State(state): State<WebState>,
    ctx: crate::ctx::Ctx,
    Query(q): Query<PasswordQuery>,
) -> WebResult<Response> {
    let s = Shell::new(&state, &ctx, "", ctx.tr.t("password.title"));
    html(&PasswordPage {
        s,
        error: None,
        done: q.done.is_some(),
    })
}

/// The change-password form's fields.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// `POST /password`: changes the password through the API (which renews the session cookie).
pub async fn change_password(
    State(state): State<WebState>,
    addr: ClientAddr,
    p: Posted<PasswordForm>,
) -> WebResult<Response> {
    let ctx = p.ctx;
    let again = |error: String, status: StatusCode| -> WebResult<Response> {
        let s = Shell::new(&state, &ctx, "", ctx.tr.t("password.title"));
        let mut r = html(&PasswordPage {
            s,
            error: Some(error),
            done: false,
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    if p.form.new != p.form.confirm {
        return again(
            ctx.tr.t("password.mismatch").to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let body = ChangePassword {
        current_password: p.form.current,
        new_password: p.form.new,
    };
    match session::change_password(
        State(state.app.clone()),
        ctx.caller.clone(),
        addr,
        ApiJson(body),
    )
    .await
    {
        Ok(resp) => {
            let mut out = Redirect::to("/password?done=1").into_response();
            for c in resp.headers().get_all(header::SET_COOKIE) {
                out.headers_mut().append(header::SET_COOKIE, c.clone());
            }
            Ok(out)
        }
        Err(AppError::InvalidCredentials) => again(
            ctx.tr.t("password.wrong").to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        Err(AppError::Invalid(v)) => {
            let msg = v
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            again(msg, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}
