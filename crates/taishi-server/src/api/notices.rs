//! Notices (通报): list and read with the timeline of transitions, issue for one or more findings,
//! acknowledge, submit a rectification with attachments (multipart), verify, return or cancel with a
//! reason, download attachments (always as a download with a safe type), and the deadline sweep.
//!
//! Every transition is checked twice: here against the caller's role and subtree ([`Action`]), and by the
//! notice's state machine in the model (who may do what in which state); both write nothing on refusal.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::loopctx::{self, loop_caller, offset_page};
use super::{page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taishi_model::notice::{Notice, NoticeAction, NoticeEvent, NoticeState};
use taishi_model::rectification::{Delivery, Rectification};
use taishi_model::{OrgId, Paged, Severity};
use taishi_store::NoticeQuery;
use uuid::Uuid;

/// Query of `GET /api/v1/notices`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticesQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only notices to orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only notices to this org itself.
    #[param(value_type = Option<i64>)]
    pub org: Option<OrgId>,
    /// States, comma-separated (`issued,acknowledged,returned`).
    pub state: Option<String>,
    /// Only this severity.
    #[param(value_type = Option<String>)]
    pub severity: Option<Severity>,
    /// Only notices past a deadline (true) or not (false).
    pub overdue: Option<bool>,
    /// Number or title contains this text.
    pub q: Option<String>,
}

/// Lists notices in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticesQuery),
    responses((status = 200, description = "A page of notices", body = Object), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NoticesQuery>,
) -> AppResult<Json<Paged<Notice>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadLoop).await?;
    let pg = page(q.limit, q.after)?;
    let mut states = Vec::new();
    for s in q.state.as_deref().unwrap_or("").split(',').map(str::trim) {
        if s.is_empty() {
            continue;
        }
        states.push(
            NoticeState::parse(s).ok_or_else(|| {
                AppError::bad_field("state", format!("unknown notice state {s:?}"))
            })?,
        );
    }
    let now = state.now();
    let text = q.q.as_deref().map(str::to_lowercase);
    let mut hits: Vec<Notice> = state
        .store()
        .list_notices(&NoticeQuery {
            within: Some(within),
            live_only: false,
        })
        .await?
        .into_iter()
        .filter(|n| {
            q.org.is_none_or(|o| n.org == o)
                && (states.is_empty() || states.contains(&n.state))
                && q.severity.is_none_or(|s| n.severity == s)
                && q.overdue.is_none_or(|o| n.is_overdue(now) == o)
                && text.as_ref().is_none_or(|t| {
                    n.number.to_string().contains(t.as_str()) || n.title.to_lowercase().contains(t)
                })
        })
        .collect();
    hits.reverse();
    Ok(Json(offset_page(hits, pg)))
}

/// A notice with everything that happened to it.
#[derive(Debug, Serialize)]
pub struct NoticeDetail {
    /// The notice (its `history` is the same as `timeline`).
    pub notice: Notice,
    /// Past a deadline now.
    pub overdue: bool,
    /// Every transition, oldest first: who, when, from, to, comment.
    pub timeline: Vec<NoticeEvent>,
    /// Rectifications submitted, oldest first, with their attachments' metadata.
    pub rectifications: Vec<Rectification>,
    /// Notifications sent about it.
    pub deliveries: Vec<Delivery>,
}

async fn detail(state: &AppState, n: Notice) -> AppResult<NoticeDetail> {
    let rectifications = state.store().rectifications(n.id).await?;
    let mut deliveries = state.store().deliveries(n.id).await?;
    for d in &mut deliveries {
        d.target = redact_target(&d.target);
    }
    Ok(NoticeDetail {
        overdue: n.is_overdue(state.now()),
        timeline: n.history.clone(),
        notice: n,
        rectifications,
        deliveries,
    })
}

