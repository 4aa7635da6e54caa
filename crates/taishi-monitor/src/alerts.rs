//! Alerts: Sigma detections from `taishi-hunt` loaded as findings with source `detection`, attributed to
//! the org that owns the host or address they fired on (the store's attribution index: IP → most
//! specific IP/CIDR; host → website host, domain or wildcard), deduplicated by rule, host and time
//! window: every detection of one rule on one host within one window is one finding whose occurrence
//! count grows; the next window opens a new one.
//!
//! A detection names only the fields behind its match, so [`alerts_from`] reads every event that fired
//! back from its file (by file, offset and record) and keeps all its fields, up to [`EVENT_LIMIT`]
//! bytes, in the finding's evidence: the analyst sees the whole event, not just what the rule looked
//! at. Files are read once each, and only files with detections.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use taishi_hunt::{Detection, Fired};
use taishi_loop::LoopService;
use taishi_model::finding::{IntakeOutcome, Sighting};
use taishi_model::{FindingSource, Severity};
use taishi_sigma::{Level, Plan};
use taishi_store::attribution::{Attribution, AttributionIndex};

/// One detection, detached from the plan that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Rule id (or title when the rule has none).
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: Option<Level>,
    /// When the event happened.
    pub at: Option<Timestamp>,
    /// The host the event came from (`Computer`, `host`…).
    pub host: Option<String>,
    /// Fields behind the match, as text.
    pub fields: Vec<(String, String)>,
    /// Where it was read from, for the analyst (`file#record`).
    pub origin: String,
    /// The rule's author (the Detection Rule Licence asks every alert to carry it).
    pub author: Option<String>,
    /// ATT&CK and other tags.
    pub tags: Vec<String>,
    /// Every field of the event that fired, in reader order, at most [`EVENT_LIMIT`] bytes of names
    /// and values; empty for a correlation or when the file could not be read again.
    pub event: Vec<(String, String)>,
    /// The event was longer than [`EVENT_LIMIT`] and was cut there.
    pub event_truncated: bool,
}

/// Most bytes of names and values of one event an alert keeps; the rest is cut and marked.
pub const EVENT_LIMIT: usize = 64 * 1024;

/// The mark that ends a value cut at [`EVENT_LIMIT`].
pub const CUT_MARK: &str = "…[truncated]";

/// The fields of an event, at most `limit` bytes of names and values: the value that crosses the
/// limit is cut at a character boundary and ends with [`CUT_MARK`], and later fields are left out.
/// Returns the fields and whether anything was cut.
pub fn bounded_fields<'a>(
    fields: impl Iterator<Item = (&'a str, String)>,
    limit: usize,
) -> (Vec<(String, String)>, bool) {
    let mut out = Vec::new();
    let mut used = 0;
    for (name, value) in fields {
        let need = name.len() + value.len();
        if used + need <= limit {
            used += need;
            out.push((name.to_owned(), value));
            continue;
        }
        let room = limit.saturating_sub(used + name.len());
        if room > 0 {
            let mut end = room;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            out.push((name.to_owned(), format!("{}{CUT_MARK}", &value[..end])));
        }
        return (out, true);
    }
    (out, false)
}

/// Where an event of a detection lies: its file, offset and record.
type Spot = (PathBuf, u64, Option<u64>);

/// The file to open for an event read from `file`: the file itself, or for an entry of a zip archive
/// (`archive.zip!entry`) the archive.
fn openable(file: &Path) -> PathBuf {
    if file.exists() {
        return file.to_path_buf();
    }
    let s = file.to_string_lossy();
    match s.rfind('!') {
        Some(i) => PathBuf::from(&s[..i]),
        None => file.to_path_buf(),
    }
}

/// The events found again: each spot's fields and whether they were cut.
type Found = HashMap<Spot, (Vec<(String, String)>, bool)>;

/// Reads one file, keeping the events at `spots` (looked up by offset and record first, so most
/// events cost one hash lookup and no allocation).
fn read_file(path: &Path, spots: &HashSet<Spot>, found: &mut Found) {
    let quick: HashSet<(u64, Option<u64>)> = spots.iter().map(|(_, o, r)| (*o, *r)).collect();
    // A file that went away or no longer reads leaves its alerts with the matched fields only.
    let Ok(src) = taishi_events::Source::open(path) else {
        return;
    };
    let mut on_event = |e: &taishi_events::Event| {
        if !quick.contains(&(e.meta.offset, e.meta.record)) {
            return;
        }
        let spot = (e.meta.file.to_path_buf(), e.meta.offset, e.meta.record);
        if spots.contains(&spot) && !found.contains_key(&spot) {
            let fields = e.fields().map(|(n, v)| {
                let text = v.as_text().map(|t| t.into_owned()).unwrap_or_default();
                (n, text)
            });
            found.insert(spot, bounded_fields(fields, EVENT_LIMIT));
        }
    };
    let _ = src.read_all(&mut on_event, &mut |_| {});
}

