//! Serving the router: an accept loop over HTTP/1.1 connections (each
//! told its peer address, with a time limit on its request headers), and
//! a graceful shutdown that stops accepting and drains requests in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rosterdb::Store;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::config::ServeOptions;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime, or the signal handlers, could not start.
    #[error("cannot start the server: {0}")]
    Start(#[source] std::io::Error),
}

/// Serves the store on `options.addr` until SIGTERM or SIGINT, then
/// drains the requests in flight (for at most `options.shutdown_grace`)
/// and returns. It builds a multi-threaded tokio runtime of its own; the
/// store calls run on its blocking pool.
pub fn serve_blocking(store: Arc<Store>, options: ServeOptions) -> Result<(), ServeError> {
    let listener =
        std::net::TcpListener::bind(options.addr).map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    serve_blocking_on(store, listener, options)
}

/// [`serve_blocking`] on a listener bound already (`options.addr` is not
/// used): a caller that binds port 0 learns the port from
/// `listener.local_addr()` before serving.
pub fn serve_blocking_on(
    store: Arc<Store>,
    listener: std::net::TcpListener,
    options: ServeOptions,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rosterdb-server")
        .build()
        .map_err(ServeError::Start)?;
    runtime.block_on(async move {
        let addr = listener.local_addr().unwrap_or(options.addr);
        let listener = listener
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(listener))
            .map_err(|source| ServeError::Bind { addr, source })?;
        let signal = shutdown_signal().map_err(ServeError::Start)?;
        let app = crate::router(store, options.config.clone());
        serve(listener, app, &options, signal).await;
        Ok(())
    })
}

/// Resolves at the first SIGTERM or SIGINT (Ctrl-C).
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = int.recv() => tracing::info!("SIGINT: shutting down"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C: shutting down");
        })
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, lets each connection finish the request it is serving
/// (idle ones close at once), and returns when all are done or
/// `options.shutdown_grace` has passed. Each request carries its peer's
/// `ConnectInfo<SocketAddr>`; a connection that takes longer than
/// `options.header_read_timeout` to send a request's headers is closed.
/// `options.addr` is not used (the listener is bound already).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("draining requests in flight");
    match tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("shutdown grace ran out; closing the remaining connections"),
    }
}
