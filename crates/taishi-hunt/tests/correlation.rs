//! Correlations see events in time order even when files and units are read out of order.

use std::path::PathBuf;

use taishi_hunt::{Fired, collect_inputs, hunt, load_rules};
use taishi_sigma::LoadOptions;

const RULES: &str = r#"
title: Failed Logon
id: 0e95725d-7320-415d-80f7-004da920fc11
name: failed_logon
status: test
author: Rule Author
level: low
logsource: { product: windows, service: security }
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Brute Force Against One Account
id: 0e95725d-7320-415d-80f7-004da920fc12
status: test
author: Correlation Author
level: high
correlation:
    type: event_count
    rules:
        - failed_logon
    group-by:
        - TargetUserName
    timespan: 5m
    condition:
        gte: 3
"#;

fn line(min: u32, user: &str) -> String {
    format!(
        "{{\"Channel\":\"Security\",\"EventID\":4625,\"Hostname\":\"dc1\",\"TargetUserName\":\"{user}\",\"@timestamp\":\"2024-05-01T10:{min:02}:00Z\"}}\n"
    )
}

#[test]
fn event_count_across_files_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, RULES).expect("write");
    // bob fails at 10:00, 10:02 (file a) and 10:01 (file b): three within 5 minutes once sorted.
    // alice fails twice only; carol three times but 10 minutes apart.
    let a = [
        line(0, "bob"),
        line(2, "bob"),
        line(0, "alice"),
        line(0, "carol"),
        line(20, "carol"),
    ]
    .concat();
    let b = [line(1, "bob"), line(3, "alice"), line(10, "carol")].concat();
    std::fs::write(dir.path().join("a.jsonl"), a).expect("write");
    std::fs::write(dir.path().join("b.jsonl"), b).expect("write");
    let (plan, report) = load_rules(&[rules], LoadOptions::default()).expect("load");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.correlations, 1);
    let files: Vec<PathBuf> = collect_inputs(&[dir.path().to_path_buf()]).expect("inputs");
    assert_eq!(files.len(), 2);
    let out = hunt(&plan, &files, &|_| {});
    assert_eq!(out.summary.events, 8);
    // The base rule only feeds the correlation (no `generate: true`), so it is not printed.
    assert_eq!(out.detections.len(), 1, "{:?}", out.detections);
    let d = &out.detections[0];
    assert!(
        matches!(d.fired, Fired::Correlation { events: 3, .. }),
        "{:?}",
        d.fired
    );
    assert_eq!(d.meta(&plan).author.as_deref(), Some("Correlation Author"));
    assert!(
        d.fields
            .contains(&("TargetUserName".to_string(), "bob".to_string())),
        "{:?}",
        d.fields
    );
    assert_eq!(
        d.timestamp.map(|t| t.to_string()).as_deref(),
        Some("2024-05-01T10:02:00Z")
    );
    assert_eq!(out.summary.detections(), 1);
}
