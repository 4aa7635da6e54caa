//! First start: when no user exists, create an administrator with a random password, so there is never
//! a default password. The caller (the binary) shows the password once; this library prints nothing.

use crate::auth::{password, secret};
use taishi_model::{
    Actor, Contacts, NewUser, Org, OrgFilter, OrgInput, OrgKind, Page, Role, Sector, User,
};
use taishi_store::{Store, StoreError};

/// The administrator created on first start, with the password to show once.
#[derive(Debug)]
pub struct FirstAdmin {
    /// The new user.
    pub user: User,
    /// Its password in clear; never stored, shown once.
    pub password: String,
    /// The org the user's scope starts at.
    pub scope: Org,
    /// True when the root org was created too (the registry was empty).
    pub created_root: bool,
}

/// Login name of the first administrator.
pub const FIRST_ADMIN_NAME: &str = "admin";

/// Creates the first administrator if the user table is empty; `None` when users already exist.
///
/// The administrator's scope is the first root org (an empty registry gets a root org `authority`
/// first), so everything imported under that root is theirs to manage.
pub async fn ensure_first_admin(store: &dyn Store) -> Result<Option<FirstAdmin>, StoreError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let actor = Actor::system("first-start");
    let roots = OrgFilter {
        roots_only: true,
        ..OrgFilter::default()
    };
    let (scope, created_root) = match store
        .list_orgs(&roots, Page::first(1))
        .await?
        .items
        .into_iter()
        .next()
    {
        Some(root) => (root, false),
        None => {
            let input = OrgInput {
                parent_id: None,
                code: "authority".into(),
                name: "主管机关 Authority".into(),
                kind: OrgKind::Authority,
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                contacts: Contacts::default(),
                notes: String::new(),
            };
            (store.create_org(&actor, input).await?, true)
        }
    };
    let pw = secret::random_password();
    let pw2 = pw.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&pw2))
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let user = store
        .create_user(
            &actor,
            NewUser {
                name: FIRST_ADMIN_NAME.into(),
                display_name: "Administrator".into(),
                role: Role::Admin,
                org_id: scope.id,
                password_hash: hash,
            },
        )
        .await?;
    Ok(Some(FirstAdmin {
        user,
        password: pw,
        scope,
        created_root,
    }))
}
