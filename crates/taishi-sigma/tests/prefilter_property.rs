//! Property: the compiled plan (channel/EventID index + Aho-Corasick prefilter + compiled trees)
//! gives exactly the matches of the plain interpreter (every variant of every rule, in order).
//!
//! Events are built from the rules themselves: a random rule's (field, value) pairs, a random
//! subset of them kept, some upper-cased, on one of its channels (or a random one), plus noise
//! fields from the rules' vocabulary. So a good share of events hit rules, and both sides of
//! every prefilter decision are exercised.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::Ev;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use taishi_fields::Value;
use taishi_sigma::{
    Document, LoadOptions, Loader, Mapping, Placeholders, Plan, Scratch, UnknownPlaceholder,
    Unmapped, Yaml, parse_text,
};

const SIGMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");

const CHANNELS: [&str; 8] = [
    "Microsoft-Windows-Sysmon/Operational",
    "Security",
    "System",
    "Microsoft-Windows-PowerShell/Operational",
    "Windows PowerShell",
    "Application",
    "microsoft-windows-sysmon/operational",
    "Other",
];
const EVENT_IDS: [i64; 12] = [1, 3, 7, 10, 11, 13, 4104, 4688, 4624, 7045, 400, 9999];
const FIELDS: [&str; 12] = [
    "Image",
    "CommandLine",
    "ParentImage",
    "TargetFilename",
    "TargetObject",
    "OriginalFileName",
    "ScriptBlockText",
    "Details",
    "ServiceName",
    "ImagePath",
    "User",
    "ParentCommandLine",
];

struct Corpus {
    plan: Plan,
    words: Vec<String>,
    /// Per rule: (channel, event id) options and (field, value) pairs taken from its detection.
    templates: Vec<Template>,
}

/// A rule's (channel, event id) options and (field, value) pairs.
type Template = (Vec<(&'static str, i64)>, Vec<(String, Value<'static>)>);

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for p in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml") {
            out.push(p);
        }
    }
}

/// Edge cases the SigmaHQ corpus does not use much: keywords, null, neq, `x of`, regex, cased.
const EXTRA: &str = "title: extra1\nlogsource: {product: windows, service: security}\ndetection:\n    kw:\n        - 'mimikatz'\n        - 'sekurlsa'\n    sel:\n        EventID: 4624\n    condition: kw or sel and not 1 of f*\n    f1:\n        User: null\n    f2:\n        User|re: '^adm'\n---\ntitle: extra2\nlogsource: {category: process_creation, product: windows}\ndetection:\n    a:\n        CommandLine|cased|contains: 'Invoke'\n    b:\n        User|neq: 'system'\n    c:\n        Image|contains|all: ['\\\\windows\\\\', '.exe']\n    condition: 2 of them\n";

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn channels_for(ls: &taishi_sigma::Logsource) -> Vec<(&'static str, i64)> {
    let sysmon = |id| vec![(SYSMON, id)];
    match (ls.category.as_deref(), ls.service.as_deref()) {
        (Some("process_creation"), _) => vec![(SYSMON, 1), ("Security", 4688)],
        (Some("network_connection"), _) => sysmon(3),
        (Some("image_load"), _) => sysmon(7),
        (Some("create_remote_thread"), _) => sysmon(8),
        (Some("process_access"), _) => sysmon(10),
        (Some("file_event"), _) => sysmon(11),
        (Some("registry_event"), _) => vec![(SYSMON, 12), (SYSMON, 13), (SYSMON, 14)],
        (Some("registry_set"), _) => sysmon(13),
        (Some("pipe_created"), _) => vec![(SYSMON, 17), (SYSMON, 18)],
        (Some("dns_query"), _) => sysmon(22),
        (Some("file_delete"), _) => sysmon(23),
        (Some("ps_script"), _) => vec![("Microsoft-Windows-PowerShell/Operational", 4104)],
        (Some("ps_module"), _) => vec![("Microsoft-Windows-PowerShell/Operational", 4103)],
        (_, Some("security")) => vec![("Security", 4624), ("Security", 4688)],
        (_, Some("system")) => vec![("System", 7045)],
        _ => vec![("Other", 1)],
    }
}

fn literal(y: &Yaml) -> Option<Value<'static>> {
    match y {
        Yaml::Int(i) => Some(Value::Int(*i)),
        Yaml::Str(s) => Some(Value::Str(
            s.replace(['*', '?'], "").replace("\\\\", "\\").into(),
        )),
        _ => None,
    }
}

