//! The compiled plan: rules indexed by `Channel` and `EventID`, an Aho-Corasick literal prefilter,
//! and the evaluation loop that meets each event only with the rules that could match it.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use taishi_fields::{FieldSource, Value};

use crate::correlation::CorrelationDef;
use crate::detection::{EvalScratch, Node};
use crate::matcher::{Matcher, StrOp, lower_into};
use crate::rule::RuleMeta;
use crate::value::TestKind;

/// The event field the index reads for the channel (EVTX `System/Channel`).
pub const CHANNEL_FIELD: &str = "Channel";
/// The event field the index reads for the event id (EVTX `System/EventID`).
pub const EVENT_ID_FIELD: &str = "EventID";

/// A loaded rule as output needs it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Metadata (id, title, level, status, author, tags, logsource, references, falsepositives).
    pub meta: RuleMeta,
    /// Whether hits of this rule are detections of their own. `false` for rules referenced by a
    /// correlation without `generate: true`: their hits only feed the correlation.
    pub standalone: bool,
}

/// One compiled way a rule can match (one per applicable logsource mapping entry).
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub rule: u32,
    /// The logsource mapping's conditions (channel, event id …).
    pub cond: Node,
    /// The rule's detection (with meta filters).
    pub det: Node,
    /// Prefilter needle ids; `None` = always evaluate.
    pub needles: Option<Vec<u32>>,
}

impl Variant {
    fn eval(&self, ev: &dyn FieldSource, s: &mut EvalScratch) -> bool {
        self.cond.eval(ev, s) && self.det.eval(ev, s)
    }
}

#[derive(Debug, Default, Clone)]
struct ChannelBucket {
    by_event_id: HashMap<i64, Vec<u32>>,
    /// Variants of this channel for any event id (and the global ones), for ids not listed.
    any_event_id: Vec<u32>,
    /// Every variant that could meet an event of this channel.
    all: Vec<u32>,
}

/// Index of variants by channel (lowercased) and event id.
#[derive(Debug, Default, Clone)]
struct Index {
    channels: HashMap<String, ChannelBucket>,
    /// Variants without a channel key.
    global: Vec<u32>,
    /// Every variant.
    everything: Vec<u32>,
}

/// Reusable per-thread state for [`Plan::matches_into`]; keep one per worker thread.
#[derive(Debug, Default)]
pub struct Scratch {
    eval: EvalScratch,
    text: String,
    low: String,
    hits: Vec<u32>,
    generation: u32,
}

/// A detection of one rule on one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index into [`Plan::rules`].
    pub rule: usize,
    /// The fields behind the match with their first values.
    pub fields: Vec<(String, Value<'static>)>,
}

/// Figures about a plan, for reports and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanStats {
    /// Rules in the plan.
    pub rules: usize,
    /// Compiled variants (a rule has one per applicable mapping entry).
    pub variants: usize,
    /// Variants reachable only through a channel key.
    pub indexed_by_channel: usize,
    /// Variants that also have an event id key.
    pub indexed_by_event_id: usize,
    /// Variants guarded by the literal prefilter.
    pub prefiltered: usize,
    /// Distinct prefilter literals.
    pub needles: usize,
}

/// A compiled rule set. `Send + Sync`: share one plan between threads, each with its own
/// [`Scratch`].
#[derive(Debug)]
pub struct Plan {
    pub(crate) rules: Vec<RuleInfo>,
    pub(crate) variants: Vec<Variant>,
    index: Index,
    prefilter: Option<AhoCorasick>,
    needle_count: usize,
    pub(crate) correlations: Vec<CorrelationDef>,
    stats: PlanStats,
}

/// Which exact values a tree requires of a field: `Some(values)` when every accepted event has
/// one of them (lowercased text for strings, decimal for integers).
fn required_values(node: &Node, field: &str, ints: bool) -> Option<Vec<String>> {
    match node {
        Node::Field(t) if &*t.field == field => match &t.kind {
            TestKind::Any(ms) => ms
                .iter()
                .map(|m| match m {
                    Matcher::Int { value, .. } if ints => Some(value.to_string()),
                    Matcher::Str {
                        op: StrOp::Eq,
                        needle,
                        cased: false,
                    } if !ints => Some(needle.to_string()),
                    _ => None,
                })
                .collect(),
            _ => None,
        },
        Node::And(c) => required_all(c.iter(), field, ints),
        Node::Or(c) => {
            let all: Option<Vec<Vec<String>>> =
                c.iter().map(|n| required_values(n, field, ints)).collect();
            all.map(|v| {
                let mut out: Vec<String> = v.into_iter().flatten().collect();
                out.sort();
                out.dedup();
                out
            })
        }
        _ => None,
    }
}

