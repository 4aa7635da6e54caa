//! Streaming JSON → [`Event`] flattening, without building a `serde_json::Value` tree.
//!
//! Nested objects become dotted names (`userIdentity.type`), arrays become repeated names. A document
//! shaped like a rendered Windows event (`{"Event": {"System": …, "EventData": …}}`, as `evtx` and
//! `evtx_dump` produce) is flattened to the names Sigma rules use instead:
//!
//! | path | field |
//! |---|---|
//! | `Event.System.Channel` | `Channel` |
//! | `Event.System.EventID` (or its `#text` when it carries `Qualifiers`) | `EventID` |
//! | `Event.System.Provider.#attributes.Name` | `Provider_Name` |
//! | `Event.System.TimeCreated.#attributes.SystemTime` | `TimeCreated_SystemTime` |
//! | `Event.EventData.Image` | `Image` |
//! | `Event.EventData.Data` (unnamed values) | `Data` (multi-valued) |
//! | `Event.UserData.<Element>.Param` | `Param` |

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use taishi_fields::Value;

use crate::event::Event;

/// The path of keys from the document root to the value being read.
struct Path {
    text: String,
    ends: Vec<usize>,
}

impl Path {
    fn seg(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
    fn pop(&mut self) {
        self.ends.pop();
        let end = self.ends.last().copied().unwrap_or(0);
        self.text.truncate(end);
    }
}

/// Flattening state for one document.
pub(crate) struct Flattener<'e> {
    event: &'e mut Event,
    path: Path,
}

impl<'e> Flattener<'e> {
    pub(crate) fn new(event: &'e mut Event) -> Self {
        Flattener {
            event,
            path: Path {
                text: String::with_capacity(128),
                ends: Vec::with_capacity(8),
            },
        }
    }

    /// Reads one JSON value from `de` into the event.
    pub(crate) fn read<'de, D: Deserializer<'de>>(&mut self, de: D) -> Result<(), D::Error> {
        Node(self).deserialize(de)
    }

    fn leaf(&mut self, value: Value<'_>) {
        let start = self.event.name_start();
        match self.write_name() {
            Some(true) => match value {
                // Windows renders text with the padding the writer left (a command line's trailing
                // space); Sigma tools have always matched the trimmed text.
                Value::Str(s) => self.event.finish_field(start, Value::Str(s.trim().into())),
                v => self.event.finish_field(start, v),
            },
            Some(false) => self.event.finish_field(start, value),
            None => self.event.abandon_name(start),
        }
    }

    /// Writes the field name for the current path and says whether it is a Windows event field;
    /// `None` when the path is not a field (XML namespace attributes and the like).
    fn write_name(&mut self) -> Option<bool> {
        self.write_name_inner(self.is_windows())
    }

    fn is_windows(&self) -> bool {
        let p = &self.path;
        p.len() >= 2
            && p.seg(0) == "Event"
            && matches!(
                p.seg(1),
                "System" | "EventData" | "UserData" | "#attributes" | "RenderingInfo"
            )
    }

    fn write_name_inner(&mut self, windows: bool) -> Option<bool> {
        let ok = |b: bool| b.then_some(windows);
        let p = &self.path;
        let n = p.len();
        let out = self.event.name_buf();
        if !windows {
            for i in 0..n {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(p.seg(i));
            }
            return ok(n > 0);
        }
        match p.seg(1) {
            "System" => {
                // Tag, Tag.#text → Tag; Tag.#attributes.Attr → Tag_Attr.
                let mut first = true;
                for i in 2..n {
                    let s = p.seg(i);
                    if s == "#attributes" || s == "#text" {
                        continue;
                    }
                    if !first {
                        out.push('_');
                    }
                    out.push_str(s);
                    first = false;
                }
                ok(!first)
            }
            "EventData" | "UserData" => {
                // UserData wraps its values in one provider-specific element: skip it.
                let from = if p.seg(1) == "UserData" && n > 3 {
                    3
                } else {
                    2
                };
                let mut first = true;
                for i in from..n {
                    let s = p.seg(i);
                    if s == "#attributes" {
                        return None;
                    }
                    if s == "#text" {
                        continue;
                    }
                    if !first {
                        out.push('.');
                    }
                    // Sigma writes `New Value` as `NewValue`.
                    out.extend(s.chars().filter(|c| *c != ' '));
                    first = false;
                }
                ok(!first)
            }
            "RenderingInfo" => {
                out.push_str("RenderingInfo");
                for i in 2..n {
                    let s = p.seg(i);
                    if s == "#attributes" || s == "#text" {
                        continue;
                    }
                    out.push('.');
                    out.push_str(s);
                }
                ok(true)
            }
            _ => None,
        }
    }
}

