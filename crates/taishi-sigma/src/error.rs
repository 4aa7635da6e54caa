//! Errors of rule loading and compilation. Every error names where it happened so an analyst can
//! fix the rule: the origin (usually a file path), the document's position in it, the rule id or
//! title, and the field inside the rule.

use thiserror::Error;

/// Where in the loaded rule text a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The origin the caller gave with the text (a file path, a URL, a database key).
    pub origin: String,
    /// The 1-based index of the YAML document in a multi-document text (0 when unknown).
    pub document: usize,
    /// The rule's `id`, or its `title` when it has no id.
    pub rule: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.origin)?;
        if self.document > 0 {
            write!(f, " (document {})", self.document)?;
        }
        if let Some(r) = &self.rule {
            write!(f, " rule {r}")?;
        }
        Ok(())
    }
}

/// A rule that could not be loaded or compiled.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum Error {
    /// The text is not valid YAML.
    #[error("{at}: invalid YAML: {message}")]
    Yaml {
        /// Where.
        at: Location,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field of the rule has a wrong shape or value.
    #[error("{at}: field `{field}`: {message}")]
    Field {
        /// Where.
        at: Location,
        /// The path of the field inside the document, e.g. `detection.selection.Image|endswith`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The rule uses something this engine does not implement (e.g. legacy aggregations).
    #[error("{at}: unsupported: {message}")]
    Unsupported {
        /// Where.
        at: Location,
        /// What is not supported.
        message: String,
    },
}

impl Error {
    /// Where the error happened.
    pub fn location(&self) -> &Location {
        match self {
            Error::Yaml { at, .. } | Error::Field { at, .. } | Error::Unsupported { at, .. } => at,
        }
    }

    /// The error without its location, for tables that show the location separately.
    pub fn reason(&self) -> String {
        match self {
            Error::Yaml { message, .. } => format!("invalid YAML: {message}"),
            Error::Field { field, message, .. } => format!("field `{field}`: {message}"),
            Error::Unsupported { message, .. } => format!("unsupported: {message}"),
        }
    }
}

/// A field-level problem before the location is known; turned into [`Error::Field`] by the loader.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
    pub unsupported: bool,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            unsupported: false,
        }
    }

    pub(crate) fn unsupported(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            unsupported: true,
        }
    }

    /// Prefixes the field path (`detection` + `.selection` …).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    pub(crate) fn at(self, at: Location) -> Error {
        if self.unsupported {
            Error::Unsupported {
                at,
                message: format!("field `{}`: {}", self.field, self.message),
            }
        } else {
            Error::Field {
                at,
                field: self.field,
                message: self.message,
            }
        }
    }
}
