//! The catalog snapshot: the planner's only view of a database.
//!
//! A snapshot is read by the executor (`pgsr inspect`) and written as
//! versioned, canonical JSON (see `docs/snapshot.md`). Every list is sorted by
//! a stable key, so the same catalog always gives the same bytes, and the
//! [`fingerprint`](Snapshot::fingerprint) identifies the catalog state.

mod cluster;
mod diff;
mod json;

pub use cluster::{cluster_from_json, cluster_to_json, is_cluster_json, ClusterSnapshot};
pub use diff::summarize;
pub use json::{from_json, to_json, ReadError};

use crate::acl::{AclEntry, AclObjectType};
use serde::{Deserialize, Serialize};

/// The snapshot format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A snapshot: a header describing where and how it was taken, and the
/// catalog itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: u32,
    /// `server_version_num` of the server, e.g. 150018.
    pub server_version_num: u32,
    /// The database the snapshot was taken in.
    pub database: DatabaseIdent,
    pub connecting_role: ConnectingRole,
    /// Which part of the catalog the snapshot holds.
    pub scope: Scope,
    /// `sha256:` and the hex SHA-256 of the canonical form of `scope` and
    /// `catalog` (see [`Snapshot::compute_fingerprint`]).
    pub fingerprint: String,
    pub catalog: Catalog,
    /// What the roles a desired file retires own or hold, per database
    /// (`pg_shdepend`), read only for those roles. Not covered by the
    /// fingerprint: it tells the plan where a role still has objects, and
    /// PostgreSQL itself refuses to drop a role anything depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependencies>,
}

/// What one role owns and holds in one database, by `pg_shdepend`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependencies {
    pub role: String,
    /// Empty for shared objects (databases, tablespaces).
    pub database: String,
    /// Objects it owns.
    pub owned: u64,
    /// Objects where it holds privileges (or is named in a policy).
    pub privileges: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseIdent {
    pub name: String,
    pub oid: u32,
}

/// The role the snapshot was taken as: the role a plan made from it runs as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectingRole {
    pub name: String,
    pub superuser: bool,
    pub createrole: bool,
    /// Roles whose privileges the connecting role has, directly or through
    /// other roles (empty for a superuser, who has every role's privileges).
    pub memberships: Vec<ConnectingMembership>,
}

/// The connecting role's standing in one other role, as `pg_has_role` sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectingMembership {
    pub role: String,
    /// Has the role's privileges (`pg_has_role(.., 'USAGE')`).
    pub usage: bool,
    /// Can `SET ROLE` to it (`pg_has_role(.., 'MEMBER')`).
    pub member: bool,
    /// Can grant it to others (`pg_has_role(.., 'MEMBER WITH ADMIN OPTION')`).
    pub admin: bool,
}

/// The part of the catalog a snapshot holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// Everything: every role, every object of the connected database and
    /// every shared object.
    Full,
    /// Only what a desired file can touch: the listed roles, pgsr's
    /// intermediate roles (by name prefix), the objects where they hold
    /// privileges or ownership, the named objects, and every table-like in
    /// the schemas searched by a regex.
    Partial(PartialScope),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialScope {
    /// Roles read with their memberships and everything they hold. The
    /// memberships of every role these are members of, through any chain,
    /// are read too: they decide whether a membership is power.
    pub roles: Vec<String>,
    /// Roles whose name starts with one of these are read like `roles`
    /// (pgsr's intermediate roles). Absent from snapshots that read none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_prefixes: Vec<String>,
    /// Databases named by the desired file.
    pub databases: Vec<String>,
    /// Schemas named by the desired file.
    pub schemas: Vec<String>,
    /// Table-likes named by the desired file.
    pub relations: Vec<QualifiedName>,
    /// Schemas whose every table-like was read (for regex selection).
    pub regex_schemas: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

/// The catalog proper. Every list is sorted by the key named on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// By name.
    pub roles: Vec<Role>,
    /// By (role, member, grantor).
    pub memberships: Vec<Membership>,
    /// By name.
    pub databases: Vec<SharedObject>,
    /// By name.
    pub tablespaces: Vec<SharedObject>,
    /// By name. Parameters with privileges granted (PostgreSQL 15 and later).
    pub parameters: Vec<Parameter>,
    /// By name.
    pub schemas: Vec<Schema>,
    /// By (schema, name). Tables, views and sequences of every kind.
    pub relations: Vec<Relation>,
    /// By (schema, name, arguments).
    pub routines: Vec<Routine>,
    /// By (schema, name).
    pub types: Vec<Type>,
    /// By name.
    pub languages: Vec<NamedObject>,
    /// By oid.
    pub large_objects: Vec<LargeObject>,
    /// By name.
    pub foreign_data_wrappers: Vec<NamedObject>,
    /// By name.
    pub foreign_servers: Vec<NamedObject>,
    /// By (role, schema, object_type); the database-wide entry (no schema)
    /// first.
    pub default_privileges: Vec<DefaultPrivilege>,
    /// By (role, database); the entry for every database (no database)
    /// first. `ALTER ROLE … [IN DATABASE …] SET` (`pg_db_role_setting`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_settings: Vec<RoleSetting>,
}

