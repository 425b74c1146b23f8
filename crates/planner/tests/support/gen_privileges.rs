//! Generators of the general grant kinds: `grant` (privileges on a selection
//! of objects of any kind), `default_privileges` and `ownership`, for the
//! roles of a desired file and for its `public` section.
//!
//! A grant is drawn as independent choices ([`GeneralSpec`]) and built
//! against the snapshot so that the file is one the parser accepts (see
//! `desired/grant.rs`) and the planner does not refuse: no ownership of an
//! object initdb made or of a foreign-data wrapper, no object declared to be
//! owned by two roles, no default privileges on large objects before
//! PostgreSQL 18.

#![allow(dead_code)]

use std::collections::BTreeSet;

use pgsr_planner::acl::PUBLIC;
use pgsr_planner::desired::{
    DefaultGrant, GrantKind, Objects, Pattern, PrivilegeGrant, Privileges,
};
use pgsr_planner::kind::ObjectKind;
use pgsr_planner::snapshot::{RelKind, Snapshot};
use proptest::prelude::*;
use proptest::sample::Index;

use super::gen::{escape_regex, Pools, BOOTSTRAP};

/// Objects with a lower oid were made by initdb.
const FIRST_NORMAL_OBJECT_ID: u32 = 16384;

/// The choices one general grant is built from.
#[derive(Clone, Debug)]
pub struct GeneralSpec {
    /// 0-5: a grant, 6: default privileges, 7: ownership.
    what: Index,
    on: Index,
    /// `privileges: ALL`.
    all: bool,
    /// Which of the kind's privileges, as bits.
    privileges: u16,
    /// 0 `name`, 1 `names`, 2 `regex`, 3 `all` (with `except`).
    selector: Index,
    a: Index,
    b: Index,
    schema: Index,
    with_grant_option: bool,
    direct: bool,
    /// Which columns, for a grant on columns; the owner of default privileges.
    c: Index,
}

pub fn general_spec() -> impl Strategy<Value = GeneralSpec> {
    (
        any::<Index>(),
        any::<Index>(),
        prop::bool::weighted(0.2),
        any::<u16>(),
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.8),
        any::<Index>(),
    )
        .prop_map(
            |(what, on, all, privileges, selector, a, b, schema, with_grant_option, direct, c)| {
                GeneralSpec {
                    what,
                    on,
                    all,
                    privileges,
                    selector,
                    a,
                    b,
                    schema,
                    with_grant_option,
                    direct,
                    c,
                }
            },
        )
}

/// What a general grant is built against.
pub struct Site<'s> {
    pub pools: &'s Pools,
    pub snapshot: &'s Snapshot,
    /// The role that holds the grant (`public` for the public section).
    pub grantee: &'s str,
    /// Objects declared owned so far: (schema, "") for a schema, (schema,
    /// name) for a relation, ("\0kind", name) for the rest.
    pub owned: &'s mut BTreeSet<(String, String)>,
    /// The roles the file manages.
    pub managed: &'s [String],
}

/// The kinds a grant may be on: every kind but parameters (power, which
/// needs `allow_power`).
fn grant_kinds() -> Vec<ObjectKind> {
    ObjectKind::ALL
        .into_iter()
        .filter(|k| *k != ObjectKind::Parameter)
        .collect()
}

/// The kinds ownership may be declared of (not columns, parameters or
/// foreign-data wrappers).
const OWNED_KINDS: [ObjectKind; 10] = [
    ObjectKind::Database,
    ObjectKind::Schema,
    ObjectKind::Table,
    ObjectKind::Sequence,
    ObjectKind::Routine,
    ObjectKind::Type,
    ObjectKind::Language,
    ObjectKind::ForeignServer,
    ObjectKind::LargeObject,
    ObjectKind::Tablespace,
];

const DEFAULT_KINDS: [ObjectKind; 6] = [
    ObjectKind::Table,
    ObjectKind::Sequence,
    ObjectKind::Routine,
    ObjectKind::Type,
    ObjectKind::Schema,
    ObjectKind::LargeObject,
];

