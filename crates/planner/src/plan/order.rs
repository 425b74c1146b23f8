//! Ordering: steps in the order their statements must run, by section;
//! within a section, in the order they were planned.

use super::action::{Action, Step};

/// The order sections of a plan run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Renames come first: everything after names the new names.
    RenameRole,
    CreateRole,
    TemporaryGrant,
    CreateSchema,
    Ownership,
    Revoke,
    Grant,
    RevokeMembership,
    GrantMembership,
    RoleAttributes,
    RoleSettings,
    Comment,
    DropRole,
    /// Retired roles: their sessions ended, what they own given away and
    /// dropped, then the roles.
    Retire,
    TemporaryRevoke,
}

impl Section {
    pub fn of(action: &Action) -> Section {
        match action {
            Action::CreateRole { .. } => Section::CreateRole,
            Action::TemporaryGrant { .. } | Action::TemporaryPrivilege { .. } => {
                Section::TemporaryGrant
            }
            Action::CreateSchema { .. } => Section::CreateSchema,
            Action::AlterOwner { .. } => Section::Ownership,
            Action::Revoke { .. } | Action::RevokeDefault { .. } => Section::Revoke,
            Action::Grant { .. } | Action::GrantDefault { .. } => Section::Grant,
            Action::GrantMembership { .. } => Section::GrantMembership,
            Action::RevokeMembership { .. } => Section::RevokeMembership,
            Action::AlterRole { .. } | Action::SetPassword { .. } => Section::RoleAttributes,
            Action::DropRole { .. } => Section::DropRole,
            Action::RenameRole { .. } => Section::RenameRole,
            Action::SetSetting { .. } | Action::ResetSetting { .. } => Section::RoleSettings,
            Action::CommentRole { .. } => Section::Comment,
            Action::TerminateSessions { .. }
            | Action::ReassignOwned { .. }
            | Action::DropOwned { .. }
            | Action::RetireRole { .. } => Section::Retire,
            Action::TemporaryRevoke { .. } | Action::TemporaryPrivilegeRevoke { .. } => {
                Section::TemporaryRevoke
            }
        }
    }
}

/// Sorts steps into sections, stably.
pub(crate) fn order(mut steps: Vec<Step>) -> Vec<Step> {
    steps.sort_by_key(|s| Section::of(&s.action));
    steps
}
