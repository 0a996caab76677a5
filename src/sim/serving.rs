//! Serving a simulator's router on a socket in the background, until dropped: the SES,
//! Route 53 and Cloudflare simulators all run this way.

use std::net::SocketAddr;

use axum::Router;

/// A router serving on a bound socket; dropping it stops the server.
pub struct Serving {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Serving {
    /// Binds `listen` (port 0 picks a free one) and serves `app` there; `what` names it in
    /// the log line written if the server stops.
    pub async fn start(
        listen: SocketAddr,
        app: Router,
        what: &'static str,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "{what} stopped");
            }
        });
        Ok(Self { addr, task })
    }

    /// `http://` and the address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}
