//! The text of a notification, in Chinese first with English after, built from a notice and an event.

use crate::sweep::LoopEventKind;
use serde::Serialize;
use taishi_model::notice::Notice;

/// One notification about one notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// What happened.
    pub event: LoopEventKind,
    /// Notice number (`2026-0042`).
    pub number: String,
    /// Notice title.
    pub title: String,
    /// The org the notice is addressed to.
    pub org_name: String,
    /// The org being told (differs for escalations).
    pub recipient_org: String,
    /// Incident level, Chinese.
    pub level: String,
    /// Rectification deadline, if any (RFC 3339).
    pub rectify_due: Option<String>,
    /// Link to the notice in the console, if the base URL is configured.
    pub link: Option<String>,
}

impl Notification {
    /// Builds the notification of `event` about `n`.
    pub fn new(
        n: &Notice,
        event: LoopEventKind,
        org_name: &str,
        recipient_org: &str,
        link: Option<String>,
    ) -> Self {
        Notification {
            event,
            number: n.number.to_string(),
            title: n.title.clone(),
            org_name: org_name.into(),
            recipient_org: recipient_org.into(),
            level: n.level.label_zh().into(),
            rectify_due: n.rectify_due.map(|d| d.to_string()),
            link,
        }
    }

    fn headline(&self) -> String {
        match &self.event {
            LoopEventKind::Issued => "新通报 / New notice".into(),
            LoopEventKind::AckOverdue => "通报未按时签收 / Acknowledgement overdue".into(),
            LoopEventKind::DeadlineApproaching { .. } => {
                "整改期限将至 / Deadline approaching".into()
            }
            LoopEventKind::Overdue { .. } => "整改已逾期 / Rectification overdue".into(),
            LoopEventKind::Escalated { level, .. } => {
                format!("督办（第{level}级）/ Escalation level {level}")
            }
            LoopEventKind::Returned { .. } => {
                "整改复核未通过，已退回 / Returned after verification".into()
            }
            LoopEventKind::Closed => "通报已办结 / Notice closed".into(),
        }
    }

    /// The e-mail subject.
    pub fn subject(&self) -> String {
        format!(
            "[taishi] {} {} {}",
            self.headline(),
            self.number,
            self.title
        )
    }

    /// The plain-text body (also the Markdown of robot messages).
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n\n通报编号 Notice: {}\n标题 Title: {}\n责任单位 Org: {}\n事件级别 Level: {}\n",
            self.headline(),
            self.number,
            self.title,
            self.org_name,
            self.level
        );
        if let Some(d) = &self.rectify_due {
            s.push_str(&format!("整改期限 Due: {d}\n"));
        }
        if let LoopEventKind::Returned { reason } = &self.event {
            s.push_str(&format!("退回原因 Reason: {reason}\n"));
        }
        if let LoopEventKind::Escalated { .. } = &self.event {
            s.push_str(&format!("督办对象 Escalated to: {}\n", self.recipient_org));
        }
        if let Some(l) = &self.link {
            s.push_str(&format!("查看 View: {l}\n"));
        }
        s
    }
}
