//! The frame around every signed-in page: navigation rail, top bar with the user, language switch and
//! logout, and the rendering of a page template into a response.

use crate::ctx::{Ctx, WebState};
use crate::error::WebResult;
use crate::i18n::Tr;
use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use taishi_model::Severity;

/// One entry of the navigation rail.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Site path.
    pub href: &'static str,
    /// Catalogue key of its label.
    pub key: &'static str,
    /// True on the current section.
    pub on: bool,
    /// A separator is drawn before it.
    pub sep: bool,
}

/// What the layout needs from every page.
#[derive(Debug, Clone)]
pub struct Shell {
    /// Translation and formatting.
    pub tr: Tr,
    /// The user's name.
    pub user: String,
    /// The user's role, translated.
    pub role: String,
    /// CSRF token for the layout's own forms.
    pub csrf: String,
    /// Current path and query.
    pub here: String,
    /// Static file version.
    pub v: Arc<str>,
    /// Navigation entries for this role.
    pub nav: Vec<NavItem>,
    /// Title of the page (already translated).
    pub title: String,
}

impl Shell {
    /// The frame for `ctx`, with `section` (a nav href) marked and `title` in the head.
    pub fn new(
        state: &WebState,
        ctx: &Ctx,
        section: &'static str,
        title: impl Into<String>,
    ) -> Shell {
        let role = ctx
            .tr
            .word(ctx.caller.role.as_str(), ctx.caller.role.label_zh())
            .to_owned();
        let mut nav = vec![
            item("/", "nav.dashboard", false),
            item("/orgs", "nav.orgs", false),
            item("/assets", "nav.assets", false),
            item("/findings", "nav.findings", false),
            item("/notices", "nav.notices", false),
            item("/alerts", "nav.alerts", false),
            item("/rankings", "nav.rankings", false),
        ];
        nav.push(item("/bulletins", "nav.bulletins", true));
        nav.push(item("/screen", "nav.screen", false));
        if ctx.is_admin() {
            nav.push(item("/admin", "nav.admin", true));
        }
        for n in &mut nav {
            n.on = n.href == section;
        }
        Shell {
            tr: ctx.tr.clone(),
            user: ctx.caller.name.clone(),
            role,
            csrf: ctx.csrf.clone(),
            here: ctx.here.clone(),
            v: state.static_version.clone(),
            nav,
            title: title.into(),
        }
    }

    /// The other language's tag and name, for the switch in the top bar.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.tr.lang {
            crate::i18n::Lang::ZhCn => ("en", "English"),
            crate::i18n::Lang::En => ("zh-CN", "中文"),
        }
    }
}

fn item(href: &'static str, key: &'static str, sep: bool) -> NavItem {
    NavItem {
        href,
        key,
        on: false,
        sep,
    }
}

/// Renders a template as an HTML response.
pub fn html<T: Template>(page: &T) -> WebResult<Response> {
    let body = page.render()?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(resp)
}

/// CSS class and catalogue key of a severity.
pub fn sev_class(s: Severity) -> &'static str {
    s.as_str()
}

/// The five severities, worst first.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// The chart colour of a severity (the console's fixed scale).
pub fn sev_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b91c1c",
        Severity::High => "#ea580c",
        Severity::Medium => "#ca8a04",
        Severity::Low => "#2563eb",
        Severity::Info => "#6b7280",
    }
}
