//! `/admin/channels`: where notifications go — the SMTP relay and the webhooks (generic JSON,
//! DingTalk, WeCom, Feishu). Add, edit, remove, and send a test message whose outcome is read back from
//! the delivery log. Secrets are never sent back to the browser: webhook URLs are shown masked (robot
//! tokens live in the query or the last path segment) and the SMTP password only as "set"; leaving
//! those fields blank when editing keeps the stored secret.

use super::{Baseline, CHANNELS_KEY, Source, Tab, render, require_settings, store_setting, tabs};
use crate::ctx::{Ctx, Posted, WebState};
use crate::error::{WebError, WebResult};
use crate::layout::Shell;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use taishi_loop::LoopService;
use taishi_loop::notify::{
    Notifier, NotifyConfig, RetryPolicy, SmtpConfig, SmtpTls, WebhookConfig,
};
use taishi_model::rectification::Delivery;

/// Events a webhook commonly subscribes to (the hint of the events field; any event name is taken).
pub const EVENTS: [&str; 7] = [
    "issued",
    "ack_overdue",
    "deadline_approaching",
    "overdue",
    "escalated",
    "returned",
    "closed",
];

/// Webhook payload formats, as written in the settings.
pub const FORMATS: [&str; 4] = ["generic", "dingtalk", "wecom", "feishu"];

/// Parses stored channels.
///
/// # Errors
/// The TOML error, naming line and field.
pub fn parse(text: &str) -> Result<NotifyConfig, toml::de::Error> {
    toml::from_str(text)
}

fn to_toml(c: &NotifyConfig) -> String {
    toml::to_string_pretty(c).unwrap_or_default()
}

/// A URL with its secret parts hidden: the query and the last path segment (where DingTalk, WeCom and
/// Feishu robots keep their tokens) become `…`.
pub fn mask_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, _)) => (b, true),
        None => (url, false),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        return "…".into();
    };
    match rest.find('/') {
        None => format!("{scheme}://{rest}{}", if query { "/?…" } else { "" }),
        Some(i) => {
            let (host, path) = rest.split_at(i);
            let dir = &path[..path.rfind('/').unwrap_or(0)];
            let last = &path[dir.len()..];
            if last.len() > 1 || query {
                format!("{scheme}://{host}{dir}/…")
            } else {
                format!("{scheme}://{host}{path}")
            }
        }
    }
}

/// Names of settings fields that hold secrets, whatever channel they belong to.
const SECRET_FIELDS: [&str; 3] = ["password", "secret", "token"];

/// The channels with every secret masked: what the audit log and the page show. Works on the
/// serialised form, so a secret field added to a channel later is masked too.
pub fn redacted(c: &NotifyConfig) -> NotifyConfig {
    let Ok(mut v) = serde_json::to_value(c) else {
        return NotifyConfig::default();
    };
    let mask = |o: &mut serde_json::Map<String, Value>| {
        for (k, val) in o.iter_mut() {
            if SECRET_FIELDS.contains(&k.as_str()) && val.is_string() {
                *val = json!("…");
            } else if k == "url"
                && let Some(u) = val.as_str()
            {
                *val = json!(mask_url(u));
            }
        }
    };
    if let Some(hooks) = v.get_mut("webhooks").and_then(Value::as_array_mut) {
        for h in hooks.iter_mut().filter_map(Value::as_object_mut) {
            mask(h);
        }
    }
    if let Some(smtp) = v.get_mut("smtp").and_then(Value::as_object_mut) {
        mask(smtp);
    }
    serde_json::from_value(v).unwrap_or_default()
}

/// One webhook as the page shows it.
#[derive(Debug, Clone)]
pub struct HookRow {
    /// Name.
    pub name: String,
    /// Format tag.
    pub format: String,
    /// Masked URL.
    pub url: String,
    /// Subscribed events, comma-separated (empty: all).
    pub events: String,
}

