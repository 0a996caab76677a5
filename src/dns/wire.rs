//! One question to one nameserver: UDP first, TCP when the UDP answer is truncated, every
//! step under a timeout. hickory-proto encodes and decodes the messages; the transport is
//! this small on purpose: a check needs the raw answer of exactly one server (its flags,
//! its response code, every section), not a resolver's retries, caching and fallbacks.

use std::{net::SocketAddr, time::Duration};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// The EDNS payload size offered over UDP (the DNS Flag Day 2020 value): large enough for a
/// 2048-bit key record, small enough to avoid IP fragmentation. Bigger answers come by TCP.
const EDNS_PAYLOAD: u16 = 1232;

/// Largest TCP answer read (the DNS maximum).
const MAX_TCP_ANSWER: usize = u16::MAX as usize;

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// No answer within the timeout.
    #[error("timeout")]
    Timeout,
    /// The network refused (connection refused, unreachable).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The answer was not a DNS message, or not one for this question.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

/// Asks `server` for `kind` records at `name`. `recursion` sets RD (a recursive resolver
/// is asked to recurse; a zone's own server is not).
pub async fn ask(
    server: SocketAddr,
    name: &Name,
    kind: RecordType,
    recursion: bool,
    timeout: Duration,
) -> Result<Message, WireError> {
    let id: u16 = rand::random();
    let query = question(id, name, kind, recursion);
    let bytes = query
        .to_vec()
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    let answer = within(timeout, over_udp(server, &bytes, id)).await?;
    if !answer.truncated() {
        return check(answer, id, name, kind);
    }
    // The whole answer did not fit in a datagram: ask again over TCP (RFC 7766).
    let answer = within(timeout, over_tcp(server, &bytes)).await?;
    check(answer, id, name, kind)
}

fn question(id: u16, name: &Name, kind: RecordType, recursion: bool) -> Message {
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(recursion)
        .add_query(Query::query(name.clone(), kind));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    message.set_edns(edns);
    message
}

async fn within<T>(
    timeout: Duration,
    step: impl Future<Output = Result<T, WireError>>,
) -> Result<T, WireError> {
    tokio::time::timeout(timeout, step)
        .await
        .unwrap_or(Err(WireError::Timeout))
}

async fn over_udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, WireError> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(bytes).await?;
    let mut buffer = vec![0_u8; usize::from(EDNS_PAYLOAD).max(4096)];
    loop {
        let len = socket.recv(&mut buffer).await?;
        // A datagram that is not the answer to this question (spoofed, late) is skipped.
        match Message::from_vec(&buffer[..len]) {
            Ok(message) if message.id() == id => return Ok(message),
            _ => continue,
        }
    }
}

async fn over_tcp(server: SocketAddr, bytes: &[u8]) -> Result<Message, WireError> {
    let mut stream = TcpStream::connect(server).await?;
    let len =
        u16::try_from(bytes.len()).map_err(|_| WireError::Malformed("query too long".into()))?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await?;
    let answer_len = usize::from(stream.read_u16().await?);
    if answer_len == 0 || answer_len > MAX_TCP_ANSWER {
        return Err(WireError::Malformed("empty TCP answer".into()));
    }
    let mut buffer = vec![0_u8; answer_len];
    stream.read_exact(&mut buffer).await?;
    Message::from_vec(&buffer).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Refuses an answer to another question (a confused or spoofing server). Names compare
/// without case: servers may echo the question in another case.
fn check(answer: Message, id: u16, name: &Name, kind: RecordType) -> Result<Message, WireError> {
    let matches = answer.id() == id
        && answer.message_type() == MessageType::Response
        && answer
            .query()
            .is_none_or(|q| q.query_type() == kind && q.name().eq_ignore_root(name));
    if matches {
        Ok(answer)
    } else {
        Err(WireError::Malformed(
            "the answer is for another question".into(),
        ))
    }
}
