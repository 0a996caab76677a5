//! Every change goes into the audit log before SES is asked, and is completed with SES's
//! answer. If the log cannot be written, the change is not sent: nothing unrecorded.

use crate::audit::{
    entry::AuditOutcome,
    log::{Attempt, AuditLog},
};
use crate::inventory::{self, Inventory};
use crate::model::{Identity, SigningOrigin};
use crate::user::User;

use super::ChangeError;

/// Who makes a change, on which inventory, recorded where.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// The identities and their SES connections.
    pub inventory: &'a Inventory,
    /// Where changes are recorded.
    pub audit: &'a AuditLog,
    /// Who asked.
    pub user: &'a User,
}

/// Records `action` on `identity` (its signing now as "before"); the id completes it.
pub(super) async fn begin(
    actor: &Actor<'_>,
    identity: &Identity,
    action: String,
) -> Result<i64, ChangeError> {
    begin_with(actor, identity, action, describe(identity)).await
}

/// Records `action` on `identity` with `before` as what stood before it.
pub(super) async fn begin_with(
    actor: &Actor<'_>,
    identity: &Identity,
    action: String,
    before: String,
) -> Result<i64, ChangeError> {
    let attempt = Attempt {
        at: inventory::now(),
        user: actor.user,
        account: &identity.account,
        region: &identity.region,
        identity: &identity.name,
        action,
        before,
    };
    actor.audit.begin(&attempt).await.map_err(|error| {
        tracing::error!(%error, identity = %identity.name, "audit log write failed; change not sent");
        ChangeError::AuditUnavailable {
            place: actor.audit.place().to_owned(),
        }
    })
}

/// Completes entry `id`. A failure here comes after SES answered, so the words say so.
pub(super) async fn close(
    actor: &Actor<'_>,
    id: i64,
    outcome: AuditOutcome,
    after: Option<&Identity>,
    answer: &str,
) -> Result<(), ChangeError> {
    close_with(actor, id, outcome, after.map(describe), answer).await
}

/// Completes entry `id` with `after` as what stands now.
pub(super) async fn close_with(
    actor: &Actor<'_>,
    id: i64,
    outcome: AuditOutcome,
    after: Option<String>,
    answer: &str,
) -> Result<(), ChangeError> {
    actor
        .audit
        .finish(id, outcome, after.as_deref(), answer)
        .await
        .map_err(|error| {
            tracing::error!(%error, entry = id, "audit log completion failed");
            ChangeError::AnswerUnrecorded {
                answer: answer.to_owned(),
                entry: id,
            }
        })
}

/// An identity's signing in a few words, for the log's before/after columns.
pub fn describe(identity: &Identity) -> String {
    let dkim = &identity.dkim;
    let mode = match &dkim.origin {
        None => return "no DKIM set up".to_owned(),
        Some(SigningOrigin::Byodkim) => match dkim.tokens.first() {
            Some(selector) => format!("BYODKIM (selector {selector})"),
            None => "BYODKIM".to_owned(),
        },
        Some(origin) => origin.label(),
    };
    let length = match (&dkim.current_key_length, &dkim.next_key_length) {
        (Some(now), Some(next)) if now != next => {
            format!(", {} bits (next {})", now.bits(), next.bits())
        }
        (Some(now), _) => format!(", {} bits", now.bits()),
        (None, _) => String::new(),
    };
    let signing = if dkim.signing_enabled { "on" } else { "off" };
    format!(
        "{mode}{length}, signing {signing}, {}",
        dkim.status.as_ses()
    )
}
