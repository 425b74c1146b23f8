//! Generators of catalog snapshots and desired states for property tests.
//!
//! A case is drawn as a "spec" of independent choices (indices, flags) and
//! then built into a consistent [`Snapshot`] and [`Desired`]: the choices
//! shrink well, and the builder keeps the catalog realistic (grant options
//! held by every non-owner grantor, owned sequences sharing their table's
//! owner, no membership cycles).
//!
//! The names used come from [`Pools`]: fixed, readable ones, or arbitrary
//! ones full of quotes, newlines and comment markers.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use pgsr_planner::acl::{default_acl, AclEntry, AclObjectType, Privilege, PUBLIC};
use pgsr_planner::desired::{
    Desired, DesiredRole, Grant, GrantKind, Login, PasswordSource, Pattern, RoleRef, Span,
    TableName,
};
use pgsr_planner::plan::PlanOptions;
use pgsr_planner::snapshot::{
    Catalog, ConnectingMembership, ConnectingRole, DatabaseIdent, DefaultObjectType,
    DefaultPrivilege, LargeObject, Membership, NamedObject, Parameter, QualifiedName, RelKind,
    Relation, Role, Routine, RoutineKind, Schema, Scope, SharedObject, Snapshot, Type, TypeKind,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;

use super::gen_privileges::{build_general, general_spec, GeneralSpec, Site};

/// The bootstrap superuser (oid 10).
pub const BOOTSTRAP: &str = "postgres";
/// The OID of the database plans are made for.
pub const DB_OID: u32 = 16384;

/// The names a case is built from.
#[derive(Clone, Debug)]
pub struct Pools {
    /// Roles that may exist in the snapshot (at most 8 are used).
    pub roles: Vec<String>,
    /// Roles that never exist in the snapshot.
    pub new_roles: Vec<String>,
    /// Schemas that may exist (at most 4 are used).
    pub schemas: Vec<String>,
    /// Schemas that never exist.
    pub new_schemas: Vec<String>,
    pub tables: Vec<String>,
    pub regexes: Vec<String>,
    /// The planned database, another existing one, a missing one.
    pub databases: [String; 3],
    /// A superuser that is not the bootstrap superuser.
    pub conn_super: String,
    /// A role without SUPERUSER.
    pub conn_plain: String,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Readable names, a few of them in need of quoting.
pub fn fixed_pools() -> Pools {
    Pools {
        roles: strings(&[
            "alice", "bob", "Carol", "dave x", "analysts", "etl", "legacy", "eve",
        ]),
        new_roles: strings(&["newbie", "New Role", "ghost"]),
        schemas: strings(&["public", "sales", "ingest", "Odd \"S\""]),
        new_schemas: strings(&["newschema", "Scratch"]),
        tables: strings(&[
            "orders",
            "fact_a",
            "fact_b",
            "Fact_C",
            "t1",
            "v1",
            "orders_id_seq",
        ]),
        regexes: strings(&["fact_", "[a-z]", ".*", "orders$", "F", "t1|v1", "nomatch"]),
        databases: [
            "warehouse".to_owned(),
            "otherdb".to_owned(),
            "missingdb".to_owned(),
        ],
        conn_super: "admin".to_owned(),
        conn_plain: "deployer".to_owned(),
    }
}

/// Pieces of awkward names: quotes, backslashes, comment and statement
/// markers, line breaks, non-ASCII text, keywords.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{1,6}",
        2 => "[A-Z][a-z]{0,4}",
        1 => "[0-9]{1,3}",
        6 => prop::sample::select(vec![
            "\"", "\"\"", "\\", "'", " ", ";", "\n", "\r", "\r\n", "\t", "--", "/*", "*/", "$$",
            "$1", ".", ",", "(", ")", "=", "é", "日本", "🦀", "\u{2028}", "\u{85}", "\u{7f}",
            "\u{1b}[0m", "\u{feff}", "\\n",
        ])
        .prop_map(str::to_owned),
        2 => prop::sample::select(vec![
            "select", "usage", "connect", "create", "temporary", "execute", "set", "role", "to",
            "from", "on", "all", "with", "option", "granted", "by", "cascade", "user",
            "current_user", "nologin", "login", "password", "public", "none", "table",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub fn truncate_bytes(mut s: String, max: usize) -> String {
    while s.len() > max {
        s.pop();
    }
    s
}

/// A name of 1 to 63 bytes, possibly a single keyword.
pub fn awkward_name() -> impl Strategy<Value = String> {
    vec(atom(), 1..5).prop_map(|parts| truncate_bytes(parts.concat(), 63))
}

/// A 63-byte name of repeated multi-byte characters.
fn long_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["é", "x", "\"", "日"]).prop_map(|c| truncate_bytes(c.repeat(63), 63))
}

/// Role names spelled like privilege keywords, which must be quoted in
/// `GRANT role TO …`.
pub const PRIVILEGE_WORDS: [&str; 14] = [
    "insert",
    "update",
    "delete",
    "truncate",
    "trigger",
    "maintain",
    "execute",
    "usage",
    "connect",
    "temporary",
    "temp",
    "set",
    "alter",
    "all",
];

/// Whether PostgreSQL accepts `name` as the name of a new role.
pub fn valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name != PUBLIC
        && name != "none"
        && !name.starts_with("pg_")
        && !name.starts_with("_pgsr_")
        && name != BOOTSTRAP
}

fn valid_schema_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with("pg_")
}

fn unique(names: Vec<String>, taken: &mut BTreeSet<String>, ok: fn(&str) -> bool) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| ok(n) && taken.insert(n.clone()))
        .collect()
}

/// `names`, or `fallback` when it is empty.
fn or_one(mut names: Vec<String>, taken: &mut BTreeSet<String>, fallback: &str) -> Vec<String> {
    if names.is_empty() && taken.insert(fallback.to_owned()) {
        names.push(fallback.to_owned());
    }
    names
}

