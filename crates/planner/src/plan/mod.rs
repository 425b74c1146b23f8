//! Planning: catalog snapshot and desired state in, ordered changes out.
//!
//! [`plan`] is a pure function. It resolves every declared grant against the
//! snapshot into target facts (memberships, privileges, owners), reads what
//! each managed role actually holds, and emits the difference as [`Step`]s in
//! the order they must run. [`render`] turns a plan into the SQL script.

mod action;
mod actual;
mod index;
mod intermediate;
mod object;
pub(crate) mod render;
mod scope;
mod target;

pub use action::{Action, RoleOptions, Step};
pub use object::ObjectRef;
pub use render::{render, statements, Section, Statement};
pub use scope::scope_for;

use crate::desired::{Desired, Span};
use crate::snapshot::{DatabaseIdent, Scope, Snapshot};
use std::fmt;

/// How to plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Grants on objects that do not exist are errors instead of skips.
    pub strict: bool,
    /// Also drop intermediate roles that hold no privilege on any object.
    pub drop_unused: bool,
}

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
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
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

/// Plans the changes that make every role in `desired` hold exactly its
/// declared grants.
pub fn plan(
    snapshot: &Snapshot,
    desired: &Desired,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    if options.drop_unused && snapshot.scope != Scope::Full {
        return Err(PlanError {
            span: None,
            message: "--drop-unused needs a full snapshot: only then is it known that a role holds nothing".into(),
        });
    }
    let mut planner = target::Planner::new(snapshot, desired, options)?;
    planner.resolve_grants()?;
    planner.resolve_intermediates();
    let actual = actual::scan(&planner);
    planner.diff(&actual)?;
    if options.drop_unused {
        planner.drop_unused(&actual);
    }
    planner.bracket_owners();
    Ok(planner.finish())
}
