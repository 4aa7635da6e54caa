//! Syslog lines: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and RFC 3164 / BSD
//! (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, the PRI optional as in `/var/log/auth.log`).
//!
//! Fields: `facility`, `severity` (numbers), `hostname`, `app_name`, `procid`, `msgid`, `message`, and one
//! `<SD-ID>.<param>` field per structured-data parameter.

use jiff::Timestamp;
use jiff::civil::date;
use taishi_fields::Value;

use crate::event::Event;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Why a line is not syslog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogError(pub &'static str);

/// Parses one syslog line into `event` (already cleared); `year` completes RFC 3164 dates, which have none.
pub fn parse_line(line: &str, year: i16, event: &mut Event) -> Result<(), SyslogError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Err(SyslogError("empty line"));
    }
    let mut rest = line;
    if let Some(after) = rest.strip_prefix('<') {
        let (pri, tail) = after
            .split_once('>')
            .ok_or(SyslogError("unterminated <PRI>"))?;
        let pri: u16 = pri
            .parse()
            .ok()
            .filter(|p| *p <= 191)
            .ok_or(SyslogError("PRI is not a number from 0 to 191"))?;
        event.insert("facility", Value::Int(i64::from(pri / 8)));
        event.insert("severity", Value::Int(i64::from(pri % 8)));
        rest = tail;
    }
    if let Some(tail) = rest.strip_prefix("1 ") {
        rfc5424(tail, event)
    } else {
        rfc3164(rest, year, event)
    }
}

fn nil(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

fn next_token(s: &str) -> (&str, &str) {
    match s.split_once(' ') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    }
}

fn rfc5424(s: &str, event: &mut Event) -> Result<(), SyslogError> {
    let (ts, s) = next_token(s);
    let (host, s) = next_token(s);
    let (app, s) = next_token(s);
    let (procid, s) = next_token(s);
    let (msgid, s) = next_token(s);
    if let Some(ts) = nil(ts) {
        event.meta.timestamp = Some(
            ts.parse::<Timestamp>()
                .map_err(|_| SyslogError("bad RFC 5424 timestamp"))?,
        );
    }
    for (name, v) in [
        ("hostname", host),
        ("app_name", app),
        ("procid", procid),
        ("msgid", msgid),
    ] {
        if let Some(v) = nil(v).filter(|v| !v.is_empty()) {
            event.insert(name, Value::Str(v.into()));
        }
    }
    let msg = structured_data(s, event)?;
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    event.insert("message", Value::Str(msg.into()));
    Ok(())
}

/// Reads `-` or `[id k="v" …]…` and returns the message after it.
fn structured_data<'a>(s: &'a str, event: &mut Event) -> Result<&'a str, SyslogError> {
    if let Some(rest) = s.strip_prefix('-') {
        return Ok(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let mut rest = s;
    while let Some(body) = rest.strip_prefix('[') {
        let (id, mut b) = match body.find([' ', ']']) {
            Some(i) => (&body[..i], &body[i..]),
            None => return Err(SyslogError("unterminated structured data")),
        };
        loop {
            b = b.trim_start_matches(' ');
            if let Some(after) = b.strip_prefix(']') {
                rest = after;
                break;
            }
            let (param, after) = b
                .split_once("=\"")
                .ok_or(SyslogError("structured data parameter without =\""))?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        if let Some((_, c)) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some((i, '"')) => break i,
                    Some((_, c)) => value.push(c),
                    None => return Err(SyslogError("unterminated structured data value")),
                }
            };
            let name = format!("{id}.{param}");
            event.insert(&name, Value::Str(value.into()));
            b = &after[end + 1..];
        }
    }
    if rest.is_empty() || rest.starts_with(' ') {
        Ok(rest.strip_prefix(' ').unwrap_or(rest))
    } else {
        Err(SyslogError("text right after structured data"))
    }
}

