//! SQL of [`SettingsStore`]: one row per key in `settings` (migration 0103).

use super::SqlStore;
use super::db::{Row, args};
use super::now_ms;
use super::rows::{Change, ts, write_audit};
use crate::error::{StoreError, StoreResult};
use crate::settings_store::{SettingChange, SettingsStore, StoredSetting};
use async_trait::async_trait;
use taishi_model::Actor;

const COLUMNS: &str = "key, value, shown, updated_at, updated_by";

fn setting_from_row(r: &Row) -> StoreResult<StoredSetting> {
    Ok(StoredSetting {
        key: r.text(0)?,
        value: r.text(1)?,
        shown: r.text(2)?,
        updated_at: ts(r.i64(3)?)?,
        updated_by: r.text(4)?,
    })
}

fn check_key(key: &str) -> StoreResult<()> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "key",
            "a setting key is 1–100 characters of a–z, 0–9, '.', '_' or '-'",
        ))
    }
}

#[async_trait]
impl SettingsStore for SqlStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<StoredSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM settings WHERE key = $1");
        self.db
            .opt(&sql, args![key])
            .await?
            .as_ref()
            .map(setting_from_row)
            .transpose()
    }

    async fn list_settings(&self) -> StoreResult<Vec<StoredSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM settings ORDER BY key");
        self.db
            .all(&sql, args![])
            .await?
            .iter()
            .map(setting_from_row)
            .collect()
    }

    async fn put_setting(
        &self,
        actor: &Actor,
        change: SettingChange<'_>,
    ) -> StoreResult<Option<StoredSetting>> {
        check_key(change.key)?;
        let at = now_ms();
        let mut tx = self.db.begin().await?;
        let sql = format!("SELECT {COLUMNS} FROM settings WHERE key = $1");
        let before = tx
            .opt(&sql, args![change.key])
            .await?
            .as_ref()
            .map(setting_from_row)
            .transpose()?;
        let shown_before = before
            .as_ref()
            .map(|b| serde_json::json!({ "value": b.shown }));
        let after = match change.value {
            Some(value) => {
                tx.exec(
                    "INSERT INTO settings (key, value, shown, updated_at, updated_by) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET \
                     value = excluded.value, shown = excluded.shown, \
                     updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                    args![change.key, value, change.shown, at, actor.as_str()],
                )
                .await?;
                Some(StoredSetting {
                    key: change.key.to_owned(),
                    value: value.to_owned(),
                    shown: change.shown.to_owned(),
                    updated_at: ts(at)?,
                    updated_by: actor.as_str().to_owned(),
                })
            }
            None => {
                let n = tx
                    .exec("DELETE FROM settings WHERE key = $1", args![change.key])
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "setting",
                        key: change.key.to_owned(),
                    });
                }
                None
            }
        };
        let shown_after = after
            .as_ref()
            .map(|a| serde_json::json!({ "value": a.shown }));
        write_audit(
            &mut tx,
            at,
            Change {
                actor,
                action: if after.is_some() {
                    "setting.put"
                } else {
                    "setting.delete"
                },
                entity_type: "setting",
                entity_id: change.key.to_owned(),
                org_id: change.org,
                before: shown_before.as_ref(),
                after: shown_after.as_ref(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
