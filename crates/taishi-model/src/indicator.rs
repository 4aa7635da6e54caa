//! Evaluation periods and grades (评价指标体系): the calendar slices scores are computed for, and the
//! letter a score maps to.

use crate::finding::Finding;
use crate::notice::{Notice, NoticeState};
use crate::{OrgId, Severity};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A letter grade: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    /// 90 and above.
    A,
    /// 80 to below 90.
    B,
    /// 70 to below 80.
    C,
    /// 60 to below 70.
    D,
    /// Below 60.
    F,
}

impl Grade {
    /// The grade of a 0–100 score.
    pub fn of(score: f64) -> Grade {
        match score {
            s if s >= 90.0 => Grade::A,
            s if s >= 80.0 => Grade::B,
            s if s >= 70.0 => Grade::C,
            s if s >= 60.0 => Grade::D,
            _ => Grade::F,
        }
    }

    /// The letter.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar period scores and bulletins are computed for: `2026-11`, `2026-Q4` or `2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A calendar month (1–12).
    Month(i16, i8),
    /// A quarter (1–4).
    Quarter(i16, i8),
    /// A calendar year.
    Year(i16),
}

/// Text that is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid period {0:?}: expected YYYY-MM (2026-11), YYYY-Qn (2026-Q4) or YYYY (2026)")]
pub struct ParsePeriodError(pub String);

impl FromStr for Period {
    type Err = ParsePeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParsePeriodError(s.to_owned());
        let s2 = s.trim();
        let year = |y: &str| -> Result<i16, ParsePeriodError> {
            if y.len() != 4 {
                return Err(err());
            }
            y.parse::<i16>()
                .ok()
                .filter(|y| (1970..=9999).contains(y))
                .ok_or_else(err)
        };
        match s2.split_once('-') {
            None => Ok(Period::Year(year(s2)?)),
            Some((y, rest)) => {
                let y = year(y)?;
                if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                    let q: i8 = q.parse().map_err(|_| err())?;
                    if (1..=4).contains(&q) {
                        Ok(Period::Quarter(y, q))
                    } else {
                        Err(err())
                    }
                } else {
                    let m: i8 = rest.parse().map_err(|_| err())?;
                    if rest.len() == 2 && (1..=12).contains(&m) {
                        Ok(Period::Month(y, m))
                    } else {
                        Err(err())
                    }
                }
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
            Period::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            Period::Year(y) => write!(f, "{y}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = ParsePeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

impl Period {
    /// First day of the period.
    pub fn first_day(self) -> Date {
        match self {
            Period::Month(y, m) => Date::constant(y, m, 1),
            Period::Quarter(y, q) => Date::constant(y, (q - 1) * 3 + 1, 1),
            Period::Year(y) => Date::constant(y, 1, 1),
        }
    }

    /// The period right after this one.
    pub fn next(self) -> Period {
        match self {
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
            Period::Quarter(y, 4) => Period::Quarter(y + 1, 1),
            Period::Quarter(y, q) => Period::Quarter(y, q + 1),
            Period::Year(y) => Period::Year(y + 1),
        }
    }

    /// The period right before this one (for "change against the previous period").
    pub fn prev(self) -> Period {
        match self {
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Year(y) => Period::Year(y - 1),
        }
    }

    /// The instants `[start, end)` of the period in time zone `tz` (the authority's).
    pub fn bounds(self, tz: &TimeZone) -> (Timestamp, Timestamp) {
        let at = |d: Date| {
            tz.to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .compatible()
                .unwrap_or(Timestamp::UNIX_EPOCH)
        };
        (at(self.first_day()), at(self.next().first_day()))
    }

    /// The period of the same kind that contains date `d`.
    pub fn containing(&self, d: Date) -> Period {
        match self {
            Period::Month(..) => Period::Month(d.year(), d.month()),
            Period::Quarter(..) => Period::Quarter(d.year(), (d.month() - 1) / 3 + 1),
            Period::Year(_) => Period::Year(d.year()),
        }
    }

    /// The `n` periods ending with this one, oldest first (for trend charts).
    pub fn trailing(self, n: usize) -> Vec<Period> {
        let mut v = vec![self];
        for _ in 1..n {
            let p = v[v.len() - 1].prev();
            v.push(p);
        }
        v.reverse();
        v
    }
}

/// What scoring needs of a finding: owner, severity and the spans during which it was open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingFact {
    /// Owning org.
    pub org: OrgId,
    /// Severity.
    pub severity: Severity,
    /// `[opened, closed)` spans, oldest first; the last may be open-ended.
    pub spans: Vec<(Timestamp, Option<Timestamp>)>,
    /// The span ends that were resolutions (fixed or disappeared), as opposed to a false-positive
    /// decision or a risk acceptance: only these count as "rectified" (已整改) in bulletins.
    pub resolved_ends: Vec<Timestamp>,
}

impl FindingFact {
    /// Derives the open spans from a finding's history.
    pub fn from_finding(f: &Finding) -> FindingFact {
        use crate::finding::FindingEventKind as K;
        let mut spans: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
        let mut resolved_ends = Vec::new();
        for e in &f.history {
            match e.kind {
                K::Opened | K::Reopened { .. } => {
                    if spans.last().is_none_or(|s| s.1.is_some()) {
                        spans.push((e.at, None));
                    }
                }
                K::Resolved { .. } | K::MarkedFalsePositive { .. } | K::RiskAccepted { .. } => {
                    if let Some(last) = spans.last_mut()
                        && last.1.is_none()
                    {
                        last.1 = Some(e.at);
                        if matches!(e.kind, K::Resolved { .. }) {
                            resolved_ends.push(e.at);
                        }
                    }
                }
                K::SeverityChanged { .. } | K::RiskExpiryWarned { .. } => {}
            }
        }
        FindingFact {
            org: f.org,
            severity: f.severity,
            spans,
            resolved_ends,
        }
    }

    /// Open at instant `t`.
    pub fn open_at(&self, t: Timestamp) -> bool {
        self.spans
            .iter()
            .any(|(a, b)| *a <= t && b.is_none_or(|b| t < b))
    }

    /// Opened (first or again) within `[start, end)`.
    pub fn opened_within(&self, start: Timestamp, end: Timestamp) -> bool {
        self.spans.iter().any(|(a, _)| start <= *a && *a < end)
    }

    /// Resolved (fixed or disappeared; not accepted or dismissed) within `[start, end)`.
    pub fn closed_within(&self, start: Timestamp, end: Timestamp) -> bool {
        self.resolved_ends.iter().any(|b| start <= *b && *b < end)
    }
}

/// What scoring needs of a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeFact {
    /// The org it was issued to.
    pub org: OrgId,
    /// When issued (`None`: a draft, ignored).
    pub issued_at: Option<Timestamp>,
    /// Rectification deadline.
    pub rectify_due: Option<Timestamp>,
    /// When closed as verified (`None` if not closed).
    pub closed_at: Option<Timestamp>,
    /// Cancelled notices count for nothing.
    pub cancelled: bool,
    /// When verifications failed (notice returned).
    pub returned_at: Vec<Timestamp>,
}

impl NoticeFact {
    /// Derives the facts from a notice.
    pub fn from_notice(n: &Notice) -> NoticeFact {
        NoticeFact {
            org: n.org,
            issued_at: n.issued_at,
            rectify_due: n.rectify_due,
            closed_at: n.closed_at.filter(|_| n.state == NoticeState::Closed),
            cancelled: n.state == NoticeState::Cancelled,
            returned_at: n
                .history
                .iter()
                .filter(|e| e.action == "return")
                .map(|e| e.at)
                .collect(),
        }
    }

