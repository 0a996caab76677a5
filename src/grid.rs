//! (pure) The overview's accounts × regions grid: one cell per target with its counts per
//! DKIM status, and the worst state in it, which colours the cell.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

use crate::model::{DkimStatus, Identity, TargetStatus};

/// One account and region: how its identities stand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCell {
    /// The account label.
    pub account: String,
    /// The region.
    pub region: String,
    /// Identities per DKIM status, as `DkimStatus::counts` orders them.
    pub counts: Vec<(DkimStatus, usize)>,
    /// The target's last read failed (after its last good one), or it was never read.
    pub unreadable: bool,
}

/// A cell's worst state, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Worst {
    /// SES could not be read there.
    Unreadable,
    /// At least one FAILED identity.
    Failed,
    /// At least one TEMPORARY_FAILURE.
    TemporaryFailure,
    /// At least one PENDING.
    Pending,
    /// At least one NOT_STARTED.
    NotStarted,
    /// Everything SUCCESS.
    Success,
    /// No identities.
    Empty,
}

impl Worst {
    /// The CSS class and the words of the state.
    pub fn class_and_label(self) -> (&'static str, &'static str) {
        match self {
            Self::Unreadable => ("grid-unreadable", "SES not readable"),
            Self::Failed => ("grid-failed", "Failures"),
            Self::TemporaryFailure => ("grid-temporary-failure", "Temporary failures"),
            Self::Pending => ("grid-pending", "Pending"),
            Self::NotStarted => ("grid-not-started", "Not started"),
            Self::Success => ("grid-success", "All verified"),
            Self::Empty => ("grid-empty", "No identities"),
        }
    }
}

impl GridCell {
    /// The worst state among its identities (or that it cannot be read).
    pub fn worst(&self) -> Worst {
        if self.unreadable {
            return Worst::Unreadable;
        }
        self.counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(status, _)| match status {
                DkimStatus::Failed => Worst::Failed,
                DkimStatus::TemporaryFailure => Worst::TemporaryFailure,
                DkimStatus::Pending => Worst::Pending,
                DkimStatus::Success => Worst::Success,
                // NOT_STARTED and statuses SES may add: not verified, not failed.
                _ => Worst::NotStarted,
            })
            .min()
            .unwrap_or(Worst::Empty)
    }
}

/// The grid's cells: one per target, in configuration order.
/// `identities_of` gives a target's identities (a range of the snapshot's order, so the
/// grid costs one pass over the identities, not one per target).
pub fn cells<'a, I: Borrow<Identity> + 'a>(
    targets: &[TargetStatus],
    identities_of: impl Fn(&TargetStatus) -> &'a [I],
) -> Vec<GridCell> {
    targets
        .iter()
        .map(|target| {
            let counts = DkimStatus::counts(
                identities_of(target)
                    .iter()
                    .map(|i| &i.borrow().dkim.status),
            );
            GridCell {
                account: target.account.clone(),
                region: target.region.clone(),
                counts,
                unreadable: target.last_error.is_some() || target.last_success.is_none(),
            }
        })
        .collect()
}

/// The distinct accounts and regions of `cells`, in their first order: the grid's rows
/// and columns.
pub fn axes(cells: &[GridCell]) -> (Vec<String>, Vec<String>) {
    let mut accounts: Vec<String> = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    for cell in cells {
        if !accounts.contains(&cell.account) {
            accounts.push(cell.account.clone());
        }
        if !regions.contains(&cell.region) {
            regions.push(cell.region.clone());
        }
    }
    (accounts, regions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attention::tests::domain;
    use crate::model::SweepError;

    fn target(account: &str, region: &str, read: bool, failed: bool) -> TargetStatus {
        TargetStatus {
            account: account.into(),
            region: region.into(),
            identities: 0,
            last_success: read.then_some(10),
            last_error: failed.then(|| SweepError {
                at: 20,
                message: "AccessDenied".into(),
            }),
            details_pending: 0,
        }
    }

    fn in_target(name: &str, status: DkimStatus, account: &str, region: &str) -> Identity {
        let mut identity = domain(name, status);
        identity.account = account.into();
        identity.region = region.into();
        identity
    }

    #[test]
    fn each_target_counts_its_own_identities_and_shows_its_worst() {
        let targets = [
            target("prod", "us-east-1", true, false),
            target("prod", "eu-west-1", true, false),
            target("staging", "us-east-1", true, true),
            target("staging", "eu-west-1", true, false),
        ];
        let identities = [
            in_target("a.example", DkimStatus::Success, "prod", "us-east-1"),
            in_target("b.example", DkimStatus::Pending, "prod", "us-east-1"),
            in_target("c.example", DkimStatus::Success, "prod", "eu-west-1"),
            in_target("d.example", DkimStatus::Failed, "staging", "us-east-1"),
        ];
        let grid = cells(&targets, |target| {
            match (target.account.as_str(), target.region.as_str()) {
                ("prod", "us-east-1") => &identities[0..2],
                ("prod", "eu-west-1") => &identities[2..3],
                ("staging", "us-east-1") => &identities[3..4],
                _ => &[],
            }
        });
        let count = |cell: &GridCell, status: DkimStatus| {
            cell.counts.iter().find(|(s, _)| *s == status).unwrap().1
        };
        assert_eq!(count(&grid[0], DkimStatus::Success), 1);
        assert_eq!(count(&grid[0], DkimStatus::Pending), 1);
        assert_eq!(
            grid.iter().map(GridCell::worst).collect::<Vec<_>>(),
            [
                Worst::Pending,
                Worst::Success,
                Worst::Unreadable,
                Worst::Empty
            ]
        );
        assert_eq!(
            axes(&grid),
            (
                vec!["prod".to_owned(), "staging".to_owned()],
                vec!["us-east-1".to_owned(), "eu-west-1".to_owned()]
            )
        );
    }

    #[test]
    fn failed_outranks_everything_but_an_unreadable_target() {
        let cell = |statuses: &[DkimStatus]| GridCell {
            account: "a".into(),
            region: "r".into(),
            counts: statuses.iter().map(|s| (s.clone(), 1)).collect(),
            unreadable: false,
        };
        use DkimStatus::*;
        assert_eq!(
            cell(&[Success, TemporaryFailure, Failed]).worst(),
            Worst::Failed
        );
        assert_eq!(cell(&[Success, NotStarted]).worst(), Worst::NotStarted);
        assert_eq!(
            cell(&[Success, TemporaryFailure, Pending]).worst(),
            Worst::TemporaryFailure
        );
        assert_eq!(cell(&[]).worst(), Worst::Empty);
        assert_eq!(
            GridCell {
                unreadable: true,
                ..cell(&[Failed])
            }
            .worst(),
            Worst::Unreadable
        );
    }
}
