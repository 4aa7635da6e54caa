//! Rectifications (整改): an organisation's answer to a notice, with attachments; and the delivery log of
//! notifications about notices.

use crate::{Actor, OrgId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an organisation says it did about a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    /// Id.
    pub id: Uuid,
    /// The notice answered.
    pub notice: Uuid,
    /// The org answering.
    pub org: OrgId,
    /// Who submitted it.
    pub submitted_by: Actor,
    /// When.
    pub submitted_at: Timestamp,
    /// What was done.
    pub description: String,
    /// Attached files (metadata; contents are stored apart).
    pub attachments: Vec<AttachmentMeta>,
}

/// A file attached to a rectification. The content type recorded is the one it will be served with,
/// never one a browser would render as a page (see `taishi-loop`'s attachment rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// Id.
    pub id: Uuid,
    /// File name as uploaded, cleaned of path parts and control characters.
    pub name: String,
    /// The safe content type it is served with (always as a download).
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// One notification delivery, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The notice concerned.
    pub notice: Uuid,
    /// Event name (`issued`, `overdue`, …).
    pub event: String,
    /// `email` or `webhook:NAME`.
    pub channel: String,
    /// Recipients or the redacted URL.
    pub target: String,
    /// Attempts made.
    pub attempts: u32,
    /// Delivered in the end.
    pub delivered: bool,
    /// Last error.
    pub error: Option<String>,
    /// When the last attempt finished.
    pub at: Timestamp,
}
