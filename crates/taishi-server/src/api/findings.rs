//! Findings: list and search within the caller's subtree, one finding with its history and the notices
//! that cover it, and the analysts' decisions (false positive, risk acceptance with an expiry), one by
//! one or in bulk.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::loopctx::{self, loop_caller, offset_page};
use super::{page, scope};
use crate::auth::caller::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy::Action;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use taishi_model::finding::Finding;
use taishi_model::{AssetId, FindingSource, OrgId, Paged, Severity};
use taishi_store::{FindingQuery as StoreQuery, NoticeQuery};
use uuid::Uuid;

/// Query of `GET /api/v1/findings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub after: Option<i64>,
    /// Only findings of orgs in this subtree (default: the caller's scope).
    #[param(value_type = Option<i64>)]
    pub within: Option<OrgId>,
    /// Only findings of this org itself.
    #[param(value_type = Option<i64>)]
    pub org: Option<OrgId>,
    /// Only findings on this asset.
    #[param(value_type = Option<i64>)]
    pub asset: Option<AssetId>,
    /// Severities, comma-separated (`critical,high`).
    pub severity: Option<String>,
    /// Statuses, comma-separated (`open`, `resolved`, `false_positive`, `risk_accepted`).
    pub status: Option<String>,
    /// Only this source (`probe`, `detection`, `warning`).
    #[param(value_type = Option<String>)]
    pub source: Option<FindingSource>,
    /// First seen at least this many days ago.
    pub min_age_days: Option<u32>,
    /// First seen at most this many days ago.
    pub max_age_days: Option<u32>,
    /// Title, check or key contains this text (case-insensitive).
    pub q: Option<String>,
}

const STATUSES: [&str; 4] = ["open", "resolved", "false_positive", "risk_accepted"];

fn split(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The checked filters of a findings query.
struct Filters {
    severities: Vec<Severity>,
    statuses: Vec<String>,
}

fn filters(q: &FindingsQuery) -> AppResult<Filters> {
    let severities = split(&q.severity)
        .iter()
        .map(|s| {
            s.parse::<Severity>()
                .map_err(|_| AppError::bad_field("severity", format!("unknown severity {s:?}")))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let statuses = split(&q.status);
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(AppError::bad_field(
            "status",
            format!("unknown status {bad:?}; one of {}", STATUSES.join(", ")),
        ));
    }
    Ok(Filters {
        severities,
        statuses,
    })
}

fn matches(f: &Finding, q: &FindingsQuery, fl: &Filters, now: Timestamp) -> bool {
    let age_days = now.duration_since(f.first_seen).as_secs() / 86_400;
    let text = q.q.as_deref().map(str::to_lowercase);
    q.org.is_none_or(|o| f.org == o)
        && q.asset.is_none_or(|a| f.asset == a)
        && q.source.is_none_or(|s| f.source == s)
        && (fl.severities.is_empty() || fl.severities.contains(&f.severity))
        && q.min_age_days.is_none_or(|d| age_days >= i64::from(d))
        && q.max_age_days.is_none_or(|d| age_days <= i64::from(d))
        && text.is_none_or(|t| {
            [&f.title, &f.check, &f.key]
                .iter()
                .any(|s| s.to_lowercase().contains(&t))
        })
}

/// Lists and searches findings in the caller's scope, newest sighting first.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", params(FindingsQuery),
    responses((status = 200, description = "A page of findings", body = Object), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> AppResult<Json<Paged<Finding>>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadLoop).await?;
    let pg = page(q.limit, q.after)?;
    let fl = filters(&q)?;
    let all = state
        .store()
        .list_findings(&StoreQuery {
            within: Some(within),
            statuses: fl.statuses.clone(),
            limit: 0,
        })
        .await?;
    let now = state.now();
    let hits: Vec<Finding> = all
        .into_iter()
        .filter(|f| matches(f, &q, &fl, now))
        .collect();
    Ok(Json(offset_page(hits, pg)))
}

/// A notice covering a finding, in brief.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeRef {
    /// Id.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// Number (`2026-0042`).
    pub number: String,
    /// State.
    pub state: String,
    /// Title.
    pub title: String,
}

/// A finding with its history (inside `finding.history`) and the notices that cover it.
#[derive(Debug, Serialize)]
pub struct FindingDetail {
    /// The finding.
    pub finding: Finding,
    /// Notices listing it, oldest first.
    pub notices: Vec<NoticeRef>,
}

