//! Finding the files to scan and loading rule files: the I/O that `taishi-sigma` leaves to its caller.

use std::path::{Path, PathBuf};

use taishi_sigma::{LoadOptions, LoadReport, Loader, Plan};

use crate::Error;

/// File name endings scanned when walking a folder (a file named on the command line is always read).
const LOG_ENDINGS: [&str; 9] = [
    ".evtx", ".json", ".jsonl", ".ndjson", ".log", ".zip", ".syslog", ".eve", ".txt",
];
/// Whole file names of common syslog files without an extension.
const LOG_NAMES: [&str; 5] = ["syslog", "messages", "secure", "auth", "kern"];

fn is_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_lowercase();
    LOG_ENDINGS.iter().any(|e| lower.ends_with(e)) || LOG_NAMES.contains(&lower.as_str())
}

fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        entries.push(entry.map_err(io)?.path());
    }
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, keep, out)?;
        } else if keep(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// The log files under `paths`: files as given, folders walked recursively for log-like names
/// (`.evtx`, `.json`, `.jsonl`, `.ndjson`, `.log`, `.zip`, `syslog`, …), in a stable order.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &is_log_name, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::Io {
                path: p.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            });
        }
    }
    out.dedup();
    Ok(out)
}

/// Reads every `.yml`/`.yaml` file under `dirs` (files may be named directly) and builds a plan.
/// Rules that fail to load are listed in the report; only unreadable files are an error.
pub fn load_rules(dirs: &[PathBuf], opts: LoadOptions) -> Result<(Plan, LoadReport), Error> {
    let mut files = Vec::new();
    let is_yaml = |p: &Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
    };
    for d in dirs {
        if d.is_dir() {
            walk(d, &is_yaml, &mut files)?;
        } else {
            files.push(d.clone());
        }
    }
    let mut loader = Loader::new(opts);
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|source| Error::Io {
            path: f.clone(),
            source,
        })?;
        loader.add_text(&f.display().to_string(), &text);
    }
    Ok(loader.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_for_log_names_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("a");
        std::fs::create_dir(&sub).expect("mkdir");
        for name in ["x.evtx", "a/y.JSONL", "a/notes.md", "a/messages", "z.yml"] {
            std::fs::write(dir.path().join(name), b"{}\n").expect("write");
        }
        let found =
            collect_inputs(&[dir.path().to_path_buf(), dir.path().join("z.yml")]).expect("walks");
        let names: Vec<_> = found
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .expect("under")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a/messages", "a/y.JSONL", "x.evtx", "z.yml"]);
        assert!(collect_inputs(&[dir.path().join("missing")]).is_err());
    }
}
