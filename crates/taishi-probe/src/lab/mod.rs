//! The lab: a set of sites on 127.0.0.1 ephemeral ports, each showing one flaw or none, used by
//! `taishi lab`, by the tests and by the demo. Dropping the [`Lab`] stops every site.

pub mod certs;
pub mod dns;
pub mod pages;
pub mod server;

use rustls::ServerConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use certs::{CertFlaw, LabCa};
use pages::*;
use server::{Action, Front, Handler, LabRequest};

use crate::tlsraw::{TLS10, TLS11};

/// Errors starting the lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Binding a port failed.
    #[error("cannot bind a lab port on 127.0.0.1: {0}")]
    Bind(String),
    /// Making a certificate failed.
    #[error("cannot make a lab certificate: {0}")]
    Cert(String),
    /// Building a TLS server configuration failed.
    #[error("cannot configure lab TLS: {0}")]
    Tls(String),
}

/// One lab site.
#[derive(Debug, Clone)]
pub struct LabSite {
    /// Short stable name, e.g. `cert-expired`.
    pub name: &'static str,
    /// What is wrong with it, in English.
    pub flaw_en: &'static str,
    /// What is wrong with it, in Chinese.
    pub flaw_zh: &'static str,
    /// The target to probe (URL, or `127.0.0.1:port` for non-web services).
    pub target: String,
    /// Finding ids a probe of this site must raise (empty for the clean sites).
    pub expect: &'static [&'static str],
}

