//! Configuration of the commands that open the store or serve HTTP: built-in defaults, then a TOML file
//! (`--config` / `TAISHI_CONFIG`), then `TAISHI_*` environment variables, then flags — later wins.
//! clap reads flags and their `TAISHI_*` variables together, so the file only fills what both left open.
//!
//! Every key of the file (all optional):
//!
//! ```toml
//! data_dir = "/var/lib/taishi"                 # TAISHI_DATA_DIR       --data-dir
//! store = "sqlite:///var/lib/taishi/taishi.db" # TAISHI_STORE          --store (or postgres://…)
//! listen = "127.0.0.1:8080"                    # TAISHI_LISTEN         --listen
//! tls_cert = "/etc/taishi/cert.pem"            # TAISHI_TLS_CERT       --tls-cert
//! tls_key = "/etc/taishi/key.pem"              # TAISHI_TLS_KEY        --tls-key
//! session_hours = 12                           # TAISHI_SESSION_HOURS
//! body_limit_kib = 1024                        # TAISHI_BODY_LIMIT_KIB
//! secure_cookies = false                       # TAISHI_SECURE_COOKIES (forced on under TLS)
//! log_format = "text"                          # TAISHI_LOG_FORMAT     (text or json)
//! trusted_proxies = ["10.0.0.0/8"]             # TAISHI_TRUSTED_PROXIES --trusted-proxies (comma-separated)
//! policy_file = "/etc/taishi/policy.toml"      # TAISHI_POLICY_FILE    --policy-file (deadline policy)
//! indicators_file = "/etc/taishi/ind.toml"     # TAISHI_INDICATORS_FILE --indicators-file (indicator system)
//! channels_file = "/etc/taishi/channels.toml"  # TAISHI_CHANNELS_FILE  --channels-file (notification channels)
//!
//! [bulletins]                                  # scheduled bulletins (常态化通报); none without the table
//! roots = ["authority"]                        # org codes whose subtrees get one
//! periods = ["month", "quarter"]               # month, quarter, year [default: month]
//! delay_hours = 8                              # after the period ends (local): the 1st at 08:00
//! formats = ["html", "md", "csv"]              # [default: all three]
//! check_every_secs = 300                       # how often serve checks what is due
//! ```

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use taishi_server::auth::proxy::TrustedProxies;

/// Flags shared by every command that opens the store. Subcommands flatten this.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see the keys in the README).
    #[arg(
        long,
        short = 'c',
        env = "TAISHI_CONFIG",
        value_name = "FILE",
        global = true
    )]
    pub config: Option<PathBuf>,
    /// Data directory; the SQLite file lives here [default: ./taishi-data].
    #[arg(long, env = "TAISHI_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Store: sqlite://PATH or postgres://USER@HOST:PORT/DB [default: sqlite://DATA_DIR/taishi.db].
    #[arg(long, env = "TAISHI_STORE", value_name = "URL", global = true)]
    pub store: Option<String>,
}

/// Flags of `taishi serve` that override the file.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeFlags {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TAISHI_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(
        long,
        env = "TAISHI_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(
        long,
        env = "TAISHI_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// How long a login session lasts, in hours [default: 12].
    #[arg(long, env = "TAISHI_SESSION_HOURS", value_name = "HOURS")]
    pub session_hours: Option<u32>,
    /// Largest accepted request body in KiB [default: 1024].
    #[arg(long, env = "TAISHI_BODY_LIMIT_KIB", value_name = "KIB")]
    pub body_limit_kib: Option<usize>,
    /// Mark cookies Secure even without TLS here (behind a TLS-terminating proxy).
    #[arg(long, env = "TAISHI_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "TAISHI_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Reverse proxies (CIDR networks or addresses, comma-separated) whose X-Forwarded-For names the
    /// client for the login limiter; from anyone else the header is ignored [default: none].
    #[arg(long, env = "TAISHI_TRUSTED_PROXIES", value_name = "CIDR,...")]
    pub trusted_proxies: Option<TrustedProxies>,
    /// Deadline policy file (TOML, as `taishi report --policy`) [default: the built-in policy].
    #[arg(long, env = "TAISHI_POLICY_FILE", value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
    /// Indicator system file (TOML, as `taishi report --indicators`) [default: built-in].
    #[arg(long, env = "TAISHI_INDICATORS_FILE", value_name = "FILE")]
    pub indicators_file: Option<PathBuf>,
    /// Notification channels file (TOML: `[smtp]`, `[[webhooks]]`, …) [default: none].
    #[arg(long, env = "TAISHI_CHANNELS_FILE", value_name = "FILE")]
    pub channels_file: Option<PathBuf>,
}

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

