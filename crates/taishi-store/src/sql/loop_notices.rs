//! Loop persistence, notices (numbered per year), rectifications and attachments.

use super::SqlStore;
use super::db::{Row, args};
use super::loop_findings::{audit_line, bad_doc, ms, to_json, within_clause};
use crate::error::{StoreError, StoreResult};
use crate::loop_store::{LoopAudit, NoticeQuery};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use taishi_model::OrgId;
use taishi_model::indicator::NoticeFact;
use taishi_model::notice::{Notice, NoticeNumber, NoticeState};
use taishi_model::rectification::{AttachmentMeta, Rectification};
use uuid::Uuid;

fn notice_from_row(r: &Row) -> StoreResult<Notice> {
    serde_json::from_str(&r.text(0)?).map_err(|e| bad_doc("notice", e))
}

fn returned_text(n: &Notice) -> String {
    n.history
        .iter()
        .filter(|e| e.action == "return")
        .map(|e| ms(e.at).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn opt_ts(v: Option<i64>) -> StoreResult<Option<Timestamp>> {
    v.map(|v| Timestamp::from_millisecond(v).map_err(|e| bad_doc("time", e)))
        .transpose()
}

const UPSERT: &str = "INSERT INTO loop_notices (id, year, seq, org_id, state, issued_at, rectify_due, closed_at, \
     returned_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET \
     org_id = excluded.org_id, state = excluded.state, issued_at = excluded.issued_at, \
     rectify_due = excluded.rectify_due, closed_at = excluded.closed_at, returned_at = excluded.returned_at, \
     doc = excluded.doc";

fn notice_args(n: &Notice) -> StoreResult<Vec<super::db::Arg>> {
    Ok(args![
        n.id.to_string(),
        i64::from(n.number.year),
        i64::from(n.number.seq),
        n.org.0,
        n.state.as_str(),
        n.issued_at.map(ms),
        n.rectify_due.map(ms),
        n.closed_at.map(ms),
        returned_text(n),
        to_json(n)?,
    ])
}

impl SqlStore {
    pub(crate) async fn loop_create_notice(
        &self,
        mut n: Notice,
        year: i16,
        a: LoopAudit,
    ) -> StoreResult<Notice> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .opt(
                "INSERT INTO loop_notice_seq (year, last) VALUES ($1, 1) ON CONFLICT (year) \
                 DO UPDATE SET last = loop_notice_seq.last + 1 RETURNING last",
                args![i64::from(year)],
            )
            .await?
            .ok_or_else(|| StoreError::Database("notice sequence returned nothing".into()))?;
        let seq = u32::try_from(row.i64(0)?).map_err(|e| bad_doc("notice sequence", e))?;
        n.number = NoticeNumber { year, seq };
        tx.exec(UPSERT, notice_args(&n)?).await?;
        let after =
            serde_json::json!({ "number": n.number, "state": n.state, "comment": a.comment });
        audit_line(&mut tx, &a, "notice", n.id, n.org, &after).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub(crate) async fn loop_get_notice(&self, id: Uuid) -> StoreResult<Notice> {
        let r = self
            .db
            .opt(
                "SELECT doc FROM loop_notices WHERE id = $1",
                args![id.to_string()],
            )
            .await?;
        r.as_ref()
            .map(notice_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                entity: "notice",
                key: id.to_string(),
            })
    }

    pub(crate) async fn loop_notice_by_number(&self, num: NoticeNumber) -> StoreResult<Notice> {
        let r = self
            .db
            .opt(
                "SELECT doc FROM loop_notices WHERE year = $1 AND seq = $2",
                args![i64::from(num.year), i64::from(num.seq)],
            )
            .await?;
        r.as_ref()
            .map(notice_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                entity: "notice",
                key: num.to_string(),
            })
    }

    pub(crate) async fn loop_save_notice(
        &self,
        n: &Notice,
        audit: Option<LoopAudit>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.exec(UPSERT, notice_args(n)?).await?;
        if let Some(a) = audit {
            let after =
                serde_json::json!({ "number": n.number, "state": n.state, "comment": a.comment });
            audit_line(&mut tx, &a, "notice", n.id, n.org, &after).await?;
        }
        tx.commit().await
    }

    pub(crate) async fn loop_save_notices(&self, ns: &[Notice]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for n in ns {
            tx.exec(UPSERT, notice_args(n)?).await?;
        }
        tx.commit().await
    }

    pub(crate) async fn loop_list_notices(&self, q: &NoticeQuery) -> StoreResult<Vec<Notice>> {
        let (clause, a) = within_clause(self, q.within, 1).await?;
        let live = if q.live_only {
            " AND state NOT IN ('draft', 'closed', 'cancelled')"
        } else {
            ""
        };
        let sql = format!("SELECT doc FROM loop_notices WHERE {clause}{live} ORDER BY year, seq");
        self.db
            .all(&sql, a)
            .await?
            .iter()
            .map(notice_from_row)
            .collect()
    }

    pub(crate) async fn loop_notice_facts(
        &self,
        within: Option<OrgId>,
    ) -> StoreResult<Vec<NoticeFact>> {
        let (clause, a) = within_clause(self, within, 1).await?;
        let sql = format!(
            "SELECT org_id, state, issued_at, rectify_due, closed_at, returned_at FROM loop_notices WHERE {clause}"
        );
        let rows = self.db.all(&sql, a).await?;
        rows.iter()
            .map(|r| {
                let state = NoticeState::parse(&r.text(1)?)
                    .ok_or_else(|| bad_doc("notice state", "unknown"))?;
                let returned = r.text(5)?;
                Ok(NoticeFact {
                    org: OrgId(r.i64(0)?),
                    issued_at: opt_ts(r.opt_i64(2)?)?,
                    rectify_due: opt_ts(r.opt_i64(3)?)?,
                    closed_at: if state == NoticeState::Closed {
                        opt_ts(r.opt_i64(4)?)?
                    } else {
                        None
                    },
                    cancelled: state == NoticeState::Cancelled,
                    returned_at: returned
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| {
                            opt_ts(s.parse::<i64>().ok())
                                .and_then(|t| t.ok_or_else(|| bad_doc("returned_at", s)))
                        })
                        .collect::<StoreResult<_>>()?,
                })
            })
            .collect()
    }

    pub(crate) async fn loop_add_rectification(
        &self,
        r: &Rectification,
        contents: Vec<Vec<u8>>,
    ) -> StoreResult<()> {
        if contents.len() != r.attachments.len() {
            return Err(StoreError::Refused(
                "attachment contents do not match their metadata".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO loop_rectifications (id, notice_id, submitted_at, doc) VALUES ($1, $2, $3, $4)",
            args![r.id.to_string(), r.notice.to_string(), ms(r.submitted_at), to_json(r)?],
        )
        .await?;
        for (m, data) in r.attachments.iter().zip(contents) {
            tx.exec(
                "INSERT INTO loop_attachments (id, rectification_id, name, content_type, size, sha256, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    m.id.to_string(),
                    r.id.to_string(),
                    &m.name,
                    &m.content_type,
                    i64::try_from(m.size).unwrap_or(i64::MAX),
                    &m.sha256,
                    B64.encode(data),
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    pub(crate) async fn loop_rectifications(
        &self,
        notice: Uuid,
    ) -> StoreResult<Vec<Rectification>> {
        let rows = self
            .db
            .all(
                "SELECT doc FROM loop_rectifications WHERE notice_id = $1 ORDER BY submitted_at, id",
                args![notice.to_string()],
            )
            .await?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.text(0)?).map_err(|e| bad_doc("rectification", e)))
            .collect()
    }

    pub(crate) async fn loop_attachment(&self, id: Uuid) -> StoreResult<(AttachmentMeta, Vec<u8>)> {
        let r = self
            .db
            .opt(
                "SELECT name, content_type, size, sha256, data FROM loop_attachments WHERE id = $1",
                args![id.to_string()],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "attachment",
                key: id.to_string(),
            })?;
        let data = B64
            .decode(r.text(4)?)
            .map_err(|e| bad_doc("attachment", e))?;
        let meta = AttachmentMeta {
            id,
            name: r.text(0)?,
            content_type: r.text(1)?,
            size: u64::try_from(r.i64(2)?).unwrap_or(0),
            sha256: r.text(3)?,
        };
        Ok((meta, data))
    }
}
