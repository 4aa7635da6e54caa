//! Detection printers: an aligned table for people, JSON lines and CSV for tools.
//!
//! Every format carries the rule's `author`: the Detection Rule License requires any alert derived
//! from a rule to keep it.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};
use taishi_sigma::Plan;

use crate::run::{Detection, Fired, Summary};

/// Where detections go, one at a time, then the summary (the role of ripgrep's `Sink`).
pub trait Sink {
    /// One detection, in timeline order.
    fn detection(&mut self, plan: &Plan, d: &Detection) -> io::Result<()>;
    /// The end of the hunt.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// The output formats of `taishi hunt --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns for a terminal.
    Table,
    /// One JSON object per detection.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(OutputFormat::Table),
            "jsonl" | "json" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            other => Err(format!("unknown format {other:?} (table, jsonl, csv)")),
        }
    }
}

/// A printer of `format` writing to `out`.
pub fn printer<'w, W: Write + 'w>(format: OutputFormat, out: W) -> Box<dyn Sink + 'w> {
    match format {
        OutputFormat::Table => Box::new(Table::new(out)),
        OutputFormat::Jsonl => Box::new(Jsonl(out)),
        OutputFormat::Csv => Box::new(Csv::new(out)),
    }
}

fn time(d: &Detection) -> String {
    d.timestamp.map(|t| t.to_string()).unwrap_or_default()
}

fn file(d: &Detection) -> String {
    d.file
        .as_ref()
        .map_or(String::new(), |f| f.display().to_string())
}

