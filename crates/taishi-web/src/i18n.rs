//! Translations and locale-aware formatting.
//!
//! Message catalogues are TOML files under `locales/` (`zh-CN.toml`, `en.toml`), embedded in the binary
//! and parsed once when the router is built into an immutable [`Catalogues`] shared by every request.
//! Nested tables flatten to dotted keys (`[nav] dashboard = "…"` is `nav.dashboard`). A page gets a
//! [`Tr`] for the caller's language: it looks messages up, fills `{name}` placeholders and formats
//! dates and numbers the way the language writes them. There is no global locale.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::Arc;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese, the default.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Every language, default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (`zh-CN`, `en`), used in `<html lang>` and the language cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language named by a cookie value or query parameter; unknown tags give `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" | "zh-hans" => Some(Lang::ZhCn),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header this console speaks.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| {
                let tag = tag.trim().to_ascii_lowercase();
                if tag.starts_with("zh") {
                    Some(Lang::ZhCn)
                } else if tag.starts_with("en") {
                    Some(Lang::En)
                } else {
                    None
                }
            })
    }
}

/// A catalogue file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// Not valid TOML.
    #[error("locales/{file}: {source}")]
    Toml {
        /// The catalogue file.
        file: &'static str,
        /// The parser's message (with line and column).
        source: toml::de::Error,
    },
    /// A value is not a string or table.
    #[error("locales/{file}: key {key} must be a string")]
    NotText {
        /// The catalogue file.
        file: &'static str,
        /// The dotted key.
        key: String,
    },
}

/// The parsed catalogues of every language, immutable after start-up.
#[derive(Debug)]
pub struct Catalogues {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

const ZH_CN: &str = include_str!("../locales/zh-CN.toml");
const EN: &str = include_str!("../locales/en.toml");

impl Catalogues {
    /// Parses the embedded catalogues.
    pub fn embedded() -> Result<Catalogues, CatalogueError> {
        Ok(Catalogues {
            zh: parse("zh-CN.toml", ZH_CN)?,
            en: parse("en.toml", EN)?,
        })
    }

    fn of(&self, lang: Lang) -> &HashMap<String, String> {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// Keys present in one language but not the other (a test keeps this empty).
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .zh
            .keys()
            .filter(|k| !self.en.contains_key(*k))
            .map(|k| format!("en: {k}"))
            .collect();
        out.extend(
            self.en
                .keys()
                .filter(|k| !self.zh.contains_key(*k))
                .map(|k| format!("zh-CN: {k}")),
        );
        out.sort();
        out
    }
}

fn parse(file: &'static str, text: &str) -> Result<HashMap<String, String>, CatalogueError> {
    let table: toml::Table = text
        .parse()
        .map_err(|source| CatalogueError::Toml { file, source })?;
    let mut out = HashMap::new();
    flatten(file, "", &table, &mut out)?;
    Ok(out)
}

fn flatten(
    file: &'static str,
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
) -> Result<(), CatalogueError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(file, &key, t, out)?,
            _ => return Err(CatalogueError::NotText { file, key }),
        }
    }
    Ok(())
}

/// Translation and formatting for one request: the language, the catalogues and the display time zone.
#[derive(Debug, Clone)]
pub struct Tr {
    /// The language of the page.
    pub lang: Lang,
    cats: Arc<Catalogues>,
    tz: TimeZone,
}

impl Tr {
    /// A translator for `lang`, showing times in `tz`.
    pub fn new(lang: Lang, cats: Arc<Catalogues>, tz: TimeZone) -> Tr {
        Tr { lang, cats, tz }
    }