/// The configuration file; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    data_dir: Option<PathBuf>,
    store: Option<String>,
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    session_hours: Option<u32>,
    body_limit_kib: Option<usize>,
    secure_cookies: Option<bool>,
    log_format: Option<LogFormat>,
    trusted_proxies: Option<Vec<String>>,
    bulletins: Option<taishi_loop::bulletin::BulletinSchedule>,
    policy_file: Option<PathBuf>,
    indicators_file: Option<PathBuf>,
    channels_file: Option<PathBuf>,
}

impl FileConfig {
    /// Reads and parses `path`; errors name the file and the bad key.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {}", path.display()))
    }
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Store URL.
    pub store: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Certificate and key, when serving HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Session lifetime in hours.
    pub session_hours: u32,
    /// Body limit in KiB.
    pub body_limit_kib: usize,
    /// Secure cookies.
    pub secure_cookies: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: TrustedProxies,
    /// The schedule of routine bulletins, if the file has a `[bulletins]` table.
    pub bulletins: Option<taishi_loop::bulletin::BulletinSchedule>,
    /// The deadline policy of `policy_file`, if set.
    pub policy: Option<taishi_loop::LoopPolicy>,
    /// The indicator system of `indicators_file`, if set.
    pub indicators: Option<taishi_loop::score::IndicatorSystem>,
    /// The notification channels of `channels_file`, if set.
    pub channels: Option<taishi_loop::notify::NotifyConfig>,
}

/// Reads a file a config key names; errors name the key and the file.
fn read_keyed(key: &str, path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{key} {}", path.display()))
}

impl Settings {
    /// Resolves the settings of a command that only opens the store.
    pub fn for_store(args: &ConfigArgs) -> anyhow::Result<Self> {
        Self::resolve(args, &ServeFlags::default())
    }

