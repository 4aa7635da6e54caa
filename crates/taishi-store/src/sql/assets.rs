//! Assets and their software inventory.

use super::SqlStore;
use super::db::{Backend, Tx, args};
use super::now_ms;
use super::rows::*;
use crate::error::{StoreError, StoreResult};
use crate::traits::AttributionEntry;
use taishi_model::*;

pub(crate) const INSERT_ASSET: &str = "INSERT INTO assets (id, org_id, kind, identity, name, tags, \
     mlps_level, critical_infrastructure, notes, created_at, updated_at) VALUES ";

pub(crate) fn asset_insert_args(a: &Asset, now: i64) -> Vec<super::db::Arg> {
    args![
        a.id.0,
        a.org_id.0,
        a.kind.as_str(),
        &a.identity,
        &a.name,
        json_text(&a.tags),
        a.mlps_level.map(|l| l.get() as i64),
        a.critical_infrastructure,
        &a.notes,
        now,
        now
    ]
}

pub(crate) async fn asset_write_fields(tx: &mut Tx, a: &Asset, now: i64) -> StoreResult<()> {
    tx.exec(
        "UPDATE assets SET org_id = $1, name = $2, tags = $3, mlps_level = $4, critical_infrastructure = $5, \
         notes = $6, updated_at = $7 WHERE id = $8",
        args![
            a.org_id.0,
            &a.name,
            json_text(&a.tags),
            a.mlps_level.map(|l| l.get() as i64),
            a.critical_infrastructure,
            &a.notes,
            now,
            a.id.0
        ],
    )
    .await?;
    Ok(())
}

async fn asset_in_tx(tx: &mut Tx, id: AssetId) -> StoreResult<Asset> {
    let row = tx
        .opt(
            &format!("SELECT {ASSET_COLS} FROM assets WHERE id = $1"),
            args![id.0],
        )
        .await?;
    asset_from_row(&row.ok_or_else(|| StoreError::not_found("asset", id))?)
}

async fn require_org(tx: &mut Tx, org: OrgId) -> StoreResult<()> {
    if tx
        .opt("SELECT 1 FROM orgs WHERE id = $1", args![org.0])
        .await?
        .is_none()
    {
        return Err(StoreError::invalid(
            "org_id",
            format!("no org with id {org}"),
        ));
    }
    Ok(())
}

