//! `taishi probe --format json` through the real binary against the lab: one JSON document per
//! target with every check run and the expected findings.

use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_json_against_the_lab() {
    let lab = taishi_probe::lab::Lab::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let names = ["good", "cert-self-signed", "exposed-files", "soft-404"];
    let targets: Vec<String> = names
        .iter()
        .map(|n| lab.site(n).unwrap().target.clone())
        .collect();
    let bin = env!("CARGO_BIN_EXE_taishi");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("probe")
            .arg("--format")
            .arg("json")
            .arg("--ca")
            .arg(&ca)
            .args(&targets)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), names.len());
    let ids = |d: &serde_json::Value| -> Vec<String> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check_id"].as_str().unwrap().to_string())
            .collect()
    };
    for d in &docs {
        let checks = d["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 9, "{d}");
        assert!(
            checks
                .iter()
                .all(|c| c["outcome"].is_string() && c["duration_ms"].is_u64())
        );
        for f in d["findings"].as_array().unwrap() {
            assert!(
                f["severity"].is_string()
                    && f["title_en"].is_string()
                    && f["evidence"]["text"].is_string()
            );
        }
    }
    assert!(ids(&docs[0]).is_empty(), "good site: {:?}", ids(&docs[0]));
    assert!(
        ids(&docs[1]).contains(&"tls.cert.untrusted".to_string()),
        "{:?}",
        ids(&docs[1])
    );
    assert!(
        ids(&docs[2]).contains(&"exposure.git".to_string())
            && ids(&docs[2]).contains(&"exposure.env".to_string())
    );
    assert!(
        !ids(&docs[3]).iter().any(|i| i.starts_with("exposure.")),
        "soft 404: {:?}",
        ids(&docs[3])
    );
    // Without --ca the lab CA is unknown: the good site's certificate is untrusted.
    let good = lab.site("good").unwrap().target.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["probe", "--format", "json", &good])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&doc).contains(&"tls.cert.untrusted".to_string()));
}