    /// The message for `key`; the key itself when no catalogue has it (visible, never a panic).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.cats
            .of(self.lang)
            .get(key)
            .or_else(|| self.cats.of(Lang::ZhCn).get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The message for `key` with each `{name}` replaced by its value.
    pub fn f(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), &value.to_string());
        }
        s
    }

    /// The message for `prefix.name` (a word of a fixed vocabulary: `fstatus.open`, `nstate.issued`).
    pub fn tk(&self, prefix: &str, name: &str) -> String {
        let key = format!("{prefix}.{name}");
        self.t(&key).to_owned()
    }

    /// The message for `key` with its one placeholder `{name}` filled (handy in templates).
    pub fn f1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.f(key, &[(name, &value)])
    }

    /// An integer with thousands separators (both languages group by three here).
    pub fn num(&self, n: impl Integer) -> String {
        group(n.as_i64())
    }

    /// A share `0.0..=1.0` as a percentage with one decimal.
    pub fn pct(&self, share: f64) -> String {
        format!("{:.1}%", share * 100.0)
    }

    /// Date and time in the display zone: `2026年11月28日 09:30` or `28 Nov 2026 09:30`.
    pub fn datetime(&self, t: impl Instant) -> String {
        let z = t.instant().to_zoned_datetime(self.tz.clone());
        match self.lang {
            Lang::ZhCn => z.strftime("%Y年%-m月%-d日 %H:%M").to_string(),
            Lang::En => z.strftime("%-d %b %Y %H:%M").to_string(),
        }
    }

    /// The date alone: `2026年11月28日` or `28 Nov 2026`.
    pub fn date(&self, t: impl Instant) -> String {
        let z = t.instant().to_zoned_datetime(self.tz.clone());
        match self.lang {
            Lang::ZhCn => z.strftime("%Y年%-m月%-d日").to_string(),
            Lang::En => z.strftime("%-d %b %Y").to_string(),
        }
    }

    /// A short day label for chart axes: `11/28` or `28 Nov`.
    pub fn day(&self, t: impl Instant) -> String {
        let z = t.instant().to_zoned_datetime(self.tz.clone());
        match self.lang {
            Lang::ZhCn => z.strftime("%-m/%-d").to_string(),
            Lang::En => z.strftime("%-d %b").to_string(),
        }
    }

    /// ISO 8601 for `<time datetime>`.
    pub fn iso(&self, t: impl Instant) -> String {
        t.instant()
            .to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// An optional time, or a dash.
    pub fn opt_datetime(&self, t: &Option<Timestamp>) -> String {
        t.map(|t| self.datetime(t))
            .unwrap_or_else(|| "—".to_owned())
    }

    /// The display name of a domain word that has a Chinese label (sector, kind, role).
    pub fn word<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        match self.lang {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

/// Timestamps (and references to them, as templates pass them).
pub trait Instant {
    /// The timestamp.
    fn instant(&self) -> Timestamp;
}

impl Instant for Timestamp {
    fn instant(&self) -> Timestamp {
        *self
    }
}

impl<T: Instant + ?Sized> Instant for &T {
    fn instant(&self) -> Timestamp {
        (**self).instant()
    }
}

/// Integers (and references to them, as templates pass them) that can be shown as numbers.
pub trait Integer {
    /// The value, saturated into `i64`.
    fn as_i64(&self) -> i64;
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl Integer for $t {
            fn as_i64(&self) -> i64 {
                i64::try_from(*self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
integer!(i64, u64, usize, u32, i32, u8);

impl<T: Integer + ?Sized> Integer for &T {
    fn as_i64(&self) -> i64 {
        (**self).as_i64()
    }
}

fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The display zone: `Asia/Shanghai` from the system's zone database, or a fixed UTC+8 without one.
pub fn default_zone() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(lang: Lang) -> Tr {
        Tr::new(
            lang,
            Arc::new(Catalogues::embedded().unwrap()),
            TimeZone::fixed(jiff::tz::offset(8)),
        )
    }

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let c = Catalogues::embedded().unwrap();
        assert_eq!(c.missing(), Vec::<String>::new());
        assert!(c.zh.len() > 50, "catalogue has {} keys", c.zh.len());
    }

    /// Every dotted key quoted in a template or a page module exists in the catalogues.
    #[test]
    fn every_key_used_exists() {
        let c = Catalogues::embedded().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src/pages"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                // Page modules may be folders (`pages/admin/`): one level down.
                match std::fs::read_dir(&p) {
                    Ok(sub) => files.extend(sub.map(|e| e.unwrap().path())),
                    Err(_) => files.push(p),
                }
            }
        }
        files.push(root.join("src/layout.rs"));
        let mut missing = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            // Every piece between two quote marks is a candidate, so nesting in attributes cannot hide one.
            for quoted in text.split('"').skip(1) {
                let is_key = quoted.contains('.')
                    && quoted.split('.').all(|p| {
                        !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    })
                    && !quoted.ends_with(".html");
                if is_key && !c.zh.contains_key(quoted) {
                    missing.push(format!("{}: {quoted}", f.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalogues: {missing:#?}"
        );
    }

    #[test]
    fn lookups_placeholders_and_fallback() {
        assert_eq!(tr(Lang::ZhCn).t("nav.dashboard"), "态势总览");
        assert_eq!(tr(Lang::En).t("nav.dashboard"), "Dashboard");
        assert_eq!(tr(Lang::En).t("no.such.key"), "no.such.key");
        assert_eq!(
            tr(Lang::En).f("list.total", &[("n", &"1,234")]),
            "1,234 in total"
        );
    }

    #[test]
    fn numbers_and_dates_per_language() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(-1234567), "-1,234,567");
        let t: Timestamp = "2026-11-28T01:30:00Z".parse().unwrap();
        assert_eq!(tr(Lang::ZhCn).datetime(t), "2026年11月28日 09:30");
        assert_eq!(tr(Lang::En).datetime(t), "28 Nov 2026 09:30");
        assert_eq!(tr(Lang::En).date(t), "28 Nov 2026");
        assert_eq!(tr(Lang::ZhCn).day(t), "11/28");
        assert_eq!(tr(Lang::En).pct(0.8766), "87.7%");
    }

    #[test]
    fn language_negotiation() {
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(
            Lang::from_accept_language("fr-FR,en;q=0.8,zh;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("zh-TW"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
