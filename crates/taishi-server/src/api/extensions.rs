//! Deadline extensions (延期) of a notice: the org's officer requests a later rectification deadline with
//! a reason; an analyst grants it (with the date they decide) or refuses it, or extends directly. The new
//! deadline replaces the old one for reminders, overdue, 督办 and scores; both are kept in the timeline.
//!
//! Checked like every transition: here against the caller's role and subtree ([`Action::RespondNotice`]
//! to request, [`Action::ManageNotice`] to decide), then by the notice's state machine.

use super::extract::{ApiJson, ApiPath};
use super::loopctx::{self, loop_caller};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use serde::Deserialize;
use taishi_model::notice::{Notice, NoticeAction};
use uuid::Uuid;

/// Body of a request for more time.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The deadline asked for: RFC 3339 (`2026-12-20T10:00:00+08:00`) or a date (`2026-12-20`, the end
    /// of that day in the authority's time zone).
    pub until: String,
    /// Why (required).
    pub reason: String,
    /// More for the timeline.
    #[serde(default)]
    pub comment: String,
}

/// Body of a grant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    /// The new deadline (may differ from the one asked for); RFC 3339 or a date.
    pub until: String,
    /// For the timeline.
    #[serde(default)]
    pub comment: String,
}

/// Body of a refusal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseInput {
    /// Why (required).
    pub reason: String,
    /// More for the timeline.
    #[serde(default)]
    pub comment: String,
}

/// Parses `until`: an instant, or a date meaning the end of that day in the policy's time zone.
fn until(state: &AppState, text: &str) -> AppResult<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let d: Date = text.parse().map_err(|_| {
        AppError::invalid(
            "until",
            format!("{text:?} is neither an RFC 3339 time nor a YYYY-MM-DD date"),
        )
    })?;
    let tz = state.loop_service().policy().calendar.tz();
    tz.to_ambiguous_timestamp(d.to_datetime(Time::constant(23, 59, 59, 0)))
        .compatible()
        .map_err(|e| AppError::invalid("until", e.to_string()))
}

async fn apply(
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
        state
            .loop_service()
            .extension(&lc, n.id, action, comment)
            .await?,
    ))
}

/// Asks for a later rectification deadline (the org's officer, or an analyst); the analysts are told.
#[utoipa::path(post, path = "/api/v1/notices/{id}/extension/request", tag = "notices", params(("id" = String, Path)),
    request_body = RequestInput,
    responses((status = 200, description = "The notice with the request in its timeline", body = Object),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RequestInput>,
) -> AppResult<Json<Notice>> {
    let until = until(&state, &input.until)?;
    let action = NoticeAction::RequestExtension {
        until,
        reason: input.reason,
    };
    apply(
        &state,
        &caller,
        id,
        Action::RespondNotice,
        action,
        &input.comment,
    )
    .await
}

/// Grants the pending request with the new deadline (analysts); the org is told.
#[utoipa::path(post, path = "/api/v1/notices/{id}/extension/grant", tag = "notices", params(("id" = String, Path)),
    request_body = GrantInput,
    responses((status = 200, description = "The notice with its new deadline", body = Object),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<GrantInput>,
) -> AppResult<Json<Notice>> {
    let until = until(&state, &input.until)?;
    let action = NoticeAction::GrantExtension { until };
    apply(
        &state,
        &caller,
        id,
        Action::ManageNotice,
        action,
        &input.comment,
    )
    .await
}

/// Refuses the pending request with the reason (analysts); the org is told.
#[utoipa::path(post, path = "/api/v1/notices/{id}/extension/refuse", tag = "notices", params(("id" = String, Path)),
    request_body = RefuseInput,
    responses((status = 200, description = "The notice", body = Object),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refuse(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RefuseInput>,
) -> AppResult<Json<Notice>> {
    let action = NoticeAction::RefuseExtension {
        reason: input.reason,
    };
    apply(
        &state,
        &caller,
        id,
        Action::ManageNotice,
        action,
        &input.comment,
    )
    .await
}

/// Extends the deadline directly, without a request (analysts; settles a pending request); the org is
/// told.
#[utoipa::path(post, path = "/api/v1/notices/{id}/extend", tag = "notices", params(("id" = String, Path)),
    request_body = RequestInput,
    responses((status = 200, description = "The notice with its new deadline", body = Object),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RequestInput>,
) -> AppResult<Json<Notice>> {
    let until = until(&state, &input.until)?;
    let action = NoticeAction::Extend {
        until,
        reason: input.reason,
    };
    apply(
        &state,
        &caller,
        id,
        Action::ManageNotice,
        action,
        &input.comment,
    )
    .await
}
