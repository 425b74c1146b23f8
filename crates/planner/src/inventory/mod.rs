//! Who can do what: effective access computed from a snapshot, with the
//! path that gives each privilege (the role itself, a chain of
//! memberships, PUBLIC, ownership, a predefined role, SUPERUSER), as
//! PostgreSQL's `has_*_privilege` functions decide it; and a desired file
//! checked against the catalog (PUM's role inventory).
//!
//! ```
//! use pgsr_planner::inventory::Inventory;
//! # let snapshot: pgsr_planner::snapshot::Snapshot = serde_json::from_str(
//! #     include_str!("../../../../fixtures/examples/snapshot.json")).unwrap();
//! let inventory = Inventory::new(&snapshot);
//! for held in inventory.of_role("app_owner", false).unwrap().held {
//!     let _ = (held.object, held.privilege, held.path.describe());
//! }
//! ```

mod access;
mod check;
mod reach;
mod render;
mod whole;

pub use access::{How, Path};
pub use check::{Check, Configured, GrantCheck};
pub use reach::DATABASE_OWNER;
pub use render::{render, Format, View};

use crate::acl::{AclObjectType, Privilege};
use crate::plan::ObjectRef;
use crate::snapshot::{Role, Snapshot};
use access::{guarded, Guarded, Judge};
use serde::Serialize;

/// The version of the JSON the inventory writes (`--format json`).
pub const FORMAT_VERSION: u32 = 1;

/// The inventory of one snapshot.
pub struct Inventory<'a> {
    snapshot: &'a Snapshot,
    objects: Vec<Guarded>,
}

/// A role, its attributes and memberships (pycopg's `list_roles`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleSummary {
    pub name: String,
    pub login: bool,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub replication: bool,
    pub bypassrls: bool,
    pub inherit: bool,
    pub connection_limit: i32,
    pub valid_until: Option<String>,
    /// Roles it is a member of.
    pub member_of: Vec<String>,
    /// Its members.
    pub members: Vec<String>,
}

/// A privilege a role holds, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    pub object: String,
    pub kind: &'static str,
    pub privilege: Privilege,
    pub path: Path,
}

/// Everything one role holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleAccess {
    pub role: RoleSummary,
    pub held: Vec<Held>,
}

/// A role holding a privilege on one object, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub role: String,
    pub privilege: Privilege,
    pub path: Path,
}

/// Who can do what on one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectAccess {
    pub object: String,
    pub kind: &'static str,
    pub owner: Option<String>,
    pub holders: Vec<Holder>,
}

