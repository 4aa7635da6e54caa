//! Streaming evaluation of correlation rules.
//!
//! The caller feeds `(timestamp, matched rules, event)` in time order, or out of order within a
//! bounded lateness, and receives correlation hits. All state lives in [`CorrelationState`], a
//! plain serialisable structure, so it can be kept on a bus or in a store between calls.
//!
//! Semantics:
//! - Windows slide (they are not aligned to fixed buckets, as the specification asks): a window
//!   is `[t, t + timespan]` anchored at any event of the group.
//! - Thresholds that only bound from below (`gt`, `gte`) on counts, sums and the temporal types
//!   are decided as soon as an event arrives; every other threshold (`lt`, `lte`, `eq`, `neq`)
//!   and the average, median and percentile types are decided when the window closes, that is
//!   when the watermark (latest timestamp seen minus the allowed lateness) passes its end, or at
//!   [`CorrelationEngine::flush`].
//! - After a hit the events of the firing window are consumed, so one burst gives one hit.
//! - Events older than the watermark are counted in [`CorrelationState::late_events`] and ignored.
//! - The watermark moves only with events that feed a correlation; a live consumer should also
//!   call [`CorrelationEngine::flush`] with the current time now and then, so windows close
//!   (and `lt`/`avg`/… thresholds are decided) when the matching events stop coming.

use std::collections::{BTreeMap, HashMap};

use taishi_fields::{FieldSource, Value};

use super::{CorrelationDef, CorrelationType, Source};
use crate::plan::Plan;

/// One event remembered by a correlation group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Event time, unix milliseconds.
    pub ts: i64,
    /// Position of the matching source in the correlation's `rules`.
    pub source: usize,
    /// The aggregated field's value (for value_* types).
    pub value: Option<String>,
}

/// The events of one correlation and group-by key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupState {
    /// Index into [`Plan::correlations`].
    pub correlation: usize,
    /// The group-by values, in `group-by` order.
    pub group: Vec<String>,
    /// Remembered events, sorted by time.
    pub entries: Vec<Entry>,
}

/// All correlation state: plain data, serialisable.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorrelationState {
    /// Groups by `"<correlation>\u{1f}<value>\u{1f}<value>…"`.
    pub groups: BTreeMap<String, GroupState>,
    /// The latest event time seen.
    pub max_seen_ms: Option<i64>,
    /// Events that arrived later than the allowed lateness and were ignored.
    pub late_events: u64,
    /// The earliest end of a window still open in any group: when the watermark passes it,
    /// every group is swept.
    #[serde(default)]
    pub next_deadline_ms: Option<i64>,
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationHit {
    /// Index into [`Plan::correlations`].
    pub correlation: usize,
    /// Time of the first event of the firing window.
    pub first_ms: i64,
    /// Time of the last event of the firing window.
    pub last_ms: i64,
    /// The group-by names and values.
    pub group: Vec<(String, String)>,
    /// The aggregate that met the threshold (count, distinct count, sum, average, …).
    pub value: f64,
    /// Number of events in the window.
    pub events: usize,
    /// Whether this hit is a detection of its own (false for a correlation only referenced by
    /// another one).
    pub standalone: bool,
}

/// Evaluates the correlations of a plan over a stream of rule matches.
#[derive(Debug)]
pub struct CorrelationEngine<'p> {
    plan: &'p Plan,
    lateness_ms: i64,
    by_source: HashMap<Source, Vec<(usize, usize)>>,
}

/// Group values of a correlation hit, read as fields by correlations that reference it.
struct HitFields<'a>(&'a [(String, String)]);

impl FieldSource for HitFields<'_> {
    fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
        let mut found = false;
        for (_, v) in self.0.iter().filter(|(k, _)| k == name) {
            found = true;
            visit(&Value::Str(v.as_str().into()));
        }
        found
    }
    fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
        self.0
            .iter()
            .for_each(|(k, v)| visit(k, &Value::Str(v.as_str().into())));
    }
}

fn text_of(ev: &dyn FieldSource, field: &str) -> Option<String> {
    ev.first(field)
        .and_then(|v| v.as_text().map(|t| t.into_owned()))
}

fn numbers(entries: &[Entry]) -> Vec<f64> {
    entries
        .iter()
        .filter_map(|e| e.value.as_deref()?.trim().parse::<f64>().ok())
        .collect()
}

