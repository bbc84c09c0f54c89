//! The local HTTP server: HTTP/1.1 with limits, so that slow or hostile clients cost little.
//!
//! - Every connection has `header_read_timeout` to deliver a request head. Hyper starts that
//!   clock whenever it waits for a head, so it is also the idle keep-alive timeout: a
//!   connection that sends nothing between two requests is closed after it.
//! - Every request has `request_timeout` from its head to its answer, body included: a client
//!   that announces a body and stalls gets 408.
//! - A body announced larger than `max_body_bytes` gets 413 before a byte of it is read; a
//!   body without `Content-Length` is cut off at the same size while it streams.
//! - At most `max_connections` connections are served at once; further ones wait in the
//!   kernel's accept queue instead of costing file descriptors and memory here.

use axum::Router;
use axum::extract::Request;
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::{debug, warn};

/// File descriptors kept free for the store, the outbound HTTP clients and the logs.
const FD_HEADROOM: u64 = 64;
/// The connection bound when the descriptor limit cannot be read.
const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// How long a shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What one client may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_connections: usize,
}

impl Default for ServerLimits {
    /// 10 s for a head (and between requests), 30 s per request, 256 KiB per body, and as many
    /// connections as the process's descriptor limit allows with headroom (at most 512).
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: providers::DEFAULT_BODY_LIMIT,
            max_connections: connections_for_fd_limit(open_files_limit()),
        }
    }
}

/// The connection bound for a descriptor limit: everything above the headroom, at most
/// [`DEFAULT_MAX_CONNECTIONS`], at least 1.
pub fn connections_for_fd_limit(limit: Option<u64>) -> usize {
    match limit {
        Some(limit) => usize::try_from(limit.saturating_sub(FD_HEADROOM))
            .unwrap_or(usize::MAX)
            .clamp(1, DEFAULT_MAX_CONNECTIONS),
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits` (Linux); `None` elsewhere.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (for at most 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Take a slot first: at the bound, connections wait in the accept queue.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before accept: not fatal.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|request: Request<Incoming>| request.map(axum::body::Body::new)),
        );
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                debug!(%peer, %error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            warn!("requests still running after the drain timeout were cut off");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_bound_keeps_descriptor_headroom() {
        assert_eq!(connections_for_fd_limit(Some(1024)), 512);
        assert_eq!(connections_for_fd_limit(Some(256)), 192);
        assert_eq!(connections_for_fd_limit(Some(10)), 1);
        assert_eq!(connections_for_fd_limit(None), 512);
    }

    #[test]
    fn the_descriptor_limit_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(open_files_limit().is_some());
        }
    }
}