/// A role's settings, in one database or in all (`database` null).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSetting {
    pub role: String,
    pub database: Option<String>,
    /// `name=value`, as PostgreSQL records them.
    pub settings: Vec<String>,
}

/// A role as `pg_roles` shows it. Passwords are never read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    pub oid: u32,
    pub superuser: bool,
    pub inherit: bool,
    pub createrole: bool,
    pub createdb: bool,
    pub canlogin: bool,
    pub replication: bool,
    pub bypassrls: bool,
    pub connection_limit: i32,
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC, `infinity`, or null (no limit).
    pub valid_until: Option<String>,
    /// `COMMENT ON ROLE`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Role {
    /// A role as a plain `CREATE ROLE` makes it: NOLOGIN, INHERIT, no other
    /// attribute, no connection limit.
    pub fn new(name: impl Into<String>, oid: u32) -> Role {
        Role {
            name: name.into(),
            oid,
            superuser: false,
            inherit: true,
            createrole: false,
            createdb: false,
            canlogin: false,
            replication: false,
            bypassrls: false,
            connection_limit: -1,
            valid_until: None,
            description: None,
        }
    }
}

/// One row of `pg_auth_members`: `member` is a member of `role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub role: String,
    pub member: String,
    /// The role that granted it; null when PostgreSQL before 16 recorded none.
    pub grantor: Option<String>,
    pub admin_option: bool,
    /// PostgreSQL 16 and later; null before.
    pub inherit_option: Option<bool>,
    /// PostgreSQL 16 and later; null before.
    pub set_option: Option<bool>,
}

/// A database or a tablespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedObject {
    pub name: String,
    pub oid: u32,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
}

/// A configuration parameter with privileges (`pg_parameter_acl`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    pub acl: Option<Vec<AclEntry>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: String,
    pub oid: u32,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
}

/// `pg_class.relkind` of the relations pgsr deals with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelKind {
    /// `r`
    Table,
    /// `p`
    PartitionedTable,
    /// `v`
    View,
    /// `m`
    MaterializedView,
    /// `f`
    ForeignTable,
    /// `S`
    Sequence,
}

impl RelKind {
    pub fn from_relkind(relkind: &str) -> Option<RelKind> {
        Some(match relkind {
            "r" => RelKind::Table,
            "p" => RelKind::PartitionedTable,
            "v" => RelKind::View,
            "m" => RelKind::MaterializedView,
            "f" => RelKind::ForeignTable,
            "S" => RelKind::Sequence,
            _ => return None,
        })
    }

    /// Tables, partitioned tables, views, materialized views and foreign
    /// tables: what `table_select` and `table_ownership` apply to.
    pub fn is_table_like(self) -> bool {
        self != RelKind::Sequence
    }

