//! Import and export of the org tree and assets: the document model, and its CSV, JSON and TOML forms.
//! The format is described for people in `docs/import-format.md`.
//!
//! Parsing and checking happen here, without a database; [`crate::RegistryStore::import_registry`]
//! then applies a checked document in one transaction.

mod csv_io;
mod doc_io;

pub use csv_io::{
    read_assets_csv, read_csv_files, read_orgs_csv, write_assets_csv, write_orgs_csv,
};
pub use doc_io::{DocFormat, read_document, write_document};

use serde::{Deserialize, Serialize};
use std::fmt;
use taishi_model::{AssetKind, Contact, OrgKind, Sector, SoftwareInput};

/// Where a record came from, so an error can name file and line. Not part of the exchanged format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// File name as given by the operator.
    pub file: String,
    /// 1-based line (CSV: the record's first line; JSON/TOML: 0, the position is in `record`).
    pub line: u64,
    /// The record's position in a JSON/TOML document (`orgs[3]`); empty for CSV.
    pub record: String,
}

/// One organisation in an import document; matched to the registry by `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgRecord {
    /// Stable external key.
    pub code: String,
    /// Parent's code; empty or absent for a root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Sector.
    pub sector: Sector,
    /// Administrative division code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Critical-infrastructure operator.
    #[serde(default)]
    pub critical_infrastructure: bool,
    /// Principal responsible person.
    #[serde(default)]
    pub principal: Contact,
    /// Security officer.
    #[serde(default)]
    pub security_officer: Contact,
    /// Notes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Where the record was read from.
    #[serde(skip)]
    pub origin: Origin,
}

/// One asset in an import document; matched by kind and identity (systems: by owner, kind and name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRecord {
    /// Owner's org code.
    pub org: String,
    /// Kind.
    pub kind: AssetKind,
    /// URL, domain, address, network or system name.
    pub identity: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// MLPS protection level 1–5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlps_level: Option<u8>,
    /// Critical-infrastructure flag.
    #[serde(default)]
    pub critical_infrastructure: bool,
    /// Notes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The software inventory; when given (even empty) it replaces the asset's inventory, when absent
    /// the inventory is left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<Vec<SoftwareInput>>,
    /// Where the record was read from.
    #[serde(skip)]
    pub origin: Origin,
}

/// A whole import or export: orgs (any order; parents are resolved by code) and assets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryDocument {
    /// Format version; currently 1.
    #[serde(default = "RegistryDocument::version")]
    pub version: u32,
    /// Organisations.
    #[serde(default)]
    pub orgs: Vec<OrgRecord>,
    /// Assets.
    #[serde(default)]
    pub assets: Vec<AssetRecord>,
}

impl RegistryDocument {
    fn version() -> u32 {
        1
    }
}

/// One problem found in an import, naming file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// File name.
    pub file: String,
    /// 1-based line; 0 when the format does not give one.
    pub line: u64,
    /// Field (column) name; empty for problems with the whole record.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ImportProblem {
    /// A problem at `origin` with `field`.
    pub fn at(origin: &Origin, field: &str, message: impl Into<String>) -> Self {
        Self {
            file: origin.file.clone(),
            line: origin.line,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Orgs created.
    pub orgs_created: u64,
    /// Orgs whose fields or parent changed.
    pub orgs_updated: u64,
    /// Orgs already exactly as in the file.
    pub orgs_unchanged: u64,
    /// Assets created.
    pub assets_created: u64,
    /// Assets whose fields, owner or software changed.
    pub assets_updated: u64,
    /// Assets already exactly as in the file.
    pub assets_unchanged: u64,
}

/// Reading an import file failed; nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The content has problems; every one is listed.
    #[error("{} problem(s) found, nothing imported:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<ImportProblem>),
}
