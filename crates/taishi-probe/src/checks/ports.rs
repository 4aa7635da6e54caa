//! Risky open ports on host and IP targets: TCP connect to a configurable list with bounded
//! concurrency per target, then a safe banner grab (no writes beyond a harmless request) to
//! confirm the service. List after CISA CyHy `RISKY_SERVICES_MAP` and Shadowserver (posture.md §7.2).

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use taishi_model::Severity;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::model::{BoxFuture, Check, CheckOutput, FindingKind, Schedule};
use crate::target::Target;

/// A port and the service expected there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    /// TCP port.
    pub port: u16,
    /// Service name (`redis`, `rdp`, …).
    pub service: String,
}

/// Settings of the ports check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PortsConfig {
    /// Interval and timeout.
    pub schedule: Schedule,
    /// Ports to try.
    pub ports: Vec<PortSpec>,
    /// Connections in flight per target.
    pub concurrency: usize,
    /// Connect timeout in milliseconds.
    pub connect_timeout_ms: u64,
    /// Also scan targets given as URLs (by default only bare hosts and IPs).
    pub scan_url_targets: bool,
}

impl Default for PortsConfig {
    fn default() -> Self {
        let list: &[(u16, &str)] = &[
            (21, "ftp"),
            (23, "telnet"),
            (135, "msrpc"),
            (139, "netbios"),
            (389, "ldap"),
            (445, "smb"),
            (1433, "mssql"),
            (2375, "docker"),
            (3306, "mysql"),
            (3389, "rdp"),
            (5432, "postgresql"),
            (5900, "vnc"),
            (6379, "redis"),
            (9200, "elasticsearch"),
            (11211, "memcached"),
            (27017, "mongodb"),
        ];
        PortsConfig {
            schedule: Schedule::new(604_800, 60_000),
            ports: list
                .iter()
                .map(|(p, s)| PortSpec {
                    port: *p,
                    service: s.to_string(),
                })
                .collect(),
            concurrency: 8,
            connect_timeout_ms: 1_500,
            scan_url_targets: false,
        }
    }
}

impl PortsConfig {
    /// Builds the runtime check.
    pub fn build(&self) -> Result<Ports, super::ConfigError> {
        if self.concurrency == 0 {
            return Err(super::ConfigError::Invalid {
                check: "ports",
                reason: "concurrency must be at least 1".into(),
            });
        }
        Ok(Ports { cfg: self.clone() })
    }
}

/// The runtime ports check.
#[derive(Debug)]
pub struct Ports {
    cfg: PortsConfig,
}

/// Severity and text per service.
pub fn service_kind(service: &str) -> FindingKind {
    let (sev, zh, en): (Severity, &'static str, &'static str) = match service {
        "redis" => (
            Severity::Critical,
            "Redis 服务对外开放且无需认证",
            "Redis reachable without authentication",
        ),
        "memcached" => (
            Severity::High,
            "Memcached 服务对外开放",
            "Memcached reachable",
        ),
        "mongodb" => (Severity::High, "MongoDB 服务对外开放", "MongoDB reachable"),
        "elasticsearch" => (
            Severity::High,
            "Elasticsearch 服务对外开放",
            "Elasticsearch reachable",
        ),
        "docker" => (
            Severity::Critical,
            "Docker API 对外开放",
            "Docker API reachable",
        ),
        "rdp" => (Severity::High, "远程桌面（RDP）对外开放", "RDP reachable"),
        "smb" | "netbios" | "msrpc" => (
            Severity::High,
            "Windows 文件共享/RPC 端口对外开放",
            "SMB/NetBIOS/RPC reachable",
        ),
        "telnet" => (
            Severity::High,
            "Telnet 明文管理服务对外开放",
            "Telnet reachable",
        ),
        "vnc" => (Severity::High, "VNC 远程控制对外开放", "VNC reachable"),
        "ftp" => (Severity::Medium, "FTP 服务对外开放", "FTP reachable"),
        "ldap" => (Severity::Medium, "LDAP 服务对外开放", "LDAP reachable"),
        "mysql" | "postgresql" | "mssql" => (
            Severity::Medium,
            "数据库端口对外开放",
            "Database port reachable",
        ),
        _ => (Severity::Low, "高风险端口对外开放", "Risky port reachable"),
    };
    let id: &'static str = match service {
        "redis" => "port.open.redis",
        "memcached" => "port.open.memcached",
        "mongodb" => "port.open.mongodb",
        "elasticsearch" => "port.open.elasticsearch",
        "docker" => "port.open.docker",
        "rdp" => "port.open.rdp",
        "smb" | "netbios" | "msrpc" => "port.open.smb",
        "telnet" => "port.open.telnet",
        "vnc" => "port.open.vnc",
        "ftp" => "port.open.ftp",
        "ldap" => "port.open.ldap",
        "mysql" | "postgresql" | "mssql" => "port.open.database",
        _ => "port.open.other",
    };
    FindingKind {
        id,
        severity: sev,
        title_zh: zh,
        title_en: en,
        fix_zh: "通过防火墙或安全组禁止互联网访问该端口，仅允许必要来源；启用认证并更新软件。",
        fix_en: "Block the port from the internet with a firewall or security group, allow only needed sources, require authentication and update.",
    }
}

