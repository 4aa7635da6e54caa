//! Sigma documents (detection rules, correlation rules, filters) and their metadata.

use crate::error::{Error, FieldError, Location};
use crate::yaml::{self, Yaml};

/// How severe a rule's hit is (`level`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Enrichment only.
    Informational,
    /// Notable, rarely an incident.
    Low,
    /// Review on a regular basis.
    Medium,
    /// Prompt review.
    High,
    /// Review immediately.
    Critical,
}

impl Level {
    /// Parses a level name (case-insensitive; `info` is accepted for `informational`).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The specification's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// How mature a rule is (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Production ready.
    Stable,
    /// Mostly stable.
    Test,
    /// May be noisy.
    Experimental,
    /// Replaced by another rule.
    Deprecated,
    /// Cannot be used as is.
    Unsupported,
}

impl Status {
    /// Parses a status name (case-insensitive).
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return None,
        })
    }

    /// The specification's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }
}

/// A rule's `logsource`: which events it is written for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Logsource {
    /// e.g. `process_creation`.
    pub category: Option<String>,
    /// e.g. `windows`.
    pub product: Option<String>,
    /// e.g. `security`.
    pub service: Option<String>,
}

impl std::fmt::Display for Logsource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}:{v}")))
        .collect();
        f.write_str(&parts.join(" "))
    }
}

/// The metadata of a rule that output and selection need.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleMeta {
    /// `id` (a UUID in SigmaHQ).
    pub id: Option<String>,
    /// `name`: a unique handle used by correlation rules.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status`.
    pub status: Option<Status>,
    /// `level`.
    pub level: Option<Level>,
    /// `author`; the Detection Rule Licence requires every alert to carry it.
    pub author: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `fields`: fields worth showing to the analyst.
    pub fields: Vec<String>,
    /// `logsource`.
    pub logsource: Logsource,
    /// Where the rule came from (the origin given to the loader).
    pub origin: String,
}

impl RuleMeta {
    /// The id, or the title when the rule has none: how errors and reports name a rule.
    pub fn handle(&self) -> String {
        self.id.clone().unwrap_or_else(|| self.title.clone())
    }
}

/// One parsed YAML document of a rule file, before compilation.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A detection rule.
    Rule {
        /// Metadata.
        meta: RuleMeta,
        /// The raw `detection` map.
        detection: Yaml,
    },
    /// A correlation rule.
    Correlation {
        /// Metadata (logsource is empty).
        meta: RuleMeta,
        /// The raw `correlation` map.
        correlation: Yaml,
        /// `generate`: also emit the referenced rules on their own.
        generate: bool,
    },
    /// A meta filter applied to named rules.
    Filter {
        /// Metadata (no level or status).
        meta: RuleMeta,
        /// The raw `filter` map.
        filter: Yaml,
    },
}

impl Document {
    /// The document's metadata.
    pub fn meta(&self) -> &RuleMeta {
        match self {
            Document::Rule { meta, .. }
            | Document::Correlation { meta, .. }
            | Document::Filter { meta, .. } => meta,
        }
    }
}

fn opt_string(doc: &Yaml, key: &str) -> Result<Option<String>, FieldError> {
    match doc.get(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::Seq(items)) if key == "author" => {
            let names: Vec<String> = items.iter().filter_map(Yaml::scalar_text).collect();
            Ok(Some(names.join(", ")))
        }
        Some(v) => v
            .scalar_text()
            .map(Some)
            .ok_or_else(|| FieldError::new(key, format!("expected text, found a {}", v.kind()))),
    }
}

fn string_list(doc: &Yaml, key: &str) -> Result<Vec<String>, FieldError> {
    match doc.get(key) {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Seq(items)) => items
            .iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, Yaml::Null))
            .map(|(i, v)| {
                v.scalar_text().ok_or_else(|| {
                    FieldError::new(
                        format!("{key}[{i}]"),
                        format!("expected text, found a {}", v.kind()),
                    )
                })
            })
            .collect(),
        Some(v) => v
            .scalar_text()
            .map(|s| vec![s])
            .ok_or_else(|| FieldError::new(key, format!("expected a list, found a {}", v.kind()))),
    }
}

fn logsource(doc: &Yaml) -> Result<Logsource, FieldError> {
    let Some(ls) = doc.get("logsource") else {
        return Ok(Logsource::default());
    };
    if !matches!(ls, Yaml::Map(_) | Yaml::Null) {
        return Err(FieldError::new(
            "logsource",
            format!("expected a map, found a {}", ls.kind()),
        ));
    }
    let get = |k: &str| {
        opt_string(ls, k)
            .map(|o| o.map(|s| s.to_ascii_lowercase()))
            .map_err(|e| e.under("logsource"))
    };
    Ok(Logsource {
        category: get("category")?,
        product: get("product")?,
        service: get("service")?,
    })
}

fn meta(doc: &Yaml, origin: &str) -> Result<RuleMeta, FieldError> {
    let title = opt_string(doc, "title")?
        .ok_or_else(|| FieldError::new("title", "a rule needs a title"))?;
    let level = match opt_string(doc, "level")? {
        None => None,
        Some(s) => Some(
            Level::parse(&s)
                .ok_or_else(|| FieldError::new("level", format!("unknown level `{s}`")))?,
        ),
    };
    let status = match opt_string(doc, "status")? {
        None => None,
        Some(s) => Some(
            Status::parse(&s)
                .ok_or_else(|| FieldError::new("status", format!("unknown status `{s}`")))?,
        ),
    };
    Ok(RuleMeta {
        id: opt_string(doc, "id")?,
        name: opt_string(doc, "name")?,
        title,
        status,
        level,
        author: opt_string(doc, "author")?,
        description: opt_string(doc, "description")?,
        date: opt_string(doc, "date")?,
        modified: opt_string(doc, "modified")?,
        tags: string_list(doc, "tags")?,
        references: string_list(doc, "references")?,
        falsepositives: string_list(doc, "falsepositives")?,
        fields: string_list(doc, "fields")?,
        logsource: logsource(doc)?,
        origin: origin.to_owned(),
    })
}

