//! The conformance cases, each an async fn over `&dyn Store`.

use jiff::{SignedDuration, Timestamp};
use taishi_model::*;
use taishi_store::transfer::{AssetRecord, OrgRecord, Origin, RegistryDocument};
use taishi_store::{DeleteMode, NewAudit, Store, StoreError};

fn actor() -> Actor {
    Actor::user("tester")
}

fn org_input(code: &str, parent: Option<OrgId>) -> OrgInput {
    OrgInput {
        parent_id: parent,
        code: code.to_owned(),
        name: format!("机构 {code}"),
        kind: OrgKind::Township,
        sector: Sector::Government,
        region_code: Some("110101".into()),
        critical_infrastructure: false,
        contacts: Contacts {
            principal: Contact {
                name: "张三".into(),
                phone: "010-12345678".into(),
                email: "z@a.gov.cn".into(),
            },
            security_officer: Contact::default(),
        },
        notes: String::new(),
    }
}

async fn org(s: &dyn Store, code: &str, parent: Option<OrgId>) -> Org {
    s.create_org(&actor(), org_input(code, parent))
        .await
        .expect("create org")
}

fn asset_input(org: OrgId, kind: AssetKind, identity: &str) -> AssetInput {
    AssetInput {
        org_id: org,
        kind,
        identity: identity.to_owned(),
        name: String::new(),
        tags: vec![],
        mlps_level: None,
        critical_infrastructure: false,
        notes: String::new(),
    }
}

async fn asset(s: &dyn Store, org: OrgId, kind: AssetKind, identity: &str) -> Asset {
    s.create_asset(&actor(), asset_input(org, kind, identity))
        .await
        .expect("create asset")
}

async fn all_orgs(s: &dyn Store, f: OrgFilter) -> Vec<String> {
    let mut codes: Vec<String> = s
        .list_orgs(&f, Page::first(1000))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.code)
        .collect();
    codes.sort();
    codes
}

/// A district with two townships, each with a village.
async fn tree(s: &dyn Store) -> (Org, Org, Org, Org, Org) {
    let d = org(s, "D", None).await;
    let a = org(s, "A", Some(d.id)).await;
    let b = org(s, "B", Some(d.id)).await;
    let a1 = org(s, "A1", Some(a.id)).await;
    let b1 = org(s, "B1", Some(b.id)).await;
    (d, a, b, a1, b1)
}

