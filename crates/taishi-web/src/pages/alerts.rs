//! Alerts (告警): the Sigma detections `taishi hunt --load-into` loaded as findings with source
//! `detection`. The list filters by level, rule, host, org, status and time and pages; the page of one
//! alert shows the rule (id, title, author, ATT&CK tags), the host, the org it was attributed to, its
//! finding and notice, and the whole event that fired with the fields the rule matched highlighted.
//!
//! Scoping is the findings API's own: lists cover `scope::within` of the caller, one alert is read
//! through `loopctx::finding`, so an alert outside the caller's subtree is a 404 like any finding.
//! Everything shown from the evidence came from hostile logs and is rendered as escaped text.

use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::{SEVERITIES, Shell, html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::Value as Json;
use taishi_model::finding::Finding;
use taishi_model::{FindingSource, OrgId, Severity};
use taishi_server::AppError;
use taishi_server::api::{loopctx, scope};
use taishi_server::policy::Action;
use taishi_store::{FindingQuery, NoticeQuery};
use uuid::Uuid;

/// Rows per page.
const PER_PAGE: usize = 50;
/// Most detections one list reads (already filtered by source, level, status and text in SQL) before the
/// exact rule, host and age checks.
const READ_CAP: u32 = 20_000;

/// Query of `GET /alerts`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AlertsQuery {
    /// Severity of the rule's level (`critical` … `info`).
    pub level: Option<String>,
    /// Text in the rule id or title.
    pub rule: Option<String>,
    /// Text in the host.
    pub host: Option<String>,
    /// Subtree root.
    pub org: Option<i64>,
    /// Seen within this many days.
    pub days: Option<i64>,
    /// Finding status; empty means open, `all` every status.
    pub status: Option<String>,
    /// Page number from 1.
    pub page: Option<usize>,
}

impl AlertsQuery {
    fn link(&self, page: usize) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("level", &self.level),
            ("rule", &self.rule),
            ("host", &self.host),
            ("status", &self.status),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                p.push((k, v.clone()));
            }
        }
        if let Some(v) = self.org {
            p.push(("org", v.to_string()));
        }
        if let Some(v) = self.days {
            p.push(("days", v.to_string()));
        }
        p.push(("page", page.to_string()));
        format!(
            "/alerts?{}",
            serde_urlencoded::to_string(&p).unwrap_or_default()
        )
    }
}

/// What an alert's evidence says, read defensively (older alerts lack some keys).
#[derive(Debug, Clone, Default)]
pub struct AlertView {
    /// Rule id (or title when the rule has none).
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Host the event came from.
    pub host: String,
    /// The rule's author.
    pub author: String,
    /// Tags, with a link for ATT&CK techniques.
    pub tags: Vec<(String, Option<String>)>,
    /// When the event happened, as the event said.
    pub at: String,
    /// File and record it was read from.
    pub origin: String,
    /// The value that attributed it (host or address).
    pub matched: String,
    /// The registered asset identity it was attributed to.
    pub attributed_to: String,
    /// The fields the rule matched on.
    pub fields: Vec<(String, String)>,
    /// The whole event (empty for correlations and alerts loaded before events were kept).
    pub event: Vec<(String, String)>,
    /// The event was cut at the intake's limit.
    pub truncated: bool,
}

fn text(v: &Json, key: &str) -> String {
    v.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn pairs(v: &Json, key: &str) -> Vec<(String, String)> {
    v.get(key)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_owned(),
                        p.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The ATT&CK page of a technique tag (`attack.t1059.001`); tactics and other tags have none.
pub fn attack_href(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let t = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let (main, sub) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(main) || !(sub.is_empty() || digits(sub)) {
        return None;
    }
    Some(if sub.is_empty() {
        format!("https://attack.mitre.org/techniques/T{main}/")
    } else {
        format!("https://attack.mitre.org/techniques/T{main}/{sub}/")
    })
}

impl AlertView {
    /// Reads an alert's evidence.
    pub fn of(f: &Finding) -> AlertView {
        let e = &f.evidence;
        let host = text(e, "host");
        let mut title = text(e, "title");
        if title.is_empty() {
            // Alerts loaded before the title was kept: the finding's title is "title（host）".
            let suffix = format!("（{host}）");
            title = f.title.strip_suffix(&suffix).unwrap_or(&f.title).to_owned();
        }
        let tags = e
            .get("tags")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(|t| (t.to_owned(), attack_href(t)))
                    .collect()
            })
            .unwrap_or_default();
        AlertView {
            rule: if f.check.is_empty() {
                text(e, "rule")
            } else {
                f.check.clone()
            },
            title,
            host,
            author: text(e, "author"),
            tags,
            at: text(e, "at"),
            origin: text(e, "origin"),
            matched: text(e, "matched"),
            attributed_to: text(e, "attributed_to"),
            fields: pairs(e, "fields"),
            event: pairs(e, "event"),
            truncated: e.get("event_truncated").and_then(Json::as_bool) == Some(true),
        }
    }
}

