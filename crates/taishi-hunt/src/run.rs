//! Running a compiled plan over files: units of all files in parallel, correlations in time order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rayon::prelude::*;
use taishi_events::{Event, Source, Warning};
use taishi_sigma::{CorrelationEngine, CorrelationHit, CorrelationState, Plan, RuleMeta, Scratch};

/// What fired: a detection rule on one event, or a correlation over several.
#[derive(Debug, Clone, PartialEq)]
pub enum Fired {
    /// Index into [`Plan::rules`].
    Rule(usize),
    /// A correlation (index into [`Plan::correlations`]) with what made it fire.
    Correlation {
        /// Index into [`Plan::correlations`].
        index: usize,
        /// The aggregate that met the threshold.
        value: f64,
        /// Events in the window.
        events: usize,
        /// Time of the window's first event.
        first: Option<Timestamp>,
    },
}

/// One detection, with everything a printer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The rule or correlation.
    pub fired: Fired,
    /// Time of the event (for a correlation: of the last event of its window).
    pub timestamp: Option<Timestamp>,
    /// Host of the event.
    pub computer: Option<String>,
    /// Channel of the event.
    pub channel: Option<String>,
    /// Windows event id.
    pub event_id: Option<i64>,
    /// File the event was read from (for a correlation: its last event's file).
    pub file: Option<Arc<Path>>,
    /// EVTX record id or line number.
    pub record: Option<u64>,
    /// Byte offset of the record or line.
    pub offset: u64,
    /// The fields behind the match (for a correlation: the group-by values), as text.
    pub fields: Vec<(String, String)>,
}

impl Detection {
    /// The metadata of the rule or correlation that fired (title, id, level, author …).
    pub fn meta<'p>(&self, plan: &'p Plan) -> &'p RuleMeta {
        match self.fired {
            Fired::Rule(i) => &plan.rules()[i].meta,
            Fired::Correlation { index, .. } => &plan.correlations()[index].meta,
        }
    }
}

/// Counts of a hunt, for the summary printed at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Files scanned.
    pub files: usize,
    /// Files that could not be read at all (see [`Outcome::errors`]).
    pub failed_files: usize,
    /// Bytes of input.
    pub bytes: u64,
    /// Events read.
    pub events: u64,
    /// Skipped chunks, records and lines.
    pub warnings: usize,
    /// Detections per rule or correlation, keyed by `(title, id)`, with the level.
    pub per_rule: BTreeMap<(String, String), (String, usize)>,
    /// Wall time of the scan.
    pub elapsed: Duration,
}

impl Summary {
    /// Total detections.
    pub fn detections(&self) -> usize {
        self.per_rule.values().map(|(_, n)| n).sum()
    }
}

/// Everything a hunt produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Detections sorted by time, then file and offset.
    pub detections: Vec<Detection>,
    /// Skipped parts of inputs, with file and offset.
    pub warnings: Vec<Warning>,
    /// Files that could not be opened or read.
    pub errors: Vec<taishi_events::Error>,
    /// The counts.
    pub summary: Summary,
}

/// An event kept for the correlation pass, with the rules it matched.
struct Kept {
    ts: i64,
    rules: Vec<usize>,
    event: Event,
}

#[derive(Default)]
struct UnitResult {
    events: u64,
    detections: Vec<Detection>,
    kept: Vec<Kept>,
    warnings: Vec<Warning>,
    error: Option<taishi_events::Error>,
}

fn text(v: &taishi_fields::Value<'_>) -> String {
    v.as_text().map(|t| t.into_owned()).unwrap_or_default()
}

fn detection_of(plan: &Plan, rule: usize, e: &Event) -> Detection {
    Detection {
        fired: Fired::Rule(rule),
        timestamp: e.meta.timestamp,
        computer: e.computer().map(|c| c.into_owned()),
        channel: e.channel().map(|c| c.into_owned()),
        event_id: e.event_id(),
        file: Some(e.meta.file.clone()),
        record: e.meta.record,
        offset: e.meta.offset,
        fields: plan
            .matched_fields(rule, e)
            .iter()
            .map(|(n, v)| (n.clone(), text(v)))
            .collect(),
    }
}

/// Runs `plan` over `files` on the current rayon pool and returns the detections as a timeline
/// (sorted by time, then file and offset). Holds every detection in memory until the end; use
/// [`hunt_streaming`] for output whose memory does not grow with the number of detections.
/// `progress` is called with the bytes of each finished unit of work (for a progress bar).
pub fn hunt(plan: &Plan, files: &[PathBuf], progress: &(dyn Fn(u64) + Sync)) -> Outcome {
    let mut detections = Vec::new();
    let mut out = hunt_streaming(plan, files, progress, &mut |d| detections.push(d));
    detections.sort_by(|a, b| {
        (a.timestamp, &a.file, a.offset, a.record).cmp(&(b.timestamp, &b.file, b.offset, b.record))
    });
    out.detections = detections;
    out
}

