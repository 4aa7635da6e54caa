//! Conformance cases for asset text search (FTS5 trigram on SQLite, pg_trgm on PostgreSQL), the
//! `asset_tags` table behind the tag filter, the list totals (`count_*`), and ids never being reused.

use crate::cases::{actor, asset_input, tree};
use taishi_model::*;
use taishi_store::Store;
use taishi_store::transfer::{AssetRecord, Origin, RegistryDocument};

/// Identities of every asset matching `f` (all pages), sorted; also checks `count_assets` agrees.
async fn matching(s: &dyn Store, f: AssetFilter) -> Vec<String> {
    let page = s.list_assets(&f, Page::first(1000)).await.unwrap();
    assert!(page.next.is_none());
    let total = s.count_assets(&f).await.unwrap();
    assert_eq!(total as usize, page.items.len(), "count_assets for {f:?}");
    let mut ids: Vec<String> = page.items.into_iter().map(|a| a.identity).collect();
    ids.sort();
    ids
}

async fn search(s: &dyn Store, q: &str) -> Vec<String> {
    matching(
        s,
        AssetFilter {
            q: Some(q.to_owned()),
            ..Default::default()
        },
    )
    .await
}

async fn tagged(s: &dyn Store, tag: &str) -> Vec<String> {
    matching(
        s,
        AssetFilter {
            tag: Some(tag.to_owned()),
            ..Default::default()
        },
    )
    .await
}

async fn named(
    s: &dyn Store,
    org: OrgId,
    kind: AssetKind,
    identity: &str,
    name: &str,
    tags: &[&str],
) -> Asset {
    let mut i = asset_input(org, kind, identity);
    i.name = name.to_owned();
    i.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    s.create_asset(&actor(), i).await.expect("create asset")
}

