//! Pure scheduling rules: which targets an asset gives, which checks apply to a target, how long until
//! the next run (interval, shortening for open critical/high findings, deterministic jitter).

use crate::config::MonitorConfig;
use ipnet::IpNet;
use jiff::{SignedDuration, Timestamp};
use taishi_model::{Asset, AssetKind, Severity};
use taishi_probe::Target;

/// Tag prefix naming an extra probe target on any asset (`probe=https://oa.example.cn/`): how a
/// `system` asset, which has no network identity, gets probed.
pub const PROBE_TAG: &str = "probe=";

/// Check ids that run against web targets (URLs).
pub const WEB_CHECKS: &[&str] = &[
    "availability",
    "headers",
    "tls",
    "exposure",
    "links",
    "content",
    "fingerprint",
    "dns",
];
/// Check ids that run against bare hosts and addresses.
pub const HOST_CHECKS: &[&str] = &["ports", "dns"];

/// Why an asset gives fewer targets than it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// A CIDR range larger than the configured limit.
    CidrTooLarge {
        /// The range.
        range: String,
        /// Its address count.
        hosts: u128,
    },
    /// A wildcard domain has no single host to probe.
    Wildcard(String),
    /// The text does not parse as a target.
    Invalid(String),
}

/// The probe targets of `asset` (normalised target texts) and what was skipped.
pub fn targets_for(asset: &Asset, max_cidr_hosts: u32) -> (Vec<Target>, Vec<Skipped>) {
    let mut texts: Vec<String> = Vec::new();
    let mut skipped = Vec::new();
    match asset.kind {
        AssetKind::Website | AssetKind::Ip => texts.push(asset.identity.clone()),
        AssetKind::Domain => {
            if asset.identity.starts_with("*.") {
                skipped.push(Skipped::Wildcard(asset.identity.clone()));
            } else {
                texts.push(asset.identity.clone());
            }
        }
        AssetKind::Cidr => match asset.identity.parse::<IpNet>() {
            Ok(net) => {
                let bits = net.max_prefix_len() - net.prefix_len();
                let size: u128 = 1u128.checked_shl(u32::from(bits)).unwrap_or(u128::MAX);
                if size > u128::from(max_cidr_hosts) {
                    skipped.push(Skipped::CidrTooLarge {
                        range: asset.identity.clone(),
                        hosts: size,
                    });
                } else {
                    texts.extend(net.hosts().map(|a| a.to_string()));
                }
            }
            Err(_) => skipped.push(Skipped::Invalid(asset.identity.clone())),
        },
        AssetKind::System => {}
    }
    texts.extend(
        asset
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix(PROBE_TAG))
            .map(str::to_owned),
    );
    let mut out: Vec<Target> = Vec::with_capacity(texts.len());
    for t in texts {
        match Target::parse(&t) {
            Ok(t) if !out.iter().any(|o| o.input == t.input) => out.push(t),
            Ok(_) => {}
            Err(_) => skipped.push(Skipped::Invalid(t)),
        }
    }
    (out, skipped)
}

/// Whether the check `id` applies to `target`: web checks to URLs, port and DNS checks to bare hosts.
pub fn applies(id: &str, target: &Target) -> bool {
    if target.bare_host {
        HOST_CHECKS.contains(&id)
    } else {
        WEB_CHECKS.contains(&id)
    }
}

/// The interval of check `id` for an asset whose worst open finding is `worst`: the configured interval
/// (or the check's own), capped by the urgency cap of that severity.
pub fn interval(
    cfg: &MonitorConfig,
    id: &str,
    own_secs: u64,
    worst: Option<Severity>,
) -> SignedDuration {
    let base = cfg.intervals.get(id).copied().unwrap_or(own_secs).max(1);
    let cap = worst
        .and_then(|s| cfg.urgent_caps.get(s.as_str()).copied())
        .unwrap_or(u64::MAX);
    secs(base.min(cap))
}

fn secs(s: u64) -> SignedDuration {
    SignedDuration::from_secs(i64::try_from(s).unwrap_or(i64::MAX / 2))
}