/// A delivery target as shown to readers: robot webhooks carry their secret in the query string
/// (`access_token=…`, `key=…`), so everything after `?` is cut, and so is any `user:password@`.
fn redact_target(t: &str) -> String {
    let base = t.split(['?', '#']).next().unwrap_or("");
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            let cut = if base.len() < t.len() { "?…" } else { "" };
            format!("{scheme}://{rest}{cut}")
        }
        None => base.to_owned(),
    }
}

/// One notice with its timeline, rectifications and deliveries.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices", params(("id" = String, Path)),
    responses((status = 200, description = "The notice", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<NoticeDetail>> {
    let n = loopctx::notice(&state, &caller, id, Action::ReadLoop).await?;
    Ok(Json(detail(&state, n).await?))
}

/// Body of `POST /api/v1/notices`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// The org that must act.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// The findings (all in the org's subtree).
    #[schema(value_type = Vec<String>)]
    pub findings: Vec<Uuid>,
    /// Title.
    pub title: String,
    /// What the org must do.
    #[serde(default)]
    pub required_actions: Vec<String>,
    /// Issue at once (default) or keep as a draft.
    #[serde(default = "yes")]
    pub issue: bool,
    /// Comment for the timeline.
    #[serde(default)]
    pub comment: String,
}

fn yes() -> bool {
    true
}

/// Drafts a notice for one or more findings and (by default) issues it with deadlines from the policy.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = NoticeInput,
    responses((status = 201, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NoticeInput>,
) -> AppResult<(StatusCode, Json<Notice>)> {
    let org = loopctx::org_id(&state, &caller, input.org_id, Action::ManageNotice).await?;
    if input.findings.len() > 500 {
        return Err(AppError::invalid(
            "findings",
            "at most 500 findings a notice",
        ));
    }
    for f in &input.findings {
        loopctx::finding(&state, &caller, *f, Action::ManageNotice)
            .await
            .map_err(|e| match e {
                AppError::NotFound(m) => AppError::invalid("findings", m),
                other => other,
            })?;
    }
    let lc = loop_caller(&caller);
    let svc = state.loop_service();
    let mut n = svc
        .draft_notice(
            &lc,
            org,
            input.findings,
            &input.title,
            input.required_actions,
        )
        .await?;
    if input.issue {
        n = svc.issue(&lc, n.id, &input.comment).await?;
    }
    Ok((StatusCode::CREATED, Json(n)))
}

/// Body of transitions that take an optional comment.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// For the timeline.
    #[serde(default)]
    pub comment: String,
}

/// Body of return and cancel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// Why (required).
    pub reason: String,
    /// More for the timeline.
    #[serde(default)]
    pub comment: String,
}

