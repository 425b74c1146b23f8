//! A desired file against the catalog (PUM's role inventory): each
//! configured role and grant satisfied or not (the plan that would make it
//! so, when not), the roles not in the file that have access to what it
//! manages, and the login roles that have access to none of it.

use super::access::{How, Judge};
use super::{is_system, Inventory};
use crate::acl::{Privilege, PUBLIC};
use crate::desired::{Desired, GrantKind};
use crate::plan::{self, Action, ObjectRef, Plan, PlanOptions};
use serde::Serialize;
use std::collections::BTreeSet;

/// The result of checking a desired file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub configured: Vec<Configured>,
    /// Configured roles that do not exist.
    pub missing_roles: Vec<String>,
    /// Roles not in the file (nor superusers, nor PostgreSQL's or pgsr's
    /// own) that hold privileges, other than through PUBLIC, on a schema
    /// the file names or on an object in one: each with how many.
    pub unknown_with_access: Vec<(String, usize)>,
    /// Login roles not in the file (nor superusers) that hold nothing on
    /// those schemas and objects but through PUBLIC.
    pub logins_without_access: Vec<String>,
}

impl Check {
    /// Whether everything configured holds and nobody unknown has access.
    pub fn is_clean(&self) -> bool {
        self.configured.iter().all(|c| c.satisfied) && self.unknown_with_access.is_empty()
    }
}

/// A configured role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Configured {
    pub role: String,
    pub exists: bool,
    pub satisfied: bool,
    pub grants: Vec<GrantCheck>,
    /// What the plan would change for the role beyond its grants: what it
    /// holds but does not declare, its attributes, settings, comment.
    pub other_changes: Vec<String>,
}

/// One grant of a configured role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantCheck {
    pub grant: String,
    pub satisfied: bool,
    /// The statements the plan would run for it.
    pub changes: Vec<String>,
}

impl Inventory<'_> {
    /// Checks `desired` against the snapshot.
    pub fn check(&self, desired: &Desired) -> Result<Check, String> {
        let plan = plan::plan(self.snapshot, desired, &PlanOptions::default())
            .map_err(|e| e.to_string())?;
        let expanded = desired.per_database();
        let mut configured = Vec::new();
        let mut missing_roles = Vec::new();
        let mut used = vec![false; plan.steps.len()];
        for role in &expanded.roles {
            let exists = self
                .snapshot
                .catalog
                .roles
                .iter()
                .any(|r| r.name == role.name);
            if !exists {
                missing_roles.push(role.name.clone());
            }
            let mut grants = Vec::new();
            for g in &role.grants {
                let words = plan::describe(&g.kind);
                let mut changes = Vec::new();
                for (i, step) in plan.steps.iter().enumerate() {
                    let mine = step.reason == words
                        || step.reason.starts_with(&format!("{}: {words}", role.name));
                    if mine && concerns(&step.action).contains(&role.name.as_str())
                        || mine && !used[i] && is_intermediate_step(&step.action)
                    {
                        used[i] = true;
                        changes.push(sql(&plan, i));
                    }
                }
                grants.push(GrantCheck {
                    grant: words,
                    satisfied: changes.is_empty(),
                    changes,
                });
            }
            let other_changes: Vec<String> = plan
                .steps
                .iter()
                .enumerate()
                .filter(|(i, s)| !used[*i] && concerns(&s.action).contains(&role.name.as_str()))
                .map(|(i, _)| sql(&plan, i))
                .collect();
            configured.push(Configured {
                role: role.name.clone(),
                exists,
                satisfied: exists && other_changes.is_empty() && grants.iter().all(|g| g.satisfied),
                grants,
                other_changes,
            });
        }
        let (unknown_with_access, logins_without_access) = self.outsiders(&expanded);
        Ok(Check {
            configured,
            missing_roles,
            unknown_with_access,
            logins_without_access,
        })
    }

    /// Roles not in the file with access to what it manages, and login
    /// roles with access to none of it.
    fn outsiders(&self, desired: &Desired) -> (Vec<(String, usize)>, Vec<String>) {
        let schemas = managed_schemas(desired);
        let listed: BTreeSet<&str> = desired.roles.iter().map(|r| r.name.as_str()).collect();
        let judge = Judge::new(self.snapshot, &self.objects);
        let objects: Vec<_> = self
            .objects
            .iter()
            .filter(|o| match &o.object {
                ObjectRef::Schema(s) => schemas.contains(s.as_str()),
                other => other.schema().is_some_and(|s| schemas.contains(s)),
            })
            .collect();
        let v = self.snapshot.server_version_num;
        let mut unknown = Vec::new();
        let mut logins = Vec::new();
        for r in &self.snapshot.catalog.roles {
            if listed.contains(r.name.as_str())
                || is_system(&r.name)
                || r.name.starts_with("_pgsr_")
                || r.superuser
            {
                continue;
            }
            let reach = judge.graph.reach(&r.name);
            let count = objects
                .iter()
                .filter(|o| {
                    super::privileges(o, v).iter().any(|&p: &Privilege| {
                        judge.access(&r.name, &reach, o, p).is_some_and(|path| {
                            !matches!(&path.how, How::Entry { grantee, .. } if grantee == PUBLIC)
                        })
                    })
                })
                .count();
            if count > 0 {
                unknown.push((r.name.clone(), count));
            } else if r.canlogin {
                logins.push(r.name.clone());
            }
        }
        (unknown, logins)
    }
}

