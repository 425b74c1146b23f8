//! Intermediate roles: one role per (object, privilege) holds the privilege,
//! and roles that should have it become its members. From the object's
//! point of view only one role holds the privilege however many users do,
//! which keeps ACLs far below PostgreSQL's "row is too big" limit.
//!
//! Names follow pg-sync-roles so that clusters it manages are adopted as they
//! are. An existing intermediate role is found through the object's ACL (a
//! role with the right prefix holding the privilege), never recomputed from
//! the object's name, so renamed or swapped objects keep their grants.

use super::action::{Action, Step};
use super::context::Context;
use super::index::grantees_with_prefix;
use super::object::ObjectRef;
use super::resolve::Target;
use crate::acl::Privilege;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};

pub(crate) const GLOBAL_DATABASE_PREFIX: &str = "_pgsr_global_database_";
pub(crate) const GLOBAL_CONNECT_PREFIX: &str = "_pgsr_global_database_connect_";
pub(crate) const LOCAL_PREFIX: &str = "_pgsr_local_";

/// Whether `role` is one of pgsr's intermediate roles, of any database.
/// No desired file can name one, so none is ever a managed role.
pub fn is_intermediate(role: &str) -> bool {
    role.starts_with(GLOBAL_DATABASE_PREFIX) || role.starts_with(LOCAL_PREFIX)
}

/// The kinds of object an intermediate role serves a privilege on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Databases: shared, so their roles are global.
    Database,
    Schema,
    /// Table-likes.
    Table,
}

impl Class {
    const ALL: [Class; 3] = [Class::Database, Class::Schema, Class::Table];

    fn word(self) -> &'static str {
        match self {
            Class::Database => "database",
            Class::Schema => "schema",
            Class::Table => "table",
        }
    }

    fn of(object: &ObjectRef) -> Option<Class> {
        match object {
            ObjectRef::Database(_) => Some(Class::Database),
            ObjectRef::Schema(_) => Some(Class::Schema),
            ObjectRef::Relation { kind, .. } if kind.is_table_like() => Some(Class::Table),
            _ => None,
        }
    }
}

/// The privilege an intermediate role serves, as its name says:
/// `_pgsr_global_database_<privilege>_…` for databases (pg-sync-roles'
/// `_pgsr_global_database_connect_`), `_pgsr_local_<database oid>_schema_<privilege>_…`
/// and `_pgsr_local_<database oid>_table_<privilege>_…` (pg-sync-roles'
/// `schema_usage`, `schema_create` and `table_select`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Kind {
    class: Class,
    privilege: Privilege,
}

/// A privilege in a role name: its keyword in lower case.
fn privilege_word(privilege: Privilege) -> String {
    privilege.keyword().to_lowercase().replace(' ', "_")
}

impl Kind {
    /// The kind of intermediate role that serves `privilege` on `object`.
    fn of(object: &ObjectRef, privilege: Privilege) -> Option<Kind> {
        let class = Class::of(object)?;
        object
            .acl_object_type()
            .privileges(u32::MAX)
            .contains(&privilege)
            .then_some(Kind { class, privilege })
    }

    /// The kind of an intermediate role of database `db_oid` (or a global
    /// one), by its name; None for other databases' roles and names pgsr
    /// does not know.
    pub fn of_role(role: &str, db_oid: u32) -> Option<Kind> {
        let (class, rest) = if let Some(rest) = role.strip_prefix(GLOBAL_DATABASE_PREFIX) {
            (Class::Database, rest)
        } else {
            // `_pgsr_local_<oid>_<class>_<privilege>_…`, read without
            // building the prefixes: this runs for every privilege an
            // intermediate role holds.
            let (oid, what) = role.strip_prefix(LOCAL_PREFIX)?.split_once('_')?;
            let canonical = oid.bytes().all(|b| b.is_ascii_digit()) && !oid.starts_with('0');
            if !canonical || oid.parse::<u32>().ok()? != db_oid {
                return None;
            }
            let (class, rest) = what.split_once('_')?;
            let class = Class::ALL
                .into_iter()
                .find(|c| *c != Class::Database && c.word() == class)?;
            (class, rest)
        };
        let (word, _) = rest.split_once('_')?;
        let privilege = Privilege::ALL
            .into_iter()
            .find(|p| !p.keyword().contains(' ') && privilege_word(*p) == word)?;
        let kind = Kind { class, privilege };
        let sample = match class {
            Class::Database => ObjectRef::Database(String::new()),
            Class::Schema => ObjectRef::Schema(String::new()),
            Class::Table => ObjectRef::Relation {
                schema: String::new(),
                name: String::new(),
                kind: crate::snapshot::RelKind::Table,
            },
        };
        (Kind::of(&sample, privilege) == Some(kind)).then_some(kind)
    }

