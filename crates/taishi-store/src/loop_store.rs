//! Persistence of the closed loop (findings, notices, rectifications and attachments, the delivery log,
//! metric inputs, computed scores and archived bulletins): the [`LoopStore`] part of [`crate::Store`].
//! Tables and migrations 0100+ belong to `taishi-loop`'s work; the SQL is in `sql/loop_*.rs`.
//!
//! Findings, notices and rectifications are stored as a JSON document next to the indexed columns that
//! queries filter on, so their histories round-trip whole; scoring reads only the slim columns.

use crate::error::StoreResult;
use async_trait::async_trait;
use jiff::Timestamp;
use taishi_model::finding::Finding;
use taishi_model::indicator::{FindingFact, NoticeFact, Period};
use taishi_model::notice::{Notice, NoticeNumber};
use taishi_model::rectification::{AttachmentMeta, Delivery, Rectification};
use taishi_model::{Actor, OrgId};
use uuid::Uuid;

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingQuery {
    /// Only this subtree.
    pub within: Option<OrgId>,
    /// Only these statuses (`open`, `resolved`, `false_positive`, `risk_accepted`); empty = all.
    pub statuses: Vec<String>,
    /// At most this many, newest `last_seen` first (0 = no limit).
    pub limit: u32,
}

/// Which notices to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    /// Only this subtree.
    pub within: Option<OrgId>,
    /// Only issued and not final (what sweeps look at).
    pub live_only: bool,
}

/// An audit line to write in the same transaction as a notice change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopAudit {
    /// Who.
    pub actor: Actor,
    /// `notice.issue`, `notice.return`, `finding.false_positive`, …
    pub action: String,
    /// Free comment.
    pub comment: String,
}

/// An archived bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedBulletin {
    /// Id.
    pub id: Uuid,
    /// Root org.
    pub org: OrgId,
    /// Period.
    pub period: Period,
    /// `html`, `md` or `csv`.
    pub format: String,
    /// When generated.
    pub created_at: Timestamp,
    /// The rendered text.
    pub content: String,
}

/// The loop's persistence.
#[async_trait]
pub trait LoopStore: Send + Sync {
    /// The finding with this fingerprint, if any (intake's deduplication lookup).
    async fn finding_by_fingerprint(&self, fingerprint: &str) -> StoreResult<Option<Finding>>;
    /// One finding.
    async fn get_finding(&self, id: Uuid) -> StoreResult<Finding>;
    /// Inserts or replaces a finding (by id; the fingerprint must stay unique), with an optional audit
    /// line in the same transaction.
    async fn put_finding(&self, f: &Finding, audit: Option<LoopAudit>) -> StoreResult<()>;
    /// Inserts or replaces many findings in one transaction (bulk intake, imports, benchmarks).
    async fn put_findings(&self, fs: &[Finding]) -> StoreResult<()>;
    /// Findings matching `q`.
    async fn list_findings(&self, q: &FindingQuery) -> StoreResult<Vec<Finding>>;
    /// The scoring view of every finding (or of a subtree's).
    async fn finding_facts(&self, within: Option<OrgId>) -> StoreResult<Vec<FindingFact>>;

    /// Stores a new draft notice, giving it the next number of `year`.
    async fn create_notice(&self, n: Notice, year: i16, audit: LoopAudit) -> StoreResult<Notice>;
    /// One notice.
    async fn get_notice(&self, id: Uuid) -> StoreResult<Notice>;
    /// One notice by number.
    async fn notice_by_number(&self, number: NoticeNumber) -> StoreResult<Notice>;
    /// Saves a changed notice with its audit line in the same transaction.
    async fn save_notice(&self, n: &Notice, audit: Option<LoopAudit>) -> StoreResult<()>;
    /// Saves many notices (numbers already assigned) in one transaction, without audit lines: for
    /// migrations from another system and benchmarks.
    async fn save_notices(&self, ns: &[Notice]) -> StoreResult<()>;
    /// Notices matching `q`, oldest first.
    async fn list_notices(&self, q: &NoticeQuery) -> StoreResult<Vec<Notice>>;
    /// The scoring view of every notice (or of a subtree's).
    async fn notice_facts(&self, within: Option<OrgId>) -> StoreResult<Vec<NoticeFact>>;

    /// Stores a rectification and its attachments' contents (same order as `r.attachments`).
    async fn add_rectification(&self, r: &Rectification, contents: Vec<Vec<u8>>)
    -> StoreResult<()>;
    /// The rectifications of a notice, oldest first.
    async fn rectifications(&self, notice: Uuid) -> StoreResult<Vec<Rectification>>;
    /// One attachment's metadata and content.
    async fn attachment(&self, id: Uuid) -> StoreResult<(AttachmentMeta, Vec<u8>)>;

    /// Appends to the delivery log.
    async fn record_deliveries(&self, d: &[Delivery]) -> StoreResult<()>;
    /// The delivery log of a notice, oldest first.
    async fn deliveries(&self, notice: Uuid) -> StoreResult<Vec<Delivery>>;

    /// Sets a metric input (availability, grades, register completeness, manual values) for an org and
    /// period.
    async fn set_metric(
        &self,
        org: OrgId,
        period: Period,
        key: &str,
        value: f64,
    ) -> StoreResult<()>;
    /// All metric inputs of a period as (org, key, value).
    async fn metrics(&self, period: Period) -> StoreResult<Vec<(OrgId, String, f64)>>;

    /// Replaces the stored score documents of a period (JSON score cards, one per org).
    async fn put_scores(&self, period: Period, cards: &[(OrgId, String)]) -> StoreResult<()>;
    /// The stored score documents of a period.
    async fn scores(&self, period: Period) -> StoreResult<Vec<(OrgId, String)>>;

    /// Archives a generated bulletin.
    async fn archive_bulletin(&self, b: &ArchivedBulletin) -> StoreResult<()>;
    /// Archived bulletins of an org (newest first), without filtering by format.
    async fn bulletins(&self, org: OrgId) -> StoreResult<Vec<ArchivedBulletin>>;
}
