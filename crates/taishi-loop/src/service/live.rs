//! Settings an admin can change while the service runs: the policy, the indicator system and the
//! notifier are held behind locks and read as `Arc` snapshots, so a change applies from the next
//! operation without a restart and an operation under way keeps the version it started with. Also the
//! test message that checks a notification channel.

use super::{LoopError, LoopResult, LoopService};
use crate::attach::AttachmentPolicy;
use crate::notify::{Notification, Notifier, NotifyConfig};
use crate::policy::LoopPolicy;
use crate::score::IndicatorSystem;
use crate::sweep::LoopEventKind;
use std::sync::Arc;
use taishi_model::rectification::Delivery;
use uuid::Uuid;

impl LoopService {
    /// The policy in use (a snapshot: a later [`LoopService::set_policy`] does not change it).
    pub fn policy(&self) -> Arc<LoopPolicy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the policy of the running service; operations already under way finish with the old one.
    pub fn set_policy(&self, p: LoopPolicy) {
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
    }

    /// The indicator system in use (a snapshot).
    pub fn indicators(&self) -> Arc<IndicatorSystem> {
        Arc::clone(&self.indicators.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the indicator system of the running service (used from the next score computation).
    pub fn set_indicators(&self, s: IndicatorSystem) {
        *self.indicators.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
    }

    /// The notifier in use, if any (a snapshot).
    pub fn notifier(&self) -> Option<Arc<Notifier>> {
        self.notifier
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the notifier of the running service (`None`: send nothing).
    pub fn set_notifier(&self, n: Option<Notifier>) {
        *self.notifier.write().unwrap_or_else(|e| e.into_inner()) = n.map(Arc::new);
    }

    /// The attachment limits in use (size, count), for upload forms and body limits.
    pub fn attachment_policy(&self) -> &AttachmentPolicy {
        &self.attachments
    }

    /// Sends a test message through the channels of `config` (to `emails` for e-mail) and records each
    /// outcome in the delivery log under [`LoopService::TEST_DELIVERIES`], so an admin sees whether a
    /// channel works before a real notice depends on it.
    pub async fn send_test(
        &self,
        config: NotifyConfig,
        emails: &[String],
    ) -> LoopResult<Vec<Delivery>> {
        let notifier = Notifier::new(config).map_err(|e| LoopError::Invalid(e.to_string()))?;
        let msg = Notification {
            event: LoopEventKind::Issued,
            number: "TEST".into(),
            title: "测试消息 / Test message".into(),
            org_name: "taishi".into(),
            recipient_org: "taishi".into(),
            level: "—".into(),
            rectify_due: None,
            link: self.link_base.clone(),
        };
        let log: Vec<Delivery> = notifier
            .deliver(&msg, emails)
            .await
            .into_iter()
            .map(|d| Delivery {
                notice: Self::TEST_DELIVERIES,
                event: "test".into(),
                channel: d.channel,
                target: d.target,
                attempts: d.attempts,
                delivered: d.delivered,
                error: d.error,
                at: self.clock.now(),
            })
            .collect();
        if !log.is_empty() {
            self.store.record_deliveries(&log).await?;
        }
        Ok(log)
    }

    /// The notice id under which test messages are logged (the nil UUID: no notice has it).
    pub const TEST_DELIVERIES: Uuid = Uuid::nil();
}