/// `name` as a regex matching it literally.
pub fn escape_regex(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Arbitrary names for every role, schema, table and database.
pub fn arbitrary_pools() -> impl Strategy<Value = Pools> {
    let name = || prop_oneof![9 => awkward_name(), 1 => long_name()];
    (
        vec(name(), 3..8),
        vec(name(), 1..3),
        vec(name(), 1..4),
        vec(name(), 1..2),
        vec(name(), 2..6),
        vec(name(), 5),
    )
        .prop_map(|(roles, new_roles, schemas, new_schemas, tables, misc)| {
            let mut taken: BTreeSet<String> = [BOOTSTRAP, "pg_monitor"].map(str::to_owned).into();
            let mut conns = unique(misc[..2].to_vec(), &mut taken, valid_role_name);
            let conn_super = conns.pop().unwrap_or_else(|| "admin\n-- x".to_owned());
            let conn_plain = conns.pop().unwrap_or_else(|| "Deploy;er".to_owned());
            taken.insert(conn_super.clone());
            taken.insert(conn_plain.clone());
            // Every pool keeps at least one name: the desired file draws
            // from them (invalid or repeated names are dropped).
            let roles = or_one(
                unique(roles, &mut taken, valid_role_name),
                &mut taken,
                "Role \"one\"",
            );
            let new_roles = unique(new_roles, &mut taken, valid_role_name);
            let mut schema_names = BTreeSet::new();
            let schemas = or_one(
                unique(schemas, &mut schema_names, valid_schema_name),
                &mut schema_names,
                "Schema one",
            );
            let new_schemas = unique(new_schemas, &mut schema_names, valid_schema_name);
            let mut table_names = BTreeSet::new();
            let tables = or_one(
                unique(tables, &mut table_names, |n| !n.is_empty()),
                &mut table_names,
                "table one",
            );
            let mut regexes: Vec<String> = tables.iter().map(|t| escape_regex(t)).collect();
            regexes.push(".*".to_owned());
            regexes.push(String::new());
            let mut dbs = BTreeSet::new();
            let mut databases = unique(misc[2..].to_vec(), &mut dbs, |n| !n.is_empty());
            while databases.len() < 3 {
                let n = format!("db {}\n\"{}\"", databases.len(), databases.len());
                if dbs.insert(n.clone()) {
                    databases.push(n);
                }
            }
            Pools {
                roles,
                new_roles,
                schemas,
                new_schemas,
                tables,
                regexes,
                databases: [
                    databases[0].clone(),
                    databases[1].clone(),
                    databases[2].clone(),
                ],
                conn_super,
                conn_plain,
            }
        })
}

// ---------------------------------------------------------------------------
// Specs

#[derive(Clone, Debug)]
pub struct EntrySpec {
    grantee: Index,
    privilege: Index,
    grantable: bool,
    /// Granted by someone holding the grant option, rather than the owner.
    via: Option<Index>,
}

#[derive(Clone, Debug)]
pub struct AclSpec {
    null: bool,
    /// 0: no owner entries, 1: `acldefault`, 2: only the owner's own.
    owner_entries: u8,
    entries: Vec<EntrySpec>,
}

#[derive(Clone, Debug)]
pub struct RoleSpec {
    login: bool,
    superuser: bool,
    createdb: bool,
    valid_until: Index,
}

#[derive(Clone, Debug)]
pub struct RelSpec {
    schema: Index,
    name: Index,
    kind: Index,
    owner: Index,
    acl: AclSpec,
    owned_by: Option<Index>,
    column_acl: Option<AclSpec>,
}

#[derive(Clone, Debug)]
pub struct IntermediateSpec {
    kind: Index,
    object: Index,
    members: Vec<Index>,
    orphan: bool,
    foreign_db: bool,
    /// What was done to it by hand, if anything: 0 attributes (LOGIN,
    /// SUPERUSER, CREATEROLE), 1 a membership, 2 ownership of a schema.
    drift: Option<(u8, Index)>,
}

#[derive(Clone, Debug)]
pub struct DefaultSpec {
    role: Index,
    schema: Option<Index>,
    object_type: Index,
    owner_entries: bool,
    entries: Vec<(Index, Index, bool)>,
}

#[derive(Clone, Debug)]
pub struct SnapSpec {
    version: Index,
    conn: Index,
    conn_memberships: Vec<(Index, bool, bool)>,
    roles: Vec<Option<RoleSpec>>,
    schemas: Vec<Option<(Index, AclSpec)>>,
    relations: Vec<RelSpec>,
    databases: Vec<(Index, AclSpec)>,
    other_database: bool,
    others: Vec<Option<(Index, AclSpec)>>,
    memberships: Vec<(Index, Index, Index, bool)>,
    intermediates: Vec<IntermediateSpec>,
    defaults: Vec<DefaultSpec>,
}

#[derive(Clone, Debug)]
pub struct GrantSpec {
    kind: Index,
    a: Index,
    b: Index,
    direct: bool,
}

#[derive(Clone, Debug)]
pub struct DesiredRoleSpec {
    name: Index,
    login: Option<Index>,
    grants: Vec<GrantSpec>,
    preserve: Vec<Index>,
    /// `reassign_owned_to`: the role itself (it keeps what it owns), or a
    /// role the file does not manage.
    reassign: Option<(bool, Index)>,
    /// General grants, default privileges and ownership.
    general: Vec<GeneralSpec>,
}

#[derive(Clone, Debug)]
pub struct DesiredSpec {
    lock_key: i64,
    roles: Vec<DesiredRoleSpec>,
    drop_unused: bool,
    /// The top-level `reassign_owned_to`: a role the file does not manage.
    reassign: Option<Index>,
    /// The top-level `public` section.
    public: Option<Vec<GeneralSpec>>,
}

fn acl_spec() -> impl Strategy<Value = AclSpec> {
    let entry = (
        any::<Index>(),
        any::<Index>(),
        prop::bool::weighted(0.3),
        option::weighted(0.3, any::<Index>()),
    )
        .prop_map(|(grantee, privilege, grantable, via)| EntrySpec {
            grantee,
            privilege,
            grantable,
            via,
        });
    (prop::bool::weighted(0.25), 0u8..3, vec(entry, 0..5)).prop_map(
        |(null, owner_entries, entries)| AclSpec {
            null,
            owner_entries,
            entries,
        },
    )
}

fn role_spec() -> impl Strategy<Value = RoleSpec> {
    (
        any::<bool>(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
        any::<Index>(),
    )
        .prop_map(|(login, superuser, createdb, valid_until)| RoleSpec {
            login,
            superuser,
            createdb,
            valid_until,
        })
}

fn rel_spec() -> impl Strategy<Value = RelSpec> {
    (
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        acl_spec(),
        option::of(any::<Index>()),
        option::weighted(0.2, acl_spec()),
    )
        .prop_map(
            |(schema, name, kind, owner, acl, owned_by, column_acl)| RelSpec {
                schema,
                name,
                kind,
                owner,
                acl,
                owned_by,
                column_acl,
            },
        )
}

fn snap_spec() -> impl Strategy<Value = SnapSpec> {
    let intermediate = (
        any::<Index>(),
        any::<Index>(),
        vec(any::<Index>(), 0..3),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
        option::weighted(0.3, (0u8..3, any::<Index>())),
    )
        .prop_map(
            |(kind, object, members, orphan, foreign_db, drift)| IntermediateSpec {
                kind,
                object,
                members,
                orphan,
                foreign_db,
                drift,
            },
        );
    let default = (
        any::<Index>(),
        option::of(any::<Index>()),
        any::<Index>(),
        any::<bool>(),
        vec((any::<Index>(), any::<Index>(), any::<bool>()), 1..3),
    )
        .prop_map(
            |(role, schema, object_type, owner_entries, entries)| DefaultSpec {
                role,
                schema,
                object_type,
                owner_entries,
                entries,
            },
        );
    (
        (
            any::<Index>(),
            any::<Index>(),
            vec((any::<Index>(), any::<bool>(), any::<bool>()), 0..3),
            vec(option::weighted(0.6, role_spec()), 8),
            vec(option::weighted(0.7, (any::<Index>(), acl_spec())), 4),
            vec(rel_spec(), 0..10),
        ),
        (
            vec((any::<Index>(), acl_spec()), 2),
            any::<bool>(),
            vec(option::weighted(0.3, (any::<Index>(), acl_spec())), 10),
            vec(
                (
                    any::<Index>(),
                    any::<Index>(),
                    any::<Index>(),
                    prop::bool::weighted(0.3),
                ),
                0..8,
            ),
            vec(intermediate, 0..5),
            vec(default, 0..3),
        ),
    )
        .prop_map(
            |(
                (version, conn, conn_memberships, roles, schemas, relations),
                (databases, other_database, others, memberships, intermediates, defaults),
            )| SnapSpec {
                version,
                conn,
                conn_memberships,
                roles,
                schemas,
                relations,
                databases,
                other_database,
                others,
                memberships,
                intermediates,
                defaults,
            },
        )
}

fn desired_spec() -> impl Strategy<Value = DesiredSpec> {
    let grant = (
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        any::<bool>(),
    )
        .prop_map(|(kind, a, b, direct)| GrantSpec { kind, a, b, direct });
    let role = (
        any::<Index>(),
        option::of(any::<Index>()),
        vec(grant, 0..7),
        vec(any::<Index>(), 0..2),
        option::weighted(0.2, (any::<bool>(), any::<Index>())),
        vec(general_spec(), 0..5),
    )
        .prop_map(
            |(name, login, grants, preserve, reassign, general)| DesiredRoleSpec {
                name,
                login,
                grants,
                preserve,
                reassign,
                general,
            },
        );
    (
        0i64..3,
        vec(role, 1..5),
        prop::bool::weighted(0.3),
        option::weighted(0.6, any::<Index>()),
        option::weighted(0.3, vec(general_spec(), 0..4)),
    )
        .prop_map(
            |(lock_key, roles, drop_unused, reassign, public)| DesiredSpec {
                lock_key,
                roles,
                drop_unused,
                reassign,
                public,
            },
        )
}

// ---------------------------------------------------------------------------
// Building a snapshot

const VERSIONS: [u32; 4] = [150018, 160004, 170002, 180001];
const VALID_UNTIL: [Option<&str>; 3] =
    [None, Some("2030-01-01T00:00:00.000000Z"), Some("infinity")];
const REL_KINDS: [RelKind; 6] = [
    RelKind::Table,
    RelKind::Table,
    RelKind::PartitionedTable,
    RelKind::View,
    RelKind::MaterializedView,
    RelKind::Sequence,
];
const DEFAULT_TYPES: [DefaultObjectType; 6] = [
    DefaultObjectType::Tables,
    DefaultObjectType::Sequences,
    DefaultObjectType::Functions,
    DefaultObjectType::Types,
    DefaultObjectType::Schemas,
    DefaultObjectType::LargeObjects,
];

/// The object type whose privileges a default-privilege row holds.
pub fn default_acl_type(t: DefaultObjectType) -> AclObjectType {
    match t {
        DefaultObjectType::Tables => AclObjectType::Relation,
        DefaultObjectType::Sequences => AclObjectType::Sequence,
        DefaultObjectType::Functions => AclObjectType::Function,
        DefaultObjectType::Types => AclObjectType::Type,
        DefaultObjectType::Schemas => AclObjectType::Schema,
        DefaultObjectType::LargeObjects => AclObjectType::LargeObject,
    }
}

pub fn pick<'a, T>(items: &'a [T], i: &Index) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[i.index(items.len())])
}

