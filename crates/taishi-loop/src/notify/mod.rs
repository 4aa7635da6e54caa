//! Notifications: who hears about issue, deadline approaching, overdue, escalation, returned and closed —
//! by e-mail (a small SMTP client over tokio) and webhooks (generic JSON, DingTalk, WeCom and Feishu
//! robots), with retries, exponential backoff and a delivery log.
//!
//! HTTPS webhooks use rustls with the ring provider and the webpki root store, configured per client;
//! DingTalk and Feishu robots with a `secret` are signed ([`dingtalk_sign`], [`feishu_sign`]). E-mail speaks STARTTLS or
//! implicit TLS (see [`SmtpConfig`]).

mod message;
mod smtp;
mod webhook;

pub use message::Notification;
pub use smtp::{SmtpConfig, SmtpError, SmtpTls, send_mail};
pub use webhook::{
    WebhookConfig, WebhookError, WebhookFormat, dingtalk_sign, feishu_sign, post_webhook,
};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Retry schedule for one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in total (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt, doubled for each further one.
    pub base_backoff_ms: u64,
    /// Upper bound of the wait.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_backoff_ms: 2_000,
            max_backoff_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let ms = self
            .base_backoff_ms
            .saturating_mul(1u64 << attempt.min(20))
            .min(self.max_backoff_ms);
        Duration::from_millis(ms)
    }
}

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Outgoing mail server; no e-mail when absent.
    pub smtp: Option<SmtpConfig>,
    /// Webhooks that receive every (or selected) event.
    pub webhooks: Vec<WebhookConfig>,
    /// The analysts' channel by e-mail: addresses told of what waits for an analyst (extension
    /// requests) and of risk acceptances ending.
    pub analyst_emails: Vec<String>,
    /// Retry schedule.
    pub retry: RetryPolicy,
}

/// The outcome of one delivery, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Event name (`issued`, `overdue`, …).
    pub event: String,
    /// Notice number.
    pub notice: String,
    /// `email` or `webhook:NAME`.
    pub channel: String,
    /// Recipients or URL host.
    pub target: String,
    /// Attempts made.
    pub attempts: u32,
    /// Delivered in the end.
    pub delivered: bool,
    /// The last error, if any.
    pub error: Option<String>,
    /// When the last attempt finished.
    pub at: Timestamp,
}

/// Sends notifications through the configured channels.
#[derive(Debug, Clone)]
pub struct Notifier {
    config: NotifyConfig,
    http: reqwest::Client,
}

impl Notifier {
    /// A notifier for `config`.
    ///
    /// # Errors
    /// The HTTP client could not be built (TLS set-up), or a webhook has a `secret` its format does not
    /// sign with.
    pub fn new(config: NotifyConfig) -> Result<Notifier, WebhookError> {
        for hook in &config.webhooks {
            hook.validate()?;
        }
        // An explicit rustls configuration (ring, webpki roots), so no process-wide provider is needed.
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(15));
        if let Ok(tls) = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        {
            builder = builder
                .tls_backend_preconfigured(tls.with_root_certificates(roots).with_no_client_auth());
        }
        Ok(Notifier {
            config,
            http: builder.build()?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// Delivers `n` by e-mail to `emails` (if SMTP is configured and there are any) and to every webhook
    /// that wants this event; returns one record per channel. Never fails: failures are in the records.
    pub async fn deliver(&self, n: &Notification, emails: &[String]) -> Vec<DeliveryRecord> {
        let mut out = Vec::new();
        let retry = self.config.retry;
        if let Some(smtp) = &self.config.smtp
            && !emails.is_empty()
        {
            let (subject, body) = (n.subject(), n.body());
            let (attempts, res) =
                with_retry(retry, || send_mail(smtp, emails, &subject, &body)).await;
            out.push(record(
                n,
                "email".into(),
                emails.join(", "),
                attempts,
                res.map_err(|e| e.to_string()),
            ));
        }
        for hook in &self.config.webhooks {
            if !hook.events.is_empty() && !hook.events.iter().any(|e| e == n.event.as_str()) {
                continue;
            }
            let (attempts, res) = with_retry(retry, || post_webhook(&self.http, hook, n)).await;
            out.push(record(
                n,
                format!("webhook:{}", hook.name),
                hook.redacted_url(),
                attempts,
                res.map_err(|e| e.to_string()),
            ));
        }
        out
    }
}

fn record(
    n: &Notification,
    channel: String,
    target: String,
    attempts: u32,
    res: Result<(), String>,
) -> DeliveryRecord {
    DeliveryRecord {
        event: n.event.as_str().into(),
        notice: n.number.clone(),
        channel,
        target,
        attempts,
        delivered: res.is_ok(),
        error: res.err(),
        at: Timestamp::now(),
    }
}

async fn with_retry<F, Fut, E>(policy: RetryPolicy, mut f: F) -> (u32, Result<(), E>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: RetryableError,
{
    let max = policy.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f().await {
            Ok(()) => return (attempt, Ok(())),
            Err(e) if attempt >= max || !e.retryable() => return (attempt, Err(e)),
            Err(_) => tokio::time::sleep(policy.backoff(attempt - 1)).await,
        }
    }
}

/// Whether trying again may help (a timeout, a 5xx) or not (a rejected address, a 4xx).
trait RetryableError {
    fn retryable(&self) -> bool;
}

#[cfg(test)]
mod sign_tests;
#[cfg(test)]
mod smtp_tls_tests;
#[cfg(test)]
mod tests;