    /// Resolves all settings: flags and environment first, then the file, then defaults.
    pub fn resolve(args: &ConfigArgs, serve: &ServeFlags) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("taishi-data"));
        let store = match args.store.clone().or(file.store) {
            Some(s) => s,
            None => format!("sqlite://{}", data_dir.join("taishi.db").display()),
        };
        let tls = match (
            serve.tls_cert.clone().or(file.tls_cert),
            serve.tls_key.clone().or(file.tls_key),
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => bail!("TLS needs both a certificate (tls_cert) and a key (tls_key)"),
        };
        let session_hours = serve.session_hours.or(file.session_hours).unwrap_or(12);
        if !(1..=24 * 30).contains(&session_hours) {
            bail!("session_hours must be 1 to 720, got {session_hours}");
        }
        let body_limit_kib = serve.body_limit_kib.or(file.body_limit_kib).unwrap_or(1024);
        if body_limit_kib == 0 {
            bail!("body_limit_kib must be at least 1");
        }
        let trusted_proxies = match (serve.trusted_proxies.clone(), file.trusted_proxies) {
            (Some(t), _) => t,
            (None, Some(list)) => TrustedProxies::parse(&list).with_context(|| {
                let file = args.config.as_deref().unwrap_or(Path::new("?"));
                format!("config {}", file.display())
            })?,
            (None, None) => TrustedProxies::default(),
        };
        if let Some(b) = &file.bulletins {
            b.validate().with_context(|| {
                let file = args.config.as_deref().unwrap_or(Path::new("?"));
                format!("config {}", file.display())
            })?;
        }
        let origin = |p: &Path| p.display().to_string();
        let policy = match serve.policy_file.clone().or(file.policy_file) {
            Some(p) => Some(taishi_loop::LoopPolicy::from_toml(
                &read_keyed("policy_file", &p)?,
                &origin(&p),
            )?),
            None => None,
        };
        let indicators = match serve.indicators_file.clone().or(file.indicators_file) {
            Some(p) => Some(taishi_loop::score::IndicatorSystem::from_toml(
                &read_keyed("indicators_file", &p)?,
                &origin(&p),
            )?),
            None => None,
        };
        let channels = match serve.channels_file.clone().or(file.channels_file) {
            Some(p) => Some(
                toml::from_str(&read_keyed("channels_file", &p)?)
                    .with_context(|| format!("channels_file {}", p.display()))?,
            ),
            None => None,
        };
        Ok(Settings {
            policy,
            indicators,
            channels,
            bulletins: file.bulletins,
            trusted_proxies,
            data_dir,
            store,
            listen: serve
                .listen
                .or(file.listen)
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            secure_cookies: tls.is_some()
                || serve
                    .secure_cookies
                    .or(file.secure_cookies)
                    .unwrap_or(false),
            tls,
            session_hours,
            body_limit_kib,
            log_format: serve.log_format.or(file.log_format).unwrap_or_default(),
        })
    }

    /// The store URL with any password replaced by `***`, for printing.
    pub fn store_redacted(&self) -> String {
        redact(&self.store)
    }

    /// Creates the data directory, and the SQLite file's folder when the store is a file elsewhere.
    pub fn prepare_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        if self.store.starts_with("sqlite:") {
            let path = self
                .store
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
        }
        Ok(())
    }
}

