//! Users, sessions and API tokens.

use super::SqlStore;
use super::db::{Tx, args};
use super::now_ms;
use super::rows::*;
use crate::error::{StoreError, StoreResult};
use jiff::Timestamp;
use taishi_model::*;

async fn user_in_tx(tx: &mut Tx, id: UserId) -> StoreResult<User> {
    let row = tx
        .opt(
            &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
            args![id.0],
        )
        .await?;
    user_from_row(&row.ok_or_else(|| StoreError::not_found("user", id))?)
}

async fn token_in_tx(tx: &mut Tx, id: TokenId) -> StoreResult<ApiToken> {
    let row = tx
        .opt(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"),
            args![id.0],
        )
        .await?;
    token_from_row(&row.ok_or_else(|| StoreError::not_found("token", id))?)
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

fn scope(w: &mut Where, range: Option<(String, String)>) {
    if let Some((lo, hi)) = range {
        w.push(
            "org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)",
            args![lo, hi],
        );
    }
}

impl SqlStore {
    pub(crate) async fn user_create(&self, actor: &Actor, u: NewUser) -> StoreResult<User> {
        u.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.db.begin().await?;
        require_org(&mut tx, u.org_id).await?;
        if tx
            .opt("SELECT 1 FROM users WHERE name = $1", args![&u.name])
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "user name {:?} is taken",
                u.name
            )));
        }
        let id = UserId(super::orgs::alloc_ids(&mut tx, "users", 1).await?[0]);
        let now = now_ms();
        let display = if u.display_name.trim().is_empty() {
            u.name.clone()
        } else {
            u.display_name.clone()
        };
        tx.exec(
            "INSERT INTO users (id, name, display_name, role, org_id, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            args![id.0, &u.name, display, u.role.as_str(), u.org_id.0, &u.password_hash, false, now, now],
        )
        .await?;
        let user = user_in_tx(&mut tx, id).await?;
        write_audit(
            &mut tx,
            now,
            Change::<(), User> {
                actor,
                action: "user.create",
                entity_type: "user",
                entity_id: id.to_string(),
                org_id: Some(user.org_id),
                before: None,
                after: Some(&user),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub(crate) async fn user_get(&self, id: UserId) -> StoreResult<User> {
        let row = self
            .db
            .opt(
                &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
                args![id.0],
            )
            .await?;
        user_from_row(&row.ok_or_else(|| StoreError::not_found("user", id))?)
    }

    pub(crate) async fn user_credentials_by_name(
        &self,
        name: &str,
    ) -> StoreResult<Option<(User, String)>> {
        let row = self
            .db
            .opt(
                &format!("SELECT {USER_COLS}, password_hash FROM users WHERE name = $1"),
                args![name],
            )
            .await?;
        match row {
            Some(r) => Ok(Some((user_from_row(&r)?, r.text(9)?))),
            None => Ok(None),
        }
    }

    pub(crate) async fn user_update(
        &self,
        actor: &Actor,
        id: UserId,
        p: UserPatch,
    ) -> StoreResult<User> {
        let mut tx = self.db.begin().await?;
        let before = user_in_tx(&mut tx, id).await?;
        let mut u = before.clone();
        if let Some(d) = &p.display_name {
            let mut e = validate::Errors::default();
            validate::check_name(&mut e, "display_name", d, 100);
            e.finish().map_err(StoreError::Invalid)?;
            u.display_name.clone_from(d);
        }
        if let Some(r) = p.role {
            u.role = r;
        }
        if let Some(o) = p.org_id {
            require_org(&mut tx, o).await?;
            u.org_id = o;
        }
        if let Some(d) = p.disabled {
            u.disabled = d;
        }
        let now = now_ms();
        tx.exec(
            "UPDATE users SET display_name = $1, role = $2, org_id = $3, disabled = $4, updated_at = $5 WHERE id = $6",
            args![&u.display_name, u.role.as_str(), u.org_id.0, u.disabled, now, id.0],
        )
        .await?;
        if u.disabled || u.role != before.role || u.org_id != before.org_id {
            // privileges changed: existing sessions must log in again
            tx.exec("DELETE FROM sessions WHERE user_id = $1", args![id.0])
                .await?;
        }
        let after = user_in_tx(&mut tx, id).await?;
        write_audit(
            &mut tx,
            now,
            Change {
                actor,
                action: "user.update",
                entity_type: "user",
                entity_id: id.to_string(),
                org_id: Some(after.org_id),
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn user_set_password(
        &self,
        actor: &Actor,
        id: UserId,
        hash: &str,
    ) -> StoreResult<()> {
        if !hash.starts_with('$') {
            return Err(StoreError::invalid("password_hash", "must be a PHC string"));
        }
        let mut tx = self.db.begin().await?;
        let u = user_in_tx(&mut tx, id).await?;
        let now = now_ms();
        tx.exec(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
            args![hash, now, id.0],
        )
        .await?;
        tx.exec("DELETE FROM sessions WHERE user_id = $1", args![id.0])
            .await?;
        write_audit(
            &mut tx,
            now,
            Change::<(), ()> {
                actor,
                action: "user.set_password",
                entity_type: "user",
                entity_id: id.to_string(),
                org_id: Some(u.org_id),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    pub(crate) async fn user_record_login(&self, id: UserId, at: Timestamp) -> StoreResult<()> {
        let n = self
            .db
            .exec(
                "UPDATE users SET last_login_at = $1 WHERE id = $2",
                args![at.as_millisecond(), id.0],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::not_found("user", id));
        }
        Ok(())
    }

    pub(crate) async fn user_delete(&self, actor: &Actor, id: UserId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = user_in_tx(&mut tx, id).await?;
        tx.exec("DELETE FROM api_tokens WHERE created_by = $1", args![id.0])
            .await?;
        tx.exec("DELETE FROM users WHERE id = $1", args![id.0])
            .await?;
        write_audit(
            &mut tx,
            now_ms(),
            Change::<User, ()> {
                actor,
                action: "user.delete",
                entity_type: "user",
                entity_id: id.to_string(),
                org_id: Some(before.org_id),
                before: Some(&before),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The conditions of `f` (shared by the list and its count).
    async fn user_where(&self, f: &UserFilter) -> StoreResult<Where> {
        let mut w = Where::default();
        scope(
            &mut w,
            match f.within {
                Some(r) => Some(self.subtree_of(r).await?),
                None => None,
            },
        );
        if let Some(r) = f.role {
            w.push("role = ?", args![r.as_str()]);
        }
        Ok(w)
    }

    pub(crate) async fn user_list(&self, f: &UserFilter, page: Page) -> StoreResult<Paged<User>> {
        let mut w = self.user_where(f).await?;
        let tail = w.page("id", page);
        let rows = self
            .db
            .all(
                &format!("SELECT {USER_COLS} FROM users {} {tail}", w.sql()),
                w.args,
            )
            .await?;
        let items = rows
            .iter()
            .map(user_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |u| u.id.0))
    }

    pub(crate) async fn user_count_matching(&self, f: &UserFilter) -> StoreResult<u64> {
        let w = self.user_where(f).await?;
        count_where(&self.db, "users", w).await
    }

    pub(crate) async fn user_count(&self) -> StoreResult<u64> {
        let r = self.db.opt("SELECT COUNT(*) FROM users", vec![]).await?;
        Ok(r.map(|r| r.i64(0)).transpose()?.unwrap_or(0) as u64)
    }

    pub(crate) async fn session_create(&self, s: &Session) -> StoreResult<()> {
        self.db
            .exec(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                args![&s.token_hash, s.user_id.0, s.created_at.as_millisecond(), s.expires_at.as_millisecond()],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn session_get(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Session, User)>> {
        let cols = USER_COLS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .db
            .opt(
                &format!(
                    "SELECT {cols}, s.created_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
                ),
                args![hash, now.as_millisecond()],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row(&r)?;
        let session = Session {
            token_hash: hash.to_owned(),
            user_id: user.id,
            created_at: ts(r.i64(9)?)?,
            expires_at: ts(r.i64(10)?)?,
        };
        Ok(Some((session, user)))
    }

    pub(crate) async fn session_delete(&self, hash: &str) -> StoreResult<()> {
        self.db
            .exec("DELETE FROM sessions WHERE token_hash = $1", args![hash])
            .await?;
        Ok(())
    }

    pub(crate) async fn session_purge(&self, now: Timestamp) -> StoreResult<u64> {
        self.db
            .exec(
                "DELETE FROM sessions WHERE expires_at <= $1",
                args![now.as_millisecond()],
            )
            .await
    }

    pub(crate) async fn token_create(
        &self,
        actor: &Actor,
        t: NewApiToken,
    ) -> StoreResult<ApiToken> {
        let mut e = validate::Errors::default();
        validate::check_name(&mut e, "name", &t.name, 100);
        if t.token_hash.len() < 32 {
            e.add("token_hash", "must be a hex digest");
        }
        e.finish().map_err(StoreError::Invalid)?;
        let mut tx = self.db.begin().await?;
        require_org(&mut tx, t.org_id).await?;
        let id = TokenId(super::orgs::alloc_ids(&mut tx, "api_tokens", 1).await?[0]);
        let now = now_ms();
        tx.exec(
            "INSERT INTO api_tokens (id, name, prefix, token_hash, role, org_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![id.0, &t.name, &t.prefix, &t.token_hash, t.role.as_str(), t.org_id.0, t.created_by.map(|u| u.0), now],
        )
        .await?;
        let token = token_in_tx(&mut tx, id).await?;
        write_audit(
            &mut tx,
            now,
            Change::<(), ApiToken> {
                actor,
                action: "token.create",
                entity_type: "token",
                entity_id: id.to_string(),
                org_id: Some(token.org_id),
                before: None,
                after: Some(&token),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    pub(crate) async fn token_find(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let row = self
            .db
            .opt(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"), args![hash])
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub(crate) async fn token_get(&self, id: TokenId) -> StoreResult<ApiToken> {
        let row = self
            .db
            .opt(
                &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"),
                args![id.0],
            )
            .await?;
        token_from_row(&row.ok_or_else(|| StoreError::not_found("token", id))?)
    }

    pub(crate) async fn token_touch(&self, id: TokenId, at: Timestamp) -> StoreResult<()> {
        self.db
            .exec(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
                args![at.as_millisecond(), id.0],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn token_revoke(&self, actor: &Actor, id: TokenId) -> StoreResult<ApiToken> {
        let mut tx = self.db.begin().await?;
        let before = token_in_tx(&mut tx, id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let now = now_ms();
        tx.exec(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2",
            args![now, id.0],
        )
        .await?;
        let after = token_in_tx(&mut tx, id).await?;
        write_audit(
            &mut tx,
            now,
            Change {
                actor,
                action: "token.revoke",
                entity_type: "token",
                entity_id: id.to_string(),
                org_id: Some(after.org_id),
                before: Some(&before),
                after: Some(&after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The conditions of `f` (shared by the list and its count).
    async fn token_where(&self, f: &TokenFilter) -> StoreResult<Where> {
        let mut w = Where::default();
        scope(
            &mut w,
            match f.within {
                Some(r) => Some(self.subtree_of(r).await?),
                None => None,
            },
        );
        if !f.include_revoked {
            w.push("revoked_at IS NULL", vec![]);
        }
        Ok(w)
    }

    pub(crate) async fn token_count(&self, f: &TokenFilter) -> StoreResult<u64> {
        let w = self.token_where(f).await?;
        count_where(&self.db, "api_tokens", w).await
    }

    pub(crate) async fn token_list(
        &self,
        f: &TokenFilter,
        page: Page,
    ) -> StoreResult<Paged<ApiToken>> {
        let mut w = self.token_where(f).await?;
        let tail = w.page("id", page);
        let rows = self
            .db
            .all(
                &format!("SELECT {TOKEN_COLS} FROM api_tokens {} {tail}", w.sql()),
                w.args,
            )
            .await?;
        let items = rows
            .iter()
            .map(token_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paged(items, page, |t| t.id.0))
    }
}