    pub fn acl_object_type(self) -> AclObjectType {
        match self {
            RelKind::Sequence => AclObjectType::Sequence,
            _ => AclObjectType::Relation,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub oid: u32,
    pub kind: RelKind,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
    /// Columns with a column-level ACL, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnAcl>,
    /// For a sequence owned by a table column (serial and identity columns):
    /// that table. Ownership of such a sequence follows the table's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<QualifiedName>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnAcl {
    pub name: String,
    pub acl: Vec<AclEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutineKind {
    Function,
    Procedure,
    Aggregate,
    Window,
}

impl RoutineKind {
    pub fn from_prokind(prokind: &str) -> Option<RoutineKind> {
        Some(match prokind {
            "f" => RoutineKind::Function,
            "p" => RoutineKind::Procedure,
            "a" => RoutineKind::Aggregate,
            "w" => RoutineKind::Window,
            _ => return None,
        })
    }
}

/// A function, procedure or aggregate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routine {
    pub schema: String,
    pub name: String,
    /// `pg_get_function_identity_arguments`: what names the routine in GRANT.
    pub arguments: String,
    pub oid: u32,
    pub kind: RoutineKind,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
    /// `SECURITY DEFINER`: it runs with its owner's rights, whoever calls it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub security_definer: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeKind {
    Base,
    Composite,
    Domain,
    Enum,
    Pseudo,
    Range,
    Multirange,
}

impl TypeKind {
    pub fn from_typtype(typtype: &str) -> Option<TypeKind> {
        Some(match typtype {
            "b" => TypeKind::Base,
            "c" => TypeKind::Composite,
            "d" => TypeKind::Domain,
            "e" => TypeKind::Enum,
            "p" => TypeKind::Pseudo,
            "r" => TypeKind::Range,
            "m" => TypeKind::Multirange,
            _ => return None,
        })
    }
}

/// A type or domain (array types and the row types of tables are left out:
/// their privileges are those of the element type or the table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Type {
    pub schema: String,
    pub name: String,
    pub oid: u32,
    pub kind: TypeKind,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
}

/// A language, foreign-data wrapper or foreign server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedObject {
    pub name: String,
    pub oid: u32,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargeObject {
    pub oid: u32,
    pub owner: String,
    pub acl: Option<Vec<AclEntry>>,
}

/// `pg_default_acl.defaclobjtype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultObjectType {
    Tables,
    Sequences,
    Functions,
    Types,
    Schemas,
    LargeObjects,
}

impl DefaultObjectType {
    pub fn from_defaclobjtype(objtype: &str) -> Option<DefaultObjectType> {
        Some(match objtype {
            "r" => DefaultObjectType::Tables,
            "S" => DefaultObjectType::Sequences,
            "f" => DefaultObjectType::Functions,
            "T" => DefaultObjectType::Types,
            "n" => DefaultObjectType::Schemas,
            "L" => DefaultObjectType::LargeObjects,
            _ => return None,
        })
    }

    /// The keyword in `ALTER DEFAULT PRIVILEGES … ON <keyword>`.
    pub fn keyword(self) -> &'static str {
        match self {
            DefaultObjectType::Tables => "TABLES",
            DefaultObjectType::Sequences => "SEQUENCES",
            DefaultObjectType::Functions => "FUNCTIONS",
            DefaultObjectType::Types => "TYPES",
            DefaultObjectType::Schemas => "SCHEMAS",
            DefaultObjectType::LargeObjects => "LARGE OBJECTS",
        }
    }
}

/// One row of `pg_default_acl`: privileges that objects created by `role`
/// (in `schema`, or anywhere when null) get. The ACL is never NULL here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultPrivilege {
    pub role: String,
    pub schema: Option<String>,
    pub object_type: DefaultObjectType,
    pub acl: Vec<AclEntry>,
}

