//! Logsource mapping as data: which events a rule's `logsource` means, and how Sigma taxonomy
//! field names become event field names. See `mappings/windows.yml` for the format and the
//! built-in Windows default.

use crate::detection::Renames;
use crate::rule::Logsource;
use crate::yaml::{self, Yaml};

/// The built-in mapping for Windows event logs, embedded in the binary.
pub const WINDOWS_DEFAULT: &str = include_str!("../mappings/windows.yml");

/// What to do with a rule whose logsource no mapping entry covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmapped {
    /// Do not load the rule; it is reported as unmapped.
    #[default]
    Skip,
    /// Evaluate the rule's detection on every event.
    Evaluate,
}

/// One entry: a logsource pattern, conditions on the event, field renames.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    /// The logsource keys this entry names (unnamed keys match anything).
    pub logsource: Logsource,
    /// A Sigma selection the event must satisfy (empty map: no condition).
    pub conditions: Yaml,
    /// Sigma field name → event field name.
    pub fields: Renames,
}

impl MapEntry {
    fn specificity(&self) -> usize {
        [
            &self.logsource.category,
            &self.logsource.product,
            &self.logsource.service,
        ]
        .iter()
        .filter(|k| k.is_some())
        .count()
    }

    fn covers(&self, ls: &Logsource) -> bool {
        // Category and service must be exactly equal (both absent counts as equal); an entry
        // without a product covers every product.
        let product = self
            .logsource
            .product
            .as_ref()
            .is_none_or(|p| ls.product.as_ref() == Some(p));
        self.specificity() > 0
            && product
            && self.logsource.category == ls.category
            && self.logsource.service == ls.service
    }
}

/// A logsource mapping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    /// The entries in file order.
    pub entries: Vec<MapEntry>,
    /// The policy for uncovered rules.
    pub unmapped: Unmapped,
}

fn text(y: Option<&Yaml>) -> Option<String> {
    y.and_then(Yaml::scalar_text)
        .map(|s| s.to_ascii_lowercase())
}

impl Mapping {
    /// The built-in Windows mapping.
    pub fn windows_default() -> Mapping {
        // The embedded file is tested to parse; fall back to an empty mapping rather than panic.
        Mapping::from_yaml(WINDOWS_DEFAULT).unwrap_or_default()
    }

    /// Reads a mapping from YAML text (format: see `mappings/windows.yml`).
    ///
    /// # Errors
    /// A message naming the entry and field when the text does not have that shape.
    pub fn from_yaml(text_in: &str) -> Result<Mapping, String> {
        let doc = yaml::parse_one(text_in)?;
        let unmapped = match doc.get("unmapped").and_then(Yaml::scalar_text).as_deref() {
            None | Some("skip") => Unmapped::Skip,
            Some("evaluate") => Unmapped::Evaluate,
            Some(other) => {
                return Err(format!(
                    "unmapped: expected `skip` or `evaluate`, found `{other}`"
                ));
            }
        };
        let Some(Yaml::Seq(items)) = doc.get("logsources") else {
            return Err("logsources: expected a list of entries".into());
        };
        let mut entries = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if !matches!(item, Yaml::Map(_)) {
                return Err(format!("logsources[{i}]: expected a map"));
            }
            let logsource = Logsource {
                category: text(item.get("category")),
                product: text(item.get("product")),
                service: text(item.get("service")),
            };
            let conditions = match item.get("conditions") {
                None | Some(Yaml::Null) => Yaml::Map(Vec::new()),
                Some(c @ Yaml::Map(_)) => c.clone(),
                Some(_) => return Err(format!("logsources[{i}].conditions: expected a map")),
            };
            let mut fields = Renames::new();
            match item.get("fields") {
                None | Some(Yaml::Null) => {}
                Some(Yaml::Map(m)) => {
                    for (k, v) in m {
                        let to = v.scalar_text().ok_or_else(|| {
                            format!("logsources[{i}].fields.{k}: expected a field name")
                        })?;
                        fields.insert(k.clone(), to);
                    }
                }
                Some(_) => return Err(format!("logsources[{i}].fields: expected a map")),
            }
            let entry = MapEntry {
                logsource,
                conditions,
                fields,
            };
            if entry.specificity() == 0 {
                return Err(format!(
                    "logsources[{i}]: name at least one of category, product, service"
                ));
            }
            entries.push(entry);
        }
        Ok(Mapping { entries, unmapped })
    }

    /// Positions in [`Mapping::entries`] of the entries that apply to a rule's logsource.
    pub fn resolve_indices(&self, ls: &Logsource) -> Vec<usize> {
        let covering: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].covers(ls))
            .collect();
        let best = covering
            .iter()
            .map(|&i| self.entries[i].specificity())
            .max()
            .unwrap_or(0);
        covering
            .into_iter()
            .filter(|&i| self.entries[i].specificity() == best)
            .collect()
    }

    /// The entries that apply to a rule's logsource: the most specific of those covering it.
    pub fn resolve(&self, ls: &Logsource) -> Vec<&MapEntry> {
        let covering: Vec<&MapEntry> = self.entries.iter().filter(|e| e.covers(ls)).collect();
        let best = covering.iter().map(|e| e.specificity()).max().unwrap_or(0);
        covering
            .into_iter()
            .filter(|e| e.specificity() == best)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(c: Option<&str>, p: Option<&str>, s: Option<&str>) -> Logsource {
        Logsource {
            category: c.map(Into::into),
            product: p.map(Into::into),
            service: s.map(Into::into),
        }
    }

    #[test]
    fn default_mapping_resolves_windows_logsources() {
        let m = Mapping::from_yaml(WINDOWS_DEFAULT).unwrap();
        assert_eq!(m.unmapped, Unmapped::Skip);
        let pc = m.resolve(&ls(Some("process_creation"), Some("windows"), None));
        assert_eq!(pc.len(), 2);
        assert_eq!(
            pc[1].fields.get("Image").map(String::as_str),
            Some("NewProcessName")
        );
        let sec = m.resolve(&ls(None, Some("windows"), Some("security")));
        assert_eq!(sec.len(), 1);
        assert_eq!(
            sec[0].conditions.get("Channel"),
            Some(&Yaml::Str("Security".into()))
        );
        assert_eq!(m.resolve(&ls(None, Some("windows"), None)).len(), 1);
        assert!(
            m.resolve(&ls(Some("file_access"), Some("windows"), None))
                .is_empty()
        );
        assert!(
            m.resolve(&ls(None, Some("linux"), Some("auditd")))
                .is_empty()
        );
        assert_eq!(m.resolve(&ls(Some("antivirus"), None, None)).len(), 1);
    }

    #[test]
    fn bad_mappings_are_rejected() {
        assert!(Mapping::from_yaml("logsources: 3").is_err());
        assert!(Mapping::from_yaml("logsources:\n  - conditions: {}\n").is_err());
        assert!(Mapping::from_yaml("unmapped: maybe\nlogsources: []\n").is_err());
    }
}
