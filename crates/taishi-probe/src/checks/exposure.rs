//! Exposed sensitive paths, each verified by content or file signature, with a soft-404
//! baseline (a random path) so a site answering 200 to everything raises nothing.
//! Path lists follow projectdiscovery/nuclei-templates `http/exposures` (posture.md §7.1).

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::hash::{BuildHasher, Hasher};
use taishi_model::Severity;

use super::Env;
use crate::http::{HttpClient, Request, Response};
use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// Settings of the exposure check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ExposureConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Requests in flight per target (politeness).
    pub concurrency: usize,
}

impl Default for ExposureConfig {
    fn default() -> Self {
        ExposureConfig {
            schedule: Schedule::new(86_400, 120_000),
            concurrency: 4,
        }
    }
}

impl ExposureConfig {
    /// Builds the runtime check.
    pub fn build(&self, env: &Env) -> Exposure {
        Exposure {
            cfg: self.clone(),
            client: env.client.clone(),
        }
    }
}

/// The runtime exposure check.
#[derive(Debug)]
pub struct Exposure {
    cfg: ExposureConfig,
    client: HttpClient,
}

/// How a path's content is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Git config or HEAD.
    Git,
    /// Subversion metadata.
    Svn,
    /// dotenv with secrets.
    Env,
    /// macOS folder metadata.
    DsStore,
    /// Archive magic bytes.
    Archive,
    /// SQL dump text.
    SqlDump,
    /// phpinfo() output.
    PhpInfo,
    /// Apache server-status.
    ServerStatus,
    /// Autoindex listing.
    DirListing,
    /// An admin console login page.
    Admin,
}

const fn kind(
    id: &'static str,
    severity: Severity,
    zh: &'static str,
    en: &'static str,
    fix_zh: &'static str,
    fix_en: &'static str,
) -> FindingKind {
    FindingKind {
        id,
        severity,
        title_zh: zh,
        title_en: en,
        fix_zh,
        fix_en,
    }
}

/// The finding kind for each verifier.
pub fn kind_of(v: Verify) -> FindingKind {
    match v {
        Verify::Git => kind(
            "exposure.git",
            Severity::High,
            "Git 仓库元数据泄露",
            "Git repository metadata exposed",
            "禁止 Web 访问 .git 目录（或从站点目录删除），并轮换仓库中可能泄露的凭据。",
            "Block web access to .git (or remove it from the web root) and rotate any credentials in the repository.",
        ),
        Verify::Svn => kind(
            "exposure.svn",
            Severity::High,
            "SVN 元数据泄露",
            "Subversion metadata exposed",
            "禁止 Web 访问 .svn 目录或从站点目录删除。",
            "Block web access to .svn or remove it from the web root.",
        ),
        Verify::Env => kind(
            "exposure.env",
            Severity::High,
            ".env 配置文件泄露",
            ".env file exposed",
            "禁止访问 .env 文件并立即轮换其中的密钥与数据库口令。",
            "Block access to .env files and rotate the keys and database passwords they contain.",
        ),
        Verify::DsStore => kind(
            "exposure.ds_store",
            Severity::Low,
            ".DS_Store 文件泄露目录结构",
            ".DS_Store exposes the directory layout",
            "删除 .DS_Store 文件并禁止访问。",
            "Delete .DS_Store files and block access to them.",
        ),
        Verify::Archive => kind(
            "exposure.backup",
            Severity::High,
            "网站备份文件可下载",
            "Backup archive downloadable",
            "将备份移出 Web 目录，检查是否泄露源码与配置。",
            "Move backups out of the web root and review what source and configuration leaked.",
        ),
        Verify::SqlDump => kind(
            "exposure.db_dump",
            Severity::Critical,
            "数据库导出文件可下载",
            "Database dump downloadable",
            "立即删除数据库导出文件，评估数据泄露影响并按规定报告。",
            "Remove the dump now, assess the data exposure and report it as required.",
        ),
        Verify::PhpInfo => kind(
            "exposure.phpinfo",
            Severity::Medium,
            "phpinfo 页面泄露环境信息",
            "phpinfo page exposed",
            "删除 phpinfo 等调试页面。",
            "Remove phpinfo and other debug pages.",
        ),
        Verify::ServerStatus => kind(
            "exposure.server_status",
            Severity::Medium,
            "服务器状态页面对外开放",
            "Server status page exposed",
            "将 server-status 限制为仅内网或本机访问。",
            "Restrict server-status to localhost or the internal network.",
        ),
        Verify::DirListing => kind(
            "exposure.dir_listing",
            Severity::Medium,
            "开启目录浏览",
            "Directory listing enabled",
            "关闭 Web 服务器的目录浏览（如 Options -Indexes、autoindex off）。",
            "Disable directory listing (Options -Indexes, autoindex off).",
        ),
        Verify::Admin => kind(
            "exposure.admin_console",
            Severity::Medium,
            "管理后台对互联网开放",
            "Admin console reachable from the internet",
            "将管理后台限制为内网或 VPN 访问，并启用多因素认证。",
            "Restrict admin consoles to the internal network or VPN and require MFA.",
        ),
    }
}