/// The SMTP relay as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct SmtpRow {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Sender.
    pub from: String,
    /// AUTH user.
    pub username: String,
    /// A password is stored.
    pub password_set: bool,
    /// TLS mode: `starttls`, `implicit` or `none`.
    pub tls: &'static str,
    /// Extra CA certificates (PEM file path), or empty.
    pub ca_file: String,
    /// Plain-text AUTH allowed.
    pub plaintext: bool,
}

/// One line of the test log.
#[derive(Debug, Clone)]
pub struct LogRow {
    /// When.
    pub at: String,
    /// Channel.
    pub channel: String,
    /// Target (masked).
    pub target: String,
    /// Delivered.
    pub ok: bool,
    /// Attempts.
    pub attempts: u32,
    /// Error.
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin_channels.html")]
struct ChannelsPage {
    s: Shell,
    tabs: Vec<Tab>,
    source: Source,
    hooks: Vec<HookRow>,
    smtp: Option<SmtpRow>,
    tls_modes: Vec<&'static str>,
    analysts: String,
    formats: Vec<&'static str>,
    events: String,
    log: Vec<LogRow>,
    done: String,
    error: String,
}

/// The channels in effect: the stored ones, else the configuration's.
async fn effective(state: &WebState) -> WebResult<(NotifyConfig, Source, Option<String>)> {
    let stored = state
        .app
        .store()
        .get_setting(CHANNELS_KEY)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    let cfg = match &stored {
        Some(s) => parse(&s.value).map_err(|e| WebError::BadForm(e.to_string()))?,
        None => baseline(&state.baseline),
    };
    let by = stored.as_ref().map(|s| s.updated_by.clone());
    let src = Source {
        stored: stored.is_some(),
        by: by.clone().unwrap_or_default(),
        at: String::new(),
    };
    Ok((cfg, src, stored.map(|s| s.updated_at.to_string())))
}

fn baseline(b: &Baseline) -> NotifyConfig {
    b.channels.clone().unwrap_or_default()
}

async fn page(state: &WebState, ctx: &Ctx, done: String, error: String) -> WebResult<Response> {
    require_settings(state, ctx).await?;
    let (cfg, mut source, at) = effective(state).await?;
    if let Some(at) = at.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        source.at = ctx.tr.datetime(at);
    }
    let hooks = cfg
        .webhooks
        .iter()
        .map(|h| HookRow {
            name: h.name.clone(),
            format: serde_json::to_value(h.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            url: mask_url(&h.url),
            events: h.events.join(", "),
        })
        .collect();
    let smtp = cfg.smtp.as_ref().map(|s| SmtpRow {
        host: s.host.clone(),
        port: s.port,
        from: s.from.clone(),
        username: s.username.clone().unwrap_or_default(),
        password_set: s.password.is_some(),
        plaintext: s.allow_plaintext_auth,
        tls: tls_name(s.tls),
        ca_file: s
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    });
    let mut log: Vec<Delivery> = state
        .app
        .store()
        .deliveries(LoopService::TEST_DELIVERIES)
        .await
        .map_err(|e| WebError::App(e.into()))?;
    log.reverse();
    log.truncate(20);
    let log = log
        .into_iter()
        .map(|d| LogRow {
            at: ctx.tr.datetime(d.at),
            channel: d.channel,
            target: if d.target.contains("://") {
                mask_url(&d.target)
            } else {
                d.target
            },
            ok: d.delivered,
            attempts: d.attempts,
            error: d.error.unwrap_or_default(),
        })
        .collect();
    let page = ChannelsPage {
        s: Shell::new(state, ctx, "/admin", ctx.tr.t("admin_common.channels")),
        tabs: tabs("/admin/channels"),
        source,
        hooks,
        smtp,
        tls_modes: TLS_MODES.to_vec(),
        analysts: cfg.analyst_emails.join(", "),
        formats: FORMATS.to_vec(),
        events: EVENTS.join(", "),
        log,
        done,
        error,
    };
    render(&page, &page.error)
}

/// `GET /admin/channels`.
pub async fn list(State(state): State<WebState>, ctx: Ctx) -> WebResult<Response> {
    page(&state, &ctx, String::new(), String::new()).await
}

/// Fields of every channel form; `action` says which.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChannelForm {
    action: String,
    /// Webhook: name, the name it had (when editing), URL (blank: keep), format, events, signing
    /// secret of DingTalk and Feishu robots (blank: keep).
    name: String,
    orig: String,
    url: String,
    format: String,
    events: String,
    secret: String,
    /// SMTP: host, port, sender, user, password (blank: keep), plain-text AUTH.
    host: String,
    port: String,
    from: String,
    username: String,
    password: String,
    plaintext: String,
    /// SMTP TLS mode (`starttls`, `implicit`, `none`; blank: `starttls`) and CA file (blank: none).
    tls: String,
    ca_file: String,
    /// Analysts' e-mail addresses, separated by commas, spaces or new lines.
    analysts: String,
    /// Test e-mail recipient.
    to: String,
}

