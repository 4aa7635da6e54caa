//! Administration (admins only): user accounts, API tokens, and the server-wide settings of the closed
//! loop — the deadline policy, the indicator system and the notification channels.
//!
//! Accounts and tokens go through the API's own handlers (`taishi_server::api::users` / `tokens`), so
//! the console and the API share one implementation of scoping, validation and auditing: an admin sees
//! and changes only accounts inside its subtree.
//!
//! Settings precedence: a setting saved here is stored (`SettingsStore`, key `loop_policy`,
//! `loop_indicators`, `loop_channels`) and **overrides the configuration** the server started with (the
//! configuration file, else the built-in default), from the moment it is saved and after every restart
//! ([`apply_stored`]). "Back to the configuration" deletes the stored value and puts the startup
//! configuration ([`Baseline`]) back into the running service. Each page says where the effective
//! value comes from. Settings reach every org, so only an admin whose scope is a whole tree may change
//! them ([`taishi_server::policy::can_manage_settings`]); every change is audited with the redacted
//! value before and after.

pub mod channels;
pub mod config;
pub mod tokens;
pub mod users;

use crate::ctx::{Ctx, WebState};
use crate::error::{WebError, WebResult};
use std::sync::Arc;
use taishi_loop::LoopService;
use taishi_loop::notify::{Notifier, NotifyConfig};
use taishi_loop::policy::LoopPolicy;
use taishi_loop::score::IndicatorSystem;
use taishi_server::policy::{Action, Decision, can_manage_settings};
use taishi_server::{AppError, AppState};
use taishi_store::{SettingChange, StoredSetting};

/// Key of the stored deadline policy (TOML of [`LoopPolicy`]).
pub const POLICY_KEY: &str = "loop_policy";
/// Key of the stored indicator system (TOML of [`IndicatorSystem`]).
pub const INDICATORS_KEY: &str = "loop_indicators";
/// Key of the stored notification channels (TOML of [`NotifyConfig`]).
pub const CHANNELS_KEY: &str = "loop_channels";

/// The loop settings the server started with (configuration file or built-in defaults), captured when
/// the console's router is built: what "back to the configuration" restores.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Deadline policy.
    pub policy: Arc<LoopPolicy>,
    /// Indicator system.
    pub indicators: Arc<IndicatorSystem>,
    /// Notification channels (`None`: no notifier configured).
    pub channels: Option<NotifyConfig>,
}

impl Baseline {
    /// What `svc` runs with now.
    pub fn of(svc: &LoopService) -> Baseline {
        Baseline {
            policy: svc.policy(),
            indicators: svc.indicators(),
            channels: svc.notifier().map(|n| n.config().clone()),
        }
    }
}

/// Why a stored setting could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] taishi_store::StoreError),
    /// A stored document no longer parses (e.g. written by a newer taishi).
    #[error("stored setting {key}: {message}")]
    Invalid {
        /// Setting key.
        key: &'static str,
        /// Parser message (names line and field).
        message: String,
    },
}

/// Applies every stored setting to the running loop service; returns the keys applied. Called at
/// start-up after the console's router captured the [`Baseline`], so stored settings override the
/// configuration.
///
/// # Errors
/// The store failed, or a stored document does not parse (the server should not start with a policy
/// other than the one the admin saved).
pub async fn apply_stored(app: &AppState) -> Result<Vec<&'static str>, ApplyError> {
    let store = app.store();
    let svc = app.loop_service();
    let mut applied = Vec::new();
    let invalid = |key: &'static str, e: &dyn std::fmt::Display| ApplyError::Invalid {
        key,
        message: e.to_string(),
    };
    if let Some(s) = store.get_setting(POLICY_KEY).await? {
        let p = LoopPolicy::from_toml(&s.value, POLICY_KEY).map_err(|e| invalid(POLICY_KEY, &e))?;
        svc.set_policy(p);
        applied.push(POLICY_KEY);
    }
    if let Some(s) = store.get_setting(INDICATORS_KEY).await? {
        let i = IndicatorSystem::from_toml(&s.value, INDICATORS_KEY)
            .map_err(|e| invalid(INDICATORS_KEY, &e))?;
        svc.set_indicators(i);
        applied.push(INDICATORS_KEY);
    }
    if let Some(s) = store.get_setting(CHANNELS_KEY).await? {
        let c = channels::parse(&s.value).map_err(|e| invalid(CHANNELS_KEY, &e))?;
        svc.set_notifier(Some(
            Notifier::new(c).map_err(|e| invalid(CHANNELS_KEY, &e))?,
        ));
        applied.push(CHANNELS_KEY);
    }
    Ok(applied)
}

