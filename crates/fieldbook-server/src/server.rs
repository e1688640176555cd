//! Running the HTTP(S) server: bind, serve the [`crate::api::router`], stop gracefully. Used by
//! `fieldbook-server serve` and, in-process, by the tests.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::security::Options;
use crate::tls::{self, TlsFiles};

/// A server accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub tls: bool,
    stop: Stop,
    task: JoinHandle<std::io::Result<()>>,
}

enum Stop {
    Plain(oneshot::Sender<()>),
    Tls(axum_server::Handle<SocketAddr>),
}

impl Running {
    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT`: a certificate names a host).
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(self) -> Result<()> {
        match self.stop {
            Stop::Plain(tx) => {
                let _ = tx.send(());
            }
            Stop::Tls(handle) => handle.graceful_shutdown(Some(std::time::Duration::from_secs(10))),
        }
        self.task.await.map_err(|e| Error::Internal(format!("the server task failed: {e}")))?.map_err(|e| Error::Internal(format!("serving: {e}")))
    }

    /// Serves until `signal` completes (then stops gracefully) or serving fails.
    pub async fn run_until(mut self, signal: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::select! {
            ended = &mut self.task => return ended.map_err(|e| Error::Internal(format!("the server task failed: {e}")))?.map_err(|e| Error::Internal(format!("serving: {e}"))),
            () = signal => {}
        }
        self.stop().await
    }
}

/// Binds `listen` (port 0 picks a free one) and starts serving `db` with default options.
pub async fn start(db: Db, listen: SocketAddr, tls: Option<&TlsFiles>) -> Result<Running> {
    start_with(db, listen, tls, Options::default()).await
}

/// Binds `listen` and starts serving `db`. Over HTTPS — served here, or by a proxy in front
/// when the public URL is `https://` — cookies are `Secure` and HSTS is sent
/// ([`crate::security::https_only`]). Connections carry the client's address (login
/// throttling) and answer hyper's own errors in JSON ([`crate::conn`]).
pub async fn start_with(db: Db, listen: SocketAddr, tls: Option<&TlsFiles>, mut options: Options) -> Result<Running> {
    options.serving_tls = tls.is_some();
    let https = tls.is_some() || options.public_url.as_ref().is_some_and(|u| u.is_https());
    // The planned inspections' periodic run lives as long as the server (`console::plans`).
    let plans = crate::console::plans::periodic(db.clone());
    let app = crate::api::router_with(db, &options);
    let app = if https { app.layer(axum::middleware::map_response(crate::security::https_only)) } else { app };
    let bind_error = |e: std::io::Error| Error::Invalid(format!("cannot listen on {listen}: {e}"));
    match tls {
        None => {
            let listener = tokio::net::TcpListener::bind(listen).await.map_err(bind_error)?;
            let addr = listener.local_addr().map_err(bind_error)?;
            let (tx, rx) = oneshot::channel::<()>();
            let service = app.into_make_service_with_connect_info::<crate::conn::Peer>();
            let task = tokio::spawn(async move {
                let plans = tokio::spawn(plans);
                let served = axum::serve(crate::conn::Listener(listener), service)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
                plans.abort();
                served
            });
            Ok(Running { addr, tls: false, stop: Stop::Plain(tx), task })
        }
        Some(files) => {
            let config = tls::load(files).await?;
            let listener = std::net::TcpListener::bind(listen).map_err(bind_error)?;
            listener.set_nonblocking(true).map_err(bind_error)?;
            let addr = listener.local_addr().map_err(bind_error)?;
            let handle = axum_server::Handle::new();
            let acceptor = crate::conn::Acceptor(axum_server::tls_rustls::RustlsAcceptor::new(config));
            let server = axum_server::from_tcp(listener).map_err(bind_error)?.acceptor(acceptor).handle(handle.clone());
            let task = tokio::spawn(async move {
                let plans = tokio::spawn(plans);
                let served = server.serve(app.into_make_service_with_connect_info::<crate::conn::Peer>()).await;
                plans.abort();
                served
            });
            Ok(Running { addr, tls: true, stop: Stop::Tls(handle), task })
        }
    }
}
