//! Timestamps as log formats write them.

use jiff::Timestamp;
use jiff::civil::DateTime;

use crate::event::Event;

/// Field names tried, in order, for an event's time when the reader has none of its own.
const TIME_FIELDS: [&str; 8] = [
    "TimeCreated_SystemTime",
    "@timestamp",
    "timestamp",
    "ts",
    "UtcTime",
    "EventTime",
    "time",
    "eventTime",
];

/// Parses RFC 3339 text, a zone-less `YYYY-MM-DD[ T]HH:MM:SS[.f]` (taken as UTC), or a number of
/// seconds since the epoch (Zeek's `ts`).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = t.parse::<DateTime>() {
        return dt
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    t.parse::<f64>().ok().and_then(epoch_seconds)
}

fn epoch_seconds(secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let micros = (secs * 1_000_000.0).round();
    if micros.abs() > 9.0e15 {
        return None;
    }
    Timestamp::from_microsecond(micros as i64).ok()
}

/// Sets `event.meta.timestamp` from the first time-like field, if the reader did not set it.
pub(crate) fn fill_timestamp(event: &mut Event) {
    if event.meta.timestamp.is_some() {
        return;
    }
    let mut found = None;
    for name in TIME_FIELDS {
        if let Some(text) = event.text(name) {
            found = parse_timestamp(&text);
        }
        if found.is_some() {
            break;
        }
    }
    event.meta.timestamp = found;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let a = parse_timestamp("2025-11-27T07:40:10.165324Z").expect("rfc3339");
        assert_eq!(a.as_microsecond(), 1_764_229_210_165_324);
        let b = parse_timestamp("2020-07-21 23:27:42").expect("civil");
        assert_eq!(b.as_second(), 1_595_374_062);
        let c = parse_timestamp("1595374062.5").expect("epoch");
        assert_eq!(c.as_millisecond(), 1_595_374_062_500);
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("1e300").is_none());
    }
}
