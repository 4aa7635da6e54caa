//! Conformance cases for users, sessions, API tokens, the audit log, import/export and attribution,
//! each an async fn over `&dyn Store`.

use crate::cases::*;
use jiff::{SignedDuration, Timestamp};
use taishi_model::*;
use taishi_store::transfer::{AssetRecord, OrgRecord, Origin, RegistryDocument};
use taishi_store::{NewAudit, Store, StoreError};

fn new_user(name: &str, org: OrgId, role: Role) -> NewUser {
    NewUser {
        name: name.into(),
        display_name: String::new(),
        role,
        org_id: org,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

pub async fn users_and_sessions(s: &dyn Store) {
    let (d, a, _, _, _) = tree(s).await;
    assert_eq!(s.count_users().await.unwrap(), 0);
    let admin = s
        .create_user(&actor(), new_user("admin", d.id, Role::Admin))
        .await
        .unwrap();
    let off = s
        .create_user(&actor(), new_user("officer-a", a.id, Role::Officer))
        .await
        .unwrap();
    assert_eq!(off.display_name, "officer-a");
    assert!(matches!(
        s.create_user(&actor(), new_user("admin", d.id, Role::Viewer))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.count_users().await.unwrap(), 2);
    let (u, hash) = s.user_credentials("admin").await.unwrap().unwrap();
    assert_eq!((u.id, hash.starts_with("$argon2id$")), (admin.id, true));
    assert!(s.user_credentials("nobody").await.unwrap().is_none());
    let in_a = s
        .list_users(
            &UserFilter {
                within: Some(a.id),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        in_a.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        [off.id]
    );

    let now = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
    let sess = Session {
        token_hash: "h1".repeat(32),
        user_id: off.id,
        created_at: now,
        expires_at: now + SignedDuration::from_hours(8),
    };
    s.create_session(&sess).await.unwrap();
    let (got, user) = s.get_session(&sess.token_hash, now).await.unwrap().unwrap();
    assert_eq!((got, user.id), (sess.clone(), off.id));
    assert!(
        s.get_session(&sess.token_hash, now + SignedDuration::from_hours(9))
            .await
            .unwrap()
            .is_none()
    );
    // a role change ends sessions
    s.update_user(
        &actor(),
        off.id,
        UserPatch {
            role: Some(Role::Viewer),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        s.get_session(&sess.token_hash, now)
            .await
            .unwrap()
            .is_none()
    );
    s.create_session(&sess).await.unwrap();
    s.set_password(&actor(), off.id, "$argon2id$new")
        .await
        .unwrap();
    assert!(
        s.get_session(&sess.token_hash, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.user_credentials("officer-a").await.unwrap().unwrap().1,
        "$argon2id$new"
    );
    s.create_session(&sess).await.unwrap();
    s.delete_session(&sess.token_hash).await.unwrap();
    assert!(
        s.get_session(&sess.token_hash, now)
            .await
            .unwrap()
            .is_none()
    );
    s.create_session(&sess).await.unwrap();
    assert_eq!(
        s.purge_sessions(now + SignedDuration::from_hours(10))
            .await
            .unwrap(),
        1
    );
    s.record_login(admin.id, now).await.unwrap();
    assert_eq!(s.get_user(admin.id).await.unwrap().last_login_at, Some(now));
    let dis = s
        .update_user(
            &actor(),
            admin.id,
            UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(dis.disabled);
    s.delete_user(&actor(), off.id).await.unwrap();
    assert!(matches!(
        s.get_user(off.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn api_tokens(s: &dyn Store) {
    let (d, a, _, _, _) = tree(s).await;
    let t = s
        .create_token(
            &actor(),
            NewApiToken {
                name: "sensor".into(),
                prefix: "tsk_ab12".into(),
                token_hash: "f".repeat(64),
                role: Role::Analyst,
                org_id: a.id,
                created_by: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.token_by_hash(&"f".repeat(64))
            .await
            .unwrap()
            .map(|t| t.id),
        Some(t.id)
    );
    assert!(s.token_by_hash(&"e".repeat(64)).await.unwrap().is_none());
    let now = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
    s.touch_token(t.id, now).await.unwrap();
    assert_eq!(s.get_token(t.id).await.unwrap().last_used_at, Some(now));
    let r = s.revoke_token(&actor(), t.id).await.unwrap();
    assert!(r.revoked_at.is_some());
    assert!(s.token_by_hash(&"f".repeat(64)).await.unwrap().is_none());
    assert_eq!(
        s.list_tokens(
            &TokenFilter {
                within: Some(d.id),
                ..Default::default()
            },
            Page::default()
        )
        .await
        .unwrap()
        .items
        .len(),
        0
    );
    assert_eq!(
        s.list_tokens(
            &TokenFilter {
                within: Some(d.id),
                include_revoked: true
            },
            Page::default()
        )
        .await
        .unwrap()
        .items
        .len(),
        1
    );
}

pub async fn audit_log_records_every_change(s: &dyn Store) {
    let (_d, a, b, _, _) = tree(s).await;
    s.update_org(
        &Actor::user("alice"),
        a.id,
        OrgPatch {
            notes: Some("n".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let x = asset(s, b.id, AssetKind::Domain, "b.example.cn").await;
    s.delete_asset(&Actor::token("ci"), x.id).await.unwrap();
    s.append_audit(NewAudit {
        actor: Actor::user("bob"),
        action: "session.login".into(),
        entity_type: "user".into(),
        entity_id: "7".into(),
        org_id: Some(a.id),
        before: None,
        after: None,
    })
    .await
    .unwrap();
    let all = s
        .list_audit(&AuditFilter::default(), Page::first(1000))
        .await
        .unwrap()
        .items;
    let actions: Vec<_> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "org.create",
            "org.create",
            "org.create",
            "org.create",
            "org.update",
            "asset.create",
            "asset.delete",
            "session.login"
        ]
    );
    let upd = &all[5];
    assert_eq!(
        (upd.actor.as_str(), upd.entity_id.as_str()),
        ("user:alice", a.id.to_string().as_str())
    );
    assert_eq!(upd.before.as_ref().unwrap()["notes"], "");
    assert_eq!(upd.after.as_ref().unwrap()["notes"], "n");
    let del = &all[7];
    assert!(del.after.is_none() && del.before.as_ref().unwrap()["identity"] == "b.example.cn");
    let in_b = s
        .list_audit(
            &AuditFilter {
                within: Some(b.id),
                ..Default::default()
            },
            Page::first(100),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        in_b.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["org.create", "org.create", "asset.create", "asset.delete"]
    );
    let by_actor = s
        .list_audit(
            &AuditFilter {
                actor: Some("token:ci".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_actor.items.len(), 1);
    assert!(
        all.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
    );
}

fn o(code: &str, parent: Option<&str>, line: u64) -> OrgRecord {
    OrgRecord {
        code: code.into(),
        parent: parent.map(Into::into),
        name: format!("机构{code}"),
        kind: OrgKind::Township,
        sector: Sector::Education,
        region_code: None,
        critical_infrastructure: false,
        principal: Contact::default(),
        security_officer: Contact {
            name: "李四".into(),
            phone: "13800000000".into(),
            email: "l@x.cn".into(),
        },
        notes: String::new(),
        origin: Origin {
            file: "orgs.csv".into(),
            line,
            ..Default::default()
        },
    }
}

fn ar(org: &str, kind: AssetKind, identity: &str, line: u64) -> AssetRecord {
    AssetRecord {
        org: org.into(),
        kind,
        identity: identity.into(),
        name: String::new(),
        tags: vec!["t".into()],
        mlps_level: None,
        critical_infrastructure: false,
        notes: String::new(),
        software: None,
        origin: Origin {
            file: "assets.csv".into(),
            line,
            ..Default::default()
        },
    }
}

fn sample_doc() -> RegistryDocument {
    let mut web = ar("T1", AssetKind::Website, "https://t1.example.cn", 2);
    web.software = Some(vec![SoftwareInput {
        vendor: "Apache".into(),
        product: "httpd".into(),
        version: "2.4.49".into(),
        cpe: None,
    }]);
    RegistryDocument {
        version: 1,
        // children before parents on purpose: order must not matter
        orgs: vec![
            o("V1", Some("T1"), 4),
            o("T1", Some("D"), 3),
            o("D", None, 2),
        ],
        assets: vec![
            web,
            ar("V1", AssetKind::Cidr, "10.1.0.0/16", 3),
            ar("D", AssetKind::System, "OA", 4),
        ],
    }
}

pub async fn import_is_idempotent_and_updates(s: &dyn Store) {
    let doc = sample_doc();
    let r = s.import_registry(&actor(), &doc).await.unwrap();
    assert_eq!((r.orgs_created, r.assets_created), (3, 3));
    let v1 = s.get_org_by_code("V1").await.unwrap();
    let d = s.get_org_by_code("D").await.unwrap();
    assert_eq!(v1.depth(), 2);
    assert!(s.is_in_subtree(v1.id, d.id).await.unwrap());
    let r = s.import_registry(&actor(), &doc).await.unwrap();
    assert_eq!(
        (r.orgs_created, r.orgs_updated, r.orgs_unchanged),
        (0, 0, 3)
    );
    assert_eq!(
        (r.assets_created, r.assets_updated, r.assets_unchanged),
        (0, 0, 3)
    );
    assert_eq!(s.count_subtree(d.id).await.unwrap(), 3);
    // change a name, move V1 under D, change software, add an asset
    let mut doc2 = doc.clone();
    doc2.orgs[0].parent = Some("D".into());
    doc2.orgs[1].name = "新乡镇".into();
    doc2.assets[0].software = Some(vec![]);
    doc2.assets.push(ar("T1", AssetKind::Ip, "10.9.9.9", 9));
    let r = s.import_registry(&actor(), &doc2).await.unwrap();
    assert_eq!(
        (
            r.orgs_updated,
            r.orgs_unchanged,
            r.assets_created,
            r.assets_updated
        ),
        (2, 1, 1, 1)
    );
    let v1b = s.get_org(v1.id).await.unwrap();
    assert_eq!(v1b.path, vec![d.id, v1.id]);
    assert_eq!(s.get_org_by_code("T1").await.unwrap().name, "新乡镇");
    assert_eq!(
        s.list_software(&SoftwareFilter::default(), Page::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    let total = s
        .list_assets(&AssetFilter::default(), Page::first(100))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(total, 4);
    let audit = s
        .list_audit(
            &AuditFilter {
                entity_type: Some("registry".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 3);
}

pub async fn import_with_errors_changes_nothing(s: &dyn Store) {
    let mut doc = sample_doc();
    doc.orgs.push(o("bad code", None, 5));
    doc.orgs.push(o("X", Some("NOPE"), 6));
    doc.assets.push(ar("D", AssetKind::Ip, "300.1.1.1", 5));
    doc.assets.push(ar("ZZ", AssetKind::Domain, "z.cn", 6));
    doc.assets.push(ar("D", AssetKind::Cidr, "10.1.0.0/16", 7));
    let mut lvl = ar("D", AssetKind::Domain, "lvl.cn", 8);
    lvl.mlps_level = Some(7);
    doc.assets.push(lvl);
    // the dry run finds the same problems and changes nothing either
    assert_eq!(s.check_import(&doc).await.unwrap().len(), 6);
    assert!(s.check_import(&sample_doc()).await.unwrap().is_empty());
    match s.import_registry(&actor(), &doc).await {
        Err(StoreError::Rejected(p)) => {
            let got: Vec<_> = p
                .iter()
                .map(|p| (p.file.as_str(), p.line, p.field.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("assets.csv", 5, "identity"),
                    ("assets.csv", 6, "org"),
                    ("assets.csv", 7, "identity"),
                    ("assets.csv", 8, "mlps_level"),
                    ("orgs.csv", 5, "code"),
                    ("orgs.csv", 6, "parent"),
                ]
            );
        }
        other => panic!("expected rejection, got {other:?}"),
    }
    assert_eq!(
        s.list_orgs(&OrgFilter::default(), Page::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(
        s.list_audit(&AuditFilter::default(), Page::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    // a cycle through existing orgs is rejected too
    s.import_registry(&actor(), &sample_doc()).await.unwrap();
    let cyc = RegistryDocument {
        version: 1,
        orgs: vec![o("D", Some("V1"), 2)],
        assets: vec![],
    };
    assert!(
        matches!(s.import_registry(&actor(), &cyc).await, Err(StoreError::Rejected(p)) if p[0].field == "parent")
    );
    assert_eq!(s.get_org_by_code("D").await.unwrap().parent_id, None);
}

pub async fn export_round_trips(s: &dyn Store) {
    let doc = sample_doc();
    s.import_registry(&actor(), &doc).await.unwrap();
    let out = s.export_registry(None).await.unwrap();
    assert_eq!(
        out.orgs.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(),
        ["D", "T1", "V1"]
    );
    assert_eq!(out.assets.len(), 3);
    assert_eq!(out.assets[0].software.as_ref().map(Vec::len), Some(1));
    let r = s.import_registry(&actor(), &out).await.unwrap();
    assert_eq!((r.orgs_unchanged, r.assets_unchanged), (3, 3));
    let t1 = s.get_org_by_code("T1").await.unwrap();
    let sub = s.export_registry(Some(t1.id)).await.unwrap();
    assert_eq!(
        sub.orgs
            .iter()
            .map(|o| (o.code.as_str(), o.parent.as_deref()))
            .collect::<Vec<_>>(),
        [("T1", Some("D")), ("V1", Some("T1"))]
    );
    assert_eq!(sub.assets.len(), 2);
}

pub async fn attribution_entries_cover_network_assets(s: &dyn Store) {
    s.import_registry(&actor(), &sample_doc()).await.unwrap();
    let mut e: Vec<_> = s
        .attribution_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.identity))
        .collect();
    e.sort();
    assert_eq!(
        e,
        [
            (AssetKind::Website, "https://t1.example.cn/".to_owned()),
            (AssetKind::Cidr, "10.1.0.0/16".to_owned())
        ]
    );
}
