//! `/admin/policy` and `/admin/indicators`: the effective deadline policy and indicator system, where
//! each comes from, and a TOML editor. A saved document is checked by taishi-loop's own parser first
//! (an error names the line and the field, and nothing changes), then stored and applied to the
//! running loop service at once.

use super::{
    Baseline, INDICATORS_KEY, POLICY_KEY, Source, Tab, render, require_settings, store_setting,
    tabs,
};
use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::Shell;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use taishi_loop::policy::{DeadlineDays, LoopPolicy};
use taishi_loop::score::IndicatorSystem;

/// Which document a page edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// The deadline policy.
    Policy,
    /// The indicator system.
    Indicators,
}

impl Doc {
    fn key(self) -> &'static str {
        match self {
            Doc::Policy => POLICY_KEY,
            Doc::Indicators => INDICATORS_KEY,
        }
    }
    fn path(self) -> &'static str {
        match self {
            Doc::Policy => "/admin/policy",
            Doc::Indicators => "/admin/indicators",
        }
    }
    fn title_key(self) -> &'static str {
        match self {
            Doc::Policy => "admin_common.policy",
            Doc::Indicators => "admin_common.indicators",
        }
    }
    /// The configuration's document as TOML.
    fn baseline_text(self, b: &Baseline) -> String {
        let r = match self {
            Doc::Policy => toml::to_string_pretty(&*b.policy),
            Doc::Indicators => toml::to_string_pretty(&*b.indicators),
        };
        r.unwrap_or_else(|e| format!("# cannot show the configuration: {e}\n"))
    }
    /// Parses `text` with the loop's own parser; the error names the line and the field.
    fn parse(self, text: &str) -> Result<Parsed, String> {
        match self {
            Doc::Policy => LoopPolicy::from_toml(text, "policy")
                .map(Parsed::Policy)
                .map_err(|e| e.to_string()),
            Doc::Indicators => IndicatorSystem::from_toml(text, "indicators")
                .map(Parsed::Indicators)
                .map_err(|e| e.to_string()),
        }
    }
}

/// A checked document, ready to apply.
enum Parsed {
    Policy(LoopPolicy),
    Indicators(IndicatorSystem),
}

impl Parsed {
    /// Puts it into the running loop service.
    fn apply(self, state: &WebState) {
        match self {
            Parsed::Policy(p) => state.loops().set_policy(p),
            Parsed::Indicators(i) => state.loops().set_indicators(i),
        }
    }
}

/// One row of the deadline summary: tier label and days per column (`—`: no deadline).
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    /// `default` or the tier number.
    pub tier: String,
    /// Exploited and exposed, critical, high, medium, low, info.
    pub days: Vec<String>,
}

fn days_row(tier: String, d: &DeadlineDays) -> DeadlineRow {
    let f = |v: Option<u32>| v.map_or_else(|| "—".to_owned(), |n| n.to_string());
    DeadlineRow {
        tier,
        days: [
            d.exploited_exposed,
            d.critical,
            d.high,
            d.medium,
            d.low,
            d.info,
        ]
        .into_iter()
        .map(f)
        .collect(),
    }
}

/// One indicator in the summary: id, name, weight, kind.
#[derive(Debug, Clone)]
pub struct IndicatorRow {
    /// Id.
    pub id: String,
    /// Name in the page's language.
    pub name: String,
    /// Weight.
    pub weight: String,
    /// Kind (its TOML tag).
    pub kind: String,
}

#[derive(Template)]
#[template(path = "admin_config.html")]
struct ConfigPage {
    s: Shell,
    tabs: Vec<Tab>,
    doc: &'static str,
    action: &'static str,
    source: Source,
    text: String,
    deadlines: Vec<DeadlineRow>,
    policy_lines: Vec<(String, String)>,
    indicators: Vec<IndicatorRow>,
    rollup: String,
    done: String,
    error: String,
}