pub async fn org_tree_and_subtree_queries(s: &dyn Store) {
    let (d, a, _b, a1, b1) = tree(s).await;
    assert_eq!(a1.path, vec![d.id, a.id, a1.id]);
    assert_eq!(a1.depth(), 2);
    let got = s.get_org(a1.id).await.unwrap();
    assert_eq!(got, a1, "read back equals what create returned");
    assert_eq!(s.get_org_by_code("B1").await.unwrap().id, b1.id);
    assert_eq!(
        all_orgs(
            s,
            OrgFilter {
                within: Some(a.id),
                ..Default::default()
            }
        )
        .await,
        ["A", "A1"]
    );
    assert_eq!(
        all_orgs(
            s,
            OrgFilter {
                parent: Some(d.id),
                ..Default::default()
            }
        )
        .await,
        ["A", "B"]
    );
    assert_eq!(
        all_orgs(
            s,
            OrgFilter {
                roots_only: true,
                ..Default::default()
            }
        )
        .await,
        ["D"]
    );
    assert_eq!(
        all_orgs(
            s,
            OrgFilter {
                q: Some("b1".into()),
                ..Default::default()
            }
        )
        .await,
        ["B1"]
    );
    assert!(s.is_in_subtree(a1.id, a.id).await.unwrap());
    assert!(s.is_in_subtree(a.id, a.id).await.unwrap());
    assert!(!s.is_in_subtree(b1.id, a.id).await.unwrap());
    assert!(!s.is_in_subtree(a.id, a1.id).await.unwrap());
    assert_eq!(s.count_subtree(d.id).await.unwrap(), 5);
    let anc: Vec<_> = s
        .ancestors(b1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.code)
        .collect();
    assert_eq!(anc, ["D", "B", "B1"]);
    // ids 1 and 10 must not be confused by the path range
    let mut last = b1.clone();
    for i in 0..10 {
        last = org(s, &format!("X{i}"), Some(d.id)).await;
    }
    assert!(!s.is_in_subtree(last.id, a.id).await.unwrap() || last.path.contains(&a.id));
    assert_eq!(s.count_subtree(a.id).await.unwrap(), 2);
    assert!(matches!(
        s.get_org(OrgId(999_999)).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn move_subtree_and_refuse_cycles(s: &dyn Store) {
    let (d, a, b, a1, _b1) = tree(s).await;
    let a2 = org(s, "A2", Some(a1.id)).await;
    let moved = s.move_org(&actor(), a.id, Some(b.id)).await.unwrap();
    assert_eq!(moved.path, vec![d.id, b.id, a.id]);
    assert_eq!(
        s.get_org(a2.id).await.unwrap().path,
        vec![d.id, b.id, a.id, a1.id, a2.id]
    );
    assert!(s.is_in_subtree(a2.id, b.id).await.unwrap());
    assert_eq!(
        all_orgs(
            s,
            OrgFilter {
                within: Some(b.id),
                ..Default::default()
            }
        )
        .await,
        ["A", "A1", "A2", "B", "B1"]
    );
    let err = s.move_org(&actor(), a.id, Some(a2.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    let err = s.move_org(&actor(), a.id, Some(a.id)).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    let root = s.move_org(&actor(), a1.id, None).await.unwrap();
    assert_eq!(root.path, vec![a1.id]);
    assert_eq!(root.parent_id, None);
    assert_eq!(s.get_org(a2.id).await.unwrap().path, vec![a1.id, a2.id]);
    assert!(matches!(
        s.move_org(&actor(), a.id, Some(OrgId(424242))).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn delete_refuses_then_cascades(s: &dyn Store) {
    let (d, a, b, a1, _) = tree(s).await;
    let leaf = org(s, "LEAF", Some(b.id)).await;
    s.delete_org(&actor(), leaf.id, DeleteMode::Refuse)
        .await
        .unwrap();
    assert!(matches!(
        s.get_org(leaf.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let x = asset(s, a1.id, AssetKind::Domain, "a1.example.cn").await;
    s.add_software(
        &actor(),
        x.id,
        SoftwareInput {
            vendor: "V".into(),
            product: "P".into(),
            version: "1".into(),
            cpe: None,
        },
    )
    .await
    .unwrap();
    s.create_user(
        &actor(),
        NewUser {
            name: "u1".into(),
            display_name: String::new(),
            role: Role::Officer,
            org_id: a1.id,
            password_hash: "$argon2id$x".into(),
        },
    )
    .await
    .unwrap();
    let err = s
        .delete_org(&actor(), a.id, DeleteMode::Refuse)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Refused(m) if m.contains("1 child")),
        "{err}"
    );
    let err = s
        .delete_org(&actor(), a1.id, DeleteMode::Refuse)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Refused(m) if m.contains("1 asset")),
        "{err}"
    );
    s.delete_org(&actor(), a.id, DeleteMode::Cascade)
        .await
        .unwrap();
    assert_eq!(all_orgs(s, OrgFilter::default()).await, ["B", "B1", "D"]);
    assert!(matches!(
        s.get_asset(x.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(s.user_credentials("u1").await.unwrap().is_none());
    assert_eq!(
        s.list_software(&SoftwareFilter::default(), Page::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(s.count_subtree(d.id).await.unwrap(), 3);
}

pub async fn org_conflicts_and_validation(s: &dyn Store) {
    let d = org(s, "D", None).await;
    assert!(matches!(
        s.create_org(&actor(), org_input("D", None)).await,
        Err(StoreError::Conflict(_))
    ));
    let mut bad = org_input("bad code", Some(OrgId(777)));
    bad.name = String::new();
    match s.create_org(&actor(), bad).await {
        Err(StoreError::Invalid(errs)) => {
            let f: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(f, ["code", "name"]);
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(matches!(
        s.create_org(&actor(), org_input("C", Some(OrgId(777))))
            .await,
        Err(StoreError::Invalid(_))
    ));
    let e = org(s, "E", Some(d.id)).await;
    let patch = OrgPatch {
        name: Some("新名称".into()),
        region_code: Some(String::new()),
        critical_infrastructure: Some(true),
        ..Default::default()
    };
    let up = s.update_org(&actor(), e.id, patch).await.unwrap();
    assert_eq!(
        (
            up.name.as_str(),
            up.region_code.clone(),
            up.critical_infrastructure
        ),
        ("新名称", None, true)
    );
    assert_eq!(s.get_org(e.id).await.unwrap(), up);
    let clash = OrgPatch {
        code: Some("D".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_org(&actor(), e.id, clash).await,
        Err(StoreError::Conflict(_))
    ));
}

pub async fn assets_crud_filters_and_paging(s: &dyn Store) {
    let (d, a, b, a1, _) = tree(s).await;
    let w = s
        .create_asset(
            &actor(),
            AssetInput {
                tags: vec!["portal".into(), "gov".into()],
                mlps_level: Some(MlpsLevel::try_from(3).unwrap()),
                name: "门户网站".into(),
                ..asset_input(a1.id, AssetKind::Website, "HTTPS://WWW.A1.gov.cn:443")
            },
        )
        .await
        .unwrap();
    assert_eq!(w.identity, "https://www.a1.gov.cn/");
    assert_eq!(w.tags, ["gov", "portal"]);
    assert_eq!(s.get_asset(w.id).await.unwrap(), w);
    let dup = s
        .create_asset(
            &actor(),
            asset_input(b.id, AssetKind::Website, "https://www.a1.gov.cn"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // a system name is unique per org only
    asset(s, a.id, AssetKind::System, "OA").await;
    asset(s, b.id, AssetKind::System, "OA").await;
    assert!(matches!(
        s.create_asset(&actor(), asset_input(b.id, AssetKind::System, "OA"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.create_asset(&actor(), asset_input(b.id, AssetKind::Cidr, "10.0.0.1/8"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    for i in 0..12 {
        asset(s, b.id, AssetKind::Ip, &format!("192.0.2.{i}")).await;
    }
    let found = s
        .find_asset(AssetKind::Website, "https://www.A1.gov.cn/", None)
        .await
        .unwrap();
    assert_eq!(found.map(|a| a.id), Some(w.id));
    let within_a = s
        .list_assets(
            &AssetFilter {
                within: Some(a.id),
                ..Default::default()
            },
            Page::first(100),
        )
        .await
        .unwrap();
    assert_eq!(within_a.items.len(), 2);
    let tagged = s
        .list_assets(
            &AssetFilter {
                tag: Some("portal".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        tagged.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        [w.id]
    );
    assert_eq!(
        s.list_assets(
            &AssetFilter {
                tag: Some("port".into()),
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
    let lvl = s
        .list_assets(
            &AssetFilter {
                min_mlps_level: Some(3),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(lvl.items.len(), 1);
    let q = s
        .list_assets(
            &AssetFilter {
                q: Some("A1.GOV".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.items.len(), 1);
    // paging walks every IP exactly once
    let mut seen = Vec::new();
    let mut page = Page::first(5);
    loop {
        let p = s
            .list_assets(
                &AssetFilter {
                    kind: Some(AssetKind::Ip),
                    within: Some(d.id),
                    ..Default::default()
                },
                page,
            )
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|a| a.identity.clone()));
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
    seen.dedup();
    assert_eq!(seen.len(), 12);
    let up = s
        .update_asset(
            &actor(),
            w.id,
            AssetPatch {
                org_id: Some(b.id),
                mlps_level: Some(0),
                tags: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((up.org_id, up.mlps_level, up.tags.len()), (b.id, None, 0));
    assert!(matches!(
        s.update_asset(
            &actor(),
            w.id,
            AssetPatch {
                mlps_level: Some(9),
                ..Default::default()
            }
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    s.delete_asset(&actor(), w.id).await.unwrap();
    assert!(matches!(
        s.get_asset(w.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn software_inventory(s: &dyn Store) {
    let (_d, a, b, _, _) = tree(s).await;
    let x = asset(s, a.id, AssetKind::Ip, "198.51.100.1").await;
    let y = asset(s, b.id, AssetKind::Ip, "198.51.100.2").await;
    let cpe = "cpe:2.3:a:apache:tomcat:9.0.1:*:*:*:*:*:*:*";
    let sw = s
        .add_software(
            &actor(),
            x.id,
            SoftwareInput {
                vendor: "Apache".into(),
                product: "Tomcat".into(),
                version: "9.0.1".into(),
                cpe: Some(cpe.into()),
            },
        )
        .await
        .unwrap();
    s.add_software(
        &actor(),
        y.id,
        SoftwareInput {
            vendor: "Apache".into(),
            product: "Tomcat".into(),
            version: "8.5".into(),
            cpe: None,
        },
    )
    .await
    .unwrap();
    s.add_software(
        &actor(),
        y.id,
        SoftwareInput {
            vendor: "nginx".into(),
            product: "nginx".into(),
            version: "".into(),
            cpe: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_software(sw.id).await.unwrap(), sw);
    let bad = s
        .add_software(
            &actor(),
            x.id,
            SoftwareInput {
                vendor: "A".into(),
                product: "B".into(),
                version: "".into(),
                cpe: Some("cpe:/a:x".into()),
            },
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    assert!(matches!(
        s.add_software(
            &actor(),
            AssetId(99_999),
            SoftwareInput {
                vendor: "A".into(),
                product: "B".into(),
                version: "".into(),
                cpe: None
            }
        )
        .await,
        Err(StoreError::NotFound { .. })
    ));
    let tomcat = s
        .list_software(
            &SoftwareFilter {
                product: Some("tomcat".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(tomcat.items.len(), 2);
    let in_a = s
        .list_software(
            &SoftwareFilter {
                product: Some("TOMCAT".into()),
                within: Some(a.id),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(in_a.items.iter().map(|s| s.id).collect::<Vec<_>>(), [sw.id]);
    let by_cpe = s
        .list_software(
            &SoftwareFilter {
                cpe_prefix: Some("cpe:2.3:a:apache:tomcat:".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_cpe.items.len(), 1);
    s.delete_software(&actor(), sw.id).await.unwrap();
    s.delete_asset(&actor(), y.id).await.unwrap();
    assert_eq!(
        s.list_software(&SoftwareFilter::default(), Page::default())
            .await
            .unwrap()
            .items
            .len(),
        0
    );
}

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
