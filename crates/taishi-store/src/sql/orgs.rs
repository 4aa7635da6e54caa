//! The org tree: materialised paths make subtree reads one indexed range scan.

use super::SqlStore;
use super::db::{Backend, Tx, args};
use super::now_ms;
use super::rows::*;
use crate::error::{StoreError, StoreResult};
use crate::traits::DeleteMode;
use taishi_model::*;

/// Allocates `n` fresh ids for `table` inside a write transaction, so paths can be computed before insert.
pub(crate) async fn alloc_ids(tx: &mut Tx, table: &str, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    match tx.backend() {
        // one writer at a time, so the watermark is stable until commit; it only grows, so an id
        // whose row was deleted is never handed out again (migration 0004)
        Backend::Sqlite => {
            let row = tx
                .opt(
                    &format!(
                        "SELECT max(COALESCE((SELECT last_id FROM id_watermarks WHERE tbl = $1), 0), \
                         COALESCE((SELECT MAX(id) FROM {table}), 0))"
                    ),
                    args![table],
                )
                .await?;
            let max = match row {
                Some(r) => r.i64(0)?,
                None => 0,
            };
            let last = max + n as i64;
            tx.exec(
                "INSERT INTO id_watermarks (tbl, last_id) VALUES ($1, $2) \
                 ON CONFLICT (tbl) DO UPDATE SET last_id = excluded.last_id",
                args![table, last],
            )
            .await?;
            Ok((max + 1..=last).collect())
        }
        Backend::Postgres => {
            let rows = tx
                .all(
                    &format!(
                        "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                    ),
                    args![n as i64],
                )
                .await?;
            rows.iter().map(|r| r.i64(0)).collect()
        }
    }
}

pub(crate) async fn org_in_tx(tx: &mut Tx, id: OrgId) -> StoreResult<Org> {
    let row = tx
        .opt(
            &format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1"),
            args![id.0],
        )
        .await?;
    org_from_row(&row.ok_or_else(|| StoreError::not_found("org", id))?)
}

pub(crate) const INSERT_ORG: &str = "INSERT INTO orgs (id, parent_id, path, code, name, kind, sector, \
     region_code, critical_infrastructure, contacts, notes, created_at, updated_at) VALUES ";

pub(crate) fn org_insert_args(o: &Org, now: i64) -> Vec<super::db::Arg> {
    args![
        o.id.0,
        o.parent_id.map(|p| p.0),
        path_text(&o.path),
        &o.code,
        &o.name,
        o.kind.as_str(),
        o.sector.as_str(),
        o.region_code.clone(),
        o.critical_infrastructure,
        json_text(&o.contacts),
        &o.notes,
        now,
        now
    ]
}

pub(crate) async fn org_write_fields(tx: &mut Tx, o: &Org, now: i64) -> StoreResult<()> {
    tx.exec(
        "UPDATE orgs SET code = $1, name = $2, kind = $3, sector = $4, region_code = $5, \
         critical_infrastructure = $6, contacts = $7, notes = $8, updated_at = $9 WHERE id = $10",
        args![
            &o.code,
            &o.name,
            o.kind.as_str(),
            o.sector.as_str(),
            o.region_code.clone(),
            o.critical_infrastructure,
            json_text(&o.contacts),
            &o.notes,
            now,
            o.id.0
        ],
    )
    .await?;
    Ok(())
}

/// Moves `org` (and its subtree) so that its path becomes `new_path`; the caller checked for cycles.
pub(crate) async fn org_rehome(
    tx: &mut Tx,
    org: &Org,
    new_parent: Option<OrgId>,
    new_path: &str,
    now: i64,
) -> StoreResult<()> {
    let old = path_text(&org.path);
    let (lo, hi) = subtree_range(&old);
    tx.exec(
        "UPDATE orgs SET path = $1 || substr(path, CAST($2 AS INTEGER)) WHERE path >= $3 AND path < $4",
        args![new_path, old.len() as i64 + 1, lo, hi],
    )
    .await?;
    tx.exec(
        "UPDATE orgs SET parent_id = $1, updated_at = $2 WHERE id = $3",
        args![new_parent.map(|p| p.0), now, org.id.0],
    )
    .await?;
    Ok(())
}

impl SqlStore {
    pub(crate) async fn org_get(&self, id: OrgId) -> StoreResult<Org> {
        let row = self
            .db
            .opt(
                &format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1"),
                args![id.0],
            )
            .await?;
        org_from_row(&row.ok_or_else(|| StoreError::not_found("org", id))?)
    }

    pub(crate) async fn org_by_code(&self, code: &str) -> StoreResult<Org> {
        let row = self
            .db
            .opt(
                &format!("SELECT {ORG_COLS} FROM orgs WHERE code = $1"),
                args![code],
            )
            .await?;
        org_from_row(&row.ok_or_else(|| StoreError::not_found("org", code))?)
    }

    /// The `(lo, hi)` path range of the subtree of `root`.
    pub(crate) async fn subtree_of(&self, root: OrgId) -> StoreResult<(String, String)> {
        let row = self
            .db
            .opt("SELECT path FROM orgs WHERE id = $1", args![root.0])
            .await?;
        let path = row
            .ok_or_else(|| StoreError::not_found("org", root))?
            .text(0)?;
        Ok(subtree_range(&path))
    }

    /// Like [`SqlStore::subtree_of`], but `None` when the subtree holds every org (its root is the only
    /// root): then "within" filters nothing, and leaving the condition out spares the query a list of
    /// every org id.
    pub(crate) async fn subtree_unless_all(
        &self,
        root: OrgId,
    ) -> StoreResult<Option<(String, String)>> {
        let row = self
            .db
            .opt(
                "SELECT path, (parent_id IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM orgs r WHERE r.parent_id IS NULL AND r.id <> $1)) \
                 FROM orgs WHERE id = $1",
                args![root.0],
            )
            .await?
            .ok_or_else(|| StoreError::not_found("org", root))?;
        let path = row.text(0)?;
        let everything = row.bool(1)?;
        Ok((!everything).then(|| subtree_range(&path)))
    }

    pub(crate) async fn org_create(&self, actor: &Actor, input: OrgInput) -> StoreResult<Org> {
        input.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.db.begin().await?;
        if tx
            .opt("SELECT 1 FROM orgs WHERE code = $1", args![&input.code])
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "org code {:?} is already registered",
                input.code
            )));
        }
        let mut path = match input.parent_id {
            Some(p) => match org_in_tx(&mut tx, p).await {
                Ok(parent) => parent.path,
                Err(StoreError::NotFound { .. }) => {
                    return Err(StoreError::invalid(
                        "parent_id",
                        format!("no org with id {p}"),
                    ));
                }
                Err(e) => return Err(e),
            },
            None => Vec::new(),
        };
        let id = OrgId(alloc_ids(&mut tx, "orgs", 1).await?[0]);
        path.push(id);
        let now = now_ms();
        let org = Org {
            id,
            parent_id: input.parent_id,
            code: input.code,
            name: input.name,
            kind: input.kind,
            sector: input.sector,
            region_code: input.region_code.filter(|r| !r.is_empty()),
            critical_infrastructure: input.critical_infrastructure,
            contacts: input.contacts,
            notes: input.notes,
            path,
            created_at: ts(now)?,
            updated_at: ts(now)?,
        };
        let sql = format!("{INSERT_ORG}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        tx.exec(&sql, org_insert_args(&org, now)).await?;
        write_audit(
            &mut tx,
            now,
            Change::<Org, Org> {
                actor,
                action: "org.create",
                entity_type: "org",
                entity_id: id.to_string(),
                org_id: Some(id),
                before: None,
                after: Some(&org),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub(crate) async fn org_update(
        &self,
        actor: &Actor,
        id: OrgId,
        patch: OrgPatch,
    ) -> StoreResult<Org> {
        let mut tx = self.db.begin().await?;
        let before = org_in_tx(&mut tx, id).await?;
        let mut org = before.clone();
        patch.apply(&mut org).map_err(StoreError::Invalid)?;
        if org.code != before.code
            && tx
                .opt("SELECT 1 FROM orgs WHERE code = $1", args![&org.code])
                .await?
                .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "org code {:?} is already registered",
                org.code
            )));
        }
        let now = now_ms();
        org.updated_at = ts(now)?;
        org_write_fields(&mut tx, &org, now).await?;
        write_audit(
            &mut tx,
            now,
            Change {
                actor,
                action: "org.update",
                entity_type: "org",
                entity_id: id.to_string(),
                org_id: Some(id),
                before: Some(&before),
                after: Some(&org),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub(crate) async fn org_move(
        &self,
        actor: &Actor,
        id: OrgId,
        new_parent: Option<OrgId>,
    ) -> StoreResult<Org> {
        let mut tx = self.db.begin().await?;
        let before = org_in_tx(&mut tx, id).await?;
        let mut new_path = match new_parent {
            Some(p) => {
                let parent = match org_in_tx(&mut tx, p).await {
                    Ok(o) => o,
                    Err(StoreError::NotFound { .. }) => {
                        return Err(StoreError::invalid(
                            "parent_id",
                            format!("no org with id {p}"),
                        ));
                    }
                    Err(e) => return Err(e),
                };
                if parent.path.contains(&id) {
                    return Err(StoreError::Refused(format!(
                        "cannot move org {} under {}: that org lies inside its own subtree",
                        before.code, parent.code
                    )));
                }
                parent.path
            }
            None => Vec::new(),
        };
        new_path.push(id);
        let now = now_ms();
        org_rehome(&mut tx, &before, new_parent, &path_text(&new_path), now).await?;
        let after = org_in_tx(&mut tx, id).await?;
        write_audit(
            &mut tx,
            now,
            Change {
                actor,
                action: "org.move",
                entity_type: "org",
                entity_id: id.to_string(),
                org_id: Some(id),
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn org_delete(
        &self,
        actor: &Actor,
        id: OrgId,
        mode: DeleteMode,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let org = org_in_tx(&mut tx, id).await?;
        let (lo, hi) = subtree_range(&path_text(&org.path));
        let in_subtree = "(SELECT id FROM orgs WHERE path >= $1 AND path < $2)";
        let count = async |tx: &mut Tx, sql: String| -> StoreResult<i64> {
            let r = tx.opt(&sql, args![lo.clone(), hi.clone()]).await?;
            r.map(|r| r.i64(0)).transpose().map(|v| v.unwrap_or(0))
        };
        let orgs = count(
            &mut tx,
            "SELECT COUNT(*) FROM orgs WHERE path >= $1 AND path < $2".into(),
        )
        .await?
            - 1;
        let assets = count(
            &mut tx,
            format!("SELECT COUNT(*) FROM assets WHERE org_id IN {in_subtree}"),
        )
        .await?;
        let users = count(
            &mut tx,
            format!("SELECT COUNT(*) FROM users WHERE org_id IN {in_subtree}"),
        )
        .await?;
        let tokens = count(
            &mut tx,
            format!("SELECT COUNT(*) FROM api_tokens WHERE org_id IN {in_subtree}"),
        )
        .await?;
        if mode == DeleteMode::Refuse && orgs + assets + users + tokens > 0 {
            return Err(StoreError::Refused(format!(
                "org {} still has {orgs} child org(s), {assets} asset(s), {users} user(s) and {tokens} token(s); \
                 remove them first or delete with cascade",
                org.code
            )));
        }
        for sql in [
            format!("DELETE FROM api_tokens WHERE org_id IN {in_subtree}"),
            format!("DELETE FROM users WHERE org_id IN {in_subtree}"),
            format!("DELETE FROM assets WHERE org_id IN {in_subtree}"),
            "DELETE FROM orgs WHERE path >= $1 AND path < $2".to_owned(),
        ] {
            tx.exec(&sql, args![lo.clone(), hi.clone()]).await?;
        }
        let removed = serde_json::json!({
            "org": org, "child_orgs": orgs, "assets": assets, "users": users, "tokens": tokens
        });
        write_audit(
            &mut tx,
            now_ms(),
            Change::<serde_json::Value, ()> {
                actor,
                action: if mode == DeleteMode::Cascade {
                    "org.delete_cascade"
                } else {
                    "org.delete"
                },
                entity_type: "org",
                entity_id: id.to_string(),
                org_id: Some(id),
                before: Some(&removed),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The conditions of `f` (shared by the list and its count).
    async fn org_where(&self, f: &OrgFilter) -> StoreResult<Where> {
        let mut w = Where::default();
        if let Some(root) = f.within {
            let (lo, hi) = self.subtree_of(root).await?;
            w.push("path >= ? AND path < ?", args![lo, hi]);
        }
        if let Some(p) = f.parent {
            w.push("parent_id = ?", args![p.0]);
        } else if f.roots_only {
            w.push("parent_id IS NULL", vec![]);
        }
        if let Some(k) = f.kind {
            w.push("kind = ?", args![k.as_str()]);
        }
        if let Some(s) = f.sector {
            w.push("sector = ?", args![s.as_str()]);
        }
        if let Some(c) = f.critical_infrastructure {
            w.push("critical_infrastructure = ?", args![c]);
        }
        if let Some(r) = &f.region_prefix {
            w.push(
                "region_code LIKE ? ESCAPE '\\'",
                args![format!("{}%", like_escape(r))],
            );
        }
        if let Some(q) = f.q.as_deref().filter(|q| !q.is_empty()) {
            let pat = format!("%{}%", like_escape(&q.to_lowercase()));
            w.push(
                "(lower(name) LIKE ? ESCAPE '\\' OR lower(code) LIKE ? ESCAPE '\\')",
                args![pat.clone(), pat],
            );
        }
        Ok(w)
    }

    pub(crate) async fn org_list(&self, f: &OrgFilter, page: Page) -> StoreResult<Paged<Org>> {
        let mut w = self.org_where(f).await?;
        let tail = w.page("id", page);
        let sql = format!("SELECT {ORG_COLS} FROM orgs {} {tail}", w.sql());
        let rows = self.db.all(&sql, w.args).await?;
        let items = rows
            .iter()
            .map(org_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |o| o.id.0))
    }

    pub(crate) async fn org_count(&self, f: &OrgFilter) -> StoreResult<u64> {
        let w = self.org_where(f).await?;
        count_where(&self.db, "orgs", w).await
    }

    pub(crate) async fn org_ancestors(&self, id: OrgId) -> StoreResult<Vec<Org>> {
        let org = self.org_get(id).await?;
        let marks: Vec<String> = (1..=org.path.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {ORG_COLS} FROM orgs WHERE id IN ({}) ORDER BY length(path)",
            marks.join(", ")
        );
        let rows = self
            .db
            .all(&sql, org.path.iter().map(|o| o.0.into()).collect())
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    pub(crate) async fn org_in_subtree(&self, org: OrgId, root: OrgId) -> StoreResult<bool> {
        let row = self
            .db
            .opt(
                "SELECT 1 FROM orgs o, orgs r WHERE o.id = $1 AND r.id = $2 AND o.path >= r.path \
                 AND o.path < substr(r.path, 1, length(r.path) - 1) || '0'",
                args![org.0, root.0],
            )
            .await?;
        Ok(row.is_some())
    }

    pub(crate) async fn org_count_subtree(&self, root: OrgId) -> StoreResult<u64> {
        let (lo, hi) = self.subtree_of(root).await?;
        let row = self
            .db
            .opt(
                "SELECT COUNT(*) FROM orgs WHERE path >= $1 AND path < $2",
                args![lo, hi],
            )
            .await?;
        Ok(row.map(|r| r.i64(0)).transpose()?.unwrap_or(0) as u64)
    }
}
