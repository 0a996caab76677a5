//! Restarting SES's DKIM verification of a FAILED Easy DKIM domain whose records are now
//! right. SES searches for the records for up to 72 hours and then stops at FAILED; the
//! documented way to begin again is to ask SES to begin DKIM verification for the domain
//! (SES API v1 `VerifyDomainDkim`, "a request instructing the service to begin DKIM
//! verification for a domain"), which keeps the domain's tokens, so the records already
//! published stay right. A BYODKIM domain begins again when SES is given its key again
//! (`PutEmailIdentityDkimSigningAttributes`, "searches … for up to 72 hours"): dkimdash
//! never keeps the key, so that is the BYODKIM form, not this change.

use crate::dns::monitor::{CheckNow, DnsMonitor};
use crate::dns_check::DnsHealth;
use crate::inventory::Inventory;
use crate::model::{DkimStatus, Identity, SigningOrigin};

use super::error::NotRestartable;
use super::ses_call::send;
use super::target::{connection, locate, refuse_unless_own_domain};
use super::{Actor, ChangeError, ChangeMade, refresh::finish};

/// What the DNS check found for the identity's records just before the restart: `None`
/// when the dashboard runs without DNS checks.
pub type RecordsNow = Option<DnsHealth>;

/// The DNS check's verdict on `identity`'s records now: a check at once, or the last one's
/// when it was checked moments ago. `None` without DNS checks.
pub async fn records_now(
    dns: Option<&DnsMonitor>,
    inventory: &Inventory,
    identity: &Identity,
    why: &str,
) -> RecordsNow {
    let monitor = dns?;
    let report = match monitor.check_now(inventory, identity, why).await {
        Ok(CheckNow::Checked(report)) => Some(report),
        Ok(CheckNow::StillChecking) => None,
        Err(_checked_moments_ago) => monitor.report(identity, inventory),
    };
    Some(report.map_or(DnsHealth::Unchecked, |report| report.health()))
}

/// Restarts SES's DKIM verification of `name` in `region` (and `account`), if SES has
/// given up on it (FAILED), it uses Easy DKIM, and `records_now` says the DNS check finds
/// every record right: restarting earlier would only fail again in 72 hours.
pub async fn restart_verification(
    actor: &Actor<'_>,
    region: &str,
    name: &str,
    account: Option<&str>,
    records_now: RecordsNow,
) -> Result<ChangeMade, ChangeError> {
    let identity = locate(actor.inventory, region, name, account)?;
    refuse_unless_own_domain(&identity)?;
    if let Some(why) = why_not_restartable(&identity, records_now) {
        return Err(ChangeError::NotRestartable {
            name: identity.name.clone(),
            why,
        });
    }
    let entry = send(
        actor,
        &identity,
        "restart DKIM verification".to_owned(),
        "VerifyDomainDkim",
        connection(actor.inventory, &identity)?.begin_dkim_verification(&identity.name),
    )
    .await?;
    let message = format!(
        "SES is looking for the records of {} again (PENDING, for up to 72 hours); the tokens and records stay the same.",
        identity.name
    );
    finish(
        actor,
        entry,
        identity.key(),
        message,
        "verification restarted",
    )
    .await
}

/// Why a restart would not help now, if it would not.
pub fn why_not_restartable(identity: &Identity, records_now: RecordsNow) -> Option<NotRestartable> {
    if let Some(SigningOrigin::Byodkim) = identity.dkim.origin {
        return Some(NotRestartable::Byodkim {
            selector: identity.dkim.tokens.first().cloned().unwrap_or_default(),
        });
    }
    if identity.dkim.origin != Some(SigningOrigin::EasyDkim) {
        return Some(NotRestartable::NoEasyDkim);
    }
    if identity.dkim.status != DkimStatus::Failed {
        return Some(NotRestartable::NotFailed(identity.dkim.status.clone()));
    }
    match records_now {
        Some(DnsHealth::Ok) => None,
        Some(DnsHealth::Problem) => Some(NotRestartable::RecordsWrong),
        Some(DnsHealth::Unchecked) => Some(NotRestartable::RecordsUnchecked),
        None => Some(NotRestartable::DnsChecksOff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DkimState, IdentityType};

    fn domain(origin: SigningOrigin, status: DkimStatus) -> Identity {
        Identity {
            name: "a.example".into(),
            identity_type: IdentityType::Domain,
            region: "eu-west-1".into(),
            account: "prod".into(),
            dkim: DkimState {
                signing_enabled: true,
                status,
                tokens: vec!["sel".into()],
                origin: Some(origin),
                ..DkimState::not_started()
            },
            verification: None,
            read_at: 0,
            details_read_at: None,
            status_seen_since: 0,
        }
    }

    #[test]
    fn a_failed_easy_dkim_domain_with_right_records_can_restart() {
        let failed = domain(SigningOrigin::EasyDkim, DkimStatus::Failed);
        assert_eq!(why_not_restartable(&failed, Some(DnsHealth::Ok)), None);
    }

    #[test]
    fn records_not_seen_right_refuse_the_restart() {
        let failed = domain(SigningOrigin::EasyDkim, DkimStatus::Failed);
        assert_eq!(
            why_not_restartable(&failed, Some(DnsHealth::Problem)),
            Some(NotRestartable::RecordsWrong)
        );
        assert_eq!(
            why_not_restartable(&failed, Some(DnsHealth::Unchecked)),
            Some(NotRestartable::RecordsUnchecked)
        );
        assert_eq!(
            why_not_restartable(&failed, None),
            Some(NotRestartable::DnsChecksOff)
        );
    }

    #[test]
    fn only_a_failed_status_is_restarted() {
        for status in [
            DkimStatus::Pending,
            DkimStatus::Success,
            DkimStatus::TemporaryFailure,
            DkimStatus::NotStarted,
        ] {
            let identity = domain(SigningOrigin::EasyDkim, status.clone());
            assert_eq!(
                why_not_restartable(&identity, Some(DnsHealth::Ok)),
                Some(NotRestartable::NotFailed(status))
            );
        }
    }

    #[test]
    fn a_byodkim_domain_is_sent_to_its_key_form() {
        let failed = domain(SigningOrigin::Byodkim, DkimStatus::Failed);
        assert_eq!(
            why_not_restartable(&failed, Some(DnsHealth::Ok)),
            Some(NotRestartable::Byodkim {
                selector: "sel".into()
            })
        );
    }
}
