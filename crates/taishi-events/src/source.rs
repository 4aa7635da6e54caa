//! One input file, split into units that can be read independently (in parallel).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use evtx::ParserSettings;

use crate::event::{Event, Format};
use crate::{Error, Warning, evtx as ev, text};

/// EVTX chunks per unit (1 MiB of log).
const CHUNKS_PER_UNIT: u64 = 16;
/// Bytes of text per unit; files up to this size are one unit and get line numbers.
const TEXT_UNIT: u64 = 8 << 20;
/// Zip entries that are not logs (Security-Datasets ship packet captures beside the JSON).
const SKIPPED_IN_ZIP: [&str; 5] = [".cap", ".pcap", ".pcapng", ".exe", ".dll"];
/// Largest zip entry decompressed into memory.
const MAX_ENTRY: u64 = 1 << 30;

#[derive(Debug, Clone)]
enum Unit {
    /// EVTX chunks `first .. first + count`.
    Chunks { first: u64, count: u64 },
    /// Lines starting in this byte range.
    Range { start: u64, end: u64 },
    /// The whole file at once (JSON documents).
    Whole,
    /// One entry of a zip archive.
    Entry { index: usize, name: String },
}

/// An input file, its detected format and its units of work.
///
/// `open` reads only the first bytes; each [`Source::read_unit`] opens the file on its own, so units of
/// one source can be read on different threads and memory stays bounded by the unit size.
#[derive(Debug)]
pub struct Source {
    path: Arc<Path>,
    format: Option<Format>,
    units: Vec<Unit>,
    len: u64,
    year: i16,
    settings: Arc<ParserSettings>,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Guesses the format of text from its first bytes and its file name.
pub fn sniff(head: &[u8], name: &str) -> Option<Format> {
    if head.starts_with(ev::FILE_MAGIC) {
        return Some(Format::Evtx);
    }
    let text_start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Some(Format::JsonLines);
    };
    let head = &head[start..];
    match head[0] {
        b'[' => Some(Format::Json),
        b'{' => {
            let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
            let line_is_json = serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok();
            if !line_is_json && !head.contains(&b'\n') && head.len() >= 4096 {
                // A first line longer than the sniffed head: assume JSON lines.
                return Some(Format::JsonLines);
            }
            if !line_is_json {
                return Some(Format::Json);
            }
            let has = |needle: &str| memchr::memmem::find(line, needle.as_bytes()).is_some();
            if has("\"event_type\"") && has("\"timestamp\"") {
                Some(Format::SuricataEve)
            } else if has("\"_path\"") || (has("\"ts\"") && has("\"uid\"")) || has("\"id.orig_h\"")
            {
                Some(Format::Zeek)
            } else {
                Some(Format::JsonLines)
            }
        }
        _ if head.iter().take(4096).any(|b| *b == 0) => None,
        _ if name.ends_with(".json") || name.ends_with(".jsonl") => Some(Format::JsonLines),
        _ => Some(Format::Syslog),
    }
}

impl Source {
    /// Opens `path`, detecting its format from its first bytes (EVTX magic, zip magic, JSON, syslog).
    pub fn open(path: &Path) -> Result<Source, Error> {
        Self::open_as(path, None)
    }

