//! Planning: catalog snapshot and desired state in, ordered changes out.
//!
//! [`plan`] is a pure function. It resolves every declared grant against the
//! snapshot into target facts (memberships, privileges, owners), reads what
//! each managed role actually holds, and emits the difference as [`Step`]s in
//! the order they must run. [`render`] turns a plan into the SQL script.

mod action;
mod actual;
mod attributes;
mod brackets;
mod index;
mod intermediate;
mod memberships;
mod object;
mod ownership;
pub mod power;
mod privileges;
pub(crate) mod render;
mod scope;
mod target;

pub use action::{Action, RoleOptions, Step};
pub use object::ObjectRef;
pub use render::{
    password_slots, render, render_signed, statements, PasswordSlot, Section, Statement,
};
pub use scope::scope_for;

use crate::desired::{Desired, Span};
use crate::power::PowerGrant;
use crate::snapshot::{DatabaseIdent, Scope, Snapshot};
use std::collections::BTreeSet;
use std::fmt;

/// How to plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Grants on objects that do not exist are errors instead of skips.
    pub strict: bool,
    /// Also drop intermediate roles that hold no privilege on any object.
    pub drop_unused: bool,
    /// What is known of the passwords the desired file declares.
    pub passwords: Passwords,
    /// The time the plan is made, as [`timestamp_from_unix`] writes it:
    /// a declared `valid_until` before it is a warning. The planner reads no
    /// clock; the caller passes it, and without it nothing is compared.
    ///
    /// [`timestamp_from_unix`]: crate::desired::timestamp_from_unix
    pub now: Option<String>,
}

/// What is known of declared passwords. Only a superuser can read the
/// stored verifiers, so only then can a plan leave an unchanged password
/// alone; otherwise every declared password is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Passwords {
    /// Not compared: every declared password is set.
    #[default]
    Unknown,
    /// Compared with the stored verifiers: these roles' passwords already
    /// are the declared ones.
    Compared { current: BTreeSet<String> },
}

impl Passwords {
    /// Whether `role`'s stored password is known to be the declared one.
    pub fn is_current(&self, role: &str) -> bool {
        matches!(self, Passwords::Compared { current } if current.contains(role))
    }
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
    /// Declarations that are likely mistakes: a name that differs from an
    /// existing role's only by case, a `valid_until` in the past.
    pub warnings: Vec<String>,
    /// Grants of power the plan contains, each opted in by the desired file.
    pub power: Vec<PowerGrant>,
    /// Whether declared passwords were compared with the stored ones.
    pub passwords_compared: bool,
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
    planner.check_reassign_targets()?;
    planner.resolve_grants()?;
    planner.resolve_intermediates();
    let actual = actual::scan(&planner);
    planner.diff(&actual)?;
    if options.drop_unused {
        planner.drop_unused(&actual);
    }
    planner.bracket_owners();
    let power = power::check(&planner)?;
    let mut plan = planner.finish();
    plan.power = power;
    let uncompared: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::SetPassword { role, .. } if !plan.passwords_compared => Some(role.as_str()),
            _ => None,
        })
        .collect();
    if !uncompared.is_empty() {
        plan.notes.push(format!(
            "the password of {} is set on every run: only a superuser can compare it with the stored one, so `plan --exit-code` does not count it as a change",
            uncompared.join(", ")
        ));
    }
    Ok(plan)
}
