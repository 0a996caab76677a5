//! Changing DKIM in SES for one target, within the same call budget as reads (so writes are
//! spaced and throttling is retried, never shown as a failure until retries run out):
//! signing mode and key (PutEmailIdentityDkimSigningAttributes), signing on/off
//! (PutEmailIdentityDkimAttributes), and new domain identities (CreateEmailIdentity).

use aws_sdk_sesv2::types::{
    DkimSigningAttributes, DkimSigningAttributesOrigin, DkimSigningKeyLength, Tag,
};

use super::error::Error;
use super::reader::SesConnection;
use crate::model::KeyLength;
use crate::signing_key::SigningKey;

/// How an identity should sign.
#[derive(Debug)]
pub enum SigningSetup<'a> {
    /// Easy DKIM; `next_key_length` sets the length of the next key (SES's default if `None`).
    EasyDkim {
        /// RSA_1024_BIT or RSA_2048_BIT.
        next_key_length: Option<KeyLength>,
    },
    /// The operator's own key under `selector`.
    Byodkim {
        /// The DNS selector.
        selector: &'a str,
        /// The checked private key.
        key: &'a SigningKey,
    },
    /// A DEED replica of the same domain in `parent_region` (only when creating).
    Replica {
        /// The parent's region.
        parent_region: &'a str,
    },
}

impl SigningSetup<'_> {
    fn origin(&self) -> DkimSigningAttributesOrigin {
        match self {
            Self::EasyDkim { .. } => DkimSigningAttributesOrigin::AwsSes,
            Self::Byodkim { .. } => DkimSigningAttributesOrigin::External,
            Self::Replica { parent_region } => DkimSigningAttributesOrigin::from(
                crate::model::SigningOrigin::Replica {
                    parent_region: (*parent_region).to_owned(),
                }
                .to_ses()
                .as_str(),
            ),
        }
    }

    /// The attributes to send; none when switching to Easy DKIM at SES's default length.
    fn attributes(&self) -> Option<DkimSigningAttributes> {
        let builder = DkimSigningAttributes::builder();
        Some(match self {
            Self::EasyDkim {
                next_key_length: None,
            } => return None,
            Self::EasyDkim { next_key_length } => builder
                .set_next_signing_key_length(
                    next_key_length
                        .as_ref()
                        .map(|k| DkimSigningKeyLength::from(k.as_ses())),
                )
                .build(),
            Self::Byodkim { selector, key } => builder
                .domain_signing_selector(*selector)
                .domain_signing_private_key(key.for_ses())
                .build(),
            Self::Replica { .. } => builder
                .domain_signing_attributes_origin(self.origin())
                .build(),
        })
    }
}

impl SesConnection {
    /// Switches `name` to `setup` (or, for Easy DKIM with a length, changes the next key's
    /// length; SES allows that once a day). SES answers with the new status (PENDING).
    pub async fn put_signing(&self, name: &str, setup: &SigningSetup<'_>) -> Result<(), Error> {
        let origin = setup.origin();
        let attributes = setup.attributes();
        self.budget
            .run("PutEmailIdentityDkimSigningAttributes", || {
                self.clients
                    .v2
                    .put_email_identity_dkim_signing_attributes()
                    .email_identity(name)
                    .signing_attributes_origin(origin.clone())
                    .set_signing_attributes(attributes.clone())
                    .send()
            })
            .await
            .map(drop)
    }

    /// Asks SES to begin DKIM verification of the Easy DKIM domain `name` again (SES API
    /// v1 `VerifyDomainDkim`; the tokens stay the same).
    pub async fn begin_dkim_verification(&self, name: &str) -> Result<(), Error> {
        self.budget
            .run("VerifyDomainDkim", || {
                self.clients.v1.verify_domain_dkim().domain(name).send()
            })
            .await
            .map(drop)
    }

    /// Turns DKIM signing on or off for `name`.
    pub async fn put_signing_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        self.budget
            .run("PutEmailIdentityDkimAttributes", || {
                self.clients
                    .v2
                    .put_email_identity_dkim_attributes()
                    .email_identity(name)
                    .signing_enabled(enabled)
                    .send()
            })
            .await
            .map(drop)
    }

    /// Creates the domain identity `name` signing as `setup`, with `tags`.
    pub async fn create_domain(
        &self,
        name: &str,
        setup: &SigningSetup<'_>,
        tags: &[(String, String)],
    ) -> Result<(), Error> {
        let tags: Vec<Tag> = tags
            .iter()
            .filter_map(|(key, value)| Tag::builder().key(key).value(value).build().ok())
            .collect();
        let attributes = setup.attributes();
        self.budget
            .run("CreateEmailIdentity", || {
                self.clients
                    .v2
                    .create_email_identity()
                    .email_identity(name)
                    .set_tags((!tags.is_empty()).then(|| tags.clone()))
                    .set_dkim_signing_attributes(attributes.clone())
                    .send()
            })
            .await
            .map(drop)
    }
}
