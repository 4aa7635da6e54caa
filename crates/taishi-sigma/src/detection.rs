//! A rule's `detection` compiled into a boolean tree of field tests, its evaluation on an event,
//! the literals the prefilter may rely on, and the "matched fields" shown with a detection.

use std::collections::HashMap;

use taishi_fields::{FieldSource, Value};

use crate::condition::{self, Cond, OfTarget, Quantity};
use crate::error::FieldError;
pub use crate::fieldcache::EvalScratch;
use crate::fieldcache::NO_SLOT;
use crate::matcher::{Matcher, lower_into};
use crate::value::{Placeholders, TestKind, compile_values};
use crate::yaml::Yaml;

/// A test of one field.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// The event field name (after logsource field mapping).
    pub field: Box<str>,
    /// What is tested.
    pub kind: TestKind,
    needs_lower: bool,
    needs_text: bool,
    /// Every matcher reads only the lowercased text: the per-event cache can serve it.
    lower_only: bool,
    /// Per-event cache slot of the field ([`NO_SLOT`] until the plan interns it).
    pub(crate) slot: u32,
}

impl FieldTest {
    pub(crate) fn new(field: Box<str>, kind: TestKind) -> FieldTest {
        let all: Vec<&Matcher> = match &kind {
            TestKind::Any(m) | TestKind::Neq(m) => m.iter().collect(),
            TestKind::All(g) => g.iter().flatten().collect(),
            TestKind::Exists(_) => Vec::new(),
        };
        let needs_lower = all.iter().any(|m| m.needs_lower());
        let needs_text = all
            .iter()
            .any(|m| !matches!(m, Matcher::Int { .. } | Matcher::Cmp { .. }));
        let lower_only = !all.is_empty() && all.iter().all(|m| m.lower_only());
        FieldTest {
            field,
            kind,
            needs_lower,
            needs_text,
            lower_only,
            slot: NO_SLOT,
        }
    }
}

/// The compiled boolean tree of a rule.
#[derive(Debug, Clone)]
pub enum Node {
    /// All children.
    And(Vec<Node>),
    /// Any child.
    Or(Vec<Node>),
    /// At least `n` children (`n of pattern`).
    AtLeast(usize, Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// A field test.
    Field(FieldTest),
    /// Unfielded keywords searched in every value of the event (`Any` or `All`).
    Keywords(FieldTest),
    /// A constant (an empty logsource condition).
    Const(bool),
}

fn test_values(
    t: &FieldTest,
    ms: &[Matcher],
    v: &Value<'_>,
    low: &mut String,
    ev: &dyn FieldSource,
) -> bool {
    let text = if t.needs_text { v.as_text() } else { None };
    if t.needs_lower {
        match &text {
            Some(s) => lower_into(s, low),
            None => low.clear(),
        }
    }
    ms.iter().any(|m| m.matches(v, text.as_deref(), low, ev))
}

fn any_value(
    t: &FieldTest,
    ms: &[Matcher],
    ev: &dyn FieldSource,
    s: &mut EvalScratch,
    keywords: bool,
) -> bool {
    if !keywords && t.lower_only && t.slot != NO_SLOT {
        let (_, values) = s.lowered(t.slot, &t.field, ev);
        return values.iter().any(|v| ms.iter().any(|m| m.matches_lower(v)));
    }
    let mut hit = false;
    let low = &mut s.low;
    if keywords {
        ev.visit_all(&mut |_, v| {
            if !hit {
                hit = test_values(t, ms, v, low, ev);
            }
        });
        return hit;
    }
    let exists = ev.visit_field(&t.field, &mut |v| {
        if !hit {
            hit = test_values(t, ms, v, low, ev);
        }
    });
    hit || (!exists && ms.iter().any(|m| matches!(m, Matcher::Null)))
}

fn eval_test(t: &FieldTest, ev: &dyn FieldSource, s: &mut EvalScratch, keywords: bool) -> bool {
    match &t.kind {
        TestKind::Any(ms) => any_value(t, ms, ev, s, keywords),
        TestKind::All(groups) => groups.iter().all(|g| any_value(t, g, ev, s, keywords)),
        TestKind::Exists(b) => ev.has_field(&t.field) == *b,
        TestKind::Neq(ms) => {
            let mut any = false;
            let mut present = false;
            let low = &mut s.low;
            ev.visit_field(&t.field, &mut |v| {
                if !matches!(v, Value::Null) {
                    present = true;
                }
                if !any {
                    any = test_values(t, ms, v, low, ev);
                }
            });
            present && !any
        }
    }
}

impl Node {
    /// Evaluates the tree on an event.
    pub fn eval(&self, ev: &dyn FieldSource, s: &mut EvalScratch) -> bool {
        match self {
            Node::And(c) => c.iter().all(|n| n.eval(ev, s)),
            Node::Or(c) => c.iter().any(|n| n.eval(ev, s)),
            Node::AtLeast(k, c) => {
                let mut n = 0;
                for child in c {
                    if child.eval(ev, s) {
                        n += 1;
                        if n >= *k {
                            return true;
                        }
                    }
                }
                false
            }
            Node::Not(n) => !n.eval(ev, s),
            Node::Field(t) => eval_test(t, ev, s, false),
            Node::Keywords(t) => eval_test(t, ev, s, true),
            Node::Const(b) => *b,
        }
    }

