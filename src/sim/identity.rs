//! One simulated identity and the DKIM rules SES applies to it.

use rand::{Rng, distributions::Alphanumeric};

use crate::model::{DkimStatus, IdentityType, KeyLength, SigningOrigin, UnixSeconds};

/// How long SES looks for the DKIM records of a PENDING identity before it reports FAILED.
pub const SEARCH_SECS: UnixSeconds = 72 * 60 * 60;
/// How long the link in an email address's verification message works.
pub const EMAIL_LINK_SECS: UnixSeconds = 24 * 60 * 60;
/// How many CNAME tokens Easy DKIM hands out.
const EASY_DKIM_TOKENS: usize = 3;
/// SES's Easy DKIM token length.
const TOKEN_LEN: usize = 32;

/// An identity as the simulator stores it. Secrets (BYODKIM private keys) are never kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimIdentity {
    /// Domain or address, as created.
    pub name: String,
    /// Domain or email address.
    pub identity_type: IdentityType,
    /// Whether SES signs with DKIM.
    pub signing_enabled: bool,
    /// DKIM status, as last set (a replica's is read from its parent instead).
    pub status: DkimStatus,
    /// Easy DKIM tokens or the BYODKIM selector.
    pub tokens: Vec<String>,
    /// Easy DKIM, BYODKIM or a DEED replica; `None` for email addresses.
    pub origin: Option<SigningOrigin>,
    /// Easy DKIM key length in use.
    pub current_key_length: Option<KeyLength>,
    /// Easy DKIM key length for the next rotation.
    pub next_key_length: Option<KeyLength>,
    /// When the Easy DKIM key pair was generated.
    pub last_key_generation: Option<UnixSeconds>,
    /// When the operator last changed the Easy DKIM key length (SES allows one change a day).
    pub key_length_changed_at: Option<UnixSeconds>,
    /// When `status` last changed.
    pub status_since: UnixSeconds,
    /// Whether a PENDING status moves to SUCCESS by itself after the configured delay.
    pub auto_verify: bool,
    /// A fixture whose status never changes by itself (the demo seed's): it neither
    /// verifies nor fails after 72 hours, so the demo shows every state however long it runs.
    pub held: bool,
    /// When SES last looked for the records.
    pub last_checked: Option<UnixSeconds>,
    /// When SES last found them.
    pub last_success: Option<UnixSeconds>,
    /// Why verification failed, when it did.
    pub error_type: Option<String>,
    /// Tags given at creation.
    pub tags: Vec<(String, String)>,
    /// The TXT token of v1's domain verification, once VerifyDomainIdentity issued one.
    pub verification_token: Option<String>,
    /// BYODKIM: the public half of the private key SES was given (base64 of the DER
    /// SubjectPublicKeyInfo), what the selector's TXT record must publish. The private
    /// half is never kept.
    pub byodkim_public_key: Option<String>,
}

impl SimIdentity {
    /// An identity with nothing set up yet: no DKIM, NOT_STARTED, signing off.
    fn blank(name: &str, identity_type: IdentityType, now: UnixSeconds) -> Self {
        Self {
            name: name.to_owned(),
            identity_type,
            signing_enabled: false,
            status: DkimStatus::NotStarted,
            tokens: Vec::new(),
            origin: None,
            current_key_length: None,
            next_key_length: None,
            last_key_generation: None,
            key_length_changed_at: None,
            status_since: now,
            auto_verify: true,
            held: false,
            last_checked: None,
            last_success: None,
            error_type: None,
            tags: Vec::new(),
            verification_token: None,
            byodkim_public_key: None,
        }
    }

    /// A new Easy DKIM domain: three fresh tokens, PENDING, signing on.
    pub fn easy_dkim_domain(name: &str, key_length: KeyLength, now: UnixSeconds) -> Self {
        let mut identity = Self::blank(name, IdentityType::Domain, now);
        identity.signing_enabled = true;
        identity.use_easy_dkim(key_length, now);
        identity
    }

