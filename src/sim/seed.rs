//! The demo's identities: two regions, every DKIM status, Easy DKIM 1024 and 2048, BYODKIM,
//! DEED replicas (one healthy, one whose parent is missing), signing switched off, and
//! email-address identities. Seeded statuses hold still; identities created or switched
//! through the API follow the simulator's schedule.

use super::identity::SimIdentity;
use super::store::Regions;
use crate::model::{DkimStatus, KeyLength, UnixSeconds};

const HOUR: UnixSeconds = 3600;
const DAY: UnixSeconds = 24 * HOUR;

/// How one seeded identity is set up.
enum Setup {
    /// Easy DKIM with a key length, status, and how long ago the status was set.
    Easy(KeyLength, DkimStatus, UnixSeconds),
    /// BYODKIM with a selector and status.
    Byodkim(&'static str, DkimStatus),
    /// A DEED replica of the same name in another region.
    Replica(&'static str),
    /// Added with v1 VerifyDomainIdentity only: no DKIM yet.
    NoDkim,
    /// An email address, verified or not.
    Address(DkimStatus),
}

/// One seeded identity: region, name, set-up, signing on, verification error type.
type Row = (
    &'static str,
    &'static str,
    Setup,
    bool,
    Option<&'static str>,
);

fn rows() -> Vec<Row> {
    use DkimStatus::*;
    use KeyLength::*;
    use Setup::*;
    let east = "us-east-1";
    let west = "eu-west-1";
    vec![
        (
            east,
            "acme.example",
            Easy(Rsa2048, Success, 400 * DAY),
            true,
            None,
        ),
        (
            east,
            "mail.acme.example",
            Easy(Rsa2048, Success, 200 * DAY),
            true,
            None,
        ),
        (
            east,
            "billing.acme.example",
            Easy(Rsa1024, Success, 900 * DAY),
            true,
            None,
        ),
        (
            east,
            "news.acme.example",
            Easy(Rsa1024, Success, 700 * DAY),
            true,
            None,
        ),
        (
            east,
            "eu.acme.example",
            Easy(Rsa2048, Success, 90 * DAY),
            true,
            None,
        ),
        (
            east,
            "careers.acme.example",
            Easy(Rsa2048, Success, 60 * DAY),
            true,
            None,
        ),
        (
            east,
            "status.acme.example",
            Easy(Rsa2048, Success, 30 * DAY),
            true,
            None,
        ),
        (
            east,
            "events.acme.example",
            Easy(Rsa1024, Success, 500 * DAY),
            true,
            None,
        ),
        (
            east,
            "docs.acme.example",
            Easy(Rsa2048, Success, 10 * DAY),
            true,
            None,
        ),
        (
            east,
            "alerts.acme.example",
            Easy(Rsa2048, Success, 120 * DAY),
            false,
            None,
        ),
        (
            east,
            "marketing.acme.example",
            Easy(Rsa2048, Pending, 2 * HOUR),
            true,
            None,
        ),
        (
            east,
            "legacy.acme.example",
            Easy(Rsa1024, Pending, 5 * DAY),
            true,
            None,
        ),
        (
            east,
            "shop.acme.example",
            Easy(Rsa2048, Failed, 4 * DAY),
            true,
            Some("HOST_NOT_FOUND"),
        ),
        (
            east,
            "promo.acme.example",
            Easy(Rsa2048, TemporaryFailure, 20 * HOUR),
            true,
            Some("DNS_SERVER_ERROR"),
        ),
        (
            east,
            "support.acme.example",
            Byodkim("sel2024", Success),
            true,
            None,
        ),
        (
            east,
            "partners.acme.example",
            Byodkim("partners1", Pending),
            true,
            None,
        ),
        (
            east,
            "internal.acme.example",
            Byodkim("k1", Failed),
            true,
            Some("TYPE_NOT_FOUND"),
        ),
        (east, "beta.acme.example", NoDkim, false, None),
        (east, "ops@acme.example", Address(Success), true, None),
        (east, "noreply@acme.example", Address(Success), true, None),
        (east, "ceo@acme.example", Address(Pending), true, None),
        (
            east,
            "bounce@shop.acme.example",
            Address(Success),
            true,
            None,
        ),
        (west, "eu.acme.example", Replica("us-east-1"), true, None),
        (west, "dr.acme.example", Replica("us-east-1"), true, None),
        (
            west,
            "acme-europe.example",
            Easy(Rsa2048, Success, 300 * DAY),
            true,
            None,
        ),
        (
            west,
            "mail.acme-europe.example",
            Easy(Rsa1024, Success, 800 * DAY),
            true,
            None,
        ),
        (
            west,
            "events.acme-europe.example",
            Easy(Rsa2048, Success, 45 * DAY),
            true,
            None,
        ),
        (
            west,
            "jobs.acme-europe.example",
            Easy(Rsa2048, Success, 15 * DAY),
            true,
            None,
        ),
        (
            west,
            "press.acme-europe.example",
            Easy(Rsa2048, Success, 200 * DAY),
            false,
            None,
        ),
        (
            west,
            "shop.acme-europe.example",
            Easy(Rsa2048, Pending, 30 * 60),
            true,
            None,
        ),
        (
            west,
            "gdpr.acme-europe.example",
            Easy(Rsa2048, Pending, 4 * DAY),
            true,
            None,
        ),
        (
            west,
            "billing.acme-europe.example",
            Easy(Rsa2048, TemporaryFailure, 6 * HOUR),
            true,
            Some("SERVICE_ERROR"),
        ),
        (
            west,
            "old.acme-europe.example",
            Easy(Rsa1024, Failed, 10 * DAY),
            true,
            Some("INVALID_VALUE"),
        ),
        (
            west,
            "legal.acme-europe.example",
            Byodkim("legal2025", Success),
            true,
            None,
        ),
        (
            west,
            "vendor.acme-europe.example",
            Byodkim("v1", TemporaryFailure),
            true,
            Some("DNS_SERVER_ERROR"),
        ),
        (west, "notify.acme-europe.example", NoDkim, false, None),
        (
            west,
            "team@acme-europe.example",
            Address(Success),
            true,
            None,
        ),
        (
            west,
            "info@acme-europe.example",
            Address(Success),
            true,
            None,
        ),
        (
            west,
            "dpo@acme-europe.example",
            Address(Pending),
            true,
            None,
        ),
        (west, "alerts@acme.example", Address(Pending), true, None),
    ]
}

/// Loads the demo identities into `regions`.
pub fn demo(regions: &mut Regions, now: UnixSeconds) {
    for (region, name, setup, signing_enabled, error_type) in rows() {
        let mut identity = match setup {
            Setup::Easy(key_length, status, age) => {
                let mut identity = SimIdentity::easy_dkim_domain(name, key_length, now - age);
                identity.set_status(status, now - age);
                identity
            }
            Setup::Byodkim(selector, status) => {
                let mut identity =
                    SimIdentity::byodkim_domain(name, selector, None, now - 30 * DAY);
                identity.set_status(status, now - DAY);
                identity
            }
            Setup::Replica(parent_region) => {
                SimIdentity::replica_domain(name, parent_region, now - 20 * DAY)
            }
            Setup::NoDkim => SimIdentity::unverified_domain(name, now - 3 * DAY),
            Setup::Address(status) => {
                let mut identity = SimIdentity::email_address(name, now - 50 * DAY);
                identity.set_status(status, now - 50 * DAY);
                identity
            }
        };
        identity.signing_enabled = signing_enabled;
        identity.error_type = error_type.map(str::to_owned);
        identity.auto_verify = false;
        identity.held = true;
        regions.insert(region, identity);
    }
}

/// How many identities the demo seed holds in each region (for tests and the README).
pub fn demo_counts() -> Vec<(&'static str, usize)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for (region, ..) in rows() {
        match counts.iter_mut().find(|(r, _)| *r == region) {
            Some((_, n)) => *n += 1,
            None => counts.push((region, 1)),
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdentityType, SigningOrigin};

    fn seeded() -> (Regions, UnixSeconds) {
        let mut regions = Regions::new(None);
        let now = 2_000_000_000;
        demo(&mut regions, now);
        (regions, now)
    }

    #[test]
    fn seed_covers_every_case_the_dashboard_shows() {
        let (mut regions, now) = seeded();
        let mut views = Vec::new();
        for (region, count) in demo_counts() {
            let page = regions
                .list(region, &Default::default(), 1000, None, now)
                .unwrap();
            assert_eq!(page.identities.len(), count);
            views.extend(page.identities);
        }
        assert!(
            (35..=45).contains(&views.len()),
            "about 40 identities, got {}",
            views.len()
        );
        for status in DkimStatus::KNOWN {
            assert!(
                views.iter().any(|v| v.dkim.status == status),
                "no {status:?}"
            );
        }
        let has = |f: &dyn Fn(&super::super::store::IdentityView) -> bool| views.iter().any(f);
        assert!(has(
            &|v| v.dkim.current_key_length == Some(KeyLength::Rsa1024)
        ));
        assert!(has(
            &|v| v.dkim.current_key_length == Some(KeyLength::Rsa2048)
        ));
        assert!(has(&|v| v.dkim.origin == Some(SigningOrigin::Byodkim)));
        assert!(has(
            &|v| !v.dkim.signing_enabled && v.verification.verified_for_sending
        ));
        assert!(has(&|v| v.identity_type == IdentityType::EmailAddress));
        assert!(has(&|v| matches!(
            v.dkim.origin,
            Some(SigningOrigin::Replica { .. })
        ) && v.dkim.status == DkimStatus::Success));
    }

    #[test]
    fn replica_follows_its_parent_or_fails_with_the_reason() {
        let (mut regions, now) = seeded();
        let parent = regions.get("us-east-1", "eu.acme.example", now).unwrap();
        let replica = regions.get("eu-west-1", "eu.acme.example", now).unwrap();
        assert_eq!(replica.dkim.tokens, parent.dkim.tokens);
        assert_eq!(replica.dkim.status, DkimStatus::Success);

        let orphan = regions.get("eu-west-1", "dr.acme.example", now).unwrap();
        assert_eq!(orphan.dkim.status, DkimStatus::Failed);
        assert_eq!(
            orphan.verification.error_type.as_deref(),
            Some("REPLICATION_PRIMARY_NOT_FOUND")
        );
    }
}
