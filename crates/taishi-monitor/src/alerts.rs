//! Alerts: Sigma detections from `taishi-hunt` loaded as findings with source `detection`, attributed to
//! the org that owns the host or address they fired on (the store's attribution index: IP → most
//! specific IP/CIDR; host → website host, domain or wildcard), deduplicated by rule, host and time
//! window: every detection of one rule on one host within one window is one finding whose occurrence
//! count grows; the next window opens a new one.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::net::IpAddr;
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
}

/// Converts a hunt's detections into alerts.
pub fn alerts_from(plan: &Plan, detections: &[Detection]) -> Vec<Alert> {
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
            "host": host,
            "matched": matched,
            "attributed_to": owner.identity,
            "window_start": win.to_string(),
            "at": at.to_string(),
            "origin": alert.origin,
            "author": alert.author,
            "tags": alert.tags,
            "fields": alert.fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
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
