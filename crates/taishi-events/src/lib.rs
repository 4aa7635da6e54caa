//! Event readers (EVTX, JSON lines, JSON documents, syslog, Suricata EVE, Zeek JSON) producing the one
//! taishi event type, [`Event`], which the Sigma engine reads through [`taishi_fields::FieldSource`].
//!
//! # Reading
//!
//! [`Source::open`] detects a file's format from its first bytes and splits it into units that can be
//! read independently — 1 MiB of EVTX chunks, 8 MiB of lines, one zip entry — so a caller can spread
//! the units of many files over threads. [`Source::read_unit`] pushes each event to a callback
//! (the event is reused between calls, so reading allocates little) and each skipped chunk, record
//! or line to a second callback as a [`Warning`] naming file and offset; the scan goes on.
//!
//! # Field names
//!
//! Windows events (from EVTX or `evtx_dump`-style JSON) are flattened to the names Sigma rules use:
//! `EventID`, `Channel`, `Computer`, `Provider_Name`, `TimeCreated_SystemTime`, and the `EventData` /
//! `UserData` values by name (`Image`, `CommandLine`, …). Other JSON gets dotted paths
//! (`userIdentity.arn`); arrays give multi-valued fields. Syslog fields are listed in [`syslog`].

mod event;
mod evtx;
mod flatten;
mod source;
pub mod syslog;
mod text;
mod time;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use event::{Event, Format, Meta};
pub use source::{Source, read_buffer, sniff};
pub use time::parse_timestamp;

/// A part of an input that was skipped (corrupt EVTX chunk or record, unparsable line); the scan went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file (for a zip entry: `archive.zip!entry`).
    pub file: Arc<Path>,
    /// Byte offset of the chunk or line in the file.
    pub offset: u64,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (offset {}): {}",
            self.file.display(),
            self.offset,
            self.message
        )
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file looks like a zip archive but is not readable as one.
    #[error("{path}: bad zip archive: {source}")]
    Zip {
        /// The file.
        path: PathBuf,
        /// The zip error.
        source: zip::result::ZipError,
    },
    /// Binary content that is not EVTX.
    #[error("{0}: unknown format (binary, not EVTX)")]
    UnknownFormat(PathBuf),
}