/// The schemas a desired file names.
fn managed_schemas(desired: &Desired) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    for g in desired.roles.iter().flat_map(|r| &r.grants) {
        match &g.kind {
            GrantKind::SchemaUsage { schema, .. }
            | GrantKind::SchemaCreate { schema, .. }
            | GrantKind::SchemaOwnership { schema }
            | GrantKind::TableSelect { schema, .. }
            | GrantKind::TableOwnership { schema, .. } => {
                out.insert(schema.as_str());
            }
            GrantKind::Privileges(p) => {
                out.extend(p.objects.schema());
                if p.on == crate::kind::ObjectKind::Schema {
                    if let crate::desired::Objects::Named { names, .. } = &p.objects {
                        out.extend(names.iter().map(String::as_str));
                    }
                }
            }
            GrantKind::DefaultPrivileges(d) => out.extend(d.schema.as_deref()),
            GrantKind::Ownership { objects, .. } => out.extend(objects.schema()),
            GrantKind::DatabaseConnect { .. } | GrantKind::RoleMembership { .. } => {}
        }
    }
    out
}

/// The roles a step changes.
fn concerns(action: &Action) -> Vec<&str> {
    match action {
        Action::Grant { grantee, .. }
        | Action::Revoke { grantee, .. }
        | Action::GrantDefault { grantee, .. }
        | Action::RevokeDefault { grantee, .. } => vec![grantee],
        Action::GrantMembership { member, .. } | Action::RevokeMembership { member, .. } => {
            vec![member]
        }
        Action::CreateRole { role }
        | Action::AlterRole { role, .. }
        | Action::SetPassword { role, .. }
        | Action::SetSetting { role, .. }
        | Action::ResetSetting { role, .. }
        | Action::CommentRole { role, .. }
        | Action::DropRole { role }
        | Action::TerminateSessions { role }
        | Action::DropOwned { role }
        | Action::RetireRole { role } => vec![role],
        Action::ReassignOwned { role, target } => vec![role, target],
        Action::RenameRole { to, .. } => vec![to],
        Action::AlterOwner { owner, .. } | Action::CreateSchema { owner, .. } => vec![owner],
        Action::TemporaryGrant { .. }
        | Action::TemporaryRevoke { .. }
        | Action::TemporaryPrivilege { .. }
        | Action::TemporaryPrivilegeRevoke { .. } => vec![],
    }
}

/// A step on an intermediate role, made for a managed role's grant.
fn is_intermediate_step(action: &Action) -> bool {
    concerns(action)
        .iter()
        .any(|r| crate::plan::is_intermediate(r))
}

/// The SQL of step `i` alone.
fn sql(plan: &Plan, i: usize) -> String {
    let one = Plan {
        steps: vec![plan.steps[i].clone()],
        ..plan.clone()
    };
    plan::statements(&one)
        .into_iter()
        .map(|s| s.sql)
        .collect::<Vec<_>>()
        .join("; ")
}