impl SqlStore {
    pub(crate) async fn asset_create(
        &self,
        actor: &Actor,
        input: AssetInput,
    ) -> StoreResult<Asset> {
        let input = input.normalized().map_err(StoreError::Invalid)?;
        let mut tx = self.db.begin().await?;
        require_org(&mut tx, input.org_id).await?;
        let dup = if input.kind == AssetKind::System {
            tx.opt(
                "SELECT 1 FROM assets WHERE kind = 'system' AND org_id = $1 AND identity = $2",
                args![input.org_id.0, &input.identity],
            )
            .await?
        } else {
            tx.opt(
                "SELECT 1 FROM assets WHERE kind = $1 AND identity = $2 AND kind <> 'system'",
                args![input.kind.as_str(), &input.identity],
            )
            .await?
        };
        if dup.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} {} is already registered",
                input.kind, input.identity
            )));
        }
        let id = AssetId(super::orgs::alloc_ids(&mut tx, "assets", 1).await?[0]);
        let now = now_ms();
        let asset = Asset {
            id,
            org_id: input.org_id,
            kind: input.kind,
            identity: input.identity,
            name: input.name,
            tags: input.tags,
            mlps_level: input.mlps_level,
            critical_infrastructure: input.critical_infrastructure,
            notes: input.notes,
            created_at: ts(now)?,
            updated_at: ts(now)?,
        };
        let sql = format!("{INSERT_ASSET}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
        tx.exec(&sql, asset_insert_args(&asset, now)).await?;
        write_audit(
            &mut tx,
            now,
            Change::<(), Asset> {
                actor,
                action: "asset.create",
                entity_type: "asset",
                entity_id: id.to_string(),
                org_id: Some(asset.org_id),
                before: None,
                after: Some(&asset),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(asset)
    }

    pub(crate) async fn asset_get(&self, id: AssetId) -> StoreResult<Asset> {
        let row = self
            .db
            .opt(
                &format!("SELECT {ASSET_COLS} FROM assets WHERE id = $1"),
                args![id.0],
            )
            .await?;
        asset_from_row(&row.ok_or_else(|| StoreError::not_found("asset", id))?)
    }

    pub(crate) async fn asset_find(
        &self,
        kind: AssetKind,
        identity: &str,
        org: Option<OrgId>,
    ) -> StoreResult<Option<Asset>> {
        let identity =
            identity::normalize(kind, identity).map_err(|m| StoreError::invalid("identity", m))?;
        let row = if kind == AssetKind::System {
            let Some(org) = org else {
                return Err(StoreError::invalid(
                    "org_id",
                    "a system is found by its org and name",
                ));
            };
            self.db
                .opt(
                    &format!("SELECT {ASSET_COLS} FROM assets WHERE kind = 'system' AND org_id = $1 AND identity = $2"),
                    args![org.0, identity],
                )
                .await?
        } else {
            self.db
                .opt(
                    &format!("SELECT {ASSET_COLS} FROM assets WHERE kind = $1 AND identity = $2 AND kind <> 'system'"),
                    args![kind.as_str(), identity],
                )
                .await?
        };
        row.as_ref().map(asset_from_row).transpose()
    }

    pub(crate) async fn asset_update(
        &self,
        actor: &Actor,
        id: AssetId,
        patch: AssetPatch,
    ) -> StoreResult<Asset> {
        let mut tx = self.db.begin().await?;
        let before = asset_in_tx(&mut tx, id).await?;
        let mut asset = before.clone();
        patch.apply(&mut asset).map_err(StoreError::Invalid)?;
        if asset.org_id != before.org_id {
            require_org(&mut tx, asset.org_id).await?;
        }
        let now = now_ms();
        asset.updated_at = ts(now)?;
        asset_write_fields(&mut tx, &asset, now).await?;
        write_audit(
            &mut tx,
            now,
            Change {
                actor,
                action: "asset.update",
                entity_type: "asset",
                entity_id: id.to_string(),
                org_id: Some(asset.org_id),
                before: Some(&before),
                after: Some(&asset),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(asset)
    }

    pub(crate) async fn asset_delete(&self, actor: &Actor, id: AssetId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = asset_in_tx(&mut tx, id).await?;
        tx.exec("DELETE FROM assets WHERE id = $1", args![id.0])
            .await?;
        write_audit(
            &mut tx,
            now_ms(),
            Change::<Asset, ()> {
                actor,
                action: "asset.delete",
                entity_type: "asset",
                entity_id: id.to_string(),
                org_id: Some(before.org_id),
                before: Some(&before),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The FROM clause, id column and conditions of `f`, shared by the list and its count. With a tag
    /// the query walks `asset_tags` in `(tag, asset_id)` order, so a keyset page reads only its rows.
    async fn asset_query(
        &self,
        f: &AssetFilter,
        after: Option<i64>,
    ) -> StoreResult<(&'static str, &'static str, Where)> {
        let mut w = Where::default();
        let (from, id_col) = match f.tag.as_deref().map(str::trim) {
            Some(t) => {
                // exact, case-insensitive: `asset_tags` holds each tag trimmed and lower-cased
                w.push("t.tag = lower(?)", args![t]);
                if let Some(after) = after {
                    // the page is keyed on t.asset_id; saying it of assets.id too lets PostgreSQL's
                    // merge join start both sides at the cursor
                    w.push("assets.id > ?", args![after]);
                }
                (
                    "assets JOIN asset_tags t ON t.asset_id = assets.id",
                    "t.asset_id",
                )
            }
            None => ("assets", "id"),
        };
        if let Some(root) = f.within
            && let Some((lo, hi)) = self.subtree_unless_all(root).await?
        {
            // PostgreSQL: an array of the subtree's org ids probes assets_org_kind; as `IN (SELECT …)`
            // it would rather walk all assets in id order or hash them
            let cond = match self.db.backend() {
                Backend::Sqlite => {
                    "org_id IN (SELECT o.id FROM orgs o WHERE o.path >= ? AND o.path < ?)"
                }
                Backend::Postgres => {
                    "org_id = ANY(ARRAY(SELECT o.id FROM orgs o WHERE o.path >= ? AND o.path < ?))"
                }
            };
            w.push(cond, args![lo, hi]);
        }
        if let Some(o) = f.org {
            w.push("org_id = ?", args![o.0]);
        }
        if let Some(k) = f.kind {
            w.push("kind = ?", args![k.as_str()]);
        }
        if let Some(c) = f.critical_infrastructure {
            w.push("critical_infrastructure = ?", args![c]);
        }
        if let Some(l) = f.min_mlps_level {
            w.push("mlps_level >= ?", args![l as i64]);
        }
        if let Some(q) = f.q.as_deref().filter(|q| !q.is_empty()) {
            push_text_search(&mut w, self.db.backend(), q);
        }
        Ok((from, id_col, w))
    }

    pub(crate) async fn asset_list(
        &self,
        f: &AssetFilter,
        page: Page,
    ) -> StoreResult<Paged<Asset>> {
        let (from, id_col, mut w) = self.asset_query(f, page.after).await?;
        let tail = w.page(id_col, page);
        let sql = format!("SELECT {ASSET_COLS} FROM {from} {} {tail}", w.sql());
        let rows = self.db.all(&sql, w.args).await?;
        let items = rows
            .iter()
            .map(asset_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |a| a.id.0))
    }

    pub(crate) async fn asset_count(&self, f: &AssetFilter) -> StoreResult<u64> {
        let (from, _, w) = self.asset_query(f, None).await?;
        count_where(&self.db, from, w).await
    }

    pub(crate) async fn asset_attribution_entries(&self) -> StoreResult<Vec<AttributionEntry>> {
        let rows = self
            .db
            .all(
                "SELECT kind, identity, org_id, id FROM assets WHERE kind <> 'system'",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AttributionEntry {
                    kind: r
                        .text(0)?
                        .parse()
                        .map_err(|e| StoreError::Database(format!("{e}")))?,
                    identity: r.text(1)?,
                    org_id: OrgId(r.i64(2)?),
                    asset_id: AssetId(r.i64(3)?),
                })
            })
            .collect()
    }

    pub(crate) async fn software_add(
        &self,
        actor: &Actor,
        asset: AssetId,
        input: SoftwareInput,
    ) -> StoreResult<Software> {
        input.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.db.begin().await?;
        let owner = asset_in_tx(&mut tx, asset).await?;
        let id = SoftwareId(super::orgs::alloc_ids(&mut tx, "software", 1).await?[0]);
        let now = now_ms();
        let sw = Software {
            id,
            asset_id: asset,
            vendor: input.vendor.trim().to_owned(),
            product: input.product.trim().to_owned(),
            version: input.version.trim().to_owned(),
            cpe: input.cpe.filter(|c| !c.is_empty()),
            created_at: ts(now)?,
        };
        tx.exec(
            "INSERT INTO software (id, asset_id, vendor, product, version, cpe, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                id.0,
                asset.0,
                &sw.vendor,
                &sw.product,
                &sw.version,
                sw.cpe.clone(),
                now
            ],
        )
        .await?;
        write_audit(
            &mut tx,
            now,
            Change::<(), Software> {
                actor,
                action: "software.create",
                entity_type: "software",
                entity_id: id.to_string(),
                org_id: Some(owner.org_id),
                before: None,
                after: Some(&sw),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(sw)
    }

    pub(crate) async fn software_get(&self, id: SoftwareId) -> StoreResult<Software> {
        let row = self
            .db
            .opt(
                &format!("SELECT {SOFTWARE_COLS} FROM software WHERE id = $1"),
                args![id.0],
            )
            .await?;
        software_from_row(&row.ok_or_else(|| StoreError::not_found("software", id))?)
    }

    pub(crate) async fn software_delete(&self, actor: &Actor, id: SoftwareId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .opt(
                &format!("SELECT {SOFTWARE_COLS} FROM software WHERE id = $1"),
                args![id.0],
            )
            .await?;
        let sw = software_from_row(&row.ok_or_else(|| StoreError::not_found("software", id))?)?;
        let owner = asset_in_tx(&mut tx, sw.asset_id).await?;
        tx.exec("DELETE FROM software WHERE id = $1", args![id.0])
            .await?;
        write_audit(
            &mut tx,
            now_ms(),
            Change::<Software, ()> {
                actor,
                action: "software.delete",
                entity_type: "software",
                entity_id: id.to_string(),
                org_id: Some(owner.org_id),
                before: Some(&sw),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The conditions of `f` (shared by the list and its count).
    async fn software_where(&self, f: &SoftwareFilter) -> StoreResult<Where> {
        let mut w = Where::default();
        if let Some(root) = f.within {
            let (lo, hi) = self.subtree_of(root).await?;
            w.push(
                "asset_id IN (SELECT a.id FROM assets a JOIN orgs o ON o.id = a.org_id \
                 WHERE o.path >= ? AND o.path < ?)",
                args![lo, hi],
            );
        }
        if let Some(a) = f.asset {
            w.push("asset_id = ?", args![a.0]);
        }
        if let Some(v) = &f.vendor {
            w.push("lower(vendor) = ?", args![v.trim().to_lowercase()]);
        }
        if let Some(p) = &f.product {
            w.push("lower(product) = ?", args![p.trim().to_lowercase()]);
        }
        if let Some(c) = &f.cpe_prefix {
            w.push(
                "cpe LIKE ? ESCAPE '\\'",
                args![format!("{}%", like_escape(c))],
            );
        }
        Ok(w)
    }

    pub(crate) async fn software_list(
        &self,
        f: &SoftwareFilter,
        page: Page,
    ) -> StoreResult<Paged<Software>> {
        let mut w = self.software_where(f).await?;
        let tail = w.page("id", page);
        let sql = format!("SELECT {SOFTWARE_COLS} FROM software {} {tail}", w.sql());
        let rows = self.db.all(&sql, w.args).await?;
        let items = rows
            .iter()
            .map(software_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |s| s.id.0))
    }

    pub(crate) async fn software_count(&self, f: &SoftwareFilter) -> StoreResult<u64> {
        let w = self.software_where(f).await?;
        count_where(&self.db, "software", w).await
    }
}

/// Shortest query the trigram indexes answer; shorter ones are matched with LIKE.
const TRIGRAM: usize = 3;

/// Adds "identity or name contains `q`" (case-insensitive, `%` and `_` literal). SQLite: three or more
/// characters go through the FTS5 trigram table `asset_search`; PostgreSQL: the same LIKE either way,
/// answered by the pg_trgm GIN indexes on `lower(identity)` and `lower(name)` when `q` is long enough.
fn push_text_search(w: &mut Where, backend: Backend, q: &str) {
    if backend == Backend::Sqlite && q.chars().count() >= TRIGRAM {
        // one FTS5 phrase: the text between double quotes, with `"` doubled, is matched literally
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        w.push(
            "assets.id IN (SELECT rowid FROM asset_search WHERE asset_search MATCH ?)",
            args![phrase],
        );
    } else {
        let pat = format!("%{}%", like_escape(&q.to_lowercase()));
        w.push(
            "(lower(identity) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\')",
            args![pat.clone(), pat],
        );
    }
}
