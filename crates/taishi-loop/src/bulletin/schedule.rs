//! The schedule of routine bulletins (常态化通报): which subtrees, which kinds of period, and how long after
//! a period ends its bulletin is published (by default the 1st of the next month at 08:00 local time).
//!
//! [`BulletinSchedule::due`] is pure: given "now" and the authority's time zone it names the latest
//! completed period of each kind whose publication time has come. The service
//! ([`crate::LoopService::publish_scheduled`]) checks the archive, so a period is published once per root
//! and format however often it runs, and a server that was down at 08:00 catches up when it starts.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use taishi_model::indicator::Period;

/// A kind of bulletin period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
}

impl PeriodKind {
    /// The period of this kind containing `t` in `tz`.
    pub fn containing(self, t: Timestamp, tz: &TimeZone) -> Period {
        let d = tz.to_datetime(t).date();
        let probe = match self {
            PeriodKind::Month => Period::Month(d.year(), 1),
            PeriodKind::Quarter => Period::Quarter(d.year(), 1),
            PeriodKind::Year => Period::Year(d.year()),
        };
        probe.containing(d)
    }
}

/// The formats a bulletin is archived in.
pub const FORMATS: [&str; 3] = ["html", "md", "csv"];

fn default_periods() -> Vec<PeriodKind> {
    vec![PeriodKind::Month]
}
fn default_delay() -> u32 {
    8
}
fn default_formats() -> Vec<String> {
    FORMATS.iter().map(|f| (*f).to_owned()).collect()
}
fn default_every() -> u64 {
    300
}

/// The `[bulletins]` table of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulletinSchedule {
    /// Codes of the orgs whose subtrees get a bulletin (e.g. the authority and each district).
    pub roots: Vec<String>,
    /// Kinds of period (`month`, `quarter`, `year`); default: months.
    #[serde(default = "default_periods")]
    pub periods: Vec<PeriodKind>,
    /// Hours after the period ends (local midnight) before publishing: 8 = the 1st at 08:00.
    #[serde(default = "default_delay")]
    pub delay_hours: u32,
    /// Formats to archive (`html`, `md`, `csv`); default: all three.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
    /// How often the server checks whether a bulletin is due, in seconds.
    #[serde(default = "default_every")]
    pub check_every_secs: u64,
}

/// A schedule that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bulletins.{field}: {why}")]
pub struct ScheduleError {
    /// The key.
    pub field: &'static str,
    /// What is wrong.
    pub why: String,
}

impl BulletinSchedule {
    /// Checks the keys: at least one root and one period kind, known formats, a delay under 31 days.
    ///
    /// # Errors
    /// [`ScheduleError`] naming the key.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let err = |field, why: &str| {
            Err(ScheduleError {
                field,
                why: why.to_owned(),
            })
        };
        if self.roots.iter().all(|r| r.trim().is_empty()) {
            return err("roots", "name at least one org code");
        }
        if self.periods.is_empty() {
            return err("periods", "name at least one of month, quarter, year");
        }
        if self.formats.is_empty() {
            return err("formats", "name at least one of html, md, csv");
        }
        if let Some(f) = self.formats.iter().find(|f| !FORMATS.contains(&f.as_str())) {
            return Err(ScheduleError {
                field: "formats",
                why: format!("unknown format {f:?}: expected html, md or csv"),
            });
        }
        if self.delay_hours > 24 * 31 {
            return err("delay_hours", "at most 744 (31 days)");
        }
        if self.check_every_secs == 0 {
            return err("check_every_secs", "must be at least 1");
        }
        Ok(())
    }

    /// The latest completed period of each configured kind whose publication time (period end in `tz`
    /// plus the delay) is at or before `now`.
    pub fn due(&self, now: Timestamp, tz: &TimeZone) -> Vec<Period> {
        let delay = SignedDuration::from_hours(i64::from(self.delay_hours));
        let mut out = Vec::new();
        for kind in &self.periods {
            let mut p = kind.containing(now, tz).prev();
            // With a long delay the previous period may not be due yet: step back to one that is.
            for _ in 0..2 {
                let (_, end) = p.bounds(tz);
                if end.saturating_add(delay).is_ok_and(|at| at <= now) {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                    break;
                }
                p = p.prev();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(periods: Vec<PeriodKind>) -> BulletinSchedule {
        BulletinSchedule {
            roots: vec!["authority".into()],
            periods,
            delay_hours: 8,
            formats: default_formats(),
            check_every_secs: 60,
        }
    }

    fn bj(s: &str) -> Timestamp {
        // Beijing time, as the authority reads its clock.
        format!("{s}+08:00").parse().unwrap()
    }

    #[test]
    fn month_is_due_on_the_first_at_eight_local() {
        let tz = TimeZone::fixed(jiff::tz::Offset::constant(8));
        let s = sched(vec![PeriodKind::Month, PeriodKind::Quarter]);
        // 1 December 07:59 Beijing: October is the latest due month, Q3 the latest due quarter.
        assert_eq!(
            s.due(bj("2026-12-01T07:59:00"), &tz),
            [Period::Month(2026, 10), Period::Quarter(2026, 3)]
        );
        assert_eq!(
            s.due(bj("2026-12-01T08:00:00"), &tz),
            [Period::Month(2026, 11), Period::Quarter(2026, 3)]
        );
        // 1 January 08:00: December and Q4.
        assert_eq!(
            s.due(bj("2027-01-01T08:00:00"), &tz),
            [Period::Month(2026, 12), Period::Quarter(2026, 4)]
        );
        let y = sched(vec![PeriodKind::Year]);
        assert_eq!(y.due(bj("2027-01-01T09:00:00"), &tz), [Period::Year(2026)]);
    }

    #[test]
    fn bad_keys_are_named() {
        let mut s = sched(vec![PeriodKind::Month]);
        assert!(s.validate().is_ok());
        s.formats = vec!["pdf".into()];
        assert_eq!(s.validate().unwrap_err().field, "formats");
        let mut s = sched(vec![]);
        assert_eq!(s.validate().unwrap_err().field, "periods");
        s = sched(vec![PeriodKind::Month]);
        s.roots = vec![];
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "bulletins.roots: name at least one org code"
        );
        let parsed: Result<BulletinSchedule, _> =
            toml::from_str("roots = [\"a\"]\nperiod = [\"month\"]");
        assert!(parsed.unwrap_err().to_string().contains("period"));
    }
}
