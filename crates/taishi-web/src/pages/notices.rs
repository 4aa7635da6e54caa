//! Notices (通报): the list (by state, overdue) and the page of one notice with its findings, deadlines,
//! rectifications and the timeline of every transition; the forms for each step of the workflow
//! (issue, acknowledge, submit rectification, verify, return, cancel) call the loop service, which
//! checks role, scope and state and writes the audit line.

use super::findings::org_names;
use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{Shell, html};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use taishi_model::finding::Finding;
use taishi_model::notice::{Notice, NoticeAction, NoticeState};
use taishi_model::rectification::Rectification;
use taishi_server::AppError;
use taishi_server::api::scope;
use taishi_server::policy::Action;
use taishi_store::NoticeQuery;
use uuid::Uuid;

/// Query of `GET /notices`.
#[derive(Debug, Default, Deserialize)]
pub struct NoticesQuery {
    state: Option<String>,
    overdue: Option<u8>,
}

/// The workflow states in order, for filters and counts.
pub const STATES: [NoticeState; 8] = [
    NoticeState::Draft,
    NoticeState::Issued,
    NoticeState::Acknowledged,
    NoticeState::RectificationSubmitted,
    NoticeState::Verifying,
    NoticeState::Returned,
    NoticeState::Closed,
    NoticeState::Cancelled,
];

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage {
    s: Shell,
    rows: Vec<(Notice, String, bool)>,
    state: String,
    overdue: bool,
    states: Vec<&'static str>,
}

/// The notices the caller may see: its subtree's, without drafts unless it drafts notices itself.
pub async fn visible(state: &WebState, ctx: &Ctx) -> WebResult<Vec<Notice>> {
    ctx.caller.require(Action::ReadRegistry)?;
    let q = NoticeQuery {
        within: Some(ctx.caller.scope),
        live_only: false,
    };
    let all = state
        .app
        .store()
        .list_notices(&q)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    Ok(all
        .into_iter()
        .filter(|n| ctx.is_analyst() || n.state != NoticeState::Draft)
        .collect())
}

/// `GET /notices`.
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<NoticesQuery>,
) -> WebResult<Response> {
    let now = state.app.now();
    let want = q.state.clone().unwrap_or_default();
    let mut notices: Vec<Notice> = visible(&state, &ctx)
        .await?
        .into_iter()
        .filter(|n| want.is_empty() || n.state.as_str() == want)
        .filter(|n| q.overdue.is_none() || n.is_overdue(now))
        .collect();
    notices.sort_by_key(|n| std::cmp::Reverse(n.created_at));
    notices.truncate(500);
    let names = org_names(&state, notices.iter().map(|n| n.org)).await;
    let rows = notices
        .into_iter()
        .map(|n| {
            let over = n.is_overdue(now);
            (
                n.clone(),
                names.get(&n.org).cloned().unwrap_or_default(),
                over,
            )
        })
        .collect();
    let s = Shell::new(&state, &ctx, "/notices", ctx.tr.t("nav.notices"));
    let states = STATES.iter().map(|s| s.as_str()).collect();
    html(&ListPage {
        s,
        rows,
        state: want,
        overdue: q.overdue.is_some(),
        states,
    })
}

/// One step of the timeline.
#[derive(Debug, Clone)]
pub struct Step {
    /// When.
    pub at: jiff::Timestamp,
    /// Who.
    pub actor: String,
    /// Action name.
    pub action: String,
    /// From state.
    pub from: &'static str,
    /// To state.
    pub to: &'static str,
    /// Comment.
    pub comment: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    s: Shell,
    n: Notice,
    org: String,
    findings: Vec<Finding>,
    rects: Vec<Rectification>,
    steps: Vec<Step>,
    overdue: bool,
    analyst: bool,
    upload_error: String,
    upload_hint: String,
    can_ack: bool,
    can_submit: bool,
    can_verify: bool,
    can_cancel: bool,
}

async fn scoped(state: &WebState, ctx: &Ctx, id: Uuid) -> WebResult<Notice> {
    let what = || AppError::not_found(format!("notice {id}"));
    let n = state
        .app
        .store()
        .get_notice(id)
        .await
        .map_err(|_| WebError::App(what()))?;
    scope::org(&state.app, &ctx.caller, n.org, Action::ReadRegistry)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => WebError::App(what()),
            other => WebError::App(other),
        })?;
    if n.state == NoticeState::Draft && !ctx.is_analyst() {
        return Err(WebError::App(what()));
    }
    Ok(n)
}

