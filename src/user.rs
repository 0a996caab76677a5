//! Who is asking and what they may do. The server decides (`crate::auth`); the pages only
//! show it and hide what a viewer cannot use.

use serde::{Deserialize, Serialize};

/// Why a write without a signed-in user is refused.
pub const NOT_SIGNED_IN: &str = "Not signed in: open dkimdash through your company's SSO.";

/// What a signed-in person may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Sees everything, changes nothing.
    Viewer,
    /// May change DKIM and add identities.
    Operator,
}

impl Role {
    /// As shown next to the user's name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
        }
    }
}

/// The person behind a request, as the SSO proxy vouched for them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    /// The user name (or subject) the proxy sent.
    pub name: String,
    /// Their email address, when the proxy sent one.
    pub email: Option<String>,
    /// Their groups, as the proxy sent them.
    pub groups: Vec<String>,
    /// What they may do.
    pub role: Role,
}

impl User {
    /// Whether this user may change DKIM settings.
    pub fn can_change(&self) -> bool {
        self.role == Role::Operator
    }

    /// Why this user may not change anything, for a refused write.
    pub fn refusal(&self) -> String {
        format!(
            "Only operators can change DKIM. You are signed in as {} ({}); ask for membership of an operator group.",
            self.name,
            self.role.label()
        )
    }
}
