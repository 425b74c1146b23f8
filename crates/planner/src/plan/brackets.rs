//! Brackets: without SUPERUSER, the connecting role becomes a member of
//! each owner whose objects the plan changes, and gives new owners CREATE
//! where they receive objects, for the length of the plan only.

use super::action::Action;
use super::object::ObjectRef;
use super::target::Planner;
use crate::acl::Privilege;
use std::collections::{BTreeSet, HashSet};

impl<'a> Planner<'a> {
    /// Without SUPERUSER, the connecting role must hold the privileges of
    /// every owner whose objects it changes, and be able to become every new
    /// owner; grant those roles to it for the length of the plan.
    pub fn bracket_owners(&mut self) {
        let connecting = &self.ix.snapshot.connecting_role;
        if connecting.superuser {
            return;
        }
        let mut needed: BTreeSet<String> = BTreeSet::new();
        for step in &self.steps {
            match &step.action {
                Action::AlterOwner { object, owner } => {
                    needed.extend(self.actual_owner(object).map(str::to_owned));
                    needed.insert(owner.clone());
                }
                Action::Grant { object, .. } | Action::Revoke { object, .. } => {
                    needed.extend(self.final_owner(object).map(str::to_owned));
                }
                Action::RevokeDefault { owner, .. } | Action::CreateSchema { owner, .. } => {
                    needed.insert(owner.clone());
                }
                _ => {}
            }
        }
        // Naming an object in a schema needs USAGE on the schema: without
        // USAGE of its own, the connecting role acts as the schema's owner
        // (as pg-sync-roles does), before and after the schema changes hands.
        let mut schemas: BTreeSet<&str> = BTreeSet::new();
        for step in &self.steps {
            if let Action::AlterOwner { object, .. }
            | Action::Grant { object, .. }
            | Action::Revoke { object, .. } = &step.action
            {
                schemas.extend(object.schema());
            }
        }
        for schema in schemas {
            let schema = ObjectRef::Schema(schema.to_owned());
            if !self.connecting_role_uses(&schema) {
                needed.extend(self.actual_owner(&schema).map(str::to_owned));
                needed.extend(self.final_owner(&schema).map(str::to_owned));
            }
        }
        // A new owner must be able to create the object where it lives.
        let mut creates: BTreeSet<(ObjectRef, String)> = BTreeSet::new();
        for step in &self.steps {
            if let Action::AlterOwner { object, owner } = &step.action {
                let container = match object.schema() {
                    Some(schema) => ObjectRef::Schema(schema.to_owned()),
                    None if matches!(object, ObjectRef::Schema(_)) => {
                        ObjectRef::Database(self.ix.snapshot.database.name.clone())
                    }
                    None => continue,
                };
                if !self.holds_create(&container, owner) {
                    creates.insert((container, owner.clone()));
                }
            }
        }
        for (container, owner) in &creates {
            // Granted before anything changes hands, revoked at the end.
            needed.extend(self.actual_owner(container).map(str::to_owned));
            needed.extend(self.final_owner(container).map(str::to_owned));
            let reason = format!(
                "temporary: {owner} may own objects in {} only with CREATE there",
                container.describe()
            );
            self.push(
                Action::TemporaryPrivilege {
                    object: container.clone(),
                    privilege: Privilege::Create,
                    grantee: owner.clone(),
                },
                reason,
            );
            let declared = self
                .privileges
                .get(owner.as_str())
                .is_some_and(|p| p.contains_key(&(container.clone(), Privilege::Create)));
            if declared {
                // Granted early for good: the declared grant is this one.
                let early = Action::Grant {
                    object: container.clone(),
                    privilege: Privilege::Create,
                    grantee: owner.clone(),
                };
                self.steps.retain(|s| s.action != early);
            } else if self.final_owner(container) == Some(owner.as_str())
                || self.actual_owner(container) == Some(owner.as_str())
            {
                // It owns the container in the end, and the privilege is its
                // own; or it owned it, and the privilege went to the new owner.
            } else {
                self.push(
                    Action::TemporaryPrivilegeRevoke {
                        object: container.clone(),
                        privilege: Privilege::Create,
                        grantee: owner.clone(),
                    },
                    "end of temporary grants",
                );
            }
        }
        needed.remove(self.conn);
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
        let members_of_conn = self.members_of(self.conn);
        for role in needed
            .iter()
            .filter(|r| members_of_conn.contains(r.as_str()))
        {
            self.notes.push(format!(
                "{role} is a member of {}, so {} cannot act as {role}; statements on objects {role} owns will fail",
                self.conn, self.conn
            ));
        }
        needed.retain(|role| !members_of_conn.contains(role.as_str()));
        for role in &needed {
            self.push(
                Action::TemporaryGrant { role: role.clone() },
                format!(
                    "temporary: let {} act as the owners of what it changes",
                    self.conn
                ),
            );
            // A role the plan drops takes its memberships along.
            let dropped = Action::DropRole { role: role.clone() };
            if !self.steps.iter().any(|s| s.action == dropped) {
                self.push(
                    Action::TemporaryRevoke { role: role.clone() },
                    "end of temporary grants",
                );
            }
        }
    }

    /// Whether `role` holds CREATE on a schema or database (directly, as its
    /// owner, or through PUBLIC) when objects in it are given to `role`.
    /// The container's owner holds what the old owner's entries give: its
    /// objects are given to it while it owns the container (before it
    /// changes hands, for the old owner; after, for the new one).
    pub(super) fn holds_create(&self, container: &ObjectRef, role: &str) -> bool {
        let acl = self.object_acl(container);
        let before = self.actual_owner(container);
        if before == Some(role) || self.final_owner(container) == Some(role) {
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
    pub(super) fn connecting_role_uses(&self, schema: &ObjectRef) -> bool {
        let owners = [self.actual_owner(schema), self.final_owner(schema)];
        let Some(acl) = self.object_acl(schema) else {
            return false;
        };
        let memberships = &self.ix.snapshot.connecting_role.memberships;
        acl.iter().any(|e| {
            e.privilege == Privilege::Usage
                && !owners.contains(&Some(e.grantee.as_str()))
                && (e.is_public()
                    || e.grantee == self.conn
                    || memberships.iter().any(|m| m.role == e.grantee && m.usage))
        })
    }

    /// Every role that is a member of `role`, directly or through others.
    pub(super) fn members_of(&self, role: &str) -> HashSet<&'a str> {
        let mut out: HashSet<&'a str> = HashSet::new();
        let mut queue = vec![role.to_owned()];
        while let Some(r) = queue.pop() {
            for m in self
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
}
