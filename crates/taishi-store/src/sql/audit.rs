//! Reading the audit log and appending standalone entries.

use super::SqlStore;
use super::db::args;
use super::now_ms;
use super::rows::*;
use crate::error::StoreResult;
use crate::traits::NewAudit;
use taishi_model::*;

impl SqlStore {
    pub(crate) async fn audit_append(&self, e: NewAudit) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        write_audit(
            &mut tx,
            now_ms(),
            Change {
                actor: &e.actor,
                action: &e.action,
                entity_type: &e.entity_type,
                entity_id: e.entity_id.clone(),
                org_id: e.org_id,
                before: e.before.as_ref(),
                after: e.after.as_ref(),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The conditions of `f` (shared by the list and its count).
    async fn audit_where(&self, f: &AuditFilter) -> StoreResult<Where> {
        let mut w = Where::default();
        if let Some(root) = f.within {
            let (lo, hi) = self.subtree_of(root).await?;
            w.push(
                "org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)",
                args![lo, hi],
            );
        }
        if let Some(t) = &f.entity_type {
            w.push("entity_type = ?", args![t]);
        }
        if let Some(i) = &f.entity_id {
            w.push("entity_id = ?", args![i]);
        }
        if let Some(a) = &f.actor {
            w.push("actor = ?", args![a]);
        }
        if let Some(s) = f.since {
            w.push("at >= ?", args![s.as_millisecond()]);
        }
        if let Some(u) = f.until {
            w.push("at < ?", args![u.as_millisecond()]);
        }
        Ok(w)
    }

    pub(crate) async fn audit_count(&self, f: &AuditFilter) -> StoreResult<u64> {
        let w = self.audit_where(f).await?;
        count_where(&self.db, "audit_log", w).await
    }

    pub(crate) async fn audit_list(
        &self,
        f: &AuditFilter,
        page: Page,
    ) -> StoreResult<Paged<AuditEntry>> {
        let mut w = self.audit_where(f).await?;
        let tail = w.page("id", page);
        let rows = self
            .db
            .all(
                &format!("SELECT {AUDIT_COLS} FROM audit_log {} {tail}", w.sql()),
                w.args,
            )
            .await?;
        let items = rows
            .iter()
            .map(audit_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |a| a.id.0))
    }
}
