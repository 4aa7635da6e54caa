//! The one event type every reader produces and the engine reads through [`FieldSource`].
//!
//! # Design rationale
//!
//! An event is a flat list of `(name, value)` pairs whose text lives in one `String` buffer, so that
//! filling an event allocates nothing once its buffers have grown (readers reuse one `Event` per
//! thread) and a field lookup is a linear scan over a few dozen short names — cheaper than hashing
//! for the 10–40 fields of a Windows event. A multi-valued field (a JSON array, unnamed EVTX `Data`
//! elements) is the same name repeated.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use taishi_fields::{FieldSource, Value};

/// Which reader produced an event; decides the defaults of [`Event::channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows EVTX binary log.
    Evtx,
    /// One JSON object per line (also NXLog/Winlogbeat exports).
    JsonLines,
    /// A JSON document: one object, concatenated objects, or an array of objects (e.g. `evtx_dump` output).
    Json,
    /// Syslog lines, RFC 3164 or RFC 5424.
    Syslog,
    /// Suricata EVE JSON lines.
    SuricataEve,
    /// Zeek logs written as JSON lines.
    Zeek,
}

impl Format {
    /// A short lowercase name for messages and output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::JsonLines => "jsonl",
            Format::Json => "json",
            Format::Syslog => "syslog",
            Format::SuricataEve => "eve",
            Format::Zeek => "zeek",
        }
    }
}

/// Where an event came from and when it happened: what a detection reports besides the fields.
#[derive(Debug, Clone)]
pub struct Meta {
    /// When the event happened (EVTX record time, `@timestamp`, syslog time, …), if known.
    pub timestamp: Option<Timestamp>,
    /// The file it was read from (for an entry of a zip archive: `archive.zip!entry`).
    pub file: Arc<Path>,
    /// Byte offset of the record (EVTX: of its chunk) or line in the file.
    pub offset: u64,
    /// EVTX `EventRecordID`, or the 1-based line number when it is known.
    pub record: Option<u64>,
    /// The reader that produced it.
    pub format: Format,
    /// The channel for formats that carry none in their fields (`syslog`, `suricata`, `zeek/conn`).
    pub channel: Option<Arc<str>>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: (u32, u32),
    value: Slot,
}

/// One event: its fields (flattened to the names Sigma rules use) and its [`Meta`].
#[derive(Debug, Clone)]
pub struct Event {
    buf: String,
    fields: Vec<Field>,
    /// Where and when.
    pub meta: Meta,
}

/// Field names tried, in order, for the host an event came from.
const COMPUTER_FIELDS: [&str; 5] = ["Computer", "Hostname", "hostname", "host.name", "host"];

impl Event {
    /// An empty event read from `file` by `format`.
    pub fn new(file: Arc<Path>, format: Format) -> Self {
        Event {
            buf: String::with_capacity(1024),
            fields: Vec::with_capacity(32),
            meta: Meta {
                timestamp: None,
                file,
                offset: 0,
                record: None,
                format,
                channel: None,
            },
        }
    }