    /// Overdue at some moment within `[start, end)`.
    pub fn overdue_within(&self, start: Timestamp, end: Timestamp) -> bool {
        let (Some(_), Some(due), false) = (self.issued_at, self.rectify_due, self.cancelled) else {
            return false;
        };
        // Overdue from `due` until closed: the interval (due, closed) meets [start, end).
        due < end && self.closed_at.is_none_or(|c| c > due && c > start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::Offset;

    #[test]
    fn periods_parse_and_bound() {
        for (s, p) in [
            ("2026-11", Period::Month(2026, 11)),
            ("2026-Q4", Period::Quarter(2026, 4)),
            ("2026", Period::Year(2026)),
        ] {
            assert_eq!(s.parse::<Period>(), Ok(p));
            assert_eq!(p.to_string(), s);
        }
        for bad in ["2026-13", "2026-Q5", "26", "2026-1", "x", "2026-11-01"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(Period::Month(2026, 1).prev(), Period::Month(2025, 12));
        assert_eq!(Period::Quarter(2026, 4).next(), Period::Quarter(2027, 1));
        let tz = TimeZone::fixed(Offset::constant(8));
        let (a, b) = Period::Month(2026, 11).bounds(&tz);
        assert_eq!(a, "2026-10-31T16:00:00Z".parse().unwrap());
        assert_eq!(b, "2026-11-30T16:00:00Z".parse().unwrap());
        assert_eq!(
            Period::Month(2026, 3).trailing(3),
            [
                Period::Month(2026, 1),
                Period::Month(2026, 2),
                Period::Month(2026, 3)
            ]
        );
        assert_eq!(
            Period::Quarter(2026, 1).containing(Date::constant(2026, 8, 5)),
            Period::Quarter(2026, 3)
        );
    }

    #[test]
    fn grades() {
        let g: Vec<_> = [95.0, 90.0, 89.9, 80.0, 70.0, 60.0, 59.9, 0.0]
            .map(Grade::of)
            .into();
        assert_eq!(
            g,
            [
                Grade::A,
                Grade::A,
                Grade::B,
                Grade::B,
                Grade::C,
                Grade::D,
                Grade::F,
                Grade::F
            ]
        );
    }
}