    /// A new BYODKIM domain: its selector is its one token, PENDING, signing on.
    pub fn byodkim_domain(
        name: &str,
        selector: &str,
        public_key: Option<&str>,
        now: UnixSeconds,
    ) -> Self {
        let mut identity = Self::blank(name, IdentityType::Domain, now);
        identity.signing_enabled = true;
        identity.use_byodkim(selector, public_key, now);
        identity
    }

    /// A DEED replica of the same domain in `parent_region`; its tokens and status are its parent's.
    pub fn replica_domain(name: &str, parent_region: &str, now: UnixSeconds) -> Self {
        let mut identity = Self::blank(name, IdentityType::Domain, now);
        identity.signing_enabled = true;
        identity.origin = Some(SigningOrigin::Replica {
            parent_region: parent_region.to_owned(),
        });
        identity.set_status(DkimStatus::Pending, now);
        identity
    }

    /// A domain added by v1's VerifyDomainIdentity: no DKIM until VerifyDomainDkim.
    pub fn unverified_domain(name: &str, now: UnixSeconds) -> Self {
        Self::blank(name, IdentityType::Domain, now)
    }

    /// A new email-address identity, its verification email sent: PENDING until "clicked".
    /// DKIM follows its domain's identity; `signing_enabled` here is the address's own switch.
    pub fn email_address(name: &str, now: UnixSeconds) -> Self {
        let mut identity = Self::blank(name, IdentityType::EmailAddress, now);
        identity.signing_enabled = true;
        identity.status = DkimStatus::Pending;
        identity
    }

    /// Switches to Easy DKIM with fresh tokens; PENDING until the new CNAMEs are found.
    pub fn use_easy_dkim(&mut self, key_length: KeyLength, now: UnixSeconds) {
        self.origin = Some(SigningOrigin::EasyDkim);
        self.byodkim_public_key = None;
        self.tokens = easy_dkim_tokens();
        self.current_key_length = Some(key_length.clone());
        self.next_key_length = Some(key_length);
        self.last_key_generation = Some(now);
        self.set_status(DkimStatus::Pending, now);
    }

    /// Switches to (or updates) BYODKIM; PENDING until the selector's TXT record is found.
    pub fn use_byodkim(&mut self, selector: &str, public_key: Option<&str>, now: UnixSeconds) {
        self.origin = Some(SigningOrigin::Byodkim);
        self.tokens = vec![selector.to_owned()];
        self.byodkim_public_key = public_key.map(str::to_owned);
        self.current_key_length = None;
        self.next_key_length = None;
        self.last_key_generation = None;
        self.set_status(DkimStatus::Pending, now);
    }

    /// Sets the status and the bookkeeping SES keeps with it.
    pub fn set_status(&mut self, status: DkimStatus, now: UnixSeconds) {
        if status == DkimStatus::Success {
            self.last_success = Some(now);
            self.error_type = None;
        }
        if status != DkimStatus::NotStarted {
            self.last_checked = Some(now);
        }
        self.status = status;
        self.status_since = now;
    }

    /// v1 VerifyDomainDkim on an Easy DKIM domain SES gave up on (FAILED, or stuck at
    /// TEMPORARY_FAILURE): SES begins DKIM verification again, PENDING for a new search of
    /// up to 72 hours, with the same tokens. Any other state is left as it is.
    pub fn begin_verification_again(&mut self, now: UnixSeconds) {
        let gave_up = matches!(
            self.status,
            DkimStatus::Failed | DkimStatus::TemporaryFailure
        );
        if self.origin == Some(SigningOrigin::EasyDkim) && gave_up {
            self.set_status(DkimStatus::Pending, now);
            self.error_type = None;
        }
    }

