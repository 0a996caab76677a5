//! A small authoritative DNS server on loopback, built on hickory-server's `Catalog` of
//! in-memory zones. The demo serves its zones with it, and tests run the DNS checker against
//! it over real UDP and TCP.
//!
//! What a client sees, as read in hickory-server 0.25.2 (`authority/catalog.rs`,
//! `store/in_memory`, `server/response_handler.rs`) and checked by the tests below:
//! - names in a served zone are answered with the AA bit, whether or not the query asks for
//!   recursion (RD is echoed, RA never set), so one server can also stand in for the
//!   recursive resolver;
//! - a name that does not exist in its zone gets NXDOMAIN; a name that exists only with other
//!   types, or only has names below it, gets NOERROR with no answers; both carry the zone's
//!   SOA in the authority section;
//! - a name outside every served zone gets REFUSED;
//! - when zones nest (`example.com` and `sub.example.com`), a name is answered from the
//!   deepest zone that holds it: `Catalog::find` walks up from the query name one label at a
//!   time, so its first hit is the longest match;
//! - there are no referrals: NS records for a child are served as plain records, and a name
//!   under a delegated child that is not itself served is NXDOMAIN from the parent;
//! - an SOA query for any name in a zone is answered with the apex SOA (hickory's behaviour);
//! - a zone built with [`Zone::failing`] answers SERVFAIL to every question in it, as a
//!   recursive resolver does when the zone's own servers cannot be reached;
//! - a UDP answer that does not fit what the client can receive (its EDNS payload size, or 512
//!   bytes without EDNS) is cut to whole records and sent with the TC bit, so the client asks
//!   again over TCP, which has no such limit.

