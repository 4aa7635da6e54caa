//! SigmaHQ's regression data: every rule with a regression test present must match its sample at
//! least `match_count` times, through the EVTX file and through its JSON copy, with all active rules
//! loaded (as a user would run them) and the built-in Windows mapping.
//!
//! Prints the pass rate and every failure; fails if the rate drops below the measured figure.

#![allow(clippy::print_stdout)] // the test reports its pass rate and failures

use std::path::{Path, PathBuf};

use taishi_events::Source;
use taishi_sigma::{LoadOptions, Plan, Scratch};

const SIGMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");

/// Passing (test, copy) pairs measured on this data (324 of 324 = 100 % on 2026-11-28); raise it
/// when tests are added.
const RATCHET_PASSED: usize = 324;

struct Case {
    info: PathBuf,
    rule_id: String,
    sample: PathBuf,
    match_count: usize,
}

fn info_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            info_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

/// Reads the few keys of an `info.yml` this test needs (the files are generated and regular).
fn cases(info: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(info).expect("info.yml");
    let mut rule_id = None;
    let mut out = Vec::new();
    let mut count = 1;
    let mut in_rules = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if t == "rule_metadata:" {
            in_rules = true;
        } else if t == "regression_tests_info:" {
            in_rules = false;
        } else if let Some(id) = t.strip_prefix("- id:").filter(|_| in_rules) {
            rule_id.get_or_insert(id.trim().to_string());
        } else if t.starts_with("- name:") {
            count = 1;
        } else if let Some(n) = t.strip_prefix("match_count:") {
            count = n.trim().parse().expect("match_count");
        } else if let Some(p) = t.strip_prefix("path:") {
            let sample = Path::new(SIGMA).join(p.trim());
            if let Some(id) = &rule_id
                && sample.exists()
            {
                out.push(Case {
                    info: info.to_path_buf(),
                    rule_id: id.clone(),
                    sample,
                    match_count: count,
                });
            }
        }
    }
    out
}

fn count_hits(plan: &Plan, rule: usize, file: &Path) -> Result<usize, String> {
    let src = Source::open(file).map_err(|e| e.to_string())?;
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let mut n = 0;
    let mut warnings = Vec::new();
    src.read_all(
        &mut |e| {
            hits.clear();
            plan.matches_into(e, &mut scratch, &mut hits);
            n += usize::from(hits.contains(&rule));
        },
        &mut |w| warnings.push(w.to_string()),
    )
    .map_err(|e| e.to_string())?;
    if !warnings.is_empty() {
        return Err(warnings.join("; "));
    }
    Ok(n)
}

#[test]
fn sigmahq_regression_data() {
    let rule_dirs: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| Path::new(SIGMA).join(d))
        .collect();
    let (plan, report) =
        taishi_hunt::load_rules(&rule_dirs, LoadOptions::default()).expect("rules load");
    println!(
        "loaded {} rules ({} errors, {} unmapped)",
        report.rules,
        report.errors.len(),
        report.unmapped.len()
    );
    let mut infos = Vec::new();
    info_files(&Path::new(SIGMA).join("regression_data"), &mut infos);
    let all: Vec<Case> = infos.iter().flat_map(|i| cases(i)).collect();
    assert!(
        all.len() >= 150,
        "only {} regression tests found",
        all.len()
    );
    let (mut passed, mut total) = (0, 0);
    let mut failures = Vec::new();
    for case in &all {
        let rule = plan
            .rules()
            .iter()
            .position(|r| r.meta.id.as_deref() == Some(case.rule_id.as_str()));
        for copy in [case.sample.clone(), case.sample.with_extension("json")] {
            if !copy.exists() {
                continue;
            }
            total += 1;
            let kind = copy
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_string();
            let verdict = match rule {
                None => Err("rule not in the plan (load error or unmapped)".to_string()),
                Some(r) => count_hits(&plan, r, &copy).and_then(|n| {
                    if n >= case.match_count {
                        Ok(())
                    } else {
                        Err(format!("{n} of {} matches", case.match_count))
                    }
                }),
            };
            match verdict {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!(
                    "{} [{kind}] {}: {why}",
                    case.rule_id,
                    case.info
                        .parent()
                        .and_then(|p| p.file_name())
                        .map_or(String::new(), |n| n.to_string_lossy().into()),
                )),
            }
        }
    }
    let rate = 100.0 * passed as f64 / total.max(1) as f64;
    println!(
        "regression: {passed}/{total} sample copies pass ({rate:.1}%), {} tests",
        all.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    for e in report
        .errors
        .iter()
        .filter(|e| all.iter().any(|c| e.to_string().contains(&c.rule_id)))
    {
        println!("load error of a tested rule: {e}");
    }
    assert!(
        passed >= RATCHET_PASSED,
        "pass count fell to {passed} (ratchet {RATCHET_PASSED})"
    );
}