/// The aggregate of a window, or `None` when the window has nothing to aggregate.
fn aggregate(def: &CorrelationDef, w: &[Entry]) -> Option<f64> {
    Some(match def.kind {
        CorrelationType::EventCount => w.len() as f64,
        CorrelationType::ValueCount => {
            let mut v: Vec<&str> = w.iter().filter_map(|e| e.value.as_deref()).collect();
            v.sort_unstable();
            v.dedup();
            v.len() as f64
        }
        CorrelationType::Temporal if def.boolean.is_some() => {
            let mut present = vec![false; def.sources.len()];
            for e in w {
                if let Some(p) = present.get_mut(e.source) {
                    *p = true;
                }
            }
            f64::from(u8::from(
                def.boolean.as_ref().is_some_and(|b| b.eval(&present)),
            ))
        }
        CorrelationType::Temporal => {
            let mut s: Vec<usize> = w.iter().map(|e| e.source).collect();
            s.sort_unstable();
            s.dedup();
            s.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            let mut next = 0;
            for e in w {
                if e.source == next {
                    next += 1;
                }
            }
            next as f64
        }
        CorrelationType::ValueSum => numbers(w).iter().sum(),
        CorrelationType::ValueAvg => {
            let n = numbers(w);
            if n.is_empty() {
                return None;
            }
            n.iter().sum::<f64>() / n.len() as f64
        }
        CorrelationType::ValueMedian => {
            let mut n = numbers(w);
            if n.is_empty() {
                return None;
            }
            n.sort_by(f64::total_cmp);
            let m = n.len() / 2;
            if n.len().is_multiple_of(2) {
                (n[m - 1] + n[m]) / 2.0
            } else {
                n[m]
            }
        }
        CorrelationType::ValuePercentile => {
            // The share of the rarest (or, for lower bounds, the most common) value.
            let mut counts: HashMap<&str, usize> = HashMap::new();
            w.iter()
                .filter_map(|e| e.value.as_deref())
                .for_each(|v| *counts.entry(v).or_default() += 1);
            let total: usize = counts.values().sum();
            if total == 0 {
                return None;
            }
            let shares = counts.values().map(|c| 100.0 * *c as f64 / total as f64);
            if def.threshold.only_lower_bounds() {
                shares.fold(0.0, f64::max)
            } else {
                shares.fold(100.0, f64::min)
            }
        }
    })
}

fn decided_on_arrival(def: &CorrelationDef) -> bool {
    def.threshold.only_lower_bounds()
        && !def.boolean.as_ref().is_some_and(super::SourceExpr::has_not)
        && matches!(
            def.kind,
            CorrelationType::EventCount
                | CorrelationType::ValueCount
                | CorrelationType::Temporal
                | CorrelationType::TemporalOrdered
                | CorrelationType::ValueSum
        )
}