/// `GET /notices/{id}`.
pub async fn notice(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> WebResult<Response> {
    render_notice(&state, &ctx, id, None).await
}

/// The page of notice `id`, with `upload_error` (status and message) shown at the rectification form.
async fn render_notice(
    state: &WebState,
    ctx: &Ctx,
    id: Uuid,
    upload_error: Option<(StatusCode, String)>,
) -> WebResult<Response> {
    let (state, ctx) = (state.clone(), ctx.clone());
    let n = scoped(&state, &ctx, id).await?;
    let store = state.app.store();
    let org = store
        .get_org(n.org)
        .await
        .map(|o| o.name)
        .unwrap_or_default();
    let mut findings = Vec::new();
    for f in &n.findings {
        if let Ok(f) = store.get_finding(*f).await {
            findings.push(f);
        }
    }
    let rects = store
        .rectifications(n.id)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    let steps = n
        .history
        .iter()
        .map(|e| Step {
            at: e.at,
            actor: e.actor.as_str().to_owned(),
            action: e.action.clone(),
            from: e.from.as_str(),
            to: e.to.as_str(),
            comment: e.comment.clone(),
        })
        .collect();
    let analyst = ctx.is_analyst();
    let acts = matches!(ctx.caller.role, taishi_model::Role::Officer) || analyst;
    use NoticeState as S;
    let limits = state.loops().attachment_policy();
    let status = upload_error.as_ref().map_or(StatusCode::OK, |e| e.0);
    let page = NoticePage {
        upload_error: upload_error.map(|e| e.1).unwrap_or_default(),
        upload_hint: ctx.tr.f(
            "admin_upload.hint",
            &[
                ("mib", &(limits.max_bytes / (1024 * 1024))),
                ("n", &limits.max_files),
            ],
        ),
        overdue: n.is_overdue(state.app.now()),
        can_ack: acts && n.state == S::Issued,
        can_submit: acts && matches!(n.state, S::Acknowledged | S::Returned),
        can_verify: analyst && matches!(n.state, S::RectificationSubmitted | S::Verifying),
        can_cancel: analyst && !n.state.is_final(),
        analyst,
        s: Shell::new(&state, &ctx, "/notices", n.number.to_string()),
        org,
        findings,
        rects,
        steps,
        n,
    };
    let mut resp = html(&page)?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// Fields of the workflow forms.
#[derive(Debug, Deserialize)]
pub struct ActForm {
    action: String,
    #[serde(default)]
    comment: String,
}

/// `POST /notices/{id}/act`: one step of the workflow.
pub async fn act(
    State(state): State<WebState>,
    Path(id): Path<Uuid>,
    p: Posted<ActForm>,
) -> WebResult<Response> {
    let n = scoped(&state, &p.ctx, id).await?;
    let caller = p.ctx.loop_caller();
    let comment = p.form.comment.trim();
    let svc = state.loops();
    let verdict = matches!(p.form.action.as_str(), "close" | "return");
    if verdict && n.state == NoticeState::RectificationSubmitted {
        // A verdict starts the review first, so the timeline shows both steps.
        svc.act(&caller, id, NoticeAction::StartVerification, "")
            .await?;
    }
    match p.form.action.as_str() {
        "issue" => svc.issue(&caller, id, comment).await?,
        "acknowledge" => {
            svc.act(&caller, id, NoticeAction::Acknowledge, comment)
                .await?
        }
        "submit" => {
            svc.submit_rectification(&caller, id, comment, Vec::new())
                .await?
        }
        "close" => svc.analyst_verdict(&caller, id, true, comment).await?,
        "return" => svc.analyst_verdict(&caller, id, false, comment).await?,
        "cancel" => {
            svc.act(
                &caller,
                id,
                NoticeAction::Cancel {
                    reason: comment.to_owned(),
                },
                comment,
            )
            .await?
        }
        other => return Err(WebError::BadForm(format!("action {other}"))),
    };
    Ok(Redirect::to(&format!("/notices/{id}")).into_response())
}

/// `POST /notices/{id}/rectify`: the officer's rectification with attachments
/// (`multipart/form-data`: `csrf`, `description`, any number of `files`). The route's body limit is
/// the loop's attachment limit ([`taishi_server::upload_body_limit`]); each file is checked by the
/// loop (size, count, type against its magic bytes). A refusal is shown on the notice page.
pub async fn rectify(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> WebResult<Response> {
    let n = scoped(&state, &ctx, id).await?;
    ctx.caller.require(Action::RespondNotice)?;
    let limits = state.loops().attachment_policy().clone();
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            ctx.tr.f1(
                "admin_upload.too_large",
                "mib",
                limits.max_bytes / (1024 * 1024),
            ),
        )
    };
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            (StatusCode::BAD_REQUEST, format!("files: {}", e.body_text()))
        }
    };
    let mut form = form.map_err(|e| WebError::BadForm(e.body_text()))?;
    let (mut csrf, mut description, mut files) = (String::new(), String::new(), Vec::new());
    let mut problem = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                problem = Some(unreadable(e));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().unwrap_or("").to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                problem = Some(unreadable(e));
                break;
            }
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "description" => description = String::from_utf8_lossy(&bytes).into_owned(),
            // A file input left empty still sends a part with no name and no content.
            "files" if file_name.is_empty() && bytes.is_empty() => {}
            "files" => files.push((file_name, bytes.to_vec())),
            other => return Err(WebError::BadForm(format!("unknown field {other}"))),
        }
    }
    // A body that could not be read changed nothing: say why (its token may not have been read yet).
    if let Some(p) = problem {
        return render_notice(&state, &ctx, n.id, Some(p)).await;
    }
    ctx.check_csrf(&csrf)?;
    if description.trim().is_empty() {
        let msg = ctx.tr.t("admin_upload.describe").to_owned();
        return render_notice(
            &state,
            &ctx,
            n.id,
            Some((StatusCode::UNPROCESSABLE_ENTITY, msg)),
        )
        .await;
    }
    let caller = ctx.loop_caller();
    match state
        .loops()
        .submit_rectification(&caller, n.id, description.trim(), files)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/notices/{id}")).into_response()),
        Err(taishi_loop::LoopError::Attachment(e)) => {
            let status = match e {
                taishi_loop::AttachmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = format!("{}: {e}", ctx.tr.t("admin_upload.refused"));
            render_notice(&state, &ctx, n.id, Some((status, msg))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /notices/{id}/attachments/{att}`: the API's download (always `Content-Disposition:
/// attachment`, a safe type, and `nosniff` from the console's headers) — one implementation.
pub async fn attachment(
    State(state): State<WebState>,
    ctx: Ctx,
    Path((id, att)): Path<(Uuid, Uuid)>,
) -> WebResult<Response> {
    scoped(&state, &ctx, id).await?;
    let r = taishi_server::api::notices::attachment(
        State(state.app.clone()),
        ctx.caller.clone(),
        taishi_server::api::extract::ApiPath((id, att)),
    )
    .await?;
    Ok(r)
}