/// A webhook from the form over the stored one: a blank URL or secret keeps the stored value, and any
/// setting the form does not show is kept as it was.
fn webhook_from(f: &ChannelForm, old: Option<&WebhookConfig>) -> Result<WebhookConfig, String> {
    let name = f.name.trim();
    if name.is_empty() || name.len() > 60 {
        return Err("name: give the channel a name of 1–60 characters".into());
    }
    let url = match (f.url.trim(), old) {
        ("", Some(o)) => o.url.clone(),
        ("", None) => return Err("url: the webhook URL is required".into()),
        (u, _) => {
            if crate::security::external_href(u).is_none() {
                return Err("url: must be an http:// or https:// URL".into());
            }
            u.to_owned()
        }
    };
    if !FORMATS.contains(&f.format.as_str()) {
        return Err(format!(
            "format: one of {}, not {:?}",
            FORMATS.join(", "),
            f.format
        ));
    }
    let events: Vec<&str> = f
        .events
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if let Some(bad) = events
        .iter()
        .find(|e| !e.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    {
        return Err(format!(
            "events: {bad:?} is not an event name (e.g. {})",
            EVENTS.join(", ")
        ));
    }
    let mut v: Value = old
        .and_then(|o| serde_json::to_value(o).ok())
        .unwrap_or_else(|| json!({}));
    v["name"] = json!(name);
    v["url"] = json!(url);
    v["format"] = json!(f.format);
    v["events"] = json!(events);
    if !f.secret.trim().is_empty() {
        v["secret"] = json!(f.secret.trim());
    }
    serde_json::from_value(v).map_err(|e| format!("webhook: {e}"))
}

/// The SMTP relay from the form, over the stored one (its password kept when the field is blank, and
/// any setting the form does not show kept as it was).
fn smtp_from(f: &ChannelForm, old: Option<&SmtpConfig>) -> Result<SmtpConfig, String> {
    let mut v: Value = old
        .and_then(|o| serde_json::to_value(o).ok())
        .unwrap_or_else(|| json!({}));
    let host = f.host.trim();
    if host.is_empty() {
        return Err("host: the relay's host name is required".into());
    }
    let port: u16 = match f.port.trim() {
        "" => 25,
        p => p
            .parse()
            .map_err(|_| format!("port: {p:?} is not a port number"))?,
    };
    let from = f.from.trim();
    if !from.contains('@') {
        return Err("from: a sender address like taishi@example.cn".into());
    }
    v["host"] = json!(host);
    v["port"] = json!(port);
    v["from"] = json!(from);
    v["username"] = match f.username.trim() {
        "" => Value::Null,
        u => json!(u),
    };
    if !f.password.is_empty() {
        v["password"] = json!(f.password);
    } else if f.username.trim().is_empty() {
        v["password"] = Value::Null;
    }
    v["allow_plaintext_auth"] = json!(f.plaintext == "on");
    let tls = match f.tls.trim() {
        "" => "starttls",
        t if TLS_MODES.contains(&t) => t,
        t => {
            return Err(format!("tls: one of {}, not {t:?}", TLS_MODES.join(", ")));
        }
    };
    v["tls"] = json!(tls);
    v["ca_file"] = match f.ca_file.trim() {
        "" => Value::Null,
        c => json!(c),
    };
    serde_json::from_value(v).map_err(|e| format!("smtp: {e}"))
}

/// The SMTP TLS modes, as the notifier's configuration spells them.
const TLS_MODES: [&str; 3] = ["starttls", "implicit", "none"];

fn tls_name(t: SmtpTls) -> &'static str {
    match t {
        SmtpTls::Starttls => TLS_MODES[0],
        SmtpTls::Implicit => TLS_MODES[1],
        SmtpTls::None => TLS_MODES[2],
    }
}

