//! Helpers shared by the integration tests: a simple event type and one-rule plans.
#![allow(dead_code)]

use taishi_fields::{FieldSource, Value};
use taishi_sigma::{LoadOptions, LoadReport, Loader, Mapping, Plan, Scratch, Unmapped};

/// An event as a list of (field, value); a field may repeat (multi-valued).
#[derive(Debug, Clone, Default)]
pub struct Ev(pub Vec<(String, Value<'static>)>);

impl Ev {
    pub fn new() -> Ev {
        Ev(Vec::new())
    }
    pub fn s(mut self, k: &str, v: &str) -> Ev {
        self.0.push((k.to_owned(), Value::Str(v.to_owned().into())));
        self
    }
    pub fn i(mut self, k: &str, v: i64) -> Ev {
        self.0.push((k.to_owned(), Value::Int(v)));
        self
    }
    pub fn v(mut self, k: &str, v: Value<'static>) -> Ev {
        self.0.push((k.to_owned(), v));
        self
    }
}

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
        for (k, v) in &self.0 {
            visit(k, v);
        }
    }
}

/// Options that evaluate every rule on every event (no logsource mapping).
pub fn unmapped_options() -> LoadOptions {
    LoadOptions {
        mapping: Mapping {
            entries: Vec::new(),
            unmapped: Unmapped::Evaluate,
        },
        ..LoadOptions::default()
    }
}

/// Loads texts with options; panics with the report's errors if any.
pub fn load_with(opts: LoadOptions, texts: &[&str]) -> (Plan, LoadReport) {
    let mut l = Loader::new(opts);
    for (i, t) in texts.iter().enumerate() {
        l.add_text(&format!("test{i}.yml"), t);
    }
    let (plan, report) = l.build();
    assert!(
        report.errors.is_empty(),
        "load errors: {:#?}",
        report.errors
    );
    (plan, report)
}

/// A one-rule plan from a detection body (indented 4 spaces under `detection:`).
pub fn rule(detection: &str) -> Plan {
    let text = format!(
        "title: t\nid: 00000000-0000-4000-8000-000000000000\nlogsource:\n    product: test\ndetection:\n{detection}\n"
    );
    load_with(unmapped_options(), &[&text]).0
}

/// Whether the plan's rule 0 matches `ev`, checking that the fast path and the interpreter agree.
pub fn hit(plan: &Plan, ev: &Ev) -> bool {
    let mut s = Scratch::default();
    let mut out = Vec::new();
    plan.matches_into(ev, &mut s, &mut out);
    let slow = plan.interpret(ev);
    assert_eq!(out, slow, "fast path and interpreter disagree on {ev:?}");
    out.contains(&0)
}

/// Loading errors of a single text, as reasons.
pub fn load_errors(opts: LoadOptions, text: &str) -> Vec<String> {
    let mut l = Loader::new(opts);
    l.add_text("bad.yml", text);
    l.build().1.errors.iter().map(|e| e.to_string()).collect()
}
