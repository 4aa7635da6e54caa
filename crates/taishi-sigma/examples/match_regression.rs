//! Matching figures on SigmaHQ's regression events, independent of any EVTX reader: the
//! evtx_dump-style `.json` copies are flattened here (System attributes as `Tag_Attribute`,
//! EventData/UserData children by name), every rule is loaded with the built-in Windows mapping,
//! and the example prints
//! 1. the regression pass rate (the rule of each test fires at least `match_count` times), with
//!    every failure;
//! 2. single-thread matching throughput over the events replicated `--times N` (default 200).
//!
//! `cargo run --release -p taishi-sigma --example match_regression [-- --times 200]`
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value as Json;
use taishi_fields::{FieldSource, Value};
use taishi_sigma::{LoadOptions, Loader, Scratch};

const SIGMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");

struct Ev(Vec<(String, Value<'static>)>);

impl FieldSource for Ev {
    fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
        let mut found = false;
        for (k, v) in &self.0 {
            if k == name {
                found = true;
                visit(v);
            }
        }
        found
    }
    fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
        self.0.iter().for_each(|(k, v)| visit(k, v));
    }
}

fn scalar(j: &Json) -> Option<Value<'static>> {
    Some(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
        Json::String(s) => Value::Str(s.clone().into()),
        _ => return None,
    })
}

fn push(out: &mut Vec<(String, Value<'static>)>, name: &str, v: Value<'static>) {
    if name.contains(' ') {
        out.push((name.replace(' ', ""), v.clone()));
    }
    out.push((name.to_owned(), v));
}

fn data(out: &mut Vec<(String, Value<'static>)>, name: &str, j: &Json) {
    match j {
        Json::Object(m) => {
            if let Some(t) = m.get("#text").and_then(scalar) {
                push(out, name, t);
            }
            for (k, v) in m.iter().filter(|(k, _)| !k.starts_with('#')) {
                data(out, k, v);
            }
        }
        Json::Array(items) => items.iter().for_each(|i| data(out, name, i)),
        other => {
            if let Some(v) = scalar(other) {
                push(out, name, v);
            }
        }
    }
}

fn flatten(ev: &Json) -> Ev {
    let mut out = Vec::new();
    let e = &ev["Event"];
    if let Some(sys) = e["System"].as_object() {
        for (k, v) in sys {
            match v {
                Json::Object(m) => {
                    if let Some(t) = m.get("#text").and_then(scalar) {
                        out.push((k.clone(), t));
                    }
                    if let Some(Json::Object(attrs)) = m.get("#attributes") {
                        for (a, av) in attrs {
                            if let Some(s) = scalar(av) {
                                out.push((format!("{k}_{a}"), s));
                            }
                        }
                    }
                }
                other => {
                    if let Some(s) = scalar(other) {
                        out.push((k.clone(), s));
                    }
                }
            }
        }
    }
    for section in ["EventData", "UserData"] {
        if let Some(m) = e[section].as_object() {
            for (k, v) in m.iter().filter(|(k, _)| !k.starts_with('#')) {
                data(&mut out, k, v);
            }
        }
    }
    Ev(out)
}

fn files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for p in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.is_dir() {
            files(&p, name, out);
        } else if p.file_name().is_some_and(|n| n == name)
            || (name == "*.yml" && p.extension().is_some_and(|e| e == "yml"))
        {
            out.push(p);
        }
    }
}

/// CPU seconds (user + system) of this process so far, from /proc (Linux); 0 elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// Resident memory of this process in MB, from /proc (Linux); 0 elsewhere.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let times: usize = args
        .iter()
        .position(|a| a == "--times")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(200);
    let root = Path::new(SIGMA);
    let mut rule_files = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        files(&root.join(d), "*.yml", &mut rule_files);
    }
    let t0 = Instant::now();
    let mut loader = Loader::new(LoadOptions::default());
    for f in &rule_files {
        if let Ok(t) = std::fs::read_to_string(f) {
            loader.add_text(&f.display().to_string(), &t);
        }
    }
    let (plan, report) = loader.build();
    println!(
        "rules in plan: {} (load {:.3} s, resident {:.0} MB)",
        report.rules,
        t0.elapsed().as_secs_f64(),
        rss_mb()
    );
    let by_id: std::collections::HashMap<&str, usize> = plan
        .rules()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((r.meta.id.as_deref()?, i)))
        .collect();

    let mut infos = Vec::new();
    files(&root.join("regression_data"), "info.yml", &mut infos);
    infos.sort();
    let (mut pass, mut total) = (0, 0);
    let mut all_events = Vec::new();
    let mut scratch = Scratch::default();
    for info in &infos {
        let Ok(text) = std::fs::read_to_string(info) else {
            continue;
        };
        let Ok(y) = serde_saphyr::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let rule_id = y["rule_metadata"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for t in y["regression_tests_info"].as_array().into_iter().flatten() {
            let Some(path) = t["path"].as_str() else {
                continue;
            };
            let json_path = root.join(
                path.trim_start_matches("regression_data/")
                    .replace(".evtx", ".json"),
            );
            let json_path = root
                .join("regression_data")
                .join(json_path.strip_prefix(root).unwrap_or(&json_path));
            let Ok(jt) = std::fs::read_to_string(&json_path) else {
                continue;
            };
            let events: Vec<Ev> = serde_json::Deserializer::from_str(&jt)
                .into_iter::<Json>()
                .filter_map(Result::ok)
                .map(|j| flatten(&j))
                .collect();
            let want = t["match_count"].as_u64().unwrap_or(1) as usize;
            total += 1;
            let rule = by_id.get(rule_id.as_str()).copied();
            let mut got = 0;
            for ev in &events {
                let mut out = Vec::new();
                plan.matches_into(ev, &mut scratch, &mut out);
                got += usize::from(rule.is_some_and(|r| out.contains(&r)));
            }
            if got >= want {
                pass += 1;
            } else {
                println!(
                    "FAIL {rule_id} ({}) got {got} want {want}{}",
                    info.display(),
                    if rule.is_none() {
                        " [rule not in plan]"
                    } else {
                        ""
                    }
                );
            }
            all_events.extend(events);
        }
    }
    println!("regression: {pass}/{total} passed");
    let mut disagreements = 0;
    for ev in &all_events {
        let mut fast = Vec::new();
        plan.matches_into(ev, &mut scratch, &mut fast);
        disagreements += usize::from(fast != plan.interpret(ev));
    }
    println!(
        "fast path vs interpreter: {disagreements} disagreements on {} events",
        all_events.len()
    );

    let n = all_events.len() * times;
    let mut hits = 0usize;
    let mut out = Vec::new();
    let t = Instant::now();
    let c0 = cpu_seconds();
    for _ in 0..times {
        for ev in &all_events {
            out.clear();
            plan.matches_into(ev, &mut scratch, &mut out);
            hits += out.len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    println!(
        "resident after matching (every used bucket's automaton built): {:.0} MB",
        rss_mb()
    );
    println!(
        "matching: {n} events ({} distinct) in {secs:.3} s wall, {cpu:.2} CPU-s = {:.0} events per CPU-second on one thread, {hits} rule hits",
        all_events.len(),
        n as f64 / cpu.max(0.01)
    );
}