/// Reads back the events behind `detections` (rules only; correlations span many events): each file
/// with a detection is read once, files in parallel on as many threads as there are cores.
fn read_back(detections: &[Detection]) -> Found {
    let mut wanted: HashMap<PathBuf, HashSet<Spot>> = HashMap::new();
    for d in detections {
        if let (Fired::Rule(_), Some(f)) = (&d.fired, &d.file) {
            let spot = (f.to_path_buf(), d.offset, d.record);
            wanted.entry(openable(f)).or_default().insert(spot);
        }
    }
    let wanted: Vec<(PathBuf, HashSet<Spot>)> = wanted.into_iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(wanted.len());
    let next = AtomicUsize::new(0);
    let mut found = Found::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Found::new();
                    while let Some((path, spots)) = wanted.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        read_file(path, spots, &mut mine);
                    }
                    mine
                })
            })
            .collect();
        for w in workers {
            // A reader that panicked leaves its files' alerts with the matched fields only.
            if let Ok(mine) = w.join() {
                found.extend(mine);
            }
        }
    });
    found
}

/// Converts a hunt's detections into alerts, each with its whole event read back from its file.
pub fn alerts_from(plan: &Plan, detections: &[Detection]) -> Vec<Alert> {
    let events = read_back(detections);
    detections
        .iter()
        .map(|d| {
            let m = d.meta(plan);
            let origin = match (&d.file, d.record) {
                (Some(f), Some(r)) => format!("{}#{r}", f.display()),
                (Some(f), None) => format!("{}@{}", f.display(), d.offset),
                (None, _) => String::new(),
            };
            let mut fields = d.fields.clone();
            if let Fired::Correlation { value, events, .. } = d.fired {
                fields.push(("correlation.value".into(), value.to_string()));
                fields.push(("correlation.events".into(), events.to_string()));
            }
            let spot = d
                .file
                .as_ref()
                .map(|f| (f.to_path_buf(), d.offset, d.record));
            let (event, event_truncated) = match (&d.fired, spot) {
                // Several rules may fire on one event: each alert gets its copy.
                (Fired::Rule(_), Some(spot)) => events.get(&spot).cloned().unwrap_or_default(),
                _ => (Vec::new(), false),
            };
            Alert {
                rule: m.handle(),
                title: m.title.clone(),
                level: m.level,
                at: d.timestamp,
                host: d.computer.clone(),
                fields,
                origin,
                author: m.author.clone(),
                tags: m.tags.clone(),
                event,
                event_truncated,
            }
        })
        .collect()
}

/// How alerts become findings.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertPolicy {
    /// The dedup window: detections of one rule on one host within it are one finding.
    pub window: SignedDuration,
    /// Fields whose values are tried as addresses when the host does not attribute (in order).
    pub address_fields: Vec<String>,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            window: SignedDuration::from_hours(1),
            address_fields: [
                "IpAddress",
                "SourceAddress",
                "SourceIp",
                "src_ip",
                "DestinationIp",
                "DestAddress",
                "dest_ip",
                "ClientAddress",
                "host.ip",
                "source.ip",
                "destination.ip",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        }
    }
}

/// Severity of a Sigma level (informational → info).
pub fn severity_of(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::Low) => Severity::Low,
        Some(Level::Informational) => Severity::Info,
    }
}

/// Who owns the alert: its host (as an address or a name), else the first address field that
/// attributes. Returns the attribution and the value that matched.
pub fn attribute(
    alert: &Alert,
    index: &AttributionIndex,
    policy: &AlertPolicy,
) -> Option<(Attribution, String)> {
    if let Some(h) = alert
        .host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let a = match h.parse::<IpAddr>() {
            Ok(ip) => index.lookup_ip(ip),
            Err(_) => index.lookup_host(h),
        };
        if let Some(a) = a {
            return Some((a, h.to_owned()));
        }
    }
    for name in &policy.address_fields {
        for (k, v) in &alert.fields {
            if k.eq_ignore_ascii_case(name)
                && let Ok(ip) = v.trim().parse::<IpAddr>()
                && let Some(a) = index.lookup_ip(ip)
            {
                return Some((a, ip.to_string()));
            }
        }
    }
    None
}