use std::{
    future::Future,
    io, iter,
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use hickory_proto::{
    op::ResponseCode,
    rr::{
        LowerName, Name, RData, Record, RecordType,
        rdata::{A, AAAA, CNAME, NS, SOA, TXT},
    },
    serialize::binary::{BinDecodable, BinEncoder},
    xfer::Protocol,
};
use hickory_server::{
    ServerFuture,
    authority::{
        AuthorityObject, Catalog, MessageRequest, MessageResponse, MessageResponseBuilder, ZoneType,
    },
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    store::in_memory::InMemoryAuthority,
};

use crate::unpoisoned::{lock, read, write};

/// TTL of records added before any call to [`Zone::ttl`], and the SOA's negative-caching TTL.
const DEFAULT_TTL: u32 = 300;

/// The most a client without EDNS can receive over UDP (RFC 1035 section 4.2.1).
const CLASSIC_UDP_LIMIT: u16 = 512;

/// How long a TCP connection may sit idle before the server closes it.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ports to try, with port 0, before giving up on finding one free for UDP and TCP.
const PORT_ATTEMPTS: usize = 10;

/// A zone to serve: its origin and records, built with chained methods.
///
/// Names are text, with the case kept as given and the trailing dot optional: every name is
/// absolute. A bad name does not panic: it is remembered, and [`serve`] refuses the zone,
/// naming it.
#[derive(Clone, Debug)]
pub struct Zone {
    /// The zone's apex as given, for messages.
    origin_text: String,
    /// The apex, `None` when `origin_text` is not a valid name.
    origin: Option<Name>,
    /// TTL for the records added from now on.
    ttl: u32,
    /// The SOA first, then the records in the order they were added.
    records: Vec<Record>,
    /// What is wrong with the zone as built; [`serve`] reports them all.
    problems: Vec<String>,
    /// Whether every question in the zone is answered SERVFAIL.
    failing: bool,
}

impl Zone {
    /// A zone with only an SOA record (serial 1; TTL and negative-caching TTL 300 seconds).
    pub fn new(origin: &str) -> Zone {
        let mut zone = Zone {
            origin_text: origin.to_owned(),
            origin: None,
            ttl: DEFAULT_TTL,
            records: Vec::new(),
            problems: Vec::new(),
            failing: false,
        };
        match parse_name(origin) {
            Ok(apex) => {
                let soa = SOA::new(
                    prefixed(&apex, "ns"),
                    prefixed(&apex, "hostmaster"),
                    1,
                    3600,
                    600,
                    86_400,
                    DEFAULT_TTL,
                );
                zone.records.push(Record::from_rdata(
                    apex.clone(),
                    DEFAULT_TTL,
                    RData::SOA(soa),
                ));
                zone.origin = Some(apex);
            }
            Err(problem) => zone.problems.push(format!("zone origin {problem}")),
        }
        zone
    }

    /// The zone's apex as given.
    pub fn origin(&self) -> &str {
        &self.origin_text
    }

    /// Sets the TTL of the records added after this call (300 seconds until then).
    pub fn ttl(mut self, seconds: u32) -> Zone {
        self.ttl = seconds;
        self
    }

    /// Answers SERVFAIL to every question in the zone, records or not: what a recursive
    /// resolver answers when the zone's own servers cannot be reached.
    pub fn failing(mut self) -> Zone {
        self.failing = true;
        self
    }

    /// A CNAME record. A name holding a CNAME can hold nothing else ([`serve`] refuses the
    /// zone otherwise); a second CNAME at the same name replaces the first.
    pub fn cname(self, name: &str, target: &str) -> Zone {
        let target = parse_name(target).map(|target| RData::CNAME(CNAME(target)));
        self.add(name, target)
    }

    /// One TXT record made of these character-strings, each kept as its own string.
    ///
    /// The wire format holds at most 255 bytes in a character-string, so a longer string is
    /// split into 255-byte strings; an empty list gives one empty string, since a TXT record
    /// needs at least one.
    pub fn txt<S: AsRef<str>>(self, name: &str, strings: &[S]) -> Zone {
        let strings: Vec<&[u8]> = strings
            .iter()
            .map(|string| string.as_ref().as_bytes())
            .collect();
        self.txt_bytes(name, &strings)
    }

    /// Like [`Zone::txt`], with raw bytes (binary TXT, for tests of hostile answers).
    pub fn txt_bytes<S: AsRef<[u8]>>(self, name: &str, strings: &[S]) -> Zone {
        let txt = txt_rdata(strings);
        self.add(name, txt)
    }

    /// An A record.
    pub fn a(self, name: &str, address: Ipv4Addr) -> Zone {
        self.add(name, Ok(RData::A(A(address))))
    }

    /// An AAAA record.
    pub fn aaaa(self, name: &str, address: Ipv6Addr) -> Zone {
        self.add(name, Ok(RData::AAAA(AAAA(address))))
    }

    /// An NS record: at the apex, or below it to delegate a child zone. The server gives no
    /// referrals; serve the child zone as well to have names in it answered.
    pub fn ns(self, name: &str, nameserver: &str) -> Zone {
        let nameserver = parse_name(nameserver).map(|nameserver| RData::NS(NS(nameserver)));
        self.add(name, nameserver)
    }

    /// The zone without the records at `name` (its SOA stays).
    pub fn without(mut self, name: &str) -> Zone {
        if let Ok(owner) = parse_name(name) {
            self.records
                .retain(|r| r.record_type() == RecordType::SOA || *r.name() != owner);
        }
        self
    }

    /// Adds a record at `name` in this zone, or notes why it cannot be added.
    fn add(mut self, name: &str, rdata: Result<RData, String>) -> Zone {
        let owner = match parse_name(name) {
            Ok(owner) => owner,
            Err(problem) => {
                self.problems.push(problem);
                return self;
            }
        };
        let rdata = match rdata {
            Ok(rdata) => rdata,
            Err(problem) => {
                self.problems.push(format!("record at {owner}: {problem}"));
                return self;
            }
        };
        if let Some(origin) = &self.origin {
            // The catalog routes a query by its name, so a record outside the zone could never
            // be reached: say so rather than drop it silently.
            if !origin.zone_of(&owner) {
                self.problems
                    .push(format!("{owner} is outside zone {}", self.origin_text));
                return self;
            }
        }
        self.records
            .push(Record::from_rdata(owner, self.ttl, rdata));
        self
    }

    /// The zone as hickory's in-memory authority, or everything wrong with it.
    fn into_authority(self) -> Result<(Name, InMemoryAuthority), Vec<String>> {
        let Zone {
            origin,
            records,
            mut problems,
            ..
        } = self;
        let Some(origin) = origin else {
            return Err(problems);
        };
        let mut authority = InMemoryAuthority::empty(origin.clone(), ZoneType::Primary, false);
        for (index, record) in records.iter().enumerate() {
            // `upsert_mut` declines a record it already holds (harmless) and a record that
            // would share a name with a CNAME (a zone the test did not mean to build).
            if !authority.upsert_mut(record.clone(), 1) && !records[..index].contains(record) {
                problems.push(format!(
                    "{} {} cannot share its name with a CNAME in zone {origin}",
                    record.name(),
                    record.record_type(),
                ));
            }
        }
        if problems.is_empty() {
            Ok((origin, authority))
        } else {
            Err(problems)
        }
    }
}

/// Parses a name given as text, case kept, as an absolute name.
fn parse_name(text: &str) -> Result<Name, String> {
    if text.is_empty() {
        return Err("\"\" is not a valid domain name: it is empty".to_owned());
    }
    // Non-ASCII names go through IDNA (which lowercases them); ASCII ones keep their case and
    // may hold underscores, as DKIM's `_domainkey` needs.
    let parsed = if text.is_ascii() {
        Name::from_ascii(text)
    } else {
        Name::from_utf8(text)
    };
    let mut name =
        parsed.map_err(|error| format!("{text:?} is not a valid domain name: {error}"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// `label.apex`, or the apex itself if that would be too long, for the SOA's server names.
fn prefixed(apex: &Name, label: &str) -> Name {
    Name::from_ascii(label)
        .and_then(|label| label.append_domain(apex))
        .unwrap_or_else(|_| apex.clone())
}

/// TXT data from the given strings, split to fit character-strings.
fn txt_rdata<S: AsRef<[u8]>>(strings: &[S]) -> Result<RData, String> {
    let mut pieces: Vec<&[u8]> = Vec::with_capacity(strings.len());
    for string in strings {
        let bytes = string.as_ref();
        if bytes.is_empty() {
            pieces.push(bytes);
        } else {
            pieces.extend(bytes.chunks(255));
        }
    }
    if pieces.is_empty() {
        pieces.push(&[]);
    }
    // Each character-string costs its length byte on top of its data.
    let length: usize = pieces.iter().map(|piece| piece.len() + 1).sum();
    if length > usize::from(u16::MAX) {
        return Err(format!(
            "TXT data of {length} bytes is over the 65,535 a record can hold"
        ));
    }
    Ok(RData::TXT(TXT::from_bytes(pieces)))
}

/// Starts serving `zones` on `addr` over UDP and TCP, on the same port.
///
/// With port 0 a free port is chosen: UDP binds first and TCP takes the port UDP got, with a
/// few fresh ports tried if TCP finds it taken. Zones with bad names, records outside their
/// zone or records clashing with a CNAME, or the same origin twice, give an
/// [`io::ErrorKind::InvalidInput`] error that names each problem.
///
/// UDP answers are truncated with the TC bit to the client's EDNS payload size, or to 512
/// bytes for a client without EDNS, so the client retries over TCP. hickory-server 0.25.2
/// truncates to the EDNS size itself (`ResponseHandle::max_size_for_response`) but allows a
/// client without EDNS 4,096 bytes; such a client reads 512 and drops the rest, so the 512
/// limit is enforced here (hickory-server 0.26 does the same).
pub async fn serve(addr: SocketAddr, zones: Vec<Zone>) -> io::Result<RunningDnsServer> {
    let served = Arc::new(RwLock::new(Arc::new(served(zones)?)));
    let (udp, tcp) = bind_same_port(addr).await?;
    let addr = udp.local_addr()?;

    let rate = Arc::new(Mutex::new(QueryRate::default()));
    let mut server = ServerFuture::new(ClassicUdpLimit {
        served: served.clone(),
        rate: rate.clone(),
    });
    server.register_socket(udp);
    server.register_listener(tcp, TCP_IDLE_TIMEOUT);
    let task = tokio::spawn(async move {
        if let Err(error) = server.block_until_done().await {
            tracing::error!(%error, %addr, "authoritative DNS server stopped");
        }
    });
    Ok(RunningDnsServer {
        addr,
        task,
        rate,
        served,
    })
}

/// The zones as served, or an `InvalidInput` error naming every problem.
fn served(zones: Vec<Zone>) -> io::Result<Served> {
    let (catalog, failing) = catalog(zones).map_err(|problems| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot serve these DNS zones: {}", problems.join("; ")),
        )
    })?;
    Ok(Served { catalog, failing })
}

/// What a server answers from: its zones, and the origins of those that fail.
struct Served {
    catalog: Catalog,
    failing: Vec<LowerName>,
}

/// A catalog of the zones and the origins of the failing ones, or everything wrong with them.
fn catalog(zones: Vec<Zone>) -> Result<(Catalog, Vec<LowerName>), Vec<String>> {
    let mut catalog = Catalog::new();
    let mut failing = Vec::new();
    let mut problems = Vec::new();
    for zone in zones {
        let fails = zone.failing;
        match zone.into_authority() {
            Ok((origin, authority)) => {
                let origin: LowerName = origin.into();
                if fails {
                    failing.push(origin.clone());
                }
                // A second zone with the same origin would silently replace the first.
                if catalog.contains(&origin) {
                    problems.push(format!("zone {origin} is given twice"));
                    continue;
                }
                let authority: Arc<dyn AuthorityObject> = Arc::new(authority);
                catalog.upsert(origin, vec![authority]);
            }
            Err(zone_problems) => problems.extend(zone_problems),
        }
    }
    if problems.is_empty() {
        Ok((catalog, failing))
    } else {
        Err(problems)
    }
}

/// A UDP socket and a TCP listener on the same address and port.
async fn bind_same_port(
    addr: SocketAddr,
) -> io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    let attempts = if addr.port() == 0 { PORT_ATTEMPTS } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let udp = tokio::net::UdpSocket::bind(addr).await?;
        let port = udp.local_addr()?.port();
        match tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            // The port UDP was given may be held by some TCP socket: try another.
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}

/// An authoritative DNS server serving in the background; dropping it stops the server.
pub struct RunningDnsServer {
    /// Where it listens, for UDP and TCP alike.
    addr: SocketAddr,
    /// The task owning the server; aborting it drops the server, which ends its socket tasks.
    task: tokio::task::JoinHandle<()>,
    /// Queries per clock second, for benchmarks of how hard clients ask.
    rate: Arc<Mutex<QueryRate>>,
    /// The zones it answers from, replaced whole by [`RunningDnsServer::replace`].
    served: Arc<RwLock<Arc<Served>>>,
}

impl RunningDnsServer {
    /// Serves `zones` from now on instead of the zones it served (the demo's DNS, after a
    /// record is published). Questions already being answered finish with the old zones.
    pub fn replace(&self, zones: Vec<Zone>) -> io::Result<()> {
        let fresh = Arc::new(served(zones)?);
        *write(&self.served) = fresh;
        Ok(())
    }

    /// The address the server answers on, over both UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every query received so far.
    pub fn queries(&self) -> u64 {
        lock(&self.rate).total
    }

    /// The most queries received within one clock second so far.
    pub fn busiest_second(&self) -> u32 {
        let rate = lock(&self.rate);
        rate.busiest.max(rate.count)
    }
}

/// Queries counted per clock second: the current second's count and the highest so far.
#[derive(Default)]
struct QueryRate {
    second: u64,
    count: u32,
    busiest: u32,
    total: u64,
}

impl QueryRate {
    fn count_one(&mut self) {
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if second != self.second {
            self.busiest = self.busiest.max(self.count);
            self.second = second;
            self.count = 0;
        }
        self.count += 1;
        self.total += 1;
    }
}

impl Drop for RunningDnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The catalog, answering UDP queries without EDNS in at most 512 bytes.
///
/// The two trait impls below are what `#[async_trait]` would generate (hickory's traits are
/// declared with it; this crate does not depend on it).
struct ClassicUdpLimit {
    /// The zones, and the origins of those answered with SERVFAIL.
    served: Arc<RwLock<Arc<Served>>>,
    /// Counts every query.
    rate: Arc<Mutex<QueryRate>>,
}

impl RequestHandler for ClassicUdpLimit {
    fn handle_request<'life0, 'life1, 'async_trait, R>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: 'async_trait + ResponseHandler,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        lock(&self.rate).count_one();
        let served = read(&self.served).clone();
        let in_failing_zone = request.queries().first().is_some_and(|query| {
            served
                .failing
                .iter()
                .any(|origin| origin.zone_of(query.name()))
        });
        if in_failing_zone {
            let response = MessageResponseBuilder::from_message_request(request)
                .error_msg(request.header(), ResponseCode::ServFail);
            let header = response.header().to_owned();
            let mut handle = response_handle;
            return Box::pin(async move {
                handle
                    .send_response(response)
                    .await
                    .unwrap_or_else(|_| ResponseInfo::from(header))
            });
        }
        let classic_udp = request.protocol() == Protocol::Udp && request.edns().is_none();
        Box::pin(async move {
            if classic_udp {
                served
                    .catalog
                    .handle_request(
                        request,
                        Within512 {
                            inner: response_handle,
                        },
                    )
                    .await
            } else {
                served
                    .catalog
                    .handle_request(request, response_handle)
                    .await
            }
        })
    }
}

