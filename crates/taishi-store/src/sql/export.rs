//! Exporting a subtree (or everything) as an import document, parents before children.

use super::SqlStore;
use super::db::args;
use super::rows::*;
use crate::error::StoreResult;
use crate::transfer::{AssetRecord, OrgRecord, RegistryDocument};
use std::collections::HashMap;
use taishi_model::*;

impl SqlStore {
    pub(crate) async fn registry_export(
        &self,
        root: Option<OrgId>,
    ) -> StoreResult<RegistryDocument> {
        let (cond, a) = match root {
            Some(r) => {
                let (lo, hi) = self.subtree_of(r).await?;
                ("WHERE path >= $1 AND path < $2", args![lo, hi])
            }
            None => ("", vec![]),
        };
        let rows = self
            .db
            .all(&format!("SELECT {ORG_COLS} FROM orgs {cond}"), a.clone())
            .await?;
        let mut orgs = rows
            .iter()
            .map(org_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        orgs.sort_by_key(|o| (o.path.len(), o.id));
        // parents outside the exported subtree are named too, so re-import puts the root back in place
        let mut code: HashMap<OrgId, String> =
            orgs.iter().map(|o| (o.id, o.code.clone())).collect();
        for o in &orgs {
            if let Some(p) = o.parent_id
                && !code.contains_key(&p)
            {
                let parent = self.org_get(p).await?;
                code.insert(p, parent.code);
            }
        }
        let in_scope = if root.is_some() {
            "WHERE org_id IN (SELECT id FROM orgs WHERE path >= $1 AND path < $2)"
        } else {
            ""
        };
        let rows = self
            .db
            .all(
                &format!("SELECT {ASSET_COLS} FROM assets {in_scope} ORDER BY id"),
                a.clone(),
            )
            .await?;
        let assets = rows
            .iter()
            .map(asset_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let sw_scope = if root.is_some() {
            "WHERE asset_id IN (SELECT a.id FROM assets a JOIN orgs o ON o.id = a.org_id WHERE o.path >= $1 AND o.path < $2)"
        } else {
            ""
        };
        let rows = self
            .db
            .all(
                &format!("SELECT {SOFTWARE_COLS} FROM software {sw_scope} ORDER BY id"),
                a,
            )
            .await?;
        let mut software: HashMap<AssetId, Vec<SoftwareInput>> = HashMap::new();
        for r in &rows {
            let s = software_from_row(r)?;
            software.entry(s.asset_id).or_default().push(SoftwareInput {
                vendor: s.vendor,
                product: s.product,
                version: s.version,
                cpe: s.cpe,
            });
        }
        Ok(RegistryDocument {
            version: 1,
            orgs: orgs
                .into_iter()
                .map(|o| OrgRecord {
                    parent: o.parent_id.and_then(|p| code.get(&p).cloned()),
                    code: o.code,
                    name: o.name,
                    kind: o.kind,
                    sector: o.sector,
                    region_code: o.region_code,
                    critical_infrastructure: o.critical_infrastructure,
                    principal: o.contacts.principal,
                    security_officer: o.contacts.security_officer,
                    notes: o.notes,
                    origin: Default::default(),
                })
                .collect(),
            assets: assets
                .into_iter()
                .map(|a| AssetRecord {
                    org: code.get(&a.org_id).cloned().unwrap_or_default(),
                    kind: a.kind,
                    software: Some(software.remove(&a.id).unwrap_or_default()),
                    identity: a.identity,
                    name: a.name,
                    tags: a.tags,
                    mlps_level: a.mlps_level.map(|l| l.get()),
                    critical_infrastructure: a.critical_infrastructure,
                    notes: a.notes,
                    origin: Default::default(),
                })
                .collect(),
        })
    }
}
