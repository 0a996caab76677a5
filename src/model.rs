//! Types the server and the browser share: what an identity is and what its DKIM state is.
//!
//! Enums mirror SES's string values and keep an `Unknown(String)` arm, so a value SES adds
//! tomorrow is shown as-is instead of failing the page. Times are Unix seconds (UTC): small
//! on the wire and free of a date crate in the browser bundle.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, UTC.
pub type UnixSeconds = i64;

/// Defines an enum over SES's string values with an `Unknown` arm and the two conversions.
macro_rules! ses_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of dkimdash does not know yet, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Parses SES's string form; anything unrecognised becomes `Unknown`.
            pub fn from_ses(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// SES's string form.
            pub fn as_ses(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_ses())
            }
        }
    };
}

ses_enum! {
    /// What kind of identity SES holds.
    IdentityType {
        /// A whole domain, e.g. `example.com`.
        Domain = "DOMAIN",
        /// A single address, e.g. `ops@example.com`.
        EmailAddress = "EMAIL_ADDRESS",
        /// A domain SES manages on the customer's behalf.
        ManagedDomain = "MANAGED_DOMAIN",
    }
}

ses_enum! {
    /// SES's DKIM (and verification) status of an identity.
    DkimStatus {
        /// SES has not yet found the records it looks for.
        Pending = "PENDING",
        /// SES found the records; mail is signed.
        Success = "SUCCESS",
        /// SES gave up looking for the records.
        Failed = "FAILED",
        /// A temporary problem (usually DNS) stopped SES from checking.
        TemporaryFailure = "TEMPORARY_FAILURE",
        /// Verification has not been started.
        NotStarted = "NOT_STARTED",
    }
}

ses_enum! {
    /// RSA key length of an Easy DKIM key.
    KeyLength {
        /// 1024-bit RSA: still accepted, weaker; SES's old default.
        Rsa1024 = "RSA_1024_BIT",
        /// 2048-bit RSA.
        Rsa2048 = "RSA_2048_BIT",
    }
}

impl KeyLength {
    /// The number of bits as operators write it ("1024"); unknown values verbatim.
    pub fn bits(&self) -> &str {
        match self {
            Self::Rsa1024 => "1024",
            Self::Rsa2048 => "2048",
            Self::Unknown(other) => other,
        }
    }
}

impl DkimStatus {
    /// How many of `statuses` there are of each: SES's five in a fixed order (zeros
    /// included), then any unknown values in the order first seen.
    pub fn counts<'a>(
        statuses: impl IntoIterator<Item = &'a DkimStatus>,
    ) -> Vec<(DkimStatus, usize)> {
        let mut counts: Vec<(DkimStatus, usize)> =
            Self::KNOWN.iter().map(|s| (s.clone(), 0)).collect();
        for status in statuses {
            match counts.iter_mut().find(|(known, _)| known == status) {
                Some((_, n)) => *n += 1,
                None => counts.push((status.clone(), 1)),
            }
        }
        counts
    }

    /// The five statuses SES documents, in the order the dashboard lists them.
    pub const KNOWN: [DkimStatus; 5] = [
        DkimStatus::Success,
        DkimStatus::Pending,
        DkimStatus::TemporaryFailure,
        DkimStatus::Failed,
        DkimStatus::NotStarted,
    ];

    /// Parses SES API v1's spelling (`Success`, `TemporaryFailure`, …).
    pub fn from_ses_v1(value: &str) -> Self {
        match value {
            "Pending" => Self::Pending,
            "Success" => Self::Success,
            "Failed" => Self::Failed,
            "TemporaryFailure" => Self::TemporaryFailure,
            "NotStarted" => Self::NotStarted,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// SES API v1's spelling.
    pub fn as_ses_v1(&self) -> &str {
        match self {
            Self::Pending => "Pending",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::TemporaryFailure => "TemporaryFailure",
            Self::NotStarted => "NotStarted",
            Self::Unknown(other) => other,
        }
    }
}

/// Where an identity's DKIM keys come from (SES's `SigningAttributesOrigin`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningOrigin {
    /// Easy DKIM: SES generates and rotates the keys (`AWS_SES`).
    EasyDkim,
    /// BYODKIM: the customer's own key (`EXTERNAL`).
    Byodkim,
    /// Deterministic Easy DKIM: the keys of the same identity in `parent_region`
    /// (`AWS_SES_<REGION>`, e.g. `AWS_SES_US_EAST_1` → `us-east-1`).
    Replica {
        /// The parent identity's region, in AWS's lower-case form.
        parent_region: String,
    },
    /// A value this version of dkimdash does not know yet, kept verbatim.
    Unknown(String),
}

