//! Who may do what, where: pure functions of a role, an action, the target's place in the org tree and
//! the caller's scope. Handlers ask [`can`] before touching the store; nothing here does I/O, so the
//! whole matrix is tested in memory.
//!
//! The rules:
//! - every caller sees and acts only inside its scope (the subtree under its scope org); anything outside
//!   is reported as not found, so its existence does not leak;
//! - `admin` may do everything in scope, including users and tokens; creating a new root org needs an
//!   admin whose scope is a whole tree;
//! - `analyst` reads everything in scope and maintains the registry (orgs, assets, software);
//! - `officer` reads its subtree, maintains the assets and software of its subtree and the contacts and
//!   notes of its orgs, but creates, moves or deletes no org;
//! - `viewer` reads everything in scope and changes nothing;
//! - only admins see API tokens.
//! - in the closed loop, analysts triage findings, issue, verify, return and cancel notices and publish
//!   bulletins; officers acknowledge their subtree's notices and submit rectifications; everyone in scope
//!   reads findings, notices, scores and bulletins.

use taishi_model::{OrgId, OrgPatch, Role};

/// Something a caller may try to do. Each API route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read orgs, assets, software and attribution results.
    ReadRegistry,
    /// Register an org under a parent in scope.
    CreateOrg,
    /// Change fields of an org.
    UpdateOrg,
    /// Move an org (and its subtree) to another parent.
    MoveOrg,
    /// Delete an org.
    DeleteOrg,
    /// Create, change or delete assets and software lines.
    WriteAsset,
    /// Read user accounts.
    ReadUsers,
    /// Create, change, delete users and reset their passwords.
    ManageUsers,
    /// Read API tokens.
    ReadTokens,
    /// Create and revoke API tokens.
    ManageTokens,
    /// Read the audit log.
    ReadAudit,
    /// Read findings, notices, scores and archived bulletins.
    ReadLoop,
    /// Decide on findings: false positive, risk acceptance.
    TriageFinding,
    /// Issue notices, verify, return or cancel them, run the deadline sweep (the authority's side).
    ManageNotice,
    /// Acknowledge a notice and submit its rectification (the organisation's side).
    RespondNotice,
    /// Generate and archive bulletins.
    PublishBulletin,
    /// Change server-wide settings: the deadline policy, the indicator system, notification channels.
    /// They apply to every org, so besides the role the caller's scope must be a whole tree
    /// ([`can_manage_settings`]).
    ManageSettings,
}

impl Action {
    /// True when the action changes state (used to prove a viewer changes nothing).
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Action::ReadRegistry
                | Action::ReadUsers
                | Action::ReadTokens
                | Action::ReadAudit
                | Action::ReadLoop
        )
    }
}

/// The outcome of a policy check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// The target lies outside the caller's scope: answer "not found".
    OutOfScope,
    /// The target is in scope but the role may not do this: answer "forbidden".
    RoleDenied,
}

/// True when `role` may perform `action` at all (inside its scope).
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Analyst => matches!(
            action,
            ReadRegistry
                | CreateOrg
                | UpdateOrg
                | MoveOrg
                | DeleteOrg
                | WriteAsset
                | ReadUsers
                | ReadAudit
                | ReadLoop
                | TriageFinding
                | ManageNotice
                | RespondNotice
                | PublishBulletin
        ),
        Role::Officer => matches!(
            action,
            ReadRegistry
                | UpdateOrg
                | WriteAsset
                | ReadUsers
                | ReadAudit
                | ReadLoop
                | RespondNotice
        ),
        Role::Viewer => matches!(action, ReadRegistry | ReadUsers | ReadAudit | ReadLoop),
    }
}

/// May a caller with `role`, scoped to `scope`, perform `action` on something belonging to the org whose
/// root-first path is `target_path`?
pub fn can(role: Role, action: Action, target_path: &[OrgId], scope: OrgId) -> Decision {
    if !target_path.contains(&scope) {
        return Decision::OutOfScope;
    }
    if role_allows(role, action) {
        Decision::Allow
    } else {
        Decision::RoleDenied
    }
}

/// May a caller create a new root org? Only an admin whose scope org is itself a root (so the new tree is
/// as much theirs as the one they hold).
pub fn can_create_root(role: Role, scope_is_tree_root: bool) -> Decision {
    if role == Role::Admin && scope_is_tree_root {
        Decision::Allow
    } else {
        Decision::RoleDenied
    }
}

