//! `taishi hunt` as a user runs it: the real binary over the shared EVTX, JSON and syslog samples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn taishi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taishi"))
        .args(args)
        .env_remove("TAISHI_HUNT_RULES")
        .output()
        .expect("taishi runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const NET: &str = r#"
title: Net Execution
id: 11111111-2222-4333-8444-555555555555
status: test
author: Test Author
level: medium
logsource: { category: process_creation, product: windows }
detection:
    selection:
        Image|endswith:
            - '\net.exe'
            - '\net1.exe'
    condition: selection
"#;

const LSASS: &str = r#"
title: LSASS Access
id: 22222222-2222-4333-8444-555555555555
status: stable
author: Another Author
level: high
logsource: { category: process_access, product: windows }
detection:
    selection:
        TargetImage|endswith: '\lsass.exe'
    condition: selection
"#;

fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("net.yml"), NET).expect("write");
    std::fs::write(dir.path().join("lsass.yml"), LSASS).expect("write");
    dir
}

fn samples(sub: &str) -> PathBuf {
    Path::new(DATA).join("evtx/EVTX-ATTACK-SAMPLES").join(sub)
}

#[test]
fn jsonl_detections_carry_rule_metadata_and_author() {
    let rules = rules_dir();
    let out = taishi(&[
        "hunt",
        "--rules",
        rules.path().to_str().expect("utf-8"),
        "--format",
        "jsonl",
        "--sort",
        samples("Credential Access").to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let lsass: Vec<_> = lines
        .iter()
        .filter(|d| d["rule_title"] == "LSASS Access")
        .collect();
    assert!(lsass.len() >= 5, "{} detections", lsass.len());
    for d in &lines {
        for key in [
            "rule_id",
            "rule_title",
            "level",
            "author",
            "timestamp",
            "computer",
            "channel",
            "event_id",
            "file",
        ] {
            assert!(!d[key].is_null(), "{key} missing in {d}");
        }
    }
    for d in lsass {
        assert_eq!(d["author"], "Another Author");
        assert_eq!(d["event_id"], 10);
        assert!(
            d["fields"]["TargetImage"]
                .as_str()
                .expect("matched field")
                .to_lowercase()
                .ends_with("\\lsass.exe")
        );
    }
    let times: Vec<&str> = lines
        .iter()
        .map(|d| d["timestamp"].as_str().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "timeline order");
    // The summary goes to standard error so that standard output stays JSON.
    assert!(
        text(&out.stderr).contains("detections from"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn level_and_status_select_rules() {
    let rules = rules_dir();
    let dir = rules.path().to_str().expect("utf-8");
    let data = samples("Credential Access");
    let data = data.to_str().expect("utf-8");
    let out = taishi(&[
        "hunt", "-q", "-r", dir, "--level", "critical", "--format", "csv", data,
    ]);
    assert!(!out.status.success(), "no rule is critical");
    assert!(
        text(&out.stderr).contains("no rule loaded"),
        "{}",
        text(&out.stderr)
    );
    let out = taishi(&[
        "hunt", "-q", "-r", dir, "--status", "stable", "--format", "csv", data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "timestamp,rule_title,level,rule_id,computer,channel,event_id,fields,author,file,record"
        )
    );
    assert!(lines.clone().count() >= 5);
    assert!(lines.all(|l| l.contains("LSASS Access") && l.contains("Another Author")));
}

#[test]
fn table_over_zipped_json_lines_and_evtx_ends_with_summary() {
    let rules = rules_dir();
    let zips = Path::new(DATA).join("jsonl/security-datasets/atomic/windows/discovery");
    let out = taishi(&[
        "hunt",
        "-r",
        rules.path().to_str().expect("utf-8"),
        zips.to_str().expect("utf-8"),
        samples("Discovery").to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("TIMESTAMP"), "{stdout}");
    assert!(stdout.contains("Net Execution"), "{stdout}");
    assert!(stdout.contains(".zip!"), "zip entries are named: {stdout}");
    assert!(stdout.contains("Scanned"), "summary: {stdout}");
}

#[test]
fn syslog_with_a_user_mapping() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("map.yml"),
        "unmapped: evaluate\nlogsources:\n  - product: linux\n    service: auth\n    conditions: {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("ssh.yml"),
        "title: SSH Root Login Failure\nid: 33333333-2222-4333-8444-555555555555\nauthor: T\nlevel: low\n\
         logsource: { product: linux, service: auth }\ndetection:\n  keywords:\n    - 'Failed password for root'\n  \
         condition: keywords\n",
    )
    .expect("write");
    let log = dir.path().join("auth.log");
    let good = "Nov  3 07:01:02 web1 sshd[4242]: Failed password for root from 10.0.0.1 port 22\n\
                Nov  3 07:01:09 web1 sshd[4242]: Accepted password for alice from 10.0.0.2 port 22\n";
    std::fs::write(&log, format!("{good}\u{1}\u{2} garbage\n")).expect("write");
    let out = taishi(&[
        "hunt",
        "-r",
        dir.path().join("ssh.yml").to_str().expect("utf-8"),
        "--mapping",
        dir.path().join("map.yml").to_str().expect("utf-8"),
        "--format",
        "jsonl",
        log.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let d: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(d["computer"], "web1");
    assert_eq!(d["channel"], "syslog");
    assert_eq!(d["record"], 1);
    // The bad line is skipped with a warning naming the file and offset.
    let at = format!("auth.log (offset {})", good.len());
    assert!(text(&out.stderr).contains(&at), "{}", text(&out.stderr));
}

#[test]
fn no_rules_is_a_clear_error() {
    let out = taishi(&["hunt", DATA]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--rules"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn streamed_and_sorted_output_hold_the_same_detections() {
    let rules = rules_dir();
    let run = |sort: bool| {
        let mut args = vec![
            "hunt",
            "-q",
            "-r",
            rules.path().to_str().expect("utf-8"),
            "--format",
            "jsonl",
        ];
        if sort {
            args.push("--sort");
        }
        let data = samples("Lateral Movement");
        let data = data.to_str().expect("utf-8").to_string();
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.push(data);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = taishi(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        lines.sort();
        lines
    };
    let streamed = run(false);
    assert!(!streamed.is_empty());
    assert_eq!(streamed, run(true));
}

#[test]
fn detections_load_into_the_platform_as_attributed_alerts() {
    // A registry with the example district (its egress range is 203.0.113.0/24, its domain qh.gov.cn).
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite://{}", tmp.path().join("taishi.db").display());
    let reg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/registry");
    let out = taishi(&[
        "import",
        "--store",
        &store,
        "--orgs",
        reg.join("orgs.csv").to_str().expect("utf-8"),
        "--assets",
        reg.join("assets.csv").to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));

    // Two net.exe runs on a host of the district's domain within the hour, one on a stranger.
    let ev = |t: &str, host: &str| {
        format!(
            r#"{{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"{host}","UtcTime":"{t}","Image":"C:\\Windows\\System32\\net.exe"}}"#
        ) + "\n"
    };
    let log = tmp.path().join("forwarded.jsonl");
    let lines = [
        ev("2026-11-28 10:05:00.000", "pc1.qh.gov.cn"),
        ev("2026-11-28 10:35:00.000", "pc1.qh.gov.cn"),
        ev("2026-11-28 10:06:00.000", "stranger.example"),
    ]
    .concat();
    std::fs::write(&log, lines).expect("write log");
    let rules = rules_dir();
    let run = || {
        taishi(&[
            "hunt",
            "-q",
            "--format",
            "jsonl",
            "--rules",
            rules.path().to_str().expect("utf-8"),
            "--load-into",
            &store,
            log.to_str().expect("utf-8"),
        ])
    };
    let out = run();
    assert!(out.status.success(), "hunt: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().count(),
        3,
        "all three detections are printed"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("alerts: 1 new findings, 1 folded into existing ones, 1 unattributed hosts: stranger.example"),
        "{err}"
    );
    // Loading the same logs again opens nothing new.
    let err = text(&run().stderr);
    assert!(err.contains("alerts: 0 new findings, 2 folded"), "{err}");
}