fn pairs(det: &Yaml, out: &mut Vec<(String, Value<'static>)>) {
    let Yaml::Map(sels) = det else { return };
    for (name, body) in sels {
        if name == "condition" {
            continue;
        }
        let maps: Vec<&Yaml> = match body {
            Yaml::Seq(items) => items.iter().collect(),
            other => vec![other],
        };
        for m in maps {
            match m {
                Yaml::Map(entries) => {
                    for (k, v) in entries {
                        let field = k.split('|').next().unwrap_or_default();
                        let field = if field.is_empty() { "Payload" } else { field };
                        let vals: Vec<&Yaml> = match v {
                            Yaml::Seq(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        out.extend(
                            vals.into_iter()
                                .filter_map(literal)
                                .map(|l| (field.to_owned(), l)),
                        );
                    }
                }
                other => out.extend(literal(other).map(|l| ("Payload".to_owned(), l))),
            }
        }
    }
}

fn corpus() -> Option<&'static Corpus> {
    static C: OnceLock<Option<Corpus>> = OnceLock::new();
    C.get_or_init(|| {
        let mut files = Vec::new();
        yaml_files(&Path::new(SIGMA).join("rules/windows"), &mut files);
        if files.is_empty() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SigmaHQ data missing at {SIGMA}"
            );
            return None;
        }
        files.sort();
        let opts = LoadOptions {
            mapping: Mapping {
                unmapped: Unmapped::Evaluate,
                ..Mapping::windows_default()
            },
            placeholders: Placeholders {
                unknown: UnknownPlaceholder::Wildcard,
                ..Placeholders::default()
            },
            ..LoadOptions::default()
        };
        let mut loader = Loader::new(opts);
        let mut words = Vec::new();
        let mut templates = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).ok()?;
            for doc in parse_text("t", &text).ok()?.into_iter().flatten() {
                if let Document::Rule { meta, detection } = doc {
                    let mut p = Vec::new();
                    pairs(&detection, &mut p);
                    words.extend(
                        p.iter()
                            .filter_map(|(_, v)| v.as_text().map(|t| t.into_owned())),
                    );
                    templates.push((channels_for(&meta.logsource), p));
                }
            }
            loader.add_text(&f.display().to_string(), &text);
        }
        loader.add_text("extra.yml", EXTRA);
        words.sort();
        words.dedup();
        words.extend(
            [
                "mimikatz",
                "Invoke",
                "INVOKE",
                "adm_x",
                "system",
                "\\Windows\\",
                ".exe",
                " -enc ",
                " /c ",
            ]
            .map(String::from),
        );
        let (plan, report) = loader.build();
        assert!(report.errors.is_empty(), "{:?}", report.errors.first());
        Some(Corpus {
            plan,
            words,
            templates,
        })
    })
    .as_ref()
}

/// (template, which of its pairs to keep, upper-case some, channel choice, noise fields).
type Spec = (usize, u64, u64, usize, Vec<(usize, Vec<usize>, bool)>);

fn event_strategy() -> impl Strategy<Value = Spec> {
    (
        any::<usize>(),
        any::<(u64, u64)>().prop_map(|(a, b)| a | b),
        any::<u64>(),
        any::<usize>(),
        prop::collection::vec(
            (
                0..FIELDS.len(),
                prop::collection::vec(any::<usize>(), 1..3),
                any::<bool>(),
            ),
            0..4,
        ),
    )
}

fn build(c: &Corpus, (t, keep, upper, ch, noise): &Spec) -> Ev {
    let (chans, pairs) = &c.templates[t % c.templates.len()];
    let mut ev = if ch % 5 == 0 {
        Ev::new()
            .s("Channel", CHANNELS[ch % CHANNELS.len()])
            .i("EventID", EVENT_IDS[ch % EVENT_IDS.len()])
    } else {
        let (name, id) = chans[ch % chans.len()];
        Ev::new().s("Channel", name).i("EventID", id)
    };
    let security = ev.0[0].1 == Value::Str("Security".into());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if keep >> (i % 64) & 1 == 0 {
            continue;
        }
        let k = match (security, k.as_str()) {
            (true, "Image") => "NewProcessName",
            (true, "ParentImage") => "ParentProcessName",
            (_, k) => k,
        };
        let v = match v {
            Value::Str(s) if upper >> (i % 64) & 1 == 1 => Value::Str(s.to_uppercase().into()),
            other => other.clone(),
        };
        ev = ev.v(k, v);
    }
    for (f, ws, up) in noise {
        let mut v: String = ws
            .iter()
            .map(|w| c.words[w % c.words.len()].as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if *up {
            v = v.to_uppercase();
        }
        ev = ev.v(FIELDS[*f], Value::Str(v.into()));
    }
    ev
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn plan_equals_interpreter(spec in event_strategy()) {
        let Some(c) = corpus() else { return Ok(()) };
        let ev = build(c, &spec);
        let mut s = Scratch::default();
        let mut fast = Vec::new();
        c.plan.matches_into(&ev, &mut s, &mut fast);
        let slow = c.plan.interpret(&ev);
        prop_assert_eq!(fast, slow);
    }
}

#[test]
fn the_generated_events_do_hit_rules() {
    // Guards the property above against testing only empty results.
    let Some(c) = corpus() else { return };
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strat = event_strategy();
    let mut with_hits = 0;
    let mut s = Scratch::default();
    for _ in 0..300 {
        let spec = strat.new_tree(&mut runner).expect("strategy").current();
        let mut out = Vec::new();
        c.plan.matches_into(&build(c, &spec), &mut s, &mut out);
        with_hits += usize::from(!out.is_empty());
    }
    assert!(
        with_hits >= 60,
        "only {with_hits} of 300 random events matched any rule"
    );
}
