//! Column lists, row decoding and small shared helpers (paths, paging, audit writing).

use super::db::{Arg, Db, Row, Tx, args};
use crate::error::{StoreError, StoreResult};
use jiff::Timestamp;
use serde::Serialize;
use taishi_model::*;

pub(crate) const ORG_COLS: &str = "id, parent_id, path, code, name, kind, sector, region_code, \
     critical_infrastructure, contacts, notes, created_at, updated_at";
pub(crate) const ASSET_COLS: &str = "id, org_id, kind, identity, name, tags, mlps_level, \
     critical_infrastructure, notes, created_at, updated_at";
pub(crate) const SOFTWARE_COLS: &str = "id, asset_id, vendor, product, version, cpe, created_at";
pub(crate) const USER_COLS: &str =
    "id, name, display_name, role, org_id, disabled, created_at, updated_at, last_login_at";
pub(crate) const TOKEN_COLS: &str =
    "id, name, prefix, role, org_id, created_by, created_at, last_used_at, revoked_at";
pub(crate) const AUDIT_COLS: &str =
    "id, at, actor, action, entity_type, entity_id, org_id, before, after";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is unreadable: {e}"))
}

pub(crate) fn ts(ms: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| corrupt("time", e))
}

fn word<T: std::str::FromStr>(s: &str, what: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| corrupt(what, e))
}

/// `/1/5/23/` for the ids root first.
pub(crate) fn path_text(ids: &[OrgId]) -> String {
    let mut s = String::from("/");
    for id in ids {
        s.push_str(&id.0.to_string());
        s.push('/');
    }
    s
}

pub(crate) fn parse_path(p: &str) -> StoreResult<Vec<OrgId>> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map(OrgId)
                .map_err(|e| corrupt("org path", e))
        })
        .collect()
}

/// The half-open range of `path` values inside the subtree whose root has `path`: every descendant's
/// path starts with it, and `'0'` is the character after `'/'`.
pub(crate) fn subtree_range(path: &str) -> (String, String) {
    let mut upper = path[..path.len() - 1].to_owned();
    upper.push('0');
    (path.to_owned(), upper)
}

pub(crate) fn org_from_row(r: &Row) -> StoreResult<Org> {
    let contacts: Contacts =
        serde_json::from_str(&r.text(9)?).map_err(|e| corrupt("contacts", e))?;
    Ok(Org {
        id: OrgId(r.i64(0)?),
        parent_id: r.opt_i64(1)?.map(OrgId),
        path: parse_path(&r.text(2)?)?,
        code: r.text(3)?,
        name: r.text(4)?,
        kind: word(&r.text(5)?, "org kind")?,
        sector: word(&r.text(6)?, "sector")?,
        region_code: r.opt_text(7)?,
        critical_infrastructure: r.bool(8)?,
        contacts,
        notes: r.text(10)?,
        created_at: ts(r.i64(11)?)?,
        updated_at: ts(r.i64(12)?)?,
    })
}

pub(crate) fn asset_from_row(r: &Row) -> StoreResult<Asset> {
    let tags: Vec<String> = serde_json::from_str(&r.text(5)?).map_err(|e| corrupt("tags", e))?;
    let mlps = match r.opt_i64(6)? {
        Some(l) => Some(
            u8::try_from(l)
                .map_err(|e| corrupt("protection level", e))
                .and_then(|l| MlpsLevel::try_from(l).map_err(|e| corrupt("protection level", e)))?,
        ),
        None => None,
    };
    Ok(Asset {
        id: AssetId(r.i64(0)?),
        org_id: OrgId(r.i64(1)?),
        kind: word(&r.text(2)?, "asset kind")?,
        identity: r.text(3)?,
        name: r.text(4)?,
        tags,
        mlps_level: mlps,
        critical_infrastructure: r.bool(7)?,
        notes: r.text(8)?,
        created_at: ts(r.i64(9)?)?,
        updated_at: ts(r.i64(10)?)?,
    })
}

pub(crate) fn software_from_row(r: &Row) -> StoreResult<Software> {
    Ok(Software {
        id: SoftwareId(r.i64(0)?),
        asset_id: AssetId(r.i64(1)?),
        vendor: r.text(2)?,
        product: r.text(3)?,
        version: r.text(4)?,
        cpe: r.opt_text(5)?,
        created_at: ts(r.i64(6)?)?,
    })
}

