//! Applying an import document in one transaction, and exporting a subtree as a document.
//!
//! Everything is checked before anything is written: a document with any problem changes nothing and
//! every problem is reported with file, line and field. Orgs match by code, assets by identity (systems
//! by owner and name); writes are multi-row batches so 100,000 assets import in seconds.

use super::SqlStore;
use super::assets::{INSERT_ASSET, asset_insert_args, asset_write_fields};
use super::batch::insert_batched;
use super::db::{Arg, Backend, args};
use super::now_ms;
use super::orgs::{INSERT_ORG, alloc_ids, org_insert_args, org_write_fields};
use super::rows::*;
use crate::error::{StoreError, StoreResult};
use crate::transfer::{AssetRecord, ImportProblem, ImportReport, OrgRecord, RegistryDocument};
use std::collections::{HashMap, HashSet};
use taishi_model::*;

fn audit_row(
    actor: &Actor,
    at: i64,
    action: &str,
    kind: &str,
    id: i64,
    org: OrgId,
    (before, after): (Option<String>, Option<String>),
) -> Vec<Arg> {
    args![
        at,
        actor.as_str(),
        action,
        kind,
        id.to_string(),
        org.0,
        before,
        after
    ]
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor, action, entity_type, entity_id, org_id, before, after) VALUES ";

/// The asset key import matches on.
#[derive(Hash, PartialEq, Eq, Clone, Debug)]
enum AssetKey {
    Net(AssetKind, String),
    System(OrgId, String),
}

fn key_of(a: &Asset) -> AssetKey {
    if a.kind == AssetKind::System {
        AssetKey::System(a.org_id, a.identity.clone())
    } else {
        AssetKey::Net(a.kind, a.identity.clone())
    }
}

fn check_org_record(r: &OrgRecord, problems: &mut Vec<ImportProblem>) {
    let input = OrgInput {
        parent_id: None,
        code: r.code.clone(),
        name: r.name.clone(),
        kind: r.kind,
        sector: r.sector,
        region_code: r.region_code.clone().filter(|c| !c.is_empty()),
        critical_infrastructure: r.critical_infrastructure,
        contacts: Contacts {
            principal: r.principal.clone(),
            security_officer: r.security_officer.clone(),
        },
        notes: r.notes.clone(),
    };
    if let Err(errs) = input.validate() {
        for e in errs {
            let field = e.field.replace("contacts.", "");
            problems.push(ImportProblem::at(&r.origin, &field, e.message));
        }
    }
}

/// A checked asset record: normalised input and the software it should end with.
struct PlannedAsset<'a> {
    rec: &'a AssetRecord,
    input: AssetInput,
}

/// Imports that create or change at least this many orgs and assets refresh PostgreSQL's statistics.
const ANALYZE_AFTER: u64 = 1000;

impl SqlStore {
    pub(crate) async fn registry_import(
        &self,
        actor: &Actor,
        doc: &RegistryDocument,
    ) -> StoreResult<ImportReport> {
        let report = self.registry_import_inner(actor, doc, false).await?;
        let changed = report.orgs_created
            + report.orgs_updated
            + report.assets_created
            + report.assets_updated;
        if changed >= ANALYZE_AFTER && self.db.backend() == Backend::Postgres {
            // Fresh planner statistics: autovacuum may take long to notice a bulk load, and until it
            // does PostgreSQL plans the trigram and tag lookups as if the tables were empty.
            self.db
                .exec("ANALYZE orgs, assets, asset_tags, software", vec![])
                .await?;
        }
        Ok(report)
    }

