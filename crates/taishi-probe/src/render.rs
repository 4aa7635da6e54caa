//! Optional rendering pass in headless Chromium (Debian's `chromium`): loads the page, runs its
//! scripts and returns the serialised DOM, so links written by obfuscated script are seen. The
//! process is bounded in time and output and killed when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// A headless browser binary with limits.
#[derive(Debug, Clone)]
pub struct Renderer {
    /// The browser executable.
    pub path: PathBuf,
    /// Time allowed for one page.
    pub timeout: Duration,
    /// Largest DOM accepted.
    pub max_bytes: usize,
}

static RUN: AtomicU64 = AtomicU64::new(0);

impl Renderer {
    /// Finds `chromium`, `chromium-browser` or `google-chrome` on PATH.
    pub fn detect() -> Option<Renderer> {
        let path = std::env::var_os("PATH")?;
        for dir in std::env::split_paths(&path) {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let p = dir.join(name);
                if p.is_file() {
                    return Some(Renderer {
                        path: p,
                        timeout: Duration::from_secs(20),
                        max_bytes: 4 * 1024 * 1024,
                    });
                }
            }
        }
        None
    }

    /// Loads `url` and returns the DOM after scripts ran.
    pub async fn dump_dom(&self, url: &url::Url) -> Result<String, String> {
        let profile = std::env::temp_dir().join(format!(
            "taishi-render-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = tokio::process::Command::new(&self.path)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-extensions",
                "--no-first-run",
                "--ignore-certificate-errors",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(url.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.path.display()))?;
        let mut stdout = child.stdout.take().ok_or("no stdout")?;
        let max = self.max_bytes;
        let read = async {
            let mut out = Vec::new();
            let mut buf = [0u8; 16384];
            loop {
                let n = stdout.read(&mut buf).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Ok(out);
                }
                if out.len() + n > max {
                    return Err(format!("rendered DOM exceeds {max} bytes"));
                }
                out.extend_from_slice(&buf[..n]);
            }
        };
        let result = match tokio::time::timeout(self.timeout, read).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "rendering took longer than {} s",
                self.timeout.as_secs()
            )),
        };
        let _ = child.kill().await;
        let _ = tokio::fs::remove_dir_all(&profile).await;
        result.map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}
