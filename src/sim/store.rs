//! Every simulated region's identities and the SES operations on them, independent of the
//! wire protocol. Each operation validates as SES does before it changes anything.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::error::SimError;
use super::identity::{SimIdentity, random_token};
use super::validate::{self, NameKind};
use crate::model::{
    DkimState, DkimStatus, IdentityType, KeyLength, SigningOrigin, UnixSeconds, Verification,
};

/// Most identities one v1 GetIdentityDkimAttributes call may ask about.
pub const MAX_DKIM_ATTRIBUTE_IDENTITIES: usize = 100;
/// Largest page of ListEmailIdentities / ListIdentities.
pub const MAX_PAGE_SIZE: usize = 1000;
/// SES allows one Easy DKIM key length change per day.
const KEY_LENGTH_CHANGE_INTERVAL: UnixSeconds = 24 * 60 * 60;

/// DKIM signing input of CreateEmailIdentity and PutEmailIdentityDkimSigningAttributes.
/// The private key is only validated, never stored, and never printed by `Debug`.
#[derive(Clone, Default)]
pub struct SigningInput {
    /// BYODKIM selector.
    pub selector: Option<String>,
    /// BYODKIM private key (base64 DER).
    pub private_key: Option<String>,
    /// Easy DKIM `RSA_1024_BIT` / `RSA_2048_BIT`.
    pub next_key_length: Option<String>,
    /// CreateEmailIdentity only: `AWS_SES_<REGION>` for a DEED replica.
    pub domain_origin: Option<String>,
}

impl std::fmt::Debug for SigningInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningInput")
            .field("selector", &self.selector)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "[redacted]"),
            )
            .field("next_key_length", &self.next_key_length)
            .field("domain_origin", &self.domain_origin)
            .finish()
    }
}

/// An identity as SES reports it, with replicas and addresses resolved through their parents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityView {
    /// Name as stored.
    pub name: String,
    /// Domain or email address.
    pub identity_type: IdentityType,
    /// DKIM attributes.
    pub dkim: DkimState,
    /// Verification attributes.
    pub verification: Verification,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// What a listing keeps: every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// v2 `IDENTITY_NAME_CONTAINS`: a substring of the name (case-insensitive).
    pub name_contains: Option<String>,
    /// v2 `IDENTITY_TYPE`, v1 `IdentityType`.
    pub identity_type: Option<IdentityType>,
    /// v2 `VERIFICATION_STATUS`.
    pub verification_status: Option<DkimStatus>,
}

impl ListFilter {
    fn matches(&self, view: &IdentityView) -> bool {
        self.name_contains
            .as_ref()
            .is_none_or(|part| view.name.contains(&part.to_ascii_lowercase()))
            && self
                .identity_type
                .as_ref()
                .is_none_or(|t| &view.identity_type == t)
            && self
                .verification_status
                .as_ref()
                .is_none_or(|s| view.verification.status.as_ref() == Some(s))
    }
}

/// One page of a listing, with the token for the next page if there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The identities on this page.
    pub identities: Vec<IdentityView>,
    /// Opaque token for the next page.
    pub next_token: Option<String>,
}

/// All regions' identities.
#[derive(Debug, Default)]
pub struct Regions {
    regions: HashMap<String, BTreeMap<String, SimIdentity>>,
    /// Demo schedule: PENDING identities verify after this many seconds; `None` holds them.
    pub auto_verify_after: Option<UnixSeconds>,
}

impl Regions {
    /// An empty simulator with the given schedule.
    pub fn new(auto_verify_after: Option<UnixSeconds>) -> Self {
        Self {
            regions: HashMap::new(),
            auto_verify_after,
        }
    }

    /// Stores an identity as-is (seeding and bulk loading; no validation, no quota).
    pub fn insert(&mut self, region: &str, identity: SimIdentity) {
        self.region_mut(region)
            .insert(identity.name.clone(), identity);
    }

    /// Number of identities in a region.
    pub fn count(&self, region: &str) -> usize {
        self.regions.get(region).map_or(0, BTreeMap::len)
    }

