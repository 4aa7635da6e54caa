//! `orgs.csv` and `assets.csv`: one record per line, a header naming the columns (any order), UTF-8 with
//! or without a byte-order mark. Every problem in every cell is collected before giving up.

use super::{AssetRecord, ImportProblem, OrgRecord, Origin, RegistryDocument, TransferError};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use taishi_model::{Contact, OrgKind, Sector, SoftwareInput};

/// Columns of `orgs.csv`, in the order export writes them.
pub const ORG_COLUMNS: [&str; 14] = [
    "code",
    "parent",
    "name",
    "kind",
    "sector",
    "region_code",
    "critical_infrastructure",
    "principal_name",
    "principal_phone",
    "principal_email",
    "security_officer_name",
    "security_officer_phone",
    "security_officer_email",
    "notes",
];
const ORG_REQUIRED: [&str; 4] = ["code", "name", "kind", "sector"];

/// Columns of `assets.csv`, in the order export writes them.
pub const ASSET_COLUMNS: [&str; 9] = [
    "org",
    "kind",
    "identity",
    "name",
    "tags",
    "mlps_level",
    "critical_infrastructure",
    "notes",
    "software",
];
const ASSET_REQUIRED: [&str; 3] = ["org", "kind", "identity"];

/// Reads the header and returns column positions, or problems for unknown and missing columns.
fn header<R: Read>(
    file: &str,
    rdr: &mut csv::Reader<R>,
    known: &[&str],
    required: &[&str],
    problems: &mut Vec<ImportProblem>,
) -> Option<HashMap<String, usize>> {
    let at = Origin {
        file: file.to_owned(),
        line: 1,
        record: String::new(),
    };
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(ImportProblem::at(
                &at,
                "",
                format!("cannot read the header: {e}"),
            ));
            return None;
        }
    };
    let mut cols = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
        if !known.contains(&h.as_str()) {
            problems.push(ImportProblem::at(
                &at,
                &h,
                format!("unknown column; expected some of: {}", known.join(", ")),
            ));
        } else if cols.insert(h.clone(), i).is_some() {
            problems.push(ImportProblem::at(&at, &h, "column appears twice"));
        }
    }
    for r in required {
        if !cols.contains_key(*r) {
            problems.push(ImportProblem::at(&at, r, "required column is missing"));
        }
    }
    Some(cols)
}

struct Cells<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a HashMap<String, usize>,
    origin: Origin,
    problems: &'a mut Vec<ImportProblem>,
}

impl Cells<'_> {
    fn get(&self, col: &str) -> &str {
        self.cols
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn has(&self, col: &str) -> bool {
        self.cols.contains_key(col)
    }

    fn parsed<T: std::str::FromStr>(&mut self, col: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let v = self.get(col).to_owned();
        if v.is_empty() {
            self.problems
                .push(ImportProblem::at(&self.origin, col, "must not be empty"));
            return None;
        }
        match v.parse() {
            Ok(t) => Some(t),
            Err(e) => {
                self.problems
                    .push(ImportProblem::at(&self.origin, col, e.to_string()));
                None
            }
        }
    }

    fn flag(&mut self, col: &str) -> bool {
        match self.get(col).to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "n" | "0" | "否" => false,
            "true" | "yes" | "y" | "1" | "是" => true,
            other => {
                let msg =
                    format!("{other:?} is not true/false (also accepted: yes/no, 1/0, 是/否)");
                self.problems
                    .push(ImportProblem::at(&self.origin, col, msg));
                false
            }
        }
    }

    fn opt(&self, col: &str) -> Option<String> {
        Some(self.get(col).to_owned()).filter(|s| !s.is_empty())
    }

    fn contact(&self, who: &str) -> Contact {
        Contact {
            name: self.get(&format!("{who}_name")).to_owned(),
            phone: self.get(&format!("{who}_phone")).to_owned(),
            email: self.get(&format!("{who}_email")).to_owned(),
        }
    }
}

