//! Brackets: without SUPERUSER, the connecting role becomes a member of
//! each owner whose objects the plan changes, and gives new owners CREATE
//! where they receive objects, for the length of the plan only.

use super::action::Action;
use super::diff::Changes;
use super::facts::Facts;
use super::object::ObjectRef;
use crate::acl::Privilege;
use std::collections::{BTreeSet, HashSet};

/// Without SUPERUSER, the connecting role must hold the privileges of
/// every owner whose objects it changes, and be able to become every new
/// owner; grant those roles to it for the length of the plan.
pub(crate) fn bracket(f: &Facts, mut out: Changes) -> Changes {
    let connecting = &f.ctx.ix.snapshot.connecting_role;
    if connecting.superuser {
        return out;
    }
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for step in &out.steps {
        match &step.action {
            Action::AlterOwner { object, owner } => {
                needed.extend(f.actual_owner(object).map(str::to_owned));
                needed.insert(owner.clone());
            }
            Action::Grant { object, .. } | Action::Revoke { object, .. } => {
                needed.extend(f.final_owner(object).map(str::to_owned));
            }
            Action::RevokeDefault { owner, .. }
            | Action::GrantDefault { owner, .. }
            | Action::CreateSchema { owner, .. } => {
                needed.insert(owner.clone());
            }
            _ => {}
        }
    }
    // Naming an object in a schema needs USAGE on the schema: without
    // USAGE of its own, the connecting role acts as the schema's owner
    // (as pg-sync-roles does), before and after the schema changes hands.
    let mut schemas: BTreeSet<&str> = BTreeSet::new();
    for step in &out.steps {
        if let Action::AlterOwner { object, .. }
        | Action::Grant { object, .. }
        | Action::Revoke { object, .. } = &step.action
        {
            schemas.extend(object.schema());
        }
    }
    for schema in schemas {
        let schema = ObjectRef::Schema(schema.to_owned());
        if !connecting_role_uses(f, &schema) {
            needed.extend(f.actual_owner(&schema).map(str::to_owned));
            needed.extend(f.final_owner(&schema).map(str::to_owned));
        }
    }
    // A new owner must be able to create the object where it lives.
    let mut creates: BTreeSet<(ObjectRef, String)> = BTreeSet::new();
    for step in &out.steps {
        if let Action::AlterOwner { object, owner } = &step.action {
            let container = match object.schema() {
                Some(schema) => ObjectRef::Schema(schema.to_owned()),
                None if matches!(object, ObjectRef::Schema(_)) => {
                    ObjectRef::Database(f.ctx.ix.snapshot.database.name.clone())
                }
                None => continue,
            };
            if !holds_create(f, &container, owner) {
                creates.insert((container, owner.clone()));
            }
        }
    }
    for (container, owner) in &creates {
        // Granted before anything changes hands, revoked at the end.
        needed.extend(f.actual_owner(container).map(str::to_owned));
        needed.extend(f.final_owner(container).map(str::to_owned));
        let reason = format!(
            "temporary: {owner} may own objects in {} only with CREATE there",
            container.describe()
        );
        out.push(
            Action::TemporaryPrivilege {
                object: container.clone(),
                privilege: Privilege::Create,
                grantee: owner.clone(),
            },
            reason,
        );
        let declared = f
            .target
            .privileges
            .get(owner.as_str())
            .is_some_and(|p| p.contains_key(&(container.clone(), Privilege::Create)));
        // The container's old owner loses what it holds to the new owner
        // when the container changes hands: its declared grant must come
        // after that.
        let handed_on = f.actual_owner(container) == Some(owner.as_str())
            && f.final_owner(container) != Some(owner.as_str());
        if declared && !handed_on {
            // Granted early for good: the declared grant is this one.
            let early = Action::Grant {
                object: container.clone(),
                privilege: Privilege::Create,
                grantee: owner.clone(),
                grant_option: false,
            };
            out.steps.retain(|s| s.action != early);
        } else if f.final_owner(container) == Some(owner.as_str())
            || f.actual_owner(container) == Some(owner.as_str())
        {
            // It owns the container in the end, and the privilege is its
            // own; or it owned it, and the privilege went to the new owner.
        } else {
            out.push(
                Action::TemporaryPrivilegeRevoke {
                    object: container.clone(),
                    privilege: Privilege::Create,
                    grantee: owner.clone(),
                },
                "end of temporary grants",
            );
        }
    }
    needed.remove(f.ctx.conn);
    // No role can be granted pg_database_owner; the database's owner
    // (the usual connecting role) has its privileges anyway.
    needed.remove("pg_database_owner");
    needed.retain(|role| {
        !connecting
            .memberships
            .iter()
            .any(|m| &m.role == role && m.usage && m.member)
    });
    // A role that is itself a member of the connecting role cannot be
    // granted to it (a membership loop): such owners' objects are left
    // to fail visibly, with a note saying why.
    let members_of_conn = members_of(f, f.ctx.conn);
    for role in needed
        .iter()
        .filter(|r| members_of_conn.contains(r.as_str()))
    {
        out.notes.push(format!(
            "{role} is a member of {}, so {} cannot act as {role}; statements on objects {role} owns will fail",
            f.ctx.conn, f.ctx.conn
        ));
    }
    needed.retain(|role| !members_of_conn.contains(role.as_str()));
    for role in &needed {
        let grant = Action::TemporaryGrant { role: role.clone() };
        if out.steps.iter().any(|s| s.action == grant) {
            continue;
        }
        out.push(
            Action::TemporaryGrant { role: role.clone() },
            format!(
                "temporary: let {} act as the owners of what it changes",
                f.ctx.conn
            ),
        );
        // A role the plan drops takes its memberships along.
        let dropped = [
            Action::DropRole { role: role.clone() },
            Action::RetireRole { role: role.clone() },
        ];
        if !out.steps.iter().any(|s| dropped.contains(&s.action)) {
            out.push(
                Action::TemporaryRevoke { role: role.clone() },
                "end of temporary grants",
            );
        }
    }
    out
}

