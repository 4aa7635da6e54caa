//! Conformance cases for run-time settings (migration 0103): save, replace, read back, delete, and the
//! audit line of each change showing the redacted form only.

use crate::cases::*;
use taishi_model::*;
use taishi_store::{SettingChange, Store, StoreError};

pub async fn settings_save_replace_delete_with_audit(s: &dyn Store) {
    let (d, a, _, _, _) = tree(s).await;
    assert!(s.get_setting("loop.policy").await.unwrap().is_none());
    assert!(s.list_settings().await.unwrap().is_empty());
    let first = s
        .put_setting(
            &actor(),
            SettingChange {
                key: "loop.channels",
                value: Some("url = \"https://robot.example/send?access_token=SECRET\""),
                shown: "url = \"https://robot.example/send?…\"",
                org: Some(d.id),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.updated_by, "user:tester");
    let got = s.get_setting("loop.channels").await.unwrap().unwrap();
    assert_eq!(got, first);
    assert!(got.value.contains("SECRET") && !got.shown.contains("SECRET"));

    let second = s
        .put_setting(
            &actor(),
            SettingChange {
                key: "loop.channels",
                value: Some("url = \"https://robot.example/v2?access_token=OTHER\""),
                shown: "url = \"https://robot.example/v2?…\"",
                org: Some(d.id),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(second.value.contains("OTHER"));
    s.put_setting(
        &actor(),
        SettingChange {
            key: "loop.policy",
            value: Some("ack_workdays = 2"),
            shown: "ack_workdays = 2",
            org: Some(a.id),
        },
    )
    .await
    .unwrap();
    let keys: Vec<String> = s
        .list_settings()
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.key)
        .collect();
    assert_eq!(keys, ["loop.channels", "loop.policy"]);

    let gone = s
        .put_setting(
            &actor(),
            SettingChange {
                key: "loop.channels",
                value: None,
                shown: "",
                org: Some(d.id),
            },
        )
        .await
        .unwrap();
    assert!(gone.is_none());
    assert!(s.get_setting("loop.channels").await.unwrap().is_none());
    let again = s
        .put_setting(
            &actor(),
            SettingChange {
                key: "loop.channels",
                value: None,
                shown: "",
                org: Some(d.id),
            },
        )
        .await;
    assert!(matches!(again, Err(StoreError::NotFound { .. })));
    let bad = s
        .put_setting(
            &actor(),
            SettingChange {
                key: "Bad Key",
                value: Some("x"),
                shown: "x",
                org: None,
            },
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(ref f)) if f[0].field == "key"));

    let log = s
        .list_audit(
            &AuditFilter {
                entity_type: Some("setting".into()),
                ..Default::default()
            },
            Page::first(100),
        )
        .await
        .unwrap()
        .items;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "setting.put",
            "setting.put",
            "setting.put",
            "setting.delete"
        ]
    );
    assert!(log[0].before.is_none());
    assert_eq!(
        log[1].before.as_ref().unwrap()["value"],
        "url = \"https://robot.example/send?…\""
    );
    assert_eq!(
        log[1].after.as_ref().unwrap()["value"],
        "url = \"https://robot.example/v2?…\""
    );
    assert!(log[3].after.is_none());
    let text = format!("{log:?}");
    assert!(!text.contains("SECRET") && !text.contains("OTHER"));
    // Scoped: the policy change was made from A's admin, so D's subtree sees it and B's does not.
    let in_a = s
        .list_audit(
            &AuditFilter {
                within: Some(a.id),
                entity_type: Some("setting".into()),
                ..Default::default()
            },
            Page::first(100),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(in_a.len(), 1);
    assert_eq!(in_a[0].entity_id, "loop.policy");
}
