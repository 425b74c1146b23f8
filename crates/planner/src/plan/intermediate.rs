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

/// Whether `role` is one of pgsr's intermediate roles, of any database.
/// No desired file can name one, so none is ever a managed role.
pub(crate) fn is_intermediate(role: &str) -> bool {
    role.starts_with(GLOBAL_CONNECT_PREFIX) || role.starts_with(LOCAL_PREFIX)
}

/// The privilege an intermediate role serves, as its name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    DatabaseConnect,
    SchemaUsage,
    SchemaCreate,
    TableSelect,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::DatabaseConnect,
        Kind::SchemaUsage,
        Kind::SchemaCreate,
        Kind::TableSelect,
    ];

    /// The kind of intermediate role that serves `privilege` on `object`.
    pub fn of(object: &ObjectRef, privilege: Privilege) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.covers(object, privilege))
    }

    /// The kind of an intermediate role of database `db_oid` (or a global
    /// one), by its name; None for other databases' roles and names pgsr
    /// does not know.
    pub fn of_role(role: &str, db_oid: u32) -> Option<Kind> {
        if role.starts_with(GLOBAL_CONNECT_PREFIX) {
            return Some(Kind::DatabaseConnect);
        }
        // `_pgsr_local_<oid>_<what>_…`, read without building the prefixes:
        // this runs for every privilege an intermediate role holds.
        let (oid, what) = role.strip_prefix(LOCAL_PREFIX)?.split_once('_')?;
        let canonical = oid.bytes().all(|b| b.is_ascii_digit()) && !oid.starts_with('0');
        if !canonical || oid.parse::<u32>().ok()? != db_oid {
            return None;
        }
        [
            (Kind::SchemaUsage, "schema_usage_"),
            (Kind::SchemaCreate, "schema_create_"),
            (Kind::TableSelect, "table_select_"),
        ]
        .into_iter()
        .find(|(_, w)| what.starts_with(w))
        .map(|(k, _)| k)
    }

    /// Whether `privilege` on `object` is what this kind of role serves.
    pub fn covers(self, object: &ObjectRef, privilege: Privilege) -> bool {
        match (self, object, privilege) {
            (Kind::DatabaseConnect, ObjectRef::Database(_), Privilege::Connect) => true,
            (Kind::SchemaUsage, ObjectRef::Schema(_), Privilege::Usage) => true,
            (Kind::SchemaCreate, ObjectRef::Schema(_), Privilege::Create) => true,
            (Kind::TableSelect, ObjectRef::Relation { kind, .. }, Privilege::Select) => {
                kind.is_table_like()
            }
            _ => false,
        }
    }

    /// The name prefix of this kind's roles in database `db_oid` (as
    /// `of_role` reads it).
    fn prefix(self, db_oid: u32) -> String {
        let what = match self {
            Kind::DatabaseConnect => return GLOBAL_CONNECT_PREFIX.to_owned(),
            Kind::SchemaUsage => "schema_usage",
            Kind::SchemaCreate => "schema_create",
            Kind::TableSelect => "table_select",
        };
        format!("{LOCAL_PREFIX}{db_oid}_{what}_")
    }
}

/// A privilege some managed roles should hold through an intermediate role.
pub(crate) struct Need<'a> {
    /// Which roles need it, each with the grant that asks for it.
    pub members: BTreeMap<&'a str, String>,
    kind: Kind,
}

impl<'a> Need<'a> {
    pub fn new(kind: Kind) -> Need<'a> {
        Need {
            members: BTreeMap::new(),
            kind,
        }
    }
}

/// Whether intermediate role `role` may keep `privilege` on `object`: a
/// role this plan routes grants through holds exactly the privilege it
/// serves. Any other intermediate role of this database (or global one)
/// may serve another desired file's roles, and which one object is its own
/// cannot be told from here: it keeps every privilege of its kind. Other
/// databases' roles hold nothing here.
pub(crate) fn may_hold(p: &Planner, role: &str, object: &ObjectRef, privilege: Privilege) -> bool {
    match p.serves.get(role) {
        Some((o, pr)) => o == object && *pr == privilege,
        None => Kind::of_role(role, p.ix.snapshot.database.oid)
            .is_some_and(|k| k.covers(object, privilege)),
    }
}

pub(crate) fn resolve(p: &mut Planner) {
    let db_oid = p.ix.snapshot.database.oid;
    let needs = std::mem::take(&mut p.needs);
    for ((object, privilege), need) in &needs {
        let prefix = need.kind.prefix(db_oid);
        let acl = p.object_acl(object);
        // A role serves one privilege on one object: one that holds another
        // too, and already serves that, is not a candidate here (and loses
        // what it does not serve). Nor is one that owns the object: an
        // owner's privileges are not granted, and the plan takes ownership
        // away from intermediate roles.
        let owner = p.actual_owner(object);
        let candidates: Vec<String> = grantees_with_prefix(acl, &prefix, *privilege)
            .into_iter()
            .filter(|c| !p.serves.contains_key(*c) && Some(*c) != owner)
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
        // Members are added to an existing role only if the connecting role
        // may grant it; otherwise it makes one of its own.
        let adds_members = held.values().any(Vec::is_empty);
        let chosen = adds_members.then(|| match candidates.iter().find(|c| can_grant(p, c)) {
            Some(existing) => existing.clone(),
            None => create(p, &prefix, object, *privilege),
        });
        for (member, reason) in &need.members {
            let keep: Vec<String> = match (held[member].as_slice(), &chosen) {
                ([], Some(chosen)) => vec![chosen.clone()],
                (roles, _) => roles.to_vec(),
            };
            for role in keep {
                p.serves.insert(role.clone(), (object.clone(), *privilege));
                p.memberships
                    .entry(member)
                    .or_default()
                    .entry(role)
                    .or_insert_with(|| reason.clone());
            }
        }
    }
    p.needs = needs;
}

/// Creates a new intermediate role for `privilege` on `object`.
fn create(p: &mut Planner, prefix: &str, object: &ObjectRef, privilege: Privilege) -> String {
    let name = new_name(prefix, object, &p.taken);
    p.taken.insert(name.clone());
    let reason = format!("intermediate role for {privilege} on {}", object.describe());
    p.push(Action::CreateRole { role: name.clone() }, reason.clone());
    p.push(
        Action::Grant {
            object: object.clone(),
            privilege,
            grantee: name.clone(),
        },
        reason,
    );
    name
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `of_role` reads back the kind of every name `prefix` starts, and
    /// no other database's.
    #[test]
    fn kind_of_a_role_by_its_name() {
        for kind in Kind::ALL {
            let name = format!("{}0badcafe", kind.prefix(16384));
            assert_eq!(Kind::of_role(&name, 16384), Some(kind), "{name}");
            let other = format!("{}0badcafe", kind.prefix(1638));
            let expected = (kind == Kind::DatabaseConnect).then_some(kind);
            assert_eq!(Kind::of_role(&other, 16384), expected, "{other}");
        }
        for name in [
            "_pgsr_local_163840_table_select_x",
            "_pgsr_local_016384_table_select_x",
            "_pgsr_local_+16384_table_select_x",
            "_pgsr_local_16384_table_insert_x",
            "_pgsr_database_connect_x",
            "_pgsr_local_16384",
        ] {
            assert_eq!(Kind::of_role(name, 16384), None, "{name}");
        }
    }
}
