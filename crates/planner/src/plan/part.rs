//! Parts of a multi-database plan: which statements change the shared
//! catalogs, which change one database, and which must wait until every
//! database has run.
//!
//! PostgreSQL has no transaction across databases. A multi-database plan
//! (`plan/cluster.rs`) is therefore made of scripts, each applied in its own
//! transaction: the shared part first (roles, attributes, memberships,
//! settings, comments, privileges on databases, tablespaces and
//! parameters), then each database's part (its objects, default privileges,
//! its intermediate roles with their memberships, and what retired roles
//! own there), then the last part (dropping retired roles, which only
//! succeeds once no database holds anything of theirs).

use super::action::{Action, Step};
use super::intermediate::LOCAL_PREFIX;
use super::object::ObjectRef;

/// Which statements a plan holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Every statement: a plan for one database.
    #[default]
    Whole,
    /// Changes of the shared catalogs, run first.
    Shared,
    /// Changes inside one database, after the shared part.
    Database,
    /// Retired roles dropped, after every database.
    Last,
}

impl Part {
    /// The word the script header and documents use.
    pub fn word(self) -> &'static str {
        match self {
            Part::Whole => "whole",
            Part::Shared => "shared",
            Part::Database => "database",
            Part::Last => "last",
        }
    }

    /// The part named by `word`.
    pub fn from_word(word: &str) -> Option<Part> {
        [Part::Whole, Part::Shared, Part::Database, Part::Last]
            .into_iter()
            .find(|p| p.word() == word)
    }

    /// The part of a multi-database plan `action` belongs to.
    fn of(action: &Action) -> Part {
        let local = |role: &str| role.starts_with(LOCAL_PREFIX);
        let shared_object = |o: &ObjectRef| {
            matches!(
                o,
                ObjectRef::Database(_) | ObjectRef::Tablespace(_) | ObjectRef::Parameter(_)
            )
        };
        match action {
            Action::CreateRole { role }
            | Action::DropRole { role }
            | Action::AlterRole { role, .. } => {
                if local(role) {
                    Part::Database
                } else {
                    Part::Shared
                }
            }
            Action::GrantMembership { role, member, .. }
            | Action::RevokeMembership { role, member, .. } => {
                if local(role) || local(member) {
                    Part::Database
                } else {
                    Part::Shared
                }
            }
            Action::Grant { object, .. }
            | Action::Revoke { object, .. }
            | Action::AlterOwner { object, .. } => {
                if shared_object(object) {
                    Part::Shared
                } else {
                    Part::Database
                }
            }
            Action::SetPassword { .. }
            | Action::RenameRole { .. }
            | Action::SetSetting { .. }
            | Action::ResetSetting { .. }
            | Action::CommentRole { .. }
            | Action::TerminateSessions { .. } => Part::Shared,
            Action::CreateSchema { .. }
            | Action::GrantDefault { .. }
            | Action::RevokeDefault { .. }
            | Action::ReassignOwned { .. }
            | Action::DropOwned { .. }
            | Action::TemporaryGrant { .. }
            | Action::TemporaryRevoke { .. }
            | Action::TemporaryPrivilege { .. }
            | Action::TemporaryPrivilegeRevoke { .. } => Part::Database,
            Action::RetireRole { .. } => Part::Last,
        }
    }
}

/// The steps of `part`, before temporary grants are bracketed around them.
/// The only temporary grants planned before that are a retirement's, which
/// serve `REASSIGN OWNED` and `DROP OWNED` in a database: each ends in the
/// same part, since the role is dropped in another.
pub(super) fn select(part: Part, steps: Vec<Step>) -> Vec<Step> {
    if part == Part::Whole {
        return steps;
    }
    let mut kept: Vec<Step> = steps
        .into_iter()
        .filter(|s| Part::of(&s.action) == part)
        .collect();
    let unrevoked: Vec<String> = kept
        .iter()
        .filter_map(|s| match &s.action {
            Action::TemporaryGrant { role }
                if !kept.iter().any(
                    |k| matches!(&k.action, Action::TemporaryRevoke { role: r } if r == role),
                ) =>
            {
                Some(role.clone())
            }
            _ => None,
        })
        .collect();
    for role in unrevoked {
        kept.push(Step {
            action: Action::TemporaryRevoke { role },
            reason: "end of temporary grants".into(),
        });
    }
    kept
}
