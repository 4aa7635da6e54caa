//! The shipped examples (examples/registry) import cleanly, their three forms (CSV, JSON, TOML) say the
//! same thing, and attribution over them picks the most specific owner.

use std::path::PathBuf;
use taishi_model::Actor;
use taishi_store::transfer::{self, DocFormat};

fn example(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/registry"
    ))
    .join(name)
}

#[tokio::test]
async fn csv_json_and_toml_examples_agree() {
    let dir = tempfile::tempdir().unwrap();
    let store = taishi_store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let (doc, problems) =
        transfer::read_csv_files(Some(&example("orgs.csv")), Some(&example("assets.csv"))).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let r = store
        .import_registry(&Actor::system("test"), &doc)
        .await
        .unwrap();
    assert_eq!((r.orgs_created, r.assets_created), (9, 14));
    for (file, format) in [
        ("district.json", DocFormat::Json),
        ("district.toml", DocFormat::Toml),
    ] {
        let text = std::fs::read_to_string(example(file)).unwrap();
        let doc = transfer::read_document(file, &text, format).unwrap();
        let r = store
            .import_registry(&Actor::system("test"), &doc)
            .await
            .unwrap();
        assert_eq!(
            (r.orgs_unchanged, r.assets_unchanged),
            (9, 14),
            "{file} differs from the CSV: {r:?}"
        );
    }

    let idx = taishi_store::load_attribution(store.as_ref())
        .await
        .unwrap();
    let owner = async |q: &str| match idx.lookup(q) {
        Some(a) => store.get_org(a.org_id).await.unwrap().code,
        None => "-".to_owned(),
    };
    assert_eq!(owner("203.0.113.45").await, "QH-JY-SY");
    assert_eq!(owner("203.0.113.7").await, "QH");
    assert_eq!(owner("198.51.100.200").await, "-");
    assert_eq!(owner("www.qhsy.edu.cn").await, "QH-JY-SY");
    assert_eq!(owner("mail.qh.gov.cn").await, "QH");
    assert_eq!(owner("https://jyj.qh.gov.cn/news").await, "QH-JY");
    assert_eq!(owner("2001:db8:100::10").await, "QH-SW-ZLS");
    store.close().await;
}
