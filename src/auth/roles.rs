//! (pure) Roles from group membership: members of an operator group are operators,
//! everyone else gets the default role.

use crate::user::Role;

/// Which groups make an operator, and what everyone else is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolePolicy {
    /// Group names (exact, case-sensitive) whose members are operators.
    pub operator_groups: Vec<String>,
    /// The role of everyone else.
    pub default_role: Role,
}

impl RolePolicy {
    /// The role of someone in `groups`.
    pub fn role_for(&self, groups: &[String]) -> Role {
        if groups.iter().any(|g| self.operator_groups.contains(g)) {
            Role::Operator
        } else {
            self.default_role
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_group_makes_an_operator_and_nothing_else_does() {
        let policy = RolePolicy {
            operator_groups: vec!["dkim-operators".into(), "mail-admins".into()],
            default_role: Role::Viewer,
        };
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            policy.role_for(&groups(&["staff", "mail-admins"])),
            Role::Operator
        );
        assert_eq!(policy.role_for(&groups(&["staff"])), Role::Viewer);
        assert_eq!(policy.role_for(&groups(&["DKIM-OPERATORS"])), Role::Viewer);
        assert_eq!(policy.role_for(&[]), Role::Viewer);
        let open = RolePolicy {
            default_role: Role::Operator,
            ..policy
        };
        assert_eq!(open.role_for(&[]), Role::Operator);
    }
}
