//! Minimal hunt for profiling the library without building the whole binary:
//! `cargo run --release -p taishi-hunt --example scan -- RULES_DIR PATH...` prints the summary.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let Some(rules) = args.next() else {
        eprintln!("usage: scan RULES_DIR PATH...");
        std::process::exit(2);
    };
    let paths: Vec<PathBuf> = args.collect();
    let t = std::time::Instant::now();
    let (plan, report) =
        taishi_hunt::load_rules(&[rules], taishi_sigma::LoadOptions::default()).expect("rules");
    eprintln!(
        "{} rules loaded in {:.2} s",
        report.rules,
        t.elapsed().as_secs_f64()
    );
    let files = taishi_hunt::collect_inputs(&paths).expect("inputs");
    let outcome = taishi_hunt::hunt(&plan, &files, &|_| {});
    let mut err = std::io::stderr();
    taishi_hunt::write_summary(&mut err, &outcome.summary).expect("stderr");
}