/// The fixed path list; backups named after the domain are added per target.
pub const PATHS: &[(&str, Verify)] = &[
    ("/.git/config", Verify::Git),
    ("/.git/HEAD", Verify::Git),
    ("/.svn/entries", Verify::Svn),
    ("/.env", Verify::Env),
    ("/.env.bak", Verify::Env),
    ("/.env.local", Verify::Env),
    ("/.env.production", Verify::Env),
    ("/api/.env", Verify::Env),
    ("/.DS_Store", Verify::DsStore),
    ("/backup.zip", Verify::Archive),
    ("/www.zip", Verify::Archive),
    ("/wwwroot.zip", Verify::Archive),
    ("/web.tar.gz", Verify::Archive),
    ("/backup.tar.gz", Verify::Archive),
    ("/backup.sql", Verify::SqlDump),
    ("/db.sql", Verify::SqlDump),
    ("/dump.sql", Verify::SqlDump),
    ("/phpinfo.php", Verify::PhpInfo),
    ("/info.php", Verify::PhpInfo),
    ("/server-status", Verify::ServerStatus),
    ("/", Verify::DirListing),
    ("/uploads/", Verify::DirListing),
    ("/backup/", Verify::DirListing),
    ("/phpmyadmin/", Verify::Admin),
    ("/manager/html", Verify::Admin),
];

/// Whether `body` (with its response) proves the exposure `v`.
pub fn verify(v: Verify, resp: &Response) -> bool {
    let b = &resp.body;
    let text = String::from_utf8_lossy(&b[..b.len().min(64 * 1024)]);
    let html = text.trim_start().starts_with('<');
    match v {
        Verify::Git => {
            !html
                && (text.contains("[core]")
                    || text.starts_with("ref: refs/")
                    || (text.trim().len() == 40
                        && text.trim().chars().all(|c| c.is_ascii_hexdigit())))
        }
        Verify::Svn => {
            !html
                && (text.starts_with("8\n")
                    || text.starts_with("9\n")
                    || text.starts_with("10\n")
                    || text.starts_with("12\n"))
                && text.contains("dir")
        }
        Verify::Env => {
            !html
                && text.lines().any(|l| {
                    let l = l.trim();
                    [
                        "APP_KEY=",
                        "APP_NAME=",
                        "APP_ENV=",
                        "DB_PASSWORD=",
                        "DB_HOST=",
                        "DB_DATABASE=",
                        "SECRET_KEY=",
                        "AWS_SECRET_ACCESS_KEY=",
                    ]
                    .iter()
                    .any(|p| l.starts_with(p))
                })
        }
        Verify::DsStore => b.len() >= 8 && &b[4..8] == b"Bud1",
        Verify::Archive => {
            b.starts_with(b"PK\x03\x04")
                || b.starts_with(&[0x1f, 0x8b])
                || b.starts_with(b"7z\xbc\xaf")
                || b.starts_with(b"Rar!")
                || b.starts_with(b"SQLite format 3")
        }
        Verify::SqlDump => {
            !html
                && (text.contains("-- MySQL dump")
                    || text.contains("PostgreSQL database dump")
                    || (text.contains("CREATE TABLE") && text.contains("INSERT INTO")))
        }
        Verify::PhpInfo => {
            text.contains("PHP Version")
                && (text.contains("PHP Extension") || text.contains("phpinfo()"))
        }
        Verify::ServerStatus => {
            text.contains("Apache Server Status for") || text.contains("Server uptime")
        }
        Verify::DirListing => {
            text.contains("<title>Index of /")
                || text.contains("<h1>Index of /")
                || text.contains("Directory listing for /")
        }
        Verify::Admin => {
            text.contains("<title>phpMyAdmin")
                || text.contains("Tomcat Web Application Manager")
                || resp
                    .header("www-authenticate")
                    .is_some_and(|w| w.contains("Tomcat Manager"))
        }
    }
}

