//! Findings: the list (filters by severity, status, source, org, asset and age; text search; sorting;
//! pages; bulk actions) and the page of one finding with its evidence and history.
//!
//! Reads go through the store with the caller's subtree as `within`; a single finding is checked with
//! the API's scope check on its org. Every change (notice, false positive, risk acceptance) goes through
//! the loop service, which checks role and scope again and writes the audit line.

use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{SEVERITIES, Shell, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use taishi_model::finding::Finding;
use taishi_model::{AssetId, FindingSource, OrgId, Severity};
use taishi_server::api::scope;
use taishi_server::policy::Action;
use taishi_store::{FindingCursor, FindingQuery, FindingSort};
use uuid::Uuid;

/// Rows per page.
const PER_PAGE: u32 = 50;

/// Query of `GET /findings`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FindingsQuery {
    /// Severity name.
    pub severity: Option<String>,
    /// Status name; empty means open.
    pub status: Option<String>,
    /// Source name.
    pub source: Option<String>,
    /// Subtree root.
    pub org: Option<i64>,
    /// Asset id.
    pub asset: Option<i64>,
    /// Minimum age in days (first seen at least this long ago).
    pub age: Option<i64>,
    /// Text in title, check or key.
    pub q: Option<String>,
    /// `severity` (default), `last_seen`, `first_seen`, `org`.
    pub sort: Option<String>,
    /// Keyset cursor: the last row of the previous page.
    pub after: Option<String>,
    /// Position of the first row (for "51–100 of N"); follows the cursor.
    pub from: Option<u64>,
}

impl FindingsQuery {
    /// The link to the page starting after `after` (none: the first page), rows from `from`.
    fn link(&self, after: Option<&FindingCursor>, from: u64) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        let mut put = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                p.push((k, v.clone()));
            }
        };
        put("severity", &self.severity);
        put("status", &self.status);
        put("source", &self.source);
        put("q", &self.q);
        put("sort", &self.sort);
        if let Some(v) = self.org {
            p.push(("org", v.to_string()));
        }
        if let Some(v) = self.asset {
            p.push(("asset", v.to_string()));
        }
        if let Some(v) = self.age {
            p.push(("age", v.to_string()));
        }
        if let Some(c) = after {
            p.push(("after", c.to_string()));
            p.push(("from", from.to_string()));
        }
        format!(
            "/findings?{}",
            serde_urlencoded::to_string(&p).unwrap_or_default()
        )
    }

    fn sort(&self) -> FindingSort {
        self.sort
            .as_deref()
            .and_then(FindingSort::parse)
            .unwrap_or(FindingSort::Severity)
    }

    /// The store query (filters, order, cursor) under `within`; a bad value names its field.
    fn store_query(
        &self,
        within: OrgId,
        statuses: Vec<String>,
        now: Timestamp,
    ) -> WebResult<FindingQuery> {
        let bad = |f: &str, v: &str| WebError::BadForm(format!("{f} {v}"));
        let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let severities = match nonempty(&self.severity) {
            Some(s) => vec![s.parse::<Severity>().map_err(|_| bad("severity", &s))?],
            None => Vec::new(),
        };
        let source = match nonempty(&self.source) {
            Some(s) => Some(
                [
                    FindingSource::Probe,
                    FindingSource::Detection,
                    FindingSource::Warning,
                ]
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| bad("source", &s))?,
            ),
            None => None,
        };
        let sort = self.sort();
        let after = match nonempty(&self.after) {
            Some(a) => Some(
                a.parse::<FindingCursor>()
                    .ok()
                    .filter(|c| c.sort == sort)
                    .ok_or_else(|| bad("after", &a))?,
            ),
            None => None,
        };
        Ok(FindingQuery {
            within: Some(within),
            asset: self.asset.map(AssetId),
            severities,
            statuses,
            source,
            first_seen_to: self.age.map(|d| {
                now.checked_sub(SignedDuration::from_hours(24 * d.max(0)))
                    .unwrap_or(Timestamp::MIN)
            }),
            text: nonempty(&self.q),
            sort,
            after,
            limit: PER_PAGE,
            ..FindingQuery::default()
        })
    }
}

