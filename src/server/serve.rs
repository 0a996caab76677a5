//! Serving connections: the router on hyper, with what `axum::serve` leaves out. A client
//! must send a request's headers within a deadline (which also closes keep-alive
//! connections left idle that long), so one that sends them a byte at a time (slowloris)
//! is cut off instead of holding its connection forever; and only so many connections are
//! open at once, the rest waiting in the listen backlog.
//!
//! HTTP/1.1 only, which every SSO proxy speaks to its upstream: hyper-util's HTTP/1-or-2
//! detection waits for the first bytes without any deadline, so a client that sends
//! nothing at all would hold its connection forever.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::{Request, body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

/// How long in-flight requests may run on after a shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Pause after `accept` fails for lack of resources (file descriptors), before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Limits on connections (per-request limits are in `HttpLimits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest wait for a request's complete headers, and for the next request on an idle
    /// keep-alive connection.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (for at most [`SHUTDOWN_GRACE`]). Each request carries its peer address as
/// `ConnectInfo<SocketAddr>`, the only address trusted-header authentication believes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection =
            builder.serve_connection(TokioIo::new(stream), with_peer(app.clone(), peer));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still running {} s after shutdown was asked for; stopping anyway", SHUTDOWN_GRACE.as_secs());
        }
    }
    Ok(())
}

/// The router as a hyper service whose requests carry `peer`.
fn with_peer(
    app: Router,
    peer: SocketAddr,
) -> TowerToHyperService<
    impl tower::Service<
        Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone,
> {
    TowerToHyperService::new(tower::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    }))
}

/// A failed `accept`: a client that left before it was accepted is nothing; running out of
/// file descriptors is worth a line and a pause (accepting again at once would spin).
async fn accept_failed(error: &io::Error) {
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted => {}
        _ => {
            tracing::warn!(%error, "cannot accept a connection");
            tokio::time::sleep(ACCEPT_BACKOFF).await;
        }
    }
}