/// A response handle that first cuts the answer to 512 bytes, setting TC if anything is cut.
#[derive(Clone)]
struct Within512<R> {
    /// The server's own handle, which sends what it is given.
    inner: R,
}

impl<R: ResponseHandler> ResponseHandler for Within512<R> {
    fn send_response<'a, 'life0, 'life1, 'async_trait>(
        &'life0 mut self,
        response: MessageResponse<
            'life1,
            'a,
            impl 'async_trait + Iterator<Item = &'a Record> + Send + 'a,
            impl 'async_trait + Iterator<Item = &'a Record> + Send + 'a,
            impl 'async_trait + Iterator<Item = &'a Record> + Send + 'a,
            impl 'async_trait + Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Pin<Box<dyn Future<Output = io::Result<ResponseInfo>> + Send + 'async_trait>>
    where
        'a: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        // Encoding with the limit is how hickory truncates: whole records only, TC set. The
        // result is read back so the server's handle can send it (it fits, so it is unchanged).
        let cut = cut_to(response, CLASSIC_UDP_LIMIT);
        Box::pin(async move {
            let message = cut?;
            let rebuilt = MessageResponseBuilder::from_message_request(&message).build(
                *message.header(),
                message.answers(),
                message.name_servers(),
                iter::empty(),
                message.additionals(),
            );
            self.inner.send_response(rebuilt).await
        })
    }
}