/// One finding with its history and notices.
#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "findings", params(("id" = String, Path)),
    responses((status = 200, description = "The finding", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FindingDetail>> {
    let f = loopctx::finding(&state, &caller, id, Action::ReadLoop).await?;
    let notices = state
        .store()
        .list_notices(&NoticeQuery {
            within: Some(caller.scope),
            live_only: false,
        })
        .await?
        .into_iter()
        .filter(|n| n.findings.contains(&f.id))
        .map(|n| NoticeRef {
            id: n.id,
            number: n.number.to_string(),
            state: n.state.as_str().to_owned(),
            title: n.title,
        })
        .collect();
    Ok(Json(FindingDetail {
        finding: f,
        notices,
    }))
}

/// Body of `POST /api/v1/findings/{id}/false-positive`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FalsePositiveInput {
    /// Why it is not a real problem.
    #[serde(default)]
    pub comment: String,
}

/// Marks a finding as a false positive (analysts).
#[utoipa::path(post, path = "/api/v1/findings/{id}/false-positive", tag = "findings",
    params(("id" = String, Path)), request_body = FalsePositiveInput,
    responses((status = 200, description = "The finding", body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn false_positive(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<FalsePositiveInput>,
) -> AppResult<Json<Finding>> {
    let f = loopctx::finding(&state, &caller, id, Action::TriageFinding).await?;
    let f = state
        .loop_service()
        .mark_false_positive(&loop_caller(&caller), f.id, &input.comment)
        .await?;
    Ok(Json(f))
}

/// Body of `POST /api/v1/findings/{id}/accept-risk`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRiskInput {
    /// Who approved it and why (required).
    pub reason: String,
    /// Days until it reopens (default from the policy, 180); or give `until`.
    pub days: Option<i64>,
    /// The instant it reopens (RFC 3339), instead of `days`.
    #[schema(value_type = Option<String>)]
    pub until: Option<Timestamp>,
}

fn acceptance_days(state: &AppState, input: &AcceptRiskInput) -> AppResult<Option<i64>> {
    match (input.days, input.until) {
        (Some(_), Some(_)) => Err(AppError::invalid("until", "give days or until, not both")),
        (Some(d), None) if !(1..=3650).contains(&d) => {
            Err(AppError::invalid("days", "days must be 1 to 3650"))
        }
        (Some(d), None) => Ok(Some(d)),
        (None, Some(t)) => {
            let secs = t.duration_since(state.now()).as_secs();
            if secs <= 0 {
                return Err(AppError::invalid("until", "until must lie in the future"));
            }
            // Round up to whole days: the acceptance never ends before the date asked for.
            let day = SignedDuration::from_hours(24).as_secs();
            Ok(Some(((secs + day - 1) / day).min(3650)))
        }
        (None, None) => Ok(None),
    }
}

/// Accepts the risk of a finding until an expiry, after which it reopens (analysts).
#[utoipa::path(post, path = "/api/v1/findings/{id}/accept-risk", tag = "findings",
    params(("id" = String, Path)), request_body = AcceptRiskInput,
    responses((status = 200, description = "The finding", body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_risk(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<AcceptRiskInput>,
) -> AppResult<Json<Finding>> {
    let f = loopctx::finding(&state, &caller, id, Action::TriageFinding).await?;
    let days = acceptance_days(&state, &input)?;
    let f = state
        .loop_service()
        .accept_risk(&loop_caller(&caller), f.id, days, &input.reason)
        .await?;
    Ok(Json(f))
}

/// What a bulk request does to each finding.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// Mark as false positives (`comment`).
    FalsePositive,
    /// Accept the risk (`reason`, optional `days` or `until`).
    AcceptRisk,
}

/// Body of `POST /api/v1/findings/bulk`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// The findings (at most 500).
    #[schema(value_type = Vec<String>)]
    pub ids: Vec<Uuid>,
    /// What to do.
    pub action: BulkAction,
    /// Comment (false positive) or reason (risk acceptance).
    #[serde(default)]
    pub reason: String,
    /// Risk acceptance length in days.
    pub days: Option<i64>,
    /// Risk acceptance end (RFC 3339).
    #[schema(value_type = Option<String>)]
    pub until: Option<Timestamp>,
}

/// The outcome for one finding of a bulk request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    /// The finding.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// Done.
    pub ok: bool,
    /// Error code when not done (`not_found`, `refused`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Applies one decision to many findings; each is checked on its own and reported on its own.
#[utoipa::path(post, path = "/api/v1/findings/bulk", tag = "findings", request_body = BulkInput,
    responses((status = 200, body = Vec<BulkOutcome>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BulkInput>,
) -> AppResult<Json<Vec<BulkOutcome>>> {
    caller.require(Action::TriageFinding)?;
    if input.ids.is_empty() || input.ids.len() > 500 {
        return Err(AppError::invalid("ids", "give 1 to 500 finding ids"));
    }
    let days = match input.action {
        BulkAction::AcceptRisk => {
            if input.reason.trim().is_empty() {
                return Err(AppError::invalid(
                    "reason",
                    "a risk acceptance needs its approver and reason",
                ));
            }
            acceptance_days(
                &state,
                &AcceptRiskInput {
                    reason: input.reason.clone(),
                    days: input.days,
                    until: input.until,
                },
            )?
        }
        BulkAction::FalsePositive => None,
    };
    let lc = loop_caller(&caller);
    let svc = state.loop_service();
    let mut out = Vec::with_capacity(input.ids.len());
    for id in input.ids {
        let done: AppResult<()> = async {
            let f = loopctx::finding(&state, &caller, id, Action::TriageFinding).await?;
            match input.action {
                BulkAction::FalsePositive => {
                    svc.mark_false_positive(&lc, f.id, &input.reason).await?;
                }
                BulkAction::AcceptRisk => {
                    svc.accept_risk(&lc, f.id, days, &input.reason).await?;
                }
            }
            Ok(())
        }
        .await;
        out.push(match done {
            Ok(()) => BulkOutcome {
                id,
                ok: true,
                code: None,
                message: None,
            },
            Err(e) => BulkOutcome {
                id,
                ok: false,
                code: Some(e.code()),
                message: Some(e.to_string()),
            },
        });
    }
    Ok(Json(out))
}
