//! Loop persistence, findings: documents plus the columns intake and scoring query.

use super::SqlStore;
use super::db::{Arg, Row, Tx, args};
use super::rows::{Change, Where, count_where, like_escape, write_audit};
use crate::error::{StoreError, StoreResult};
use crate::loop_store::{FindingCursor, FindingPage, FindingQuery, FindingSort, LoopAudit};
use jiff::Timestamp;
use taishi_model::finding::Finding;
use taishi_model::indicator::FindingFact;
use taishi_model::{OrgId, Severity};
use uuid::Uuid;

pub(crate) fn bad_doc(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is unreadable: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Database(format!("cannot encode document: {e}")))
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// `start-end,start-end!,start-`: a `!` marks an end that was not a resolution (accepted, dismissed).
fn spans_text(f: &FindingFact) -> String {
    let mut s = String::new();
    for (a, b) in &f.spans {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(&ms(*a).to_string());
        s.push('-');
        if let Some(b) = b {
            s.push_str(&ms(*b).to_string());
            if !f.resolved_ends.contains(b) {
                s.push('!');
            }
        }
    }
    s
}

type Spans = (Vec<(Timestamp, Option<Timestamp>)>, Vec<Timestamp>);

fn parse_spans(s: &str) -> StoreResult<Spans> {
    let t = |v: &str| -> StoreResult<Timestamp> {
        let n: i64 = v.parse().map_err(|e| bad_doc("finding spans", e))?;
        Timestamp::from_millisecond(n).map_err(|e| bad_doc("finding spans", e))
    };
    let mut spans = Vec::new();
    let mut resolved = Vec::new();
    for p in s.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = p
            .split_once('-')
            .ok_or_else(|| bad_doc("finding spans", p))?;
        let end = match b {
            "" => None,
            b => match b.strip_suffix('!') {
                Some(b) => Some(t(b)?),
                None => {
                    let e = t(b)?;
                    resolved.push(e);
                    Some(e)
                }
            },
        };
        spans.push((t(a)?, end));
    }
    Ok((spans, resolved))
}

/// `org_id IN (subtree)` clause and its two arguments, numbered from `n`; `1 = 1` when there is no
/// root or the root's subtree is the whole registry (so the aggregates scan an index, not a join).
pub(crate) async fn within_clause(
    s: &SqlStore,
    within: Option<OrgId>,
    n: usize,
) -> StoreResult<(String, Vec<Arg>)> {
    let range = match within {
        None => None,
        Some(root) => s.subtree_unless_all(root).await?,
    };
    match range {
        None => Ok(("1 = 1".into(), Vec::new())),
        Some((lo, hi)) => Ok((
            format!(
                "org_id IN (SELECT id FROM orgs WHERE path >= ${n} AND path < ${})",
                n + 1
            ),
            args![lo, hi],
        )),
    }
}

pub(crate) async fn audit_line(
    tx: &mut Tx,
    a: &LoopAudit,
    entity_type: &str,
    id: Uuid,
    org: OrgId,
    after: &serde_json::Value,
) -> StoreResult<()> {
    write_audit(
        tx,
        Timestamp::now().as_millisecond(),
        Change {
            actor: &a.actor,
            action: &a.action,
            entity_type,
            entity_id: id.to_string(),
            org_id: Some(org),
            before: None::<&serde_json::Value>,
            after: Some(after),
        },
    )
    .await
}

/// When a finding that is not open was last closed: the end of its last open span.
fn closed_at(f: &Finding, fact: &FindingFact) -> Option<i64> {
    if f.status.as_str() == "open" {
        return None;
    }
    fact.spans.last().and_then(|s| s.1).map(ms)
}

/// The lower-cased text the `text` filter searches: title, check and key, one per line.
fn search_text(title: &str, check: &str, key: &str) -> String {
    format!("{title}\n{check}\n{key}").to_lowercase()
}

/// The order's columns with their directions (`true` = descending), id last.
fn order_columns(sort: FindingSort) -> &'static [(&'static str, bool)] {
    match sort {
        FindingSort::LastSeen => &[("last_seen", true), ("id", true)],
        FindingSort::FirstSeen => &[("first_seen", false), ("id", false)],
        FindingSort::Severity => &[("sev_rank", true), ("last_seen", true), ("id", true)],
        FindingSort::Org => &[("org_id", false), ("last_seen", true), ("id", true)],
    }
}