const COLUMNS: [&str; 3] = ["email", "id", "Name \"x\""];

/// Names a selection of objects of `on` may use: existing ones and some
/// that do not exist.
fn candidate_names(p: &Pools, on: ObjectKind) -> Vec<String> {
    let fixed = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
    match on {
        ObjectKind::Database => p.databases.to_vec(),
        ObjectKind::Schema => p.schemas.iter().chain(&p.new_schemas).cloned().collect(),
        ObjectKind::Table | ObjectKind::Column | ObjectKind::Sequence => p.tables.clone(),
        ObjectKind::Routine => fixed(&[
            "total",
            "total(integer)",
            "refresh",
            "refresh()",
            "total(text)",
        ]),
        ObjectKind::Type => fixed(&["status", "positive", "missing"]),
        ObjectKind::Language => fixed(&["plpgsql", "plv8"]),
        ObjectKind::ForeignDataWrapper => fixed(&["dummy_fdw"]),
        ObjectKind::ForeignServer => fixed(&["dummy srv", "other srv"]),
        ObjectKind::LargeObject => fixed(&["424242", "7"]),
        ObjectKind::Tablespace => fixed(&["fast", "slow"]),
        ObjectKind::Parameter => fixed(&["work_mem"]),
    }
}

/// A name without a routine's argument types.
fn bare(name: &str) -> &str {
    name.split_once('(').map_or(name, |(n, _)| n)
}

/// Builds one general grant, or nothing when the choices make none the
/// planner would accept.
pub fn build_general(g: &GeneralSpec, site: &mut Site) -> Option<GrantKind> {
    let public = site.grantee == PUBLIC;
    match g.what.index(8) {
        0..=5 => build_grant(g, site, public),
        6 => build_default(g, site, public),
        _ if public => build_grant(g, site, public),
        _ => build_ownership(g, site),
    }
}

fn privileges(g: &GeneralSpec, on: ObjectKind, version: u32) -> Privileges {
    if g.all {
        return Privileges::All;
    }
    let all = on.privileges(version);
    let mut listed: Vec<_> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| g.privileges & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect();
    if listed.is_empty() {
        listed.push(all[g.privileges as usize % all.len()]);
    }
    Privileges::Listed(listed)
}

fn schema_name(g: &GeneralSpec, p: &Pools) -> String {
    let schemas: Vec<&String> = p.schemas.iter().chain(&p.new_schemas).collect();
    schemas[g.schema.index(schemas.len())].clone()
}

/// The selection: `name`, `names`, `regex` or `all` with `except`.
fn selection(g: &GeneralSpec, p: &Pools, on: ObjectKind) -> Objects {
    let schema = on.def().in_schema.then(|| schema_name(g, p));
    let names = candidate_names(p, on);
    let first = names[g.a.index(names.len())].clone();
    let second = names[g.b.index(names.len())].clone();
    match g.selector.index(4) {
        0 => Objects::Named {
            schema,
            names: vec![first],
        },
        1 => {
            let mut names = vec![first];
            if !names.contains(&second) {
                names.push(second);
            }
            Objects::Named { schema, names }
        }
        2 => {
            let source = match (on, g.b.index(3)) {
                (ObjectKind::Table | ObjectKind::Column | ObjectKind::Sequence, _) => {
                    p.regexes[g.b.index(p.regexes.len())].clone()
                }
                (_, 0) => ".*".to_owned(),
                _ => escape_regex(bare(&first)),
            };
            Objects::Regex {
                schema,
                pattern: Pattern::new(&source).expect("a valid regex"),
            }
        }
        _ => Objects::All {
            schema,
            except: if g.b.index(2) == 0 {
                vec![bare(&first).to_owned()]
            } else {
                Vec::new()
            },
        },
    }
}