    /// Applies time: a PENDING identity verifies once the demo's `delay` has passed, if it
    /// is to; otherwise, as documented, SES gives up on a domain after 72 hours of not
    /// finding the records (FAILED, `HOST_NOT_FOUND`), and an address's verification link
    /// expires after 24 hours (FAILED, no DNS error). A DEED replica has no search of its
    /// own: its status is its parent's.
    pub fn advance(&mut self, now: UnixSeconds, delay: Option<UnixSeconds>) {
        let replica = matches!(self.origin, Some(SigningOrigin::Replica { .. }));
        if self.held || replica || self.status != DkimStatus::Pending {
            return;
        }
        let verifies_at = delay
            .filter(|_| self.auto_verify)
            .map(|delay| self.status_since + delay);
        let gives_up_after = if self.is_domain() {
            SEARCH_SECS
        } else {
            EMAIL_LINK_SECS
        };
        let fails_at = self.status_since + gives_up_after;
        match verifies_at {
            Some(at) if at < fails_at && now >= at => self.set_status(DkimStatus::Success, at),
            _ if now >= fails_at => {
                self.set_status(DkimStatus::Failed, fails_at);
                if self.is_domain() {
                    self.error_type
                        .get_or_insert_with(|| "HOST_NOT_FOUND".to_owned());
                }
            }
            _ => {}
        }
    }

    /// Whether this is a domain identity (the only kind with DKIM settings of its own).
    pub fn is_domain(&self) -> bool {
        self.identity_type == IdentityType::Domain
    }

    /// The domain part of an email address, or the domain itself.
    pub fn domain(&self) -> &str {
        self.name
            .rsplit_once('@')
            .map_or(self.name.as_str(), |(_, domain)| domain)
    }
}

/// Three random 32-character lowercase tokens, as Easy DKIM issues.
pub fn easy_dkim_tokens() -> Vec<String> {
    (0..EASY_DKIM_TOKENS).map(|_| random_token()).collect()
}

