//! Planning: catalog snapshot and desired state in, ordered changes out.
//!
//! [`plan`] is a pure function made of phases, each taking values and
//! returning values, in one direction:
//!
//! ```text
//! rename         snapshot + desired            -> snapshot  (as the renames leave it), steps
//! Context::new   snapshot + desired + options  -> Context   (inputs, checked)
//! resolve        Context                       -> Target    (owners, privileges, memberships, needs)
//! intermediate   Context + Target              -> Routing   (the `_pgsr_` role of each need, and steps creating new ones)
//! actual         Context                       -> Actual    (what managed roles hold)
//! diff           Facts + Actual                -> Changes   (steps, notes, warnings)
//! brackets       Facts + Changes               -> Changes   (temporary grants a non-superuser needs)
//! power          Facts + steps                 -> power grants (refused unless opted in)
//! order          steps                         -> steps     (by section)
//! render         Plan                          -> SQL script
//! ```
//!
//! `Facts` is Context, Target and Routing together, read-only. No phase
//! changes another's output.

mod action;
mod actual;
mod attributes;
mod brackets;
mod cluster;
mod context;
mod describe;
mod diff;
mod document;
mod facts;
pub(crate) mod index;
mod intermediate;
mod members;
mod memberships;
mod object;
mod options;
mod order;
mod output;
mod ownership;
pub(crate) mod part;
pub mod power;
mod privileges;
mod rename;
pub(crate) mod render;
mod resolve;
mod retire;
mod scope;
mod settings;
mod summary;

pub use crate::statement::{PasswordSlot, Statement};
pub use action::{Action, RoleOptions, Step};
pub use cluster::{plan_cluster, render_cluster, ClusterPlan};
pub use document::{document, document_cluster, DOCUMENT_VERSION};
pub use intermediate::is_intermediate;
pub use object::ObjectRef;
pub use options::{Passwords, PlanOptions};
pub use order::Section;
pub use output::{Plan, PlanError};
pub use part::Part;
pub use render::{password_slots, render, render_signed, statements};
pub use scope::scope_for;

/// A grant in the desired file's words, as plans show it.
pub fn describe(kind: &crate::desired::GrantKind) -> String {
    describe::describe_grant(kind)
}

use crate::desired::Desired;
use crate::snapshot::{Scope, Snapshot};

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
    let expanded = desired.per_database();
    let desired: &Desired = &expanded;
    let original = snapshot;
    let (renamed, renames) = rename::renames(snapshot, desired)?;
    let snapshot = renamed.as_ref().unwrap_or(snapshot);
    let ctx = context::Context::new(snapshot, desired, options)?;
    let target = resolve::resolve(&ctx)?;
    let (routing, mut created) = intermediate::choose(&ctx, &target);
    created.splice(0..0, renames);
    let actual = actual::collect(&ctx);
    let facts = facts::Facts::new(ctx, target, routing);
    let mut changes = diff::diff(&facts, &actual, created)?;
    changes.steps = part::select(options.part, changes.steps);
    let changes = brackets::bracket(&facts, changes)?;
    let power = power::check(&facts, &changes.steps)?;
    let steps = order::order(changes.steps);
    let summary = summary::summarize(&facts, &steps);
    let mut plan = Plan {
        server_version_num: snapshot.server_version_num,
        database: snapshot.database.clone(),
        connecting_role: facts.ctx.conn.to_owned(),
        // A database's part runs after the shared part changed the
        // shared catalogs (and renamed roles): it is checked against the
        // database's own objects, as the renames leave them.
        fingerprint: match options.part {
            Part::Database => snapshot.database_fingerprint(),
            _ => original.fingerprint.clone(),
        },
        scope: original.scope.clone(),
        lock_key: desired.lock_key,
        steps,
        summary,
        skipped: sorted(facts.target.skipped),
        notes: sorted(changes.notes),
        warnings: sorted(changes.warnings),
        power,
        passwords_compared: matches!(options.passwords, Passwords::Compared { .. }),
        part: options.part,
    };
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

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines.dedup();
    lines
}