/// Adds the keyset condition "strictly after `c`" for the order's columns: a row-value comparison
/// when all directions agree (both backends use the index for it), else the expanded OR form.
fn push_after(w: &mut Where, c: &FindingCursor) {
    let cols = order_columns(c.sort);
    let mut vals: Vec<Arg> = c.keys.iter().map(|k| Arg::from(*k)).collect();
    vals.push(Arg::from(c.id.to_string()));
    if cols.iter().all(|x| x.1 == cols[0].1) {
        let names: Vec<&str> = cols.iter().map(|x| x.0).collect();
        let marks = vec!["?"; cols.len()].join(", ");
        let op = if cols[0].1 { "<" } else { ">" };
        w.push(&format!("({}) {op} ({marks})", names.join(", ")), vals);
        return;
    }
    // (a > ?) OR (a = ? AND ((b < ?) OR (b = ? AND c < ?)))
    fn nest(cols: &[(&str, bool)], vals: &[Arg], sql: &mut String, out: &mut Vec<Arg>) {
        let ((col, desc), v) = (cols[0], &vals[0]);
        let op = if desc { "<" } else { ">" };
        if cols.len() == 1 {
            sql.push_str(&format!("{col} {op} ?"));
            out.push(v.clone());
            return;
        }
        sql.push_str(&format!("({col} {op} ? OR ({col} = ? AND ("));
        out.push(v.clone());
        out.push(v.clone());
        nest(&cols[1..], &vals[1..], sql, out);
        sql.push_str(")))");
    }
    let (mut sql, mut out) = (String::new(), Vec::new());
    nest(cols, &vals, &mut sql, &mut out);
    w.push(&sql, out);
}

/// The WHERE conditions of `q` (without the cursor).
async fn finding_where(s: &SqlStore, q: &FindingQuery) -> StoreResult<Where> {
    let mut w = Where::default();
    if let Some(root) = q.within
        && let Some((lo, hi)) = s.subtree_unless_all(root).await?
    {
        w.push(
            "org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)",
            args![lo, hi],
        );
    }
    if let Some(o) = q.org {
        w.push("org_id = ?", args![o.0]);
    }
    if let Some(a) = q.asset {
        w.push("asset_id = ?", args![a.0]);
    }
    let list = |w: &mut Where, col: &str, vals: Vec<Arg>| {
        if !vals.is_empty() {
            let marks = vec!["?"; vals.len()].join(", ");
            w.push(&format!("{col} IN ({marks})"), vals);
        }
    };
    list(
        &mut w,
        "sev_rank",
        q.severities.iter().map(|s| Arg::from(*s as i64)).collect(),
    );
    list(&mut w, "status", q.statuses.iter().map(Arg::from).collect());
    if let Some(src) = q.source {
        w.push("source = ?", args![src.as_str()]);
    }
    if let Some(t) = q.first_seen_from {
        w.push("first_seen >= ?", args![ms(t)]);
    }
    if let Some(t) = q.first_seen_to {
        w.push("first_seen <= ?", args![ms(t)]);
    }
    if let Some(c) = &q.check {
        w.push("check_id = ?", args![c]);
    }
    if let Some(p) = q.check_prefix.as_deref().filter(|p| !p.is_empty()) {
        w.push(
            "check_id LIKE ? ESCAPE '\\'",
            args![format!("{}%", like_escape(p))],
        );
    }
    if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        w.push(
            "search LIKE ? ESCAPE '\\'",
            args![format!("%{}%", like_escape(&t.to_lowercase()))],
        );
    }
    Ok(w)
}

async fn upsert_finding(tx: &mut Tx, f: &Finding) -> StoreResult<()> {
    let fact = FindingFact::from_finding(f);
    let doc = to_json(f)?;
    tx.exec(
        "INSERT INTO loop_findings (id, fingerprint, org_id, asset_id, source, check_id, severity, status, \
         first_seen, last_seen, spans, doc, sev_rank, closed_at, search) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, org_id = excluded.org_id, \
         asset_id = excluded.asset_id, source = excluded.source, check_id = excluded.check_id, \
         severity = excluded.severity, status = excluded.status, first_seen = excluded.first_seen, \
         last_seen = excluded.last_seen, spans = excluded.spans, doc = excluded.doc, \
         sev_rank = excluded.sev_rank, closed_at = excluded.closed_at, search = excluded.search",
        args![
            f.id.to_string(),
            f.fingerprint.as_str(),
            f.org.0,
            f.asset.0,
            f.source.as_str(),
            &f.check,
            f.severity.as_str(),
            f.status.as_str(),
            ms(f.first_seen),
            ms(f.last_seen),
            spans_text(&fact),
            doc,
            f.severity as i64,
            closed_at(f, &fact),
            search_text(&f.title, &f.check, &f.key),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("finding fingerprint {}", f.fingerprint.as_str())),
        e => e,
    })?;
    Ok(())
}

fn finding_from_row(r: &Row) -> StoreResult<Finding> {
    serde_json::from_str(&r.text(0)?).map_err(|e| bad_doc("finding", e))
}