    /// v2 CreateEmailIdentity.
    pub fn create(
        &mut self,
        region: &str,
        name: &str,
        signing: Option<SigningInput>,
        tags: Vec<(String, String)>,
        now: UnixSeconds,
    ) -> Result<IdentityView, SimError> {
        let kind = validate::identity_name("EmailIdentity", name).map_err(SimError::bad_request)?;
        let name = canonical_name(name);
        if self.region(region).contains_key(&name) {
            return Err(SimError::identity_exists(&name));
        }
        let mut identity = match (kind, signing) {
            (NameKind::EmailAddress, None) => SimIdentity::email_address(&name, now),
            (NameKind::EmailAddress, Some(_)) => {
                return Err(SimError::bad_request(
                    "DkimSigningAttributes: can only be given for a domain identity",
                ));
            }
            (NameKind::Domain, None) => {
                SimIdentity::easy_dkim_domain(&name, KeyLength::Rsa2048, now)
            }
            (NameKind::Domain, Some(input)) => new_domain_with_signing(&name, input, now)?,
        };
        identity.tags = tags;
        self.insert(region, identity);
        self.view(region, &name, now)
    }

    /// v2 GetEmailIdentity.
    pub fn get(
        &mut self,
        region: &str,
        name: &str,
        now: UnixSeconds,
    ) -> Result<IdentityView, SimError> {
        self.view(region, &canonical_name(name), now)
    }

    /// BYODKIM: the public half of the key SES was given for `name`, if it has one (for
    /// tests: SES never returns it).
    pub fn byodkim_public_key(&self, region: &str, name: &str) -> Option<String> {
        self.region(region)
            .get(&canonical_name(name))
            .and_then(|identity| identity.byodkim_public_key.clone())
    }

    /// v2 DeleteEmailIdentity.
    pub fn delete(&mut self, region: &str, name: &str) -> Result<(), SimError> {
        let name = canonical_name(name);
        self.region_mut(region)
            .remove(&name)
            .map(drop)
            .ok_or_else(|| SimError::identity_not_found(&name))
    }

    /// v2 ListEmailIdentities and v1 ListIdentities: name order, `next_token` opaque.
    pub fn list(
        &mut self,
        region: &str,
        filter: &ListFilter,
        page_size: usize,
        next_token: Option<&str>,
        now: UnixSeconds,
    ) -> Result<Page, SimError> {
        let after = next_token.map(decode_next_token).transpose()?;
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let names: Vec<String> = self
            .region(region)
            .range::<String, _>((start, Bound::Unbounded))
            .map(|(name, _)| name.clone())
            .collect();
        let mut identities = Vec::new();
        let mut more = false;
        for name in names {
            let view = self.view(region, &name, now)?;
            if !filter.matches(&view) {
                continue;
            }
            if identities.len() == page_size {
                more = true;
                break;
            }
            identities.push(view);
        }
        let next_token = if more {
            identities
                .last()
                .map(|last| URL_SAFE_NO_PAD.encode(&last.name))
        } else {
            None
        };
        Ok(Page {
            identities,
            next_token,
        })
    }

    /// v1 GetIdentityDkimAttributes: up to 100 names; unknown names read as NotStarted.
    pub fn dkim_attributes(
        &mut self,
        region: &str,
        names: &[String],
        now: UnixSeconds,
    ) -> Result<Vec<(String, DkimState)>, SimError> {
        if names.len() > MAX_DKIM_ATTRIBUTE_IDENTITIES {
            return Err(SimError::bad_request(format!(
                "Identities: at most {MAX_DKIM_ATTRIBUTE_IDENTITIES} identities per call, got {}",
                names.len()
            )));
        }
        Ok(names
            .iter()
            .map(|name| {
                let dkim = self
                    .view(region, &canonical_name(name), now)
                    .map_or_else(|_| DkimState::not_started(), |view| view.dkim);
                (name.clone(), dkim)
            })
            .collect())
    }

    /// v2 PutEmailIdentityDkimSigningAttributes: returns the identity as it now stands.
    pub fn put_signing_attributes(
        &mut self,
        region: &str,
        name: &str,
        origin: &str,
        input: SigningInput,
        now: UnixSeconds,
    ) -> Result<IdentityView, SimError> {
        let name = canonical_name(name);
        let identity = self.existing_mut(region, &name, now)?;
        if !identity.is_domain() {
            return Err(SimError::bad_request(
                "EmailIdentity: DKIM signing attributes can only be set on a domain identity",
            ));
        }
        if input.domain_origin.is_some() {
            return Err(SimError::bad_request(
                "SigningAttributes.DomainSigningAttributesOrigin: not allowed here; use SigningAttributesOrigin",
            ));
        }
        match SigningOrigin::from_ses(origin) {
            SigningOrigin::EasyDkim => set_easy_dkim(identity, &input, now)?,
            SigningOrigin::Byodkim => {
                let (selector, public_key) = byodkim_input(&input)?;
                identity.use_byodkim(&selector, Some(&public_key), now);
            }
            SigningOrigin::Replica { .. } => {
                return Err(SimError::bad_request(format!(
                    "SigningAttributesOrigin: {origin} (Deterministic Easy DKIM) can only be chosen when the identity is created"
                )));
            }
            SigningOrigin::Unknown(_) => {
                return Err(SimError::bad_request(format!(
                    "SigningAttributesOrigin: '{origin}' is not a valid value"
                )));
            }
        }
        self.view(region, &name, now)
    }

