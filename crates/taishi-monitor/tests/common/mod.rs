//! Shared test setup: a temp SQLite store, an org, a manual clock and the loop.
#![allow(dead_code)]

use jiff::Timestamp;
use std::sync::Arc;
use taishi_loop::{LoopService, ManualClock};
use taishi_model::{Actor, Asset, AssetInput, AssetKind, Org, OrgInput, OrgKind, Sector};
use taishi_store::Store;

pub struct World {
    pub _dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub org: Org,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let org = store
        .create_org(
            &Actor::system("test"),
            OrgInput {
                parent_id: None,
                code: "district".into(),
                name: "示范区".into(),
                kind: OrgKind::District,
                sector: Sector::Government,
                region_code: None,
                critical_infrastructure: false,
                contacts: Default::default(),
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    let clock = ManualClock::at("2026-11-28T08:00:00Z".parse::<Timestamp>().unwrap());
    World {
        _dir: dir,
        store,
        clock,
        org,
    }
}

impl World {
    pub fn service(&self) -> LoopService {
        LoopService::new(Arc::clone(&self.store), Arc::new(self.clock.clone()))
    }

    pub async fn asset(&self, kind: AssetKind, identity: &str, tags: &[&str]) -> Asset {
        self.store
            .create_asset(
                &Actor::system("test"),
                AssetInput {
                    org_id: self.org.id,
                    kind,
                    identity: identity.into(),
                    name: identity.into(),
                    tags: tags.iter().map(|s| (*s).to_owned()).collect(),
                    mlps_level: None,
                    critical_infrastructure: false,
                    notes: String::new(),
                },
            )
            .await
            .unwrap()
    }
}