    /// Whether `privilege` on `object` is what this kind of role serves.
    pub fn covers(self, object: &ObjectRef, privilege: Privilege) -> bool {
        Kind::of(object, privilege) == Some(self)
    }

    /// The name prefix of this kind's roles in database `db_oid` (as
    /// `of_role` reads it).
    pub fn prefix(self, db_oid: u32) -> String {
        let privilege = privilege_word(self.privilege);
        match self.class {
            Class::Database => format!("{GLOBAL_DATABASE_PREFIX}{privilege}_"),
            class => format!("{LOCAL_PREFIX}{db_oid}_{}_{privilege}_", class.word()),
        }
    }
}

/// The intermediate roles a plan routes grants through.
#[derive(Default)]
pub(crate) struct Routing {
    /// Each role used, with the one privilege it serves.
    pub serves: BTreeMap<String, (ObjectRef, Privilege)>,
    /// The memberships managed roles need in them: member -> role -> reason.
    pub memberships: BTreeMap<String, BTreeMap<String, String>>,
}

impl Routing {
    /// Whether intermediate role `role` may keep `privilege` on `object`: a
    /// role this plan routes grants through holds exactly the privilege it
    /// serves. Any other intermediate role of database `db_oid` (or global
    /// one) may serve another desired file's roles, and which one object is
    /// its own cannot be told from here: it keeps every privilege of its
    /// kind. Other databases' roles hold nothing here.
    pub fn may_hold(
        &self,
        role: &str,
        object: &ObjectRef,
        privilege: Privilege,
        db_oid: u32,
    ) -> bool {
        match self.serves.get(role) {
            Some((o, pr)) => o == object && *pr == privilege,
            None => Kind::of_role(role, db_oid).is_some_and(|k| k.covers(object, privilege)),
        }
    }
}