    /// v2 PutEmailIdentityDkimAttributes: signing on or off.
    pub fn set_signing_enabled(
        &mut self,
        region: &str,
        name: &str,
        enabled: bool,
        now: UnixSeconds,
    ) -> Result<(), SimError> {
        let identity = self.existing_mut(region, &canonical_name(name), now)?;
        if enabled && identity.is_domain() && identity.origin.is_none() {
            return Err(SimError::bad_request(
                "SigningEnabled: set up DKIM for this domain first (Easy DKIM or BYODKIM)",
            ));
        }
        identity.signing_enabled = enabled;
        Ok(())
    }

    /// v1 VerifyDomainDkim: adds the domain if new, begins DKIM verification again if SES
    /// gave up on it (the same tokens), and returns its Easy DKIM tokens.
    pub fn verify_domain_dkim(
        &mut self,
        region: &str,
        domain: &str,
        now: UnixSeconds,
    ) -> Result<Vec<String>, SimError> {
        validate::domain_name("Domain", domain).map_err(SimError::bad_request)?;
        let name = canonical_name(domain);
        let identity = self
            .region_mut(region)
            .entry(name.clone())
            .or_insert_with(|| SimIdentity::easy_dkim_domain(&name, KeyLength::Rsa2048, now));
        if identity.origin.is_none() {
            identity.use_easy_dkim(KeyLength::Rsa2048, now);
            identity.signing_enabled = true;
        } else {
            identity.begin_verification_again(now);
        }
        Ok(self.view(region, &name, now)?.dkim.tokens)
    }

    /// v1 VerifyDomainIdentity: adds the domain if new and returns its TXT verification token.
    pub fn verify_domain_identity(
        &mut self,
        region: &str,
        domain: &str,
        now: UnixSeconds,
    ) -> Result<String, SimError> {
        validate::domain_name("Domain", domain).map_err(SimError::bad_request)?;
        let name = canonical_name(domain);
        let identity = self
            .region_mut(region)
            .entry(name.clone())
            .or_insert_with(|| SimIdentity::unverified_domain(&name, now));
        Ok(identity
            .verification_token
            .get_or_insert_with(|| URL_SAFE_NO_PAD.encode(random_token()))
            .clone())
    }

    /// Test control: sets an identity's DKIM status (and optional verification error type).
    pub fn force_status(
        &mut self,
        region: &str,
        name: &str,
        status: DkimStatus,
        error_type: Option<String>,
        now: UnixSeconds,
    ) -> Result<(), SimError> {
        let identity = self.existing_mut(region, &canonical_name(name), now)?;
        if matches!(identity.origin, Some(SigningOrigin::Replica { .. })) {
            return Err(SimError::bad_request(
                "status: a DEED replica's status follows its parent; set the parent's instead",
            ));
        }
        identity.set_status(status, now);
        identity.auto_verify = false;
        identity.error_type = error_type;
        Ok(())
    }

    /// Identities in every region.
    pub fn identity_count(&self) -> usize {
        self.regions.values().map(BTreeMap::len).sum()
    }

