//! Running the HTTP(S) server: bind, serve the [`crate::api::router`], stop gracefully. Used by
//! `fieldbook-server serve` and, in-process, by the tests.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::error::{Error, Result};
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

/// Binds `listen` (port 0 picks a free one) and starts serving `db`.
pub async fn start(db: Db, listen: SocketAddr, tls: Option<&TlsFiles>) -> Result<Running> {
    let app = match tls {
        Some(_) => crate::api::router(db).layer(axum::middleware::map_response(secure_cookies)),
        None => crate::api::router(db),
    };
    let bind_error = |e: std::io::Error| Error::Invalid(format!("cannot listen on {listen}: {e}"));
    match tls {
        None => {
            let listener = tokio::net::TcpListener::bind(listen).await.map_err(bind_error)?;
            let addr = listener.local_addr().map_err(bind_error)?;
            let (tx, rx) = oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                axum::serve(listener, app).with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
            });
            Ok(Running { addr, tls: false, stop: Stop::Plain(tx), task })
        }
        Some(files) => {
            let config = tls::load(files).await?;
            let listener = std::net::TcpListener::bind(listen).map_err(bind_error)?;
            listener.set_nonblocking(true).map_err(bind_error)?;
            let addr = listener.local_addr().map_err(bind_error)?;
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, config).map_err(bind_error)?.handle(handle.clone());
            let task = tokio::spawn(async move { server.serve(app.into_make_service()).await });
            Ok(Running { addr, tls: true, stop: Stop::Tls(handle), task })
        }
    }
}

/// Over HTTPS, cookies (the console's session) are marked `Secure`: a browser then never sends
/// them over plain HTTP. (Without TLS there is no HTTPS for them to be limited to.)
async fn secure_cookies(mut resp: axum::response::Response) -> axum::response::Response {
    use axum::http::header::SET_COOKIE;
    use axum::http::HeaderValue;
    let cookies: Vec<HeaderValue> = resp.headers().get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return resp;
    }
    resp.headers_mut().remove(SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text) if !text.split(';').any(|attr| attr.trim().eq_ignore_ascii_case("secure")) => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        resp.headers_mut().append(SET_COOKIE, secured);
    }
    resp
}
