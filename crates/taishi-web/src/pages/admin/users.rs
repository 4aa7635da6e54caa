//! `/admin/users`: the accounts inside the admin's subtree — list (name, role, org, enabled, last
//! sign-in), create (a password typed in or generated and shown once), change role and org, disable and
//! enable, reset the password (a new random one, shown once). Every change calls the API's handler.

use super::{Tab, form_error, org_by_code, parse_role, render, require_admin, tabs};
use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::Shell;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use taishi_model::{Org, OrgFilter, OrgId, Page, Role, User, UserFilter, UserId, UserPatch};
use taishi_server::AppError;
use taishi_server::api::extract::{ApiJson, ApiPath};
use taishi_server::api::users as api;
use taishi_server::auth::secret::random_password;

/// Most orgs offered in the org picker (the field takes any code in scope).
const ORG_CHOICES: u32 = 500;

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    s: Shell,
    tabs: Vec<Tab>,
    /// Each account, its org code, and whether it is the admin's own.
    rows: Vec<(User, String, bool)>,
    orgs: Vec<Org>,
    roles: Vec<&'static str>,
    /// A password to show once: (user name, password).
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
    let store = state.app.store();
    let app = |e: taishi_store::StoreError| WebError::App(e.into());
    let users = store
        .list_users(
            &UserFilter {
                within: Some(ctx.caller.scope),
                role: None,
            },
            Page::first(Page::MAX_LIMIT),
        )
        .await
        .map_err(app)?
        .items;
    let orgs = store
        .list_orgs(
            &OrgFilter {
                within: Some(ctx.caller.scope),
                ..OrgFilter::default()
            },
            Page::first(ORG_CHOICES),
        )
        .await
        .map_err(app)?
        .items;
    let names: HashMap<OrgId, String> = orgs.iter().map(|o| (o.id, o.code.clone())).collect();
    let mut rows = Vec::new();
    for u in users {
        let code = match names.get(&u.org_id) {
            Some(c) => c.clone(),
            None => store
                .get_org(u.org_id)
                .await
                .map(|o| o.code)
                .unwrap_or_default(),
        };
        let me = ctx.caller.user_id() == Some(u.id);
        rows.push((u, code, me));
    }
    let page = UsersPage {
        s: Shell::new(state, ctx, "/admin", ctx.tr.t("admin_common.users")),
        tabs: tabs("/admin/users"),
        rows,
        orgs,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        once,
        done,
        error,
    };
    render(&page, &page.error)
}

/// `GET /admin/users`.
pub async fn list(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    page(&state, &ctx, None, String::new(), String::new()).await
}

/// Fields of the create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: String,
    #[serde(default)]
    display_name: String,
    role: String,
    org: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users`: creates an account; a blank password is generated and shown once.
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
    let generated = f.password.is_empty();
    let password = if generated {
        random_password()
    } else {
        f.password
    };
    let body = api::CreateUser {
        name: f.name.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        role,
        org_id,
        password: password.clone(),
    };
    match api::create(State(state.app.clone()), ctx.caller.clone(), ApiJson(body)).await {
        Ok((_, user)) => {
            let once = generated.then(|| (user.name.clone(), password));
            let done = ctx.tr.f1("admin_users.created", "name", &user.name);
            page(&state, ctx, once, done, String::new()).await
        }
        Err(e) => page(&state, ctx, None, String::new(), form_error(e)?).await,
    }
}

/// Fields of a row's forms: `action` is `update`, `disable`, `enable` or `reset`.
#[derive(Debug, Deserialize)]
pub struct RowForm {
    action: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: String,
}

/// `POST /admin/users/{id}`: one change to one account.
pub async fn change(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    p: Posted<RowForm>,
) -> WebResult<Response> {
    let ctx = &p.ctx;
    require_admin(ctx)?;
    let f = p.form;
    let caller = ctx.caller.clone();
    let app = || State(state.app.clone());
    let patch = |disabled| UserPatch {
        disabled: Some(disabled),
        ..UserPatch::default()
    };
    let result: Result<(String, Option<(String, String)>), AppError> = match f.action.as_str() {
        "update" => {
            let role = match parse_role(&f.role) {
                Ok(r) => r,
                Err(e) => return page(&state, ctx, None, String::new(), e).await,
            };
            let org = match org_by_code(&state, &f.org).await {
                Ok(o) => o,
                Err(e) => return page(&state, ctx, None, String::new(), e).await,
            };
            let patch = UserPatch {
                role: Some(role),
                org_id: Some(org),
                ..UserPatch::default()
            };
            api::update(app(), caller, ApiPath(id), ApiJson(patch))
                .await
                .map(|u| (ctx.tr.f1("admin_users.updated", "name", &u.0.name), None))
        }
        "disable" | "enable" => api::update(
            app(),
            caller,
            ApiPath(id),
            ApiJson(patch(f.action == "disable")),
        )
        .await
        .map(|u| (ctx.tr.f1("admin_users.updated", "name", &u.0.name), None)),
        "reset" => {
            let user = taishi_server::api::scope::user(
                &state.app,
                &ctx.caller,
                UserId(id),
                taishi_server::policy::Action::ManageUsers,
            )
            .await?;
            let pw = random_password();
            let body = api::ResetPassword {
                password: pw.clone(),
            };
            api::reset_password(app(), caller, ApiPath(id), ApiJson(body))
                .await
                .map(|_| {
                    (
                        ctx.tr.f1("admin_users.reset_done", "name", &user.name),
                        Some((user.name.clone(), pw)),
                    )
                })
        }
        other => return Err(WebError::BadForm(format!("action {other}"))),
    };
    match result {
        Ok((done, once)) => page(&state, ctx, once, done, String::new()).await,
        Err(e) => page(&state, ctx, None, String::new(), form_error(e)?).await,
    }
}