    /// The regions that hold (or held) identities, in name order.
    pub fn region_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.regions.keys().cloned().collect();
        names.sort();
        names
    }

    fn region(&self, region: &str) -> &BTreeMap<String, SimIdentity> {
        static EMPTY: BTreeMap<String, SimIdentity> = BTreeMap::new();
        self.regions.get(region).unwrap_or(&EMPTY)
    }

    fn region_mut(&mut self, region: &str) -> &mut BTreeMap<String, SimIdentity> {
        self.regions.entry(region.to_owned()).or_default()
    }

    /// The identity, with the demo schedule applied, or NotFound.
    fn existing_mut(
        &mut self,
        region: &str,
        name: &str,
        now: UnixSeconds,
    ) -> Result<&mut SimIdentity, SimError> {
        let delay = self.auto_verify_after;
        let identity = self
            .region_mut(region)
            .get_mut(name)
            .ok_or_else(|| SimError::identity_not_found(name))?;
        identity.advance(now, delay);
        Ok(identity)
    }

    /// The identity as SES reports it: replicas and addresses read through their parents.
    fn view(
        &mut self,
        region: &str,
        name: &str,
        now: UnixSeconds,
    ) -> Result<IdentityView, SimError> {
        let identity = self.existing_mut(region, name, now)?.clone();
        let (dkim, error_type) = match (&identity.identity_type, &identity.origin) {
            (IdentityType::EmailAddress, _) => (self.address_dkim(region, &identity, now), None),
            (_, Some(SigningOrigin::Replica { parent_region })) => {
                self.replica_dkim(region, parent_region, &identity, now)
            }
            _ => (own_dkim(region, &identity), identity.error_type.clone()),
        };
        let verification_status = match identity.identity_type {
            IdentityType::EmailAddress => identity.status.clone(),
            _ if dkim.status == DkimStatus::NotStarted && identity.verification_token.is_some() => {
                DkimStatus::Pending
            }
            _ => dkim.status.clone(),
        };
        let verification = Verification {
            verified_for_sending: verification_status == DkimStatus::Success,
            status: Some(verification_status),
            error_type,
            last_checked: identity.last_checked,
            last_success: identity.last_success,
        };
        Ok(IdentityView {
            name: identity.name,
            identity_type: identity.identity_type,
            dkim,
            verification,
            tags: identity.tags,
        })
    }

    /// An address signs with its domain's DKIM, when the domain is an identity too.
    fn address_dkim(&mut self, region: &str, address: &SimIdentity, now: UnixSeconds) -> DkimState {
        let domain = address.domain().to_owned();
        match self.view(region, &domain, now) {
            Ok(view) => DkimState {
                signing_enabled: view.dkim.signing_enabled && address.signing_enabled,
                ..view.dkim
            },
            Err(_) => DkimState::not_started(),
        }
    }

    /// A DEED replica uses its parent's tokens and status, or fails with SES's reason.
    fn replica_dkim(
        &mut self,
        region: &str,
        parent_region: &str,
        replica: &SimIdentity,
        now: UnixSeconds,
    ) -> (DkimState, Option<String>) {
        let parent = self
            .existing_mut(parent_region, &replica.name, now)
            .ok()
            .cloned();
        let failure = match &parent {
            _ if parent_region == region => Some("REPLICATION_PRIMARY_INVALID_REGION"),
            None => Some("REPLICATION_PRIMARY_NOT_FOUND"),
            Some(p) if p.origin == Some(SigningOrigin::Byodkim) => {
                Some("REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED")
            }
            Some(p) if matches!(p.origin, Some(SigningOrigin::Replica { .. })) => {
                Some("REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED")
            }
            Some(_) => None,
        };
        let mut dkim = DkimState {
            signing_enabled: replica.signing_enabled,
            status: DkimStatus::Failed,
            tokens: Vec::new(),
            signing_hosted_zone: Some(signing_hosted_zone(parent_region)),
            origin: replica.origin.clone(),
            current_key_length: None,
            next_key_length: None,
            last_key_generation: None,
        };
        match (failure, parent) {
            (None, Some(parent)) => {
                dkim.status = parent.status;
                dkim.tokens = parent.tokens;
                dkim.current_key_length = parent.current_key_length;
                dkim.next_key_length = parent.next_key_length;
                dkim.last_key_generation = parent.last_key_generation;
                (dkim, None)
            }
            (failure, _) => (dkim, failure.map(str::to_owned)),
        }
    }
}

/// Domains are case-insensitive: store them lower-cased (an address keeps its local part).
fn canonical_name(name: &str) -> String {
    match name.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => name.to_ascii_lowercase(),
    }
}

fn decode_next_token(token: &str) -> Result<String, SimError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| SimError::bad_request("NextToken: the token is invalid or expired"))
}

/// The zone the Easy DKIM CNAMEs point into. Regions opened since 2020 publish under their
/// own zone; the older ones share `dkim.amazonses.com`.
pub fn signing_hosted_zone(region: &str) -> String {
    const OWN_ZONE_REGIONS: [&str; 9] = [
        "af-south-1",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-5",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "il-central-1",
        "me-central-1",
    ];
    if OWN_ZONE_REGIONS.contains(&region) {
        format!("dkim.{region}.amazonses.com")
    } else {
        "dkim.amazonses.com".to_owned()
    }
}

