//! The Route 53 provider against moto (`moto[server]`, a third-party mock of AWS) for the
//! happy path: zones listed, a zone found, records created in one batch, the change
//! followed to INSYNC, and read back. moto differs from Route 53 where the conflict rules
//! live (a CREATE over an existing name appends instead of failing), so those are tested
//! against the project's own simulator (publish_route53.rs). `scripts/test.sh` installs
//! moto and names its server in DKIMDASH_MOTO_SERVER.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use aws_sdk_route53::config::{Credentials, Region, SharedCredentialsProvider};
use dkimdash::{
    model::{DnsRecord, RecordType},
    publish::{plan::Step, provider::Provider, route53::Route53Provider},
};

/// moto's server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn moto() -> Moto {
    let server: PathBuf = std::env::var_os("DKIMDASH_MOTO_SERVER")
        .expect("DKIMDASH_MOTO_SERVER names moto_server (scripts/test.sh installs moto[server])")
        .into();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", server.display()));
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "moto did not start on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    moto
}

fn cname(token: &str) -> DnsRecord {
    DnsRecord {
        record_type: RecordType::Cname,
        name: format!("{token}._domainkey.moto-example.com"),
        value: Some(format!("{token}.dkim.amazonses.com")),
    }
}

#[tokio::test]
async fn records_are_published_at_moto_and_read_back() {
    let moto = moto().await;
    let sdk = aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::Config::builder()
            .behavior_version_latest()
            .http_client(dkimdash::aws_access::https_client())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "secret", None, None, "test",
            )))
            .endpoint_url(&moto.url)
            .build(),
    );
    sdk.create_hosted_zone()
        .name("moto-example.com")
        .caller_reference("dkimdash-test")
        .send()
        .await
        .unwrap();
    let route53 = Route53Provider::for_endpoint("moto", &moto.url, vec![]);
    let zones = route53.zones().await.unwrap();
    assert!(
        zones.iter().any(|z| z.name == "moto-example.com"),
        "{zones:?}"
    );
    let provider = Provider::Route53(route53);
    let wanted = [cname("tok1"), cname("tok2"), cname("tok3")];
    let zone = provider.zone_for(&wanted[0].name, None).await.unwrap();
    assert_eq!(zone.name, "moto-example.com");

    let plan = dkimdash::changes::publish::plan_at(&provider, &zone, &wanted)
        .await
        .unwrap();
    assert!(
        plan.records.iter().all(|r| r.step == Step::Create),
        "{plan:?}"
    );
    let applied = provider.apply(&zone, &plan, "dkimdash").await.unwrap();
    assert!(applied.change_id.is_some(), "{applied:?}");
    assert!(
        provider
            .wait_in_sync(&applied, Duration::from_secs(30))
            .await
            .unwrap()
    );

    let again = dkimdash::changes::publish::plan_at(&provider, &zone, &wanted)
        .await
        .unwrap();
    assert!(
        again.records.iter().all(|r| r.step == Step::AlreadyRight),
        "{again:?}"
    );
    let held = provider.records_in(&zone).await.unwrap();
    assert_eq!(
        held["tok2._domainkey.moto-example.com"][0].values,
        ["tok2.dkim.amazonses.com"]
    );
}
