//! The compiled plan: rules indexed by `Channel` and `EventID` (see [`crate::index`]), a literal
//! prefilter per index bucket, and the evaluation loop that meets each event only with the
//! rules that could match it.

use taishi_fields::{FieldSource, Value};

use crate::correlation::CorrelationDef;
use crate::detection::{EvalScratch, Needle, Node};
use aho_corasick::AhoCorasick;

use crate::index::{Index, Keys, Prefilter, required_all};
use crate::matcher::lower_into;
use crate::rule::RuleMeta;

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
}

impl Variant {
    fn eval(&self, ev: &dyn FieldSource, s: &mut EvalScratch) -> bool {
        self.cond.eval(ev, s) && self.det.eval(ev, s)
    }
}

/// Reusable per-thread state for [`Plan::matches_into`]; keep one per worker thread.
#[derive(Debug, Default)]
pub struct Scratch {
    eval: EvalScratch,
    text: String,
    low: String,
    stamps: Vec<u32>,
    generation: u32,
    cands: Vec<u32>,
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
    /// Index buckets (each with its own prefilter automaton, built on first use).
    pub buckets: usize,
    /// Buckets whose prefilter also scans every value of an event (for rules with unfielded
    /// keywords); otherwise it scans only the fields its literals come from.
    pub buckets_scanning_all: usize,
}

/// A compiled rule set. `Send + Sync`: share one plan between threads, each with its own
/// [`Scratch`].
#[derive(Debug)]
pub struct Plan {
    pub(crate) rules: Vec<RuleInfo>,
    pub(crate) variants: Vec<Variant>,
    index: Index,
    pub(crate) correlations: Vec<CorrelationDef>,
    stats: PlanStats,
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
        let mut slots = std::collections::HashMap::new();
        for v in &mut variants {
            v.cond.assign_slots(&mut slots);
            v.det.assign_slots(&mut slots);
        }
        // Prefilter literals come from the rule's own detection, not from the logsource
        // conditions the index already guarantees.
        let needles: Vec<Option<Vec<Needle>>> = variants.iter().map(|v| v.det.needles()).collect();
        let keys: Vec<Keys> = variants
            .iter()
            .map(|v| {
                let both = || [&v.cond, &v.det].into_iter();
                let channels = required_all(both(), CHANNEL_FIELD, false);
                let eids = channels.as_ref().and_then(|_| {
                    required_all(both(), EVENT_ID_FIELD, true)?
                        .iter()
                        .map(|s| s.parse().ok())
                        .collect()
                });
                (channels, eids)
            })
            .collect();
        let prefiltered = needles.iter().filter(|n| n.is_some()).count();
        let mut distinct: Vec<&str> = needles
            .iter()
            .flatten()
            .flatten()
            .map(|n| n.text.as_str())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let distinct = distinct.len();
        let index = Index::build(&keys, needles);
        let stats = PlanStats {
            rules: rules.len(),
            variants: variants.len(),
            indexed_by_channel: index.indexed_by_channel,
            indexed_by_event_id: index.indexed_by_event_id,
            prefiltered,
            needles: distinct,
            buckets: index.len(),
            buckets_scanning_all: index.scanning_all(),
        };
        Plan {
            rules,
            variants,
            index,
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

    fn bucket(&self, ev: &dyn FieldSource, s: &mut Scratch) -> usize {
        let mut count = 0;
        let low = &mut s.low;
        ev.visit_field(CHANNEL_FIELD, &mut |v| {
            count += 1;
            if count == 1 {
                match v.as_text() {
                    Some(t) => lower_into(&t, low),
                    None => low.clear(),
                }
            }
        });
        let channel = match count {
            0 => Ok(None),
            1 => Ok(Some(s.low.as_str())),
            _ => Err(()),
        };
        let mut ids = 0;
        let mut id = None;
        ev.visit_field(EVENT_ID_FIELD, &mut |v| {
            ids += 1;
            id = event_id(v);
        });
        let event_id = if ids > 1 { Err(()) } else { Ok(id) };
        self.index.bucket(channel, event_id)
    }

    /// Fills `s.cands` with the variants of bucket `b` the prefilter admits, ascending.
    fn admitted(&self, b: usize, ev: &dyn FieldSource, s: &mut Scratch) {
        let bucket = self.index.bucket_at(b);
        s.cands.clear();
        s.cands.extend_from_slice(&bucket.always);
        let before = s.cands.len();
        if !bucket.fielded.needles.is_empty() {
            let Some(ac) = bucket.fielded.automaton() else {
                s.cands = bucket.all_members();
                return;
            };
            // Only the fields the literals come from, through the per-event cache that the
            // field tests then reuse.
            s.text.clear();
            for (slot, name) in &bucket.scan {
                let (_, values) = s.eval.lowered(*slot, name, ev);
                for v in values {
                    s.text.push_str(v);
                    s.text.push('\n');
                }
            }
            Self::admit(ac, &bucket.fielded, s);
        }
        if !bucket.anywhere.needles.is_empty() {
            let Some(ac) = bucket.anywhere.automaton() else {
                s.cands = bucket.all_members();
                return;
            };
            s.text.clear();
            let (text, low) = (&mut s.text, &mut s.low);
            ev.visit_all(&mut |_, v| {
                if let Some(t) = v.as_text() {
                    lower_into(&t, low);
                    text.push_str(low);
                    text.push('\n');
                }
            });
            Self::admit(ac, &bucket.anywhere, s);
        }
        if s.cands.len() > before {
            s.cands.sort_unstable();
            s.cands.dedup();
        }
    }

    /// Adds the variants of every literal of `p` found in `s.text` to the candidates.
    fn admit(ac: &AhoCorasick, p: &Prefilter, s: &mut Scratch) {
        if s.stamps.len() < p.needles.len() {
            s.stamps.resize(p.needles.len(), 0);
        }
        s.generation = s.generation.wrapping_add(1);
        if s.generation == 0 {
            s.stamps.iter_mut().for_each(|h| *h = 0);
            s.generation = 1;
        }
        let g = s.generation;
        for m in ac.find_overlapping_iter(s.text.as_str()) {
            let n = m.pattern().as_usize();
            if s.stamps[n] != g {
                s.stamps[n] = g;
                s.cands.extend_from_slice(&p.variants[n]);
            }
        }
    }

    /// Appends the indices of the rules matching `ev` to `out` (each rule once, ascending).
    /// The fast path: index bucket, prefilter, then the compiled trees.
    pub fn matches_into(&self, ev: &dyn FieldSource, s: &mut Scratch, out: &mut Vec<usize>) {
        s.eval.begin_event();
        let b = self.bucket(ev, s);
        self.admitted(b, ev, s);
        let mut last: Option<u32> = None;
        for i in 0..s.cands.len() {
            let v = &self.variants[s.cands[i] as usize];
            if last == Some(v.rule) {
                continue;
            }
            if v.eval(ev, &mut s.eval) {
                last = Some(v.rule);
                out.push(v.rule as usize);
            }
        }
        // Candidates are sorted by variant, and a rule's variants are contiguous, so the rules
        // appended are ascending and unique.
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
        s.begin_event();
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
        s.begin_event();
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
