//! The whole registry as one JSON or TOML document (`{"version": 1, "orgs": […], "assets": […]}`).

use super::{ImportProblem, Origin, RegistryDocument, TransferError};
use std::path::Path;

/// Which document syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    /// JSON.
    Json,
    /// TOML (`[[orgs]]` and `[[assets]]` tables).
    Toml,
}

impl DocFormat {
    /// The format a file name's extension implies (`.json`, `.toml`).
    pub fn from_path(p: &Path) -> Option<DocFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(DocFormat::Json),
            "toml" => Some(DocFormat::Toml),
            _ => None,
        }
    }
}

/// Parses a document; `file` names it in problems. Syntax and schema errors carry the line where the
/// parser stopped; records are labelled `orgs[N]` / `assets[N]` (1-based) for later checks.
pub fn read_document(
    file: &str,
    text: &str,
    format: DocFormat,
) -> Result<RegistryDocument, TransferError> {
    let text = text.trim_start_matches('\u{feff}');
    let parsed: Result<RegistryDocument, ImportProblem> = match format {
        DocFormat::Json => serde_json::from_str(text).map_err(|e| ImportProblem {
            file: file.to_owned(),
            line: e.line() as u64,
            field: String::new(),
            message: e.to_string(),
        }),
        DocFormat::Toml => toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() as u64 + 1
            });
            ImportProblem {
                file: file.to_owned(),
                line,
                field: String::new(),
                message: e.message().to_owned(),
            }
        }),
    };
    let mut doc = parsed.map_err(|p| TransferError::Problems(vec![p]))?;
    if doc.version != 1 {
        return Err(TransferError::Problems(vec![ImportProblem {
            file: file.to_owned(),
            line: 0,
            field: "version".into(),
            message: format!(
                "unsupported format version {}; this taishi reads version 1",
                doc.version
            ),
        }]));
    }
    for (i, o) in doc.orgs.iter_mut().enumerate() {
        o.origin = Origin {
            file: file.to_owned(),
            line: 0,
            record: format!("orgs[{}]", i + 1),
        };
    }
    for (i, a) in doc.assets.iter_mut().enumerate() {
        a.origin = Origin {
            file: file.to_owned(),
            line: 0,
            record: format!("assets[{}]", i + 1),
        };
    }
    Ok(doc)
}

/// Renders a document.
pub fn write_document(doc: &RegistryDocument, format: DocFormat) -> Result<String, String> {
    match format {
        DocFormat::Json => serde_json::to_string_pretty(doc).map_err(|e| e.to_string()),
        DocFormat::Toml => toml::to_string(doc).map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_toml_round_trip_and_errors_have_lines() {
        let json = r#"{"version":1,"orgs":[{"code":"D","name":"区","kind":"district","sector":"government",
            "security_officer":{"name":"王五","phone":"123","email":"w@x.cn"}}],
            "assets":[{"org":"D","kind":"domain","identity":"x.cn","software":[{"vendor":"a","product":"b"}]}]}"#;
        let doc = read_document("r.json", json, DocFormat::Json).unwrap();
        assert_eq!(doc.assets[0].origin.record, "assets[1]");
        let toml_text = write_document(&doc, DocFormat::Toml).unwrap();
        let back = read_document("r.toml", &toml_text, DocFormat::Toml).unwrap();
        assert_eq!(back.orgs[0].security_officer.name, "王五");
        assert_eq!(back.assets[0].software, doc.assets[0].software);
        let bad = "version = 1\n\n[[orgs]]\ncode = \"D\"\nname = \"x\"\nkind = \"district\"\nsector = \"mining\"\n";
        match read_document("r.toml", bad, DocFormat::Toml) {
            Err(TransferError::Problems(p)) => assert_eq!(p[0].line, 7, "{p:?}"),
            other => panic!("{other:?}"),
        }
        match read_document(
            "r.json",
            "{\"version\":1,\n\"orgs\":[{\"code\":\"D\",\"colour\":1}]}",
            DocFormat::Json,
        ) {
            Err(TransferError::Problems(p)) => {
                assert!(p[0].line == 2 && p[0].message.contains("colour"), "{p:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