/// Chooses (or creates) the intermediate role of each privilege the target
/// needs, and the memberships in it; the steps create the new ones.
pub(crate) fn choose(ctx: &Context, target: &Target) -> (Routing, Vec<Step>) {
    let ix = &ctx.ix;
    let db_oid = ix.snapshot.database.oid;
    let mut routing = Routing::default();
    let mut steps = Vec::new();
    // Roles that exist or will: names a new intermediate role must avoid.
    let mut taken: HashSet<String> = ix
        .snapshot
        .catalog
        .roles
        .iter()
        .map(|r| r.name.clone())
        .collect();
    for ((object, privilege), members) in &target.needs {
        let Some(kind) = Kind::of(object, *privilege) else {
            unreachable!("no intermediate role serves {privilege} on {object:?}")
        };
        let prefix = kind.prefix(db_oid);
        let entry = ix.entry(object);
        let acl = entry.as_ref().and_then(|e| e.acl);
        // A role serves one privilege on one object: one that holds another
        // too, and already serves that, is not a candidate here (and loses
        // what it does not serve). Nor is one that owns the object: an
        // owner's privileges are not granted, and the plan takes ownership
        // away from intermediate roles.
        let owner = target
            .actual_owner(object)
            .or_else(|| entry.as_ref().and_then(|e| e.owner));
        let candidates: Vec<String> = grantees_with_prefix(acl, &prefix, *privilege)
            .into_iter()
            .filter(|c| !routing.serves.contains_key(*c) && Some(*c) != owner)
            .map(str::to_owned)
            .collect();
        // A role already in any role that serves this privilege keeps that
        // membership: adopting a cluster causes no churn.
        let held: BTreeMap<&str, Vec<String>> = members
            .keys()
            .map(|member| {
                let roles = candidates
                    .iter()
                    .filter(|c| {
                        ix.memberships_by_member
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
        let chosen = adds_members.then(|| match candidates.iter().find(|c| can_grant(ctx, c)) {
            Some(existing) => existing.clone(),
            None => {
                let via: Vec<&str> = members.keys().copied().collect();
                create(&mut steps, &mut taken, &prefix, object, *privilege, &via)
            }
        });
        for (member, reason) in members {
            let keep: Vec<String> = match (held[member].as_slice(), &chosen) {
                ([], Some(chosen)) => vec![chosen.clone()],
                (roles, _) => roles.to_vec(),
            };
            for role in keep {
                routing
                    .serves
                    .insert(role.clone(), (object.clone(), *privilege));
                routing
                    .memberships
                    .entry((*member).to_owned())
                    .or_default()
                    .entry(role)
                    .or_insert_with(|| reason.clone());
            }
        }
    }
    (routing, steps)
}

/// Creates a new intermediate role for `privilege` on `object`, through
/// which `via` get it.
fn create(
    steps: &mut Vec<Step>,
    taken: &mut HashSet<String>,
    prefix: &str,
    object: &ObjectRef,
    privilege: Privilege,
    via: &[&str],
) -> String {
    let name = new_name(prefix, object, taken);
    taken.insert(name.clone());
    let reason = format!(
        "via {name}: the role through which {} {} {} ({privilege}; one role holds it, however many use it)",
        crate::display::list(via),
        if via.len() == 1 { verb(privilege).0 } else { verb(privilege).1 },
        object.describe()
    );
    steps.push(Step {
        action: Action::CreateRole { role: name.clone() },
        reason: reason.clone(),
    });
    steps.push(Step {
        action: Action::Grant {
            object: object.clone(),
            privilege,
            grantee: name.clone(),
            grant_option: false,
        },
        reason,
    });
    name
}

/// What holding `privilege` lets a role do, in words, for one role and
/// for several.
fn verb(privilege: Privilege) -> (&'static str, &'static str) {
    match privilege {
        Privilege::Select => ("reads", "read"),
        Privilege::Usage => ("uses", "use"),
        Privilege::Connect => ("connects to", "connect to"),
        Privilege::Create => ("creates objects in", "create objects in"),
        Privilege::Temporary => ("creates temporary tables in", "create temporary tables in"),
        Privilege::Insert => ("inserts into", "insert into"),
        Privilege::Update => ("updates", "update"),
        Privilege::Delete => ("deletes from", "delete from"),
        Privilege::Truncate => ("truncates", "truncate"),
        Privilege::References => ("references", "reference"),
        Privilege::Trigger => ("makes triggers on", "make triggers on"),
        _ => ("has a privilege on", "have a privilege on"),
    }
}

/// Whether the connecting role may grant membership in `role`: a
/// superuser may; before PostgreSQL 16 so may a CREATEROLE role (for any
/// role that is not a superuser, which intermediate roles never are); since
/// 16 only a role with ADMIN OPTION on it, as its creator has.
fn can_grant(ctx: &Context, role: &str) -> bool {
    let snapshot = ctx.ix.snapshot;
    let conn = &snapshot.connecting_role;
    conn.superuser
        || (conn.createrole && snapshot.server_version_num < 160000)
        || conn.memberships.iter().any(|m| m.role == role && m.admin)
}

/// A new name: the prefix and 8 hex digits of a hash of the prefix and the
/// object, probing on collision. Deterministic, unlike pg-sync-roles' random
/// suffix, so that the same inputs always give the same plan.
fn new_name(prefix: &str, object: &ObjectRef, taken: &HashSet<String>) -> String {
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
    /// no other database's; pg-sync-roles' names are among them.
    #[test]
    fn kind_of_a_role_by_its_name() {
        let table = ObjectRef::Relation {
            schema: "s".into(),
            name: "t".into(),
            kind: crate::snapshot::RelKind::Table,
        };
        let mut kinds = Vec::new();
        for object in [
            ObjectRef::Database("d".into()),
            ObjectRef::Schema("s".into()),
            table,
        ] {
            for privilege in Privilege::ALL {
                kinds.extend(Kind::of(&object, privilege));
            }
        }
        assert_eq!(kinds.len(), 3 + 2 + 8);
        for kind in kinds {
            let name = format!("{}0badcafe", kind.prefix(16384));
            assert_eq!(Kind::of_role(&name, 16384), Some(kind), "{name}");
            let other = format!("{}0badcafe", kind.prefix(1638));
            let expected = (kind.class == Class::Database).then_some(kind);
            assert_eq!(Kind::of_role(&other, 16384), expected, "{other}");
        }
        for (name, expected) in [
            (
                "_pgsr_global_database_connect_1",
                "_pgsr_global_database_connect_",
            ),
            (
                "_pgsr_local_16384_schema_usage_1",
                "_pgsr_local_16384_schema_usage_",
            ),
            (
                "_pgsr_local_16384_schema_create_1",
                "_pgsr_local_16384_schema_create_",
            ),
            (
                "_pgsr_local_16384_table_select_1",
                "_pgsr_local_16384_table_select_",
            ),
        ] {
            let kind = Kind::of_role(name, 16384).expect(name);
            assert_eq!(kind.prefix(16384), expected);
        }
        for name in [
            "_pgsr_local_163840_table_select_x",
            "_pgsr_local_016384_table_select_x",
            "_pgsr_local_+16384_table_select_x",
            "_pgsr_local_16384_table_usage_x",
            "_pgsr_local_16384_database_connect_x",
            "_pgsr_local_16384_schema_select_x",
            "_pgsr_database_connect_x",
            "_pgsr_local_16384",
        ] {
            assert_eq!(Kind::of_role(name, 16384), None, "{name}");
        }
    }
}
