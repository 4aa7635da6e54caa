//! Working days: acknowledgement deadlines count working days in the authority's time zone, skipping
//! weekends and public holidays and honouring make-up working days (调休).

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The authority's working calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkCalendar {
    /// Hours east of UTC (China: 8). A fixed offset: China has no daylight saving time.
    pub utc_offset_hours: i8,
    /// Public holidays that fall on weekdays (YYYY-MM-DD).
    pub holidays: Vec<Date>,
    /// Weekend days that are working days (调休).
    pub extra_workdays: Vec<Date>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        WorkCalendar {
            utc_offset_hours: 8,
            holidays: Vec::new(),
            extra_workdays: Vec::new(),
        }
    }
}

impl WorkCalendar {
    /// The calendar's time zone.
    pub fn tz(&self) -> TimeZone {
        TimeZone::fixed(Offset::constant(self.utc_offset_hours.clamp(-12, 14)))
    }

    /// The local date of instant `t`.
    pub fn date_of(&self, t: Timestamp) -> Date {
        self.tz().to_datetime(t).date()
    }

    /// Whether `d` is a working day.
    pub fn is_workday(&self, d: Date) -> bool {
        if self.extra_workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.contains(&d)
    }

    /// `t` plus `n` working days at the same local time of day. Issued on a Friday afternoon, one working
    /// day later is Monday afternoon; issued on a Saturday, it is Monday at the same time.
    pub fn add_workdays(&self, t: Timestamp, n: u32) -> Timestamp {
        let mut cur = t;
        let day = SignedDuration::from_hours(24);
        for _ in 0..n {
            cur = cur.saturating_add(day).unwrap_or(cur);
            // Bounded: no calendar has a year without working days.
            for _ in 0..366 {
                if self.is_workday(self.date_of(cur)) {
                    break;
                }
                cur = cur.saturating_add(day).unwrap_or(cur);
            }
        }
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_weekends_holidays_and_honours_makeup_days() {
        let cal = WorkCalendar {
            holidays: vec!["2026-10-01".parse().unwrap(), "2026-10-02".parse().unwrap()],
            extra_workdays: vec!["2026-10-10".parse().unwrap()],
            ..WorkCalendar::default()
        };
        // Friday 2026-11-27 15:00 +08 → Monday 2026-11-30 15:00 +08.
        let fri: Timestamp = "2026-11-27T07:00:00Z".parse().unwrap();
        assert_eq!(
            cal.add_workdays(fri, 1),
            "2026-11-30T07:00:00Z".parse().unwrap()
        );
        // Wednesday 2026-09-30 → skip Thu/Fri holidays and the weekend → Monday 2026-10-05.
        let wed: Timestamp = "2026-09-30T02:00:00Z".parse().unwrap();
        assert_eq!(
            cal.add_workdays(wed, 1),
            "2026-10-05T02:00:00Z".parse().unwrap()
        );
        // Friday 2026-10-09 → Saturday 2026-10-10 is a make-up working day.
        let fri2: Timestamp = "2026-10-09T02:00:00Z".parse().unwrap();
        assert_eq!(
            cal.add_workdays(fri2, 1),
            "2026-10-10T02:00:00Z".parse().unwrap()
        );
        // 23:30 UTC on Sunday is already Monday in China.
        assert!(cal.is_workday(cal.date_of("2026-11-29T23:30:00Z".parse().unwrap())));
    }
}