/// Refuses callers who may not manage accounts (everyone but admins), before any page work.
pub fn require_admin(ctx: &Ctx) -> WebResult<()> {
    Ok(ctx.caller.require(Action::ManageUsers)?)
}

/// Refuses callers who may not change server-wide settings: admins of a whole tree only.
pub async fn require_settings(state: &WebState, ctx: &Ctx) -> WebResult<()> {
    require_admin(ctx)?;
    let scope = state
        .app
        .store()
        .get_org(ctx.caller.scope)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    match can_manage_settings(ctx.caller.role, scope.parent_id.is_none()) {
        Decision::Allow => Ok(()),
        _ => Err(WebError::App(AppError::forbidden(
            "server-wide settings need an admin whose scope is a whole tree",
        ))),
    }
}

/// Saves (`Some`) or deletes (`None`) a setting with its redacted form, audited under the admin's scope.
pub async fn store_setting(
    state: &WebState,
    ctx: &Ctx,
    key: &str,
    value: Option<(&str, &str)>,
) -> WebResult<Option<StoredSetting>> {
    let change = SettingChange {
        key,
        value: value.map(|v| v.0),
        shown: value.map_or("", |v| v.1),
        org: Some(ctx.caller.scope),
    };
    state
        .app
        .store()
        .put_setting(&ctx.caller.actor, change)
        .await
        .map_err(|e| WebError::App(e.into()))
}

/// Where an effective setting comes from, for the page.
#[derive(Debug, Clone)]
pub struct Source {
    /// Saved by an admin (then `by` and `at` say who and when).
    pub stored: bool,
    /// Who saved it.
    pub by: String,
    /// When (formatted).
    pub at: String,
}

impl Source {
    /// The source of `stored` as seen by `ctx`.
    pub fn of(ctx: &Ctx, stored: Option<&StoredSetting>) -> Source {
        match stored {
            Some(s) => Source {
                stored: true,
                by: s.updated_by.clone(),
                at: ctx.tr.datetime(s.updated_at),
            },
            None => Source {
                stored: false,
                by: String::new(),
                at: String::new(),
            },
        }
    }
}

/// One tab of the administration pages.
#[derive(Debug, Clone)]
pub struct Tab {
    /// Path.
    pub href: &'static str,
    /// Catalogue key.
    pub key: &'static str,
    /// Current.
    pub on: bool,
}

/// The tabs, with `here` marked.
pub fn tabs(here: &str) -> Vec<Tab> {
    [
        ("/admin/users", "admin_common.users"),
        ("/admin/tokens", "admin_common.tokens"),
        ("/admin/policy", "admin_common.policy"),
        ("/admin/indicators", "admin_common.indicators"),
        ("/admin/channels", "admin_common.channels"),
    ]
    .into_iter()
    .map(|(href, key)| Tab {
        href,
        key,
        on: href == here,
    })
    .collect()
}

/// An error of an API handler the page shows next to its form (validation, conflicts), or `Err` for
/// errors the page cannot show (permission, scope, failures), which become the error page.
pub fn form_error(e: AppError) -> WebResult<String> {
    match e {
        AppError::Invalid(fields) => Ok(fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("\n")),
        AppError::BadRequest {
            message,
            field: Some(field),
        } => Ok(format!("{field}: {message}")),
        AppError::Conflict(_) | AppError::Refused(_) | AppError::BadRequest { .. } => {
            Ok(e.to_string())
        }
        other => Err(WebError::App(other)),
    }
}

/// Renders an admin page: 200, or 422 when it shows a form error.
pub fn render<T: askama::Template>(page: &T, error: &str) -> WebResult<axum::response::Response> {
    let mut resp = crate::layout::html(page)?;
    if !error.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// The role named `s` in a form.
pub fn parse_role(s: &str) -> Result<taishi_model::Role, String> {
    taishi_model::Role::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| format!("role: unknown role {s:?}"))
}

/// The org with `code`, if it exists (the API handler then checks it lies in the admin's scope).
pub async fn org_by_code(state: &WebState, code: &str) -> Result<taishi_model::OrgId, String> {
    state
        .app
        .store()
        .get_org_by_code(code.trim())
        .await
        .map(|o| o.id)
        .map_err(|_| format!("org: no organisation with code {:?}", code.trim()))
}

/// `GET /admin`: the first tab.
pub async fn index(ctx: Ctx) -> WebResult<axum::response::Redirect> {
    require_admin(&ctx)?;
    Ok(axum::response::Redirect::to("/admin/users"))
}
