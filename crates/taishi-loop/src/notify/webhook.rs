//! Webhooks: a generic JSON payload, and the message formats of the DingTalk, WeCom (企业微信) and Feishu
//! (飞书) group robots, whose APIs answer HTTP 200 with an error code in the body on failure.

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
    /// `ack_overdue`); empty = all.
    #[serde(default)]
    pub events: Vec<String>,
}

impl WebhookConfig {
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

/// Posts `n` to the webhook once.
///
/// # Errors
/// Network errors, non-2xx statuses and robot error codes.
pub async fn post_webhook(
    http: &reqwest::Client,
    hook: &WebhookConfig,
    n: &Notification,
) -> Result<(), WebhookError> {
    let resp = http
        .post(&hook.url)
        .json(&payload(hook.format, n))
        .send()
        .await?;
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
