//! Deadline extensions (延期) of [`LoopService`]: an officer requests, an analyst grants or refuses, or
//! extends directly. The rule (who, when, which dates) is [`Notice::apply`]'s; this file loads, applies,
//! saves with the audit line and notifies: requests go to the analysts' channel, decisions to the org.

use super::*;
use jiff::Timestamp;

impl LoopService {
    /// Applies a deadline-extension action ([`NoticeAction::RequestExtension`], `GrantExtension`,
    /// `RefuseExtension` or `Extend`) to notice `id` and notifies.
    ///
    /// # Errors
    /// [`LoopError::Invalid`] for other actions; the notice's own refusals (forbidden, state, date,
    /// reason, no or already a pending request) as [`LoopError::Notice`]; "not found" outside the scope.
    pub async fn extension(
        &self,
        caller: &Caller,
        id: Uuid,
        action: NoticeAction,
        comment: &str,
    ) -> LoopResult<Notice> {
        if !action.is_extension() {
            return Err(LoopError::Invalid(format!(
                "{} is not a deadline extension action",
                action.as_str()
            )));
        }
        let tree = self.tree().await?;
        let mut n = self.scoped_notice(&tree, caller, id).await?;
        let covers = self.check_scope(&tree, caller, n.org);
        let name = action.as_str();
        n.apply(&caller.actor, covers, action, self.clock.now(), comment)?;
        let Some(entry) = n.history.last().cloned() else {
            return Err(LoopError::Invalid("the extension left no history".into()));
        };
        let change = entry
            .deadline
            .map(|c| {
                format!(
                    " [{} → {}]",
                    c.from.map(|t| t.to_string()).unwrap_or_default(),
                    c.to
                )
            })
            .unwrap_or_default();
        let audit = LoopAudit {
            actor: caller.actor.actor.clone(),
            action: format!("notice.{name}"),
            comment: format!("{}{change}", entry.comment),
        };
        self.store.save_notice(&n, Some(audit)).await?;
        let kind = match (entry.action.as_str(), entry.deadline) {
            ("request_extension", Some(c)) => LoopEventKind::ExtensionRequested {
                until: c.to,
                reason: entry.comment.clone(),
            },
            ("refuse_extension", _) => LoopEventKind::ExtensionRefused {
                reason: entry.comment.clone(),
            },
            (_, Some(c)) => LoopEventKind::ExtensionGranted {
                from: c.from,
                to: c.to,
            },
            _ => return Ok(n),
        };
        let org_name = tree
            .get(n.org)
            .map_or_else(|| n.org.to_string(), |o| o.name.clone());
        let link = self
            .link_base
            .as_ref()
            .map(|b| format!("{b}/notices/{}", n.id));
        let msg = Notification::new(&n, kind, &org_name, &org_name, link);
        self.deliver_logged(&tree, n.id, n.org, &msg).await?;
        Ok(n)
    }

    /// The console's base URL for links in notifications, if configured.
    pub(crate) fn link_base(&self) -> Option<&str> {
        self.link_base.as_deref()
    }

    /// Delivers `msg` about `subject` (a notice, finding or bulletin id) to the org's officers (when the
    /// event is for them), the analysts' addresses (when it is for analysts) and the webhooks, and
    /// appends the outcomes to the delivery log under `subject`.
    pub(crate) async fn deliver_logged(
        &self,
        tree: &OrgTree,
        subject: Uuid,
        org: OrgId,
        msg: &Notification,
    ) -> LoopResult<()> {
        let Some(notifier) = self.notifier() else {
            return Ok(());
        };
        let mut emails: Vec<String> = Vec::new();
        if msg.event.for_org() {
            emails.extend(tree.get(org).map(|o| o.emails.clone()).unwrap_or_default());
        }
        if msg.event.for_analysts() {
            emails.extend(notifier.config().analyst_emails.iter().cloned());
        }
        emails.sort();
        emails.dedup();
        let at: Timestamp = self.clock.now();
        let log: Vec<Delivery> = notifier
            .deliver(msg, &emails)
            .await
            .into_iter()
            .map(|d| Delivery {
                notice: subject,
                event: d.event,
                channel: d.channel,
                target: d.target,
                attempts: d.attempts,
                delivered: d.delivered,
                error: d.error,
                at,
            })
            .collect();
        if !log.is_empty() {
            self.store.record_deliveries(&log).await?;
        }
        Ok(())
    }
}