    /// Removes all fields and per-record metadata, keeping the buffers for the next record.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
        self.meta.timestamp = None;
        self.meta.offset = 0;
        self.meta.record = None;
    }

    /// Number of field values (a multi-valued field counts once per value).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the event has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Adds a value to field `name` (adding a second value makes the field multi-valued).
    pub fn insert(&mut self, name: &str, value: Value<'_>) {
        let start = self.buf.len();
        self.buf.push_str(name);
        let name = (start as u32, name.len() as u32);
        self.push_value(name, value);
    }

    /// Starts a field name at the end of the buffer; the caller appends its text with
    /// [`Event::name_buf`] and finishes with [`Event::finish_field`].
    pub(crate) fn name_start(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn name_buf(&mut self) -> &mut String {
        &mut self.buf
    }

    /// Drops a name begun at `start` (the path turned out not to be a field).
    pub(crate) fn abandon_name(&mut self, start: usize) {
        self.buf.truncate(start);
    }

    pub(crate) fn finish_field(&mut self, start: usize, value: Value<'_>) {
        let name = (start as u32, (self.buf.len() - start) as u32);
        self.push_value(name, value);
    }

    fn push_value(&mut self, name: (u32, u32), value: Value<'_>) {
        let value = match value {
            Value::Null => Slot::Null,
            Value::Bool(b) => Slot::Bool(b),
            Value::Int(i) => Slot::Int(i),
            Value::Float(f) => Slot::Float(f),
            Value::Str(s) => {
                let start = self.buf.len();
                self.buf.push_str(&s);
                Slot::Str(start as u32, s.len() as u32)
            }
        };
        self.fields.push(Field { name, value });
    }

    fn name_of(&self, f: &Field) -> &str {
        &self.buf[f.name.0 as usize..(f.name.0 + f.name.1) as usize]
    }

    fn value_of(&self, f: &Field) -> Value<'_> {
        match f.value {
            Slot::Null => Value::Null,
            Slot::Bool(b) => Value::Bool(b),
            Slot::Int(i) => Value::Int(i),
            Slot::Float(x) => Value::Float(x),
            Slot::Str(s, l) => Value::Str(Cow::Borrowed(&self.buf[s as usize..(s + l) as usize])),
        }
    }

    fn visit_exact(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
        let bytes = name.as_bytes();
        let mut found = false;
        for f in &self.fields {
            if f.name.1 as usize == bytes.len() && self.name_of(f).as_bytes() == bytes {
                found = true;
                visit(&self.value_of(f));
            }
        }
        found
    }

    /// The first value of `name` as text (numbers rendered in decimal), if present and not null.
    pub fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        let bytes = name.as_bytes();
        self.fields
            .iter()
            .filter(|f| f.name.1 as usize == bytes.len() && self.name_of(f).as_bytes() == bytes)
            .find_map(|f| match f.value {
                Slot::Str(s, l) => Some(Cow::Borrowed(&self.buf[s as usize..(s + l) as usize])),
                Slot::Int(i) => Some(Cow::Owned(i.to_string())),
                Slot::Float(x) => Some(Cow::Owned(x.to_string())),
                Slot::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
                Slot::Null => None,
            })
    }

    /// The host the event came from (`Computer`, `Hostname`, `host.name`, …).
    pub fn computer(&self) -> Option<Cow<'_, str>> {
        COMPUTER_FIELDS.iter().find_map(|n| self.text(n))
    }

    /// The log channel (`Channel` field, else what the reader set, e.g. `syslog`).
    pub fn channel(&self) -> Option<Cow<'_, str>> {
        self.text("Channel")
            .or_else(|| self.meta.channel.as_deref().map(Cow::Borrowed))
    }

    /// The Windows event id (`EventID`), if the event has a numeric one.
    pub fn event_id(&self) -> Option<i64> {
        let mut id = None;
        self.visit_exact("EventID", &mut |v| {
            if id.is_none() {
                id = match v {
                    Value::Int(i) => Some(*i),
                    Value::Str(s) => s.trim().parse().ok(),
                    _ => None,
                };
            }
        });
        id
    }

    /// Every `(name, value)` pair in reader order; for output and tests.
    pub fn fields(&self) -> impl Iterator<Item = (&str, Value<'_>)> + '_ {
        self.fields
            .iter()
            .map(|f| (self.name_of(f), self.value_of(f)))
    }
}

impl FieldSource for Event {
    fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
        if self.visit_exact(name, visit) {
            return true;
        }
        // NXLog's `im_msvistalog` (OTRF Security-Datasets, many SIEM exports) renames two
        // System fields that rules and the mapping use.
        let alias = match name {
            "Provider_Name" => Some("SourceName"),
            "Computer" => Some("Hostname"),
            _ => None,
        };
        if let Some(alias) = alias {
            return self.visit_exact(alias, visit);
        }
        // Rules written against evtx_dump's nested JSON name the full path.
        for prefix in ["Event.System.", "Event.EventData.", "Event.UserData."] {
            if let Some(rest) = name.strip_prefix(prefix) {
                return self.visit_exact(rest, visit);
            }
        }
        false
    }

    fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
        for f in &self.fields {
            visit(self.name_of(f), &self.value_of(f));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Event {
        Event::new(Arc::from(Path::new("t.json")), Format::Json)
    }

    #[test]
    fn insert_and_lookup_multi_values() {
        let mut e = ev();
        e.insert("Image", Value::Str("C:\\a.exe".into()));
        e.insert("EventID", Value::Int(1));
        e.insert("Data", Value::Str("x".into()));
        e.insert("Data", Value::Str("y".into()));
        let mut seen = Vec::new();
        assert!(e.visit_field("Data", &mut |v| seen.push(v.clone().into_owned())));
        assert_eq!(seen, vec![Value::Str("x".into()), Value::Str("y".into())]);
        assert_eq!(e.event_id(), Some(1));
        assert_eq!(e.first("Image"), Some(Value::Str("C:\\a.exe".into())));
        assert!(!e.has_field("image"));
        assert!(e.has_field("Event.EventData.Image"));
        e.insert(
            "SourceName",
            Value::Str("Microsoft-Windows-Security-Auditing".into()),
        );
        assert!(e.has_field("Provider_Name"), "NXLog alias");
        e.clear();
        assert!(e.is_empty());
        assert_eq!(e.event_id(), None);
    }

    #[test]
    fn computer_and_channel_fallbacks() {
        let mut e = ev();
        e.insert("Hostname", Value::Str("ws1".into()));
        e.meta.channel = Some(Arc::from("syslog"));
        assert_eq!(e.computer().as_deref(), Some("ws1"));
        assert_eq!(e.channel().as_deref(), Some("syslog"));
        e.insert("Channel", Value::Str("Security".into()));
        assert_eq!(e.channel().as_deref(), Some("Security"));
    }
}
