//! Field access shared by the event readers (`taishi-events`) and the Sigma engine (`taishi-sigma`).
//!
//! This crate plays the role `grep-matcher` plays in ripgrep: a small neutral seam so that the engine never
//! names a concrete event type and the readers never name the engine. It has no dependencies.
//!
//! # Design rationale
//!
//! Field lookup is push-style (a visitor) rather than returning an iterator: an event may hold a field as a
//! scalar, as an array of scalars, or not at all, and a visitor lets each implementation hand out borrowed
//! values without allocating. A Sigma value matches a multi-valued field when it matches any of its values.

use std::borrow::Cow;

/// One scalar value of an event field, borrowed from the event where possible.
///
/// Exists so that matching can distinguish numbers from strings (`gt`/`lt` modifiers, `null` checks)
/// without every reader converting everything to text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// The field is present with an explicit null (JSON `null`, an empty EVTX element).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (EVTX numeric types, JSON integers).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(Cow<'a, str>),
}

impl Value<'_> {
    /// The value as text, as Sigma's string matching sees it (numbers in decimal, booleans as
    /// `true`/`false`, null as `None`).
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(f.to_string())),
            Value::Str(s) => Some(Cow::Borrowed(s.as_ref())),
        }
    }

    /// The value as a number, parsing text when it holds one (Sigma's numeric modifiers compare
    /// `"4624"` and `4624` alike).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            Value::Bool(_) | Value::Null => None,
        }
    }

    /// An owned copy, for storing a matched value past the event's lifetime.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
        }
    }
}

/// Read access to the fields of one event.
///
/// Field names are those of the event's own schema after any mapping (e.g. `Image`, `EventID`,
/// `Channel`, or dotted paths such as `http.hostname` into nested JSON). Implementations decide how a
/// name resolves; the engine treats names as opaque.
pub trait FieldSource {
    /// Calls `visit` once for each value of the field `name` (once for a scalar, once per element for
    /// an array) and returns whether the field exists at all. A field present as JSON `null` exists and
    /// is visited as [`Value::Null`].
    fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool;

    /// Calls `visit` with every field name and each of its scalar values, for unfielded keyword search
    /// and for showing an event.
    fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>));

    /// The first value of a field, owned; a convenience for output and correlation keys.
    fn first(&self, name: &str) -> Option<Value<'static>> {
        let mut out = None;
        self.visit_field(name, &mut |v| {
            if out.is_none() {
                out = Some(v.clone().into_owned());
            }
        });
        out
    }

    /// Whether the field exists (Sigma's `exists` modifier).
    fn has_field(&self, name: &str) -> bool {
        self.visit_field(name, &mut |_| {})
    }
}

impl<T: FieldSource + ?Sized> FieldSource for &T {
    fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
        (**self).visit_field(name, visit)
    }
    fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
        (**self).visit_all(visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(&'static str, Vec<Value<'static>>);
    impl FieldSource for One {
        fn visit_field(&self, name: &str, visit: &mut dyn FnMut(&Value<'_>)) -> bool {
            if name != self.0 {
                return false;
            }
            self.1.iter().for_each(&mut *visit);
            true
        }
        fn visit_all(&self, visit: &mut dyn FnMut(&str, &Value<'_>)) {
            self.1.iter().for_each(|v| visit(self.0, v));
        }
    }

    #[test]
    fn first_and_exists() {
        let e = One("A", vec![Value::Int(4), Value::Str("x".into())]);
        assert_eq!(e.first("A"), Some(Value::Int(4)));
        assert!(e.has_field("A"));
        assert!(!e.has_field("B"));
        assert_eq!(e.first("B"), None);
    }

    #[test]
    fn text_and_number_views() {
        assert_eq!(Value::Int(4624).as_text().as_deref(), Some("4624"));
        assert_eq!(Value::Str(" 12 ".into()).as_f64(), Some(12.0));
        assert_eq!(Value::Null.as_text(), None);
        assert_eq!(Value::Bool(true).as_f64(), None);
    }
}