struct Node<'a, 'e>(&'a mut Flattener<'e>);

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.leaf(Value::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.leaf(Value::Int(v));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.0.leaf(Value::Int(i)),
            Err(_) => self.0.leaf(Value::Str(v.to_string().into())),
        }
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.leaf(Value::Float(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.leaf(Value::Str(v.into()));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.leaf(Value::Null);
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.0.leaf(Value::Null);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let f = self.0;
        let mut any = false;
        while map.next_key_seed(Key(&mut f.path))?.is_some() {
            any = true;
            map.next_value_seed(Node(f))?;
            f.path.pop();
        }
        // An empty object is present but has no value.
        if !any && f.path.len() > 0 {
            f.leaf(Value::Null);
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let f = self.0;
        while seq.next_element_seed(Node(f))?.is_some() {}
        Ok(())
    }
}

/// Reads a map key straight onto the path.
struct Key<'a>(&'a mut Path);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.text.push_str(v);
        self.0.ends.push(self.0.text.len());
        Ok(())
    }
}

/// Parses one JSON document held in `bytes` into `event` (which the caller has cleared).
pub(crate) fn flatten_slice(bytes: &[u8], event: &mut Event) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Flattener::new(event).read(&mut de)?;
    de.end()
}

/// Parses a JSON array of objects in `bytes`, calling `each` with the event of every element.
pub(crate) fn flatten_array(
    bytes: &[u8],
    event: &mut Event,
    each: &mut dyn FnMut(&mut Event),
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_seq(Elements { event, each })?;
    de.end()
}

struct Elements<'a> {
    event: &'a mut Event,
    each: &'a mut dyn FnMut(&mut Event),
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.event.clear();
            let mut flat = Flattener::new(self.event);
            if seq.next_element_seed(Node(&mut flat))?.is_none() {
                return Ok(());
            }
            (self.each)(self.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Format;
    use std::path::Path as StdPath;
    use std::sync::Arc;
    use taishi_fields::FieldSource;

    fn flat(json: &str) -> Event {
        let mut e = Event::new(Arc::from(StdPath::new("t")), Format::Json);
        flatten_slice(json.as_bytes(), &mut e).expect("valid JSON");
        e
    }

    fn all(e: &Event) -> Vec<(String, Value<'static>)> {
        e.fields()
            .map(|(n, v)| (n.to_string(), v.into_owned()))
            .collect()
    }

    #[test]
    fn nested_objects_and_arrays() {
        let e = flat(
            r#"{"a":{"b":1,"c":[true,"x",null]},"d":{},"id.orig_h":"1.2.3.4","big":18446744073709551615}"#,
        );
        assert_eq!(
            all(&e),
            vec![
                ("a.b".into(), Value::Int(1)),
                ("a.c".into(), Value::Bool(true)),
                ("a.c".into(), Value::Str("x".into())),
                ("a.c".into(), Value::Null),
                ("d".into(), Value::Null),
                ("id.orig_h".into(), Value::Str("1.2.3.4".into())),
                ("big".into(), Value::Str("18446744073709551615".into())),
            ]
        );
    }

    #[test]
    fn windows_event_names() {
        let e = flat(
            r##"{"Event":{"#attributes":{"xmlns":"http://x"},"System":{
            "Provider":{"#attributes":{"Name":"Service Control Manager","Guid":"{1}"}},
            "EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},
            "TimeCreated":{"#attributes":{"SystemTime":"2019-01-01T00:00:00Z"}},
            "Correlation":null,"Channel":"System","Computer":"dc1"},
            "EventData":{"ServiceName":"x","New Value":"1","ImagePath":"C:\\a.exe","Data":["u","v"]},
            "UserData":{"LogFileCleared":{"#attributes":{"xmlns":"y"},"SubjectUserName":"bob"}}}}"##,
        );
        assert_eq!(
            e.first("Provider_Name"),
            Some(Value::Str("Service Control Manager".into()))
        );
        assert_eq!(e.first("EventID"), Some(Value::Int(7045)));
        assert_eq!(e.first("EventID_Qualifiers"), Some(Value::Int(16384)));
        assert_eq!(
            e.first("TimeCreated_SystemTime"),
            Some(Value::Str("2019-01-01T00:00:00Z".into()))
        );
        assert_eq!(e.first("Correlation"), Some(Value::Null));
        assert_eq!(e.first("ImagePath"), Some(Value::Str("C:\\a.exe".into())));
        assert_eq!(e.first("NewValue"), Some(Value::Str("1".into())));
        assert_eq!(e.first("SubjectUserName"), Some(Value::Str("bob".into())));
        assert_eq!(e.event_id(), Some(7045));
        assert_eq!(e.computer().as_deref(), Some("dc1"));
        let mut data = 0;
        e.visit_field("Data", &mut |_| data += 1);
        assert_eq!(data, 2);
        assert!(!e.has_field("xmlns"));
        assert!(!e.has_field("Event.#attributes.xmlns"));
    }

    #[test]
    fn bad_json_is_an_error() {
        let mut e = Event::new(Arc::from(StdPath::new("t")), Format::Json);
        assert!(flatten_slice(b"{\"a\":", &mut e).is_err());
        assert!(flatten_slice(b"{\"a\":1} x", &mut e).is_err());
    }
}