/// Reads up to 512 bytes within `t`.
async fn read_some(s: &mut TcpStream, t: Duration) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    match tokio::time::timeout(t, s.read(&mut buf)).await {
        Ok(Ok(n)) => {
            buf.truncate(n);
            buf
        }
        _ => Vec::new(),
    }
}

/// Confirms the service with a harmless exchange; returns (identified service, banner).
pub async fn grab(mut s: TcpStream, expected: &str, t: Duration) -> (Option<String>, String) {
    let text = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(160)
            .collect::<String>()
    };
    // Services that speak first.
    let banner = read_some(&mut s, Duration::from_millis(400).min(t)).await;
    if !banner.is_empty() {
        let b = text(&banner);
        let id = if b.starts_with("220") {
            "ftp"
        } else if b.starts_with("RFB ") {
            "vnc"
        } else if banner.len() > 5 && banner[4] == 10 {
            "mysql"
        } else if banner.first() == Some(&0xff) {
            "telnet"
        } else {
            expected
        };
        return (Some(id.to_string()), b);
    }
    let (probe, want): (&[u8], &str) = match expected {
        "memcached" => (b"version\r\n", "VERSION"),
        "elasticsearch" => (b"GET / HTTP/1.0\r\n\r\n", "cluster_name"),
        "docker" => (b"GET /version HTTP/1.0\r\n\r\n", "ApiVersion"),
        "postgresql" => (&[0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f], ""),
        _ => (b"PING\r\n", "+PONG"),
    };
    if s.write_all(probe).await.is_err() {
        return (None, String::new());
    }
    let answer = read_some(&mut s, t).await;
    let b = text(&answer);
    if expected == "postgresql" {
        return (
            matches!(answer.first(), Some(b'S' | b'N')).then(|| "postgresql".to_string()),
            b,
        );
    }
    if b.contains("+PONG") {
        return (Some("redis".into()), b);
    }
    if b.starts_with("-NOAUTH") {
        return (Some("redis-auth".into()), b);
    }
    (
        (!want.is_empty() && b.contains(want)).then(|| expected.to_string()),
        b,
    )
}

impl Check for Ports {
    fn id(&self) -> &'static str {
        "ports"
    }

    fn schedule(&self) -> Schedule {
        self.cfg.schedule
    }

    fn execute<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, CheckOutput> {
        Box::pin(async move {
            if !target.bare_host && !self.cfg.scan_url_targets {
                return Ok((
                    json!({"skipped": "URL target; ports are scanned on host and IP assets"}),
                    Vec::new(),
                ));
            }
            let mut specs = self.cfg.ports.clone();
            if target.bare_host
                && let Some(p) = target.url.port()
                && !specs.iter().any(|s| s.port == p)
            {
                specs.push(PortSpec {
                    port: p,
                    service: "unknown".into(),
                });
            }
            let t = Duration::from_millis(self.cfg.connect_timeout_ms);
            let host = target.host.clone();
            let results: Vec<_> = futures::stream::iter(specs.into_iter().map(|spec| {
                let host = host.clone();
                async move {
                    let (s, _) = crate::net::connect(&host, spec.port, t).await.ok()?;
                    let (id, banner) = grab(s, &spec.service, t).await;
                    Some((spec, id, banner))
                }
            }))
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
            let mut open = Vec::new();
            let mut findings = Vec::new();
            for (spec, id, banner) in results.into_iter().flatten() {
                open.push(json!({"port": spec.port, "expected": spec.service, "identified": id, "banner": banner}));
                let service = match id.as_deref() {
                    Some("redis-auth") => continue,
                    Some(s) => s.to_string(),
                    None if spec.service != "unknown" => spec.service.clone(),
                    None => continue,
                };
                let k = service_kind(&service);
                let text = format!(
                    "{}:{} open, {} (banner {:?})",
                    target.host,
                    spec.port,
                    if id.is_some() {
                        format!("confirmed {service}")
                    } else {
                        "not confirmed".to_string()
                    },
                    banner
                );
                findings.push(k.finding(target, &spec.port.to_string(), text, json!({"port": spec.port, "service": service, "confirmed": id.is_some(), "banner": banner})));
            }
            findings.sort_by(|a, b| a.key.cmp(&b.key));
            Ok((json!({"open": open}), findings))
        })
    }
}
