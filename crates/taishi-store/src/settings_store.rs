//! Settings an administrator changes at run time (the loop's deadline policy, the indicator system,
//! the notification channels): the [`SettingsStore`] part of [`crate::Store`]. Each setting is a text
//! document under a key (`loop_policy`, …) with who saved it and when; the SQL is in `sql/settings.rs`,
//! the tables in migration 0103.
//!
//! A setting may hold secrets (webhook tokens, an SMTP password), so every write also takes the
//! *shown* form of the value — the caller's redacted rendering — and the audit log records the shown
//! form before and after, never the secret.

use crate::error::StoreResult;
use async_trait::async_trait;
use jiff::Timestamp;
use taishi_model::{Actor, OrgId};

/// A stored setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSetting {
    /// The key (`loop_policy`, `loop_indicators`, `loop_channels`).
    pub key: String,
    /// The document, as saved (may hold secrets).
    pub value: String,
    /// The value with its secrets redacted: what the audit log and pages show.
    pub shown: String,
    /// When it was saved.
    pub updated_at: Timestamp,
    /// Who saved it.
    pub updated_by: String,
}

/// One change to a setting, with the scope its audit line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange<'a> {
    /// The key.
    pub key: &'a str,
    /// The new document (`None`: delete it, so the configuration file applies again).
    pub value: Option<&'a str>,
    /// The new document with secrets redacted (ignored when deleting).
    pub shown: &'a str,
    /// The org whose audit log gets the line (the admin's scope).
    pub org: Option<OrgId>,
}

/// Run-time settings, each change audited (shown form before and after) in the same transaction.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The setting under `key`, if one was saved.
    async fn get_setting(&self, key: &str) -> StoreResult<Option<StoredSetting>>;
    /// Every saved setting, by key.
    async fn list_settings(&self) -> StoreResult<Vec<StoredSetting>>;
    /// Saves or deletes a setting and appends the audit line `setting.put` / `setting.delete`.
    /// Returns the setting as now stored (`None` after a delete).
    async fn put_setting(
        &self,
        actor: &Actor,
        change: SettingChange<'_>,
    ) -> StoreResult<Option<StoredSetting>>;
}