/// [`required_values`] of a conjunction.
fn required_all<'a>(
    nodes: impl Iterator<Item = &'a Node>,
    field: &str,
    ints: bool,
) -> Option<Vec<String>> {
    let sets: Vec<Vec<String>> = nodes
        .filter_map(|n| required_values(n, field, ints))
        .collect();
    let mut it = sets.into_iter();
    let first = it.next()?;
    Some(it.fold(first, |acc, s| {
        acc.into_iter().filter(|v| s.contains(v)).collect()
    }))
}

fn merged(parts: &[&[u32]]) -> Vec<u32> {
    let mut v: Vec<u32> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl Index {
    fn build(variants: &[Variant], stats: &mut PlanStats) -> Index {
        let mut channel_any: HashMap<String, Vec<u32>> = HashMap::new();
        let mut channel_eid: HashMap<String, HashMap<i64, Vec<u32>>> = HashMap::new();
        let mut global = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let i = i as u32;
            let Some(channels) = required_all([&v.cond, &v.det].into_iter(), CHANNEL_FIELD, false)
            else {
                global.push(i);
                continue;
            };
            stats.indexed_by_channel += 1;
            let eids: Option<Vec<i64>> =
                required_all([&v.cond, &v.det].into_iter(), EVENT_ID_FIELD, true)
                    .and_then(|e| e.iter().map(|s| s.parse().ok()).collect());
            if eids.is_some() {
                stats.indexed_by_event_id += 1;
            }
            for ch in channels {
                match &eids {
                    Some(ids) => {
                        let m = channel_eid.entry(ch.clone()).or_default();
                        ids.iter().for_each(|id| m.entry(*id).or_default().push(i));
                        channel_any.entry(ch).or_default();
                    }
                    None => channel_any.entry(ch).or_default().push(i),
                }
            }
        }
        let mut channels = HashMap::new();
        for (ch, any) in channel_any {
            let by = channel_eid.remove(&ch).unwrap_or_default();
            let all_eid: Vec<u32> = by.values().flatten().copied().collect();
            let bucket = ChannelBucket {
                by_event_id: by
                    .iter()
                    .map(|(id, vs)| (*id, merged(&[vs, &any, &global])))
                    .collect(),
                any_event_id: merged(&[&any, &global]),
                all: merged(&[&any, &global, &all_eid]),
            };
            channels.insert(ch, bucket);
        }
        Index {
            channels,
            global,
            everything: (0..variants.len() as u32).collect(),
        }
    }
}