    /// Relative cost, to evaluate cheap children of an `and` first.
    pub fn cost(&self) -> u32 {
        let test_cost = |t: &FieldTest| match &t.kind {
            TestKind::Any(m) | TestKind::Neq(m) => {
                m.iter().map(Matcher::cost).max().unwrap_or(1) + (m.len() as u32 / 8)
            }
            TestKind::All(g) => g.iter().flatten().map(Matcher::cost).sum(),
            TestKind::Exists(_) => 1,
        };
        match self {
            Node::And(c) | Node::Or(c) | Node::AtLeast(_, c) => {
                c.iter().map(Node::cost).sum::<u32>().max(1)
            }
            Node::Not(n) => n.cost(),
            Node::Field(t) => test_cost(t),
            Node::Keywords(t) => 20 * test_cost(t),
            Node::Const(_) => 0,
        }
    }

    /// Literals of which at least one occurs (lowercased) in a value of its field in every event
    /// the tree accepts; `None` when no such set is known. Short literals are not worth a
    /// prefilter.
    pub fn needles(&self) -> Option<Vec<Needle>> {
        const MIN_LEN: usize = 3;
        let from_matchers =
            |t: &FieldTest, keywords: bool, ms: &[Matcher]| -> Option<Vec<Needle>> {
                let field = (!keywords).then(|| (t.slot, t.field.clone()));
                let lits: Option<Vec<Needle>> = ms
                    .iter()
                    .map(|m| {
                        m.literal().map(|text| Needle {
                            field: field.clone(),
                            text,
                        })
                    })
                    .collect();
                lits.filter(|l| !l.is_empty() && l.iter().all(|n| n.text.len() >= MIN_LEN))
            };
        let from_test = |t: &FieldTest, keywords: bool| match &t.kind {
            TestKind::Any(ms) => from_matchers(t, keywords, ms),
            TestKind::All(groups) => groups
                .iter()
                .filter_map(|g| from_matchers(t, keywords, g))
                .max_by_key(|n| score(n)),
            TestKind::Exists(_) | TestKind::Neq(_) => None,
        };
        match self {
            Node::Field(t) => from_test(t, false),
            Node::Keywords(t) => from_test(t, true),
            Node::And(c) => c.iter().filter_map(Node::needles).max_by_key(|n| score(n)),
            Node::Or(c) | Node::AtLeast(_, c) => {
                let all: Option<Vec<Vec<Needle>>> = c.iter().map(Node::needles).collect();
                all.map(|v| v.into_iter().flatten().collect())
            }
            Node::Not(_) | Node::Const(_) => None,
        }
    }