fn fields_text(d: &Detection) -> String {
    d.fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// JSON lines: one object per detection.
pub struct Jsonl<W: Write>(pub W);

impl<W: Write> Sink for Jsonl<W> {
    fn detection(&mut self, plan: &Plan, d: &Detection) -> io::Result<()> {
        let meta = d.meta(plan);
        let fields: Map<String, Json> = d
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect();
        let mut obj = json!({
            "timestamp": d.timestamp.map(|t| t.to_string()),
            "rule_title": meta.title,
            "rule_id": meta.id,
            "level": meta.level.map(|l| l.as_str()),
            "status": meta.status.map(|s| s.as_str()),
            "author": meta.author,
            "tags": meta.tags,
            "computer": d.computer,
            "channel": d.channel,
            "event_id": d.event_id,
            "file": d.file.as_ref().map(|f| f.display().to_string()),
            "record": d.record,
            "offset": d.offset,
            "fields": fields,
        });
        if let Fired::Correlation {
            value,
            events,
            first,
            ..
        } = &d.fired
        {
            obj["correlation"] = json!({
                "value": value,
                "events": events,
                "first": first.map(|t| t.to_string()),
            });
        }
        serde_json::to_writer(&mut self.0, &obj)?;
        self.0.write_all(b"\n")
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.0.flush()
    }
}

/// CSV with a header row.
pub struct Csv<W: Write> {
    out: csv::Writer<W>,
    header: bool,
}

impl<W: Write> Csv<W> {
    /// A CSV printer writing to `out`.
    pub fn new(out: W) -> Self {
        Csv {
            out: csv::Writer::from_writer(out),
            header: false,
        }
    }
}

const COLUMNS: [&str; 11] = [
    "timestamp",
    "rule_title",
    "level",
    "rule_id",
    "computer",
    "channel",
    "event_id",
    "fields",
    "author",
    "file",
    "record",
];

impl<W: Write> Sink for Csv<W> {
    fn detection(&mut self, plan: &Plan, d: &Detection) -> io::Result<()> {
        if !self.header {
            self.out.write_record(COLUMNS)?;
            self.header = true;
        }
        let meta = d.meta(plan);
        self.out.write_record([
            time(d),
            meta.title.clone(),
            meta.level.map_or("", |l| l.as_str()).to_string(),
            meta.id.clone().unwrap_or_default(),
            d.computer.clone().unwrap_or_default(),
            d.channel.clone().unwrap_or_default(),
            d.event_id.map(|i| i.to_string()).unwrap_or_default(),
            fields_text(d),
            meta.author.clone().unwrap_or_default(),
            file(d),
            d.record.map(|r| r.to_string()).unwrap_or_default(),
        ])?;
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        if !self.header {
            self.out.write_record(COLUMNS)?;
        }
        self.out.flush()
    }
}

/// Aligned columns; long cells are cut with `…` (the matched fields come last and are not cut).
pub struct Table<W: Write> {
    out: W,
    rows: Vec<[String; 9]>,
}

impl<W: Write> Table<W> {
    /// A table printer writing to `out` (rows are buffered to align the columns).
    pub fn new(out: W) -> Self {
        Table {
            out,
            rows: Vec::new(),
        }
    }
}

const TABLE_HEAD: [&str; 9] = [
    "TIMESTAMP",
    "LEVEL",
    "RULE",
    "COMPUTER",
    "CHANNEL",
    "EID",
    "AUTHOR",
    "FILE",
    "MATCHED FIELDS",
];
const MAX_WIDTH: [usize; 9] = [30, 13, 60, 28, 40, 6, 30, 50, usize::MAX];

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl<W: Write> Sink for Table<W> {
    fn detection(&mut self, plan: &Plan, d: &Detection) -> io::Result<()> {
        let meta = d.meta(plan);
        let file = match (&d.file, d.record) {
            (Some(f), Some(r)) => format!(
                "{}:{r}",
                f.file_name()
                    .map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into())
            ),
            (Some(f), None) => f
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into()),
            (None, _) => String::new(),
        };
        self.rows.push([
            time(d),
            meta.level.map_or("", |l| l.as_str()).to_string(),
            meta.title.clone(),
            d.computer.clone().unwrap_or_default(),
            d.channel.clone().unwrap_or_default(),
            d.event_id.map(|i| i.to_string()).unwrap_or_default(),
            meta.author.clone().unwrap_or_default(),
            file,
            fields_text(d).replace(['\r', '\n'], " "),
        ]);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let mut width = TABLE_HEAD.map(|h| h.chars().count());
        let rows: Vec<[String; 9]> = self
            .rows
            .iter()
            .map(|r| {
                let mut c = r.clone();
                for (i, cell) in c.iter_mut().enumerate() {
                    *cell = cut(cell, MAX_WIDTH[i]);
                    width[i] = width[i].max(cell.chars().count());
                }
                c
            })
            .collect();
        let line = |out: &mut W, cells: &[String; 9]| -> io::Result<()> {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.extend(std::iter::repeat_n(
                        ' ',
                        width[i] - cell.chars().count() + 2,
                    ));
                }
            }
            writeln!(out, "{}", s.trim_end())
        };
        if !rows.is_empty() {
            line(&mut self.out, &TABLE_HEAD.map(String::from))?;
            for r in &rows {
                line(&mut self.out, r)?;
            }
            writeln!(self.out)?;
        }
        write_summary(&mut self.out, summary)?;
        self.out.flush()
    }
}

/// The end-of-hunt summary: files, events, detections per rule (most frequent first), time.
pub fn write_summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.events as f64 / secs
    } else {
        0.0
    };
    writeln!(
        out,
        "Scanned {} files ({} unreadable), {:.1} MB, {} events in {:.2} s ({:.0} events/s); {} warnings",
        s.files,
        s.failed_files,
        s.bytes as f64 / 1e6,
        s.events,
        secs,
        rate,
        s.warnings
    )?;
    writeln!(
        out,
        "{} detections from {} rules",
        s.detections(),
        s.per_rule.len()
    )?;
    let mut per: Vec<_> = s.per_rule.iter().collect();
    per.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    for ((title, id), (level, n)) in per {
        writeln!(out, "{n:>8}  {level:<13} {title}  [{id}]")?;
    }
    Ok(())
}