/// Whether `role` holds CREATE on a schema or database (directly, as its
/// owner, or through PUBLIC) when objects in it are given to `role`.
/// The container's owner holds what the old owner's entries give: its
/// objects are given to it while it owns the container (before it
/// changes hands, for the old owner; after, for the new one).
fn holds_create(f: &Facts, container: &ObjectRef, role: &str) -> bool {
    let acl = f.object_acl(container);
    let before = f.actual_owner(container);
    if before == Some(role) || f.final_owner(container) == Some(role) {
        return acl.is_none_or(|acl| {
            acl.iter().any(|e| {
                e.privilege == Privilege::Create
                    && (Some(e.grantee.as_str()) == before || e.grantee == role)
            })
        });
    }
    acl.unwrap_or_default()
        .iter()
        .any(|e| e.privilege == Privilege::Create && (e.grantee == role || e.is_public()))
}

/// Whether the connecting role has USAGE on a schema other than as its
/// owner: granted to it, to PUBLIC, or to a role whose privileges it has.
fn connecting_role_uses(f: &Facts, schema: &ObjectRef) -> bool {
    let owners = [f.actual_owner(schema), f.final_owner(schema)];
    let Some(acl) = f.object_acl(schema) else {
        return false;
    };
    let memberships = &f.ctx.ix.snapshot.connecting_role.memberships;
    acl.iter().any(|e| {
        e.privilege == Privilege::Usage
            && !owners.contains(&Some(e.grantee.as_str()))
            && (e.is_public()
                || e.grantee == f.ctx.conn
                || memberships.iter().any(|m| m.role == e.grantee && m.usage))
    })
}

/// Every role that is a member of `role`, directly or through others.
fn members_of<'a>(f: &Facts<'a>, role: &str) -> HashSet<&'a str> {
    let mut out: HashSet<&'a str> = HashSet::new();
    let mut queue = vec![role.to_owned()];
    while let Some(r) = queue.pop() {
        for m in f
            .ctx
            .ix
            .snapshot
            .catalog
            .memberships
            .iter()
            .filter(|m| m.role == r)
        {
            if out.insert(m.member.as_str()) {
                queue.push(m.member.clone());
            }
        }
    }
    out
}
