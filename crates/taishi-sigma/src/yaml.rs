//! An order-preserving YAML value and the multi-document reader built on `serde-saphyr`.
//!
//! Sigma needs three things a generic value type does not give: map order (for display and stable
//! `1 of them`), the difference between `4624` and `'4624'` (numbers vs strings), and YAML 1.2
//! scalars (`on`, `no` and `010` stay strings). `serde-saphyr` is configured with `strict_booleans`
//! and `leading_zero_numbers_as_strings` for the last point.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One YAML node as Sigma sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false` (YAML 1.2 spellings only).
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string scalar (quoted, or plain but not a number/bool/null).
    Str(String),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A mapping with its keys in document order; non-string keys are rendered as text.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The value of `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar rendered as text (numbers in decimal, booleans as `true`/`false`); `None` for
    /// null and collections.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => None,
        }
    }

    /// A short name of the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "boolean",
            Yaml::Int(_) | Yaml::Float(_) => "number",
            Yaml::Str(_) => "string",
            Yaml::Seq(_) => "list",
            Yaml::Map(_) => "map",
        }
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Yaml, E> {
        Ok(Yaml::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element::<Yaml>()? {
            out.push(v);
        }
        Ok(Yaml::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut out: Vec<(String, Yaml)> = Vec::new();
        while let Some(k) = map.next_key::<Yaml>()? {
            let key = match k {
                Yaml::Null => String::new(),
                other => other
                    .scalar_text()
                    .ok_or_else(|| de::Error::custom("a map key must be a scalar"))?,
            };
            let v = map.next_value::<Yaml>()?;
            out.push((key, v));
        }
        Ok(Yaml::Map(out))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        emit_comments: false,
    }
}

/// Parses every document of a (possibly multi-document) YAML text. Empty documents are skipped.
///
/// # Errors
/// The parser's message (with line and column) when the text is not valid YAML or exceeds the
/// parser's resource budget.
pub fn parse_documents(text: &str) -> Result<Vec<Yaml>, String> {
    serde_saphyr::from_multiple_with_options::<Yaml>(text, options()).map_err(|e| e.to_string())
}

/// Parses a single-document YAML text.
///
/// # Errors
/// The parser's message when the text is not valid YAML.
pub fn parse_one(text: &str) -> Result<Yaml, String> {
    serde_saphyr::from_str_with_options::<Yaml>(text, options()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_2_scalars_and_order() {
        let y = parse_one("b: on\na: 010\nc: 0x1F\nd: ~\ne: '4624'\nf: 4624\ng: true\n").unwrap();
        let Yaml::Map(m) = &y else {
            panic!("map expected")
        };
        assert_eq!(m[0].0, "b");
        assert_eq!(y.get("b"), Some(&Yaml::Str("on".into())));
        assert_eq!(y.get("a"), Some(&Yaml::Str("010".into())));
        assert_eq!(y.get("d"), Some(&Yaml::Null));
        assert_eq!(y.get("e"), Some(&Yaml::Str("4624".into())));
        assert_eq!(y.get("f"), Some(&Yaml::Int(4624)));
        assert_eq!(y.get("g"), Some(&Yaml::Bool(true)));
    }

    #[test]
    fn multiple_documents() {
        let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(parse_documents("a: [1\n").is_err());
    }
}
