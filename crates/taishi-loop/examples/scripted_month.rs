//! Runs the scripted month of loop activity (see `tests/common/month.rs`) against a fresh SQLite file
//! and writes the resulting bulletin as HTML, Markdown and CSV into the directory given (default `.`):
//!
//! ```text
//! cargo run -p taishi-loop --example scripted_month -- crates/taishi-loop/examples/bulletin
//! ```

#[path = "../tests/common/month.rs"]
#[allow(dead_code)]
mod month;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out)?;
    let dir = tempfile::tempdir()?;
    let store = taishi_store::open(&format!(
        "sqlite://{}",
        dir.path().join("month.db").display()
    ))
    .await?;
    let m = month::run(store).await;
    std::fs::write(out.join("bulletin-2026-11.html"), &m.bulletin.html)?;
    std::fs::write(out.join("bulletin-2026-11.md"), &m.bulletin.markdown)?;
    std::fs::write(out.join("bulletin-2026-11.csv"), &m.bulletin.csv)?;
    Ok(())
}
