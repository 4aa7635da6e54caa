//! Findings: list and search within the caller's subtree, one finding with its history and the notices
//! that cover it, and the analysts' decisions (false positive, risk acceptance with an expiry), one by
//! one or in bulk.

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::loopctx::{self, loop_caller};
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
use taishi_model::{AssetId, FindingSource, OrgId, Severity};
use taishi_store::{FindingCursor, FindingQuery as StoreQuery, FindingSort, NoticeQuery};
use uuid::Uuid;

/// Query of `GET /api/v1/findings`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Page size, 1–1000 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page (opaque text; only valid with the same `sort`).
    pub after: Option<String>,
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
    /// Only this check or Sigma rule id.
    pub check: Option<String>,
    /// First seen at least this many days ago.
    pub min_age_days: Option<u32>,
    /// First seen at most this many days ago.
    pub max_age_days: Option<u32>,
    /// Title, check or key contains this text (case-insensitive).
    pub q: Option<String>,
    /// `last_seen` (default, newest first), `first_seen` (oldest first), `severity` (worst first) or
    /// `org`.
    pub sort: Option<String>,
}

/// A page of findings with the number of all matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingList {
    /// The findings of this page.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Finding>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// How many findings match the filters in all pages; only on the first page (no `after`), so
    /// walking a long list costs one count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
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

fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(24 * days))
        .unwrap_or(Timestamp::MIN)
}

/// The store query for `q` under `within`: every filter is checked here and applied in SQL.
fn store_query(q: &FindingsQuery, within: OrgId, now: Timestamp) -> AppResult<StoreQuery> {
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
    let sort = match q.sort.as_deref() {
        None | Some("") => FindingSort::default(),
        Some(s) => FindingSort::parse(s).ok_or_else(|| {
            AppError::bad_field(
                "sort",
                format!("unknown sort {s:?}; one of last_seen, first_seen, severity, org"),
            )
        })?,
    };
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(a) => Some(a.parse::<FindingCursor>().map_err(|_| {
            AppError::bad_field("after", "not a cursor of this list; use the `next` it gave")
        })?),
    };
    if after.as_ref().is_some_and(|c| c.sort != sort) {
        return Err(AppError::bad_field(
            "after",
            "the cursor belongs to another sort",
        ));
    }
    let limit = page(q.limit, None)?.limit;
    Ok(StoreQuery {
        within: Some(within),
        org: q.org,
        asset: q.asset,
        severities,
        statuses,
        source: q.source,
        // "at most N days ago" keeps whole days: age in days (rounded down) ≤ N.
        first_seen_from: q.max_age_days.map(|d| {
            days_ago(now, i64::from(d) + 1)
                .checked_add(SignedDuration::from_millis(1))
                .unwrap_or(Timestamp::MIN)
        }),
        first_seen_to: q.min_age_days.map(|d| days_ago(now, i64::from(d))),
        check: q.check.clone().filter(|c| !c.is_empty()),
        check_prefix: None,
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        sort,
        after,
        limit,
    })
}

/// Lists and searches findings in the caller's scope (newest sighting first by default), a keyset page
/// at a time, with the total number of matches. Filtering, sorting and paging happen in the store.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", params(FindingsQuery),
    responses((status = 200, description = "A page of findings", body = FindingList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> AppResult<Json<FindingList>> {
    let within = scope::within(&state, &caller, q.within, Action::ReadLoop).await?;
    let sq = store_query(&q, within, state.now())?;
    let store = state.store();
    let (found, total) = if sq.after.is_none() {
        let (found, total) = tokio::try_join!(store.page_findings(&sq), store.count_findings(&sq))?;
        (found, Some(total))
    } else {
        (store.page_findings(&sq).await?, None)
    };
    Ok(Json(FindingList {
        items: found.items,
        next: found.next.map(|c| c.to_string()),
        total,
    }))
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
