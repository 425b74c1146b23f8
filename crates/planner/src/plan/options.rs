//! How to plan: the options a caller passes with the snapshot and the
//! desired file.

use std::collections::BTreeSet;

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
    /// Which statements the plan holds: all of them, or one part of a
    /// multi-database plan (see [`plan_cluster`](super::plan_cluster)).
    pub part: super::Part,
    /// The databases a multi-database plan manages: a retired role is
    /// dropped once nothing of its remains in databases outside them.
    pub managed_databases: Vec<String>,
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
