//! A response body written in pieces by blocking code while it is sent: the writer runs
//! off the async workers and waits whenever the client is a few pieces behind, so a big
//! export costs a few pieces of memory, not its size, and starts arriving at once.

use axum::body::Body;
use tokio::sync::mpsc;

/// Bytes gathered before a piece is sent.
const PIECE_BYTES: usize = 64 * 1024;
/// Pieces written ahead of the client at most.
const PIECES_AHEAD: usize = 4;

/// Where the writer puts the body.
#[derive(Debug)]
pub struct Chunks {
    piece: String,
    pieces: mpsc::Sender<String>,
    closed: bool,
}

impl Chunks {
    /// Appends `text`, sending a piece once enough is gathered (waiting for room).
    pub fn push(&mut self, text: &str) {
        self.piece.push_str(text);
        if self.piece.len() >= PIECE_BYTES {
            self.send();
        }
    }

    /// Whether the client went away: nothing more will be read.
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn send(&mut self) {
        if self.closed || self.piece.is_empty() {
            return;
        }
        let piece = std::mem::replace(&mut self.piece, String::with_capacity(PIECE_BYTES));
        self.closed = self.pieces.blocking_send(piece).is_err();
    }
}

impl Drop for Chunks {
    /// The rest goes when the writer is done.
    fn drop(&mut self) {
        self.send();
    }
}

/// A body that `write` fills, on a blocking thread. A writer that panics ends the body
/// early (the client sees a cut-off download) and is logged.
pub fn body(write: impl FnOnce(&mut Chunks) + Send + 'static) -> Body {
    let (pieces, mut received) = mpsc::channel(PIECES_AHEAD);
    let writer = tokio::task::spawn_blocking(move || {
        let mut out = Chunks {
            piece: String::with_capacity(PIECE_BYTES),
            pieces,
            closed: false,
        };
        write(&mut out);
    });
    tokio::spawn(async move {
        if let Err(error) = writer.await {
            tracing::error!(%error, "a download stopped before its end");
        }
    });
    let stream = futures::stream::poll_fn(move |cx| {
        received
            .poll_recv(cx)
            .map(|piece| piece.map(Ok::<_, std::convert::Infallible>))
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_body_is_everything_written_in_order() {
        let body = body(|out| {
            for n in 0..100_000 {
                out.push(&format!("{n}\n"));
            }
        });
        let bytes = body.collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 100_000);
        assert_eq!((lines[0], lines[99_999]), ("0", "99999"));
    }

    #[tokio::test]
    async fn a_client_that_goes_away_stops_the_writer() {
        let (stopped, saw_stop) = std::sync::mpsc::channel();
        let body = body(move |out| {
            let mut written = 0;
            while !out.closed() && written < 1_000_000 {
                out.push(&"x".repeat(1024));
                written += 1;
            }
            stopped.send(written).unwrap();
        });
        drop(body);
        let written = tokio::task::spawn_blocking(move || saw_stop.recv().unwrap())
            .await
            .unwrap();
        // At most the pieces the channel holds, and the one that found it closed.
        assert!(
            written <= (PIECES_AHEAD + 2) * PIECE_BYTES / 1024,
            "{written}"
        );
    }
}