/// The response as a client limited to `max_size` bytes would receive it.
fn cut_to<'a>(
    response: MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
    max_size: u16,
) -> io::Result<MessageRequest> {
    let id = response.header().id();
    let mut buffer = Vec::with_capacity(usize::from(max_size));
    let mut encoder = BinEncoder::new(&mut buffer);
    encoder.set_max_size(max_size);
    response
        .destructive_emit(&mut encoder)
        .and_then(|_| MessageRequest::from_bytes(&buffer))
        .map_err(|error| {
            tracing::error!(%error, id, "cannot encode DNS answer");
            io::Error::other(error)
        })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use hickory_proto::{
        ProtoErrorKind,
        op::{Edns, Message, MessageType, OpCode, Query, ResponseCode},
        rr::RecordType,
    };
    use hickory_resolver::{
        ResolveError, Resolver, TokioResolver,
        config::{NameServerConfigGroup, ResolverConfig, ResolverOpts},
        name_server::TokioConnectionProvider,
    };

    use super::*;

    async fn start(zones: Vec<Zone>) -> RunningDnsServer {
        serve(SocketAddr::from(([127, 0, 0, 1], 0)), zones)
            .await
            .expect("the server starts")
    }

    /// A resolver that asks only `server`, caches nothing and fails fast.
    fn resolver(server: &RunningDnsServer, edns0: bool) -> TokioResolver {
        let addr = server.addr();
        let config = ResolverConfig::from_parts(
            None,
            vec![],
            NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
        );
        let mut options = ResolverOpts::default();
        options.edns0 = edns0;
        options.cache_size = 0;
        options.attempts = 1;
        options.timeout = Duration::from_secs(2);
        Resolver::builder_with_config(config, TokioConnectionProvider::default())
            .with_options(options)
            .build()
    }

    /// The response code of a look-up that found no records.
    fn no_records_code(error: &ResolveError) -> (ResponseCode, bool) {
        match error.proto().map(|proto| proto.kind()) {
            Some(ProtoErrorKind::NoRecordsFound {
                response_code, soa, ..
            }) => (*response_code, soa.is_some()),
            _ => panic!("expected no records, got {error}"),
        }
    }

    /// Asks `server` over UDP as a recursive resolver's client would (RD=1), with or without
    /// EDNS; returns the answer and its size on the wire.
    async fn ask_udp(
        server: &RunningDnsServer,
        name: &str,
        record_type: RecordType,
        edns_payload: Option<u16>,
    ) -> (Message, usize) {
        let mut query = Message::new();
        query
            .set_id(4242)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(
                Name::from_ascii(name).expect("a valid name"),
                record_type,
            ));
        if let Some(payload) = edns_payload {
            let mut edns = Edns::new();
            edns.set_max_payload(payload);
            query.set_edns(edns);
        }
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("a client socket");
        socket
            .send_to(&query.to_vec().expect("the query encodes"), server.addr())
            .await
            .expect("the query is sent");
        // Far more room than any limit, so an answer that ignores the limit would show.
        let mut buffer = vec![0; 65_535];
        let (length, _) =
            tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buffer))
                .await
                .expect("an answer in time")
                .expect("an answer");
        let answer = Message::from_vec(&buffer[..length]).expect("the answer decodes");
        (answer, length)
    }

    fn txt_strings(answer: &Message) -> Vec<Vec<u8>> {
        answer
            .answers()
            .iter()
            .filter_map(|record| record.data().as_txt())
            .flat_map(|txt| txt.txt_data().iter().map(|string| string.to_vec()))
            .collect()
    }

    #[tokio::test]
    async fn answers_a_cname_and_the_resolver_follows_it_into_another_zone() {
        let server = start(vec![
            Zone::new("example.com").cname("s1._domainkey.example.com", "s1.dkim.amazonses.com"),
            Zone::new("amazonses.com").txt("s1.dkim.amazonses.com", &["p=KEY"]),
        ])
        .await;
        let resolver = resolver(&server, false);

        let cname = resolver
            .lookup("s1._domainkey.example.com.", RecordType::CNAME)
            .await
            .expect("a CNAME answer");
        let targets: Vec<String> = cname
            .record_iter()
            .filter_map(|record| record.data().as_cname())
            .map(|target| target.0.to_string())
            .collect();
        assert_eq!(targets, ["s1.dkim.amazonses.com."]);

        let txt = resolver
            .txt_lookup("s1._domainkey.example.com.")
            .await
            .expect("the TXT at the CNAME's target");
        let strings: Vec<String> = txt.iter().map(ToString::to_string).collect();
        assert_eq!(strings, ["p=KEY"]);
    }

    #[tokio::test]
    async fn keeps_txt_strings_apart_and_splits_long_ones() {
        let long = "k".repeat(300);
        let server = start(vec![
            Zone::new("example.com.")
                .txt("two.example.com", &["v=DKIM1; k=rsa; ", "p=MIIB"])
                .txt("long.example.com", &[long.as_str()]),
        ])
        .await;
        let resolver = resolver(&server, false);

        let two = resolver
            .txt_lookup("two.example.com.")
            .await
            .expect("a TXT answer");
        let strings: Vec<Vec<u8>> = two
            .iter()
            .flat_map(|txt| txt.txt_data().iter().map(|string| string.to_vec()))
            .collect();
        assert_eq!(strings, [b"v=DKIM1; k=rsa; ".to_vec(), b"p=MIIB".to_vec()]);

        let split = resolver
            .txt_lookup("long.example.com.")
            .await
            .expect("a TXT answer");
        let lengths: Vec<usize> = split
            .iter()
            .flat_map(|txt| txt.txt_data().iter().map(|string| string.len()))
            .collect();
        assert_eq!(lengths, [255, 45]);
    }

    #[tokio::test]
    async fn tells_a_missing_name_from_a_name_without_that_type() {
        let server = start(vec![
            Zone::new("example.com")
                .a("mail.example.com", Ipv4Addr::new(192, 0, 2, 1))
                .txt("s1._domainkey.deep.example.com", &["v=DKIM1"]),
        ])
        .await;
        let resolver = resolver(&server, false);

        let missing = resolver
            .txt_lookup("missing.example.com.")
            .await
            .expect_err("no such name");
        assert_eq!(no_records_code(&missing), (ResponseCode::NXDomain, true));

        let other_type = resolver
            .txt_lookup("mail.example.com.")
            .await
            .expect_err("no TXT there");
        assert_eq!(no_records_code(&other_type), (ResponseCode::NoError, true));

        // A name with only names below it exists too.
        let empty = resolver
            .txt_lookup("_domainkey.deep.example.com.")
            .await
            .expect_err("no TXT there");
        assert_eq!(no_records_code(&empty), (ResponseCode::NoError, true));
    }

    #[tokio::test]
    async fn a_large_txt_arrives_whole_over_tcp() {
        let strings: Vec<String> = (0..8u8)
            .map(|index| char::from(b'a' + index).to_string().repeat(250))
            .collect();
        let server = start(vec![
            Zone::new("example.com").txt("big.example.com", &strings),
        ])
        .await;

        for edns0 in [false, true] {
            let answer = resolver(&server, edns0)
                .txt_lookup("big.example.com.")
                .await
                .unwrap_or_else(|error| panic!("the whole TXT (EDNS {edns0}): {error}"));
            let received: Vec<String> = answer
                .iter()
                .flat_map(|txt| txt.txt_data().iter())
                .map(|string| String::from_utf8_lossy(string).into_owned())
                .collect();
            assert_eq!(received, strings, "EDNS {edns0}");
            assert!(received.concat().len() > 1_500);
        }
    }

    #[tokio::test]
    async fn truncates_udp_answers_to_what_the_client_can_take() {
        let big = "x".repeat(2_000);
        let server = start(vec![
            Zone::new("example.com")
                .txt("big.example.com", &[big.as_str()])
                .txt("small.example.com", &["hello"]),
        ])
        .await;

        let (classic, size) = ask_udp(&server, "big.example.com.", RecordType::TXT, None).await;
        assert!(classic.truncated(), "TC without EDNS");
        assert!(size <= 512, "{size} bytes without EDNS");
        assert!(
            classic.extensions().is_none(),
            "no OPT when the query had none"
        );

        let (edns, size) = ask_udp(&server, "big.example.com.", RecordType::TXT, Some(1232)).await;
        assert!(edns.truncated(), "TC with EDNS 1232");
        assert!(size <= 1232, "{size} bytes with EDNS 1232");

        let (roomy, _) = ask_udp(&server, "big.example.com.", RecordType::TXT, Some(4096)).await;
        assert!(!roomy.truncated(), "no TC when it fits");
        assert_eq!(txt_strings(&roomy).concat().len(), 2_000);

        let (small, _) = ask_udp(&server, "small.example.com.", RecordType::TXT, None).await;
        assert!(!small.truncated());
        assert_eq!(txt_strings(&small), [b"hello".to_vec()]);
    }

    #[tokio::test]
    async fn answers_with_authority_even_when_asked_to_recurse() {
        let server = start(vec![
            Zone::new("example.com").txt("Mixed.Example.com", &["v=spf1 -all"]),
        ])
        .await;

        let (answer, _) = ask_udp(&server, "mixed.example.com.", RecordType::TXT, None).await;
        assert_eq!(answer.response_code(), ResponseCode::NoError);
        assert!(answer.authoritative(), "AA");
        assert!(answer.recursion_desired(), "RD echoed");
        assert_eq!(txt_strings(&answer), [b"v=spf1 -all".to_vec()]);
        assert_eq!(answer.answers()[0].name().to_string(), "Mixed.Example.com.");

        let (missing, _) = ask_udp(&server, "nope.example.com.", RecordType::TXT, None).await;
        assert_eq!(missing.response_code(), ResponseCode::NXDomain);
        assert!(missing.authoritative(), "AA on NXDOMAIN");
        assert_eq!(missing.name_servers()[0].record_type(), RecordType::SOA);

        // hickory answers an SOA query anywhere in the zone with the apex SOA.
        let (soa, _) = ask_udp(&server, "nope.example.com.", RecordType::SOA, None).await;
        assert_eq!(soa.answers()[0].name().to_string(), "example.com.");
    }

    #[tokio::test]
    async fn refuses_names_outside_its_zones() {
        let server = start(vec![Zone::new("example.com")]).await;
        let (answer, _) = ask_udp(&server, "example.org.", RecordType::TXT, None).await;
        assert_eq!(answer.response_code(), ResponseCode::Refused);
        assert!(answer.answers().is_empty());
    }

    #[tokio::test]
    async fn a_failing_zone_answers_servfail_and_leaves_its_parent_alone() {
        let server = start(vec![
            Zone::new("example.com").txt("_dmarc.example.com", &["parent's own"]),
            Zone::new("down.example.com")
                .txt("s1._domainkey.down.example.com", &["v=DKIM1"])
                .failing(),
        ])
        .await;

        for name in ["s1._domainkey.down.example.com.", "down.example.com."] {
            let (answer, _) = ask_udp(&server, name, RecordType::TXT, None).await;
            assert_eq!(answer.response_code(), ResponseCode::ServFail, "{name}");
            assert!(answer.answers().is_empty(), "{name}");
            assert_eq!(answer.id(), 4242);
        }
        let (parent, _) = ask_udp(&server, "_dmarc.example.com.", RecordType::TXT, None).await;
        assert_eq!(txt_strings(&parent), [b"parent's own".to_vec()]);
    }

    #[tokio::test]
    async fn answers_from_the_deepest_zone() {
        let server = start(vec![
            Zone::new("example.com")
                .ns("sub.example.com", "ns1.sub.example.com")
                .txt("_dmarc.sub.example.com", &["from the parent"])
                .txt("_dmarc.example.com", &["parent's own"])
                .ns("gone.example.com", "ns1.gone.example.com"),
            Zone::new("sub.example.com").txt("_dmarc.sub.example.com", &["from the child"]),
        ])
        .await;

        let (child, _) = ask_udp(&server, "_dmarc.sub.example.com.", RecordType::TXT, None).await;
        assert_eq!(txt_strings(&child), [b"from the child".to_vec()]);

        let (parent, _) = ask_udp(&server, "_dmarc.example.com.", RecordType::TXT, None).await;
        assert_eq!(txt_strings(&parent), [b"parent's own".to_vec()]);

        // No referral for a delegated child that is not served.
        let (delegated, _) = ask_udp(&server, "x.gone.example.com.", RecordType::TXT, None).await;
        assert_eq!(delegated.response_code(), ResponseCode::NXDomain);
    }

    #[tokio::test]
    async fn bad_zones_are_refused_with_the_problem_named() {
        let cases = [
            (vec![Zone::new("bad..example")], "\"bad..example\""),
            (vec![Zone::new("")], "empty"),
            (
                vec![Zone::new("example.com").txt("a b.example.com", &["x"])],
                "\"a b.example.com\"",
            ),
            (
                vec![Zone::new("example.com").cname("www.example.com", "-bad-.example.net")],
                "\"-bad-.example.net\"",
            ),
            (
                vec![
                    Zone::new("example.com")
                        .txt(&format!("{}.example.com", "l".repeat(64)), &["x"]),
                ],
                "not a valid domain name",
            ),
            (
                vec![Zone::new("example.com").a("mail.example.org", Ipv4Addr::LOCALHOST)],
                "mail.example.org. is outside zone example.com",
            ),
            (
                vec![
                    Zone::new("example.com")
                        .cname("www.example.com", "example.net")
                        .txt("www.example.com", &["x"]),
                ],
                "cannot share its name with a CNAME",
            ),
            (
                vec![Zone::new("example.com"), Zone::new("Example.com.")],
                "given twice",
            ),
        ];
        for (zones, expected) in cases {
            let error = match serve(SocketAddr::from(([127, 0, 0, 1], 0)), zones).await {
                Ok(server) => panic!("served at {} despite {expected}", server.addr()),
                Err(error) => error,
            };
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error}");
            assert!(
                error.to_string().contains(expected),
                "{error} lacks {expected}"
            );
        }
    }

    #[tokio::test]
    async fn serves_udp_and_tcp_on_one_port_until_dropped() {
        let server = start(vec![Zone::new("example.com")]).await;
        let addr = server.addr();
        assert_eq!(addr.ip(), IpAddr::from([127, 0, 0, 1]));
        assert_ne!(addr.port(), 0);
        tokio::net::TcpStream::connect(addr)
            .await
            .expect("TCP on the UDP port");

        drop(server);
        let mut closed = false;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(closed, "the listener closes once the server is dropped");
    }
}
