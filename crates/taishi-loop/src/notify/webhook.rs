//! Webhooks: a generic JSON payload, and the message formats of the DingTalk, WeCom (企业微信) and Feishu
//! (飞书) group robots, whose APIs answer HTTP 200 with an error code in the body on failure.
//!
//! Robots in signed mode (加签 / 签名校验) get a `secret`:
//! - DingTalk: `sign = urlencode(base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret)))`
//!   with the timestamp in milliseconds, appended to the URL as `&timestamp=…&sign=…`;
//! - Feishu: `sign = base64(HMAC-SHA256(key = timestamp + "\n" + secret, msg = ""))` with the timestamp in
//!   seconds, sent as the `timestamp` and `sign` fields of the JSON body.
//!
//! WeCom robots have no signing (the key in the URL is the secret). Timestamps come from the system
//! clock, since the robots compare them with their own (within an hour).

use super::Notification;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Payload format of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{"event", "notice", "title", "org", "text", …}`.
    Generic,
    /// DingTalk robot markdown message.
    Dingtalk,
    /// WeCom robot markdown message.
    Wecom,
    /// Feishu robot text message.
    Feishu,
}

/// One webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name for the delivery log.
    pub name: String,
    /// URL (robot URLs carry their token; it is redacted in logs).
    pub url: String,
    /// Payload format.
    pub format: WebhookFormat,
    /// Events to send (`issued`, `deadline_approaching`, `overdue`, `escalated`, `returned`, `closed`,
    /// `ack_overdue`, `extension_requested`, `extension_granted`, `extension_refused`,
    /// `risk_acceptance_expiring`, `risk_acceptance_expired`, `bulletin_published`); empty = all.
    #[serde(default)]
    pub events: Vec<String>,
    /// The signing secret (`SEC…`) of a DingTalk or Feishu robot in signed mode.
    #[serde(default)]
    pub secret: Option<String>,
}

impl WebhookConfig {
    /// Refuses a `secret` on a format that does not sign (generic, WeCom), or an empty one.
    ///
    /// # Errors
    /// [`WebhookError::Config`] naming the webhook.
    pub fn validate(&self) -> Result<(), WebhookError> {
        let why = match (&self.secret, self.format) {
            (None, _) => return Ok(()),
            (Some(s), _) if s.trim().is_empty() => "secret is empty",
            (Some(_), WebhookFormat::Dingtalk | WebhookFormat::Feishu) => return Ok(()),
            (Some(_), _) => {
                "secret is only for dingtalk and feishu robots (wecom and generic do not sign)"
            }
        };
        Err(WebhookError::Config {
            name: self.name.clone(),
            why,
        })
    }

    /// The URL without its query string (where robots keep their access token).
    pub fn redacted_url(&self) -> String {
        match self.url.split_once('?') {
            Some((base, _)) => format!("{base}?…"),
            None => self.url.clone(),
        }
    }
}

/// Why a webhook delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Network problem or timeout.
    #[error("webhook request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// Non-2xx status.
    #[error("webhook answered HTTP {0}")]
    Status(u16),
    /// The webhook's configuration is not usable.
    #[error("webhook {name}: {why}")]
    Config {
        /// The webhook's name.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A robot answered 200 with an error code.
    #[error("robot refused the message: code {code}: {message}")]
    Robot {
        /// Error code.
        code: i64,
        /// Error message.
        message: String,
    },
}

impl super::RetryableError for WebhookError {
    fn retryable(&self) -> bool {
        match self {
            WebhookError::Http(_) => true,
            WebhookError::Config { .. } => false,
            WebhookError::Status(s) => *s >= 500 || *s == 429 || *s == 408,
            // Robots rate-limit with codes (DingTalk 130101, Feishu 9499/11232); retry those only.
            WebhookError::Robot { code, .. } => matches!(code, 130101 | 9499 | 11232 | 45009),
        }
    }
}

/// The JSON body for `format`.
pub fn payload(format: WebhookFormat, n: &Notification) -> serde_json::Value {
    let text = n.body();
    match format {
        WebhookFormat::Generic => json!({
            "source": "taishi",
            "event": n.event.as_str(),
            "detail": n.event,
            "notice": n.number,
            "title": n.title,
            "org": n.org_name,
            "recipient_org": n.recipient_org,
            "level": n.level,
            "rectify_due": n.rectify_due,
            "link": n.link,
            "subject": n.subject(),
            "text": text,
        }),
        WebhookFormat::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": { "title": n.subject(), "text": text.replace('\n', "\n\n") },
        }),
        WebhookFormat::Wecom => json!({
            "msgtype": "markdown",
            "markdown": { "content": text },
        }),
        WebhookFormat::Feishu => json!({
            "msg_type": "text",
            "content": { "text": text },
        }),
    }
}

fn hmac_sha256_b64(key: &[u8], msg: &[u8]) -> String {
    use base64::Engine;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, msg).as_ref())
}

/// The DingTalk signature for `timestamp_ms` (milliseconds since the epoch), before URL-encoding:
/// `base64(HMAC-SHA256(key = secret, msg = timestamp_ms + "\n" + secret))`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    hmac_sha256_b64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// The Feishu signature for `timestamp_s` (seconds since the epoch):
/// `base64(HMAC-SHA256(key = timestamp_s + "\n" + secret, msg = ""))`.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    hmac_sha256_b64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

/// Percent-encodes everything but RFC 3986 unreserved characters (base64's `+`, `/`, `=` included).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL and body to post, signed at `now` when the robot has a secret.
fn signed_request(
    hook: &WebhookConfig,
    n: &Notification,
    now: jiff::Timestamp,
) -> (String, serde_json::Value) {
    let mut body = payload(hook.format, n);
    let mut url = hook.url.clone();
    match (hook.secret.as_deref(), hook.format) {
        (Some(secret), WebhookFormat::Dingtalk) => {
            let ts = now.as_millisecond();
            let sep = if url.contains('?') { '&' } else { '?' };
            let sign = urlencode(&dingtalk_sign(secret, ts));
            url.push_str(&format!("{sep}timestamp={ts}&sign={sign}"));
        }
        (Some(secret), WebhookFormat::Feishu) => {
            let ts = now.as_second();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("timestamp".into(), json!(ts.to_string()));
                obj.insert("sign".into(), json!(feishu_sign(secret, ts)));
            }
        }
        _ => {}
    }
    (url, body)
}

/// Posts `n` to the webhook once.
///
/// # Errors
/// Network errors, non-2xx statuses and robot error codes.
pub async fn post_webhook(
    http: &reqwest::Client,
    hook: &WebhookConfig,
    n: &Notification,
) -> Result<(), WebhookError> {
    hook.validate()?;
    let (url, body) = signed_request(hook, n, jiff::Timestamp::now());
    let resp = http.post(&url).json(&body).send().await?;
    let status = resp.status();
    if !status.is_success() {
        return Err(WebhookError::Status(status.as_u16()));
    }
    if hook.format == WebhookFormat::Generic {
        return Ok(());
    }
    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
    // DingTalk and WeCom: errcode/errmsg; Feishu: code/msg (StatusCode in older versions).
    let code = ["errcode", "code", "StatusCode"]
        .iter()
        .find_map(|k| body.get(*k).and_then(|v| v.as_i64()));
    match code {
        Some(0) | None => Ok(()),
        Some(code) => Err(WebhookError::Robot {
            code,
            message: ["errmsg", "msg", "StatusMessage"]
                .iter()
                .find_map(|k| body.get(*k).and_then(|v| v.as_str()))
                .unwrap_or_default()
                .to_owned(),
        }),
    }
}