fn event_id(v: &Value<'_>) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Plan {
    pub(crate) fn new(
        rules: Vec<RuleInfo>,
        mut variants: Vec<Variant>,
        correlations: Vec<CorrelationDef>,
    ) -> Plan {
        let mut stats = PlanStats {
            rules: rules.len(),
            variants: variants.len(),
            ..PlanStats::default()
        };
        // Prefilter literals come from the rule's own detection, not from the logsource
        // conditions the index already guarantees.
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut needles: Vec<String> = Vec::new();
        for v in variants.iter_mut() {
            v.needles = v.det.needles().map(|ns| {
                ns.into_iter()
                    .map(|n| {
                        *ids.entry(n.clone()).or_insert_with(|| {
                            needles.push(n);
                            (needles.len() - 1) as u32
                        })
                    })
                    .collect()
            });
            if v.needles.is_some() {
                stats.prefiltered += 1;
            }
        }
        stats.needles = needles.len();
        let prefilter = if needles.is_empty() {
            None
        } else {
            AhoCorasick::new(&needles).ok()
        };
        if prefilter.is_none() {
            variants.iter_mut().for_each(|v| v.needles = None);
        }
        let index = Index::build(&variants, &mut stats);
        Plan {
            rules,
            variants,
            index,
            prefilter,
            needle_count: needles.len(),
            correlations,
            stats,
        }
    }

    /// The loaded rules; [`Match::rule`] indexes this.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Figures about the plan.
    pub fn stats(&self) -> PlanStats {
        self.stats
    }

    fn candidates<'p>(&'p self, ev: &dyn FieldSource, s: &mut Scratch) -> &'p [u32] {
        let mut channel_count = 0;
        let low = &mut s.low;
        ev.visit_field(CHANNEL_FIELD, &mut |v| {
            channel_count += 1;
            if channel_count == 1 {
                match v.as_text() {
                    Some(t) => lower_into(&t, low),
                    None => low.clear(),
                }
            }
        });
        if channel_count != 1 {
            return if channel_count == 0 {
                &self.index.global
            } else {
                &self.index.everything
            };
        }
        let Some(bucket) = self.index.channels.get(s.low.as_str()) else {
            return &self.index.global;
        };
        let mut ids = 0;
        let mut id = None;
        ev.visit_field(EVENT_ID_FIELD, &mut |v| {
            ids += 1;
            id = event_id(v);
        });
        match (ids, id) {
            (0, _) => &bucket.any_event_id,
            (1, Some(id)) => bucket.by_event_id.get(&id).unwrap_or(&bucket.any_event_id),
            _ => &bucket.all,
        }
    }

    fn scan_text(&self, ev: &dyn FieldSource, s: &mut Scratch) {
        let Some(ac) = &self.prefilter else { return };
        if s.hits.len() != self.needle_count {
            s.hits = vec![0; self.needle_count];
            s.generation = 0;
        }
        s.generation = s.generation.wrapping_add(1);
        if s.generation == 0 {
            s.hits.iter_mut().for_each(|h| *h = 0);
            s.generation = 1;
        }
        s.text.clear();
        let (text, low) = (&mut s.text, &mut s.low);
        ev.visit_all(&mut |_, v| {
            if let Some(t) = v.as_text() {
                lower_into(&t, low);
                text.push_str(low);
                text.push('\n');
            }
        });
        for m in ac.find_overlapping_iter(s.text.as_str()) {
            s.hits[m.pattern().as_usize()] = s.generation;
        }
    }

    /// Appends the indices of the rules matching `ev` to `out` (each rule once, ascending). The fast path: index, prefilter, then the compiled trees.
    pub fn matches_into(&self, ev: &dyn FieldSource, s: &mut Scratch, out: &mut Vec<usize>) {
        let cands = self.candidates(ev, s);
        if cands.is_empty() {
            return;
        }
        let mut scanned = false;
        let mut last: Option<u32> = None;
        for &vi in cands {
            let v = &self.variants[vi as usize];
            if last == Some(v.rule) {
                continue;
            }
            if let Some(ns) = &v.needles {
                if !scanned {
                    self.scan_text(ev, s);
                    scanned = true;
                }
                let g = s.generation;
                if !ns.iter().any(|&n| s.hits[n as usize] == g) {
                    continue;
                }
            }
            if v.eval(ev, &mut s.eval) {
                last = Some(v.rule);
                out.push(v.rule as usize);
            }
        }
        // Candidate lists are sorted by variant, and a rule's variants are contiguous, so the
        // rules appended are ascending and unique.
    }

    /// The matching rules with the fields behind each match; allocates, for convenience.
    pub fn matches(&self, ev: &dyn FieldSource) -> Vec<Match> {
        let mut s = Scratch::default();
        let mut idx = Vec::new();
        self.matches_into(ev, &mut s, &mut idx);
        idx.into_iter()
            .map(|rule| Match {
                rule,
                fields: self.matched_fields(rule, ev),
            })
            .collect()
    }

    /// The fields (with first values) that made rule `rule` match `ev`; empty if it does not.
    pub fn matched_fields(
        &self,
        rule: usize,
        ev: &dyn FieldSource,
    ) -> Vec<(String, Value<'static>)> {
        let mut s = EvalScratch::default();
        let mut out = Vec::new();
        for v in self.variants.iter().filter(|v| v.rule as usize == rule) {
            if v.eval(ev, &mut s) {
                v.det.matched_fields(ev, &mut s, &mut out);
                break;
            }
        }
        out
    }

    /// The reference interpreter: every variant of every rule, no index, no prefilter. Slow;
    /// exists to check the fast path (property tests) and for debugging a rule.
    pub fn interpret(&self, ev: &dyn FieldSource) -> Vec<usize> {
        let mut s = EvalScratch::default();
        let mut out: Vec<usize> = self
            .variants
            .iter()
            .filter(|v| v.eval(ev, &mut s))
            .map(|v| v.rule as usize)
            .collect();
        out.dedup();
        out
    }
}