    /// Checks `doc` against the registry and, unless `dry_run`, applies it; a dry run rolls back.
    pub(crate) async fn registry_import_inner(
        &self,
        actor: &Actor,
        doc: &RegistryDocument,
        dry_run: bool,
    ) -> StoreResult<ImportReport> {
        let mut problems = Vec::new();
        let mut tx = self.db.begin().await?;

        // --- current state
        let rows = tx
            .all(&format!("SELECT {ORG_COLS} FROM orgs"), vec![])
            .await?;
        let mut orgs: HashMap<OrgId, Org> = HashMap::with_capacity(rows.len() + doc.orgs.len());
        let mut by_code: HashMap<String, OrgId> =
            HashMap::with_capacity(rows.len() + doc.orgs.len());
        for r in &rows {
            let o = org_from_row(r)?;
            by_code.insert(o.code.clone(), o.id);
            orgs.insert(o.id, o);
        }
        drop(rows);

        // --- check orgs
        let mut seen: HashMap<&str, &OrgRecord> = HashMap::new();
        for r in &doc.orgs {
            check_org_record(r, &mut problems);
            if let Some(first) = seen.insert(r.code.as_str(), r) {
                problems.push(ImportProblem::at(
                    &r.origin,
                    "code",
                    format!(
                        "code {:?} appears twice (also line {})",
                        r.code, first.origin.line
                    ),
                ));
            }
        }
        let new_codes: Vec<&str> = doc
            .orgs
            .iter()
            .map(|r| r.code.as_str())
            .filter(|c| !by_code.contains_key(*c))
            .collect();
        let new_ids = alloc_ids(&mut tx, "orgs", new_codes.len()).await?;
        let mut code_id: HashMap<&str, OrgId> =
            by_code.iter().map(|(c, i)| (c.as_str(), *i)).collect();
        for (c, id) in new_codes.iter().zip(&new_ids) {
            code_id.insert(c, OrgId(*id));
        }
        // final parent of every org: stored parent, overridden by the document
        let mut parent: HashMap<OrgId, Option<OrgId>> =
            orgs.values().map(|o| (o.id, o.parent_id)).collect();
        for r in &doc.orgs {
            let id = code_id[r.code.as_str()];
            let p = match r.parent.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                None => None,
                Some(pc) => match code_id.get(pc) {
                    Some(pid) => Some(*pid),
                    None => {
                        problems.push(ImportProblem::at(
                            &r.origin,
                            "parent",
                            format!("no org with code {pc:?} in the file or the registry"),
                        ));
                        None
                    }
                },
            };
            parent.insert(id, p);
        }
        // final paths, refusing cycles
        let mut paths: HashMap<OrgId, Vec<OrgId>> = HashMap::with_capacity(parent.len());
        let id_code: HashMap<OrgId, &str> = code_id.iter().map(|(c, i)| (*i, *c)).collect();
        let origin_of: HashMap<&str, &OrgRecord> =
            doc.orgs.iter().map(|r| (r.code.as_str(), r)).collect();
        for &start in parent.keys() {
            if paths.contains_key(&start) {
                continue;
            }
            let mut chain = vec![start];
            let mut cur = start;
            let mut cyclic = false;
            while let Some(Some(p)) = parent.get(&cur) {
                if let Some(base) = paths.get(p) {
                    let mut full = base.clone();
                    for id in chain.iter().rev() {
                        full.push(*id);
                        paths.insert(*id, full.clone());
                    }
                    chain.clear();
                    break;
                }
                if chain.contains(p) {
                    cyclic = true;
                    break;
                }
                chain.push(*p);
                cur = *p;
            }
            if cyclic {
                let code = id_code.get(&start).copied().unwrap_or("?");
                let origin = origin_of
                    .get(code)
                    .map(|r| r.origin.clone())
                    .unwrap_or_default();
                problems.push(ImportProblem::at(
                    &origin,
                    "parent",
                    format!("org {code:?} would become its own ancestor"),
                ));
                for id in chain {
                    paths.insert(id, vec![id]);
                }
                continue;
            }
            let mut full = Vec::new();
            for id in chain.iter().rev() {
                full.push(*id);
                paths.insert(*id, full.clone());
            }
        }