    /// The fields (and their first values) behind a match, for showing a detection. Only
    /// positive tests that hold on the event are reported.
    pub fn matched_fields(
        &self,
        ev: &dyn FieldSource,
        s: &mut EvalScratch,
        out: &mut Vec<(String, Value<'static>)>,
    ) {
        match self {
            Node::And(c) | Node::Or(c) | Node::AtLeast(_, c) => {
                for child in c {
                    if child.eval(ev, s) {
                        child.matched_fields(ev, s, out);
                    }
                }
            }
            Node::Field(t) => {
                if !matches!(t.kind, TestKind::Exists(false))
                    && !out.iter().any(|(k, _)| k.as_str() == &*t.field)
                    && let Some(v) = ev.first(&t.field)
                {
                    out.push((t.field.to_string(), v));
                }
            }
            Node::Keywords(t) => {
                let ms: Vec<Matcher> = match &t.kind {
                    TestKind::Any(m) => m.clone(),
                    TestKind::All(g) => g.iter().flatten().cloned().collect(),
                    _ => Vec::new(),
                };
                let mut low = String::new();
                ev.visit_all(&mut |name, v| {
                    if !out.iter().any(|(k, _)| k == name) && test_values(t, &ms, v, &mut low, ev) {
                        out.push((name.to_owned(), v.clone().into_owned()));
                    }
                });
            }
            Node::Not(_) | Node::Const(_) => {}
        }
    }

    /// A copy with event field names replaced (logsource mapping `fields`), including the
    /// fields named by `fieldref`.
    pub(crate) fn renamed(&self, renames: &Renames) -> Node {
        let field = |f: &str| -> Box<str> { renames.get(f).map_or(f, String::as_str).into() };
        let test = |t: &FieldTest| {
            let fix = |ms: &[Matcher]| -> Vec<Matcher> {
                ms.iter()
                    .map(|m| match m {
                        Matcher::FieldRef {
                            field: f,
                            op,
                            cased,
                        } => Matcher::FieldRef {
                            field: field(f),
                            op: *op,
                            cased: *cased,
                        },
                        other => other.clone(),
                    })
                    .collect()
            };
            let kind = match &t.kind {
                TestKind::Any(ms) => TestKind::Any(fix(ms)),
                TestKind::Neq(ms) => TestKind::Neq(fix(ms)),
                TestKind::All(gs) => TestKind::All(gs.iter().map(|g| fix(g)).collect()),
                TestKind::Exists(b) => TestKind::Exists(*b),
            };
            FieldTest::new(field(&t.field), kind)
        };
        match self {
            Node::And(c) => Node::And(c.iter().map(|n| n.renamed(renames)).collect()),
            Node::Or(c) => Node::Or(c.iter().map(|n| n.renamed(renames)).collect()),
            Node::AtLeast(k, c) => {
                Node::AtLeast(*k, c.iter().map(|n| n.renamed(renames)).collect())
            }
            Node::Not(n) => Node::Not(Box::new(n.renamed(renames))),
            Node::Field(t) => Node::Field(test(t)),
            Node::Keywords(t) => Node::Keywords(t.clone()),
            Node::Const(b) => Node::Const(*b),
        }
    }

    /// Gives every field test a slot of the per-event value cache, one per distinct field name.
    pub(crate) fn assign_slots(&mut self, slots: &mut HashMap<Box<str>, u32>) {
        match self {
            Node::And(c) | Node::Or(c) | Node::AtLeast(_, c) => {
                c.iter_mut().for_each(|n| n.assign_slots(slots))
            }
            Node::Not(n) => n.assign_slots(slots),
            Node::Field(t) => {
                let next = slots.len() as u32;
                t.slot = *slots.entry(t.field.clone()).or_insert(next);
            }
            Node::Keywords(_) | Node::Const(_) => {}
        }
    }

    /// Flattens nested and/or and orders `and` children by cost.
    pub(crate) fn simplify(self) -> Node {
        match self {
            Node::And(c) => {
                let mut flat = Vec::new();
                for n in c.into_iter().map(Node::simplify) {
                    match n {
                        Node::And(inner) => flat.extend(inner),
                        Node::Const(true) => {}
                        other => flat.push(other),
                    }
                }
                flat.sort_by_key(Node::cost);
                if flat.len() == 1 {
                    flat.remove(0)
                } else if flat.is_empty() {
                    Node::Const(true)
                } else {
                    Node::And(flat)
                }
            }
            Node::Or(c) => {
                let mut flat = Vec::new();
                for n in c.into_iter().map(Node::simplify) {
                    match n {
                        Node::Or(inner) => flat.extend(inner),
                        other => flat.push(other),
                    }
                }
                if flat.len() == 1 {
                    flat.remove(0)
                } else {
                    Node::Or(flat)
                }
            }
            Node::AtLeast(k, c) => Node::AtLeast(k, c.into_iter().map(Node::simplify).collect()),
            Node::Not(n) => Node::Not(Box::new(n.simplify())),
            other => other,
        }
    }
}

fn score(needles: &[Needle]) -> (usize, std::cmp::Reverse<usize>) {
    (
        needles.iter().map(|n| n.text.len()).min().unwrap_or(0),
        std::cmp::Reverse(needles.len()),
    )
}

/// A prefilter literal and where it must occur.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// The field (cache slot and name) whose lowercased values contain the literal whenever the
    /// test holds; `None` for unfielded keywords (any value of the event).
    pub field: Option<(u32, Box<str>)>,
    /// The lowercased literal.
    pub text: String,
}

/// Field renames of a logsource mapping (`Image` → `NewProcessName`).
pub type Renames = HashMap<String, String>;

fn field_test(
    key: &str,
    value: &Yaml,
    renames: &Renames,
    ph: &Placeholders,
) -> Result<Node, FieldError> {
    let mut parts = key.split('|');
    let name = parts.next().unwrap_or_default().trim();
    let mods: Vec<&str> = parts.map(str::trim).filter(|m| !m.is_empty()).collect();
    if name.is_empty() {
        let mut kw_mods = vec!["contains"];
        kw_mods.extend(mods.iter().copied());
        let kind = compile_values(&kw_mods, value, ph).map_err(|e| e.under(key))?;
        return Ok(Node::Keywords(FieldTest::new("".into(), kind)));
    }
    let kind = compile_values(&mods, value, ph).map_err(|e| e.under(key))?;
    let field = renames.get(name).map_or(name, String::as_str);
    Ok(Node::Field(FieldTest::new(field.into(), kind)))
}

/// Compiles one search identifier's body.
pub(crate) fn compile_selection(
    body: &Yaml,
    renames: &Renames,
    ph: &Placeholders,
) -> Result<Node, FieldError> {
    match body {
        Yaml::Map(entries) => {
            if entries.is_empty() {
                return Err(FieldError::new("", "an empty selection"));
            }
            let tests = entries
                .iter()
                .map(|(k, v)| field_test(k, v, renames, ph))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Node::And(tests))
        }
        Yaml::Seq(items) => {
            if items.is_empty() {
                return Err(FieldError::new("", "an empty list"));
            }
            let scalars: Vec<Yaml> = items
                .iter()
                .filter(|i| !matches!(i, Yaml::Map(_) | Yaml::Seq(_)))
                .cloned()
                .collect();
            let mut alts = Vec::new();
            if !scalars.is_empty() {
                alts.push(field_test("", &Yaml::Seq(scalars), renames, ph)?);
            }
            for (i, item) in items.iter().enumerate() {
                match item {
                    Yaml::Map(_) => alts.push(
                        compile_selection(item, renames, ph)
                            .map_err(|e| e.under(&format!("[{i}]")))?,
                    ),
                    Yaml::Seq(_) => {
                        return Err(FieldError::new(format!("[{i}]"), "a list inside a list"));
                    }
                    _ => {}
                }
            }
            Ok(Node::Or(alts))
        }
        Yaml::Str(_) | Yaml::Int(_) | Yaml::Float(_) | Yaml::Bool(_) => {
            field_test("", body, renames, ph)
        }
        Yaml::Null => Err(FieldError::new("", "a search identifier has no body")),
    }
}

