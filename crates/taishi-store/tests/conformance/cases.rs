//! Conformance cases for the org tree, assets and software, each an async fn over `&dyn Store`, and the
//! helpers the other case files share.

use taishi_model::*;
use taishi_store::{DeleteMode, Store, StoreError};

pub(crate) fn actor() -> Actor {
    Actor::user("tester")
}

pub(crate) fn org_input(code: &str, parent: Option<OrgId>) -> OrgInput {
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

pub(crate) async fn org(s: &dyn Store, code: &str, parent: Option<OrgId>) -> Org {
    s.create_org(&actor(), org_input(code, parent))
        .await
        .expect("create org")
}

pub(crate) fn asset_input(org: OrgId, kind: AssetKind, identity: &str) -> AssetInput {
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

pub(crate) async fn asset(s: &dyn Store, org: OrgId, kind: AssetKind, identity: &str) -> Asset {
    s.create_asset(&actor(), asset_input(org, kind, identity))
        .await
        .expect("create asset")
}

pub(crate) async fn all_orgs(s: &dyn Store, f: OrgFilter) -> Vec<String> {
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
pub(crate) async fn tree(s: &dyn Store) -> (Org, Org, Org, Org, Org) {
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
