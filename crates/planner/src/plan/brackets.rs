//! Brackets: without SUPERUSER, the connecting role becomes a member of
//! each owner whose objects the plan changes, and gives new owners CREATE
//! where they receive objects, for the length of the plan only.

use super::action::Action;
use super::diff::Changes;
use super::facts::Facts;
use super::object::ObjectRef;
use super::output::PlanError;
use crate::acl::Privilege;
use std::collections::{BTreeSet, HashSet};

/// Without SUPERUSER, the connecting role must hold the privileges of
/// every owner whose objects it changes, and be able to become every new
/// owner; grant those roles to it for the length of the plan.
pub(crate) fn bracket(f: &Facts, mut out: Changes) -> Result<Changes, PlanError> {
    let connecting = &f.ctx.ix.snapshot.connecting_role;
    if connecting.superuser {
        return Ok(out);
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
    // Only a superuser can grant membership of a superuser: the connecting
    // role acts on such an owner's objects as itself (see `as_itself`).
    let superusers: BTreeSet<String> = needed
        .iter()
        .filter(|r| f.ctx.ix.roles.get(r.as_str()).is_some_and(|r| r.superuser))
        .cloned()
        .collect();
    if !superusers.is_empty() {
        as_itself(f, &out, &superusers)?;
        needed.retain(|r| !superusers.contains(r));
    }
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
    Ok(out)
}

/// Checks that the connecting role can run, as itself, the plan's
/// statements that would need `superusers`' rights (it cannot be granted
/// a superuser): a GRANT on an object one of them owns is made with a
/// grant option the connecting role holds (PostgreSQL records it as its
/// own); anything else, or a GRANT without one, which PostgreSQL would
/// refuse or turn into a warning that nothing was granted, refuses the
/// plan first, in words.
fn as_itself(f: &Facts, out: &Changes, superusers: &BTreeSet<String>) -> Result<(), PlanError> {
    let conn = f.ctx.conn;
    let connecting = &f.ctx.ix.snapshot.connecting_role;
    let holders: HashSet<&str> = std::iter::once(conn)
        .chain(
            connecting
                .memberships
                .iter()
                .filter(|m| m.usage)
                .map(|m| m.role.as_str()),
        )
        .collect();
    let refuse = |what: String, owner: &str, why: &str| {
        PlanError {
        span: None,
        message: format!(
            "{conn} cannot {what}: {why}{owner} is a superuser, which {conn} cannot act as; run as a superuser"
        ),
    }
    };
    for step in &out.steps {
        let object = match &step.action {
            Action::Grant {
                object, privilege, ..
            } => {
                if let Some(owner) = among(superusers, f.final_owner(object)) {
                    let held = f.object_acl(object).unwrap_or_default().iter().any(|e| {
                        e.privilege == *privilege
                            && e.grantable
                            && holders.contains(e.grantee.as_str())
                    });
                    if !held {
                        return Err(refuse(
                            format!(
                                "grant {privilege} on {} (it holds no grant option for it)",
                                object.describe()
                            ),
                            owner,
                            "its owner ",
                        ));
                    }
                }
                object
            }
            Action::Revoke {
                object, privilege, ..
            } => {
                if let Some(owner) = among(superusers, f.final_owner(object)) {
                    return Err(refuse(
                        format!("revoke {privilege} on {}", object.describe()),
                        owner,
                        "its owner ",
                    ));
                }
                object
            }
            Action::AlterOwner { object, owner } => {
                let from = among(superusers, f.actual_owner(object));
                if let Some(role) = from.or(among(superusers, Some(owner.as_str()))) {
                    return Err(refuse(
                        format!("change the owner of {} to {owner}", object.describe()),
                        role,
                        if from.is_some() { "its owner " } else { "" },
                    ));
                }
                object
            }
            Action::RevokeDefault { owner, .. }
            | Action::GrantDefault { owner, .. }
            | Action::CreateSchema { owner, .. } => {
                if let Some(owner) = among(superusers, Some(owner.as_str())) {
                    let what = match &step.action {
                        Action::CreateSchema { schema, .. } => {
                            format!("create schema {schema} for {owner}")
                        }
                        _ => format!("change the default privileges of {owner}"),
                    };
                    return Err(refuse(what, owner, ""));
                }
                continue;
            }
            _ => continue,
        };
        // Naming an object needs USAGE on its schema.
        if let Some(schema) = object.schema() {
            let container = ObjectRef::Schema(schema.to_owned());
            let owner = among(superusers, f.actual_owner(&container))
                .or(among(superusers, f.final_owner(&container)));
            if let Some(owner) = owner.filter(|_| !connecting_role_uses(f, &container)) {
                return Err(refuse(
                    format!(
                        "name {} without USAGE on schema {schema}",
                        object.describe()
                    ),
                    owner,
                    "the schema's owner ",
                ));
            }
        }
    }
    Ok(())
}

/// `role`, when it is one of `set`.
fn among<'a>(set: &BTreeSet<String>, role: Option<&'a str>) -> Option<&'a str> {
    role.filter(|r| set.contains(*r))
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
