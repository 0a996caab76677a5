//! Which identities need an operator, and why.

use serde::{Deserialize, Serialize};

use crate::model::{DkimStatus, Identity, IdentityType, SigningOrigin, UnixSeconds};

/// How long SES keeps looking for records before a PENDING identity fails.
pub const PENDING_LIMIT_SECS: UnixSeconds = 72 * 3600;

/// Why an identity needs attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attention {
    /// SES gave up: no signing.
    Failed,
    /// SES cannot find the records right now and will revoke signing if that lasts.
    TemporaryFailure,
    /// PENDING for longer than SES keeps looking.
    PendingTooLong,
    /// A verified domain that sends unsigned mail.
    SigningOff,
}

impl Attention {
    /// The reason in a few words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Failed => "DKIM failed",
            Self::TemporaryFailure => "records not found",
            Self::PendingTooLong => "pending over 72 h",
            Self::SigningOff => "signing off on a verified domain",
        }
    }
}

/// Why `identity` needs attention at `now`, or `None` if it does not.
pub fn attention(identity: &Identity, now: UnixSeconds) -> Option<Attention> {
    match identity.dkim.status {
        DkimStatus::Failed => Some(Attention::Failed),
        DkimStatus::TemporaryFailure => Some(Attention::TemporaryFailure),
        DkimStatus::Pending if now - pending_since(identity) > PENDING_LIMIT_SECS => {
            Some(Attention::PendingTooLong)
        }
        _ if !identity.dkim.signing_enabled && is_verified_domain(identity) => {
            Some(Attention::SigningOff)
        }
        _ => None,
    }
}

/// The best evidence of when PENDING began. SES does not report it: Easy DKIM generates its
/// keys when a setup or mode switch starts PENDING, so the key generation time counts when it
/// is earlier than the dashboard's first sight of the status (kept in its history across
/// restarts, but the dashboard may have started later); otherwise the first sight is all
/// there is.
pub fn pending_since(identity: &Identity) -> UnixSeconds {
    let generated = match identity.dkim.origin {
        Some(SigningOrigin::EasyDkim) => identity.dkim.last_key_generation,
        _ => None,
    };
    generated.map_or(identity.status_seen_since, |at| {
        at.min(identity.status_seen_since)
    })
}

/// A domain SES considers verified (by its verification status when the details are read,
/// else by a successful DKIM status, which verifies a domain too).
fn is_verified_domain(identity: &Identity) -> bool {
    identity.identity_type == IdentityType::Domain
        && match &identity.verification {
            Some(verification) => {
                verification.verified_for_sending
                    || verification.status == Some(DkimStatus::Success)
            }
            None => identity.dkim.status == DkimStatus::Success,
        }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{DkimState, Verification};

    /// A read domain identity with Easy DKIM, for tests across the table module.
    pub(crate) fn domain(name: &str, status: DkimStatus) -> Identity {
        Identity {
            name: name.into(),
            identity_type: IdentityType::Domain,
            region: "us-east-1".into(),
            account: "prod".into(),
            dkim: DkimState {
                signing_enabled: true,
                status,
                origin: Some(SigningOrigin::EasyDkim),
                ..DkimState::not_started()
            },
            verification: None,
            read_at: 1_000_000,
            details_read_at: Some(1_000_000),
            status_seen_since: 1_000_000,
        }
    }

    const HOUR: UnixSeconds = 3600;

    #[test]
    fn failures_always_need_attention() {
        let now = 1_000_000;
        assert_eq!(
            attention(&domain("a.example", DkimStatus::Failed), now),
            Some(Attention::Failed)
        );
        assert_eq!(
            attention(&domain("a.example", DkimStatus::TemporaryFailure), now),
            Some(Attention::TemporaryFailure)
        );
        assert_eq!(
            attention(&domain("a.example", DkimStatus::Success), now),
            None
        );
        assert_eq!(
            attention(&domain("a.example", DkimStatus::NotStarted), now),
            None
        );
    }

    #[test]
    fn pending_counts_from_key_generation_or_first_sight() {
        let mut pending = domain("a.example", DkimStatus::Pending);
        let seen = pending.status_seen_since;
        assert_eq!(attention(&pending, seen + 72 * HOUR), None);
        assert_eq!(
            attention(&pending, seen + 72 * HOUR + 1),
            Some(Attention::PendingTooLong)
        );
        // Keys generated four days before the dashboard first saw it: already overdue.
        pending.dkim.last_key_generation = Some(seen - 96 * HOUR);
        assert_eq!(attention(&pending, seen), Some(Attention::PendingTooLong));
        // BYODKIM has no SES key generation to go by.
        pending.dkim.origin = Some(SigningOrigin::Byodkim);
        assert_eq!(attention(&pending, seen), None);
    }

    #[test]
    fn signing_off_matters_only_on_verified_domains() {
        let now = 1_000_000;
        let mut off = domain("a.example", DkimStatus::Success);
        off.dkim.signing_enabled = false;
        assert_eq!(attention(&off, now), Some(Attention::SigningOff));

        off.identity_type = IdentityType::EmailAddress;
        assert_eq!(attention(&off, now), None);

        let mut unverified = domain("b.example", DkimStatus::NotStarted);
        unverified.dkim.signing_enabled = false;
        assert_eq!(attention(&unverified, now), None);
        unverified.verification = Some(Verification {
            status: Some(DkimStatus::Success),
            verified_for_sending: true,
            error_type: None,
            last_checked: None,
            last_success: None,
        });
        assert_eq!(attention(&unverified, now), Some(Attention::SigningOff));
    }
}