fn for_each_record<R: Read>(
    file: &str,
    reader: R,
    known: &[&str],
    required: &[&str],
    problems: &mut Vec<ImportProblem>,
    mut each: impl FnMut(&mut Cells<'_>),
) {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let Some(cols) = header(file, &mut rdr, known, required, problems) else {
        return;
    };
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                if rec.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let origin = Origin {
                    file: file.to_owned(),
                    line: rec.position().map_or(line, |p| p.line()),
                    record: String::new(),
                };
                let mut cells = Cells {
                    rec: &rec,
                    cols: &cols,
                    origin,
                    problems,
                };
                each(&mut cells);
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                let origin = Origin {
                    file: file.to_owned(),
                    line,
                    record: String::new(),
                };
                problems.push(ImportProblem::at(
                    &origin,
                    "",
                    format!("unreadable record: {e}"),
                ));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
}

/// Reads `orgs.csv`. `file` names the file in problems.
pub fn read_orgs_csv<R: Read>(
    file: &str,
    reader: R,
    problems: &mut Vec<ImportProblem>,
) -> Vec<OrgRecord> {
    let mut out = Vec::new();
    for_each_record(file, reader, &ORG_COLUMNS, &ORG_REQUIRED, problems, |c| {
        // a bad kind or sector is reported and replaced by `other`, so that references to this
        // org's code still resolve and later checks report only real problems
        let kind = c.parsed("kind").unwrap_or(OrgKind::Other);
        let sector = c.parsed("sector").unwrap_or(Sector::Other);
        let cii = c.flag("critical_infrastructure");
        {
            out.push(OrgRecord {
                code: c.get("code").to_owned(),
                parent: c.opt("parent"),
                name: c.get("name").to_owned(),
                kind,
                sector,
                region_code: c.opt("region_code"),
                critical_infrastructure: cii,
                principal: c.contact("principal"),
                security_officer: c.contact("security_officer"),
                notes: c.get("notes").to_owned(),
                origin: c.origin.clone(),
            });
        }
    });
    out
}

/// Parses the `software` cell: entries separated by `;`, each `vendor|product|version[|cpe]`.
fn software_cell(cell: &str) -> Result<Vec<SoftwareInput>, String> {
    let mut out = Vec::new();
    for (i, entry) in cell
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = entry.split('|').map(str::trim).collect();
        if !(2..=4).contains(&parts.len()) {
            return Err(format!(
                "entry {} {entry:?} must be vendor|product|version or vendor|product|version|cpe",
                i + 1
            ));
        }
        out.push(SoftwareInput {
            vendor: parts[0].to_owned(),
            product: parts[1].to_owned(),
            version: parts.get(2).copied().unwrap_or("").to_owned(),
            cpe: parts
                .get(3)
                .map(|c| (*c).to_owned())
                .filter(|c| !c.is_empty()),
        });
    }
    Ok(out)
}

/// Reads `assets.csv`. When the `software` column is present it is authoritative for every row.
pub fn read_assets_csv<R: Read>(
    file: &str,
    reader: R,
    problems: &mut Vec<ImportProblem>,
) -> Vec<AssetRecord> {
    let mut out = Vec::new();
    for_each_record(
        file,
        reader,
        &ASSET_COLUMNS,
        &ASSET_REQUIRED,
        problems,
        |c| {
            let kind = c.parsed("kind");
            let cii = c.flag("critical_infrastructure");
            let mlps = match c.get("mlps_level") {
                "" => None,
                v => match v.parse::<u8>() {
                    Ok(l) => Some(l),
                    Err(_) => {
                        c.problems.push(ImportProblem::at(
                            &c.origin,
                            "mlps_level",
                            format!("{v:?} is not a level 1 to 5"),
                        ));
                        None
                    }
                },
            };
            let software = if c.has("software") {
                match software_cell(c.get("software")) {
                    Ok(s) => Some(s),
                    Err(m) => {
                        c.problems.push(ImportProblem::at(&c.origin, "software", m));
                        None
                    }
                }
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(AssetRecord {
                    org: c.get("org").to_owned(),
                    kind,
                    identity: c.get("identity").to_owned(),
                    name: c.get("name").to_owned(),
                    tags: c
                        .get("tags")
                        .split(';')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    mlps_level: mlps,
                    critical_infrastructure: cii,
                    notes: c.get("notes").to_owned(),
                    software,
                    origin: c.origin.clone(),
                });
            }
        },
    );
    out
}

fn open(path: &Path) -> Result<std::io::BufReader<std::fs::File>, TransferError> {
    std::fs::File::open(path)
        .map(|f| std::io::BufReader::with_capacity(1 << 16, f))
        .map_err(|source| TransferError::Io {
            file: path.display().to_string(),
            source,
        })
}

/// Reads `orgs.csv` and/or `assets.csv` into one document, with every problem found in either file.
/// When there are problems the document holds the readable records, so references can still be checked
/// ([`crate::RegistryStore::check_import`]); it must not be imported.
pub fn read_csv_files(
    orgs: Option<&Path>,
    assets: Option<&Path>,
) -> Result<(RegistryDocument, Vec<ImportProblem>), TransferError> {
    let mut problems = Vec::new();
    let mut doc = RegistryDocument {
        version: 1,
        ..Default::default()
    };
    if let Some(p) = orgs {
        doc.orgs = read_orgs_csv(&p.display().to_string(), open(p)?, &mut problems);
    }
    if let Some(p) = assets {
        doc.assets = read_assets_csv(&p.display().to_string(), open(p)?, &mut problems);
    }
    Ok((doc, problems))
}

fn io_err(file: &str) -> impl Fn(csv::Error) -> TransferError + '_ {
    move |e| TransferError::Io {
        file: file.to_owned(),
        source: std::io::Error::other(e),
    }
}