/// May a caller change server-wide settings ([`Action::ManageSettings`])? Only an admin whose scope org
/// is a root: the settings reach every org, so an admin of one branch may not change them.
pub fn can_manage_settings(role: Role, scope_is_tree_root: bool) -> Decision {
    if role_allows(role, Action::ManageSettings) && scope_is_tree_root {
        Decision::Allow
    } else {
        Decision::RoleDenied
    }
}

/// Which fields of an org `role` may change once [`Action::UpdateOrg`] is allowed: officers keep their
/// contacts and notes current, but the registry's structure (code, name, kind, sector, region, critical
/// infrastructure flag) is the authority's.
pub fn org_patch_allowed(role: Role, patch: &OrgPatch) -> Result<(), &'static str> {
    if role != Role::Officer {
        return Ok(());
    }
    let structural = [
        ("code", patch.code.is_some()),
        ("name", patch.name.is_some()),
        ("kind", patch.kind.is_some()),
        ("sector", patch.sector.is_some()),
        ("region_code", patch.region_code.is_some()),
        (
            "critical_infrastructure",
            patch.critical_infrastructure.is_some(),
        ),
    ];
    match structural.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(field),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ACTIONS: [Action; 11] = [
        Action::ReadRegistry,
        Action::CreateOrg,
        Action::UpdateOrg,
        Action::MoveOrg,
        Action::DeleteOrg,
        Action::WriteAsset,
        Action::ReadUsers,
        Action::ManageUsers,
        Action::ReadTokens,
        Action::ManageTokens,
        Action::ReadAudit,
    ];

    fn ids(v: &[i64]) -> Vec<OrgId> {
        v.iter().map(|&i| OrgId(i)).collect()
    }

    #[test]
    fn outside_scope_is_hidden_for_every_role_and_action() {
        let b_site = ids(&[1, 3, 30]);
        for role in Role::ALL {
            for a in ALL_ACTIONS {
                assert_eq!(
                    can(*role, a, &b_site, OrgId(2)),
                    Decision::OutOfScope,
                    "{role:?} {a:?}"
                );
            }
        }
    }

    #[test]
    fn viewer_changes_nothing_and_reads_in_scope() {
        for a in ALL_ACTIONS {
            let want = if a.is_write() || a == Action::ReadTokens {
                Decision::RoleDenied
            } else {
                Decision::Allow
            };
            assert_eq!(can(Role::Viewer, a, &ids(&[1, 2]), OrgId(1)), want, "{a:?}");
        }
    }

    #[test]
    fn role_matrix() {
        let p = ids(&[1, 2, 20]);
        let allowed = |r| {
            ALL_ACTIONS
                .iter()
                .filter(|a| can(r, **a, &p, OrgId(2)) == Decision::Allow)
                .count()
        };
        assert_eq!(allowed(Role::Admin), 11);
        assert_eq!(allowed(Role::Analyst), 8);
        assert_eq!(allowed(Role::Officer), 5);
        assert_eq!(allowed(Role::Viewer), 3);
        assert_eq!(
            can(Role::Officer, Action::DeleteOrg, &p, OrgId(2)),
            Decision::RoleDenied
        );
        assert_eq!(
            can(Role::Analyst, Action::ManageTokens, &p, OrgId(2)),
            Decision::RoleDenied
        );
        assert_eq!(can_create_root(Role::Admin, true), Decision::Allow);
        assert_eq!(can_create_root(Role::Admin, false), Decision::RoleDenied);
        assert_eq!(can_create_root(Role::Analyst, true), Decision::RoleDenied);
        assert_eq!(can_manage_settings(Role::Admin, true), Decision::Allow);
        assert_eq!(
            can_manage_settings(Role::Admin, false),
            Decision::RoleDenied
        );
        for r in [Role::Analyst, Role::Officer, Role::Viewer] {
            assert_eq!(can_manage_settings(r, true), Decision::RoleDenied, "{r:?}");
            assert!(!role_allows(r, Action::ManageSettings));
        }
        assert!(Action::ManageSettings.is_write());
    }

    #[test]
    fn officers_change_only_contacts_and_notes() {
        let notes = OrgPatch {
            notes: Some("x".into()),
            ..OrgPatch::default()
        };
        let rename = OrgPatch {
            name: Some("x".into()),
            ..OrgPatch::default()
        };
        assert!(org_patch_allowed(Role::Officer, &notes).is_ok());
        assert_eq!(org_patch_allowed(Role::Officer, &rename), Err("name"));
        assert!(org_patch_allowed(Role::Analyst, &rename).is_ok());
    }
}
