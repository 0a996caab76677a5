//! The DKIM status badge: text and an icon as well as colour, and a tooltip that says
//! what the status means and what to do.

use leptos::prelude::*;

use crate::model::DkimStatus;

/// How a status is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLook {
    /// A symbol that tells statuses apart without colour.
    pub icon: &'static str,
    /// The words on the badge.
    pub label: String,
    /// What it means and what to do (the tooltip).
    pub hint: &'static str,
    /// The CSS class that colours it.
    pub class: &'static str,
}

/// The look of each status; unknown ones are shown verbatim.
pub fn status_look(status: &DkimStatus) -> StatusLook {
    let (icon, label, hint, class) = match status {
        DkimStatus::Success => (
            "✓",
            "Success",
            "SES found the DKIM records: mail from this identity is signed.",
            "success",
        ),
        DkimStatus::Pending => (
            "…",
            "Pending",
            "SES has not found the DKIM records yet. Publish them; SES keeps checking for 72 hours.",
            "pending",
        ),
        DkimStatus::TemporaryFailure => (
            "!",
            "Temporary failure",
            "SES could not find the records; it keeps checking for 72 hours before revoking signing. Check the DNS records now.",
            "temporary-failure",
        ),
        DkimStatus::Failed => (
            "✗",
            "Failed",
            "SES gave up looking for the DKIM records and does not sign. Publish the records, then restart DKIM for this identity.",
            "failed",
        ),
        DkimStatus::NotStarted => (
            "○",
            "Not started",
            "DKIM is not set up for this identity.",
            "not-started",
        ),
        DkimStatus::Unknown(value) => {
            return StatusLook {
                icon: "?",
                label: value.clone(),
                hint: "A status this version of dkimdash does not know; see the SES console.",
                class: "unknown",
            };
        }
    };
    StatusLook {
        icon,
        label: label.to_owned(),
        hint,
        class,
    }
}

/// A badge for one DKIM status.
#[component]
pub fn StatusBadge(status: DkimStatus) -> impl IntoView {
    let look = status_look(&status);
    view! {
        <span class=format!("badge badge-{}", look.class) title=look.hint data-status=status.as_ses().to_owned()>
            <span class="badge-icon" aria-hidden="true">{look.icon}</span>
            {look.label}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_told_apart_without_colour() {
        let looks: Vec<StatusLook> = DkimStatus::KNOWN.iter().map(status_look).collect();
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert_ne!(a.icon, b.icon);
                assert_ne!(a.label, b.label);
            }
        }
        assert!(
            status_look(&DkimStatus::TemporaryFailure)
                .hint
                .contains("72 hours")
        );
        assert_eq!(
            status_look(&DkimStatus::Unknown("NEW_THING".into())).label,
            "NEW_THING"
        );
    }
}