/// Builds an ACL: the owner's entries as chosen, then grants, each by the
/// owner or by a role already holding the privilege WITH GRANT OPTION.
/// What every ACL of a snapshot is built with.
struct AclContext {
    version: u32,
    /// Everyone who can appear in an ACL, PUBLIC included.
    grantees: Vec<String>,
}

fn build_acl(
    spec: &AclSpec,
    ty: AclObjectType,
    owner: Option<&str>,
    ctx: &AclContext,
) -> Option<Vec<AclEntry>> {
    let (version, grantees) = (ctx.version, &ctx.grantees);
    if spec.null {
        return None;
    }
    let grantor_default = owner.unwrap_or(BOOTSTRAP);
    let mut acl: Vec<AclEntry> = match (spec.owner_entries, owner) {
        (1, Some(o)) => default_acl(ty, Some(o), version),
        (2, Some(o)) => default_acl(ty, Some(o), version)
            .into_iter()
            .filter(|e| e.grantee == o)
            .collect(),
        _ => Vec::new(),
    };
    for e in &spec.entries {
        let Some(grantee) = pick(grantees, &e.grantee) else {
            continue;
        };
        let privileges = ty.privileges(version);
        let privilege = privileges[e.privilege.index(privileges.len())];
        if Some(grantee.as_str()) == owner {
            continue;
        }
        let holders: Vec<String> = acl
            .iter()
            .filter(|h| {
                h.privilege == privilege
                    && h.grantable
                    && !h.is_public()
                    && h.grantee != *grantee
                    && Some(h.grantee.as_str()) != owner
            })
            .map(|h| h.grantee.clone())
            .collect();
        let grantor = match &e.via {
            Some(i) if !holders.is_empty() => holders[i.index(holders.len())].clone(),
            _ => grantor_default.to_owned(),
        };
        let grantable = e.grantable && grantee != PUBLIC;
        add_entry(&mut acl, grantee, &grantor, privilege, grantable);
    }
    acl.sort();
    Some(acl)
}