impl Snapshot {
    /// Sorts every list into canonical order and recomputes the fingerprint.
    /// The executor calls this once after reading the catalog.
    pub fn canonicalize(&mut self) {
        let c = &mut self.catalog;
        c.roles.sort_by(|a, b| a.name.cmp(&b.name));
        c.role_settings
            .sort_by(|a, b| (&a.role, &a.database).cmp(&(&b.role, &b.database)));
        self.dependencies.sort();
        c.memberships.sort_by(|a, b| {
            (&a.role, &a.member, &a.grantor).cmp(&(&b.role, &b.member, &b.grantor))
        });
        c.databases.sort_by(|a, b| a.name.cmp(&b.name));
        c.tablespaces.sort_by(|a, b| a.name.cmp(&b.name));
        c.parameters.sort_by(|a, b| a.name.cmp(&b.name));
        c.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        c.relations
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        c.routines.sort_by(|a, b| {
            (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments))
        });
        c.types
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        c.languages.sort_by(|a, b| a.name.cmp(&b.name));
        c.large_objects.sort_by_key(|l| l.oid);
        c.foreign_data_wrappers.sort_by(|a, b| a.name.cmp(&b.name));
        c.foreign_servers.sort_by(|a, b| a.name.cmp(&b.name));
        c.default_privileges.sort_by(|a, b| {
            (&a.role, &a.schema, a.object_type).cmp(&(&b.role, &b.schema, b.object_type))
        });
        for acl in c.acls_mut() {
            acl.sort();
        }
        for rel in &mut c.relations {
            rel.columns.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.connecting_role.memberships.sort();
        if let Scope::Partial(p) = &mut self.scope {
            for list in [
                &mut p.roles,
                &mut p.role_prefixes,
                &mut p.databases,
                &mut p.schemas,
                &mut p.regex_schemas,
            ] {
                list.sort();
                list.dedup();
            }
            p.relations.sort();
            p.relations.dedup();
        }
        self.fingerprint = self.compute_fingerprint();
    }

    /// `sha256:<hex>` over the compact JSON of `{"scope":…,"catalog":…}`,
    /// fields in declaration order, lists in canonical order. The header
    /// (server version, database, connecting role) is not part of it: the
    /// fingerprint names a catalog state, whoever looks at it.
    pub fn compute_fingerprint(&self) -> String {
        json::fingerprint(&self.scope, &self.catalog)
    }
}

impl Catalog {
    /// Every ACL in the catalog, for bulk operations such as sorting.
    pub(crate) fn acls_mut(&mut self) -> impl Iterator<Item = &mut Vec<AclEntry>> {
        let shared = self
            .databases
            .iter_mut()
            .chain(self.tablespaces.iter_mut())
            .filter_map(|o| o.acl.as_mut());
        let params = self.parameters.iter_mut().filter_map(|o| o.acl.as_mut());
        let schemas = self.schemas.iter_mut().filter_map(|o| o.acl.as_mut());
        let relations = self.relations.iter_mut().flat_map(|r| {
            r.acl
                .as_mut()
                .into_iter()
                .chain(r.columns.iter_mut().map(|c| &mut c.acl))
        });
        let routines = self.routines.iter_mut().filter_map(|o| o.acl.as_mut());
        let types = self.types.iter_mut().filter_map(|o| o.acl.as_mut());
        let named = self
            .languages
            .iter_mut()
            .chain(self.foreign_data_wrappers.iter_mut())
            .chain(self.foreign_servers.iter_mut())
            .filter_map(|o| o.acl.as_mut());
        let los = self.large_objects.iter_mut().filter_map(|o| o.acl.as_mut());
        let defaults = self.default_privileges.iter_mut().map(|d| &mut d.acl);
        shared
            .chain(params)
            .chain(schemas)
            .chain(relations)
            .chain(routines)
            .chain(types)
            .chain(named)
            .chain(los)
            .chain(defaults)
    }
}

/// Calls `f` with every ACL in the catalog (NULL ACLs are skipped).
pub fn for_each_acl<'a>(c: &'a Catalog, mut f: impl FnMut(&'a [AclEntry])) {
    for o in c.databases.iter().chain(&c.tablespaces) {
        f(o.acl.as_deref().unwrap_or_default());
    }
    c.parameters
        .iter()
        .for_each(|o| f(o.acl.as_deref().unwrap_or_default()));
    c.schemas
        .iter()
        .for_each(|o| f(o.acl.as_deref().unwrap_or_default()));
    for r in &c.relations {
        f(r.acl.as_deref().unwrap_or_default());
        r.columns.iter().for_each(|col| f(&col.acl));
    }
    c.routines
        .iter()
        .for_each(|o| f(o.acl.as_deref().unwrap_or_default()));
    c.types
        .iter()
        .for_each(|o| f(o.acl.as_deref().unwrap_or_default()));
    for o in c
        .languages
        .iter()
        .chain(&c.foreign_data_wrappers)
        .chain(&c.foreign_servers)
    {
        f(o.acl.as_deref().unwrap_or_default());
    }
    c.large_objects
        .iter()
        .for_each(|o| f(o.acl.as_deref().unwrap_or_default()));
    c.default_privileges.iter().for_each(|d| f(&d.acl));
}