/// One row of the list.
#[derive(Debug, Clone)]
pub struct Row {
    /// The finding.
    pub f: Finding,
    /// Owner org name.
    pub org: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct ListPage {
    s: Shell,
    rows: Vec<Row>,
    q: FindingsQuery,
    total: u64,
    /// Position of the first and last row shown (1-based).
    shown: (u64, u64),
    first: Option<String>,
    next: Option<String>,
    severities: Vec<(&'static str, String)>,
    sorts: Vec<&'static str>,
    status: String,
    can_act: bool,
}

/// Names of the orgs of `findings`, one lookup per org.
pub async fn org_names(
    state: &WebState,
    ids: impl Iterator<Item = OrgId>,
) -> HashMap<OrgId, String> {
    let mut names = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            slot.insert(
                state
                    .app
                    .store()
                    .get_org(id)
                    .await
                    .map(|o| o.name)
                    .unwrap_or_default(),
            );
        }
    }
    names
}

/// `GET /findings`: one keyset page of the filtered, sorted list and the number of all matches; the
/// store filters, sorts, pages and counts (nothing is filtered here).
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<FindingsQuery>,
) -> WebResult<Response> {
    let within = match q.org {
        Some(id) => {
            scope::org(&state.app, &ctx.caller, OrgId(id), Action::ReadRegistry)
                .await?
                .id
        }
        None => {
            ctx.caller.require(Action::ReadRegistry)?;
            ctx.caller.scope
        }
    };
    let status = q
        .status
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "open".into());
    let statuses = if status == "all" {
        Vec::new()
    } else {
        vec![status.clone()]
    };
    let sq = q.store_query(within, statuses, state.app.now())?;
    let store = state.app.store();
    let (page, total) = tokio::try_join!(store.page_findings(&sq), store.count_findings(&sq))
        .map_err(|e| WebError::App(e.into()))?;
    let from = if sq.after.is_some() {
        q.from.unwrap_or(0)
    } else {
        0
    };
    let names = org_names(&state, page.items.iter().map(|f| f.org)).await;
    let shown = (
        from + u64::from(!page.items.is_empty()),
        from + page.items.len() as u64,
    );
    let rows = page
        .items
        .into_iter()
        .map(|f| Row {
            org: names.get(&f.org).cloned().unwrap_or_default(),
            f,
        })
        .collect();
    let severities = SEVERITIES
        .iter()
        .map(|s| (s.as_str(), ctx.tr.word(s.as_str(), s.label_zh()).to_owned()))
        .collect();
    let s = Shell::new(&state, &ctx, "/findings", ctx.tr.t("nav.findings"));
    html(&ListPage {
        s,
        rows,
        first: sq.after.is_some().then(|| q.link(None, 0)),
        next: page.next.as_ref().map(|c| q.link(Some(c), shown.1)),
        q,
        total,
        shown,
        severities,
        // The console's default order (severity) first.
        sorts: vec!["severity", "last_seen", "first_seen", "org"],
        status,
        can_act: ctx.is_analyst(),
    })
}

/// Fields of the bulk form (the selected ids come as repeated `id` fields).
#[derive(Debug, Deserialize)]
pub struct BulkForm {
    action: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    title: String,
}