fn rfc3164(s: &str, year: i16, event: &mut Event) -> Result<(), SyslogError> {
    // "Mmm dd hh:mm:ss" — 15 ASCII bytes.
    let head = s
        .get(..15)
        .filter(|h| h.is_ascii())
        .ok_or(SyslogError("no BSD syslog date at the start"))?;
    let month = MONTHS
        .iter()
        .position(|m| head.starts_with(m))
        .ok_or(SyslogError("no month name at the start of the date"))?;
    let day: i8 = head[4..6]
        .trim()
        .parse()
        .map_err(|_| SyslogError("bad day in the date"))?;
    let mut hms = head[7..15].split(':').map(|p| p.parse::<i8>());
    let (Some(Ok(h)), Some(Ok(m)), Some(Ok(sec))) = (hms.next(), hms.next(), hms.next()) else {
        return Err(SyslogError("bad time in the date"));
    };
    let ts = date(year, 1, 1)
        .with()
        .month(month as i8 + 1)
        .day(day)
        .build()
        .ok()
        .and_then(|d| {
            // `Date::at` panics on an impossible time; `Time::new` checks it.
            let time = jiff::civil::Time::new(h, m, sec, 0).ok()?;
            d.to_datetime(time)
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .ok()
        })
        .ok_or(SyslogError("impossible date"))?;
    event.meta.timestamp = Some(ts.timestamp());
    let rest = s[15..].trim_start();
    let (host, rest) = next_token(rest);
    event.insert("hostname", Value::Str(host.into()));
    // TAG[PID]: message — the tag ends at '[', ':' or a space.
    let tag_end = rest.find(['[', ':', ' ']).unwrap_or(rest.len());
    let (tag, mut msg) = rest.split_at(tag_end);
    if !tag.is_empty() && (msg.starts_with('[') || msg.starts_with(':')) {
        event.insert("app_name", Value::Str(tag.into()));
        if let Some(p) = msg.strip_prefix('[')
            && let Some((pid, after)) = p.split_once(']')
        {
            event.insert("procid", Value::Str(pid.into()));
            msg = after;
        }
        msg = msg.strip_prefix(':').unwrap_or(msg);
    } else {
        msg = rest;
    }
    event.insert("message", Value::Str(msg.trim_start().into()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Format;
    use std::path::Path;
    use std::sync::Arc;
    use taishi_fields::FieldSource;

    fn parse(line: &str) -> Result<Event, SyslogError> {
        let mut e = Event::new(Arc::from(Path::new("syslog")), Format::Syslog);
        parse_line(line, 2024, &mut e).map(|()| e)
    }

    fn s(e: &Event, f: &str) -> Option<String> {
        e.text(f).map(|c| c.into_owned())
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let e = parse(r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ication"] An application event"#).expect("parses");
        assert_eq!(e.first("facility"), Some(Value::Int(20)));
        assert_eq!(e.first("severity"), Some(Value::Int(5)));
        assert_eq!(s(&e, "hostname").as_deref(), Some("mymachine.example.com"));
        assert_eq!(s(&e, "app_name").as_deref(), Some("evntslog"));
        assert!(!e.has_field("procid"));
        assert_eq!(s(&e, "msgid").as_deref(), Some("ID47"));
        assert_eq!(
            s(&e, "exampleSDID@32473.eventSource").as_deref(),
            Some("Appl\"ication")
        );
        assert_eq!(s(&e, "message").as_deref(), Some("An application event"));
        assert_eq!(
            e.meta.timestamp.map(|t| t.as_millisecond()),
            Some(1_065_910_455_003)
        );
    }

    #[test]
    fn rfc3164_with_and_without_pri() {
        let e =
            parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")
                .expect("parses");
        assert_eq!(s(&e, "app_name").as_deref(), Some("su"));
        assert_eq!(
            s(&e, "message").as_deref(),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );
        let e = parse("Nov  3 07:01:02 web1 sshd[4242]: Failed password for root from 10.0.0.1")
            .expect("parses");
        assert_eq!(s(&e, "hostname").as_deref(), Some("web1"));
        assert_eq!(s(&e, "procid").as_deref(), Some("4242"));
        assert_eq!(
            s(&e, "message").as_deref(),
            Some("Failed password for root from 10.0.0.1")
        );
        assert_eq!(
            e.meta.timestamp.map(|t| t.to_string()).as_deref(),
            Some("2024-11-03T07:01:02Z")
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "<999>x",
            "<12",
            "hello",
            "<1>1 - - - - - [x",
            "Feb 30 10:00:00 h m",
            "Jan  1 25:61:99 h m",
            "Jan 1é 00:00:00 h x",
            "<1>1 - - - - - [a b=\"c]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
