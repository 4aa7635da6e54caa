//! The demo constituency for `taishi serve --demo`: a district with departments and townships, their
//! villages and schools, contacts, a few users per role with a known demo password, and website assets
//! that are the lab's flawed (and good) sites, so the scheduler shows real findings within a minute.
//! Only for demonstration: the password is printed and the same for every demo user.

use crate::MonitorError;
use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use taishi_model::{
    Actor, AssetFilter, AssetInput, AssetKind, Contact, Contacts, NewUser, Org, OrgInput, OrgKind,
    Page, Role, Sector,
};
use taishi_probe::lab::Lab;
use taishi_store::{Store, StoreError};

/// The password of every demo user (demo mode only).
pub const DEMO_PASSWORD: &str = "taishi-demo-2026";
/// The tag on assets the demo created (they are replaced on the next demo start, the lab's ports change).
pub const DEMO_TAG: &str = "demo-lab";

/// (code, parent code, name, kind, sector).
const ORGS: &[(&str, &str, &str, OrgKind, Sector)] = &[
    (
        "demo-district",
        "",
        "示范区",
        OrgKind::District,
        Sector::Government,
    ),
    (
        "demo-data",
        "demo-district",
        "示范区政务服务和数据管理局",
        OrgKind::Department,
        Sector::Government,
    ),
    (
        "demo-edu",
        "demo-district",
        "示范区教育局",
        OrgKind::Department,
        Sector::Education,
    ),
    (
        "demo-health",
        "demo-district",
        "示范区卫生健康局",
        OrgKind::Department,
        Sector::Health,
    ),
    (
        "demo-chengguan",
        "demo-district",
        "城关镇",
        OrgKind::Township,
        Sector::Government,
    ),
    (
        "demo-hexi",
        "demo-district",
        "河西街道",
        OrgKind::Township,
        Sector::Government,
    ),
    (
        "demo-dongcun",
        "demo-chengguan",
        "城关镇东村",
        OrgKind::Village,
        Sector::Government,
    ),
    (
        "demo-hexi-shequ",
        "demo-hexi",
        "河西街道滨河社区",
        OrgKind::Village,
        Sector::Government,
    ),
    (
        "demo-school1",
        "demo-edu",
        "示范区第一中学",
        OrgKind::Institution,
        Sector::Education,
    ),
    (
        "demo-cg-school",
        "demo-chengguan",
        "城关镇中心小学",
        OrgKind::Institution,
        Sector::Education,
    ),
    (
        "demo-hospital",
        "demo-health",
        "示范区人民医院",
        OrgKind::Institution,
        Sector::Health,
    ),
];

/// Which org owns which lab site (name as in the lab).
const SITES: &[(&str, &str)] = &[
    ("good", "demo-district"),
    ("good-https", "demo-district"),
    ("headers-missing", "demo-data"),
    ("headers-bad", "demo-data"),
    ("tls-legacy", "demo-data"),
    ("cert-wrong-host", "demo-data"),
    ("old-software", "demo-data"),
    ("redis", "demo-data"),
    ("cert-expired", "demo-edu"),
    ("tls10-only", "demo-edu"),
    ("exposed-files", "demo-school1"),
    ("cert-self-signed", "demo-health"),
    ("cert-expiring", "demo-hospital"),
    ("tls-weak-cipher", "demo-hospital"),
    ("dir-listing", "demo-health"),
    ("defaced", "demo-chengguan"),
    ("hidden-links", "demo-chengguan"),
    ("plain-http", "demo-cg-school"),
    ("script-links", "demo-hexi"),
    ("cloaking", "demo-hexi"),
    ("soft-404", "demo-hexi-shequ"),
    ("flapping", "demo-hexi-shequ"),
    ("content", "demo-dongcun"),
    ("slow", "demo-school1"),
    ("down", "demo-dongcun"),
];

/// (login, role, org code, display name).
const USERS: &[(&str, Role, &str, &str)] = &[
    ("demo-admin", Role::Admin, "demo-district", "示范区管理员"),
    (
        "demo-analyst",
        Role::Analyst,
        "demo-district",
        "区网信办分析员",
    ),
    (
        "demo-viewer",
        Role::Viewer,
        "demo-district",
        "区领导（只读）",
    ),
    (
        "demo-officer-edu",
        Role::Officer,
        "demo-edu",
        "教育局安全员",
    ),
    (
        "demo-officer-data",
        Role::Officer,
        "demo-data",
        "数据局安全员",
    ),
    (
        "demo-officer-cg",
        Role::Officer,
        "demo-chengguan",
        "城关镇安全员",
    ),
];

