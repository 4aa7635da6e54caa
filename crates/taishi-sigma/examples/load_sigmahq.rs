//! Loads the whole SigmaHQ rule set and prints how many rules parsed, compiled and were left out,
//! with the time the load and the compilation took.
//!
//! `cargo run --release -p taishi-sigma --example load_sigmahq [RULES_ROOT] [--strict] [--list] [--dirs a,b]`
//!
//! `RULES_ROOT` defaults to the shared SigmaHQ copy. By default placeholders without values are
//! replaced by `*` (pySigma's last resort) and unmapped rules are evaluated on every event, so
//! every rule is compiled; `--strict` uses the specification's reject policy and the default
//! Windows mapping's `skip`. `--list` prints every rule that was not loaded.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use taishi_sigma::{LoadOptions, Loader, Mapping, Placeholders, UnknownPlaceholder, Unmapped};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    let list = args.iter().any(|a| a == "--list");
    let root = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--dirs"))
        .map(|(_, a)| a)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/sigma"
            ))
        });
    let default_dirs = "rules,rules-threat-hunting,rules-emerging-threats,rules-compliance,rules-placeholder,rules-dfir";
    let dirs = args
        .iter()
        .position(|a| a == "--dirs")
        .and_then(|i| args.get(i + 1))
        .map_or(default_dirs, String::as_str);
    let mut files = Vec::new();
    for d in dirs.split(',') {
        yaml_files(&root.join(d), &mut files);
    }
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
        .collect();

    let mut opts = LoadOptions::default();
    if !strict {
        opts.placeholders = Placeholders {
            unknown: UnknownPlaceholder::Wildcard,
            ..Placeholders::default()
        };
        opts.mapping = Mapping {
            unmapped: Unmapped::Evaluate,
            ..Mapping::windows_default()
        };
    }
    let tp = Instant::now();
    let parsed: usize = texts
        .iter()
        .map(|(o, t)| taishi_sigma::parse_text(o, t).map_or(0, |d| d.len()))
        .sum();
    let parse_time = tp.elapsed();
    let t0 = Instant::now();
    let mut loader = Loader::new(opts);
    for (origin, text) in &texts {
        loader.add_text(origin, text);
    }
    let (plan, report) = loader.build();
    let elapsed = t0.elapsed();
    let s = plan.stats();
    println!("files: {}  documents: {}", texts.len(), report.documents);
    println!(
        "compiled: {}  in plan: {}  unmapped (not in plan): {}  not loaded: {}",
        report.compiled,
        report.rules,
        report.unmapped.len(),
        report.errors.len()
    );
    println!(
        "variants: {}  indexed by channel: {}  by channel+EventID: {}  prefiltered: {}  needles: {}  buckets: {} ({} scan every value)",
        s.variants,
        s.indexed_by_channel,
        s.indexed_by_event_id,
        s.prefiltered,
        s.needles,
        s.buckets,
        s.buckets_scanning_all
    );
    println!(
        "load + compile time: {:.3} s (of which YAML parsing alone: {:.3} s for {parsed} documents)",
        elapsed.as_secs_f64(),
        parse_time.as_secs_f64()
    );
    if list {
        for e in &report.errors {
            println!("NOT LOADED {} :: {}", e.location(), e.reason());
        }
        for u in &report.unmapped {
            println!("UNMAPPED {} {} ({})", u.rule, u.origin, u.logsource);
        }
    }
}
