//! The server's connection limits over real TCP: a client that sends its headers a byte at
//! a time is cut off at the header deadline, and connections over the cap wait.
use std::time::Duration;

use axum::{Router, routing::get};
use dkimdash::server::serve::{ConnectionLimits, serve};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A server with `limits` on loopback, answering `GET /livez`.
async fn start(limits: ConnectionLimits) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/livez", get(|| async { "ok" }));
    tokio::spawn(serve(listener, app, limits, std::future::pending()));
    addr
}

/// A whole `GET /livez` on a connection of its own; the raw answer.
async fn ask_livez(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

/// Sends `GET /livez` a byte every 100 ms, for at most `bytes` bytes; returns how many were
/// sent before the server closed the connection (`None`: never closed).
async fn trickle(stream: &mut TcpStream, bytes: usize) -> Option<usize> {
    let request = b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut buffer = [0u8; 256];
    for sent in 0..bytes {
        let byte = request.get(sent).copied().unwrap_or(b'a');
        if stream.write_all(&[byte]).await.is_err() {
            return Some(sent);
        }
        // A closed connection reads as end of file (or an answer such as 408, then EOF).
        match tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return Some(sent),
            Ok(Ok(_)) => {
                // hyper may answer 408 first; the close follows.
                if let Ok(Ok(0)) =
                    tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await
                {
                    return Some(sent);
                }
            }
            Err(_) => {}
        }
    }
    None
}

#[tokio::test]
async fn a_client_sending_headers_a_byte_a_time_is_cut_off() {
    let addr = start(ConnectionLimits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 16,
    })
    .await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    // 600 bytes at (at most) 10 a second would take a minute; the deadline is 1 s. A slow
    // machine sends fewer bytes a second, never more, so the bound only errs towards
    // passing a working deadline; a deadline of 3 s or more fails.
    let sent = trickle(&mut slow, 600).await;
    let sent = sent.expect("the server closes a connection whose headers never end");
    assert!(
        sent < 30,
        "closed after {sent} bytes, not at the 1 s deadline"
    );

    // A normal request is answered.
    let answer = ask_livez(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_frees_its_slot() {
    let addr = start(ConnectionLimits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 1,
    })
    .await;
    // The one slot: taken by a connection that sends nothing.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // A second client waits in the backlog until the idle one is closed.
    let waiting = tokio::spawn(ask_livez(addr));
    let mut buffer = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buffer))
        .await
        .expect("the idle connection is closed at the header deadline");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the waiting client is served once the slot is free")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
