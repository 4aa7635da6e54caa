//! Loop persistence, findings: documents plus the columns intake and scoring query.

use super::SqlStore;
use super::db::{Arg, Row, Tx, args};
use super::rows::{Change, write_audit};
use crate::error::{StoreError, StoreResult};
use crate::loop_store::{FindingQuery, LoopAudit};
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

/// `org_id IN (subtree)` clause and its two arguments, numbered from `n`.
pub(crate) async fn within_clause(
    s: &SqlStore,
    within: Option<OrgId>,
    n: usize,
) -> StoreResult<(String, Vec<Arg>)> {
    match within {
        None => Ok(("1 = 1".into(), Vec::new())),
        Some(root) => {
            let (lo, hi) = s.subtree_of(root).await?;
            Ok((
                format!(
                    "org_id IN (SELECT id FROM orgs WHERE path >= ${n} AND path < ${})",
                    n + 1
                ),
                args![lo, hi],
            ))
        }
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

async fn upsert_finding(tx: &mut Tx, f: &Finding) -> StoreResult<()> {
    let fact = FindingFact::from_finding(f);
    let doc = to_json(f)?;
    tx.exec(
        "INSERT INTO loop_findings (id, fingerprint, org_id, asset_id, source, check_id, severity, status, \
         first_seen, last_seen, spans, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, org_id = excluded.org_id, \
         asset_id = excluded.asset_id, source = excluded.source, check_id = excluded.check_id, \
         severity = excluded.severity, status = excluded.status, first_seen = excluded.first_seen, \
         last_seen = excluded.last_seen, spans = excluded.spans, doc = excluded.doc",
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

    pub(crate) async fn loop_list_findings(&self, q: &FindingQuery) -> StoreResult<Vec<Finding>> {
        let (clause, mut a) = within_clause(self, q.within, 1).await?;
        let mut sql = format!("SELECT doc FROM loop_findings WHERE {clause}");
        if !q.statuses.is_empty() {
            let mut ph = Vec::new();
            for s in &q.statuses {
                a.push(Arg::from(s));
                ph.push(format!("${}", a.len()));
            }
            sql.push_str(&format!(" AND status IN ({})", ph.join(", ")));
        }
        sql.push_str(" ORDER BY last_seen DESC, id");
        if q.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", q.limit));
        }
        self.db
            .all(&sql, a)
            .await?
            .iter()
            .map(finding_from_row)
            .collect()
    }

    pub(crate) async fn loop_finding_facts(
        &self,
        within: Option<OrgId>,
    ) -> StoreResult<Vec<FindingFact>> {
        let (clause, a) = within_clause(self, within, 1).await?;
        let rows = self
            .db
            .all(
                &format!("SELECT org_id, severity, spans FROM loop_findings WHERE {clause}"),
                a,
            )
            .await?;
        rows.iter()
            .map(|r| {
                let (spans, resolved_ends) = parse_spans(&r.text(2)?)?;
                Ok(FindingFact {
                    org: OrgId(r.i64(0)?),
                    severity: r
                        .text(1)?
                        .parse::<Severity>()
                        .map_err(|e| bad_doc("severity", e))?,
                    spans,
                    resolved_ends,
                })
            })
            .collect()
    }
}
