//! The bulletin archive of the caller's org: list, and download of each archived file (HTML,
//! Markdown, CSV). Archived HTML is a self-contained printable page with its own styles, so it is
//! always served as a download, never rendered inside the console's origin.

use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use taishi_server::AppError;
use taishi_server::api::scope;
use taishi_server::policy::Action;
use taishi_store::ArchivedBulletin;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "bulletins.html")]
struct ListPage {
    s: Shell,
    org: String,
    rows: Vec<ArchivedBulletin>,
}

async fn archive(state: &WebState, ctx: &Ctx) -> WebResult<(String, Vec<ArchivedBulletin>)> {
    let org = scope::org(
        &state.app,
        &ctx.caller,
        ctx.caller.scope,
        Action::ReadRegistry,
    )
    .await?;
    let mut rows = state
        .app
        .store()
        .bulletins(org.id)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    rows.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    Ok((org.name, rows))
}

/// `GET /bulletins`.
pub async fn list(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    let (org, rows) = archive(&state, &ctx).await?;
    let s = Shell::new(&state, &ctx, "/bulletins", ctx.tr.t("nav.bulletins"));
    html(&ListPage { s, org, rows })
}

/// `GET /bulletins/{id}`: the archived file as a download.
pub async fn download(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> WebResult<Response> {
    let (_, rows) = archive(&state, &ctx).await?;
    let b = rows
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| AppError::not_found(format!("bulletin {id}")))?;
    let (mime, ext) = match b.format.as_str() {
        "html" => ("text/html; charset=utf-8", "html"),
        "md" => ("text/markdown; charset=utf-8", "md"),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let name = format!(
        "attachment; filename=\"bulletin-{}-{}.{ext}\"",
        b.org, b.period
    );
    let mut resp = b.content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
