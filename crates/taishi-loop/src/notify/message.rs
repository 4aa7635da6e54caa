//! The text of a notification, in Chinese first with English after, built from a notice and an event,
//! from a finding (risk acceptance ending) or from a published bulletin.

use crate::sweep::LoopEventKind;
use serde::Serialize;
use taishi_model::finding::Finding;
use taishi_model::notice::Notice;

/// One notification about one notice, finding or bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// What happened.
    pub event: LoopEventKind,
    /// Notice number (`2026-0042`); empty for findings and bulletins.
    pub number: String,
    /// Notice title, finding title or bulletin title.
    pub title: String,
    /// The org the notice (finding, bulletin) is about.
    pub org_name: String,
    /// The org being told (differs for escalations).
    pub recipient_org: String,
    /// Incident level (notices) or severity (findings), Chinese; empty for bulletins.
    pub level: String,
    /// Rectification deadline, if any (RFC 3339).
    pub rectify_due: Option<String>,
    /// Link to the notice, finding or bulletin archive in the console, if the base URL is configured.
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

    /// Builds the notification of `event` about finding `f` of `org_name`.
    pub fn about_finding(
        f: &Finding,
        event: LoopEventKind,
        org_name: &str,
        link: Option<String>,
    ) -> Self {
        Notification {
            event,
            number: String::new(),
            title: f.title.clone(),
            org_name: org_name.into(),
            recipient_org: org_name.into(),
            level: f.severity.label_zh().into(),
            rectify_due: None,
            link,
        }
    }

    /// Builds the notification that the bulletin of `root_name` for `period` is out.
    pub fn bulletin_published(
        root_name: &str,
        period: &str,
        formats: Vec<String>,
        link: Option<String>,
    ) -> Self {
        Notification {
            event: LoopEventKind::BulletinPublished {
                period: period.into(),
                formats,
            },
            number: String::new(),
            title: format!("{root_name} {period} 网络安全常态化通报 / Security bulletin {period}"),
            org_name: root_name.into(),
            recipient_org: root_name.into(),
            level: String::new(),
            rectify_due: None,
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
            LoopEventKind::ExtensionRequested { .. } => {
                "整改延期申请待审批 / Extension requested".into()
            }
            LoopEventKind::ExtensionGranted { .. } => "整改期限已延长 / Deadline extended".into(),
            LoopEventKind::ExtensionRefused { .. } => "延期申请未获批准 / Extension refused".into(),
            LoopEventKind::RiskAcceptanceExpiring { .. } => {
                "风险接受即将到期 / Risk acceptance expires soon".into()
            }
            LoopEventKind::RiskAcceptanceExpired => {
                "风险接受已到期，问题已重新打开 / Risk acceptance expired, finding reopened".into()
            }
            LoopEventKind::BulletinPublished { .. } => {
                "常态化通报已发布 / Bulletin published".into()
            }
        }
    }

    /// The e-mail subject.
    pub fn subject(&self) -> String {
        let mut s = format!("[taishi] {}", self.headline());
        for part in [&self.number, &self.title] {
            if !part.is_empty() {
                s.push(' ');
                s.push_str(part);
            }
        }
        s
    }

    /// The plain-text body (also the Markdown of robot messages).
    pub fn body(&self) -> String {
        let mut s = format!("{}\n\n", self.headline());
        let mut line = |label: &str, value: &str| {
            if !value.is_empty() {
                s.push_str(&format!("{label}: {value}\n"));
            }
        };
        let finding = matches!(
            self.event,
            LoopEventKind::RiskAcceptanceExpiring { .. } | LoopEventKind::RiskAcceptanceExpired
        );
        line("通报编号 Notice", &self.number);
        line(
            if finding {
                "问题 Finding"
            } else {
                "标题 Title"
            },
            &self.title,
        );
        line("责任单位 Org", &self.org_name);
        line(
            if finding {
                "严重程度 Severity"
            } else {
                "事件级别 Level"
            },
            &self.level,
        );
        line("整改期限 Due", self.rectify_due.as_deref().unwrap_or(""));
        match &self.event {
            LoopEventKind::Returned { reason } => line("退回原因 Reason", reason),
            LoopEventKind::Escalated { .. } => line("督办对象 Escalated to", &self.recipient_org),
            LoopEventKind::ExtensionRequested { until, reason } => {
                line("申请延至 Requested until", &until.to_string());
                line("申请理由 Reason", reason);
            }
            LoopEventKind::ExtensionGranted { from, to } => {
                let from = from.map(|t| t.to_string()).unwrap_or_default();
                line("原期限 Previous deadline", &from);
                line("新期限 New deadline", &to.to_string());
            }
            LoopEventKind::ExtensionRefused { reason } => line("不予延期理由 Reason", reason),
            LoopEventKind::RiskAcceptanceExpiring { until } => {
                line("到期时间 Expires", &until.to_string());
            }
            LoopEventKind::BulletinPublished { period, formats } => {
                line("周期 Period", period);
                line("格式 Formats", &formats.join(", "));
            }
            _ => {}
        }
        line("查看 View", self.link.as_deref().unwrap_or(""));
        s
    }
}