/// What seeding did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Orgs created (0 when the constituency was already there).
    pub orgs: usize,
    /// Website and system assets (re)created for the lab's sites.
    pub assets: usize,
    /// Demo users created, with their roles.
    pub users: Vec<(String, Role)>,
}

fn contacts(i: usize, name: &str) -> Contacts {
    Contacts {
        principal: Contact {
            name: format!("{name}负责人"),
            phone: format!("0571-8800{:04}", i * 2),
            email: String::new(),
        },
        security_officer: Contact {
            name: format!("{name}安全员"),
            phone: format!("138{:08}", 10_000 + i),
            email: format!("security{i}@demo.example.cn"),
        },
    }
}

async fn org_by_code(store: &dyn Store, code: &str) -> Result<Option<Org>, StoreError> {
    match store.get_org_by_code(code).await {
        Ok(o) => Ok(Some(o)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Seeds the constituency under the root org `authority` (created by the server's first start) or at
/// the top, and points its assets at `lab`'s sites. Safe to run on every demo start.
pub async fn seed(store: &dyn Store, lab: &Lab) -> Result<Seeded, MonitorError> {
    let actor = Actor::system("demo");
    let mut out = Seeded::default();
    let root = org_by_code(store, "authority").await?;
    for (i, (code, parent, name, kind, sector)) in ORGS.iter().enumerate() {
        if org_by_code(store, code).await?.is_some() {
            continue;
        }
        let parent_id = if parent.is_empty() {
            root.as_ref().map(|o| o.id)
        } else {
            org_by_code(store, parent).await?.map(|o| o.id)
        };
        let input = OrgInput {
            parent_id,
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            kind: *kind,
            sector: *sector,
            region_code: None,
            critical_infrastructure: *code == "demo-hospital",
            contacts: contacts(i, name),
            notes: "demo".into(),
        };
        store.create_org(&actor, input).await?;
        out.orgs += 1;
    }
    // The lab's ports change on every start: replace the demo's assets.
    let old = store
        .list_assets(
            &AssetFilter {
                tag: Some(DEMO_TAG.into()),
                ..AssetFilter::default()
            },
            Page {
                limit: 1000,
                after: None,
            },
        )
        .await?;
    for a in old.items {
        store.delete_asset(&actor, a.id).await?;
    }
    for (site_name, code) in SITES {
        let Some(site) = lab.site(site_name) else {
            continue;
        };
        let Some(org) = org_by_code(store, code).await? else {
            continue;
        };
        let bare = !site.target.contains("://");
        let input = AssetInput {
            org_id: org.id,
            kind: if bare {
                AssetKind::System
            } else {
                AssetKind::Website
            },
            identity: if bare {
                format!("{}（{}）", site.flaw_zh, site.name)
            } else {
                site.target.clone()
            },
            name: format!("{}（实验站点 {}）", site.flaw_zh, site.name),
            tags: if bare {
                vec![
                    DEMO_TAG.to_owned(),
                    format!("{}{}", crate::plan::PROBE_TAG, site.target),
                ]
            } else {
                vec![DEMO_TAG.to_owned()]
            },
            mlps_level: None,
            critical_infrastructure: *code == "demo-hospital",
            notes: format!("{} / {}", site.flaw_en, site.flaw_zh),
        };
        store.create_asset(&actor, input).await?;
        out.assets += 1;
    }
    for (login, role, code, display) in USERS {
        if store.user_credentials(login).await?.is_some() {
            continue;
        }
        let Some(org) = org_by_code(store, code).await? else {
            continue;
        };
        let hash = Argon2::default()
            .hash_password(DEMO_PASSWORD.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| MonitorError::Demo(format!("hashing the demo password: {e}")))?;
        let user = NewUser {
            name: (*login).to_owned(),
            display_name: (*display).to_owned(),
            role: *role,
            org_id: org.id,
            password_hash: hash,
        };
        store.create_user(&actor, user).await?;
        out.users.push(((*login).to_owned(), *role));
    }
    Ok(out)
}