fn location(origin: &str, index: usize, doc: &Yaml) -> Location {
    let rule = doc
        .get("id")
        .and_then(Yaml::scalar_text)
        .or_else(|| doc.get("title").and_then(Yaml::scalar_text));
    Location {
        origin: origin.to_owned(),
        document: index + 1,
        rule,
    }
}

/// Turns one YAML document into a Sigma [`Document`].
///
/// # Errors
/// A located error when the document is none of rule, correlation or filter, or a metadata field
/// has the wrong shape.
pub fn document_from_yaml(doc: Yaml, origin: &str, index: usize) -> Result<Document, Error> {
    let at = location(origin, index, &doc);
    if !matches!(doc, Yaml::Map(_)) {
        return Err(FieldError::new(
            "",
            format!("a rule document must be a map, found a {}", doc.kind()),
        )
        .at(at));
    }
    let meta = meta(&doc, origin).map_err(|e| e.at(at.clone()))?;
    let kind = doc.kind();
    let Yaml::Map(mut entries) = doc else {
        return Err(
            FieldError::new("", format!("a rule document must be a map, found a {kind}")).at(at),
        );
    };
    let mut take = |key: &str| {
        entries
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| entries.swap_remove(i).1)
    };
    if let Some(correlation) = take("correlation") {
        let generate = match take("generate").or_else(|| correlation.get("generate").cloned()) {
            None | Some(Yaml::Null) => false,
            Some(Yaml::Bool(b)) => b,
            Some(v) => {
                return Err(FieldError::new(
                    "generate",
                    format!("expected true or false, found a {}", v.kind()),
                )
                .at(at));
            }
        };
        return Ok(Document::Correlation {
            meta,
            correlation,
            generate,
        });
    }
    if let Some(detection) = take("detection") {
        if !matches!(detection, Yaml::Map(_)) {
            return Err(FieldError::new(
                "detection",
                format!("expected a map, found a {}", detection.kind()),
            )
            .at(at));
        }
        return Ok(Document::Rule { meta, detection });
    }
    if let Some(filter) = take("filter") {
        return Ok(Document::Filter { meta, filter });
    }
    Err(FieldError::new(
        "detection",
        "the document has none of `detection`, `correlation` or `filter`",
    )
    .at(at))
}

/// Parses all documents of a rule text. Each document succeeds or fails on its own.
///
/// # Errors
/// The outer error when the text is not YAML at all; inner errors per document otherwise.
pub fn parse_text(origin: &str, text: &str) -> Result<Vec<Result<Document, Error>>, Error> {
    let docs = yaml::parse_documents(text).map_err(|message| Error::Yaml {
        at: Location {
            origin: origin.to_owned(),
            document: 0,
            rule: None,
        },
        message,
    })?;
    // Sigma v1 rule collections: `action: global` is merged into the documents after it,
    // `action: reset` forgets it, `action: repeat` repeats the previous document with changes.
    let mut global: Option<Yaml> = None;
    let mut previous: Option<Yaml> = None;
    let mut seen_ids: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        let action = d.get("action").and_then(Yaml::scalar_text);
        let d = without_key(d, "action");
        match action.as_deref() {
            Some("global") => global = Some(d),
            Some("reset") => global = None,
            Some(other) if other != "repeat" => out.push(Err(Error::Unsupported {
                at: location(origin, i, &d),
                message: format!("unknown collection action `{other}`"),
            })),
            _ => {
                let base = if action.is_some() {
                    previous.clone()
                } else {
                    global.clone()
                };
                let from_collection = base.is_some();
                let mut merged = match base {
                    Some(b) => merge(b, d),
                    None => d,
                };
                // Documents of one collection share the global `id`: keep them apart.
                if from_collection && let Some(id) = merged.get("id").and_then(Yaml::scalar_text) {
                    if seen_ids.contains(&id) {
                        merged = merge(
                            merged,
                            Yaml::Map(vec![("id".into(), Yaml::Str(format!("{id}#{}", i + 1)))]),
                        );
                    } else {
                        seen_ids.push(id);
                    }
                }
                previous = Some(merged.clone());
                out.push(document_from_yaml(merged, origin, i));
            }
        }
    }
    Ok(out)
}

fn without_key(doc: Yaml, key: &str) -> Yaml {
    match doc {
        Yaml::Map(entries) => Yaml::Map(entries.into_iter().filter(|(k, _)| k != key).collect()),
        other => other,
    }
}

/// Deep merge of maps: `over` wins, nested maps are merged.
fn merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Map(mut b), Yaml::Map(o)) => {
            for (k, v) in o {
                match b.iter().position(|(bk, _)| *bk == k) {
                    Some(i) => {
                        let old = std::mem::replace(&mut b[i].1, Yaml::Null);
                        b[i].1 = merge(old, v);
                    }
                    None => b.push((k, v)),
                }
            }
            Yaml::Map(b)
        }
        (_, over) => over,
    }
}