fn add_entry(acl: &mut Vec<AclEntry>, grantee: &str, grantor: &str, p: Privilege, grantable: bool) {
    match acl
        .iter_mut()
        .find(|e| e.grantee == grantee && e.grantor == grantor && e.privilege == p)
    {
        Some(e) => e.grantable |= grantable,
        None => acl.push(AclEntry {
            grantee: grantee.to_owned(),
            grantor: grantor.to_owned(),
            privilege: p,
            grantable,
        }),
    }
}

fn role(name: &str, oid: u32) -> Role {
    Role::new(name, oid)
}

/// The name of an intermediate role of kind `kind` (0: database connect,
/// 1: schema usage, 2: schema create, 3: table select).
pub fn intermediate_name(kind: usize, db_oid: u32, n: usize) -> String {
    let suffix = format!("{:08x}", (n as u32 + 1).wrapping_mul(0x9e37_79b9));
    match kind {
        0 => format!("_pgsr_global_database_connect_{suffix}"),
        1 => format!("_pgsr_local_{db_oid}_schema_usage_{suffix}"),
        2 => format!("_pgsr_local_{db_oid}_schema_create_{suffix}"),
        _ => format!("_pgsr_local_{db_oid}_table_select_{suffix}"),
    }
}

pub fn has_path(memberships: &[Membership], from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(r) = stack.pop() {
        if r == to {
            return true;
        }
        if seen.insert(r) {
            stack.extend(
                memberships
                    .iter()
                    .filter(|m| m.member == r)
                    .map(|m| m.role.as_str()),
            );
        }
    }
    false
}