/// Issues a draft notice (analysts).
#[utoipa::path(post, path = "/api/v1/notices/{id}/issue", tag = "notices", params(("id" = String, Path)),
    request_body = CommentInput,
    responses((status = 200, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<CommentInput>,
) -> AppResult<Json<Notice>> {
    let n = loopctx::notice(&state, &caller, id, Action::ManageNotice).await?;
    let lc = loop_caller(&caller);
    Ok(Json(
        state
            .loop_service()
            .issue(&lc, n.id, &input.comment)
            .await?,
    ))
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    need: Action,
    action: NoticeAction,
    comment: &str,
) -> AppResult<Json<Notice>> {
    let n = loopctx::notice(state, caller, id, need).await?;
    let lc = loop_caller(caller);
    Ok(Json(
        state.loop_service().act(&lc, n.id, action, comment).await?,
    ))
}

/// Confirms receipt (the org's officer, or an analyst).
#[utoipa::path(post, path = "/api/v1/notices/{id}/acknowledge", tag = "notices", params(("id" = String, Path)),
    request_body = CommentInput,
    responses((status = 200, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<CommentInput>,
) -> AppResult<Json<Notice>> {
    act(
        &state,
        &caller,
        id,
        Action::RespondNotice,
        NoticeAction::Acknowledge,
        &input.comment,
    )
    .await
}

/// Verified fixed: closes the notice and resolves its findings (analysts).
#[utoipa::path(post, path = "/api/v1/notices/{id}/verify", tag = "notices", params(("id" = String, Path)),
    request_body = CommentInput,
    responses((status = 200, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<CommentInput>,
) -> AppResult<Json<Notice>> {
    let n = loopctx::notice(&state, &caller, id, Action::ManageNotice).await?;
    let lc = loop_caller(&caller);
    Ok(Json(
        state
            .loop_service()
            .analyst_verdict(&lc, n.id, true, &input.comment)
            .await?,
    ))
}

/// Verification failed: back to the org with the reason (analysts).
#[utoipa::path(post, path = "/api/v1/notices/{id}/return", tag = "notices", params(("id" = String, Path)),
    request_body = ReasonInput,
    responses((status = 200, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn return_notice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> AppResult<Json<Notice>> {
    act(
        &state,
        &caller,
        id,
        Action::ManageNotice,
        NoticeAction::Return {
            reason: input.reason,
        },
        &input.comment,
    )
    .await
}

/// Withdraws a notice with the reason (analysts).
#[utoipa::path(post, path = "/api/v1/notices/{id}/cancel", tag = "notices", params(("id" = String, Path)),
    request_body = ReasonInput,
    responses((status = 200, description = "The notice", body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ReasonInput>,
) -> AppResult<Json<Notice>> {
    act(
        &state,
        &caller,
        id,
        Action::ManageNotice,
        NoticeAction::Cancel {
            reason: input.reason,
        },
        &input.comment,
    )
    .await
}

fn multipart_error(e: impl std::fmt::Display) -> AppError {
    AppError::bad_field("files", format!("could not read the multipart body: {e}"))
}

/// Submits a rectification: `multipart/form-data` with a `description` text part and any number of
/// `files` parts (PDF, images, text, Office documents; each at most the attachment limit, and the whole
/// request within the upload routes' body limit, derived from the same attachment policy). taishi re-verifies at once where it can.
#[utoipa::path(post, path = "/api/v1/notices/{id}/rectifications", tag = "notices", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`description` (text) and `files` (one part per file)"),
    responses((status = 200, description = "The notice after submission and re-verification", body = Object),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    form: Result<Multipart, MultipartRejection>,
) -> AppResult<Json<Notice>> {
    let n = loopctx::notice(&state, &caller, id, Action::RespondNotice).await?;
    let mut form = form.map_err(multipart_error)?;
    let limits = state.loop_service().attachment_policy();
    let mut description = None;
    let mut files = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("description") => {
                description = Some(field.text().await.map_err(multipart_error)?);
            }
            Some("files") | Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                if name.is_empty() {
                    return Err(AppError::invalid(
                        "files",
                        "every file part needs a file name",
                    ));
                }
                if files.len() >= limits.max_files {
                    return Err(AppError::invalid(
                        "files",
                        format!("at most {} attachments", limits.max_files),
                    ));
                }
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    data.extend_from_slice(&chunk);
                    if data.len() as u64 > limits.max_bytes {
                        return Err(AppError::invalid(
                            "files",
                            format!("{name:?} is larger than {} bytes", limits.max_bytes),
                        ));
                    }
                }
                files.push((name, data));
            }
            other => {
                return Err(AppError::bad_field(
                    other.unwrap_or("files"),
                    "unknown part; expected description and files",
                ));
            }
        }
    }
    let description =
        description.ok_or_else(|| AppError::invalid("description", "describe what was done"))?;
    let lc = loop_caller(&caller);
    Ok(Json(
        state
            .loop_service()
            .submit_rectification(&lc, n.id, &description, files)
            .await?,
    ))
}

/// `name` for a Content-Disposition header: an ASCII fallback and the UTF-8 form (RFC 6266).
pub fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{enc}")
}

/// The type a stored attachment is served with: its recorded safe type, never anything a browser
/// renders as a page.
fn safe_type(recorded: &str) -> &str {
    let t = recorded.to_ascii_lowercase();
    if t.contains("html") || t.contains("xml") || t.contains("svg") || t.contains("javascript") {
        "application/octet-stream"
    } else {
        recorded
    }
}

/// Downloads a rectification attachment: always `Content-Disposition: attachment`, with its safe type.
#[utoipa::path(get, path = "/api/v1/notices/{id}/attachments/{attachment}", tag = "notices",
    params(("id" = String, Path), ("attachment" = String, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn attachment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, att)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let n = loopctx::notice(&state, &caller, id, Action::ReadLoop).await?;
    let belongs = state
        .store()
        .rectifications(n.id)
        .await?
        .iter()
        .any(|r| r.attachments.iter().any(|a| a.id == att));
    if !belongs {
        return Err(AppError::not_found(format!("attachment {att}")));
    }
    let (meta, data) = state.store().attachment(att).await?;
    let mut resp = data.into_response();
    let h = resp.headers_mut();
    let ct = HeaderValue::from_str(safe_type(&meta.content_type))
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    if let Ok(v) = HeaderValue::from_str(&disposition(&meta.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// One event of a sweep.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SweepEvent {
    /// The notice.
    #[schema(value_type = String)]
    pub notice: Uuid,
    /// The org told (the notice's org, or a parent for 督办).
    #[schema(value_type = i64)]
    pub to_org: OrgId,
    /// `deadline_approaching`, `overdue`, `escalated`, …
    pub kind: String,
}

/// What a sweep did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SweepSummary {
    /// Reminders, overdue flags and escalations raised.
    pub events: Vec<SweepEvent>,
    /// Findings reopened because their risk acceptance expired.
    #[schema(value_type = Vec<String>)]
    pub reopened: Vec<Uuid>,
    /// Findings whose risk acceptance expires soon.
    #[schema(value_type = Vec<String>)]
    pub expiring: Vec<Uuid>,
}

/// Runs the deadline sweep now (reminders, overdue, escalation to the parent and grandparent, expired
/// risk acceptances). It covers every org, so only an analyst or admin scoped to a whole tree may run
/// it; the server also runs it periodically.
#[utoipa::path(post, path = "/api/v1/notices/sweep", tag = "notices",
    responses((status = 200, body = SweepSummary), (status = 403, body = ErrorBody)))]
