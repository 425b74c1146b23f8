//! What planning gives: a plan, or why none could be made.

use super::action::{Action, Step};
use crate::desired::Span;
use crate::power::PowerGrant;
use crate::snapshot::{DatabaseIdent, Scope};
use std::fmt;

/// The changes that bring the catalog to the desired state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub server_version_num: u32,
    pub database: DatabaseIdent,
    pub connecting_role: String,
    /// Fingerprint of the snapshot the plan was made from.
    pub fingerprint: String,
    /// The scope of that snapshot: apply reads the same part to compare.
    pub scope: Scope,
    pub lock_key: i64,
    /// In the order they must run.
    pub steps: Vec<Step>,
    /// Declared grants that were skipped because their object is missing.
    pub skipped: Vec<String>,
    /// Things a reviewer should know that are not statements.
    pub notes: Vec<String>,
    /// Declarations that are likely mistakes: a name that differs from an
    /// existing role's only by case, a `valid_until` in the past.
    pub warnings: Vec<String>,
    /// Grants of power the plan contains, each opted in by the desired file.
    pub power: Vec<PowerGrant>,
    /// What a reviewer reads first: per role what it gains and loses,
    /// roles created, renamed and retired, ownership that moves, and how
    /// many roles gain or lose through each changed group.
    pub summary: Vec<String>,
    /// Whether declared passwords were compared with the stored ones.
    pub passwords_compared: bool,
    /// Which part of a multi-database plan this is ([`Part::Whole`] for
    /// a plan of one database).
    ///
    /// [`Part::Whole`]: super::Part::Whole
    pub part: super::Part,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether the plan changes something known to differ: a plan that only
    /// sets passwords that could not be compared (without SUPERUSER) is not
    /// counted as a change by `plan --exit-code`.
    pub fn has_known_changes(&self) -> bool {
        self.steps
            .iter()
            .any(|s| self.passwords_compared || !matches!(s.action, Action::SetPassword { .. }))
    }
}

/// Why no plan could be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// Where in the desired file, when the problem is there.
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(f, "{}:{}: {}", s.line, s.column, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PlanError {}