fn build_grant(g: &GeneralSpec, site: &Site, public: bool) -> Option<GrantKind> {
    let p = site.pools;
    let version = site.snapshot.server_version_num;
    let kinds = grant_kinds();
    let on = kinds[g.on.index(kinds.len())];
    let routable = matches!(
        on,
        ObjectKind::Database | ObjectKind::Schema | ObjectKind::Table
    );
    let direct = g.direct || !routable || public;
    // PUBLIC holds no grant option: PostgreSQL grants them to roles only.
    let with_grant_option = g.with_grant_option && direct && !public;
    let columns = if on == ObjectKind::Column {
        let first = COLUMNS[g.c.index(COLUMNS.len())];
        let mut columns = vec![first.to_owned()];
        if g.c.index(5) == 0 && first != COLUMNS[0] {
            columns.push(COLUMNS[0].to_owned());
        }
        columns
    } else {
        Vec::new()
    };
    Some(GrantKind::Privileges(PrivilegeGrant {
        privileges: privileges(g, on, version),
        on,
        objects: selection(g, p, on),
        columns,
        with_grant_option,
        direct,
    }))
}

fn build_default(g: &GeneralSpec, site: &Site, public: bool) -> Option<GrantKind> {
    let p = site.pools;
    let s = site.snapshot;
    let version = s.server_version_num;
    let on = DEFAULT_KINDS[g.on.index(DEFAULT_KINDS.len())];
    if on == ObjectKind::LargeObject && version < 180000 {
        return None;
    }
    // Owners: managed roles, existing roles, a missing one.
    let mut owners: Vec<String> = site.managed.to_vec();
    owners.extend(
        s.catalog
            .roles
            .iter()
            .map(|r| r.name.clone())
            .filter(|r| !r.starts_with("pg_") && !r.starts_with("_pgsr_")),
    );
    owners.extend(p.new_roles.iter().cloned());
    owners.push(BOOTSTRAP.to_owned());
    let owner = owners[g.c.index(owners.len())].clone();
    let schema = (on != ObjectKind::Schema && g.selector.index(2) == 0).then(|| schema_name(g, p));
    Some(GrantKind::DefaultPrivileges(DefaultGrant {
        privileges: privileges(g, on, version),
        on,
        owner,
        schema,
        with_grant_option: g.with_grant_option && !public,
    }))
}

/// One object an ownership may select: its name in the selection, its key
/// in [`Site::owned`], its oid, and whether the planner skips it (a
/// sequence that belongs to a table).
struct Candidate {
    name: String,
    arguments: Option<String>,
    key: (String, String),
    oid: u32,
    skipped: bool,
}

/// Every object of `on` (in `schema`) the planner could select.
fn every(site: &Site, on: ObjectKind, schema: Option<&str>) -> Vec<Candidate> {
    let c = &site.snapshot.catalog;
    let other = |name: &str, oid: u32| Candidate {
        name: name.to_owned(),
        arguments: None,
        key: (format!("\0{}", on.word()), name.to_owned()),
        oid,
        skipped: false,
    };
    let in_schema = |s: &str| schema == Some(s);
    match on {
        ObjectKind::Database => c.databases.iter().map(|d| other(&d.name, d.oid)).collect(),
        ObjectKind::Schema => {
            let mut out: Vec<Candidate> = c
                .schemas
                .iter()
                .map(|n| Candidate {
                    name: n.name.clone(),
                    arguments: None,
                    key: (n.name.clone(), String::new()),
                    oid: n.oid,
                    skipped: false,
                })
                .collect();
            // Schemas a schema_ownership may create (one of a later role
            // is then left out, as its schema is declared owned here).
            let p = site.pools;
            for schema in p.schemas.iter().chain(&p.new_schemas) {
                if !c.schemas.iter().any(|n| &n.name == schema) {
                    out.push(Candidate {
                        name: schema.clone(),
                        arguments: None,
                        key: (schema.clone(), String::new()),
                        oid: FIRST_NORMAL_OBJECT_ID,
                        skipped: false,
                    });
                }
            }
            out
        }
        ObjectKind::Table | ObjectKind::Sequence => c
            .relations
            .iter()
            .filter(|r| in_schema(&r.schema))
            .filter(|r| r.kind.is_table_like() == (on == ObjectKind::Table))
            .map(|r| Candidate {
                name: r.name.clone(),
                arguments: None,
                key: (r.schema.clone(), r.name.clone()),
                oid: r.oid,
                skipped: r.kind == RelKind::Sequence && r.owned_by.is_some(),
            })
            .collect(),
        ObjectKind::Routine => c
            .routines
            .iter()
            .filter(|f| in_schema(&f.schema))
            .map(|f| Candidate {
                name: f.name.clone(),
                arguments: Some(f.arguments.clone()),
                key: (
                    "\0routine".to_owned(),
                    format!("{}.{}({})", f.schema, f.name, f.arguments),
                ),
                oid: f.oid,
                skipped: false,
            })
            .collect(),
        ObjectKind::Type => c
            .types
            .iter()
            .filter(|t| in_schema(&t.schema))
            .map(|t| Candidate {
                key: ("\0type".to_owned(), format!("{}.{}", t.schema, t.name)),
                ..other(&t.name, t.oid)
            })
            .collect(),
        ObjectKind::Language => c.languages.iter().map(|o| other(&o.name, o.oid)).collect(),
        ObjectKind::ForeignServer => c
            .foreign_servers
            .iter()
            .map(|o| other(&o.name, o.oid))
            .collect(),
        ObjectKind::LargeObject => c
            .large_objects
            .iter()
            .map(|o| other(&o.oid.to_string(), o.oid))
            .collect(),
        ObjectKind::Tablespace => c
            .tablespaces
            .iter()
            .map(|o| other(&o.name, o.oid))
            .collect(),
        ObjectKind::Column | ObjectKind::Parameter | ObjectKind::ForeignDataWrapper => Vec::new(),
    }
}

