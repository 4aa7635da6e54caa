//! Running the router on a listener: plain HTTP or TLS (rustls with the ring provider, certificate and
//! key from PEM files), with graceful shutdown that lets running requests finish.

use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long running requests may take to finish after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Certificate chain and private key, both PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The certificate or key could not be read or used.
    #[error("TLS certificate {cert} / key {key}: {source}")]
    Tls {
        /// Certificate file.
        cert: String,
        /// Key file.
        key: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `app` on `listener` until `shutdown` completes, then waits up to [`SHUTDOWN_GRACE`] for running
/// requests. With `tls`, connections are TLS 1.2/1.3 only.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<TlsFiles>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let Some(tls) = tls else {
        return Ok(axum::serve(listener, make)
            .with_graceful_shutdown(shutdown)
            .await?);
    };
    // Several rustls users may share the process; only the first install wins, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|source| ServeError::Tls {
            cert: tls.cert.display().to_string(),
            key: tls.key.display().to_string(),
            source,
        })?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    let std_listener = listener.into_std()?;
    axum_server::tls_rustls::from_tcp_rustls(std_listener, config)?
        .handle(handle)
        .serve(make)
        .await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM: the usual shutdown signal for [`serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("Shutdown requested; finishing running requests.");
}