/// A running lab.
#[derive(Debug)]
pub struct Lab {
    /// The sites, in a stable order.
    pub sites: Vec<LabSite>,
    /// The lab CA in PEM: pass it as `--ca` so lab certificates are trusted.
    pub ca_pem: String,
    /// The lab's DNS server (zones `good.lab.test` and `weak.lab.test`), for `--dns`.
    pub dns: Option<std::net::SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
    /// Sockets that keep ports reserved (the refusing "down" site).
    _reserved: Vec<tokio::net::TcpSocket>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn respond(status: u16, headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> Action {
    Action::Respond {
        status,
        headers,
        body: body.into(),
    }
}

fn page(headers: Vec<(String, String)>, body: impl Into<Vec<u8>>) -> Action {
    respond(200, headers, body)
}

fn not_found() -> Action {
    respond(404, html_only(), "<html><body>404 Not Found</body></html>")
}

fn handler(f: impl Fn(&LabRequest) -> Action + Send + Sync + 'static) -> Handler {
    Arc::new(f)
}

fn tls_config(ca: &LabCa, flaw: CertFlaw) -> Result<Arc<ServerConfig>, LabError> {
    let (chain, key) = ca.leaf(flaw)?;
    let mut cfg = ServerConfig::builder_with_provider(crate::net::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| LabError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| LabError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

struct Builder {
    sites: Vec<LabSite>,
    tasks: Vec<JoinHandle<()>>,
}

impl Builder {
    async fn bind() -> Result<TcpListener, LabError> {
        TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| LabError::Bind(e.to_string()))
    }

    async fn add(
        &mut self,
        name: &'static str,
        flaw: (&'static str, &'static str),
        front: Front,
        h: Handler,
        expect: &'static [&'static str],
    ) -> Result<u16, LabError> {
        let listener = Self::bind().await?;
        let port = listener
            .local_addr()
            .map_err(|e| LabError::Bind(e.to_string()))?
            .port();
        let scheme = match front {
            Front::Plain => "http://",
            Front::Redis => "",
            _ => "https://",
        };
        let target = if scheme.is_empty() {
            format!("127.0.0.1:{port}")
        } else {
            format!("{scheme}127.0.0.1:{port}/")
        };
        self.tasks
            .push(tokio::spawn(server::serve(listener, front, h)));
        self.sites.push(LabSite {
            name,
            flaw_en: flaw.0,
            flaw_zh: flaw.1,
            target,
            expect,
        });
        Ok(port)
    }
}

impl Lab {
    /// Starts every lab site on 127.0.0.1 and returns once all are listening.
    pub async fn start() -> Result<Lab, LabError> {
        let ca = LabCa::new()?;
        let mut b = Builder {
            sites: Vec::new(),
            tasks: Vec::new(),
        };
        let tls = |flaw| tls_config(&ca, flaw);
        // The chain the hand-made legacy servers send after their ServerHello.
        let legacy_chain: Arc<Vec<Vec<u8>>> = Arc::new(
            ca.leaf(CertFlaw::None)?
                .0
                .iter()
                .map(|c| c.to_vec())
                .collect(),
        );
        let plain_ok = || handler(|_| page(html_only(), PORTAL));
        let hsts_page = || {
            let mut hs = html_only();
            hs.push((
                "Strict-Transport-Security".into(),
                "max-age=63072000".into(),
            ));
            handler(move |_| page(hs.clone(), PORTAL))
        };

        // The A+ site: HTTPS with every header, reached through an HTTP redirect.
        let good_tls = b
            .add(
                "good-https",
                (
                    "none: A+ headers, trusted certificate",
                    "无缺陷：安全头 A+，证书可信",
                ),
                Front::Tls(tls(CertFlaw::None)?),
                handler(|r| match r.path.as_str() {
                    "/app.js" => page(h(&[("Content-Type", "application/javascript")]), "void 0;"),
                    "/" | "/index.html" => page(good_headers(), good_page()),
                    _ => not_found(),
                }),
                &[],
            )
            .await?;
        let loc = format!("https://127.0.0.1:{good_tls}/");
        b.add(
            "good",
            (
                "none: redirects HTTP to the A+ HTTPS site",
                "无缺陷：HTTP 跳转到 HTTPS",
            ),
            Front::Plain,
            handler(move |_| respond(301, h(&[("Location", &loc)]), "")),
            &[],
        )
        .await?;
        b.add(
            "headers-missing",
            ("no security headers", "缺少安全响应头"),
            Front::Tls(tls(CertFlaw::None)?),
            handler(|_| page(html_only(), PORTAL)),
            &["headers.observatory", "headers.csp.missing"],
        )
        .await?;
        b.add(
            "headers-bad",
            ("weak security headers and cookies", "安全头配置不当"),
            Front::Tls(tls(CertFlaw::None)?),
            handler(|_| page(bad_headers(), bad_page())),
            &[
                "headers.observatory",
                "headers.csp.unsafe",
                "headers.hsts.short",
            ],
        )
        .await?;
        b.add(
            "plain-http",
            ("HTTP only, no HTTPS", "仅 HTTP，未启用 HTTPS"),
            Front::Plain,
            plain_ok(),
            &["availability.no_https"],
        )
        .await?;
        b.add(
            "cert-expired",
            ("expired certificate", "证书已过期"),
            Front::Tls(tls(CertFlaw::Expired)?),
            hsts_page(),
            &["tls.cert.expired"],
        )
        .await?;
        b.add(
            "cert-self-signed",
            ("self-signed certificate", "自签名证书"),
            Front::Tls(tls(CertFlaw::SelfSigned)?),
            hsts_page(),
            &["tls.cert.untrusted"],
        )
        .await?;
        b.add(
            "cert-wrong-host",
            ("certificate for another host", "证书域名不匹配"),
            Front::Tls(tls(CertFlaw::WrongHost)?),
            hsts_page(),
            &["tls.cert.name_mismatch"],
        )
        .await?;
        b.add(
            "cert-expiring",
            ("certificate expires in 10 days", "证书 10 天后到期"),
            Front::Tls(tls(CertFlaw::ExpiresIn(10))?),
            hsts_page(),
            &["tls.cert.expiring"],
        )
        .await?;
        b.add(
            "tls-legacy",
            (
                "accepts TLS 1.0 and 1.1 besides TLS 1.2/1.3",
                "仍接受 TLS 1.0/1.1",
            ),
            Front::Legacy {
                versions: &[TLS10, TLS11],
                suites: &[0xc013, 0xc014, 0x002f],
                weak12: &[],
                modern: Some(tls(CertFlaw::None)?),
                chain: legacy_chain.clone(),
            },
            hsts_page(),
            &["tls.protocol.tls10", "tls.protocol.tls11"],
        )
        .await?;
        b.add(
            "tls10-only",
            ("speaks only TLS 1.0", "仅支持 TLS 1.0"),
            Front::Legacy {
                versions: &[TLS10],
                suites: &[0x002f, 0x000a],
                weak12: &[],
                modern: None,
                chain: legacy_chain.clone(),
            },
            plain_ok(),
            &["tls.protocol.tls10", "tls.protocol.no_tls12"],
        )
        .await?;
        b.add(
            "hsts-preload",
            (
                "none: HSTS ready for the preload list",
                "无缺陷：HSTS 满足预加载条件",
            ),
            Front::Tls(tls(CertFlaw::None)?),
            handler(|_| {
                let mut hs = html_only();
                let v = "max-age=63072000; includeSubDomains; preload";
                hs.push(("Strict-Transport-Security".into(), v.into()));
                page(hs, PORTAL)
            }),
            &[],
        )
        .await?;
        b.add(
            "tls-sslv2",
            (
                "answers SSLv2 (fake SERVER-HELLO)",
                "接受 SSLv2（伪造的 SERVER-HELLO）",
            ),
            Front::Ssl2 {
                specs: &[0x01_00_80, 0x07_00_c0, 0x02_00_80],
                certificate: Arc::new(legacy_chain[0].clone()),
            },
            plain_ok(),
            &["tls.protocol.ssl2", "tls.protocol.no_tls12"],
        )
        .await?;
        b.add(
            "tls-weak-cipher",
            ("accepts RC4 and 3DES", "接受 RC4 与 3DES 弱密码套件"),
            Front::Legacy {
                versions: &[],
                suites: &[],
                weak12: &[0x0005, 0x000a, 0xc012],
                modern: Some(tls(CertFlaw::None)?),
                chain: legacy_chain.clone(),
            },
            hsts_page(),
            &["tls.cipher.rc4", "tls.cipher.3des"],
        )
        .await?;
        b.add(
            "content",
            (
                "none: the portal page (defacement baseline)",
                "无缺陷：门户页面（篡改基线）",
            ),
            Front::Plain,
            plain_ok(),
            &[],
        )
        .await?;
        b.add(
            "defaced",
            ("defaced home page", "首页被篡改"),
            Front::Plain,
            handler(|_| page(html_only(), DEFACED)),
            &["content.defacement.signature"],
        )
        .await?;
        b.add(
            "hidden-links",
            ("CSS-hidden gambling links", "CSS 隐藏的博彩暗链"),
            Front::Plain,
            handler(|_| page(html_only(), portal_with(HIDDEN_LINKS))),
            &["links.hidden"],
        )
        .await?;
        b.add(
            "script-links",
            ("links written by script", "脚本写入的暗链"),
            Front::Plain,
            handler(|_| {
                page(
                    html_only(),
                    portal_with(&format!("{SCRIPT_LINKS}{SCRIPT_LINKS_OBFUSCATED}")),
                )
            }),
            &["links.script"],
        )
        .await?;
        b.add(
            "cloaking",
            (
                "different content for search engines",
                "对搜索引擎展示不同内容（黑帽 SEO）",
            ),
            Front::Plain,
            handler(|r| {
                let ua = r.user_agent.to_ascii_lowercase();
                let rf = r.referer.to_ascii_lowercase();
                if ua.contains("baiduspider")
                    || ua.contains("googlebot")
                    || rf.contains("baidu.com")
                {
                    page(html_only(), CLOAKED)
                } else {
                    page(html_only(), PORTAL)
                }
            }),
            &["links.cloaking"],
        )
        .await?;
        b.add(
            "exposed-files",
            (
                "exposed .git, .env, phpinfo and a backup",
                "泄露 .git、.env、phpinfo 与备份文件",
            ),
            Front::Plain,
            handler(|r| match r.path.as_str() {
                "/" => page(html_only(), PORTAL),
                "/.git/config" => page(h(&[("Content-Type", "text/plain")]), GIT_CONFIG),
                "/.git/HEAD" => page(
                    h(&[("Content-Type", "text/plain")]),
                    "ref: refs/heads/master\n",
                ),
                "/.env" => page(h(&[("Content-Type", "text/plain")]), DOT_ENV),
                "/phpinfo.php" => page(html_only(), PHPINFO),
                "/backup.zip" => page(
                    h(&[("Content-Type", "application/zip")]),
                    b"PK\x03\x04\x14\x00\x00\x00\x08\x00backup/index.php".to_vec(),
                ),
                _ => not_found(),
            }),
            &[
                "exposure.git",
                "exposure.env",
                "exposure.phpinfo",
                "exposure.backup",
            ],
        )
        .await?;
        b.add(
            "soft-404",
            ("answers 200 to every path", "所有路径均返回 200（软 404）"),
            Front::Plain,
            handler(|_| page(html_only(), SOFT_404)),
            &[],
        )
        .await?;
        b.add(
            "dir-listing",
            ("directory listing enabled", "开启目录浏览"),
            Front::Plain,
            handler(|_| page(html_only(), DIR_LISTING)),
            &["exposure.dir_listing"],
        )
        .await?;
        b.add(
            "old-software",
            ("discloses outdated software versions", "暴露过时软件版本"),
            Front::Plain,
            handler(|_| {
                let hs = h(&[
                    ("Content-Type", "text/html"),
                    ("Server", "Apache/2.4.49 (Unix)"),
                    ("X-Powered-By", "PHP/7.4.3"),
                ]);
                page(
                    hs,
                    PORTAL.replace(
                        "<title>",
                        "<meta name=\"generator\" content=\"WordPress 5.8.1\"><title>",
                    ),
                )
            }),
            &["fingerprint.version_disclosed"],
        )
        .await?;
        b.add(
            "redis",
            ("Redis open without authentication", "Redis 未授权开放"),
            Front::Redis,
            handler(|_| not_found()),
            &["port.open.redis"],
        )
        .await?;
        b.add(
            "slow",
            ("answers after 3.5 s", "响应缓慢（3.5 秒）"),
            Front::Plain,
            handler(|_| {
                Action::Delay(
                    Duration::from_millis(3500),
                    Box::new(page(html_only(), PORTAL)),
                )
            }),
            &["availability.slow"],
        )
        .await?;
        let counter = Arc::new(AtomicU64::new(0));
        b.add(
            "flapping",
            ("fails every other request", "间歇性故障（每隔一次失败）"),
            Front::Plain,
            handler(move |_| {
                if counter.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
                    respond(503, html_only(), "<html><body>503</body></html>")
                } else {
                    page(html_only(), PORTAL)
                }
            }),
            &["availability.flapping"],
        )
        .await?;
        // Bound but never listening: the port stays ours and every connect is refused.
        let down = tokio::net::TcpSocket::new_v4().map_err(|e| LabError::Bind(e.to_string()))?;
        down.bind("127.0.0.1:0".parse().expect("static address"))
            .map_err(|e| LabError::Bind(e.to_string()))?;
        let down_port = down
            .local_addr()
            .map_err(|e| LabError::Bind(e.to_string()))?
            .port();
        b.sites.push(LabSite {
            name: "down",
            flaw_en: "nothing listens",
            flaw_zh: "站点不可达",
            target: format!("http://127.0.0.1:{down_port}/"),
            expect: &["availability.down"],
        });
        b.add(
            "hostile-slow-drip",
            ("sends one byte every 300 ms", "慢速滴漏响应"),
            Front::Plain,
            handler(|_| Action::SlowDrip),
            &[],
        )
        .await?;
        b.add(
            "hostile-endless",
            ("endless body", "无限长响应体"),
            Front::Plain,
            handler(|_| Action::Endless),
            &[],
        )
        .await?;
        b.add(
            "hostile-huge-headers",
            ("2 MiB of headers", "超大响应头"),
            Front::Plain,
            handler(|_| Action::HugeHeaders),
            &[],
        )
        .await?;
        b.add(
            "hostile-garbage-tls",
            ("answers TLS with garbage", "返回非 TLS 垃圾数据"),
            Front::GarbageTls,
            handler(|_| not_found()),
            &[],
        )
        .await?;
        b.add(
            "hostile-redirect-loop",
            ("redirects in a loop", "重定向循环"),
            Front::Plain,
            handler(|r| {
                let next = if r.path == "/a" { "/b" } else { "/a" };
                respond(302, h(&[("Location", next)]), "")
            }),
            &[],
        )
        .await?;
        let (dns_addr, dns_task) = dns::start().await?;
        b.tasks.push(dns_task);
        Ok(Lab {
            sites: b.sites,
            ca_pem: ca.pem.clone(),
            dns: Some(dns_addr),
            tasks: b.tasks,
            _reserved: vec![down],
        })
    }

    /// The site named `name`.
    pub fn site(&self, name: &str) -> Option<&LabSite> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// `n` web sites for the benchmark (portal, hidden links, exposed files, soft 404, and every
    /// fifth an A+ HTTPS site); every site is its own listener.
    pub async fn start_many(n: usize) -> Result<Lab, LabError> {
        let ca = LabCa::new()?;
        // One certificate for every HTTPS bench site (certificates are not what is measured).
        let tls = tls_config(&ca, CertFlaw::None)?;
        let mut b = Builder {
            sites: Vec::with_capacity(n),
            tasks: Vec::with_capacity(n),
        };
        for i in 0..n {
            let (front, h) = match i % 5 {
                0 => (Front::Plain, handler(|_| page(good_headers(), PORTAL))),
                1 => (
                    Front::Plain,
                    handler(|_| page(html_only(), portal_with(HIDDEN_LINKS))),
                ),
                2 => (
                    Front::Plain,
                    handler(|r| match r.path.as_str() {
                        "/" => page(html_only(), PORTAL),
                        "/.env" => page(h(&[("Content-Type", "text/plain")]), DOT_ENV),
                        _ => not_found(),
                    }),
                ),
                3 => (Front::Plain, handler(|_| page(html_only(), SOFT_404))),
                _ => (
                    Front::Tls(tls.clone()),
                    handler(|_| page(good_headers(), good_page())),
                ),
            };
            b.add("bench", ("benchmark site", "基准站点"), front, h, &[])
                .await?;
        }
        Ok(Lab {
            sites: b.sites,
            ca_pem: ca.pem.clone(),
            dns: None,
            tasks: b.tasks,
            _reserved: Vec::new(),
        })
    }
}
