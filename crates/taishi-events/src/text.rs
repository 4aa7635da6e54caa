//! Line-oriented text (JSON lines, Suricata EVE, Zeek JSON, syslog) and whole JSON documents.

use std::path::Path;
use std::sync::Arc;

use serde::de::IgnoredAny;

use crate::Warning;
use crate::event::{Event, Format};
use crate::flatten::{flatten_array, flatten_slice};
use crate::syslog::parse_line;
use crate::time::fill_timestamp;

/// The channel recorded for formats whose events carry none: `syslog`, `suricata`, `zeek/<log>`.
pub(crate) fn channel_for(format: Format, path: &Path) -> Option<Arc<str>> {
    match format {
        Format::Syslog => Some(Arc::from("syslog")),
        Format::SuricataEve => Some(Arc::from("suricata")),
        Format::Zeek => {
            let stem = path.file_name()?.to_str()?;
            let log = stem.split('.').next().unwrap_or(stem);
            Some(Arc::from(format!("zeek/{log}")))
        }
        _ => None,
    }
}

/// Reads newline-separated records from `buf` (whose first byte is at `base` in the file); `first_line`
/// is the number of the first line when known. Returns the number of events delivered.
pub(crate) fn read_lines(
    buf: &[u8],
    base: u64,
    first_line: Option<u64>,
    year: i16,
    event: &mut Event,
    on_event: &mut dyn FnMut(&Event),
    on_warning: &mut dyn FnMut(Warning),
) -> u64 {
    let format = event.meta.format;
    let mut delivered = 0;
    let mut start = 0usize;
    let mut line_no = first_line;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        let line = &buf[start..end];
        let offset = base + start as u64;
        let this_line = line_no;
        start = end + 1;
        line_no = line_no.map(|n| n + 1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        event.clear();
        event.meta.offset = offset;
        event.meta.record = this_line;
        let parsed = match format {
            Format::Syslog => {
                let text = String::from_utf8_lossy(line);
                parse_line(&text, year, event).map_err(|e| e.0.to_string())
            }
            _ => flatten_slice(line, event).map_err(|e| e.to_string()),
        };
        if let Err(message) = parsed {
            let at = this_line.map_or(String::new(), |n| format!("line {n}: "));
            on_warning(Warning {
                file: event.meta.file.clone(),
                offset,
                message: format!("{at}bad {} record skipped: {message}", format.name()),
            });
            continue;
        }
        if format == Format::Zeek
            && let Some(path) = event.text("_path")
        {
            let channel: Arc<str> = Arc::from(format!("zeek/{path}"));
            event.meta.channel = Some(channel);
        }
        fill_timestamp(event);
        on_event(event);
        delivered += 1;
    }
    delivered
}

/// Reads a JSON document: an array of objects, or one or more concatenated (pretty-printed) objects.
/// A bad value is reported and reading resumes at the next line that starts with `{`.
pub(crate) fn read_document(
    buf: &[u8],
    event: &mut Event,
    on_event: &mut dyn FnMut(&Event),
    on_warning: &mut dyn FnMut(Warning),
) -> u64 {
    let first = buf.iter().position(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|i| buf[i] == b'[') {
        let mut n = 0;
        let result = flatten_array(buf, event, &mut |e| {
            fill_timestamp(e);
            on_event(e);
            n += 1;
        });
        if let Err(e) = result {
            on_warning(Warning {
                file: event.meta.file.clone(),
                offset: 0,
                message: format!("bad JSON array, rest of file skipped: {e}"),
            });
        }
        return n;
    }
    let mut delivered = 0;
    let mut pos = 0usize;
    while pos < buf.len() {
        let mut stream =
            serde_json::Deserializer::from_slice(&buf[pos..]).into_iter::<IgnoredAny>();
        let mut value_start = 0usize;
        loop {
            match stream.next() {
                None => {
                    pos = buf.len();
                    break;
                }
                Some(Ok(_)) => {
                    let value_end = stream.byte_offset();
                    let slice = &buf[pos + value_start..pos + value_end];
                    event.clear();
                    event.meta.offset = (pos + value_start) as u64;
                    let skip = slice.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    event.meta.offset += skip as u64;
                    match flatten_slice(slice, event) {
                        Ok(()) => {
                            fill_timestamp(event);
                            on_event(event);
                            delivered += 1;
                        }
                        Err(e) => on_warning(Warning {
                            file: event.meta.file.clone(),
                            offset: event.meta.offset,
                            message: format!("bad JSON value skipped: {e}"),
                        }),
                    }
                    value_start = value_end;
                }
                Some(Err(e)) => {
                    let at = pos + value_start;
                    on_warning(Warning {
                        file: event.meta.file.clone(),
                        offset: at as u64,
                        message: format!("bad JSON skipped: {e}"),
                    });
                    // Resume at the next line that opens an object.
                    pos = memchr::memmem::find(&buf[at + 1..], b"\n{")
                        .map_or(buf.len(), |i| at + 1 + i + 1);
                    break;
                }
            }
        }
    }
    delivered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(format: Format, text: &str) -> (Vec<Event>, Vec<Warning>) {
        let mut event = Event::new(Arc::from(Path::new("f")), format);
        event.meta.channel = channel_for(format, Path::new("conn.log"));
        let (mut events, mut warnings) = (Vec::new(), Vec::new());
        let mut on_event = |e: &Event| events.push(e.clone());
        let mut on_warning = |w: Warning| warnings.push(w);
        if format == Format::Json {
            read_document(text.as_bytes(), &mut event, &mut on_event, &mut on_warning);
        } else {
            read_lines(
                text.as_bytes(),
                100,
                Some(1),
                2024,
                &mut event,
                &mut on_event,
                &mut on_warning,
            );
        }
        (events, warnings)
    }

    #[test]
    fn json_lines_skip_bad_lines_with_offsets() {
        let (events, warnings) = run(
            Format::JsonLines,
            "{\"a\":1,\"@timestamp\":\"2020-01-01T00:00:00Z\"}\r\n\n{bad\n{\"a\":2}",
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].meta.record, Some(1));
        assert_eq!(events[1].meta.record, Some(4));
        assert_eq!(events[1].meta.offset, 100 + 51);
        assert!(events[0].meta.timestamp.is_some());
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].offset, 100 + 46);
        assert!(
            warnings[0].message.contains("line 3"),
            "{}",
            warnings[0].message
        );
    }

    #[test]
    fn zeek_channel_and_epoch_time() {
        let (events, _) = run(
            Format::Zeek,
            "{\"ts\":1595374062.5,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\"}\n",
        );
        assert_eq!(events[0].channel().as_deref(), Some("zeek/conn"));
        assert_eq!(
            events[0].meta.timestamp.map(|t| t.as_millisecond()),
            Some(1_595_374_062_500)
        );
    }

    #[test]
    fn documents_concatenated_array_and_resync() {
        let (events, warnings) = run(Format::Json, "{\n \"a\": 1\n}\n{\n \"a\": 2\n}\n");
        assert_eq!((events.len(), warnings.len()), (2, 0));
        assert_eq!(events[1].meta.offset, 12);
        let (events, _) = run(Format::Json, "[{\"a\":1},{\"a\":2},{\"a\":3}]");
        assert_eq!(events.len(), 3);
        let (events, warnings) = run(Format::Json, "{\"a\":1}\n{\"a\": oops\n}\n{\"a\":3}\n");
        assert_eq!(events.len(), 2);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].offset, 7);
    }
}