/// `POST /findings/bulk`: issue a notice for the selected findings (one per owning org), or mark them
/// false positive, or accept their risk.
pub async fn bulk(State(state): State<WebState>, p: Posted<BulkForm>) -> WebResult<Response> {
    let ids: Vec<Uuid> = p
        .pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| {
            v.parse::<Uuid>()
                .map_err(|_| WebError::BadForm(format!("id {v}")))
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(WebError::BadForm(
            p.ctx.tr.t("finding.none_selected").to_owned(),
        ));
    }
    let caller = p.ctx.loop_caller();
    let comment = p.form.comment.trim();
    match p.form.action.as_str() {
        "false_positive" => {
            for id in &ids {
                state
                    .loops()
                    .mark_false_positive(&caller, *id, comment)
                    .await?;
            }
            Ok(Redirect::to("/findings").into_response())
        }
        "accept_risk" => {
            for id in &ids {
                state
                    .loops()
                    .accept_risk(&caller, *id, None, comment)
                    .await?;
            }
            Ok(Redirect::to("/findings").into_response())
        }
        "notice" => {
            let mut by_org: BTreeMap<OrgId, Vec<Uuid>> = BTreeMap::new();
            let mut titles: BTreeMap<OrgId, String> = BTreeMap::new();
            for id in ids {
                let f = state
                    .app
                    .store()
                    .get_finding(id)
                    .await
                    .map_err(|e| WebError::App(e.into()))?;
                titles.entry(f.org).or_insert_with(|| f.title.clone());
                by_org.entry(f.org).or_default().push(id);
            }
            let mut last = None;
            for (org, findings) in by_org {
                let title = if p.form.title.trim().is_empty() {
                    titles[&org].clone()
                } else {
                    p.form.title.trim().to_owned()
                };
                let actions = if comment.is_empty() {
                    Vec::new()
                } else {
                    vec![comment.to_owned()]
                };
                let draft = state
                    .loops()
                    .draft_notice(&caller, org, findings, &title, actions)
                    .await?;
                let issued = state.loops().issue(&caller, draft.id, comment).await?;
                last = Some(issued.id);
            }
            let to = last
                .map(|id| format!("/notices/{id}"))
                .unwrap_or_else(|| "/notices".into());
            Ok(Redirect::to(&to).into_response())
        }
        other => Err(WebError::BadForm(format!("action {other}"))),
    }
}

#[derive(Template)]
#[template(path = "finding.html")]
struct FindingPage {
    s: Shell,
    f: Finding,
    org: String,
    asset: String,
    evidence: String,
    history: Vec<(Timestamp, String, String, String)>,
    can_act: bool,
}

/// `GET /findings/{id}`: one finding, its evidence as escaped text, its history.
pub async fn finding(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> WebResult<Response> {
    let what = || format!("finding {id}");
    let f = state
        .app
        .store()
        .get_finding(id)
        .await
        .map_err(|_| WebError::App(taishi_server::AppError::not_found(what())))?;
    let org = scope::org(&state.app, &ctx.caller, f.org, Action::ReadRegistry)
        .await
        .map_err(|e| match e {
            taishi_server::AppError::NotFound(_) => {
                WebError::App(taishi_server::AppError::not_found(what()))
            }
            other => WebError::App(other),
        })?;
    let asset = state
        .app
        .store()
        .get_asset(f.asset)
        .await
        .map(|a| a.identity)
        .unwrap_or_default();
    let evidence = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
    let history = f
        .history
        .iter()
        .map(|e| {
            let v = serde_json::to_value(&e.kind).unwrap_or_default();
            let kind = v
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or("")
                .to_owned();
            let mut rest = v.clone();
            if let Some(o) = rest.as_object_mut() {
                o.remove("kind");
            }
            let detail = if rest.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                rest.to_string()
            };
            (
                e.at,
                e.actor.clone().unwrap_or_else(|| "taishi".into()),
                kind,
                detail,
            )
        })
        .collect();
    let s = Shell::new(&state, &ctx, "/findings", f.title.clone());
    html(&FindingPage {
        s,
        can_act: ctx.is_analyst(),
        org: org.name,
        asset,
        evidence,
        history,
        f,
    })
}

/// The CSS class of a severity, for templates.
pub fn sev(s: &Severity) -> &'static str {
    s.as_str()
}
