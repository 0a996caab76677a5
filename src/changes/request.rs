//! What an operator asks for, as the forms send it: the signing mode, a signing change,
//! how a new domain should sign, and the BYODKIM key made or read from it.

use secrecy::SecretString;

use super::ChangeError;
use super::input;
use crate::app_error::Field;
use crate::signing_key::{self, SigningKey};

/// Which signing the operator chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SES-managed keys.
    EasyDkim,
    /// The operator's own key.
    Byodkim,
}

impl Mode {
    /// `easy` or `byodkim` as the forms send it.
    pub fn parse(value: &str) -> Result<Self, ChangeError> {
        match value.trim() {
            "easy" => Ok(Self::EasyDkim),
            "byodkim" => Ok(Self::Byodkim),
            other => Err(ChangeError::invalid(
                Field::Mode,
                format!("Signing: '{other}' is not offered; choose Easy DKIM or BYODKIM"),
            )),
        }
    }
}

/// A signing change as the form sends it.
#[derive(Debug)]
pub struct SigningChange {
    /// Easy DKIM or BYODKIM.
    pub mode: Mode,
    /// Easy DKIM: the next key's length (SES's default when `None`).
    pub key_length: Option<String>,
    /// BYODKIM: the selector.
    pub selector: Option<String>,
    /// BYODKIM: the pasted private key (ignored when `generate`).
    pub private_key: Option<SecretString>,
    /// BYODKIM: generate a 2048-bit key here instead.
    pub generate: bool,
    /// The operator confirmed that mail may go out unsigned while the change is PENDING.
    pub confirmed: bool,
}

/// How a new domain should sign.
#[derive(Debug)]
pub enum NewDomainSigning {
    /// Easy DKIM, or BYODKIM, as for a change.
    Own(SigningChange),
    /// A DEED replica of the same domain in `parent_region`.
    Replica {
        /// Where the parent identity lives.
        parent_region: String,
    },
}

/// The BYODKIM selector and key: a generated key, or the pasted one, checked.
pub(super) fn byodkim_input(change: &SigningChange) -> Result<(String, SigningKey), ChangeError> {
    let selector = input::selector(change.selector.as_deref().unwrap_or(""))?;
    let key = if change.generate {
        signing_key::generate()
    } else {
        match &change.private_key {
            Some(pasted) => signing_key::parse(pasted),
            None => signing_key::parse(&SecretString::from(String::new())),
        }
    }
    .map_err(|e| ChangeError::invalid(Field::PrivateKey, format!("Private key: {e}")))?;
    Ok((selector, key))
}
