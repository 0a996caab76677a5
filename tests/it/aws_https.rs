//! The HTTPS client every AWS client is given (the SDKs are built without their own):
//! it speaks TLS to an `https://` endpoint, with rustls on ring and no process-wide
//! provider installed first. No AWS here, so the far end is a listener that records what
//! arrives and hangs up.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn an_https_endpoint_gets_a_tls_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut bytes = [0u8; 3];
        stream.read_exact(&mut bytes).await.unwrap();
        bytes
    });
    let config = dkimdash::aws_access::fixed_credentials(
        "eu-west-1",
        &format!("https://127.0.0.1:{port}"),
        RetryConfig::disabled(),
        TimeoutConfig::builder()
            .operation_timeout(Duration::from_secs(10))
            .build(),
    );
    let ses = aws_sdk_sesv2::Client::new(&config);
    let answer = ses.list_email_identities().send().await;

    let error = format!("{:?}", answer.expect_err("the listener hangs up"));
    assert!(!error.contains("No HTTP client"), "{error}");
    // A TLS record of type handshake (22), protocol major version 3: a ClientHello.
    let bytes = tokio::time::timeout(Duration::from_secs(10), first_bytes)
        .await
        .expect("the client connected")
        .unwrap();
    assert_eq!(bytes[..2], [22, 3], "not a TLS handshake: {bytes:?}");
}