    /// Opens `path` as `format` (or detects it when `None`).
    pub fn open_as(path: &Path, format: Option<Format>) -> Result<Source, Error> {
        let mut file = File::open(path).map_err(|e| io_err(path, e))?;
        let meta = file.metadata().map_err(|e| io_err(path, e))?;
        let len = meta.len();
        let year = meta
            .modified()
            .ok()
            .and_then(|m| jiff::Timestamp::try_from(m).ok())
            .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).year())
            .unwrap_or(1970);
        let mut head = Vec::with_capacity(8192);
        file.by_ref()
            .take(8192)
            .read_to_end(&mut head)
            .map_err(|e| io_err(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let mut src = Source {
            path: Arc::from(path),
            format: None,
            units: Vec::new(),
            len,
            year,
            settings: ev::settings(),
        };
        if format.is_none() && head.starts_with(b"PK\x03\x04") {
            let archive = zip::ZipArchive::new(file).map_err(|e| Error::Zip {
                path: path.to_path_buf(),
                source: e,
            })?;
            for index in 0..archive.len() {
                if let Some(Ok(name)) = archive.name_for_index(index)
                    && !name.ends_with('/')
                    && !SKIPPED_IN_ZIP
                        .iter()
                        .any(|e| name.to_lowercase().ends_with(e))
                {
                    src.units.push(Unit::Entry {
                        index,
                        name: name.to_string(),
                    });
                }
            }
            return Ok(src);
        }
        let format = match format.or_else(|| sniff(&head, &name)) {
            Some(f) => f,
            None => return Err(Error::UnknownFormat(path.to_path_buf())),
        };
        src.format = Some(format);
        src.units = match format {
            Format::Evtx => {
                let chunks = ev::chunk_count(len);
                (0..chunks.div_ceil(CHUNKS_PER_UNIT))
                    .map(|u| Unit::Chunks {
                        first: u * CHUNKS_PER_UNIT,
                        count: CHUNKS_PER_UNIT.min(chunks - u * CHUNKS_PER_UNIT),
                    })
                    .collect()
            }
            Format::Json => vec![Unit::Whole],
            _ => (0..len.div_ceil(TEXT_UNIT).max(1))
                .map(|u| Unit::Range {
                    start: u * TEXT_UNIT,
                    end: ((u + 1) * TEXT_UNIT).min(len),
                })
                .collect(),
        };
        Ok(src)
    }

    /// The file this source reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The detected format (`None` for a zip archive, whose entries are detected one by one).
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Size of the file in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of independently readable units.
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// Approximate bytes of input in unit `i` (for progress reporting).
    pub fn unit_bytes(&self, i: usize) -> u64 {
        match self.units.get(i) {
            Some(Unit::Chunks { count, .. }) => count * ev::CHUNK_SIZE,
            Some(Unit::Range { start, end }) => end - start,
            Some(Unit::Whole) => self.len,
            Some(Unit::Entry { .. }) => self.len / self.units.len().max(1) as u64,
            None => 0,
        }
    }

    /// Reads every unit in order.
    pub fn read_all(
        &self,
        on_event: &mut dyn FnMut(&Event),
        on_warning: &mut dyn FnMut(Warning),
    ) -> Result<u64, Error> {
        let mut n = 0;
        for i in 0..self.units() {
            n += self.read_unit(i, on_event, on_warning)?;
        }
        Ok(n)
    }

    /// Reads unit `i`, calling `on_event` for each event (the reference is valid only during the call)
    /// and `on_warning` for each skipped chunk, record or line. Returns the number of events.
    pub fn read_unit(
        &self,
        i: usize,
        on_event: &mut dyn FnMut(&Event),
        on_warning: &mut dyn FnMut(Warning),
    ) -> Result<u64, Error> {
        let Some(unit) = self.units.get(i) else {
            return Ok(0);
        };
        let path = &self.path;
        match unit {
            Unit::Chunks { first, count } => {
                let mut file = File::open(path).map_err(|e| io_err(path, e))?;
                let mut event = Event::new(path.clone(), Format::Evtx);
                let mut n = 0;
                for c in *first..first + count {
                    let offset = ev::HEADER_SIZE + c * ev::CHUNK_SIZE;
                    let mut data = vec![0; ev::CHUNK_SIZE as usize];
                    file.seek(SeekFrom::Start(offset))
                        .and_then(|_| file.read_exact(&mut data))
                        .map_err(|e| io_err(path, e))?;
                    n += ev::read_chunk(
                        data,
                        offset,
                        &self.settings,
                        &mut event,
                        on_event,
                        on_warning,
                    );
                }
                Ok(n)
            }
            Unit::Range { start, end } => {
                let format = self.format.unwrap_or(Format::JsonLines);
                let (buf, base) = read_range(path, *start, *end)?;
                let first_line = (*start == 0).then_some(1);
                let mut event = Event::new(path.clone(), format);
                event.meta.channel = text::channel_for(format, path);
                Ok(text::read_lines(
                    &buf, base, first_line, self.year, &mut event, on_event, on_warning,
                ))
            }
            Unit::Whole => {
                let buf = std::fs::read(path.as_ref()).map_err(|e| io_err(path, e))?;
                let mut event = Event::new(path.clone(), Format::Json);
                Ok(text::read_document(&buf, &mut event, on_event, on_warning))
            }
            Unit::Entry { index, name } => self.read_entry(*index, name, on_event, on_warning),
        }
    }

    fn read_entry(
        &self,
        index: usize,
        name: &str,
        on_event: &mut dyn FnMut(&Event),
        on_warning: &mut dyn FnMut(Warning),
    ) -> Result<u64, Error> {
        let path = &self.path;
        let zip_err = |source| Error::Zip {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
        let mut entry = archive.by_index(index).map_err(zip_err)?;
        let mut buf = Vec::with_capacity(entry.size().min(MAX_ENTRY) as usize);
        (&mut entry)
            .take(MAX_ENTRY)
            .read_to_end(&mut buf)
            .map_err(|e| io_err(path, e))?;
        let entry_path: Arc<Path> =
            Arc::from(PathBuf::from(format!("{}!{}", path.display(), name)));
        Ok(read_buffer(
            &buf, entry_path, None, self.year, on_event, on_warning,
        ))
    }
}

/// Reads a whole in-memory log (a zip entry, standard input, a fuzzer's bytes) as `format`, or as
/// the format sniffed from its first bytes and `file`'s name. `year` completes RFC 3164 dates.
/// Returns the number of events delivered; undecodable input is reported through `on_warning`.
pub fn read_buffer(
    buf: &[u8],
    file: Arc<Path>,
    format: Option<Format>,
    year: i16,
    on_event: &mut dyn FnMut(&Event),
    on_warning: &mut dyn FnMut(Warning),
) -> u64 {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let head = &buf[..buf.len().min(8192)];
    let Some(format) = format.or_else(|| sniff(head, &name)) else {
        on_warning(Warning {
            file,
            offset: 0,
            message: "neither EVTX nor text; skipped".into(),
        });
        return 0;
    };
    let mut event = Event::new(file.clone(), format);
    match format {
        Format::Evtx => {
            let settings = ev::settings();
            let mut n = 0;
            for c in 0..ev::chunk_count(buf.len() as u64) {
                let offset = ev::HEADER_SIZE + c * ev::CHUNK_SIZE;
                let data = buf[offset as usize..(offset + ev::CHUNK_SIZE) as usize].to_vec();
                n += ev::read_chunk(data, offset, &settings, &mut event, on_event, on_warning);
            }
            n
        }
        Format::Json => text::read_document(buf, &mut event, on_event, on_warning),
        _ => {
            event.meta.channel = text::channel_for(format, &file);
            text::read_lines(buf, 0, Some(1), year, &mut event, on_event, on_warning)
        }
    }
}

/// Reads the lines that start in `start..end`: from the first line start at or after `start` through
/// the end of the line that contains byte `end - 1`.
/// Returns the bytes and the file offset of the first one.
fn read_range(path: &Path, start: u64, end: u64) -> Result<(Vec<u8>, u64), Error> {
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    // Begin one byte early: if it is a newline, a line starts exactly at `start`.
    let from = start.saturating_sub(1);
    file.seek(SeekFrom::Start(from))
        .map_err(|e| io_err(path, e))?;
    let mut buf = Vec::with_capacity((end - from) as usize + 4096);
    file.by_ref()
        .take(end - from)
        .read_to_end(&mut buf)
        .map_err(|e| io_err(path, e))?;
    // Finish the last line.
    if buf.last().is_some_and(|b| *b != b'\n') {
        let mut tail = [0u8; 4096];
        loop {
            let n = file.read(&mut tail).map_err(|e| io_err(path, e))?;
            if n == 0 {
                break;
            }
            if let Some(nl) = memchr::memchr(b'\n', &tail[..n]) {
                buf.extend_from_slice(&tail[..=nl]);
                break;
            }
            buf.extend_from_slice(&tail[..n]);
        }
    }
    let mut base = 0;
    if start > 0 {
        // Drop the partial line that belongs to the previous unit.
        let skip = memchr::memchr(b'\n', &buf).map_or(buf.len(), |i| i + 1);
        buf.drain(..skip);
        base = from + skip as u64;
    }
    Ok((buf, base))
}