impl SigningOrigin {
    /// Parses SES's string form.
    pub fn from_ses(value: &str) -> Self {
        match value {
            "AWS_SES" => Self::EasyDkim,
            "EXTERNAL" => Self::Byodkim,
            other => match other.strip_prefix("AWS_SES_") {
                Some(region) if is_region_suffix(region) => Self::Replica {
                    parent_region: region.to_ascii_lowercase().replace('_', "-"),
                },
                _ => Self::Unknown(other.to_owned()),
            },
        }
    }

    /// SES's string form.
    pub fn to_ses(&self) -> String {
        match self {
            Self::EasyDkim => "AWS_SES".to_owned(),
            Self::Byodkim => "EXTERNAL".to_owned(),
            Self::Replica { parent_region } => {
                format!(
                    "AWS_SES_{}",
                    parent_region.to_ascii_uppercase().replace('-', "_")
                )
            }
            Self::Unknown(other) => other.clone(),
        }
    }

    /// The short name operators use.
    pub fn label(&self) -> String {
        match self {
            Self::EasyDkim => "Easy DKIM".to_owned(),
            Self::Byodkim => "BYODKIM".to_owned(),
            Self::Replica { parent_region } => format!("DEED replica of {parent_region}"),
            Self::Unknown(other) => other.clone(),
        }
    }
}

/// `US_EAST_1`-shaped: upper-case words and a trailing number, joined by underscores.
fn is_region_suffix(value: &str) -> bool {
    let parts: Vec<&str> = value.split('_').collect();
    parts.len() >= 3
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|last| last.chars().all(|c| c.is_ascii_digit()))
}

/// Everything SES reports about an identity's DKIM signing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimState {
    /// Whether SES signs outgoing mail with DKIM for this identity.
    pub signing_enabled: bool,
    /// SES's DKIM status.
    pub status: DkimStatus,
    /// Easy DKIM: the three CNAME tokens. BYODKIM: the selector.
    pub tokens: Vec<String>,
    /// The DNS zone the CNAMEs point into (`dkim.amazonses.com` in most regions), when SES says.
    pub signing_hosted_zone: Option<String>,
    /// Easy DKIM, BYODKIM or a DEED replica; `None` until the full details are read.
    pub origin: Option<SigningOrigin>,
    /// Easy DKIM key length in use now.
    pub current_key_length: Option<KeyLength>,
    /// Easy DKIM key length the next rotation will use.
    pub next_key_length: Option<KeyLength>,
    /// Easy DKIM: when SES last generated a key pair.
    pub last_key_generation: Option<UnixSeconds>,
}

impl DkimState {
    /// No DKIM at all: what SES reports before DKIM is set up.
    pub fn not_started() -> Self {
        Self {
            signing_enabled: false,
            status: DkimStatus::NotStarted,
            tokens: Vec::new(),
            signing_hosted_zone: None,
            origin: None,
            current_key_length: None,
            next_key_length: None,
            last_key_generation: None,
        }
    }
}

/// SES's verification state of the identity itself (domain ownership), from GetEmailIdentity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Verification status (same values as DKIM status).
    pub status: Option<DkimStatus>,
    /// Whether SES lets this identity send.
    pub verified_for_sending: bool,
    /// Why the last check failed (`HOST_NOT_FOUND`, `REPLICATION_PRIMARY_NOT_FOUND`, …).
    pub error_type: Option<String>,
    /// When SES last checked.
    pub last_checked: Option<UnixSeconds>,
    /// When SES last found the records.
    pub last_success: Option<UnixSeconds>,
}

