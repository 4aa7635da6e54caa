//! The whole SigmaHQ rule set (shared data) parses and compiles; what cannot be loaded is listed
//! with the rule id and the reason.

#![allow(clippy::print_stderr)] // tests explain why they skip

use std::path::{Path, PathBuf};

use taishi_sigma::{
    Error, LoadOptions, LoadReport, Loader, Mapping, Placeholders, UnknownPlaceholder, Unmapped,
};

const SIGMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");
const ACTIVE: [&str; 6] = [
    "rules",
    "rules-threat-hunting",
    "rules-emerging-threats",
    "rules-compliance",
    "rules-placeholder",
    "rules-dfir",
];

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for p in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

fn load(dirs: &[&str], opts: LoadOptions) -> Option<(usize, LoadReport)> {
    let root = Path::new(SIGMA);
    if !root.join("rules").is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "SigmaHQ data missing at {SIGMA}"
        );
        eprintln!("skipping: SigmaHQ data not found at {SIGMA}");
        return None;
    }
    let mut files = Vec::new();
    for d in dirs {
        yaml_files(&root.join(d), &mut files);
    }
    let mut loader = Loader::new(opts);
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable rule file");
        loader.add_text(&f.display().to_string(), &text);
    }
    let (plan, report) = loader.build();
    assert_eq!(plan.rules().len(), report.rules);
    Some((files.len(), report))
}

fn everything() -> LoadOptions {
    LoadOptions {
        mapping: Mapping {
            unmapped: Unmapped::Evaluate,
            ..Mapping::windows_default()
        },
        placeholders: Placeholders {
            unknown: UnknownPlaceholder::Wildcard,
            ..Placeholders::default()
        },
        ..LoadOptions::default()
    }
}

#[test]
fn every_active_rule_parses_and_compiles() {
    let Some((files, report)) = load(&ACTIVE, everything()) else {
        return;
    };
    let listing: Vec<String> = report
        .errors
        .iter()
        .map(|e| format!("{} :: {}", e.location(), e.reason()))
        .collect();
    assert!(
        listing.is_empty(),
        "{} rules not loaded:\n{}",
        listing.len(),
        listing.join("\n")
    );
    assert!(
        files >= 3780,
        "expected the SigmaHQ snapshot's 3,780 rule files, found {files}"
    );
    assert_eq!(report.documents, files);
    assert_eq!(report.compiled, report.documents);
    assert_eq!(report.rules, report.compiled);
}

#[test]
fn strict_loading_rejects_only_unresolved_placeholders_and_skips_unmapped_rules() {
    let Some((_, report)) = load(&ACTIVE, LoadOptions::default()) else {
        return;
    };
    for e in &report.errors {
        assert!(
            e.reason().contains("placeholder %"),
            "unexpected error: {e}"
        );
        assert!(e.location().rule.is_some(), "errors name the rule: {e}");
    }
    assert_eq!(report.compiled + report.errors.len(), report.documents);
    assert_eq!(report.rules + report.unmapped.len(), report.compiled);
    // Every Windows rule with an EVTX channel is in the plan; what is unmapped is non-Windows
    // or ETW-only (file_access, file_rename).
    for u in &report.unmapped {
        let ls = &u.logsource;
        let windows_etw = ls.product.as_deref() == Some("windows")
            && matches!(ls.category.as_deref(), Some("file_access" | "file_rename"));
        assert!(
            ls.product.as_deref() != Some("windows") || windows_etw,
            "unmapped Windows rule {} ({ls})",
            u.rule
        );
    }
}

#[test]
fn legacy_and_deprecated_rules_never_panic_and_are_explained() {
    let Some((_, report)) = load(&["unsupported", "deprecated"], everything()) else {
        return;
    };
    assert!(report.documents > 200);
    assert!(!report.errors.is_empty());
    for e in &report.errors {
        assert!(
            matches!(e, Error::Unsupported { .. } | Error::Field { .. }),
            "{e}"
        );
        assert!(!e.location().origin.is_empty());
    }
}
