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
use taishi_model::{Actor, AssetId, FindingSource, OrgId, Severity};
use uuid::Uuid;

/// How to order findings. Every order ends with the finding id as a tie-breaker, so pages are stable
/// even when many findings share a timestamp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FindingSort {
    /// Newest sighting first (`last_seen` descending).
    #[default]
    LastSeen,
    /// Oldest first (`first_seen` ascending): the longest-standing problems.
    FirstSeen,
    /// Worst severity first, then newest sighting.
    Severity,
    /// By owning org id, then newest sighting.
    Org,
}

impl FindingSort {
    /// Every order, for forms.
    pub const ALL: [FindingSort; 4] = [
        FindingSort::LastSeen,
        FindingSort::FirstSeen,
        FindingSort::Severity,
        FindingSort::Org,
    ];

    /// The stable name (`last_seen`, `first_seen`, `severity`, `org`).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSort::LastSeen => "last_seen",
            FindingSort::FirstSeen => "first_seen",
            FindingSort::Severity => "severity",
            FindingSort::Org => "org",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<FindingSort> {
        FindingSort::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The sort keys of `f` in this order (without the id).
    pub fn keys_of(self, f: &Finding) -> Vec<i64> {
        let last = f.last_seen.as_millisecond();
        match self {
            FindingSort::LastSeen => vec![last],
            FindingSort::FirstSeen => vec![f.first_seen.as_millisecond()],
            FindingSort::Severity => vec![f.severity as i64, last],
            FindingSort::Org => vec![f.org.0, last],
        }
    }
}

/// Where the next page of a keyset-paged finding list starts: the sort keys and id of the last finding
/// of the previous page. As text (`severity.4.1764374400000.<uuid>`) it is the API's opaque `next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingCursor {
    /// The order the cursor belongs to.
    pub sort: FindingSort,
    /// The sort keys of the last finding shown.
    pub keys: Vec<i64>,
    /// Its id (the tie-breaker).
    pub id: Uuid,
}

impl FindingCursor {
    /// The cursor just after `f` in `sort` order.
    pub fn after(f: &Finding, sort: FindingSort) -> FindingCursor {
        FindingCursor {
            sort,
            keys: sort.keys_of(f),
            id: f.id,
        }
    }
}

impl std::fmt::Display for FindingCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sort.as_str())?;
        for k in &self.keys {
            write!(f, ".{k}")?;
        }
        write!(f, ".{}", self.id)
    }
}

impl std::str::FromStr for FindingCursor {
    type Err = crate::error::StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || crate::error::StoreError::invalid("after", format!("not a findings cursor: {s:?}"));
        let mut parts = s.split('.');
        let sort = parts.next().and_then(FindingSort::parse).ok_or_else(bad)?;
        let rest: Vec<&str> = parts.collect();
        let (id, keys) = rest.split_last().ok_or_else(bad)?;
        let keys = keys
            .iter()
            .map(|k| k.parse::<i64>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.len() != sort.keys_of_len() {
            return Err(bad());
        }
        Ok(FindingCursor {
            sort,
            keys,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

impl FindingSort {
    fn keys_of_len(self) -> usize {
        match self {
            FindingSort::LastSeen | FindingSort::FirstSeen => 1,
            FindingSort::Severity | FindingSort::Org => 2,
        }
    }
}

/// Which findings to list or count. Every condition given must hold; all filtering, ordering and
/// paging happens in SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingQuery {
    /// Only this subtree.
    pub within: Option<OrgId>,
    /// Only findings of this org itself.
    pub org: Option<OrgId>,
    /// Only findings on this asset.
    pub asset: Option<AssetId>,
    /// Only these severities; empty = all.
    pub severities: Vec<Severity>,
    /// Only these statuses (`open`, `resolved`, `false_positive`, `risk_accepted`); empty = all.
    pub statuses: Vec<String>,
    /// Only this source.
    pub source: Option<FindingSource>,
    /// First seen at or after this instant.
    pub first_seen_from: Option<Timestamp>,
    /// First seen at or before this instant (e.g. "older than 30 days").
    pub first_seen_to: Option<Timestamp>,
    /// Only this check or rule id.
    pub check: Option<String>,
    /// Only checks or rules whose id starts with this (`availability.`).
    pub check_prefix: Option<String>,
    /// Title, check or key contains this text (case-insensitive; a substring match, see
    /// migration 0101).
    pub text: Option<String>,
    /// Order (default: newest sighting first).
    pub sort: FindingSort,
    /// Start after this cursor (must be of the same `sort`).
    pub after: Option<FindingCursor>,
    /// At most this many (0 = no limit).
    pub limit: u32,
}

/// One keyset page of findings.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingPage {
    /// The findings, in the query's order.
    pub items: Vec<Finding>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<FindingCursor>,
}

/// An org's open findings, for the "riskiest organisations" table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRisk {
    /// The org.
    pub org: OrgId,
    /// Open findings per severity, indexed by `Severity as usize` (info = 0 … critical = 4).
    pub by_severity: [u64; 5],
    /// Weighted sum of `by_severity`.
    pub risk: u64,
}

/// New and closed findings of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// First seen that day.
    pub new: u64,
    /// Closed (resolved, dismissed or accepted) that day and not open since.
    pub closed: u64,
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
    /// Findings matching `q` (all of them when `q.limit` is 0).
    async fn list_findings(&self, q: &FindingQuery) -> StoreResult<Vec<Finding>>;
    /// One keyset page of findings matching `q` (`q.limit` 0 is read as 50), with the next cursor.
    async fn page_findings(&self, q: &FindingQuery) -> StoreResult<FindingPage>;
    /// How many findings match `q` (its `sort`, `after` and `limit` are ignored).
    async fn count_findings(&self, q: &FindingQuery) -> StoreResult<u64>;
    /// Open findings of a subtree per severity, indexed by `Severity as usize` (one GROUP BY).
    async fn open_by_severity(&self, within: Option<OrgId>) -> StoreResult<[u64; 5]>;
    /// The `n` orgs of a subtree with the highest weighted count of open findings (`weights` indexed
    /// by `Severity as usize`), riskiest first, ties by org id; orgs with risk 0 are left out.
    async fn riskiest_orgs(
        &self,
        within: Option<OrgId>,
        weights: [u64; 5],
        n: u32,
    ) -> StoreResult<Vec<OrgRisk>>;
    /// New and closed findings per day of a subtree for `days` days from `since` (day `i` is
    /// `[since + i days, since + i+1 days)`), oldest first.
    async fn findings_per_day(
        &self,
        within: Option<OrgId>,
        since: Timestamp,
        days: u32,
    ) -> StoreResult<Vec<DayCounts>>;
    /// Scoring facts of every finding (or a subtree's) in pages of `chunk`, handed to `f` one page at a
    /// time as one scan streams them (no order), so a caller can fold them without holding them all.
    async fn for_each_finding_facts(
        &self,
        within: Option<OrgId>,
        chunk: u32,
        f: &mut (dyn FnMut(Vec<FindingFact>) + Send),
    ) -> StoreResult<()>;
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
    /// Notices of a subtree per state (`issued`, `closed`, …), one GROUP BY.
    async fn notices_by_state(&self, within: Option<OrgId>) -> StoreResult<Vec<(String, u64)>>;
    /// Live notices of a subtree (issued, not closed or cancelled) whose rectification deadline lies
    /// before `now`: the same rule as `Notice::is_overdue`.
    async fn count_overdue_notices(
        &self,
        within: Option<OrgId>,
        now: Timestamp,
    ) -> StoreResult<u64>;

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
