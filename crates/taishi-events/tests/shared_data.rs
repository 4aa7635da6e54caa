//! Reads the shared test corpora end to end: every EVTX record, every zipped JSON line, and the
//! regression samples whose EVTX and JSON copies must flatten to the same fields.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use taishi_events::{Event, Format, Source, Warning};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn read(path: &Path) -> (Vec<Event>, Vec<Warning>) {
    let src = Source::open(path).expect("opens");
    let (mut events, mut warnings) = (Vec::new(), Vec::new());
    src.read_all(&mut |e| events.push(e.clone()), &mut |w| warnings.push(w))
        .expect("reads");
    (events, warnings)
}

#[test]
fn evtx_attack_samples_all_records() {
    let mut paths = Vec::new();
    files(
        &Path::new(DATA).join("evtx/EVTX-ATTACK-SAMPLES"),
        "evtx",
        &mut paths,
    );
    let (mut n, mut warned, mut with_id, mut with_channel) = (0usize, 0usize, 0usize, 0usize);
    for p in &paths {
        let (events, warnings) = read(p);
        n += events.len();
        warned += warnings.len();
        for e in &events {
            assert_eq!(e.meta.format, Format::Evtx);
            assert!(e.meta.timestamp.is_some(), "{}", p.display());
            with_channel += usize::from(e.channel().is_some());
            with_id += usize::from(e.event_id().is_some());
        }
    }
    assert!(n >= 8_255, "{n} records");
    assert_eq!(
        with_id, n,
        "every record has a numeric EventID (also with Qualifiers)"
    );
    assert!(warned < 20, "{warned} warnings");
    // ETW captures saved as EVTX have an empty <Channel/>.
    assert!(
        with_channel * 100 >= n * 90,
        "{with_channel} of {n} have a channel"
    );
}

/// The fields as text. The JSON copies were rendered by an older `evtx_dump`, which wrote GUIDs without
/// braces in upper case and times with 6 decimals; the current crate writes `{guid}` (as Windows' own XML
/// does, modulo case) and 7 decimals.
fn as_map(e: &Event) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, v) in e.fields() {
        let mut text = v.as_text().map(|t| t.into_owned()).unwrap_or_default();
        if text.len() == 38 && text.starts_with('{') && text.ends_with('}') {
            text = text[1..37].to_uppercase();
        }
        // One copy was hand-edited in case only (`Explorer.EXE` vs `Explorer.exe`); Sigma matching
        // is case-insensitive.
        text = text.to_lowercase();
        if name == "TimeCreated_SystemTime" {
            text.truncate(26);
        }
        m.entry(name.to_string()).or_default().push(text);
    }
    m
}

#[test]
fn regression_evtx_and_json_copies_flatten_alike() {
    let mut paths = Vec::new();
    files(
        &Path::new(DATA).join("sigma/regression_data"),
        "evtx",
        &mut paths,
    );
    assert!(paths.len() >= 150, "{} samples", paths.len());
    let mut compared = 0;
    for evtx in &paths {
        let json = evtx.with_extension("json");
        if !json.exists() {
            continue;
        }
        let (a, wa) = read(evtx);
        let (b, wb) = read(&json);
        assert!(wa.is_empty() && wb.is_empty(), "{wa:?} {wb:?}");
        assert_eq!(a.len(), b.len(), "{}", evtx.display());
        for (x, y) in a.iter().zip(&b) {
            let (mx, my) = (as_map(x), as_map(y));
            let differ: Vec<_> = mx
                .keys()
                .chain(my.keys())
                .filter(|k| mx.get(*k) != my.get(*k))
                .map(|k| (k, mx.get(k), my.get(k)))
                .collect();
            assert!(differ.is_empty(), "{}: {differ:?}", evtx.display());
            let micros = |e: &Event| e.meta.timestamp.map(|t| t.as_microsecond());
            assert_eq!(micros(x), micros(y), "{}", evtx.display());
        }
        compared += 1;
    }
    assert!(compared >= 150, "{compared}");
}

#[test]
fn security_datasets_zips() {
    let mut paths = Vec::new();
    files(
        &Path::new(DATA).join("jsonl/security-datasets/atomic/windows"),
        "zip",
        &mut paths,
    );
    let (mut n, mut warned, mut computers) = (0usize, 0usize, 0usize);
    for p in &paths {
        let (events, warnings) = read(p);
        n += events.len();
        warned += warnings.len();
        computers += events.iter().filter(|e| e.computer().is_some()).count();
        for w in &warnings {
            assert!(w.file.to_string_lossy().contains(".zip!"), "{w}");
        }
    }
    assert!(n >= 147_000, "{n} events");
    assert!(computers * 100 >= n * 99, "{computers} of {n} have a host");
    assert!(warned <= 100, "{warned} warnings");
}
