//! Scheduler settings: per-check intervals, the CISA Cyber Hygiene-style shortening for assets with open
//! critical or high findings, jitter, concurrency limits and the probe suite itself.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use taishi_probe::CheckConfig;

/// How the scheduler runs the probe suite over the registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The checks to run (the probe's own configuration, `type` selects the check).
    pub suite: Vec<CheckConfig>,
    /// Interval per check id in seconds; a check not listed uses its own schedule's interval.
    pub intervals: BTreeMap<String, u64>,
    /// Longest interval for an asset with an open finding of this severity (`critical`, `high`,
    /// `medium`, `low`), in seconds. CISA Cyber Hygiene rescans hosts with critical findings every
    /// 12 hours, high every 24 hours, medium every 4 days, low every 6 days.
    pub urgent_caps: BTreeMap<String, u64>,
    /// Jitter as a fraction of the interval (0.1 = up to ±10 %), deterministic per asset and check so
    /// runs spread evenly instead of bunching at start-up.
    pub jitter: f64,
    /// Spread of the first run of every (asset, check) after start-up, in seconds (0: all at once).
    pub first_spread_secs: u64,
    /// Check runs in flight at once, across all assets.
    pub max_concurrent: usize,
    /// Check runs in flight at once against one host (politeness).
    pub per_host: usize,
    /// Extra time over a check's own timeout before the scheduler abandons the run.
    pub grace_ms: u64,
    /// Largest CIDR range expanded into per-address port checks; larger ranges are skipped with a
    /// warning (scanning whole networks needs an explicit decision).
    pub max_cidr_hosts: u32,
    /// How long the run loop sleeps at most between looks at the schedule, in milliseconds.
    pub poll_ms: u64,
    /// Days stored observations are kept (pruned hourly); at least 8, since the government-site rule
    /// reads a week of availability runs.
    pub observation_retention_days: u32,
    /// How often the loop's monthly `availability` metric is recomputed from the stored
    /// observations, in seconds (0: after every pass that stored runs).
    pub availability_metrics_secs: u64,
    /// How often the run loop reloads the registry when nothing is due, in seconds.
    pub refresh_secs: u64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        let intervals = [
            ("availability", 300),
            ("content", 3_600),
            ("links", 3_600),
            ("headers", 21_600),
            ("exposure", 21_600),
            ("tls", 86_400),
            ("dns", 86_400),
            ("fingerprint", 86_400),
            ("ports", 604_800),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let urgent_caps = [
            ("critical", 12 * 3_600),
            ("high", 24 * 3_600),
            ("medium", 4 * 86_400),
            ("low", 6 * 86_400),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        MonitorConfig {
            suite: taishi_probe::default_suite(),
            intervals,
            urgent_caps,
            jitter: 0.1,
            first_spread_secs: 30,
            max_concurrent: 64,
            per_host: 2,
            grace_ms: 2_000,
            max_cidr_hosts: 256,
            poll_ms: 1_000,
            observation_retention_days: 90,
            availability_metrics_secs: 900,
            refresh_secs: 30,
        }
    }
}

/// A setting that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("monitor config: {field}: {reason}")]
pub struct ConfigError {
    /// The field.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl MonitorConfig {
    /// Parses TOML text over the defaults; unknown fields and bad values are errors naming the field.
    pub fn from_toml(text: &str) -> Result<MonitorConfig, ConfigError> {
        let mut c: MonitorConfig = toml_from_str(text)?;
        // The tables override the defaults key by key (a check not named keeps its default).
        let d = MonitorConfig::default();
        for (k, v) in d.intervals {
            c.intervals.entry(k).or_insert(v);
        }
        for (k, v) in d.urgent_caps {
            c.urgent_caps.entry(k).or_insert(v);
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: &str, reason: &str| ConfigError {
            field: field.into(),
            reason: reason.into(),
        };
        if !(0.0..=0.5).contains(&self.jitter) {
            return Err(bad("jitter", "must be between 0 and 0.5"));
        }
        if self.max_concurrent == 0 {
            return Err(bad("max_concurrent", "must be at least 1"));
        }
        if self.per_host == 0 {
            return Err(bad("per_host", "must be at least 1"));
        }
        if self.observation_retention_days < 8 {
            return Err(bad(
                "observation_retention_days",
                "must be at least 8 (the government-site rule reads a week)",
            ));
        }
        if let Some((k, _)) = self.intervals.iter().find(|(_, v)| **v == 0) {
            return Err(bad(&format!("intervals.{k}"), "must be at least 1 second"));
        }
        for (k, v) in &self.urgent_caps {
            if k.parse::<taishi_model::Severity>().is_err() {
                return Err(bad(&format!("urgent_caps.{k}"), "not a severity"));
            }
            if *v == 0 {
                return Err(bad(
                    &format!("urgent_caps.{k}"),
                    "must be at least 1 second",
                ));
            }
        }
        Ok(())
    }
}

fn toml_from_str(text: &str) -> Result<MonitorConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError {
        field: "toml".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_partial_toml_and_names_bad_fields() {
        let c = MonitorConfig::from_toml("jitter = 0.2\n[intervals]\navailability = 60\n").unwrap();
        assert_eq!(c.intervals["availability"], 60);
        assert_eq!(c.intervals["ports"], 604_800);
        let e = MonitorConfig::from_toml("jitter = 0.9")
            .unwrap_err()
            .to_string();
        assert!(e.contains("jitter"), "{e}");
        let e = MonitorConfig::from_toml("[urgent_caps]\nsevere = 10")
            .unwrap_err()
            .to_string();
        assert!(e.contains("urgent_caps.severe"), "{e}");
        let e = MonitorConfig::from_toml("observation_retention_days = 3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("observation_retention_days"), "{e}");
        let e = MonitorConfig::from_toml("nope = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