fn random_token() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

/// Whether a candidate response looks like the soft-404 baseline.
fn like_baseline(resp: &Response, base: Option<&Response>) -> bool {
    let Some(base) = base else { return false };
    if base.status != resp.status {
        return false;
    }
    if base.body == resp.body {
        return true;
    }
    let (a, b) = (
        String::from_utf8_lossy(&base.body),
        String::from_utf8_lossy(&resp.body),
    );
    a.len().abs_diff(b.len()) < a.len().max(1) / 10
        && similar::TextDiff::from_chars(a.as_ref(), b.as_ref()).ratio() > 0.9
}

impl Check for Exposure {
    fn id(&self) -> &'static str {
        "exposure"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            let start = self
                .client
                .follow(&Request::get(target.url.clone()))
                .await
                .map_err(|e| e.to_string())?;
            let base_url = start.last().url.clone();
            let token = random_token();
            let baseline = self
                .client
                .send(&Request::get(
                    base_url
                        .join(&format!("/taishi-{token}.html"))
                        .map_err(|e| e.to_string())?,
                ))
                .await
                .ok();
            let baseline_env = self
                .client
                .send(&Request::get(
                    base_url
                        .join(&format!("/.taishi-{token}"))
                        .map_err(|e| e.to_string())?,
                ))
                .await
                .ok();
            let soft404 = baseline.as_ref().is_some_and(|b| b.status == 200);
            let mut paths: Vec<(String, Verify)> =
                PATHS.iter().map(|(p, v)| (p.to_string(), *v)).collect();
            if let Some(d) = target.domain() {
                let short = d.trim_start_matches("www.");
                for name in [d, short] {
                    for ext in [".zip", ".tar.gz", ".rar"] {
                        paths.push((format!("/{name}{ext}"), Verify::Archive));
                    }
                    paths.push((format!("/{name}.sql"), Verify::SqlDump));
                }
                paths.dedup();
            }
            let client = &self.client;
            let results: Vec<_> = futures::stream::iter(paths.into_iter().map(|(p, v)| {
                let url = base_url.join(&p);
                async move {
                    let url = url.ok()?;
                    let resp = client.send(&Request::get(url)).await.ok()?;
                    Some((p, v, resp))
                }
            }))
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
            let mut findings = Vec::new();
            let mut checked = 0usize;
            let mut hits = Vec::new();
            for (path, v, resp) in results.into_iter().flatten() {
                checked += 1;
                if resp.status != 200 {
                    continue;
                }
                let base = if path.starts_with("/.") {
                    baseline_env.as_ref()
                } else {
                    baseline.as_ref()
                };
                if v != Verify::DirListing && like_baseline(&resp, base) {
                    continue;
                }
                if !verify(v, &resp) {
                    continue;
                }
                let k = kind_of(v);
                if findings
                    .iter()
                    .any(|f: &crate::model::ProbeFinding| f.check_id == k.id)
                {
                    continue;
                }
                let preview: String =
                    String::from_utf8_lossy(&resp.body[..resp.body.len().min(120)])
                        .chars()
                        .filter(|c| !c.is_control() || *c == '\n')
                        .collect();
                hits.push(path.clone());
                let text = format!(
                    "{} answered 200 and its content matches the {:?} signature",
                    resp.url, v
                );
                findings.push(k.finding(
                    target,
                    &path,
                    text,
                    json!({"url": resp.url.as_str(), "bytes": resp.body.len(), "preview": preview}),
                ));
            }
            findings.sort_by(|a, b| a.check_id.cmp(&b.check_id));
            Ok((
                json!({"paths_checked": checked, "soft_404": soft404, "hits": hits}),
                findings,
            ))
        })
    }
}