impl SqlStore {
    pub(crate) async fn loop_finding_by_fp(&self, fp: &str) -> StoreResult<Option<Finding>> {
        let r = self
            .db
            .opt(
                "SELECT doc FROM loop_findings WHERE fingerprint = $1",
                args![fp],
            )
            .await?;
        r.as_ref().map(finding_from_row).transpose()
    }

    pub(crate) async fn loop_get_finding(&self, id: Uuid) -> StoreResult<Finding> {
        let r = self
            .db
            .opt(
                "SELECT doc FROM loop_findings WHERE id = $1",
                args![id.to_string()],
            )
            .await?;
        match r {
            Some(r) => finding_from_row(&r),
            None => Err(StoreError::NotFound {
                entity: "finding",
                key: id.to_string(),
            }),
        }
    }

    pub(crate) async fn loop_put_finding(
        &self,
        f: &Finding,
        audit: Option<LoopAudit>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        upsert_finding(&mut tx, f).await?;
        if let Some(a) = audit {
            let after = serde_json::json!({ "status": f.status, "comment": a.comment });
            audit_line(&mut tx, &a, "finding", f.id, f.org, &after).await?;
        }
        tx.commit().await
    }

    pub(crate) async fn loop_put_findings(&self, fs: &[Finding]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for f in fs {
            upsert_finding(&mut tx, f).await?;
        }
        tx.commit().await
    }

    /// The findings of `q` in its order, at most `limit` (0: all) after its cursor.
    async fn loop_select_findings(
        &self,
        q: &FindingQuery,
        limit: Option<u32>,
    ) -> StoreResult<Vec<Finding>> {
        let mut w = finding_where(self, q).await?;
        if let Some(c) = &q.after {
            if c.sort != q.sort {
                return Err(StoreError::invalid(
                    "after",
                    format!("the cursor belongs to sort {}", c.sort.as_str()),
                ));
            }
            push_after(&mut w, c);
        }
        let order: Vec<String> = order_columns(q.sort)
            .iter()
            .map(|(c, d)| format!("{c}{}", if *d { " DESC" } else { "" }))
            .collect();
        let mut sql = format!(
            "SELECT doc FROM loop_findings {} ORDER BY {}",
            w.sql(),
            order.join(", ")
        );
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        self.db
            .all(&sql, w.args)
            .await?
            .iter()
            .map(finding_from_row)
            .collect()
    }

    pub(crate) async fn loop_list_findings(&self, q: &FindingQuery) -> StoreResult<Vec<Finding>> {
        self.loop_select_findings(q, (q.limit > 0).then_some(q.limit))
            .await
    }

    pub(crate) async fn loop_page_findings(&self, q: &FindingQuery) -> StoreResult<FindingPage> {
        let limit = if q.limit == 0 { 50 } else { q.limit };
        let mut items = self.loop_select_findings(q, Some(limit + 1)).await?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|f| FindingCursor::after(f, q.sort))
        } else {
            None
        };
        Ok(FindingPage { items, next })
    }

    pub(crate) async fn loop_count_findings(&self, q: &FindingQuery) -> StoreResult<u64> {
        let w = finding_where(self, q).await?;
        count_where(&self.db, "loop_findings", w).await
    }

    pub(crate) async fn loop_finding_facts(
        &self,
        within: Option<OrgId>,
    ) -> StoreResult<Vec<FindingFact>> {
        let mut all = Vec::new();
        self.loop_for_each_finding_facts(within, 50_000, &mut |mut page| all.append(&mut page))
            .await?;
        Ok(all)
    }

    /// Streams the scoring facts of one query (a scan in table order, one row held at a time) and hands
    /// them to `f` in pages of `chunk`.
    pub(crate) async fn loop_for_each_finding_facts(
        &self,
        within: Option<OrgId>,
        chunk: u32,
        f: &mut (dyn FnMut(Vec<FindingFact>) + Send),
    ) -> StoreResult<()> {
        let chunk = chunk.max(1) as usize;
        let (clause, a) = within_clause(self, within, 1).await?;
        let sql = format!("SELECT org_id, severity, spans FROM loop_findings WHERE {clause}");
        let mut page = Vec::with_capacity(chunk);
        self.db
            .each(&sql, a, &mut |r| {
                let (spans, resolved_ends) = parse_spans(&r.text(2)?)?;
                page.push(FindingFact {
                    org: OrgId(r.i64(0)?),
                    severity: r
                        .text(1)?
                        .parse::<Severity>()
                        .map_err(|e| bad_doc("severity", e))?,
                    spans,
                    resolved_ends,
                });
                if page.len() == chunk {
                    f(std::mem::replace(&mut page, Vec::with_capacity(chunk)));
                }
                Ok(())
            })
            .await?;
        if !page.is_empty() {
            f(page);
        }
        Ok(())
    }
}
