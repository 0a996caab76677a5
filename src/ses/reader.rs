//! Reading identities from SES for one target, within its call budget:
//! the identity list (1,000 a page), DKIM state in batches of 100 (v1), and full details
//! (v2) one identity at a time, only where needed.

use std::collections::HashMap;

use aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityOutput;

use super::budget::{CallBudget, CallCounts, CallPriority};
use super::client::SesClients;
use super::error::Error;
use super::target::Target;
use crate::model::{
    DkimState, DkimStatus, Identity, IdentityType, KeyLength, SigningOrigin, UnixSeconds,
    Verification,
};

/// Largest page ListEmailIdentities returns.
pub const LIST_PAGE_SIZE: i32 = 1000;
/// Most identities one GetIdentityDkimAttributes call accepts.
pub const DKIM_BATCH_SIZE: usize = 100;

/// DKIM state as the v1 batch read reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchDkim {
    /// Signing on or off.
    pub signing_enabled: bool,
    /// DKIM status.
    pub status: DkimStatus,
    /// Tokens (or the BYODKIM selector).
    pub tokens: Vec<String>,
}

/// One target's SES: its clients and its call budget. Reads are in `reader.rs`, writes in
/// `writer.rs`.
#[derive(Debug)]
pub struct SesConnection {
    /// Which account and region.
    pub target: Target,
    pub(super) clients: SesClients,
    pub(super) budget: CallBudget,
}

impl SesConnection {
    /// A reader for `target` using `clients`, spending `budget`.
    pub fn new(target: Target, clients: SesClients, budget: CallBudget) -> Self {
        Self {
            target,
            clients,
            budget,
        }
    }

    /// A reader for a target served by the simulator (or another SES-compatible endpoint
    /// that accepts any signature).
    pub fn for_endpoint(
        account: &str,
        region: &str,
        endpoint_url: &str,
        budget: CallBudget,
    ) -> Self {
        let target = Target::at_endpoint(account, region, endpoint_url);
        Self::new(
            target,
            SesClients::for_endpoint(endpoint_url, region),
            budget,
        )
    }

    /// Calls, throttles and retries so far.
    pub fn counts(&self) -> CallCounts {
        self.budget.counts()
    }

    /// Calls, throttles and failures so far, by SES operation.
    pub fn counts_by_operation(&self) -> Vec<(&'static str, super::budget::OperationCounts)> {
        self.budget.counts_by_operation()
    }

    /// Every identity's name and type, across all pages.
    pub async fn list_identities(&self) -> Result<Vec<(String, IdentityType)>, Error> {
        let mut identities = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let token = next_token.clone();
            let page = self
                .budget
                .run("ListEmailIdentities", || {
                    self.clients
                        .v2
                        .list_email_identities()
                        .page_size(LIST_PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            identities.extend(page.email_identities().iter().filter_map(|info| {
                let name = info.identity_name()?.to_owned();
                let kind = info
                    .identity_type()
                    .map_or(IdentityType::Domain, |t| IdentityType::from_ses(t.as_str()));
                Some((name, kind))
            }));
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(identities),
            }
        }
    }

    /// DKIM state of `names`, 100 per call.
    pub async fn batch_dkim(&self, names: &[String]) -> Result<HashMap<String, BatchDkim>, Error> {
        let mut out = HashMap::with_capacity(names.len());
        for chunk in names.chunks(DKIM_BATCH_SIZE) {
            let answer = self
                .budget
                .run("GetIdentityDkimAttributes", || {
                    self.clients
                        .v1
                        .get_identity_dkim_attributes()
                        .set_identities(Some(chunk.to_vec()))
                        .send()
                })
                .await?;
            for (name, attributes) in answer.dkim_attributes() {
                out.insert(
                    name.clone(),
                    BatchDkim {
                        signing_enabled: attributes.dkim_enabled(),
                        status: DkimStatus::from_ses_v1(
                            attributes.dkim_verification_status().as_str(),
                        ),
                        tokens: attributes.dkim_tokens().to_vec(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Full v2 details of one identity.
    pub async fn details(&self, name: &str, now: UnixSeconds) -> Result<Identity, Error> {
        self.details_as(CallPriority::Foreground, name, now).await
    }

    /// Full v2 details of one identity, on `turn` (the backfill runs in the background).
    pub async fn details_as(
        &self,
        turn: CallPriority,
        name: &str,
        now: UnixSeconds,
    ) -> Result<Identity, Error> {
        let output = self
            .budget
            .run_as(turn, "GetEmailIdentity", || {
                self.clients
                    .v2
                    .get_email_identity()
                    .email_identity(name)
                    .send()
            })
            .await?;
        Ok(identity_from_details(&self.target, name, &output, now))
    }
}

/// Turns a GetEmailIdentity answer into the model.
fn identity_from_details(
    target: &Target,
    name: &str,
    output: &GetEmailIdentityOutput,
    now: UnixSeconds,
) -> Identity {
    let dkim = output.dkim_attributes();
    let key_length = |k: Option<&aws_sdk_sesv2::types::DkimSigningKeyLength>| {
        k.map(|k| KeyLength::from_ses(k.as_str()))
    };
    let info = output.verification_info();
    Identity {
        name: name.to_owned(),
        identity_type: output
            .identity_type()
            .map_or(IdentityType::Domain, |t| IdentityType::from_ses(t.as_str())),
        region: target.region.clone(),
        account: target.account.clone(),
        dkim: DkimState {
            signing_enabled: dkim.is_some_and(|d| d.signing_enabled()),
            status: dkim
                .and_then(|d| d.status())
                .map_or(DkimStatus::NotStarted, |s| DkimStatus::from_ses(s.as_str())),
            tokens: dkim.map(|d| d.tokens().to_vec()).unwrap_or_default(),
            signing_hosted_zone: dkim
                .and_then(|d| d.signing_hosted_zone())
                .map(str::to_owned),
            origin: dkim
                .and_then(|d| d.signing_attributes_origin())
                .map(|o| SigningOrigin::from_ses(o.as_str())),
            current_key_length: key_length(dkim.and_then(|d| d.current_signing_key_length())),
            next_key_length: key_length(dkim.and_then(|d| d.next_signing_key_length())),
            last_key_generation: dkim
                .and_then(|d| d.last_key_generation_timestamp())
                .map(|t| t.secs()),
        },
        verification: Some(Verification {
            status: output
                .verification_status()
                .map(|s| DkimStatus::from_ses(s.as_str())),
            verified_for_sending: output.verified_for_sending_status(),
            error_type: info
                .and_then(|i| i.error_type())
                .map(|e| e.as_str().to_owned()),
            last_checked: info
                .and_then(|i| i.last_checked_timestamp())
                .map(|t| t.secs()),
            last_success: info
                .and_then(|i| i.last_success_timestamp())
                .map(|t| t.secs()),
        }),
        read_at: now,
        details_read_at: Some(now),
        status_seen_since: now,
    }
}