/// The Sigma level a severity came from (`info` was `informational`).
pub fn level_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "informational",
        other => other.as_str(),
    }
}

fn contains(hay: &str, needle: &Option<String>) -> bool {
    match needle.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => hay.to_lowercase().contains(&n.to_lowercase()),
        None => true,
    }
}

fn keep(f: &Finding, v: &AlertView, q: &AlertsQuery, now: Timestamp) -> bool {
    if let Some(l) = q.level.as_deref().filter(|l| !l.is_empty())
        && f.severity.as_str() != l
    {
        return false;
    }
    if let Some(days) = q.days
        && now.duration_since(f.last_seen) > SignedDuration::from_hours(24 * days)
    {
        return false;
    }
    contains(&format!("{} {}", v.rule, v.title), &q.rule) && contains(&v.host, &q.host)
}

/// One row of the list.
#[derive(Debug, Clone)]
pub struct Row {
    /// The finding behind the alert.
    pub f: Finding,
    /// Its evidence, read.
    pub v: AlertView,
    /// Name of the org it was attributed to.
    pub org: String,
    /// The rule's Sigma level.
    pub level: &'static str,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct ListPage {
    s: Shell,
    rows: Vec<Row>,
    q: AlertsQuery,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    levels: Vec<(&'static str, String)>,
    status: String,
}

/// `GET /alerts`.
pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<AlertsQuery>,
) -> WebResult<Response> {
    let within = scope::within(&state.app, &ctx.caller, q.org.map(OrgId), Action::ReadLoop).await?;
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
    // Source, level, status and one text filter run in SQL; the exact rule/host/age checks of `keep`
    // then look only at detections, at most `READ_CAP` of them, newest sighting first.
    let severities = match q.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => vec![l.parse::<Severity>().map_err(|_| {
            WebError::App(AppError::bad_field("level", format!("unknown level {l:?}")))
        })?],
        None => Vec::new(),
    };
    let text = [&q.rule, &q.host]
        .into_iter()
        .flatten()
        .map(|t| t.trim())
        .find(|t| !t.is_empty())
        .map(str::to_owned);
    let query = FindingQuery {
        within: Some(within),
        statuses,
        source: Some(FindingSource::Detection),
        severities,
        text,
        limit: READ_CAP,
        ..FindingQuery::default()
    };
    let now = state.app.now();
    let mut all: Vec<(Finding, AlertView)> = state
        .app
        .store()
        .list_findings(&query)
        .await
        .map_err(|e| WebError::App(e.into()))?
        .into_iter()
        .map(|f| {
            let v = AlertView::of(&f);
            (f, v)
        })
        .filter(|(f, v)| keep(f, v, &q, now))
        .collect();
    all.sort_by_key(|(f, _)| std::cmp::Reverse(f.last_seen));
    let total = all.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<(Finding, AlertView)> = all
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let tree = state.loops().tree().await?;
    let rows = shown
        .into_iter()
        .map(|(f, v)| Row {
            org: tree.get(f.org).map(|n| n.name.clone()).unwrap_or_default(),
            level: level_name(f.severity),
            f,
            v,
        })
        .collect();
    let levels = SEVERITIES
        .iter()
        .map(|s| (s.as_str(), ctx.tr.tk("alevel", level_name(*s))))
        .collect();
    let s = Shell::new(&state, &ctx, "/alerts", ctx.tr.t("nav.alerts"));
    html(&ListPage {
        s,
        rows,
        prev: (page > 1).then(|| q.link(page - 1)),
        next: (page < pages).then(|| q.link(page + 1)),
        q,
        total,
        page,
        pages,
        levels,
        status,
    })
}