impl<'a> Inventory<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Inventory<'a> {
        Inventory {
            snapshot,
            objects: guarded(snapshot),
        }
    }

    /// Every role (PostgreSQL's own `pg_*` roles only with
    /// `include_system`), by name.
    pub fn roles(&self, include_system: bool) -> Vec<RoleSummary> {
        self.snapshot
            .catalog
            .roles
            .iter()
            .filter(|r| include_system || !is_system(&r.name))
            .map(|r| self.summary(r))
            .collect()
    }

    /// Every privilege `role` holds on the snapshot's objects, with its
    /// path; objects in PostgreSQL's own schemas only with
    /// `include_system`.
    pub fn of_role(&self, role: &str, include_system: bool) -> Result<RoleAccess, String> {
        let r = self.role(role)?;
        let judge = Judge::new(self.snapshot, &self.objects);
        let reach = judge.graph.reach(&r.name);
        let mut held = Vec::new();
        for o in self
            .objects
            .iter()
            .filter(|o| include_system || !in_system_schema(&o.object))
        {
            for &privilege in privileges(o, self.snapshot.server_version_num) {
                if let Some(path) = judge.access(&r.name, &reach, o, privilege) {
                    held.push(Held {
                        object: name_of(&o.object),
                        kind: kind_word(&o.object),
                        privilege,
                        path,
                    });
                }
            }
        }
        Ok(RoleAccess {
            role: self.summary(r),
            held,
        })
    }

    /// Who holds what on the object `spec` names (see [`find`]), every
    /// role considered (PostgreSQL's own only with `include_system`).
    pub fn on_object(&self, spec: &str, include_system: bool) -> Result<ObjectAccess, String> {
        let o = self.find(spec)?;
        let judge = Judge::new(self.snapshot, &self.objects);
        let mut holders = Vec::new();
        for r in &self.snapshot.catalog.roles {
            if !include_system && is_system(&r.name) {
                continue;
            }
            let reach = judge.graph.reach(&r.name);
            for &privilege in privileges(o, self.snapshot.server_version_num) {
                if let Some(path) = judge.access(&r.name, &reach, o, privilege) {
                    holders.push(Holder {
                        role: r.name.clone(),
                        privilege,
                        path,
                    });
                }
            }
        }
        Ok(ObjectAccess {
            object: name_of(&o.object),
            kind: kind_word(&o.object),
            owner: o.owner.clone(),
            holders,
        })
    }

    /// Whether `role` holds `privilege` on `object`, and how: the answer
    /// of PostgreSQL's `has_*_privilege` for it.
    pub fn access(&self, role: &str, object: &ObjectRef, privilege: Privilege) -> Option<Path> {
        let judge = Judge::new(self.snapshot, &self.objects);
        let o = self.objects.iter().find(|o| &o.object == object)?;
        let reach = judge.graph.reach(role);
        judge.access(role, &reach, o, privilege)
    }

    /// Every object privileges apply to, with its oid (a column's is its
    /// table's) and the privileges that exist on it on this server.
    pub fn objects(&self) -> Vec<(ObjectRef, Option<u32>, Vec<Privilege>)> {
        self.objects
            .iter()
            .map(|o| {
                (
                    o.object.clone(),
                    o.oid,
                    privileges(o, self.snapshot.server_version_num).to_vec(),
                )
            })
            .collect()
    }

    /// An object by name: `schema.table`, `schema.table.column`, `schema`,
    /// or a kind and a name (`database:app`, `function:s.f`, `type:s.t`,
    /// `sequence:s.q`, `language:plpgsql`, `tablespace:t`, `server:s`,
    /// `foreign_data_wrapper:w`, `large_object:16400`, `parameter:p`).
    fn find(&self, spec: &str) -> Result<&Guarded, String> {
        let (kind, name) = match spec.split_once(':') {
            Some((k, n)) => (Some(k), n),
            None => (None, spec),
        };
        let parts: Vec<&str> = name.split('.').collect();
        let found = self
            .objects
            .iter()
            .find(|o| match (&o.object, kind, parts.as_slice()) {
                (
                    ObjectRef::Relation { schema, name, .. },
                    None | Some("table" | "view" | "sequence"),
                    [s, n],
                ) => schema == s && name == n,
                (
                    ObjectRef::Column {
                        schema,
                        table,
                        column,
                    },
                    None | Some("column"),
                    [s, t, c],
                ) => schema == s && table == t && column == c,
                (ObjectRef::Schema(n), None | Some("schema"), [s]) => n == s,
                (ObjectRef::Database(n), Some("database"), [s]) => n == s,
                (ObjectRef::Tablespace(n), Some("tablespace"), [s]) => n == s,
                (ObjectRef::Language(n), Some("language"), [s]) => n == s,
                (ObjectRef::ForeignServer(n), Some("server"), [s]) => n == s,
                (ObjectRef::ForeignDataWrapper(n), Some("foreign_data_wrapper"), [s]) => n == s,
                (ObjectRef::Routine { schema, name, .. }, Some("function"), [s, n]) => {
                    schema == s && name == n
                }
                (ObjectRef::Type { schema, name, .. }, Some("type"), [s, n]) => {
                    schema == s && name == n
                }
                (ObjectRef::LargeObject(oid), Some("large_object"), [s]) => oid.to_string() == *s,
                (ObjectRef::Parameter(p), Some("parameter"), _) => p == name,
                _ => false,
            });
        found.ok_or_else(|| {
            format!(
                "no object {} in the snapshot (name a table as schema.table, a schema by its name, or another object as kind:name)",
                crate::display::quoted(spec)
            )
        })
    }

    fn role(&self, name: &str) -> Result<&'a Role, String> {
        self.snapshot
            .catalog
            .roles
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| format!("no role {} in the snapshot", crate::display::quoted(name)))
    }

    fn summary(&self, r: &Role) -> RoleSummary {
        let m = &self.snapshot.catalog.memberships;
        let mut member_of: Vec<String> = m
            .iter()
            .filter(|m| m.member == r.name)
            .map(|m| m.role.clone())
            .collect();
        let mut members: Vec<String> = m
            .iter()
            .filter(|m| m.role == r.name)
            .map(|m| m.member.clone())
            .collect();
        member_of.dedup();
        members.sort();
        members.dedup();
        RoleSummary {
            name: r.name.clone(),
            login: r.canlogin,
            superuser: r.superuser,
            createdb: r.createdb,
            createrole: r.createrole,
            replication: r.replication,
            bypassrls: r.bypassrls,
            inherit: r.inherit,
            connection_limit: r.connection_limit,
            valid_until: r.valid_until.clone(),
            member_of,
            members,
        }
    }
}

