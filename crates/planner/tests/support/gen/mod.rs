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

mod desired;
mod snapshot;

pub use desired::build_desired;
pub use snapshot::*;

use std::collections::BTreeSet;
use std::fmt;

use pgsr_planner::acl::PUBLIC;
use pgsr_planner::desired::Desired;
use pgsr_planner::plan::PlanOptions;
use pgsr_planner::snapshot::Snapshot;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;

use super::gen_privileges::{general_spec, GeneralSpec};

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

pub(super) fn strings(items: &[&str]) -> Vec<String> {
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
pub(super) fn atom() -> impl Strategy<Value = String> {
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
pub(super) fn long_name() -> impl Strategy<Value = String> {
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

pub(super) fn valid_schema_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with("pg_")
}

pub(super) fn unique(
    names: Vec<String>,
    taken: &mut BTreeSet<String>,
    ok: fn(&str) -> bool,
) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| ok(n) && taken.insert(n.clone()))
        .collect()
}

/// `names`, or `fallback` when it is empty.
pub(super) fn or_one(
    mut names: Vec<String>,
    taken: &mut BTreeSet<String>,
    fallback: &str,
) -> Vec<String> {
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
    /// Declared attributes.
    attributes: Index,
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

pub(super) fn acl_spec() -> impl Strategy<Value = AclSpec> {
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

pub(super) fn role_spec() -> impl Strategy<Value = RoleSpec> {
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

pub(super) fn rel_spec() -> impl Strategy<Value = RelSpec> {
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

pub(super) fn snap_spec() -> impl Strategy<Value = SnapSpec> {
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

pub(super) fn desired_spec() -> impl Strategy<Value = DesiredSpec> {
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
        any::<Index>(),
    )
        .prop_map(
            |(name, login, grants, preserve, reassign, general, attributes)| DesiredRoleSpec {
                name,
                login,
                grants,
                preserve,
                reassign,
                general,
                attributes,
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
                ..Default::default()
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