/// The start of the dedup window containing `at`.
pub fn window_start(at: Timestamp, window: SignedDuration) -> Timestamp {
    let w = window.as_millis().max(1) as i64;
    let ms = at.as_millisecond();
    Timestamp::from_millisecond(ms - ms.rem_euclid(w)).unwrap_or(at)
}

/// The sighting of an attributed alert; `now` stands in for an event without a time.
pub fn sighting(
    alert: &Alert,
    owner: &Attribution,
    matched: &str,
    policy: &AlertPolicy,
    now: Timestamp,
) -> Sighting {
    let at = alert.at.unwrap_or(now);
    let host = alert
        .host
        .clone()
        .unwrap_or_else(|| matched.to_owned())
        .to_lowercase();
    let win = window_start(at, policy.window);
    Sighting {
        source: FindingSource::Detection,
        check: alert.rule.clone(),
        key: format!("{host}|{}", win.as_millisecond()),
        org: owner.org_id,
        asset: owner.asset_id,
        title: format!("{}（{host}）", alert.title),
        severity: severity_of(alert.level),
        exploited: false,
        internet_exposed: false,
        evidence: json!({
            "text": format!("{} fired on {host}", alert.title),
            "rule": alert.rule,
            "title": alert.title,
            "host": host,
            "matched": matched,
            "attributed_to": owner.identity,
            "window_start": win.to_string(),
            "at": at.to_string(),
            "origin": alert.origin,
            "author": alert.author,
            "tags": alert.tags,
            "fields": alert.fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "event": alert.event.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "event_truncated": alert.event_truncated,
        }),
        seen_at: at,
    }
}

/// What loading alerts did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertReport {
    /// New findings (one per rule, host and window).
    pub opened: usize,
    /// Detections folded into an existing finding.
    pub merged: usize,
    /// Detections no registered asset owns (listed by host, for the registry to catch up).
    pub unattributed: Vec<String>,
}

/// Loads alerts as findings through the loop's intake.
pub async fn ingest_alerts(
    svc: &LoopService,
    index: &AttributionIndex,
    alerts: &[Alert],
    policy: &AlertPolicy,
) -> Result<AlertReport, taishi_loop::LoopError> {
    let now = svc.now();
    let mut rep = AlertReport::default();
    for a in alerts {
        let Some((owner, matched)) = attribute(a, index, policy) else {
            let who = a.host.clone().unwrap_or_else(|| "(no host)".into());
            if !rep.unattributed.contains(&who) {
                rep.unattributed.push(who);
            }
            continue;
        };
        match svc
            .ingest(sighting(a, &owner, &matched, policy, now))
            .await?
            .outcome
        {
            IntakeOutcome::Opened => rep.opened += 1,
            _ => rep.merged += 1,
        }
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn small_events_are_kept_whole() {
        let f = fields(&[("EventID", "4625"), ("Image", "C:\\x.exe")]);
        let (out, cut) = bounded_fields(f.into_iter(), 64);
        assert!(!cut);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], ("Image".into(), "C:\\x.exe".into()));
    }

    #[test]
    fn the_value_crossing_the_limit_is_cut_on_a_char_boundary_and_marked() {
        // 2 + 4 bytes fit; "Cmd" (3) leaves 10 bytes for a value of three-byte characters.
        let long = "命令行参数很长很长";
        let f = fields(&[("ID", "4688"), ("Cmd", long), ("After", "x")]);
        let (out, cut) = bounded_fields(f.into_iter(), 19);
        assert!(cut);
        assert_eq!(out.len(), 2, "fields after the cut are left out");
        assert_eq!(out[1].1, format!("命令行{CUT_MARK}"));
        let kept: usize = out.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(kept <= 19 + CUT_MARK.len());
    }

    #[test]
    fn a_name_that_does_not_fit_ends_the_event() {
        let f = fields(&[("A", "12345"), ("LongName", "v")]);
        let (out, cut) = bounded_fields(f.into_iter(), 8);
        assert!(cut);
        assert_eq!(out, vec![("A".to_owned(), "12345".to_owned())]);
    }

    #[test]
    fn zip_entries_open_their_archive() {
        assert_eq!(
            openable(Path::new("/nonexistent/logs.zip!inner/sec.jsonl")),
            PathBuf::from("/nonexistent/logs.zip")
        );
        assert_eq!(
            openable(Path::new("/nonexistent/a.jsonl")),
            PathBuf::from("/nonexistent/a.jsonl")
        );
    }
}
