//! `/admin/tokens`: API tokens inside the admin's subtree — list (with revoked ones), create (the
//! secret is shown once), revoke. Every change calls the API's handler.

use super::{Tab, form_error, org_by_code, parse_role, render, require_admin, tabs};
use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::Shell;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use taishi_model::{ApiToken, Page, Role, TokenFilter};
use taishi_server::api::extract::{ApiJson, ApiPath};
use taishi_server::api::tokens as api;

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    s: Shell,
    tabs: Vec<Tab>,
    rows: Vec<ApiToken>,
    roles: Vec<&'static str>,
    /// A new secret to show once: (token name, secret).
    once: Option<(String, String)>,
    done: String,
    error: String,
}

async fn page(
    state: &WebState,
    ctx: &Ctx,
    once: Option<(String, String)>,
    done: String,
    error: String,
) -> WebResult<Response> {
    require_admin(ctx)?;
    let rows = state
        .app
        .store()
        .list_tokens(
            &TokenFilter {
                within: Some(ctx.caller.scope),
                include_revoked: true,
            },
            Page::first(Page::MAX_LIMIT),
        )
        .await
        .map_err(|e| WebError::App(e.into()))?
        .items;
    let page = TokensPage {
        s: Shell::new(state, ctx, "/admin", ctx.tr.t("admin_common.tokens")),
        tabs: tabs("/admin/tokens"),
        rows,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        once,
        done,
        error,
    };
    render(&page, &page.error)
}

/// `GET /admin/tokens`.
pub async fn list(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    page(&state, &ctx, None, String::new(), String::new()).await
}

/// Fields of the create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: String,
    role: String,
    org: String,
}

/// `POST /admin/tokens`: creates a token and shows its secret once.
pub async fn create(State(state): State<WebState>, p: Posted<CreateForm>) -> WebResult<Response> {
    let ctx = &p.ctx;
    require_admin(ctx)?;
    let f = p.form;
    let role = match parse_role(&f.role) {
        Ok(r) => r,
        Err(e) => return page(&state, ctx, None, String::new(), e).await,
    };
    let org_id = match org_by_code(&state, &f.org).await {
        Ok(o) => o,
        Err(e) => return page(&state, ctx, None, String::new(), e).await,
    };
    let body = api::CreateToken {
        name: f.name.trim().to_owned(),
        role,
        org_id,
    };
    match api::create(State(state.app.clone()), ctx.caller.clone(), ApiJson(body)).await {
        Ok((_, created)) => {
            let name = created.0.info.name.clone();
            let done = ctx.tr.f1("admin_tokens.created", "name", &name);
            page(
                &state,
                ctx,
                Some((name, created.0.token)),
                done,
                String::new(),
            )
            .await
        }
        Err(e) => page(&state, ctx, None, String::new(), form_error(e)?).await,
    }
}

/// Fields of the revoke form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct RevokeForm {}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    p: Posted<RevokeForm>,
) -> WebResult<Response> {
    let ctx = &p.ctx;
    require_admin(ctx)?;
    let t = api::revoke(State(state.app.clone()), ctx.caller.clone(), ApiPath(id)).await?;
    let done = ctx.tr.f1("admin_tokens.revoked", "name", &t.0.name);
    page(&state, ctx, None, done, String::new()).await
}