impl<'p> CorrelationEngine<'p> {
    /// An engine for the correlations of `plan`, accepting events up to `lateness_ms` older
    /// than the latest one seen.
    pub fn new(plan: &'p Plan, lateness_ms: i64) -> CorrelationEngine<'p> {
        let mut by_source: HashMap<Source, Vec<(usize, usize)>> = HashMap::new();
        for (c, def) in plan.correlations.iter().enumerate() {
            for (pos, s) in def.sources.iter().enumerate() {
                by_source.entry(*s).or_default().push((c, pos));
            }
        }
        CorrelationEngine {
            plan,
            lateness_ms: lateness_ms.max(0),
            by_source,
        }
    }

    /// Whether rule `rule` feeds any correlation (callers may skip [`Self::process`] otherwise).
    pub fn uses_rule(&self, rule: usize) -> bool {
        self.by_source.contains_key(&Source::Rule(rule))
    }

    fn watermark(&self, state: &CorrelationState) -> Option<i64> {
        state
            .max_seen_ms
            .map(|m| m.saturating_sub(self.lateness_ms))
    }

    /// Feeds one event with the rules it matched; returns the correlations that fired.
    pub fn process(
        &self,
        state: &mut CorrelationState,
        ts: i64,
        rules: &[usize],
        ev: &dyn FieldSource,
    ) -> Vec<CorrelationHit> {
        let mut hits = Vec::new();
        if !rules.iter().any(|r| self.uses_rule(*r)) {
            return hits;
        }
        if self.watermark(state).is_some_and(|w| ts < w) {
            state.late_events += 1;
            return hits;
        }
        state.max_seen_ms = Some(state.max_seen_ms.map_or(ts, |m| m.max(ts)));
        for &r in rules {
            self.feed(state, Source::Rule(r), ts, ev, &mut hits);
        }
        if let (Some(wm), Some(d)) = (self.watermark(state), state.next_deadline_ms)
            && d < wm
        {
            hits.extend(self.flush(state, Some(wm)));
        }
        hits
    }

    fn feed(
        &self,
        state: &mut CorrelationState,
        src: Source,
        ts: i64,
        ev: &dyn FieldSource,
        hits: &mut Vec<CorrelationHit>,
    ) {
        let Some(targets) = self.by_source.get(&src) else {
            return;
        };
        for &(c, pos) in targets {
            let def = &self.plan.correlations[c];
            let group: Option<Vec<String>> = def.group_fields[pos]
                .iter()
                .map(|f| text_of(ev, f))
                .collect();
            let Some(group) = group else { continue };
            let value = if def.kind.needs_field() {
                let parts: Option<Vec<String>> =
                    def.fields.iter().map(|f| text_of(ev, f)).collect();
                match parts {
                    Some(p) => Some(p.join("\u{1f}")),
                    None => continue,
                }
            } else {
                None
            };
            let key = std::iter::once(c.to_string())
                .chain(group.iter().cloned())
                .collect::<Vec<_>>()
                .join("\u{1f}");
            let g = state
                .groups
                .entry(key.clone())
                .or_insert_with(|| GroupState {
                    correlation: c,
                    group,
                    entries: Vec::new(),
                });
            let at = g.entries.partition_point(|e| e.ts <= ts);
            g.entries.insert(
                at,
                Entry {
                    ts,
                    source: pos,
                    value,
                },
            );
            let mut fired = Vec::new();
            if decided_on_arrival(def)
                && let Some(hit) = Self::check_arrival(def, c, g, ts)
            {
                fired.push(hit);
            }
            let wm = state
                .max_seen_ms
                .map(|m| m.saturating_sub(self.lateness_ms));
            if let Some(g) = state.groups.get_mut(&key) {
                fired.extend(Self::close_windows(def, c, g, wm));
                match g.entries.first() {
                    None => {
                        state.groups.remove(&key);
                    }
                    Some(first) => {
                        let d = first.ts.saturating_add(def.timespan_ms);
                        state.next_deadline_ms =
                            Some(state.next_deadline_ms.map_or(d, |n| n.min(d)));
                    }
                }
            }
            for hit in fired {
                let pairs = hit.group.clone();
                let last = hit.last_ms;
                hits.push(hit);
                self.feed(
                    state,
                    Source::Correlation(c),
                    last,
                    &HitFields(&pairs),
                    hits,
                );
            }
        }
    }

    fn hit(
        def: &CorrelationDef,
        c: usize,
        g: &GroupState,
        w: &[Entry],
        value: f64,
        standalone: bool,
    ) -> CorrelationHit {
        CorrelationHit {
            correlation: c,
            first_ms: w.first().map_or(0, |e| e.ts),
            last_ms: w.last().map_or(0, |e| e.ts),
            group: def
                .group_by
                .iter()
                .cloned()
                .zip(g.group.iter().cloned())
                .collect(),
            value,
            events: w.len(),
            standalone,
        }
    }

    /// Arrival-time check: every window `[x, x + span]` with an anchor `x` in `[ts - span, ts]`.
    fn check_arrival(
        def: &CorrelationDef,
        c: usize,
        g: &mut GroupState,
        ts: i64,
    ) -> Option<CorrelationHit> {
        let span = def.timespan_ms;
        let lo = g
            .entries
            .partition_point(|e| e.ts < ts.saturating_sub(span));
        let hi = g.entries.partition_point(|e| e.ts <= ts);
        for a in lo..hi {
            let end = g
                .entries
                .partition_point(|e| e.ts <= g.entries[a].ts.saturating_add(span));
            let w = &g.entries[a..end];
            if let Some(v) = aggregate(def, w).filter(|v| def.threshold.holds(*v)) {
                let hit = Self::hit(def, c, g, w, v, def.standalone);
                g.entries.drain(a..end);
                return Some(hit);
            }
        }
        None
    }

    /// Decides windows whose end is before the watermark (`None` = all windows: end of stream),
    /// and forgets events no future window can use.
    fn close_windows(
        def: &CorrelationDef,
        c: usize,
        g: &mut GroupState,
        wm: Option<i64>,
    ) -> Vec<CorrelationHit> {
        let mut out = Vec::new();
        let span = def.timespan_ms;
        let arrival = decided_on_arrival(def);
        while let Some(first) = g.entries.first().map(|e| e.ts) {
            let end_ts = first.saturating_add(span);
            if wm.is_some_and(|w| end_ts >= w) {
                break;
            }
            let end = g.entries.partition_point(|e| e.ts <= end_ts);
            if !arrival {
                let w = &g.entries[..end];
                if let Some(v) = aggregate(def, w).filter(|v| def.threshold.holds(*v)) {
                    out.push(Self::hit(def, c, g, w, v, def.standalone));
                    g.entries.drain(..end);
                    continue;
                }
            }
            g.entries.remove(0);
        }
        out
    }

    /// Closes every window that ended before `up_to_ms` (or all of them when `None`, at the end
    /// of a stream) and returns the hits decided on close.
    pub fn flush(
        &self,
        state: &mut CorrelationState,
        up_to_ms: Option<i64>,
    ) -> Vec<CorrelationHit> {
        let mut hits = Vec::new();
        let keys: Vec<String> = state.groups.keys().cloned().collect();
        state.next_deadline_ms = None;
        for key in keys {
            let Some(g) = state.groups.get_mut(&key) else {
                continue;
            };
            let c = g.correlation;
            let Some(def) = self.plan.correlations.get(c) else {
                state.groups.remove(&key);
                continue;
            };
            let fired = Self::close_windows(def, c, g, up_to_ms);
            match g.entries.first() {
                None => {
                    state.groups.remove(&key);
                }
                Some(first) => {
                    let d = first.ts.saturating_add(def.timespan_ms);
                    state.next_deadline_ms = Some(state.next_deadline_ms.map_or(d, |n| n.min(d)));
                }
            }
            for hit in fired {
                let pairs = hit.group.clone();
                let last = hit.last_ms;
                hits.push(hit);
                self.feed(
                    state,
                    Source::Correlation(c),
                    last,
                    &HitFields(&pairs),
                    &mut hits,
                );
            }
        }
        hits
    }
}