/// A stable fraction in [0, 1) for a job: FNV-1a over its identity, so jitter is the same on every run
/// and every restart, and jobs spread evenly.
pub fn spread(parts: &[&str]) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// When a job that last started at `last` runs next: `last + interval`, moved by up to ±`jitter` of
/// the interval by the job's stable spread.
pub fn next_due(last: Timestamp, every: SignedDuration, jitter: f64, fraction: f64) -> Timestamp {
    let shift = every.as_secs_f64() * jitter * (2.0 * fraction - 1.0);
    let d = every.as_secs_f64() + shift;
    last.saturating_add(SignedDuration::from_secs_f64(d.max(1.0)))
        .unwrap_or(last)
}

/// When a job seen for the first time runs: within `first_spread` of now (never later than its
/// interval), so a large registry does not hit the network all at once after start-up.
pub fn first_due(
    now: Timestamp,
    every: SignedDuration,
    first_spread_secs: u64,
    fraction: f64,
) -> Timestamp {
    let window = (first_spread_secs as f64).min(every.as_secs_f64());
    now.saturating_add(SignedDuration::from_secs_f64(window * fraction))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use taishi_model::{AssetId, OrgId};

    fn asset(kind: AssetKind, identity: &str, tags: &[&str]) -> Asset {
        Asset {
            id: AssetId(1),
            org_id: OrgId(1),
            kind,
            identity: identity.into(),
            name: String::new(),
            tags: tags.iter().map(|s| (*s).to_owned()).collect(),
            mlps_level: None,
            critical_infrastructure: false,
            notes: String::new(),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn targets_per_kind() {
        let (t, _) = targets_for(
            &asset(AssetKind::Website, "https://www.example.cn/", &[]),
            256,
        );
        assert_eq!(t.len(), 1);
        assert!(!t[0].bare_host);
        let (t, _) = targets_for(&asset(AssetKind::Cidr, "10.0.0.0/30", &[]), 256);
        assert_eq!(
            t.iter().map(|t| t.input.as_str()).collect::<Vec<_>>(),
            ["10.0.0.1", "10.0.0.2"]
        );
        let (t, s) = targets_for(&asset(AssetKind::Cidr, "10.0.0.0/16", &[]), 256);
        assert!(t.is_empty());
        assert_eq!(
            s,
            [Skipped::CidrTooLarge {
                range: "10.0.0.0/16".into(),
                hosts: 65_536
            }]
        );
        let (t, s) = targets_for(&asset(AssetKind::Domain, "*.example.cn", &[]), 256);
        assert!(t.is_empty() && matches!(s[0], Skipped::Wildcard(_)));
        let (t, _) = targets_for(
            &asset(AssetKind::System, "OA", &["probe=127.0.0.1:6379", "x"]),
            256,
        );
        assert_eq!(t.len(), 1);
        assert!(t[0].bare_host);
        assert!(applies("ports", &t[0]) && !applies("headers", &t[0]));
    }

    #[test]
    fn urgent_assets_are_checked_sooner_and_jitter_is_bounded() {
        let cfg = MonitorConfig::default();
        assert_eq!(
            interval(&cfg, "ports", 1, None),
            SignedDuration::from_hours(168)
        );
        assert_eq!(
            interval(&cfg, "ports", 1, Some(Severity::Critical)),
            SignedDuration::from_hours(12)
        );
        assert_eq!(
            interval(&cfg, "ports", 1, Some(Severity::High)),
            SignedDuration::from_hours(24)
        );
        assert_eq!(
            interval(&cfg, "availability", 1, Some(Severity::Critical)),
            SignedDuration::from_mins(5)
        );
        assert_eq!(
            interval(&cfg, "unknown", 42, Some(Severity::Info)),
            SignedDuration::from_secs(42)
        );
        let t0 = Timestamp::UNIX_EPOCH;
        let every = SignedDuration::from_hours(1);
        let lo = next_due(t0, every, 0.1, 0.0);
        let hi = next_due(t0, every, 0.1, 0.999_999);
        assert_eq!(lo, t0 + SignedDuration::from_mins(54));
        assert!(
            hi > t0 + SignedDuration::from_mins(65) && hi <= t0 + SignedDuration::from_mins(66)
        );
        let f = spread(&["1", "https://a/", "tls"]);
        assert!((0.0..1.0).contains(&f));
        assert_eq!(f, spread(&["1", "https://a/", "tls"]));
        assert_ne!(f, spread(&["2", "https://a/", "tls"]));
        assert_eq!(first_due(t0, every, 0, f), t0);
        assert!(first_due(t0, every, 30, f) <= t0 + SignedDuration::from_secs(30));
    }
}