/// The analysts' addresses from the form: separated by commas, spaces or new lines, each an address.
fn analysts_from(f: &ChannelForm) -> Result<Vec<String>, String> {
    let list: Vec<String> = f
        .analysts
        .split([',', ' ', '\n', '\r', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    match list.iter().find(|a| !a.contains('@')) {
        Some(bad) => Err(format!("analysts: {bad:?} is not an e-mail address")),
        None => Ok(list),
    }
}

/// Stores `cfg` (redacted in the audit log) and puts it into the running service.
async fn save(state: &WebState, ctx: &Ctx, cfg: &NotifyConfig) -> WebResult<()> {
    let notifier = Notifier::new(cfg.clone()).map_err(|e| WebError::BadForm(e.to_string()))?;
    let (text, shown) = (to_toml(cfg), to_toml(&redacted(cfg)));
    store_setting(state, ctx, CHANNELS_KEY, Some((&text, &shown))).await?;
    state.loops().set_notifier(Some(notifier));
    Ok(())
}

/// A config holding one channel, tried once, for a test message.
fn single(webhooks: Vec<WebhookConfig>, smtp: Option<SmtpConfig>) -> NotifyConfig {
    NotifyConfig {
        smtp,
        webhooks,
        retry: RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        },
        ..NotifyConfig::default()
    }
}

/// `POST /admin/channels`: save or remove a webhook or the SMTP relay, send a test, or go back to the
/// configuration.
pub async fn act(State(state): State<WebState>, p: Posted<ChannelForm>) -> WebResult<Response> {
    let ctx = &p.ctx;
    require_settings(&state, ctx).await?;
    let f = &p.form;
    let (mut cfg, _, _) = effective(&state).await?;
    let t = |k: &str| ctx.tr.t(k).to_owned();
    let outcome: Result<String, String> = match f.action.as_str() {
        "save_webhook" => {
            let key = if f.orig.is_empty() { &f.name } else { &f.orig };
            let pos = cfg.webhooks.iter().position(|h| &h.name == key);
            let clash = cfg
                .webhooks
                .iter()
                .enumerate()
                .any(|(i, h)| h.name == f.name.trim() && Some(i) != pos);
            match webhook_from(f, pos.map(|i| &cfg.webhooks[i])) {
                Err(e) => Err(e),
                Ok(_) if clash => Err(format!("name: a channel named {:?} exists", f.name.trim())),
                Ok(h) => {
                    match pos {
                        Some(i) => cfg.webhooks[i] = h,
                        None => cfg.webhooks.push(h),
                    }
                    save(&state, ctx, &cfg).await?;
                    Ok(t("admin_chan.saved"))
                }
            }
        }
        "remove_webhook" => {
            let before = cfg.webhooks.len();
            cfg.webhooks.retain(|h| h.name != f.name);
            if cfg.webhooks.len() == before {
                Err(format!("name: no channel named {:?}", f.name))
            } else {
                save(&state, ctx, &cfg).await?;
                Ok(t("admin_chan.removed"))
            }
        }
        "save_smtp" => match smtp_from(f, cfg.smtp.as_ref()) {
            Err(e) => Err(e),
            Ok(s) => {
                cfg.smtp = Some(s);
                save(&state, ctx, &cfg).await?;
                Ok(t("admin_chan.saved"))
            }
        },
        "save_analysts" => match analysts_from(f) {
            Err(e) => Err(e),
            Ok(list) => {
                cfg.analyst_emails = list;
                save(&state, ctx, &cfg).await?;
                Ok(t("admin_chan.saved"))
            }
        },
        "remove_smtp" => {
            cfg.smtp = None;
            save(&state, ctx, &cfg).await?;
            Ok(t("admin_chan.removed"))
        }
        "test_webhook" => match cfg.webhooks.iter().find(|h| h.name == f.name) {
            None => Err(format!("name: no channel named {:?}", f.name)),
            Some(h) => {
                let c = single(vec![h.clone()], None);
                test(&state, ctx, c, &[]).await?
            }
        },
        "test_smtp" => match (&cfg.smtp, f.to.trim()) {
            (None, _) => Err("smtp: no relay configured".into()),
            (Some(_), to) if !to.contains('@') => {
                Err("to: an address to send the test message to".into())
            }
            (Some(s), to) => {
                let c = single(Vec::new(), Some(s.clone()));
                test(&state, ctx, c, &[to.to_owned()]).await?
            }
        },
        "revert" => {
            let had = state
                .app
                .store()
                .get_setting(CHANNELS_KEY)
                .await
                .map_err(|e| WebError::App(e.into()))?;
            if had.is_some() {
                store_setting(&state, ctx, CHANNELS_KEY, None).await?;
            }
            let n = match &state.baseline.channels {
                Some(c) => {
                    Some(Notifier::new(c.clone()).map_err(|e| WebError::BadForm(e.to_string()))?)
                }
                None => None,
            };
            state.loops().set_notifier(n);
            Ok(t("admin_cfg.reverted"))
        }
        other => return Err(WebError::BadForm(format!("action {other}"))),
    };
    match outcome {
        Ok(done) => page(&state, ctx, done, String::new()).await,
        Err(e) => page(&state, ctx, String::new(), e).await,
    }
}

/// Sends a test through `c` and words its outcome (the log below the form has the details).
async fn test(
    state: &WebState,
    ctx: &Ctx,
    c: NotifyConfig,
    to: &[String],
) -> WebResult<Result<String, String>> {
    let log = state.loops().send_test(c, to).await?;
    Ok(match log.first() {
        Some(d) if d.delivered => Ok(ctx.tr.f1("admin_chan.test_ok", "channel", &d.channel)),
        Some(d) => Err(ctx.tr.f(
            "admin_chan.test_failed",
            &[
                ("channel", &d.channel),
                ("error", &d.error.clone().unwrap_or_default()),
            ],
        )),
        None => Err(ctx.tr.t("admin_chan.test_none").to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_masked_where_robots_keep_tokens() {
        assert_eq!(
            mask_url("https://oapi.dingtalk.com/robot/send?access_token=abc"),
            "https://oapi.dingtalk.com/robot/…"
        );
        assert_eq!(
            mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/0123-secret"),
            "https://open.feishu.cn/open-apis/bot/v2/hook/…"
        );
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/…"
        );
        assert_eq!(mask_url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(mask_url("http://h?x=1"), "http://h/?…");
        assert_eq!(mask_url("not a url"), "…");
    }

    #[test]
    fn redaction_hides_every_secret() {
        let c: NotifyConfig = parse(
            r#"
[smtp]
host = "127.0.0.1"
from = "taishi@example.cn"
username = "u"
password = "pw-secret"
[[webhooks]]
name = "ding"
url = "https://oapi.dingtalk.com/robot/send?access_token=tok-secret"
format = "dingtalk"
"#,
        )
        .unwrap();
        let shown = to_toml(&redacted(&c));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(to_toml(&c).contains("tok-secret"));
        assert_eq!(parse(&to_toml(&c)).unwrap(), c);
    }
}