/// Writes the orgs of `doc` as `orgs.csv`.
pub fn write_orgs_csv<W: Write>(
    file: &str,
    w: W,
    doc: &RegistryDocument,
) -> Result<(), TransferError> {
    let mut wr = csv::Writer::from_writer(w);
    wr.write_record(ORG_COLUMNS).map_err(io_err(file))?;
    for o in &doc.orgs {
        let cii = if o.critical_infrastructure {
            "true"
        } else {
            "false"
        };
        wr.write_record([
            o.code.as_str(),
            o.parent.as_deref().unwrap_or(""),
            &o.name,
            o.kind.as_str(),
            o.sector.as_str(),
            o.region_code.as_deref().unwrap_or(""),
            cii,
            &o.principal.name,
            &o.principal.phone,
            &o.principal.email,
            &o.security_officer.name,
            &o.security_officer.phone,
            &o.security_officer.email,
            &o.notes,
        ])
        .map_err(io_err(file))?;
    }
    wr.flush().map_err(|source| TransferError::Io {
        file: file.to_owned(),
        source,
    })
}

/// Writes the assets of `doc` as `assets.csv`.
pub fn write_assets_csv<W: Write>(
    file: &str,
    w: W,
    doc: &RegistryDocument,
) -> Result<(), TransferError> {
    let mut wr = csv::Writer::from_writer(w);
    wr.write_record(ASSET_COLUMNS).map_err(io_err(file))?;
    for a in &doc.assets {
        let sw = a
            .software
            .iter()
            .flatten()
            .map(|s| {
                let mut e = format!("{}|{}|{}", s.vendor, s.product, s.version);
                if let Some(c) = &s.cpe {
                    e.push('|');
                    e.push_str(c);
                }
                e
            })
            .collect::<Vec<_>>()
            .join(";");
        let level = a.mlps_level.map(|l| l.to_string()).unwrap_or_default();
        let cii = if a.critical_infrastructure {
            "true"
        } else {
            "false"
        };
        wr.write_record([
            a.org.as_str(),
            a.kind.as_str(),
            &a.identity,
            &a.name,
            &a.tags.join(";"),
            &level,
            cii,
            &a.notes,
            &sw,
        ])
        .map_err(io_err(file))?;
    }
    wr.flush().map_err(|source| TransferError::Io {
        file: file.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_cell_is_reported_with_line_and_column() {
        let text = "\u{feff}code,parent,name,kind,sector,critical_infrastructure,colour\n\
                    D,,东城区,district,government,yes,red\n\
                    T,D,乡,hamlet,mining,maybe,blue\n";
        let mut p = Vec::new();
        let orgs = read_orgs_csv("orgs.csv", text.as_bytes(), &mut p);
        let got: Vec<_> = p.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "colour"),
                (3, "kind"),
                (3, "sector"),
                (3, "critical_infrastructure")
            ]
        );
        assert_eq!(orgs.len(), 2);
        assert!(orgs[0].critical_infrastructure);
        assert!(
            p[1].to_string()
                .starts_with("orgs.csv:3: kind: unknown org kind \"hamlet\"")
        );
    }

    #[test]
    fn assets_with_software_round_trip() {
        let text = "org,kind,identity,tags,mlps_level,software\n\
                    D,website,https://a.cn/,gov;portal,3,Apache|httpd|2.4.49;nginx|nginx||cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*\n\
                    D,ip,10.0.0.1,,,\n";
        let mut p = Vec::new();
        let assets = read_assets_csv("assets.csv", text.as_bytes(), &mut p);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(assets[0].software.as_ref().unwrap().len(), 2);
        assert_eq!(
            assets[0].software.as_ref().unwrap()[1].cpe.as_deref(),
            Some("cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*")
        );
        assert_eq!(assets[1].software, Some(vec![]));
        let doc = RegistryDocument {
            version: 1,
            orgs: vec![],
            assets: assets.clone(),
        };
        let mut out = Vec::new();
        write_assets_csv("assets.csv", &mut out, &doc).unwrap();
        let again = read_assets_csv("assets.csv", out.as_slice(), &mut p);
        assert!(p.is_empty(), "{p:?}");
        let strip = |v: Vec<AssetRecord>| {
            v.into_iter()
                .map(|a| (a.identity, a.tags, a.software, a.mlps_level))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(again), strip(assets));
    }

    #[test]
    fn broken_software_cell_and_missing_columns() {
        let mut p = Vec::new();
        read_assets_csv(
            "a.csv",
            "org,kind,identity,software\nD,ip,1.1.1.1,justone\n".as_bytes(),
            &mut p,
        );
        assert_eq!((p[0].line, p[0].field.as_str()), (2, "software"));
        let mut p = Vec::new();
        read_assets_csv("a.csv", "org,identity\n".as_bytes(), &mut p);
        assert_eq!((p[0].line, p[0].field.as_str()), (1, "kind"));
    }
}