fn resolve(cond: &Cond, sels: &[(&str, Node)]) -> Result<Node, String> {
    Ok(match cond {
        Cond::Ident(name) => sels
            .iter()
            .find(|(n, _)| *n == name.as_str())
            .map(|(_, node)| node.clone())
            .ok_or_else(|| {
                format!("condition names `{name}`, which the detection does not define")
            })?,
        Cond::Of { quantity, target } => {
            let chosen: Vec<Node> = sels
                .iter()
                .filter(|(n, _)| match target {
                    OfTarget::Them => !n.starts_with('_'),
                    OfTarget::Pattern(p) => condition::pattern_matches(p, n),
                })
                .map(|(_, node)| node.clone())
                .collect();
            if chosen.is_empty() {
                let what = match target {
                    OfTarget::Them => "them".to_owned(),
                    OfTarget::Pattern(p) => p.clone(),
                };
                return Err(format!("`of {what}` matches no search identifier"));
            }
            match quantity {
                Quantity::All => Node::And(chosen),
                Quantity::AtLeast(1) => Node::Or(chosen),
                Quantity::AtLeast(n) => Node::AtLeast(*n, chosen),
            }
        }
        Cond::Not(c) => Node::Not(Box::new(resolve(c, sels)?)),
        Cond::And(c) => Node::And(
            c.iter()
                .map(|x| resolve(x, sels))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(c) => Node::Or(
            c.iter()
                .map(|x| resolve(x, sels))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Search identifiers with their bodies, in document order.
type Selections<'a> = Vec<(&'a str, &'a Yaml)>;

/// The parsed search identifiers and condition texts of a `detection` (or filter) map.
pub(crate) fn split_detection<'a>(
    det: &'a Yaml,
    section: &str,
) -> Result<(Selections<'a>, Vec<String>), FieldError> {
    let Yaml::Map(entries) = det else {
        return Err(FieldError::new(
            section,
            format!("expected a map, found a {}", det.kind()),
        ));
    };
    let mut sels = Vec::new();
    let mut conds = Vec::new();
    for (k, v) in entries {
        match k.as_str() {
            "condition" => match v {
                Yaml::Str(s) => conds.push(s.clone()),
                Yaml::Seq(items) => {
                    for i in items {
                        conds.push(i.scalar_text().ok_or_else(|| {
                            FieldError::new(format!("{section}.condition"), "expected text")
                        })?);
                    }
                }
                other => {
                    return Err(FieldError::new(
                        format!("{section}.condition"),
                        format!("expected text, found a {}", other.kind()),
                    ));
                }
            },
            "timeframe" => {}
            "rules" if section == "filter" => {}
            _ => sels.push((k.as_str(), v)),
        }
    }
    if conds.is_empty() {
        return Err(FieldError::new(
            format!("{section}.condition"),
            "missing condition",
        ));
    }
    Ok((sels, conds))
}

/// Compiles a detection (selections + condition) to a tree, with field renames applied.
pub(crate) fn compile_detection(
    det: &Yaml,
    section: &str,
    renames: &Renames,
    ph: &Placeholders,
) -> Result<Node, FieldError> {
    let (raw, conds) = split_detection(det, section)?;
    let mut sels = Vec::with_capacity(raw.len());
    for (name, body) in &raw {
        let node = compile_selection(body, renames, ph)
            .map_err(|e| e.under(&format!("{section}.{name}")))?;
        sels.push((*name, node));
    }
    let mut alts = Vec::new();
    for c in &conds {
        let parsed = condition::parse(c).map_err(|m| {
            let unsupported = m.contains("Sigma v1");
            let e = FieldError::new(format!("{section}.condition"), format!("{m} (in `{c}`)"));
            if unsupported {
                FieldError {
                    unsupported: true,
                    ..e
                }
            } else {
                e
            }
        })?;
        alts.push(
            resolve(&parsed, &sels)
                .map_err(|m| FieldError::new(format!("{section}.condition"), m))?,
        );
    }
    Ok(Node::Or(alts).simplify())
}