fn own_dkim(region: &str, identity: &SimIdentity) -> DkimState {
    DkimState {
        signing_enabled: identity.signing_enabled,
        status: identity.status.clone(),
        tokens: identity.tokens.clone(),
        signing_hosted_zone: (identity.origin == Some(SigningOrigin::EasyDkim))
            .then(|| signing_hosted_zone(region)),
        origin: identity.origin.clone(),
        current_key_length: identity.current_key_length.clone(),
        next_key_length: identity.next_key_length.clone(),
        last_key_generation: identity.last_key_generation,
    }
}

/// A domain created with DkimSigningAttributes: BYODKIM, Easy DKIM with a key length, or DEED.
fn new_domain_with_signing(
    name: &str,
    input: SigningInput,
    now: UnixSeconds,
) -> Result<SimIdentity, SimError> {
    if let Some(origin) = &input.domain_origin {
        return match SigningOrigin::from_ses(origin) {
            SigningOrigin::Replica { parent_region } => {
                if input.selector.is_some()
                    || input.private_key.is_some()
                    || input.next_key_length.is_some()
                {
                    return Err(SimError::bad_request(
                        "DkimSigningAttributes: a DEED replica takes no selector, private key or key length",
                    ));
                }
                Ok(SimIdentity::replica_domain(name, &parent_region, now))
            }
            _ => Err(SimError::bad_request(format!(
                "DkimSigningAttributes.DomainSigningAttributesOrigin: '{origin}' is not allowed here; use an AWS_SES_<REGION> value to replicate a parent identity"
            ))),
        };
    }
    if input.selector.is_some() || input.private_key.is_some() {
        let (selector, public_key) = byodkim_input(&input)?;
        return Ok(SimIdentity::byodkim_domain(
            name,
            &selector,
            Some(&public_key),
            now,
        ));
    }
    let key_length = match &input.next_key_length {
        Some(value) => validate::key_length(value).map_err(SimError::bad_request)?,
        None => KeyLength::Rsa2048,
    };
    Ok(SimIdentity::easy_dkim_domain(name, key_length, now))
}

/// Checks BYODKIM input: selector and key both present and valid, no key length. Returns
/// the selector and the key's public half.
fn byodkim_input(input: &SigningInput) -> Result<(String, String), SimError> {
    let (Some(selector), Some(private_key)) = (&input.selector, &input.private_key) else {
        return Err(SimError::bad_request(
            "SigningAttributes: BYODKIM (EXTERNAL) needs both DomainSigningSelector and DomainSigningPrivateKey",
        ));
    };
    if input.next_key_length.is_some() {
        return Err(SimError::bad_request(
            "NextSigningKeyLength: applies to Easy DKIM only, not to BYODKIM",
        ));
    }
    validate::selector(selector).map_err(SimError::bad_request)?;
    let public_key = validate::private_key(private_key).map_err(SimError::bad_request)?;
    Ok((selector.clone(), public_key))
}

/// Easy DKIM: switch to it (fresh tokens, PENDING) or, if already on it, change the next
/// key length (at most once a day; the tokens and status stay).
fn set_easy_dkim(
    identity: &mut SimIdentity,
    input: &SigningInput,
    now: UnixSeconds,
) -> Result<(), SimError> {
    if input.selector.is_some() || input.private_key.is_some() {
        return Err(SimError::bad_request(
            "SigningAttributes: a selector and private key are for BYODKIM (EXTERNAL), not Easy DKIM (AWS_SES)",
        ));
    }
    let requested = input
        .next_key_length
        .as_deref()
        .map(validate::key_length)
        .transpose()
        .map_err(SimError::bad_request)?;
    if identity.origin != Some(SigningOrigin::EasyDkim) {
        identity.use_easy_dkim(requested.unwrap_or(KeyLength::Rsa2048), now);
        return Ok(());
    }
    let Some(requested) = requested else {
        return Ok(());
    };
    if identity.next_key_length.as_ref() == Some(&requested) {
        return Ok(());
    }
    if let Some(changed) = identity.key_length_changed_at
        && now - changed < KEY_LENGTH_CHANGE_INTERVAL
    {
        let wait_hours = (KEY_LENGTH_CHANGE_INTERVAL - (now - changed) + 3599) / 3600;
        return Err(SimError::bad_request(format!(
            "NextSigningKeyLength: the key length can be changed at most once per day; try again in about {wait_hours} h"
        )));
    }
    identity.next_key_length = Some(requested);
    identity.key_length_changed_at = Some(now);
    Ok(())
}