pub async fn asset_text_search_finds_substrings(s: &dyn Store) {
    let (_d, a, b, _a1, _b1) = tree(s).await;
    named(
        s,
        a.id,
        AssetKind::Website,
        "https://portal.example.gov.cn",
        "Portal 门户网站",
        &[],
    )
    .await;
    named(
        s,
        a.id,
        AssetKind::Domain,
        "mail.school-edu.cn",
        "Mail",
        &[],
    )
    .await;
    named(s, b.id, AssetKind::System, "教育局办公系统", "", &[]).await;
    named(s, b.id, AssetKind::Ip, "10.1.2.3", "100%_done", &[]).await;
    named(s, b.id, AssetKind::Ip, "10.1.2.4", "100 percent", &[]).await;
    named(s, b.id, AssetKind::Ip, "10.9.9.9", "ab_c \"quoted\"", &[]).await;

    let portal = vec!["https://portal.example.gov.cn/".to_owned()];
    // in the middle of an identity, any case
    assert_eq!(search(s, "example.gov").await, portal);
    assert_eq!(search(s, "EXAMPLE.GoV").await, portal);
    assert_eq!(search(s, "ortal.ex").await, portal);
    // in the name, CJK: three characters (trigram index) and two (LIKE fallback)
    assert_eq!(search(s, "门户网").await, portal);
    assert_eq!(search(s, "办公系").await, ["教育局办公系统"]);
    assert_eq!(search(s, "教育").await, ["教育局办公系统"]);
    assert_eq!(search(s, "portal 门户").await, portal);
    // % and _ are literal, long or short
    assert_eq!(search(s, "0%_").await, ["10.1.2.3"]);
    assert_eq!(search(s, "%").await, ["10.1.2.3"]);
    assert_eq!(search(s, "_").await, ["10.1.2.3", "10.9.9.9"]);
    assert_eq!(search(s, "b_c").await, ["10.9.9.9"]);
    assert_eq!(search(s, "100_").await, Vec::<String>::new());
    // double quotes and FTS syntax are text too
    assert_eq!(search(s, "\"quoted\"").await, ["10.9.9.9"]);
    assert_eq!(search(s, "c \"q").await, ["10.9.9.9"]);
    assert_eq!(search(s, "mail OR portal").await, Vec::<String>::new());
    assert_eq!(search(s, "NEAR(a b)").await, Vec::<String>::new());
    // one and two characters go through LIKE and agree with the index path
    assert_eq!(search(s, "10.1").await, ["10.1.2.3", "10.1.2.4"]);
    assert_eq!(search(s, ".1").await, ["10.1.2.3", "10.1.2.4"]);
    assert_eq!(
        search(s, "m").await,
        ["https://portal.example.gov.cn/", "mail.school-edu.cn"]
    );
    assert_eq!(search(s, "no such text").await, Vec::<String>::new());
    // combined with the other filters
    let in_b = matching(
        s,
        AssetFilter {
            within: Some(b.id),
            kind: Some(AssetKind::Ip),
            q: Some("10.".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(in_b, ["10.1.2.3", "10.1.2.4", "10.9.9.9"]);
    let in_a = matching(
        s,
        AssetFilter {
            within: Some(a.id),
            q: Some("10.1".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(in_a.is_empty());

    // the index follows renames and deletes
    let mail = s
        .find_asset(AssetKind::Domain, "mail.school-edu.cn", None)
        .await
        .unwrap()
        .unwrap();
    s.update_asset(
        &actor(),
        mail.id,
        AssetPatch {
            name: Some("Webmail 邮件".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(search(s, "webmail").await, ["mail.school-edu.cn"]);
    assert_eq!(search(s, "邮件").await, ["mail.school-edu.cn"]);
    s.delete_asset(&actor(), mail.id).await.unwrap();
    assert!(search(s, "webmail").await.is_empty());
    assert!(search(s, "school-edu").await.is_empty());
}

pub async fn asset_tags_filter_exactly(s: &dyn Store) {
    let (d, a, b, _a1, _b1) = tree(s).await;
    let web = named(
        s,
        a.id,
        AssetKind::Domain,
        "www.a.cn",
        "",
        &["web", " DMZ "],
    )
    .await;
    assert_eq!(web.tags, ["DMZ", "web"]);
    named(
        s,
        a.id,
        AssetKind::Domain,
        "mail.a.cn",
        "",
        &["Webmail", "dmz"],
    )
    .await;
    named(s, b.id, AssetKind::Domain, "www.b.cn", "", &["Web", "网站"]).await;
    named(s, b.id, AssetKind::Domain, "x.b.cn", "", &["100%_tag"]).await;

    // exact, case-insensitive, trimmed: "web" is not "webmail"
    assert_eq!(tagged(s, "web").await, ["www.a.cn", "www.b.cn"]);
    assert_eq!(tagged(s, "WEB").await, ["www.a.cn", "www.b.cn"]);
    assert_eq!(tagged(s, "  web ").await, ["www.a.cn", "www.b.cn"]);
    assert_eq!(tagged(s, "webmail").await, ["mail.a.cn"]);
    assert_eq!(tagged(s, "dmz").await, ["mail.a.cn", "www.a.cn"]);
    assert_eq!(tagged(s, "网站").await, ["www.b.cn"]);
    assert!(tagged(s, "网").await.is_empty());
    assert!(tagged(s, "we").await.is_empty());
    assert!(tagged(s, "%").await.is_empty());
    assert!(tagged(s, "100%").await.is_empty());
    assert_eq!(tagged(s, "100%_TAG").await, ["x.b.cn"]);
    // keyset pages over the tag walk every tagged asset once
    let f = AssetFilter {
        tag: Some("Web".into()),
        ..Default::default()
    };
    let (mut seen, mut page) = (Vec::new(), Page::first(1));
    loop {
        let p = s.list_assets(&f, page).await.unwrap();
        seen.extend(p.items.into_iter().map(|a| a.identity));
        match p.next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["www.a.cn", "www.b.cn"]);
    // with other filters
    let in_b = matching(
        s,
        AssetFilter {
            within: Some(b.id),
            tag: Some("web".into()),
            kind: Some(AssetKind::Domain),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(in_b, ["www.b.cn"]);

    // update replaces the tag rows, delete removes them
    s.update_asset(
        &actor(),
        web.id,
        AssetPatch {
            tags: Some(vec!["Portal".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(tagged(s, "web").await, ["www.b.cn"]);
    assert_eq!(tagged(s, "portal").await, ["www.a.cn"]);
    assert_eq!(tagged(s, "dmz").await, ["mail.a.cn"]);
    s.delete_asset(&actor(), web.id).await.unwrap();
    assert!(tagged(s, "portal").await.is_empty());

    // import creates and updates tag rows in its transaction
    let rec = |identity: &str, tags: &[&str], line: u64| AssetRecord {
        org: d.code.clone(),
        kind: AssetKind::Domain,
        identity: identity.into(),
        name: String::new(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        mlps_level: None,
        critical_infrastructure: false,
        notes: String::new(),
        software: None,
        origin: Origin {
            file: "assets.csv".into(),
            line,
            ..Default::default()
        },
    };
    let doc = |assets: Vec<AssetRecord>| RegistryDocument {
        version: 1,
        orgs: vec![],
        assets,
    };
    s.import_registry(
        &actor(),
        &doc(vec![
            rec("imp1.cn", &["Imported", "web"], 2),
            rec("x.b.cn", &["web"], 3),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(tagged(s, "imported").await, ["imp1.cn"]);
    assert_eq!(tagged(s, "web").await, ["imp1.cn", "www.b.cn", "x.b.cn"]);
    assert!(
        tagged(s, "100%_tag").await.is_empty(),
        "import replaced x.b.cn's tags"
    );
    s.import_registry(&actor(), &doc(vec![rec("imp1.cn", &["again"], 2)]))
        .await
        .unwrap();
    assert!(tagged(s, "imported").await.is_empty());
    assert_eq!(tagged(s, "again").await, ["imp1.cn"]);

    // cascading an org delete takes its assets' tag rows along
    s.delete_org(&actor(), b.id, taishi_store::DeleteMode::Cascade)
        .await
        .unwrap();
    assert!(tagged(s, "网站").await.is_empty());
}

pub async fn list_totals_follow_filters(s: &dyn Store) {
    let (d, a, b, a1, _b1) = tree(s).await;
    for i in 0..7 {
        named(s, a1.id, AssetKind::Ip, &format!("10.0.0.{i}"), "", &["x"]).await;
    }
    named(s, b.id, AssetKind::Domain, "b.cn", "", &[]).await;
    let everything = AssetFilter::default();
    assert_eq!(s.count_assets(&everything).await.unwrap(), 8);
    // a whole single-root tree filters nothing; a second root makes "within" count again
    let under_d = AssetFilter {
        within: Some(d.id),
        ..Default::default()
    };
    assert_eq!(matching(s, under_d.clone()).await.len(), 8);
    let other_root = crate::cases::org(s, "E", None).await;
    named(s, other_root.id, AssetKind::Domain, "e.cn", "", &["x"]).await;
    assert_eq!(matching(s, under_d.clone()).await.len(), 8);
    let x_in_d = AssetFilter {
        within: Some(d.id),
        tag: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(matching(s, x_in_d).await.len(), 7);
    assert_eq!(s.count_assets(&everything).await.unwrap(), 9);
    s.delete_org(&actor(), other_root.id, taishi_store::DeleteMode::Cascade)
        .await
        .unwrap();
    let in_a = AssetFilter {
        within: Some(a.id),
        ..Default::default()
    };
    assert_eq!(s.count_assets(&in_a).await.unwrap(), 7);
    // the count ignores paging: three pages of three, seven in total
    let first = s.list_assets(&in_a, Page::first(3)).await.unwrap();
    assert_eq!((first.items.len(), first.next.is_some()), (3, true));

    let orgs = OrgFilter {
        within: Some(d.id),
        ..Default::default()
    };
    assert_eq!(s.count_orgs(&orgs).await.unwrap(), 5);
    let under_a = OrgFilter {
        within: Some(a.id),
        ..Default::default()
    };
    assert_eq!(s.count_orgs(&under_a).await.unwrap(), 2);

    let ip = s
        .find_asset(AssetKind::Ip, "10.0.0.1", None)
        .await
        .unwrap()
        .unwrap();
    for p in ["nginx", "openssl"] {
        s.add_software(
            &actor(),
            ip.id,
            SoftwareInput {
                vendor: "v".into(),
                product: p.into(),
                version: "1".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    }
    let sw = SoftwareFilter {
        within: Some(a.id),
        ..Default::default()
    };
    assert_eq!(s.count_software(&sw).await.unwrap(), 2);
    let sw_b = SoftwareFilter {
        within: Some(b.id),
        ..Default::default()
    };
    assert_eq!(s.count_software(&sw_b).await.unwrap(), 0);

    for (name, org, role) in [
        ("u1", a.id, Role::Officer),
        ("u2", a1.id, Role::Viewer),
        ("u3", b.id, Role::Officer),
    ] {
        s.create_user(
            &actor(),
            NewUser {
                name: name.into(),
                display_name: String::new(),
                role,
                org_id: org,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            },
        )
        .await
        .unwrap();
    }
    let users_a = UserFilter {
        within: Some(a.id),
        ..Default::default()
    };
    assert_eq!(s.count_users_matching(&users_a).await.unwrap(), 2);
    let officers = UserFilter {
        role: Some(Role::Officer),
        ..Default::default()
    };
    assert_eq!(s.count_users_matching(&officers).await.unwrap(), 2);
    let mut token_ids = Vec::new();
    for (i, org) in [a.id, b.id].into_iter().enumerate() {
        let t = s
            .create_token(
                &actor(),
                NewApiToken {
                    name: format!("t{i}"),
                    prefix: format!("tsk_{i}"),
                    token_hash: i.to_string().repeat(64),
                    role: Role::Analyst,
                    org_id: org,
                    created_by: None,
                },
            )
            .await
            .unwrap();
        token_ids.push(t.id);
    }
    s.revoke_token(&actor(), token_ids[0]).await.unwrap();
    let live = TokenFilter {
        within: Some(d.id),
        ..Default::default()
    };
    assert_eq!(s.count_tokens(&live).await.unwrap(), 1);
    let all_tokens = TokenFilter {
        within: Some(d.id),
        include_revoked: true,
    };
    assert_eq!(s.count_tokens(&all_tokens).await.unwrap(), 2);
    // the count agrees with the list, and with a filter
    let audit = AuditFilter::default();
    let listed = s.list_audit(&audit, Page::first(1000)).await.unwrap();
    assert!(
        listed.items.len() >= 21,
        "5 orgs, 8 assets, 2 software, 3 users, 3 token changes"
    );
    assert_eq!(
        s.count_audit(&audit).await.unwrap() as usize,
        listed.items.len()
    );
    let asset_audit = AuditFilter {
        entity_type: Some("asset".into()),
        ..Default::default()
    };
    // eight assets in D and e.cn (its cascade delete is recorded as one org change)
    assert_eq!(s.count_audit(&asset_audit).await.unwrap(), 9);
}

pub async fn deleted_ids_are_never_reused(s: &dyn Store) {
    let (d, a, _b, _a1, _b1) = tree(s).await;
    // delete the newest org, asset and software line, then create again: fresh ids each time, so the
    // audit log never names two entities with one id
    let last_org = crate::cases::org(s, "Z", Some(a.id)).await;
    let x = named(s, a.id, AssetKind::Domain, "x.cn", "", &[]).await;
    let sw = s
        .add_software(
            &actor(),
            x.id,
            SoftwareInput {
                vendor: "v".into(),
                product: "p".into(),
                version: "1".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    s.delete_software(&actor(), sw.id).await.unwrap();
    s.delete_asset(&actor(), x.id).await.unwrap();
    s.delete_org(&actor(), last_org.id, taishi_store::DeleteMode::Refuse)
        .await
        .unwrap();
    let org2 = crate::cases::org(s, "Z2", Some(d.id)).await;
    let y = named(s, a.id, AssetKind::Domain, "y.cn", "", &[]).await;
    let sw2 = s
        .add_software(
            &actor(),
            y.id,
            SoftwareInput {
                vendor: "v".into(),
                product: "p".into(),
                version: "1".into(),
                cpe: None,
            },
        )
        .await
        .unwrap();
    assert!(org2.id > last_org.id, "{} reused", last_org.id);
    assert!(y.id > x.id, "{} reused", x.id);
    assert!(sw2.id > sw.id, "{} reused", sw.id);
    // the same through import
    let doc = RegistryDocument {
        version: 1,
        orgs: vec![],
        assets: vec![AssetRecord {
            org: d.code.clone(),
            kind: AssetKind::Domain,
            identity: "z.cn".into(),
            name: String::new(),
            tags: vec![],
            mlps_level: None,
            critical_infrastructure: false,
            notes: String::new(),
            software: None,
            origin: Origin::default(),
        }],
    };
    s.delete_asset(&actor(), y.id).await.unwrap();
    s.import_registry(&actor(), &doc).await.unwrap();
    let z = s
        .find_asset(AssetKind::Domain, "z.cn", None)
        .await
        .unwrap()
        .unwrap();
    assert!(z.id > y.id, "{} reused by import", y.id);
}