        // --- check assets
        let rows = tx
            .all(&format!("SELECT {ASSET_COLS} FROM assets"), vec![])
            .await?;
        let mut existing: HashMap<AssetKey, Asset> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let a = asset_from_row(r)?;
            existing.insert(key_of(&a), a);
        }
        drop(rows);
        let mut planned = Vec::with_capacity(doc.assets.len());
        let mut asset_seen: HashMap<AssetKey, u64> = HashMap::new();
        for rec in &doc.assets {
            let Some(&org_id) = code_id.get(rec.org.trim()) else {
                problems.push(ImportProblem::at(
                    &rec.origin,
                    "org",
                    format!("no org with code {:?}", rec.org),
                ));
                continue;
            };
            let mlps = match rec.mlps_level {
                None | Some(0) => None,
                Some(l) => match MlpsLevel::try_from(l) {
                    Ok(l) => Some(l),
                    Err(m) => {
                        problems.push(ImportProblem::at(&rec.origin, "mlps_level", m));
                        None
                    }
                },
            };
            let input = AssetInput {
                org_id,
                kind: rec.kind,
                identity: rec.identity.clone(),
                name: rec.name.clone(),
                tags: rec.tags.clone(),
                mlps_level: mlps,
                critical_infrastructure: rec.critical_infrastructure,
                notes: rec.notes.clone(),
            };
            let input = match input.normalized() {
                Ok(i) => i,
                Err(errs) => {
                    for e in errs {
                        problems.push(ImportProblem::at(&rec.origin, &e.field, e.message));
                    }
                    continue;
                }
            };
            for (i, sw) in rec.software.iter().flatten().enumerate() {
                if let Err(errs) = sw.validate() {
                    for e in errs {
                        problems.push(ImportProblem::at(
                            &rec.origin,
                            &format!("software[{}].{}", i + 1, e.field),
                            e.message,
                        ));
                    }
                }
            }
            let key = if input.kind == AssetKind::System {
                AssetKey::System(org_id, input.identity.clone())
            } else {
                AssetKey::Net(input.kind, input.identity.clone())
            };
            if let Some(line) = asset_seen.insert(key, rec.origin.line) {
                problems.push(ImportProblem::at(
                    &rec.origin,
                    "identity",
                    format!(
                        "{} {} appears twice (also line {line})",
                        input.kind, input.identity
                    ),
                ));
            }
            planned.push(PlannedAsset { rec, input });
        }
        if !problems.is_empty() {
            problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            return Err(StoreError::Rejected(problems));
        }
        if dry_run {
            return Ok(ImportReport::default());
        }

        // --- write orgs
        let now = now_ms();
        let mut report = ImportReport::default();
        let mut audit: Vec<Vec<Arg>> = Vec::new();
        let mut new_orgs = Vec::new();
        let mut updated_orgs = Vec::new();
        for r in &doc.orgs {
            let id = code_id[r.code.as_str()];
            let o = Org {
                id,
                parent_id: parent[&id],
                code: r.code.clone(),
                name: r.name.clone(),
                kind: r.kind,
                sector: r.sector,
                region_code: r.region_code.clone().filter(|c| !c.is_empty()),
                critical_infrastructure: r.critical_infrastructure,
                contacts: Contacts {
                    principal: r.principal.clone(),
                    security_officer: r.security_officer.clone(),
                },
                notes: r.notes.clone(),
                path: paths[&id].clone(),
                created_at: ts(now)?,
                updated_at: ts(now)?,
            };
            match orgs.get(&id) {
                None => new_orgs.push(o),
                Some(old) => {
                    let same = old.parent_id == o.parent_id
                        && old.name == o.name
                        && old.kind == o.kind
                        && old.sector == o.sector
                        && old.region_code == o.region_code
                        && old.critical_infrastructure == o.critical_infrastructure
                        && old.contacts == o.contacts
                        && old.notes == o.notes;
                    if same {
                        report.orgs_unchanged += 1;
                    } else {
                        let o = Org {
                            created_at: old.created_at,
                            ..o
                        };
                        updated_orgs.push((old.clone(), o));
                    }
                }
            }
        }
        new_orgs.sort_by_key(|o| o.path.len());
        report.orgs_created = new_orgs.len() as u64;
        report.orgs_updated = updated_orgs.len() as u64;
        for o in &new_orgs {
            audit.push(audit_row(
                actor,
                now,
                "org.create",
                "org",
                o.id.0,
                o.id,
                (None, Some(json_text(o))),
            ));
        }
        insert_batched(
            &mut tx,
            INSERT_ORG,
            13,
            new_orgs.iter().map(|o| org_insert_args(o, now)).collect(),
        )
        .await?;
        for (old, o) in &updated_orgs {
            org_write_fields(&mut tx, o, now).await?;
            tx.exec(
                "UPDATE orgs SET parent_id = $1 WHERE id = $2",
                args![o.parent_id.map(|p| p.0), o.id.0],
            )
            .await?;
            audit.push(audit_row(
                actor,
                now,
                "org.update",
                "org",
                o.id.0,
                o.id,
                (Some(json_text(old)), Some(json_text(o))),
            ));
        }
        // every stored org whose path changed because it or an ancestor moved
        for (id, old) in &orgs {
            if paths[id] != old.path {
                tx.exec(
                    "UPDATE orgs SET path = $1 WHERE id = $2",
                    args![path_text(&paths[id]), id.0],
                )
                .await?;
            }
        }

        // --- write assets
        let fresh: Vec<&PlannedAsset<'_>> = planned
            .iter()
            .filter(|p| !existing.contains_key(&input_key(&p.input)))
            .collect();
        let asset_ids = alloc_ids(&mut tx, "assets", fresh.len()).await?;
        let mut new_assets = Vec::with_capacity(fresh.len());
        let mut software_rows: Vec<Vec<Arg>> = Vec::new();
        let sw_ids_needed: usize = planned
            .iter()
            .map(|p| p.rec.software.as_ref().map_or(0, Vec::len))
            .sum();
        let sw_ids = alloc_ids(&mut tx, "software", sw_ids_needed).await?;
        let mut sw_iter = sw_ids.into_iter();
        let mut push_software =
            |asset: AssetId, list: &[SoftwareInput], rows: &mut Vec<Vec<Arg>>| {
                for s in list {
                    let id = sw_iter.next().unwrap_or_default();
                    rows.push(args![
                        id,
                        asset.0,
                        s.vendor.trim(),
                        s.product.trim(),
                        s.version.trim(),
                        s.cpe.clone().filter(|c| !c.is_empty()),
                        now
                    ]);
                }
            };
        for (p, id) in fresh.iter().zip(&asset_ids) {
            let a = asset_of(&p.input, AssetId(*id), now)?;
            audit.push(audit_row(
                actor,
                now,
                "asset.create",
                "asset",
                a.id.0,
                a.org_id,
                (None, Some(json_text(&a))),
            ));
            if let Some(list) = &p.rec.software {
                push_software(a.id, list, &mut software_rows);
            }
            new_assets.push(a);
        }
        report.assets_created = new_assets.len() as u64;
        insert_batched(
            &mut tx,
            INSERT_ASSET,
            11,
            new_assets
                .iter()
                .map(|a| asset_insert_args(a, now))
                .collect(),
        )
        .await?;

        let old_software = if planned
            .iter()
            .any(|p| p.rec.software.is_some() && existing.contains_key(&input_key(&p.input)))
        {
            let rows = tx
                .all(
                    &format!("SELECT {SOFTWARE_COLS} FROM software ORDER BY id"),
                    vec![],
                )
                .await?;
            let mut m: HashMap<AssetId, Vec<Software>> = HashMap::new();
            for r in &rows {
                let s = software_from_row(r)?;
                m.entry(s.asset_id).or_default().push(s);
            }
            m
        } else {
            HashMap::new()
        };
        let mut replace_software: HashSet<AssetId> = HashSet::new();
        for p in &planned {
            let Some(old) = existing.get(&input_key(&p.input)) else {
                continue;
            };
            let want = asset_of(&p.input, old.id, now)?;
            let fields_same = old.org_id == want.org_id
                && old.name == want.name
                && old.tags == want.tags
                && old.mlps_level == want.mlps_level
                && old.critical_infrastructure == want.critical_infrastructure
                && old.notes == want.notes;
            let sw_same = match &p.rec.software {
                None => true,
                Some(list) => {
                    let have: Vec<(&str, &str, &str, Option<&str>)> = old_software
                        .get(&old.id)
                        .map(|v| {
                            v.iter()
                                .map(|s| {
                                    (
                                        s.vendor.as_str(),
                                        s.product.as_str(),
                                        s.version.as_str(),
                                        s.cpe.as_deref(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let want: Vec<(&str, &str, &str, Option<&str>)> = list
                        .iter()
                        .map(|s| {
                            (
                                s.vendor.trim(),
                                s.product.trim(),
                                s.version.trim(),
                                s.cpe.as_deref().filter(|c| !c.is_empty()),
                            )
                        })
                        .collect();
                    have == want
                }
            };
            if fields_same && sw_same {
                report.assets_unchanged += 1;
                continue;
            }
            report.assets_updated += 1;
            let want = Asset {
                created_at: old.created_at,
                ..want
            };
            if !fields_same {
                asset_write_fields(&mut tx, &want, now).await?;
            }
            if !sw_same && let Some(list) = &p.rec.software {
                replace_software.insert(old.id);
                push_software(old.id, list, &mut software_rows);
            }
            audit.push(audit_row(
                actor,
                now,
                "asset.update",
                "asset",
                old.id.0,
                want.org_id,
                (Some(json_text(old)), Some(json_text(&want))),
            ));
        }
        for id in &replace_software {
            tx.exec("DELETE FROM software WHERE asset_id = $1", args![id.0])
                .await?;
        }
        insert_batched(
            &mut tx,
            "INSERT INTO software (id, asset_id, vendor, product, version, cpe, created_at) VALUES ",
            7,
            software_rows,
        )
        .await?;

        let summary = serde_json::to_string(&report).unwrap_or_default();
        audit.push(args![
            now,
            actor.as_str(),
            "registry.import",
            "registry",
            "import",
            Option::<i64>::None,
            Option::<String>::None,
            Some(summary)
        ]);
        insert_batched(&mut tx, INSERT_AUDIT, 8, audit).await?;
        tx.commit().await?;
        Ok(report)
    }
}

fn input_key(i: &AssetInput) -> AssetKey {
    if i.kind == AssetKind::System {
        AssetKey::System(i.org_id, i.identity.clone())
    } else {
        AssetKey::Net(i.kind, i.identity.clone())
    }
}

fn asset_of(i: &AssetInput, id: AssetId, now: i64) -> StoreResult<Asset> {
    Ok(Asset {
        id,
        org_id: i.org_id,
        kind: i.kind,
        identity: i.identity.clone(),
        name: i.name.clone(),
        tags: i.tags.clone(),
        mlps_level: i.mlps_level,
        critical_infrastructure: i.critical_infrastructure,
        notes: i.notes.clone(),
        created_at: ts(now)?,
        updated_at: ts(now)?,
    })
}