/// One SES identity in one account and region, as last read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The domain or address, as SES spells it.
    pub name: String,
    /// Domain, email address or managed domain.
    pub identity_type: IdentityType,
    /// The AWS region holding it, e.g. `eu-west-1`.
    pub region: String,
    /// The operator's label for the AWS account (from the target configuration).
    pub account: String,
    /// DKIM signing state.
    pub dkim: DkimState,
    /// Identity verification; `None` until the full details are read.
    pub verification: Option<Verification>,
    /// When the DKIM status was last read (every sweep).
    pub read_at: UnixSeconds,
    /// When the full details were last read; `None` if never.
    pub details_read_at: Option<UnixSeconds>,
    /// When the dashboard first read the current DKIM status (carried across reads while
    /// the status stays the same): how long an identity has been PENDING, for instance.
    /// Taken from dkimdash's history once the inventory has it, so a restart does not
    /// reset it; until then, this process's first read.
    pub status_seen_since: UnixSeconds,
}

impl Identity {
    /// The key that tells identities apart across targets.
    pub fn key(&self) -> IdentityKey {
        IdentityKey {
            account: self.account.clone(),
            region: self.region.clone(),
            name: self.name.clone(),
        }
    }

    /// Whether this is the identity `key` names (compares in place, no allocation).
    pub fn has_key(&self, key: &IdentityKey) -> bool {
        self.name == key.name && self.region == key.region && self.account == key.account
    }
}

/// Account, region and name: unique across everything the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IdentityKey {
    /// The operator's account label.
    pub account: String,
    /// The AWS region.
    pub region: String,
    /// The identity name.
    pub name: String,
}

/// An identity's key read in place: maps keyed by [`IdentityKey`] are looked up with an
/// [`Identity`] (`map.get(identity as &dyn KeyParts)`) without building a key, three
/// strings, for each look-up (the table's DNS filter asks once per identity).
pub trait KeyParts {
    /// Account, region and name, in [`IdentityKey`]'s order.
    fn parts(&self) -> (&str, &str, &str);
}

impl KeyParts for IdentityKey {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.account, &self.region, &self.name)
    }
}

impl KeyParts for Identity {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.account, &self.region, &self.name)
    }
}

impl<'a> std::borrow::Borrow<dyn KeyParts + 'a> for IdentityKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

/// Hashes as [`IdentityKey`]'s derived `Hash` does (its fields in order), as `Borrow`
/// requires.
impl std::hash::Hash for dyn KeyParts + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (account, region, name) = self.parts();
        account.hash(state);
        region.hash(state);
        name.hash(state);
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

/// A DNS record type the dashboard asks operators to publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordType {
    /// Easy DKIM (and DEED): a CNAME into SES's zone.
    Cname,
    /// BYODKIM: the public key as a TXT record.
    Txt,
}

impl RecordType {
    /// `CNAME` or `TXT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cname => "CNAME",
            Self::Txt => "TXT",
        }
    }
}

/// One DNS record to publish for DKIM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// CNAME or TXT.
    pub record_type: RecordType,
    /// The fully qualified name, without the trailing dot.
    pub name: String,
    /// The value; `None` when it is not known (SES never returns a BYODKIM public key).
    pub value: Option<String>,
}

/// A BYODKIM private key as pasted into a form, on its way to the server. Its `Debug`
/// never shows the key; the server turns it into a `secrecy` type at once.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PastedKey(pub String);

impl std::fmt::Debug for PastedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PastedKey([redacted])")
    }
}

/// Which SES the dashboard reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SesBackend {
    /// Amazon SES through the AWS credential chain.
    Aws,
    /// The embedded simulator with demo data: no AWS account involved.
    Simulator,
}

impl SesBackend {
    /// What the page header says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Aws => "Amazon SES",
            Self::Simulator => "demo: simulated SES",
        }
    }
}