/// Hides the password of `scheme://user:password@host/…`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::resolve(&ConfigArgs::default(), &ServeFlags::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.store, "sqlite://taishi-data/taishi.db");
        assert!(!s.secure_cookies && s.tls.is_none());

        let f = dir.path().join("taishi.toml");
        std::fs::write(
            &f,
            "data_dir = \"/srv/t\"\nlisten = \"0.0.0.0:9000\"\nsession_hours = 2\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config: Some(f.clone()),
            ..ConfigArgs::default()
        };
        let s = Settings::resolve(&args, &ServeFlags::default()).unwrap();
        assert_eq!(s.store, "sqlite:///srv/t/taishi.db");
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.session_hours, 2);

        let args = ConfigArgs {
            config: Some(f),
            store: Some("postgres://u:pw@h/db".into()),
            ..ConfigArgs::default()
        };
        let flags = ServeFlags {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            ..ServeFlags::default()
        };
        let s = Settings::resolve(&args, &flags).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:1");
        assert_eq!(s.store_redacted(), "postgres://u:***@h/db");
    }

    #[test]
    fn bad_files_name_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:8080\"\ncolour = \"red\"\n").unwrap();
        let args = ConfigArgs {
            config: Some(f),
            ..ConfigArgs::default()
        };
        let e = format!(
            "{:#}",
            Settings::resolve(&args, &ServeFlags::default()).unwrap_err()
        );
        assert!(e.contains("bad.toml") && e.contains("colour"), "{e}");
        let flags = ServeFlags {
            tls_cert: Some("c.pem".into()),
            ..ServeFlags::default()
        };
        assert!(Settings::resolve(&ConfigArgs::default(), &flags).is_err());
    }

    #[test]
    fn trusted_proxies_from_file_and_flag() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]\n").unwrap();
        let args = ConfigArgs {
            config: Some(f.clone()),
            ..ConfigArgs::default()
        };
        let s = Settings::resolve(&args, &ServeFlags::default()).unwrap();
        assert_eq!(s.trusted_proxies.to_string(), "10.0.0.0/8,192.0.2.7/32");
        let flags = ServeFlags {
            trusted_proxies: Some("fd00::/8".parse().unwrap()),
            ..ServeFlags::default()
        };
        let s = Settings::resolve(&args, &flags).unwrap();
        assert_eq!(s.trusted_proxies.to_string(), "fd00::/8", "the flag wins");
        let none = Settings::resolve(&ConfigArgs::default(), &ServeFlags::default()).unwrap();
        assert!(none.trusted_proxies.is_empty());

        std::fs::write(&f, "trusted_proxies = [\"proxy.local\"]\n").unwrap();
        let e = format!(
            "{:#}",
            Settings::resolve(&args, &ServeFlags::default()).unwrap_err()
        );
        assert!(
            e.contains("p.toml") && e.contains("trusted_proxies") && e.contains("proxy.local"),
            "{e}"
        );
    }

    #[test]
    fn loop_files_from_the_file_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let policy = w("policy.toml", "ack_workdays = 4\n");
        let channels = w("channels.toml", "analyst_emails = [\"soc@example.cn\"]\n");
        let conf = w(
            "taishi.toml",
            &format!(
                "policy_file = {:?}\nchannels_file = {:?}\n",
                policy.display().to_string(),
                channels.display().to_string()
            ),
        );
        let args = ConfigArgs {
            config: Some(conf.clone()),
            ..ConfigArgs::default()
        };
        let s = Settings::resolve(&args, &ServeFlags::default()).unwrap();
        assert_eq!(s.policy.unwrap().ack_workdays, 4);
        assert_eq!(s.channels.unwrap().analyst_emails, ["soc@example.cn"]);
        assert!(s.indicators.is_none());
        // The flag (or its TAISHI_* variable) wins over the file.
        let other = w("policy2.toml", "ack_workdays = 1\n");
        let flags = ServeFlags {
            policy_file: Some(other),
            ..ServeFlags::default()
        };
        assert_eq!(
            Settings::resolve(&args, &flags)
                .unwrap()
                .policy
                .unwrap()
                .ack_workdays,
            1
        );
        // Errors name the file and the line.
        let bad = w("bad.toml", "ack_workdays = 1\nack_workday = 2\n");
        for flags in [
            ServeFlags {
                policy_file: Some(bad.clone()),
                ..ServeFlags::default()
            },
            ServeFlags {
                indicators_file: Some(bad.clone()),
                ..ServeFlags::default()
            },
            ServeFlags {
                channels_file: Some(bad.clone()),
                ..ServeFlags::default()
            },
        ] {
            let err = format!("{:#}", Settings::resolve(&args, &flags).unwrap_err());
            assert!(
                err.contains("bad.toml") && err.contains("at line "),
                "{err}"
            );
        }
        let missing = ServeFlags {
            indicators_file: Some(dir.path().join("nope.toml")),
            ..ServeFlags::default()
        };
        let err = format!("{:#}", Settings::resolve(&args, &missing).unwrap_err());
        assert!(
            err.contains("indicators_file") && err.contains("nope.toml"),
            "{err}"
        );
    }

    #[test]
    fn bulletin_schedule_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("b.toml");
        let args = ConfigArgs {
            config: Some(f.clone()),
            ..ConfigArgs::default()
        };
        std::fs::write(
            &f,
            "[bulletins]\nroots = [\"authority\"]\nperiods = [\"month\", \"quarter\"]\n",
        )
        .unwrap();
        let s = Settings::resolve(&args, &ServeFlags::default()).unwrap();
        let b = s.bulletins.unwrap();
        assert_eq!((b.roots.len(), b.periods.len(), b.delay_hours), (1, 2, 8));
        std::fs::write(
            &f,
            "[bulletins]\nroots = [\"authority\"]\nformats = [\"pdf\"]\n",
        )
        .unwrap();
        let e = format!(
            "{:#}",
            Settings::resolve(&args, &ServeFlags::default()).unwrap_err()
        );
        assert!(
            e.contains("b.toml") && e.contains("bulletins.formats"),
            "{e}"
        );
        assert!(
            Settings::resolve(&ConfigArgs::default(), &ServeFlags::default())
                .unwrap()
                .bulletins
                .is_none()
        );
    }
}
