//! Intermediate roles: one role per (object, privilege) holds the privilege,
//! and roles that should have it become its members. From the object's
//! point of view only one role holds the privilege however many users do,
//! which keeps ACLs far below PostgreSQL's "row is too big" limit.
//!
//! Names follow pg-sync-roles so that clusters it manages are adopted as they
//! are. An existing intermediate role is found through the object's ACL (a
//! role with the right prefix holding the privilege), never recomputed from
//! the object's name, so renamed or swapped objects keep their grants.

use super::action::Action;
use super::index::grantees_with_prefix;
use super::object::ObjectRef;
use super::target::Planner;
use crate::acl::Privilege;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub(crate) const GLOBAL_CONNECT_PREFIX: &str = "_pgsr_global_database_connect_";
pub(crate) const LOCAL_PREFIX: &str = "_pgsr_local_";

/// A privilege some managed roles should hold through an intermediate role.
pub(crate) struct Need<'a> {
    /// Which roles need it, each with the grant that asks for it.
    pub members: BTreeMap<&'a str, String>,
    what: &'static str,
}

impl<'a> Need<'a> {
    pub fn new(object: &ObjectRef, privilege: Privilege) -> Need<'a> {
        let what = match (object, privilege) {
            (ObjectRef::Database(_), Privilege::Connect) => "database_connect",
            (ObjectRef::Schema(_), Privilege::Usage) => "schema_usage",
            (ObjectRef::Schema(_), Privilege::Create) => "schema_create",
            (ObjectRef::Relation { .. }, Privilege::Select) => "table_select",
            _ => "privilege",
        };
        Need {
            members: BTreeMap::new(),
            what,
        }
    }
}

/// The name prefix of intermediate roles for `need` in database `db_oid`.
fn prefix(need: &Need, db_oid: u32) -> String {
    match need.what {
        "database_connect" => GLOBAL_CONNECT_PREFIX.to_owned(),
        what => format!("{LOCAL_PREFIX}{db_oid}_{what}_"),
    }
}

pub(crate) fn resolve(p: &mut Planner) {
    let db_oid = p.ix.snapshot.database.oid;
    let needs = std::mem::take(&mut p.needs);
    for ((object, privilege), need) in &needs {
        let prefix = prefix(need, db_oid);
        let acl = p.object_acl(object);
        let candidates: Vec<String> = grantees_with_prefix(acl, &prefix, *privilege)
            .into_iter()
            .map(str::to_owned)
            .collect();
        // A role already in any role that serves this privilege keeps that
        // membership: adopting a cluster causes no churn.
        let held: BTreeMap<&str, Vec<String>> = need
            .members
            .keys()
            .map(|member| {
                let roles = candidates
                    .iter()
                    .filter(|c| {
                        p.ix.memberships_by_member
                            .get(member)
                            .into_iter()
                            .flatten()
                            .any(|m| &m.role == *c)
                    })
                    .cloned()
                    .collect();
                (*member, roles)
            })
            .collect();
        let adds_members = held.values().any(Vec::is_empty);
        // Members are added to an existing role only if the connecting role
        // may grant it; otherwise it makes one of its own.
        let existing = if adds_members {
            candidates.iter().find(|c| can_grant(p, c))
        } else {
            candidates.first()
        };
        let chosen = match existing {
            Some(existing) => existing.clone(),
            None => {
                let name = new_name(&prefix, object, &p.taken);
                p.taken.insert(name.clone());
                let reason = format!("intermediate role for {privilege} on {}", object.describe());
                p.push(Action::CreateRole { role: name.clone() }, reason.clone());
                p.push(
                    Action::Grant {
                        object: object.clone(),
                        privilege: *privilege,
                        grantee: name.clone(),
                    },
                    reason,
                );
                name
            }
        };
        for (member, reason) in &need.members {
            let keep: Vec<String> = match &held[member] {
                roles if roles.is_empty() => vec![chosen.clone()],
                roles => roles.clone(),
            };
            for role in keep {
                p.used_intermediates.insert(role.clone());
                p.memberships
                    .entry(member)
                    .or_default()
                    .entry(role)
                    .or_insert_with(|| reason.clone());
            }
        }
        p.used_intermediates.insert(chosen.clone());
        p.chosen.insert((object.clone(), *privilege), chosen);
    }
    p.needs = needs;
}

/// Whether the connecting role may grant membership in `role`: a
/// superuser may; before PostgreSQL 16 so may a CREATEROLE role (for any
/// role that is not a superuser, which intermediate roles never are); since
/// 16 only a role with ADMIN OPTION on it, as its creator has.
fn can_grant(p: &Planner, role: &str) -> bool {
    let snapshot = p.ix.snapshot;
    let conn = &snapshot.connecting_role;
    conn.superuser
        || (conn.createrole && snapshot.server_version_num < 160000)
        || conn.memberships.iter().any(|m| m.role == role && m.admin)
}

/// A new name: the prefix and 8 hex digits of a hash of the prefix and the
/// object, probing on collision. Deterministic, unlike pg-sync-roles' random
/// suffix, so that the same inputs always give the same plan.
fn new_name(prefix: &str, object: &ObjectRef, taken: &std::collections::HashSet<String>) -> String {
    let identity = object.describe();
    for attempt in 0u32.. {
        let digest = Sha256::digest(format!("{prefix}\0{identity}\0{attempt}").as_bytes());
        let name = format!(
            "{prefix}{:02x}{:02x}{:02x}{:02x}",
            digest[0], digest[1], digest[2], digest[3]
        );
        if !taken.contains(&name) {
            return name;
        }
    }
    unreachable!("u32 attempts cannot all collide")
}