/// A 32-character token of lowercase letters and digits.
pub fn random_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(TOKEN_LEN)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_three_fresh_32_char_lowercase_strings() {
        let tokens = easy_dkim_tokens();
        assert_eq!(tokens.len(), 3);
        for token in &tokens {
            assert_eq!(token.len(), 32);
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{token}"
            );
        }
        assert_ne!(tokens[0], tokens[1]);
        assert_ne!(easy_dkim_tokens(), tokens);
    }

    #[test]
    fn switching_mode_starts_pending_again() {
        let mut identity = SimIdentity::easy_dkim_domain("example.com", KeyLength::Rsa2048, 100);
        identity.set_status(DkimStatus::Success, 150);
        let old_tokens = identity.tokens.clone();

        identity.use_byodkim("sel1", None, 200);
        assert_eq!(identity.status, DkimStatus::Pending);
        assert_eq!(identity.tokens, vec!["sel1".to_owned()]);
        assert_eq!(identity.origin, Some(SigningOrigin::Byodkim));
        assert_eq!(identity.next_key_length, None);

        identity.use_easy_dkim(KeyLength::Rsa1024, 300);
        assert_eq!(identity.status, DkimStatus::Pending);
        assert_ne!(identity.tokens, old_tokens);
        assert_eq!(identity.current_key_length, Some(KeyLength::Rsa1024));
        assert_eq!(identity.last_key_generation, Some(300));
    }

    #[test]
    fn pending_verifies_after_the_delay_only_when_scheduled() {
        let mut identity = SimIdentity::easy_dkim_domain("example.com", KeyLength::Rsa2048, 1_000);
        identity.advance(1_059, Some(60));
        assert_eq!(identity.status, DkimStatus::Pending);
        identity.advance(1_060, Some(60));
        assert_eq!(identity.status, DkimStatus::Success);
        assert_eq!(identity.last_success, Some(1_060));

        let mut manual = SimIdentity::easy_dkim_domain("manual.example", KeyLength::Rsa2048, 0);
        manual.auto_verify = false;
        manual.advance(SEARCH_SECS - 1, Some(60));
        assert_eq!(manual.status, DkimStatus::Pending);

        let mut no_schedule = SimIdentity::easy_dkim_domain("x.example", KeyLength::Rsa2048, 0);
        no_schedule.advance(SEARCH_SECS - 1, None);
        assert_eq!(no_schedule.status, DkimStatus::Pending);
    }

    #[test]
    fn verifying_a_failed_easy_dkim_domain_again_searches_anew_with_the_same_tokens() {
        let mut failed = SimIdentity::easy_dkim_domain("f.example", KeyLength::Rsa2048, 0);
        failed.advance(SEARCH_SECS, None);
        assert_eq!(failed.status, DkimStatus::Failed);
        let tokens = failed.tokens.clone();
        failed.begin_verification_again(SEARCH_SECS + 10);
        assert_eq!(failed.status, DkimStatus::Pending);
        assert_eq!(failed.error_type, None);
        assert_eq!(failed.tokens, tokens);
        // A new search of 72 hours, from the restart.
        failed.advance(2 * SEARCH_SECS + 9, None);
        assert_eq!(failed.status, DkimStatus::Pending);
        failed.advance(2 * SEARCH_SECS + 10, None);
        assert_eq!(failed.status, DkimStatus::Failed);
    }

    #[test]
    fn verifying_again_leaves_a_domain_ses_has_not_given_up_on() {
        let mut verified = SimIdentity::easy_dkim_domain("v.example", KeyLength::Rsa2048, 0);
        verified.set_status(DkimStatus::Success, 5);
        verified.begin_verification_again(10);
        assert_eq!(
            (verified.status, verified.status_since),
            (DkimStatus::Success, 5)
        );
        let mut byodkim = SimIdentity::byodkim_domain("b.example", "sel", None, 0);
        byodkim.set_status(DkimStatus::Failed, 5);
        byodkim.begin_verification_again(10);
        assert_eq!(byodkim.status, DkimStatus::Failed);
    }

    #[test]
    fn pending_fails_after_72_hours_unless_it_verifies_first_or_is_held() {
        let mut never = SimIdentity::easy_dkim_domain("never.example", KeyLength::Rsa2048, 0);
        never.auto_verify = false;
        never.advance(SEARCH_SECS - 1, Some(60));
        assert_eq!(never.status, DkimStatus::Pending);
        never.advance(SEARCH_SECS + 500, Some(60));
        assert_eq!(never.status, DkimStatus::Failed);
        assert_eq!(never.status_since, SEARCH_SECS);
        assert_eq!(never.error_type.as_deref(), Some("HOST_NOT_FOUND"));

        // A verification scheduled after SES would have given up never comes.
        let mut late = SimIdentity::easy_dkim_domain("late.example", KeyLength::Rsa2048, 0);
        late.advance(SEARCH_SECS * 2, Some(SEARCH_SECS + 1));
        assert_eq!(late.status, DkimStatus::Failed);

        let mut held = SimIdentity::easy_dkim_domain("held.example", KeyLength::Rsa2048, 0);
        held.held = true;
        held.advance(SEARCH_SECS * 10, None);
        assert_eq!(held.status, DkimStatus::Pending);
    }

    #[test]
    fn an_address_fails_when_its_link_expires_after_24_hours_without_a_dns_error() {
        let mut address = SimIdentity::email_address("ops@example.com", 0);
        address.auto_verify = false;
        address.advance(EMAIL_LINK_SECS - 1, Some(60));
        assert_eq!(address.status, DkimStatus::Pending);
        address.advance(EMAIL_LINK_SECS, Some(60));
        assert_eq!(address.status, DkimStatus::Failed);
        assert_eq!(address.status_since, EMAIL_LINK_SECS);
        assert_eq!(address.error_type, None);
    }

    #[test]
    fn a_replica_is_left_alone_by_time() {
        let mut replica = SimIdentity::replica_domain("acme.example", "us-east-1", 0);
        let before = replica.clone();
        replica.advance(SEARCH_SECS * 10, Some(60));
        assert_eq!(
            replica, before,
            "its status and last check are its parent's"
        );
    }

    #[test]
    fn email_addresses_know_their_domain() {
        assert_eq!(
            SimIdentity::email_address("ops@example.com", 0).domain(),
            "example.com"
        );
        assert_eq!(
            SimIdentity::email_address("example.com", 0).domain(),
            "example.com"
        );
    }
}