/// PostgreSQL's own roles.
fn is_system(name: &str) -> bool {
    name.starts_with("pg_")
}

/// An object in one of PostgreSQL's own schemas (`pg_catalog`,
/// `information_schema`), or one of those schemas.
fn in_system_schema(o: &ObjectRef) -> bool {
    let schema = match o {
        ObjectRef::Schema(s) => Some(s.as_str()),
        other => other.schema(),
    };
    schema.is_some_and(crate::power::is_system_schema)
}

fn privileges(o: &Guarded, v: u32) -> &'static [Privilege] {
    let t = match &o.object {
        ObjectRef::Column { .. } => AclObjectType::Column,
        other => other.acl_object_type(),
    };
    t.privileges(v)
}

/// An object's name, without its kind.
fn name_of(o: &ObjectRef) -> String {
    match o {
        ObjectRef::Database(n)
        | ObjectRef::Tablespace(n)
        | ObjectRef::Parameter(n)
        | ObjectRef::Schema(n)
        | ObjectRef::Language(n)
        | ObjectRef::ForeignDataWrapper(n)
        | ObjectRef::ForeignServer(n) => n.clone(),
        ObjectRef::Relation { schema, name, .. } | ObjectRef::Type { schema, name, .. } => {
            format!("{schema}.{name}")
        }
        ObjectRef::Column {
            schema,
            table,
            column,
        } => format!("{schema}.{table}.{column}"),
        ObjectRef::Routine {
            schema,
            name,
            arguments,
            ..
        } => format!("{schema}.{name}({arguments})"),
        ObjectRef::LargeObject(oid) => oid.to_string(),
    }
}

fn kind_word(o: &ObjectRef) -> &'static str {
    match o {
        ObjectRef::Database(_) => "database",
        ObjectRef::Tablespace(_) => "tablespace",
        ObjectRef::Parameter(_) => "parameter",
        ObjectRef::Schema(_) => "schema",
        ObjectRef::Relation { kind, .. } => match kind {
            crate::snapshot::RelKind::Sequence => "sequence",
            crate::snapshot::RelKind::View => "view",
            crate::snapshot::RelKind::MaterializedView => "materialized view",
            crate::snapshot::RelKind::ForeignTable => "foreign table",
            _ => "table",
        },
        ObjectRef::Column { .. } => "column",
        ObjectRef::Routine { .. } => "function",
        ObjectRef::Type { domain: true, .. } => "domain",
        ObjectRef::Type { .. } => "type",
        ObjectRef::Language(_) => "language",
        ObjectRef::LargeObject(_) => "large object",
        ObjectRef::ForeignDataWrapper(_) => "foreign-data wrapper",
        ObjectRef::ForeignServer(_) => "foreign server",
    }
}
