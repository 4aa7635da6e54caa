//! Windows EVTX: chunks decoded by the `evtx` crate, records rendered to JSON and flattened.
//!
//! A file is a 4 KiB header followed by independent 64 KiB chunks, so a chunk is the unit of
//! parallelism and of failure: a corrupt chunk is reported as a [`Warning`] and skipped.

use std::sync::Arc;

use evtx::{EvtxChunkData, ParserSettings};
use jiff::Timestamp;

use crate::Warning;
use crate::event::Event;
use crate::flatten::flatten_slice;
use crate::time::fill_timestamp;

/// Size of the file header before the first chunk.
pub(crate) const HEADER_SIZE: u64 = 4096;
/// Size of one chunk.
pub(crate) const CHUNK_SIZE: u64 = 65536;
/// The file header magic.
pub(crate) const FILE_MAGIC: &[u8; 8] = b"ElfFile\0";

/// Decoder settings shared by every chunk of every file.
pub(crate) fn settings() -> Arc<ParserSettings> {
    Arc::new(ParserSettings::default().validate_checksums(false))
}

/// Number of whole chunks in a file of `len` bytes.
pub(crate) fn chunk_count(len: u64) -> u64 {
    len.saturating_sub(HEADER_SIZE) / CHUNK_SIZE
}

/// Decodes one chunk (`data` is its 64 KiB, read from `offset` in the file), calling `on_event` per
/// record; returns the number of records delivered.
pub(crate) fn read_chunk(
    data: Vec<u8>,
    offset: u64,
    settings: &Arc<ParserSettings>,
    event: &mut Event,
    on_event: &mut dyn FnMut(&Event),
    on_warning: &mut dyn FnMut(Warning),
) -> u64 {
    // Unused chunks at the end of a log are zero-filled (look at the whole chunk only when its
    // magic is missing, so valid chunks cost nothing here).
    if !data.starts_with(b"ElfChnk\0") && data.iter().all(|b| *b == 0) {
        return 0;
    }
    let file = event.meta.file.clone();
    let warn = |on_warning: &mut dyn FnMut(Warning), message: String| {
        on_warning(Warning {
            file: file.clone(),
            offset,
            message,
        })
    };
    let mut chunk_data = match EvtxChunkData::new(data, false) {
        Ok(c) => c,
        Err(e) => {
            warn(on_warning, format!("corrupt EVTX chunk skipped: {e}"));
            return 0;
        }
    };
    let mut chunk = match chunk_data.parse(settings.clone()) {
        Ok(c) => c,
        Err(e) => {
            warn(on_warning, format!("corrupt EVTX chunk skipped: {e}"));
            return 0;
        }
    };
    let mut delivered = 0;
    for record in chunk.iter() {
        let record = match record.and_then(|r| r.into_json_bytes()) {
            Ok(r) => r,
            Err(e) => {
                warn(on_warning, format!("EVTX record skipped: {e}"));
                continue;
            }
        };
        event.clear();
        event.meta.offset = offset;
        event.meta.record = Some(record.event_record_id);
        if let Err(e) = flatten_slice(&record.data, event) {
            warn(
                on_warning,
                format!(
                    "EVTX record {} rendered to invalid JSON: {e}",
                    record.event_record_id
                ),
            );
            continue;
        }
        // The event's own creation time; the record header holds when it was written.
        fill_timestamp(event);
        if event.meta.timestamp.is_none() {
            event.meta.timestamp =
                Timestamp::from_microsecond(record.timestamp.as_microsecond()).ok();
        }
        on_event(event);
        delivered += 1;
    }
    delivered
}