pub fn build_snapshot(p: &Pools, s: &SnapSpec) -> Snapshot {
    let version = VERSIONS[s.version.index(VERSIONS.len())];
    let pg16 = version >= 160000;
    let conn_kind = s.conn.index(3);
    let conn_name = match conn_kind {
        0 => BOOTSTRAP,
        1 => p.conn_super.as_str(),
        _ => p.conn_plain.as_str(),
    };
    let mut c = Catalog::default();
    let mut postgres = role(BOOTSTRAP, 10);
    postgres.superuser = true;
    postgres.canlogin = true;
    postgres.createrole = true;
    postgres.createdb = true;
    c.roles.push(postgres);
    c.roles.push(role("pg_monitor", 3373));
    if conn_kind > 0 {
        let mut r = role(conn_name, 16383);
        r.superuser = conn_kind == 1;
        r.createrole = true;
        // CREATEDB lets a plain connecting role change a database's owner.
        r.createdb = s.conn.index(6) % 2 == 1;
        r.canlogin = true;
        c.roles.push(r);
    }
    // Roles of the pool.
    let mut pool_roles: Vec<String> = Vec::new();
    for (i, (name, spec)) in p.roles.iter().zip(&s.roles).enumerate() {
        let Some(spec) = spec else { continue };
        let mut r = role(name, 16385 + i as u32);
        r.canlogin = spec.login;
        r.superuser = spec.superuser;
        r.createdb = spec.createdb;
        r.valid_until = VALID_UNTIL[spec.valid_until.index(3)].map(str::to_owned);
        c.roles.push(r);
        pool_roles.push(name.clone());
    }
    // Owners: pool roles and the connecting and bootstrap roles.
    let mut owners: Vec<String> = pool_roles.clone();
    owners.push(conn_name.to_owned());
    if conn_name != BOOTSTRAP {
        owners.push(BOOTSTRAP.to_owned());
    }

    // Databases.
    let db_count = if s.other_database { 2 } else { 1 };
    for (i, (owner, _)) in s.databases.iter().take(db_count).enumerate() {
        c.databases.push(SharedObject {
            name: p.databases[i].clone(),
            oid: if i == 0 { DB_OID } else { 16500 },
            owner: owners[owner.index(owners.len())].clone(),
            acl: None,
        });
    }
    // Schemas.
    for (i, (name, spec)) in p.schemas.iter().zip(&s.schemas).enumerate() {
        let Some((owner, _)) = spec else { continue };
        c.schemas.push(Schema {
            name: name.clone(),
            // `public` is initdb's; the others are the user's.
            oid: if i == 0 { 2200 } else { 16390 + i as u32 },
            owner: owners[owner.index(owners.len())].clone(),
            acl: None,
        });
    }
    // Relations.
    let mut seen = BTreeSet::new();
    for (i, r) in s.relations.iter().enumerate() {
        let Some(schema) = pick(&c.schemas, &r.schema) else {
            break;
        };
        let name = p.tables[r.name.index(p.tables.len())].clone();
        if !seen.insert((schema.name.clone(), name.clone())) {
            continue;
        }
        c.relations.push(Relation {
            schema: schema.name.clone(),
            name,
            oid: 20000 + i as u32,
            kind: REL_KINDS[r.kind.index(REL_KINDS.len())],
            owner: owners[r.owner.index(owners.len())].clone(),
            acl: None,
            columns: Vec::new(),
            owned_by: None,
        });
    }
    // Sequences owned by a table of their schema share its owner.
    let rel_specs: Vec<&RelSpec> = s.relations.iter().collect();
    for i in 0..c.relations.len() {
        if c.relations[i].kind != RelKind::Sequence {
            continue;
        }
        let Some(Some(choice)) = rel_specs.get(i).map(|r| r.owned_by.as_ref()) else {
            continue;
        };
        let tables: Vec<(String, String, String)> = c
            .relations
            .iter()
            .filter(|t| {
                t.schema == c.relations[i].schema
                    && matches!(t.kind, RelKind::Table | RelKind::PartitionedTable)
            })
            .map(|t| (t.schema.clone(), t.name.clone(), t.owner.clone()))
            .collect();
        if let Some((schema, name, owner)) = pick(&tables, choice).cloned() {
            c.relations[i].owned_by = Some(QualifiedName { schema, name });
            c.relations[i].owner = owner;
        }
    }
    // Other kinds of object, for revocation and ownership transfer.
    let other = |k: usize| s.others.get(k).and_then(|o| o.as_ref());
    let owner_of = |o: &(Index, AclSpec)| owners[o.0.index(owners.len())].clone();
    let first_schema = c.schemas.first().map(|s| s.name.clone());
    if let Some(schema) = &first_schema {
        for (k, (name, kind)) in [
            ("total", RoutineKind::Function),
            ("refresh", RoutineKind::Procedure),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(o) = other(k) {
                c.routines.push(Routine {
                    schema: schema.clone(),
                    name: name.to_owned(),
                    arguments: if k == 0 {
                        "integer".into()
                    } else {
                        String::new()
                    },
                    oid: 30000 + k as u32,
                    kind,
                    owner: owner_of(o),
                    acl: None,
                    security_definer: false,
                });
            }
        }
        for (k, (name, kind)) in [("status", TypeKind::Enum), ("positive", TypeKind::Domain)]
            .into_iter()
            .enumerate()
        {
            if let Some(o) = other(2 + k) {
                c.types.push(Type {
                    schema: schema.clone(),
                    name: name.to_owned(),
                    oid: 30100 + k as u32,
                    kind,
                    owner: owner_of(o),
                    acl: None,
                });
            }
        }
    }
    if let Some(o) = other(4) {
        // initdb's, and one created since.
        for (name, oid) in [("plpgsql", 13000), ("plv8", 30400)] {
            c.languages.push(NamedObject {
                name: name.into(),
                oid,
                owner: owner_of(o),
                acl: None,
            });
        }
    }
    if let Some(o) = other(5) {
        c.large_objects.push(LargeObject {
            oid: 424242,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(6) {
        c.foreign_data_wrappers.push(NamedObject {
            name: "dummy_fdw".into(),
            oid: 30200,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(7) {
        c.foreign_servers.push(NamedObject {
            name: "dummy srv".into(),
            oid: 30201,
            owner: owner_of(o),
            acl: None,
        });
    }
    if let Some(o) = other(8) {
        c.tablespaces.push(SharedObject {
            name: "fast".into(),
            oid: 30300,
            owner: owner_of(o),
            acl: None,
        });
    }
    if other(9).is_some() {
        c.parameters.push(Parameter {
            name: "work_mem".into(),
            acl: None,
        });
    }

    // Intermediate roles, each holding its privilege on its object.
    let mut intermediates: Vec<(String, Option<(usize, usize)>)> = Vec::new();
    for (n, spec) in s.intermediates.iter().enumerate() {
        let kind = spec.kind.index(4);
        let db_oid = if spec.foreign_db { 99999 } else { DB_OID };
        let name = intermediate_name(kind, db_oid, n);
        let count = match kind {
            0 => c.databases.len(),
            1 | 2 => c.schemas.len(),
            _ => c.relations.len(),
        };
        let target = (!spec.orphan && count > 0).then(|| (kind, spec.object.index(count)));
        intermediates.push((name, target));
    }
    for (n, (name, _)) in intermediates.iter().enumerate() {
        let mut r = role(name, 17000 + n as u32);
        if let Some((0, _)) = s.intermediates[n].drift {
            r.canlogin = true;
            r.superuser = true;
            r.createrole = true;
        }
        c.roles.push(r);
    }
    // Schemas given to intermediate roles by hand (never the one an
    // intermediate role serves, which would hold its privilege from itself).
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        let Some((2, i)) = &spec.drift else { continue };
        if c.schemas.is_empty() {
            continue;
        }
        let k = i.index(c.schemas.len());
        let serves_a_schema = |t: &Option<(usize, usize)>| matches!(t, Some((1 | 2, j)) if *j == k);
        if !intermediates.iter().any(|(_, t)| serves_a_schema(t)) {
            c.schemas[k].owner = name.clone();
        }
    }

    // Everyone who can appear in an ACL.
    let mut grantees: Vec<String> = c.roles.iter().map(|r| r.name.clone()).collect();
    grantees.push(PUBLIC.to_owned());
    let ctx = AclContext {
        version,
        grantees: grantees.clone(),
    };

    // ACLs.
    for (d, (_, spec)) in c.databases.iter_mut().zip(&s.databases) {
        d.acl = build_acl(spec, AclObjectType::Database, Some(&d.owner), &ctx);
    }
    let schema_specs: Vec<&AclSpec> = s.schemas.iter().flatten().map(|(_, a)| a).collect();
    for (n, spec) in c.schemas.iter_mut().zip(schema_specs) {
        n.acl = build_acl(spec, AclObjectType::Schema, Some(&n.owner), &ctx);
    }
    for (i, r) in c.relations.iter_mut().enumerate() {
        let spec = rel_specs[i];
        let ty = r.kind.acl_object_type();
        r.acl = build_acl(&spec.acl, ty, Some(&r.owner), &ctx);
        if let (Some(col), true) = (&spec.column_acl, r.kind != RelKind::Sequence) {
            let mut col = col.clone();
            col.null = false;
            col.owner_entries = 0;
            let acl =
                build_acl(&col, AclObjectType::Column, Some(&r.owner), &ctx).unwrap_or_default();
            if !acl.is_empty() {
                r.columns.push(pgsr_planner::snapshot::ColumnAcl {
                    name: "email".into(),
                    acl,
                });
            }
        }
    }
    let acl_of = |k: usize| other(k).map(|o| &o.1);
    for (k, r) in c.routines.iter_mut().enumerate() {
        if let Some(a) = acl_of(k) {
            r.acl = build_acl(a, AclObjectType::Function, Some(&r.owner), &ctx);
        }
    }
    for (k, t) in c.types.iter_mut().enumerate() {
        if let Some(a) = acl_of(2 + k) {
            t.acl = build_acl(a, AclObjectType::Type, Some(&t.owner), &ctx);
        }
    }
    for (k, list, ty) in [
        (4, &mut c.languages, AclObjectType::Language),
        (
            6,
            &mut c.foreign_data_wrappers,
            AclObjectType::ForeignDataWrapper,
        ),
        (7, &mut c.foreign_servers, AclObjectType::ForeignServer),
    ] {
        for o in list.iter_mut() {
            if let Some(a) = acl_of(k) {
                o.acl = build_acl(a, ty, Some(&o.owner), &ctx);
            }
        }
    }
    for lo in &mut c.large_objects {
        if let Some(a) = acl_of(5) {
            lo.acl = build_acl(a, AclObjectType::LargeObject, Some(&lo.owner), &ctx);
        }
    }
    for t in &mut c.tablespaces {
        if let Some(a) = acl_of(8) {
            t.acl = build_acl(a, AclObjectType::Tablespace, Some(&t.owner), &ctx);
        }
    }
    for prm in &mut c.parameters {
        if let Some(a) = acl_of(9) {
            prm.acl = build_acl(a, AclObjectType::Parameter, None, &ctx);
        }
    }
    // Intermediate roles' own privileges, granted by the owner.
    for (name, target) in &intermediates {
        let Some((kind, i)) = *target else { continue };
        let (acl, owner, ty, privilege) = match kind {
            0 => {
                let d = &mut c.databases[i];
                (
                    &mut d.acl,
                    d.owner.clone(),
                    AclObjectType::Database,
                    Privilege::Connect,
                )
            }
            1 | 2 => {
                let n = &mut c.schemas[i];
                let p = if kind == 1 {
                    Privilege::Usage
                } else {
                    Privilege::Create
                };
                (&mut n.acl, n.owner.clone(), AclObjectType::Schema, p)
            }
            _ => {
                let r = &mut c.relations[i];
                let ty = r.kind.acl_object_type();
                (&mut r.acl, r.owner.clone(), ty, Privilege::Select)
            }
        };
        let entries = acl.get_or_insert_with(|| default_acl(ty, Some(&owner), version));
        add_entry(entries, name, &owner, privilege, false);
        entries.sort();
    }

    // Memberships: pool roles in pool roles (and predefined/connecting
    // roles), without cycles, one row per pair before PostgreSQL 16.
    let mut targets: Vec<String> = pool_roles.clone();
    targets.push("pg_monitor".to_owned());
    targets.push(conn_name.to_owned());
    for (r, m, g, admin) in &s.memberships {
        let (Some(role_name), Some(member)) = (pick(&targets, r), pick(&pool_roles, m)) else {
            continue;
        };
        if role_name == member || has_path(&c.memberships, role_name, member) {
            continue;
        }
        let admins: Vec<String> = c
            .memberships
            .iter()
            .filter(|x| &x.role == role_name && x.admin_option && &x.member != member)
            .map(|x| x.member.clone())
            .collect();
        let grantor = match g.index(3) {
            0 => BOOTSTRAP.to_owned(),
            1 => conn_name.to_owned(),
            _ => admins
                .first()
                .cloned()
                .unwrap_or_else(|| BOOTSTRAP.to_owned()),
        };
        let exists = c.memberships.iter().any(|x| {
            &x.role == role_name
                && &x.member == member
                && (!pg16 || x.grantor.as_deref() == Some(&grantor))
        });
        if exists {
            continue;
        }
        c.memberships.push(Membership {
            role: role_name.clone(),
            member: member.clone(),
            grantor: Some(grantor),
            admin_option: *admin,
            inherit_option: pg16.then_some(true),
            set_option: pg16.then_some(true),
        });
    }
    // Memberships of intermediate roles granted by hand.
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        let Some((1, i)) = &spec.drift else { continue };
        let Some(role_name) = pick(&targets, i) else {
            continue;
        };
        if has_path(&c.memberships, role_name, name) {
            continue;
        }
        c.memberships.push(Membership {
            role: role_name.clone(),
            member: name.clone(),
            grantor: Some(BOOTSTRAP.to_owned()),
            admin_option: false,
            inherit_option: pg16.then_some(true),
            set_option: pg16.then_some(true),
        });
    }
    // Members of intermediate roles.
    for (spec, (name, _)) in s.intermediates.iter().zip(&intermediates) {
        for m in &spec.members {
            let Some(member) = pick(&pool_roles, m) else {
                continue;
            };
            if c.memberships
                .iter()
                .any(|x| &x.role == name && &x.member == member)
                || has_path(&c.memberships, name, member)
            {
                continue;
            }
            c.memberships.push(Membership {
                role: name.clone(),
                member: member.clone(),
                grantor: Some(BOOTSTRAP.to_owned()),
                admin_option: false,
                inherit_option: pg16.then_some(true),
                set_option: pg16.then_some(true),
            });
        }
    }

    // Default privileges.
    let mut keys = BTreeSet::new();
    for d in &s.defaults {
        let role_name = owners[d.role.index(owners.len())].clone();
        let schema = d
            .schema
            .as_ref()
            .and_then(|i| pick(&c.schemas, i))
            .map(|n| n.name.clone());
        let object_type = DEFAULT_TYPES[d.object_type.index(DEFAULT_TYPES.len())];
        if object_type == DefaultObjectType::Schemas && schema.is_some() {
            continue;
        }
        if !keys.insert((role_name.clone(), schema.clone(), object_type)) {
            continue;
        }
        let ty = default_acl_type(object_type);
        let mut acl = if d.owner_entries && schema.is_none() {
            default_acl(ty, Some(&role_name), version)
        } else {
            Vec::new()
        };
        for (g, pr, grantable) in &d.entries {
            let grantee = &grantees[g.index(grantees.len())];
            if *grantee == role_name {
                continue;
            }
            let privileges = ty.privileges(version);
            let privilege = privileges[pr.index(privileges.len())];
            add_entry(
                &mut acl,
                grantee,
                &role_name,
                privilege,
                *grantable && grantee != PUBLIC,
            );
        }
        acl.sort();
        c.default_privileges.push(DefaultPrivilege {
            role: role_name,
            schema,
            object_type,
            acl,
        });
    }

    let memberships = if conn_kind == 2 {
        s.conn_memberships
            .iter()
            .filter_map(|(r, usage, member)| {
                pick(&owners, r)
                    .filter(|r| r.as_str() != conn_name)
                    .map(|r| {
                        let m = ConnectingMembership {
                            role: r.clone(),
                            usage: *usage,
                            member: *member,
                            admin: false,
                        };
                        (r.clone(), m)
                    })
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
    } else {
        Vec::new()
    };
    let mut snapshot = Snapshot {
        format_version: 1,
        server_version_num: version,
        database: DatabaseIdent {
            name: p.databases[0].clone(),
            oid: DB_OID,
        },
        connecting_role: ConnectingRole {
            name: conn_name.to_owned(),
            superuser: conn_kind < 2,
            createrole: true,
            memberships,
        },
        scope: Scope::Full,
        fingerprint: String::new(),
        catalog: c,
    };
    snapshot.canonicalize();
    snapshot
}

// ---------------------------------------------------------------------------
// Building a desired state

fn grant(kind: GrantKind) -> Grant {
    Grant {
        kind,
        span: Span::default(),
    }
}

pub fn build_desired(p: &Pools, d: &DesiredSpec, snapshot: &Snapshot) -> Desired {
    let c = &snapshot.catalog;
    let conn = snapshot.connecting_role.name.as_str();
    let mut candidates: Vec<&String> = p.roles.iter().chain(&p.new_roles).collect();
    candidates.retain(|n| n.as_str() != conn);
    let mut names: Vec<String> = Vec::new();
    for r in &d.roles {
        let name = candidates[r.name.index(candidates.len())];
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let schemas: Vec<&String> = p.schemas.iter().chain(&p.new_schemas).collect();
    let mut membership_targets: Vec<String> = p.roles.iter().chain(&p.new_roles).cloned().collect();
    // Not the connecting role: a desired file may not make a role its member.
    membership_targets.extend(["pg_monitor", BOOTSTRAP].map(str::to_owned));
    membership_targets.retain(|t| t != conn);
    // Memberships as they will be: kept rows of unmanaged members plus
    // declared ones; a declared membership closing a cycle is left out.
    let mut graph: Vec<Membership> = c
        .memberships
        .iter()
        .filter(|m| !names.contains(&m.member))
        .cloned()
        .collect();
    let mut owned: BTreeSet<(String, String)> = BTreeSet::new();
    // Roles that may receive ownership taken away: existing roles the file
    // does not manage (the connecting and bootstrap roles among them).
    let receivers: Vec<String> = c
        .roles
        .iter()
        .map(|r| r.name.clone())
        .filter(|r| !names.contains(r) && !r.starts_with("pg_") && !r.starts_with("_pgsr_"))
        .collect();
    let receiver = |i: &Index| {
        pick(&receivers, i).map(|name| RoleRef {
            name: name.clone(),
            span: Span::default(),
        })
    };
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for r in &d.roles {
        let name = candidates[r.name.index(candidates.len())].clone();
        if !done.insert(name.clone()) {
            continue;
        }
        let mut grants = Vec::new();
        for g in &r.grants {
            let schema = schemas[g.a.index(schemas.len())].clone();
            let table = p.tables[g.b.index(p.tables.len())].clone();
            let kind = match g.kind.index(9) {
                0 => GrantKind::DatabaseConnect {
                    database: p.databases[g.a.index(3)].clone(),
                },
                1 => GrantKind::SchemaUsage {
                    schema,
                    direct: g.direct,
                },
                2 => GrantKind::SchemaCreate {
                    schema,
                    direct: g.direct,
                },
                3 => {
                    if !owned.insert((schema.clone(), String::new())) {
                        continue;
                    }
                    GrantKind::SchemaOwnership { schema }
                }
                4 => GrantKind::TableSelect {
                    schema,
                    table: TableName::Exact(table),
                    direct: g.direct,
                },
                5 => {
                    let source = &p.regexes[g.b.index(p.regexes.len())];
                    GrantKind::TableSelect {
                        schema,
                        table: TableName::Regex(Pattern::new(source).expect("valid regex")),
                        direct: g.direct,
                    }
                }
                6 => {
                    if !owned.insert((schema.clone(), table.clone())) {
                        continue;
                    }
                    GrantKind::TableOwnership { schema, table }
                }
                _ => {
                    let target = membership_targets[g.a.index(membership_targets.len())].clone();
                    if target == name || has_path(&graph, &target, &name) {
                        continue;
                    }
                    graph.push(Membership {
                        role: target.clone(),
                        member: name.clone(),
                        grantor: None,
                        admin_option: false,
                        inherit_option: None,
                        set_option: None,
                    });
                    GrantKind::RoleMembership { role: target }
                }
            };
            grants.push(grant(kind));
        }
        for g in &r.general {
            let mut site = Site {
                pools: p,
                snapshot,
                grantee: &name,
                owned: &mut owned,
                managed: &names,
            };
            grants.extend(build_general(g, &mut site).map(grant));
        }
        let login = r.login.as_ref().map(|v| Login {
            password: PasswordSource::Keep,
            valid_until: match v.index(3) {
                0 => None,
                1 => Some("2030-01-01T00:00:00.000000Z".to_owned()),
                _ => Some("2027-06-30T12:00:00.000000Z".to_owned()),
            },
            span: Span::default(),
        });
        let mut preserve: Vec<String> = r
            .preserve
            .iter()
            .filter_map(|i| pick(&p.schemas, i).cloned())
            .collect();
        preserve.sort();
        preserve.dedup();
        out.push(DesiredRole {
            name: name.clone(),
            span: Span::default(),
            login,
            grants,
            preserve_existing_grants_in_schemas: preserve,
            // Memberships of superusers and predefined roles are generated:
            // the power rule (tested on its own) is opted out of here.
            allow_power: true,
            reassign_owned_to: match &r.reassign {
                Some((true, _)) => Some(RoleRef {
                    name: name.clone(),
                    span: Span::default(),
                }),
                Some((false, i)) => receiver(i),
                None => None,
            },
        });
    }
    let reassign_owned_to = d.reassign.as_ref().and_then(receiver);
    // Receivers may be powerful (superusers): the power rule is tested on
    // its own, so it is opted out of here too.
    let allow_power = out
        .iter()
        .filter_map(|r| r.reassign_owned_to.as_ref())
        .chain(reassign_owned_to.as_ref())
        .map(|t| t.name.clone())
        .collect();
    let public = d.public.as_ref().map(|specs| {
        let mut grants = Vec::new();
        for g in specs {
            let mut site = Site {
                pools: p,
                snapshot,
                grantee: PUBLIC,
                owned: &mut owned,
                managed: &names,
            };
            grants.extend(build_general(g, &mut site).map(grant));
        }
        DesiredRole {
            name: PUBLIC.to_owned(),
            span: Span::default(),
            login: None,
            grants,
            preserve_existing_grants_in_schemas: Vec::new(),
            allow_power: false,
            reassign_owned_to: None,
        }
    });
    Desired {
        public,
        lock_key: d.lock_key,
        roles: out,
        allow_power,
        reassign_owned_to,
    }
}

/// One planning problem.
#[derive(Clone)]
pub struct Case {
    pub snapshot: Snapshot,
    pub desired: Desired,
    pub options: PlanOptions,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = pgsr_planner::snapshot::to_json(&self.snapshot);
        writeln!(f, "snapshot: {}", String::from_utf8_lossy(&json))?;
        writeln!(f, "options: {:?}", self.options)?;
        writeln!(
            f,
            "desired (lock_key {}, reassign_owned_to {:?}):",
            self.desired.lock_key,
            self.desired.reassign_owned_to.as_ref().map(|t| &t.name)
        )?;
        for r in &self.desired.roles {
            writeln!(
                f,
                "  - {:?} login={:?} preserve={:?} reassign_owned_to={:?}",
                r.name,
                r.login.as_ref().map(|l| &l.valid_until),
                r.preserve_existing_grants_in_schemas,
                r.reassign_owned_to.as_ref().map(|t| &t.name)
            )?;
            for g in &r.grants {
                writeln!(f, "      {:?}", g.kind)?;
            }
        }
        if let Some(public) = &self.desired.public {
            writeln!(f, "public:")?;
            for g in &public.grants {
                writeln!(f, "      {:?}", g.kind)?;
            }
        }
        Ok(())
    }
}

/// Cases over `pools`.
pub fn case(pools: impl Strategy<Value = Pools>) -> impl Strategy<Value = Case> {
    (pools, snap_spec(), desired_spec()).prop_map(|(p, s, d)| {
        let snapshot = build_snapshot(&p, &s);
        let desired = build_desired(&p, &d, &snapshot);
        Case {
            snapshot,
            desired,
            options: PlanOptions {
                strict: false,
                drop_unused: d.drop_unused,
                passwords: Default::default(),
                now: None,
            },
        }
    })
}

/// Cases over readable names.
pub fn fixed_case() -> impl Strategy<Value = Case> {
    case(Just(fixed_pools()))
}

/// Cases over arbitrary names.
pub fn arbitrary_case() -> impl Strategy<Value = Case> {
    case(arbitrary_pools())
}
