//! Hunting: runs a compiled Sigma plan over log files in parallel and prints detections.
//!
//! ```text
//! collect_inputs(paths) ──► hunt / hunt_streaming(plan, files, …) ──► Outcome { detections, warnings, summary }
//!                                                              │
//!                                     printer(format, stdout) ◄┘  (Sink: table, JSON lines, CSV)
//! ```
//!
//! # Design rationale
//!
//! Files are split into units by `taishi-events` (1 MiB of EVTX chunks, 8 MiB of lines, one zip
//! entry) and every unit of every file is one rayon task, so one large file keeps both cores busy
//! and many small files do not pay a thread each. Each worker owns a `Scratch` for the plan and
//! reuses one event buffer. [`hunt_streaming`] hands detections out in input order (file, then
//! offset) as soon as the units before them are done — a small reorder buffer keeps the output the
//! same on every run while memory stays flat; [`hunt`] gathers them and sorts them into a timeline
//! (time, file, offset), which costs memory in proportion to the detections. Correlation rules need their events in time order: events
//! that matched a rule some correlation references are kept (cloned) during the parallel pass,
//! sorted by time and fed to the correlation engine afterwards.
//!
//! Rules come from files the caller names (`load_rules`); the SigmaHQ rule folders are not shipped
//! with taishi.

mod input;
mod print;
mod run;

use std::path::PathBuf;

pub use input::{collect_inputs, load_rules};
pub use print::{Csv, Jsonl, OutputFormat, Sink, Table, printer, write_summary};
pub use run::{Detection, Fired, Outcome, Summary, hunt, hunt_streaming};

/// Why a hunt could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The worker pool could not be set up.
    #[error("worker threads: {0}")]
    Threads(String),
}

/// Sets the number of worker threads for hunts in this process (call once, before the first hunt).
pub fn configure_threads(n: usize) -> Result<(), Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .build_global()
        .map_err(|e| Error::Threads(e.to_string()))
}

/// Prints `outcome`'s detections to `sink` in timeline order, then its summary.
pub fn emit(
    plan: &taishi_sigma::Plan,
    outcome: &Outcome,
    sink: &mut dyn Sink,
) -> std::io::Result<()> {
    for d in &outcome.detections {
        sink.detection(plan, d)?;
    }
    sink.finish(&outcome.summary)
}