pub async fn sweep(State(state): State<AppState>, caller: Caller) -> AppResult<Json<SweepSummary>> {
    let root = scope::org(&state, &caller, caller.scope, Action::ManageNotice).await?;
    if root.parent_id.is_some() {
        return Err(AppError::forbidden(
            "the sweep covers every org: only callers scoped to a whole tree run it",
        ));
    }
    let r = state.loop_service().sweep().await?;
    Ok(Json(SweepSummary {
        events: r
            .events
            .into_iter()
            .map(|e| SweepEvent {
                notice: e.notice,
                to_org: e.to_org,
                kind: e.kind.as_str().to_owned(),
            })
            .collect(),
        reopened: r.reopened,
        expiring: r.expiring,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_are_always_attachments_and_header_safe() {
        let d = disposition("整改报告\"; x.pdf");
        assert!(d.starts_with("attachment; filename=\""));
        assert!(HeaderValue::from_str(&d).is_ok());
        assert!(!d[..d.find("filename*").unwrap()].contains("\"; x"));
        assert!(d.contains("%E6%95%B4"));
    }

    #[test]
    fn webhook_secrets_are_not_shown() {
        assert_eq!(
            redact_target("https://oapi.dingtalk.com/robot/send?access_token=SECRET"),
            "https://oapi.dingtalk.com/robot/send?…"
        );
        assert_eq!(
            redact_target("https://u:pw@hook.example/x"),
            "https://hook.example/x"
        );
        assert_eq!(redact_target("officer@example.cn"), "officer@example.cn");
    }

    #[test]
    fn page_types_are_never_served() {
        assert_eq!(safe_type("text/html"), "application/octet-stream");
        assert_eq!(safe_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(safe_type("application/pdf"), "application/pdf");
    }
}