/// Runs `plan` over `files`, handing each detection to `emit` in input order (file by file, in
/// file order) as soon as the units before it are done, then the correlation detections. Units
/// run in parallel; a small reorder buffer keeps the output deterministic. The returned
/// [`Outcome`] has no detections (they went to `emit`) but counts them in its summary.
pub fn hunt_streaming(
    plan: &Plan,
    files: &[PathBuf],
    progress: &(dyn Fn(u64) + Sync),
    emit: &mut dyn FnMut(Detection),
) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome::default();
    let mut sources = Vec::new();
    for f in files {
        match Source::open(f) {
            Ok(s) => sources.push(s),
            Err(e) => out.errors.push(e),
        }
    }
    out.summary.files = files.len();
    out.summary.bytes = sources.iter().map(Source::len).sum();
    let engine = CorrelationEngine::new(plan, 0);
    let has_correlations = !plan.correlations().is_empty();
    let work: Vec<(usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(s, src)| (0..src.units()).map(move |u| (s, u)))
        .collect();
    let count = |d: &Detection, summary: &mut Summary| {
        let meta = d.meta(plan);
        let key = (meta.title.clone(), meta.id.clone().unwrap_or_default());
        let level = meta.level.map_or("", |l| l.as_str()).to_string();
        summary.per_rule.entry(key).or_insert((level, 0)).1 += 1;
    };
    let mut kept = Vec::new();
    // A bounded channel: workers wait when the printer falls behind, so memory stays flat.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, UnitResult)>(64);
    std::thread::scope(|scope| {
        let sources = &sources;
        let work = &work;
        let engine = &engine;
        scope.spawn(move || {
            work.par_iter().enumerate().for_each_init(
                || (Scratch::default(), Vec::new(), tx.clone()),
                |(scratch, hits, tx), (i, &(s, u))| {
                    let r = scan_unit(
                        plan,
                        engine,
                        has_correlations,
                        &sources[s],
                        u,
                        scratch,
                        hits,
                    );
                    progress(sources[s].unit_bytes(u));
                    // The receiver only goes away when the caller's thread panicked.
                    let _ = tx.send((i, r));
                },
            );
            drop(tx);
        });
        let mut pending: BTreeMap<usize, UnitResult> = BTreeMap::new();
        let mut next = 0;
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&next) {
                next += 1;
                out.summary.events += r.events;
                for d in r.detections {
                    count(&d, &mut out.summary);
                    emit(d);
                }
                out.warnings.extend(r.warnings);
                kept.extend(r.kept);
                if let Some(e) = r.error {
                    out.errors.push(e);
                }
            }
        }
    });
    if has_correlations {
        let mut found = Vec::new();
        correlate(&engine, kept, &mut found);
        for d in found {
            count(&d, &mut out.summary);
            emit(d);
        }
    }
    out.summary.failed_files = out.errors.len();
    out.summary.warnings = out.warnings.len();
    out.summary.elapsed = started.elapsed();
    out
}

/// Reads one unit and matches each of its events.
fn scan_unit(
    plan: &Plan,
    engine: &CorrelationEngine<'_>,
    has_correlations: bool,
    src: &Source,
    unit: usize,
    scratch: &mut Scratch,
    hits: &mut Vec<usize>,
) -> UnitResult {
    let mut r = UnitResult::default();
    let mut warnings = Vec::new();
    let mut on_event = |e: &Event| {
        r.events += 1;
        hits.clear();
        plan.matches_into(e, scratch, hits);
        if hits.is_empty() {
            return;
        }
        for &rule in hits.iter() {
            if plan.rules()[rule].standalone {
                r.detections.push(detection_of(plan, rule, e));
            }
        }
        if has_correlations && hits.iter().any(|h| engine.uses_rule(*h)) {
            r.kept.push(Kept {
                ts: e.meta.timestamp.map_or(0, |t| t.as_millisecond()),
                rules: hits.clone(),
                event: e.clone(),
            });
        }
    };
    if let Err(e) = src.read_unit(unit, &mut on_event, &mut |w| warnings.push(w)) {
        r.error = Some(e);
    }
    r.warnings = warnings;
    r
}

/// Feeds the kept events to the correlation engine in time order.
fn correlate(engine: &CorrelationEngine<'_>, mut kept: Vec<Kept>, out: &mut Vec<Detection>) {
    kept.sort_by_key(|k| k.ts);
    let mut state = CorrelationState::default();
    let mut emit = |hits: Vec<CorrelationHit>, last: Option<&Kept>| {
        for h in hits.into_iter().filter(|h| h.standalone) {
            out.push(correlation_detection(&h, last));
        }
    };
    for k in &kept {
        let hits = engine.process(&mut state, k.ts, &k.rules, &k.event);
        emit(hits, Some(k));
    }
    // Windows closed at the end of the stream belong to no single event.
    let hits = engine.flush(&mut state, None);
    emit(hits, None);
}

fn correlation_detection(h: &CorrelationHit, last: Option<&Kept>) -> Detection {
    let event = last.map(|k| &k.event);
    let mut fields: Vec<(String, String)> = h.group.clone();
    fields.push(("value".into(), h.value.to_string()));
    Detection {
        fired: Fired::Correlation {
            index: h.correlation,
            value: h.value,
            events: h.events,
            first: Timestamp::from_millisecond(h.first_ms).ok(),
        },
        timestamp: Timestamp::from_millisecond(h.last_ms).ok(),
        computer: event.and_then(|e| e.computer().map(|c| c.into_owned())),
        channel: event.and_then(|e| e.channel().map(|c| c.into_owned())),
        event_id: None,
        file: event.map(|e| e.meta.file.clone()),
        record: None,
        offset: 0,
        fields,
    }
}