pub(crate) fn user_from_row(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: UserId(r.i64(0)?),
        name: r.text(1)?,
        display_name: r.text(2)?,
        role: word(&r.text(3)?, "role")?,
        org_id: OrgId(r.i64(4)?),
        disabled: r.bool(5)?,
        created_at: ts(r.i64(6)?)?,
        updated_at: ts(r.i64(7)?)?,
        last_login_at: r.opt_i64(8)?.map(ts).transpose()?,
    })
}

pub(crate) fn token_from_row(r: &Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: TokenId(r.i64(0)?),
        name: r.text(1)?,
        prefix: r.text(2)?,
        role: word(&r.text(3)?, "role")?,
        org_id: OrgId(r.i64(4)?),
        created_by: r.opt_i64(5)?.map(UserId),
        created_at: ts(r.i64(6)?)?,
        last_used_at: r.opt_i64(7)?.map(ts).transpose()?,
        revoked_at: r.opt_i64(8)?.map(ts).transpose()?,
    })
}

pub(crate) fn audit_from_row(r: &Row) -> StoreResult<AuditEntry> {
    let json = |t: Option<String>| -> StoreResult<Option<serde_json::Value>> {
        t.map(|t| serde_json::from_str(&t).map_err(|e| corrupt("audit state", e)))
            .transpose()
    };
    Ok(AuditEntry {
        id: AuditId(r.i64(0)?),
        at: ts(r.i64(1)?)?,
        actor: Actor::from_stored(r.text(2)?),
        action: r.text(3)?,
        entity_type: r.text(4)?,
        entity_id: r.text(5)?,
        org_id: r.opt_i64(6)?.map(OrgId),
        before: json(r.opt_text(7)?)?,
        after: json(r.opt_text(8)?)?,
    })
}

/// JSON text of a value for a TEXT column.
pub(crate) fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// One audit record, written inside the caller's transaction.
pub(crate) struct Change<'a, B: Serialize, A: Serialize> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub org_id: Option<OrgId>,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

pub(crate) async fn write_audit<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    at: i64,
    c: Change<'_, B, A>,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO audit_log (at, actor, action, entity_type, entity_id, org_id, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            at,
            c.actor.as_str(),
            c.action,
            c.entity_type,
            c.entity_id,
            c.org_id.map(|o| o.0),
            c.before.map(json_text),
            c.after.map(json_text)
        ],
    )
    .await?;
    Ok(())
}

/// Builds the WHERE clause of a list query: conditions joined by AND, `$n` numbered as pushed.
#[derive(Default)]
pub(crate) struct Where {
    conds: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Adds a condition; `?` in `cond` is replaced by the next `$n` for each argument, in order.
    pub(crate) fn push(&mut self, cond: &str, vals: Vec<Arg>) {
        let mut out = String::new();
        let mut vals = vals.into_iter();
        for ch in cond.chars() {
            if ch == '?' {
                let v = vals.next().expect("placeholder without value");
                self.args.push(v);
                out.push_str(&format!("${}", self.args.len()));
            } else {
                out.push(ch);
            }
        }
        self.conds.push(out);
    }

    pub(crate) fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conds.join(" AND "))
        }
    }

    /// Adds keyset paging on `id_col` and returns the `ORDER BY … LIMIT` tail; fetches one extra row
    /// to know whether a next page exists.
    pub(crate) fn page(&mut self, id_col: &str, page: Page) -> String {
        if let Some(after) = page.after {
            self.push(&format!("{id_col} > ?"), args![after]);
        }
        format!(
            "ORDER BY {id_col} LIMIT {}",
            page.clamped_limit() as u64 + 1
        )
    }
}

/// `SELECT COUNT(*) FROM {from}` under the conditions of `w`: the total a list with the same filter has.
pub(crate) async fn count_where(db: &Db, from: &str, w: Where) -> StoreResult<u64> {
    let sql = format!("SELECT COUNT(*) FROM {from} {}", w.sql());
    let row = db.opt(&sql, w.args).await?;
    Ok(row.map(|r| r.i64(0)).transpose()?.unwrap_or(0).max(0) as u64)
}

/// Cuts the extra row fetched by [`Where::page`] and computes the next cursor.
pub(crate) fn paged<T>(mut items: Vec<T>, page: Page, id: impl Fn(&T) -> i64) -> Paged<T> {
    let limit = page.clamped_limit() as usize;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&id)
    } else {
        None
    };
    Paged { items, next }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}