/// One field of the event, marked when the rule matched on it.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Field name.
    pub name: String,
    /// Value, as text.
    pub value: String,
    /// The rule matched on this field.
    pub hit: bool,
}

/// True when a rule's field name `rule` names the event's field `event`: the same name ignoring case,
/// or the names the engine resolves (`Computer` for NXLog's `Hostname`, evtx_dump's full paths).
pub fn same_field(rule: &str, event: &str) -> bool {
    let bare = ["Event.System.", "Event.EventData.", "Event.UserData."]
        .iter()
        .find_map(|p| rule.strip_prefix(p))
        .unwrap_or(rule);
    let alias = match bare {
        "Computer" => "Hostname",
        "Provider_Name" => "SourceName",
        other => other,
    };
    bare.eq_ignore_ascii_case(event) || alias.eq_ignore_ascii_case(event)
}

/// The rows of the event view: the whole event with matched fields marked, or, for an alert without
/// its event, the matched fields alone.
pub fn event_rows(v: &AlertView) -> Vec<EventRow> {
    let source = if v.event.is_empty() {
        &v.fields
    } else {
        &v.event
    };
    source
        .iter()
        .map(|(name, value)| EventRow {
            hit: v.fields.iter().any(|(m, _)| same_field(m, name)),
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    s: Shell,
    f: Finding,
    v: AlertView,
    org: String,
    asset: String,
    notice: Option<(Uuid, String)>,
    rows: Vec<EventRow>,
    hits: usize,
    level: &'static str,
}

/// `GET /alerts/{id}`: one alert with its rule, attribution, finding, notice and event.
pub async fn alert(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> WebResult<Response> {
    let f = loopctx::finding(&state.app, &ctx.caller, id, Action::ReadLoop).await?;
    if f.source != FindingSource::Detection {
        return Err(AppError::not_found(format!("alert {id}")).into());
    }
    let store = state.app.store();
    let org = store
        .get_org(f.org)
        .await
        .map(|o| o.name)
        .unwrap_or_default();
    let asset = store
        .get_asset(f.asset)
        .await
        .map(|a| a.identity)
        .unwrap_or_default();
    let notice = store
        .list_notices(&NoticeQuery {
            within: Some(f.org),
            live_only: false,
        })
        .await
        .map_err(|e| WebError::App(e.into()))?
        .into_iter()
        .filter(|n| n.org == f.org && n.findings.contains(&f.id))
        .max_by_key(|n| n.created_at)
        .map(|n| (n.id, n.number.to_string()));
    let v = AlertView::of(&f);
    let rows = event_rows(&v);
    let hits = rows.iter().filter(|r| r.hit).count();
    let s = Shell::new(&state, &ctx, "/alerts", v.title.clone());
    html(&AlertPage {
        s,
        level: level_name(f.severity),
        org,
        asset,
        notice,
        rows,
        hits,
        v,
        f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_tags_link_to_attack_and_others_do_not() {
        assert_eq!(
            attack_href("attack.t1059.001").as_deref(),
            Some("https://attack.mitre.org/techniques/T1059/001/")
        );
        assert_eq!(
            attack_href("attack.t1110").as_deref(),
            Some("https://attack.mitre.org/techniques/T1110/")
        );
        assert_eq!(attack_href("attack.g0007"), None, "a group is no technique");
        assert_eq!(attack_href("attack.t1059.x\"><script>"), None);
        assert_eq!(attack_href("cve.2021-44228"), None);
    }

    #[test]
    fn rule_field_names_find_the_event_field() {
        assert!(same_field("TargetUserName", "targetusername"));
        assert!(same_field("Computer", "Hostname"));
        assert!(same_field("Event.EventData.Image", "Image"));
        assert!(!same_field("Image", "ParentImage"));
    }

    #[test]
    fn the_event_view_marks_matched_fields_or_falls_back_to_them() {
        let mut v = AlertView {
            fields: vec![("IpAddress".into(), "10.1.2.3".into())],
            ..AlertView::default()
        };
        let rows = event_rows(&v);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].hit);
        v.event = vec![
            ("EventID".into(), "4625".into()),
            ("IpAddress".into(), "10.1.2.3".into()),
        ];
        let rows = event_rows(&v);
        assert_eq!(
            rows.iter().map(|r| r.hit).collect::<Vec<_>>(),
            [false, true]
        );
    }
}