async fn page(
    state: &WebState,
    ctx: &Ctx,
    doc: Doc,
    draft: Option<String>,
    done: String,
    error: String,
) -> WebResult<Response> {
    require_settings(state, ctx).await?;
    let stored = state
        .app
        .store()
        .get_setting(doc.key())
        .await
        .map_err(|e| WebError::App(e.into()))?;
    let source = Source::of(ctx, stored.as_ref());
    let text = draft.unwrap_or_else(|| match &stored {
        Some(s) => s.value.clone(),
        None => doc.baseline_text(&state.baseline),
    });
    let svc = state.loops();
    let (mut deadlines, mut policy_lines, mut indicators, mut rollup) =
        (Vec::new(), Vec::new(), Vec::new(), String::new());
    match doc {
        Doc::Policy => {
            let p = svc.policy();
            deadlines.push(days_row("—".into(), &p.deadlines));
            for (tier, d) in &p.tier_deadlines {
                deadlines.push(days_row(tier.clone(), d));
            }
            policy_lines = vec![
                ("ack_workdays".into(), p.ack_workdays.to_string()),
                (
                    "remind_hours_before".into(),
                    p.remind_hours_before.to_string(),
                ),
                (
                    "escalation_period_days".into(),
                    p.escalation_period_days.to_string(),
                ),
                (
                    "max_escalation_levels".into(),
                    p.max_escalation_levels.to_string(),
                ),
                (
                    "risk_acceptance_days".into(),
                    p.risk_acceptance_days.to_string(),
                ),
                ("levels".into(), compact(&p.levels)),
                ("auto_issue".into(), compact(&p.auto_issue)),
            ];
        }
        Doc::Indicators => {
            let sys = svc.indicators();
            rollup = compact(&sys.rollup);
            let en = ctx.tr.lang == crate::i18n::Lang::En;
            indicators = sys
                .indicators
                .iter()
                .map(|i| IndicatorRow {
                    id: i.id.clone(),
                    name: if en { &i.name_en } else { &i.name_zh }.clone(),
                    weight: i.weight.to_string(),
                    kind: compact(&i.kind),
                })
                .collect();
        }
    }
    let page = ConfigPage {
        s: Shell::new(state, ctx, "/admin", ctx.tr.t(doc.title_key())),
        tabs: tabs(doc.path()),
        doc: doc.key(),
        action: doc.path(),
        source,
        text,
        deadlines,
        policy_lines,
        indicators,
        rollup,
        done,
        error,
    };
    render(&page, &page.error)
}

/// Compact one-line JSON of a settings part, for the summary.
fn compact<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `GET /admin/policy`.
pub async fn policy(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    page(
        &state,
        &ctx,
        Doc::Policy,
        None,
        String::new(),
        String::new(),
    )
    .await
}

/// `GET /admin/indicators`.
pub async fn indicators(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    page(
        &state,
        &ctx,
        Doc::Indicators,
        None,
        String::new(),
        String::new(),
    )
    .await
}

/// Fields of the editor: `action` is `save` or `revert` (back to the configuration).
#[derive(Debug, Deserialize)]
pub struct EditForm {
    action: String,
    #[serde(default)]
    text: String,
}

async fn edit(state: WebState, doc: Doc, p: Posted<EditForm>) -> WebResult<Response> {
    let ctx = &p.ctx;
    require_settings(&state, ctx).await?;
    match p.form.action.as_str() {
        "save" => {
            let text = p.form.text.replace("\r\n", "\n");
            let parsed = match doc.parse(&text) {
                Ok(p) => p,
                Err(e) => return page(&state, ctx, doc, Some(text), String::new(), e).await,
            };
            // Stored first, so the running service never holds a value the store does not.
            store_setting(&state, ctx, doc.key(), Some((&text, &text))).await?;
            parsed.apply(&state);
            let done = ctx.tr.t("admin_cfg.saved").to_owned();
            page(&state, ctx, doc, None, done, String::new()).await
        }
        "revert" => {
            let had = state
                .app
                .store()
                .get_setting(doc.key())
                .await
                .map_err(|e| WebError::App(e.into()))?;
            if had.is_some() {
                store_setting(&state, ctx, doc.key(), None).await?;
            }
            let b = &state.baseline;
            match doc {
                Doc::Policy => state.loops().set_policy((*b.policy).clone()),
                Doc::Indicators => state.loops().set_indicators((*b.indicators).clone()),
            }
            let done = ctx.tr.t("admin_cfg.reverted").to_owned();
            page(&state, ctx, doc, None, done, String::new()).await
        }
        other => Err(WebError::BadForm(format!("action {other}"))),
    }
}

/// `POST /admin/policy`.
pub async fn edit_policy(
    State(state): State<WebState>,
    p: Posted<EditForm>,
) -> WebResult<Response> {
    edit(state, Doc::Policy, p).await
}

/// `POST /admin/indicators`.
pub async fn edit_indicators(
    State(state): State<WebState>,
    p: Posted<EditForm>,
) -> WebResult<Response> {
    edit(state, Doc::Indicators, p).await
}