/// Whether a name in a selection names the candidate (a routine's may
/// carry its argument types).
fn names(wanted: &str, c: &Candidate) -> bool {
    let with_arguments = wanted
        .strip_suffix(')')
        .and_then(|w| w.split_once('('))
        .filter(|_| c.arguments.is_some());
    match with_arguments {
        Some((name, args)) => name == c.name && c.arguments.as_deref() == Some(args),
        None => wanted == c.name,
    }
}

fn build_ownership(g: &GeneralSpec, site: &mut Site) -> Option<GrantKind> {
    let p = site.pools;
    let on = OWNED_KINDS[g.on.index(OWNED_KINDS.len())];
    // Without SUPERUSER, PostgreSQL gives a foreign server only to a role
    // holding USAGE on its foreign-data wrapper, which the snapshot does
    // not name: the planner cannot check it, and the plan fails when
    // applied. Not generated.
    if on == ObjectKind::ForeignServer && !site.snapshot.connecting_role.superuser {
        return None;
    }
    let mut objects = selection(g, p, on);
    let every = every(site, on, objects.schema());
    let selected: Vec<&Candidate> = match &mut objects {
        Objects::Named { names: wanted, .. } => every
            .iter()
            .filter(|c| wanted.iter().any(|w| names(w, c)))
            .collect(),
        Objects::Regex { pattern, .. } => {
            every.iter().filter(|c| pattern.matches(&c.name)).collect()
        }
        Objects::All { except, schema } => {
            // initdb's objects are left out by name.
            for c in every.iter().filter(|c| c.oid < FIRST_NORMAL_OBJECT_ID) {
                if !except.contains(&c.name) {
                    except.push(c.name.clone());
                }
            }
            let is_system = |n: &str| n.starts_with("pg_") || n == "information_schema";
            every
                .iter()
                .filter(|c| !except.contains(&c.name))
                .filter(|c| schema.is_some() || on != ObjectKind::Schema || !is_system(&c.name))
                .collect()
        }
        Objects::Current => Vec::new(),
    };
    if selected.iter().any(|c| c.oid < FIRST_NORMAL_OBJECT_ID) {
        return None;
    }
    let keys: Vec<(String, String)> = selected
        .iter()
        .filter(|c| !c.skipped)
        .map(|c| c.key.clone())
        .collect();
    if keys.iter().any(|k| site.owned.contains(k)) {
        return None;
    }
    site.owned.extend(keys);
    Some(GrantKind::Ownership { on, objects })
}