/// How reading one target (account and region) has gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetStatus {
    /// The operator's account label.
    pub account: String,
    /// The AWS region.
    pub region: String,
    /// Identities in the last good read.
    pub identities: usize,
    /// When a sweep of this target last succeeded.
    pub last_success: Option<UnixSeconds>,
    /// The last failed sweep, if it came after the last success.
    pub last_error: Option<SweepError>,
    /// Identities still waiting for their first full details read.
    pub details_pending: usize,
}

/// A failed sweep: when, and what SES (or the network) said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepError {
    /// When it failed.
    pub at: UnixSeconds,
    /// What went wrong, in words an operator can act on.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_finds_what_its_key_finds() {
        use std::hash::BuildHasher;

        let identity = crate::attention::tests::domain("a.example", DkimStatus::Success);
        let mut other = identity.clone();
        other.region = "eu-west-1".into();
        let map = std::collections::HashMap::from([(identity.key(), 1), (other.key(), 2)]);
        assert_eq!(map.get(&identity as &dyn KeyParts), Some(&1));
        assert_eq!(map.get(&other as &dyn KeyParts), Some(&2));
        let mut unknown = identity.clone();
        unknown.name = "b.example".into();
        assert_eq!(map.get(&unknown as &dyn KeyParts), None);
        // Where one part ends counts, as it does for the key.
        let mut shifted = identity.clone();
        shifted.account = "produs-east-1".into();
        shifted.region = String::new();
        assert_eq!(map.get(&shifted as &dyn KeyParts), None);
        let hasher = map.hasher();
        assert_eq!(
            hasher.hash_one(identity.key()),
            hasher.hash_one(&identity as &dyn KeyParts),
            "hashed alike, as Borrow requires"
        );
    }

    #[test]
    fn dkim_status_round_trips_both_api_spellings() {
        for status in DkimStatus::KNOWN {
            assert_eq!(DkimStatus::from_ses(status.as_ses()), status);
            assert_eq!(DkimStatus::from_ses_v1(status.as_ses_v1()), status);
        }
        assert_eq!(
            DkimStatus::from_ses_v1("TemporaryFailure"),
            DkimStatus::TemporaryFailure
        );
        assert_eq!(
            DkimStatus::from_ses("TEMPORARY_FAILURE"),
            DkimStatus::TemporaryFailure
        );
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let status = DkimStatus::from_ses("SOMETHING_NEW");
        assert_eq!(status, DkimStatus::Unknown("SOMETHING_NEW".into()));
        assert_eq!(status.as_ses(), "SOMETHING_NEW");
        assert_eq!(KeyLength::from_ses("RSA_4096_BIT").as_ses(), "RSA_4096_BIT");
        assert_eq!(
            IdentityType::from_ses("EMAIL_ADDRESS"),
            IdentityType::EmailAddress
        );
    }

    #[test]
    fn replica_origins_name_the_parent_region() {
        let origin = SigningOrigin::from_ses("AWS_SES_US_EAST_1");
        assert_eq!(
            origin,
            SigningOrigin::Replica {
                parent_region: "us-east-1".into()
            }
        );
        assert_eq!(origin.to_ses(), "AWS_SES_US_EAST_1");
        let gov = SigningOrigin::from_ses("AWS_SES_US_GOV_WEST_1");
        assert_eq!(
            gov,
            SigningOrigin::Replica {
                parent_region: "us-gov-west-1".into()
            }
        );
        assert_eq!(gov.to_ses(), "AWS_SES_US_GOV_WEST_1");
    }

    #[test]
    fn plain_origins_and_odd_values() {
        assert_eq!(SigningOrigin::from_ses("AWS_SES"), SigningOrigin::EasyDkim);
        assert_eq!(SigningOrigin::from_ses("EXTERNAL"), SigningOrigin::Byodkim);
        for odd in [
            "AWS_SES_",
            "AWS_SES_US",
            "AWS_SES_us_east_1",
            "AWS_SES_US_EAST_X",
            "OTHER",
        ] {
            assert_eq!(
                SigningOrigin::from_ses(odd),
                SigningOrigin::Unknown(odd.into()),
                "{odd}"
            );
        }
    }
}
