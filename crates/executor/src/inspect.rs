//! Reading the catalog into a snapshot.
//!
//! One statement reads the whole catalog (one part per kind of object,
//! never one query per object), sent with whatever the caller needs before
//! it (BEGIN, an advisory lock) and after it in one round trip. Being one
//! statement, it sees one consistent state of the database under any
//! isolation level. Only world-readable catalogs are read (`pg_roles`, not
//! `pg_authid`), so a non-superuser can inspect; only a sync whose role was
//! a superuser as it connected reads `pg_authid` (never its password), which
//! a new backend plans faster (see `Reader`).

use crate::connect::{describe, Session};
use crate::Error;
use pgsr_planner::acl::{parse_aclitem, AclEntry};
use pgsr_planner::quote::quote_literal;
use pgsr_planner::snapshot::*;
pub(crate) use postgres::types::Type as PgType;
use postgres::{GenericClient, Row, SimpleQueryMessage, SimpleQueryRow};
use std::collections::HashMap;

/// Objects in these schemas are read only when their ACL is not NULL: their
/// built-in defaults are the same in every database and nobody manages them.
const SYSTEM_SCHEMAS: &str = "('pg_catalog', 'information_schema')";

/// Schemas that are per-session or internal and never hold managed objects.
const HIDDEN_SCHEMA_FILTER: &str = "n.nspname !~ '^pg_(toast$|temp_|toast_temp_)'";

/// Takes a full snapshot in its own read-only REPEATABLE READ transaction.
pub fn inspect(session: &mut Session) -> Result<Snapshot, Error> {
    inspect_scope(session, &Scope::Full)
}

/// Takes a snapshot of `scope` in its own read-only REPEATABLE READ
/// transaction: one round trip.
pub fn inspect_scope(session: &mut Session, scope: &Scope) -> Result<Snapshot, Error> {
    let version = session.server_version_num();
    let read = read(
        &mut **session,
        version,
        scope,
        &["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"],
        &["COMMIT"],
    );
    if read.is_err() {
        // The transaction may be open, and failed: end it.
        let _ = session.batch_execute("ROLLBACK");
    }
    Ok(read?.snapshot)
}

/// What one round trip read: the rows of the statements sent before the
/// catalog statement, and the snapshot.
pub(crate) struct Read {
    pub before: Vec<Vec<SimpleQueryRow>>,
    pub snapshot: Snapshot,
    /// Queries sent.
    pub round_trips: usize,
}

/// Sends `before`, the catalog statement and `after` as one simple query
/// (one round trip) and reads the snapshot of `scope` from the catalog
/// statement's rows.
///
/// The catalog is read by one statement, so by one snapshot of the
/// database even under READ COMMITTED, taken when that statement starts:
/// after every statement of `before` has finished (such as one that takes
/// an advisory lock).
pub(crate) fn read(
    client: &mut impl GenericClient,
    server_version_num: u32,
    scope: &Scope,
    before: &[&str],
    after: &[&str],
) -> Result<Read, Error> {
    let mut sql = String::new();
    for s in before {
        sql.push_str(s);
        sql.push_str(";\n");
    }
    sql.push_str(&catalog_statement(
        scope,
        server_version_num,
        Args::Literal,
        Parts::All,
        Reader::Any,
    ));
    for s in after {
        sql.push_str(";\n");
        sql.push_str(s);
    }
    let (before, rows) = send(client, &sql, before.len())?;
    Ok(Read {
        before,
        snapshot: snapshot_from_rows(scope, &rows)?,
        round_trips: 1,
    })
}

/// As [`read`] (without statements after), for `sync`. A session that
/// syncs many times prepares the catalog statements once (see
/// [`Session::plan_once`]), the first read of each in the same round trip;
/// a session that syncs once sends them with their lists as literals: a
/// statement prepared and executed once costs a new backend more (about
/// 0.6 ms for the first one, measured on PostgreSQL 15) than one parsed,
/// planned and run as it comes.
///
/// A partial scope is read in two statements, the second sent only when it
/// has something to read: the first reads the roles, memberships,
/// databases, schemas and default privileges, and counts what the scope's
/// roles hold in this database; the second reads the objects (relations,
/// routines, types, …) the scope names or its roles hold. A sync of a role
/// that holds no object in the database and is granted none by name (such
/// as `database_connect` and `role_membership` only) reads no object
/// catalog at all, which in a new connection saves most of the cost of the
/// read. The second statement runs in the same transaction, after the
/// first: under the advisory lock when the first ran under it.
pub(crate) fn read_prepared(
    session: &mut Session,
    scope: &Scope,
    before: &[&str],
) -> Result<Read, Error> {
    let first = match scope {
        Scope::Full => Parts::All,
        Scope::Partial(_) => Parts::Base,
    };
    let (sql, skip) = session.prepared.statement(scope, first, before);
    let (mut results, mut rows) = send(&mut **session, &sql, skip + before.len())?;
    results.drain(..skip);
    session.prepared.made(scope, first);
    let mut round_trips = 1;
    if let Scope::Partial(p) = scope {
        let held = rows
            .iter()
            .find(|r| r.get(0) == Some("k"))
            .and_then(|r| r.get(1))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                Error::database("reading the catalog failed: no count of what the roles hold")
            })?;
        if held > 0 || !p.relations.is_empty() || !p.regex_schemas.is_empty() {
            let (sql, skip) = session.prepared.statement(scope, Parts::Objects, &[]);
            let (_, more) = send(&mut **session, &sql, skip)?;
            session.prepared.made(scope, Parts::Objects);
            rows.extend(more);
            round_trips += 1;
        }
    }
    let snapshot = snapshot_from_rows(scope, &rows)?;
    if session.prepared.reader == Reader::Superuser && !snapshot.connecting_role.superuser {
        // Read as a superuser reads, without the connecting role's
        // memberships (a superuser holds every role): not what it is now.
        return Err(Error::database(
            "reading the catalog failed: the connecting role stopped being a superuser after it connected; run again",
        ));
    }
    Ok(Read {
        before: results,
        snapshot,
        round_trips,
    })
}

/// The catalog statements a session has prepared, by name.
#[derive(Debug, Default)]
pub struct PreparedStatements {
    names: HashMap<(bool, Parts), String>,
    /// Whether statements are prepared at all (a session that syncs many
    /// times), or sent with literals.
    keep: bool,
    made: u32,
    version: u32,
    /// Who reads: a superuser reads `pg_authid` (see [`Reader`]).
    reader: Reader,
    /// The name given by the last [`PreparedStatements::statement`].
    pending: Option<String>,
}

impl PreparedStatements {
    /// For a server of `server_version_num`, and a role that was a
    /// superuser when it connected (`superuser`).
    pub(crate) fn new(server_version_num: u32, superuser: bool) -> PreparedStatements {
        PreparedStatements {
            version: server_version_num,
            reader: if superuser {
                Reader::Superuser
            } else {
                Reader::Any
            },
            ..Default::default()
        }
    }

    /// Prepares the catalog statements from now on.
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }

    /// The SQL that runs the statement for `scope` and `parts` after
    /// `before` (each ended by `;\n`), and how many statements come before
    /// `before` in it (a `PREPARE` the first time).
    fn statement(&mut self, scope: &Scope, parts: Parts, before: &[&str]) -> (String, usize) {
        let mut sql = String::new();
        let mut skip = 0;
        let run = if self.keep {
            let key = (matches!(scope, Scope::Full), parts);
            let name = match self.names.get(&key) {
                Some(name) => name.clone(),
                None => {
                    // A new name each time: after a failed round trip it is
                    // unknown whether the statement was prepared.
                    self.made += 1;
                    let name = format!("pgsr_catalog_{}", self.made);
                    let types = match scope {
                        Scope::Full => String::new(),
                        Scope::Partial(_) => format!("({})", ["text[]"; PARAMETERS].join(", ")),
                    };
                    sql = format!(
                        "PREPARE {name}{types} AS {};\n",
                        catalog_statement(
                            scope,
                            self.version,
                            Args::Parameters,
                            parts,
                            self.reader
                        )
                    );
                    skip = 1;
                    name
                }
            };
            let args = match scope {
                Scope::Full => String::new(),
                Scope::Partial(p) => format!("({})", scope_arrays(p, Args::Literal).join(", ")),
            };
            let run = format!("EXECUTE {name}{args}");
            self.pending = Some(name);
            run
        } else {
            catalog_statement(scope, self.version, Args::Literal, parts, self.reader)
        };
        for s in before {
            sql.push_str(s);
            sql.push_str(";\n");
        }
        sql.push_str(&run);
        (sql, skip)
    }

    /// Records that the statement last given for `scope` and `parts` was
    /// prepared (or executed).
    fn made(&mut self, scope: &Scope, parts: Parts) {
        if let Some(name) = self.pending.take() {
            self.names
                .insert((matches!(scope, Scope::Full), parts), name);
        }
    }
}

/// Sends `sql`; returns the rows of each statement before number `at`
/// (counting from 0), and the rows of that statement.
#[allow(clippy::type_complexity)]
fn send(
    client: &mut impl GenericClient,
    sql: &str,
    at: usize,
) -> Result<(Vec<Vec<SimpleQueryRow>>, Vec<SimpleQueryRow>), Error> {
    let messages = client.simple_query(sql).map_err(db_error)?;
    let mut results: Vec<Vec<SimpleQueryRow>> = vec![Vec::new()];
    for m in messages {
        match m {
            SimpleQueryMessage::Row(row) => results.last_mut().expect("one").push(row),
            SimpleQueryMessage::CommandComplete(_) => results.push(Vec::new()),
            _ => {}
        }
    }
    if results.len() < at + 1 {
        return Err(Error::database(
            "reading the catalog failed: the server answered fewer statements than were sent",
        ));
    }
    let rest = results.split_off(at);
    let rows = rest.into_iter().next().expect("checked");
    Ok((results, rows))
}

pub(crate) fn db_error(e: postgres::Error) -> Error {
    Error::database(format!("reading the catalog failed: {}", describe(&e)))
}

/// One round trip with typed parameters (no prepared statement).
pub(crate) fn query_typed(
    client: &mut impl GenericClient,
    sql: &str,
    params: &[(&(dyn postgres::types::ToSql + Sync), PgType)],
) -> Result<Vec<Row>, Error> {
    client.query_typed(sql, params).map_err(db_error)
}

/// `ARRAY[…]::text[]` of `values`.
fn text_array<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(quote_literal).collect();
    format!("ARRAY[{}]::text[]", items.join(","))
}

/// Which parts of the catalog a statement reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Parts {
    /// Everything.
    All,
    /// Roles, memberships, databases, tablespaces, parameters, schemas and
    /// default privileges, and (partial scopes) how many objects of this
    /// database the scope's roles hold.
    Base,
    /// Relations, column ACLs, sequence owners, routines, types, languages,
    /// foreign-data wrappers and servers, large objects.
    Objects,
}

/// How the catalog statement names the lists of a partial scope.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Args {
    /// As literals.
    Literal,
    /// As the parameters `$1` to `$6` of a prepared statement.
    Parameters,
}

/// Who reads the catalog, which decides how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Reader {
    /// Any role: roles are read from the world-readable `pg_roles`, and the
    /// connecting role's memberships with `pg_has_role`.
    #[default]
    Any,
    /// A superuser: roles are read from `pg_authid` itself (never its
    /// password), which a new backend plans and runs faster than the
    /// `pg_roles` view at every mention, and the connecting role's
    /// memberships are not read (a superuser holds every role; the part
    /// that reads them returns nothing for one). Chosen when the role was
    /// a superuser as it connected; one that no longer is cannot read
    /// `pg_authid` (or, granted SELECT on it, is refused after the read by
    /// its own row).
    Superuser,
}

/// A partial scope's lists, as the catalog statement names them: the roles
/// (with the roles they are to be members of), the role name prefixes, the
/// schemas, the schemas and names of the relations, the regex schemas.
fn scope_arrays(p: &PartialScope, args: Args) -> [String; PARAMETERS] {
    if args == Args::Parameters {
        return std::array::from_fn(|i| format!("${}", i + 1));
    }
    let names = |v: &[String]| text_array(v.iter().map(String::as_str));
    [
        names(&p.roles),
        names(&p.role_prefixes),
        names(&p.schemas),
        text_array(p.relations.iter().map(|q| q.schema.as_str())),
        text_array(p.relations.iter().map(|q| q.name.as_str())),
        names(&p.regex_schemas),
    ]
}

/// How many parameters the prepared catalog statement of a partial scope
/// takes (each `text[]`).
const PARAMETERS: usize = 6;

/// Data columns of every row of the catalog statement (the most any kind
/// of object has: roles).
const COLUMNS: usize = 11;

/// One part of the catalog statement: the rows of one kind of object.
fn part(kind: char, columns: &[&str], from: &str) -> String {
    assert!(columns.len() <= COLUMNS);
    let mut select = vec![format!("'{kind}'::text")];
    select.extend(columns.iter().map(|c| format!("({c})::text")));
    select.extend((columns.len()..COLUMNS).map(|_| "NULL::text".to_owned()));
    format!("(SELECT {} {from})", select.join(", "))
}

/// The one statement that reads the catalog: a row per object, its kind
/// and then its fields as text.
///
/// A partial scope reads only the roles planning can ask about: the
/// scope's roles (those it names, among them the roles they are to be
/// members of and those that receive ownership taken away, and pgsr's
/// intermediate roles, matched by prefix) and every role above these
/// through any chain (what decides power, with their attributes), roles named like
/// the scope's schemas (`"$user"`), pgsr's intermediate roles, the
/// connecting role, the bootstrap superuser, and the roles whose names
/// differ from a scope role's only by case. It reads every database,
/// schema and default privilege (few, and all needed to plan), the
/// memberships of the scope's roles and of every role above them, and only the objects the scope names,
/// the table-likes of its regex schemas, and the objects where its roles
/// hold privileges or ownership, found through the indexed `pg_shdepend`
/// rather than by scanning every ACL. Lists of oids reach the index scans
/// as `= ANY(ARRAY(subquery))`.
fn catalog_statement(scope: &Scope, v: u32, args: Args, which: Parts, reader: Reader) -> String {
    let roles_table = match reader {
        Reader::Any => "pg_roles",
        Reader::Superuser => "pg_authid",
    };
    let partial = match scope {
        Scope::Full => None,
        Scope::Partial(p) => Some(p),
    };
    let arrays = partial.map(|p| scope_arrays(p, args));
    let mut ctes: Vec<String> = Vec::new();
    // Restricts `column` to the oids of `class` the scope holds.
    let only = |column: &str, class: &str| -> String {
        match partial {
            None => String::new(),
            Some(_) if class == "pg_class" => {
                format!(" AND {column} = ANY(ARRAY(SELECT oid FROM scoped_relations))")
            }
            Some(_) => format!(
                " AND {column} = ANY(ARRAY(SELECT objid FROM held WHERE classid = '{class}'::regclass))"
            ),
        }
    };
    let mut roles_filter = String::new();
    let mut memberships_filter = String::new();
    if let Some([roles, prefixes, schemas, relation_schemas, relation_names, regex_schemas]) =
        &arrays
    {
        // The scope's roles: named, or with a name that starts with one of
        // its prefixes (pgsr's intermediate roles). Each prefix is looked
        // up as a range of pg_authid's name index (names sort bytewise; the
        // upper bound is the prefix with its last character incremented),
        // checked by `starts_with`.
        ctes.push(format!(
            "scoped(oid) AS (SELECT oid FROM {roles_table} WHERE rolname = ANY({roles}) \
             UNION SELECT x.oid FROM unnest({prefixes}) AS p(prefix), LATERAL ( \
               SELECT oid FROM {roles_table} WHERE rolname >= p.prefix::name \
                 AND rolname < (left(p.prefix, -1) || chr(ascii(right(p.prefix, 1)) + 1))::name \
                 AND starts_with(rolname::text, p.prefix) OFFSET 0) x)"
        ));
        // The named roles, and every role they are members of, through any
        // chain: what decides their power. Each step looks the members up
        // in pg_auth_members' index (OFFSET 0 keeps the planner from
        // turning the lookup into a scan of every membership).
        if which != Parts::Objects {
            ctes.push(
                "up(oid) AS (SELECT oid FROM scoped \
             UNION SELECT x.roleid FROM up, LATERAL ( \
               SELECT am.roleid FROM pg_auth_members am WHERE am.member = up.oid OFFSET 0) x)"
                    .to_owned(),
            );
        }
        memberships_filter = " WHERE am.member = ANY(ARRAY(SELECT oid FROM up))".to_owned();
        // Every branch but the last an index scan (pg_roles' rows are
        // pg_authid's, and names sort bytewise: '_pgsr`' is the first name
        // after every name that starts with '_pgsr_'). The last finds the
        // roles whose names differ from a scope role's only by case, which
        // the planner warns of when a scope role does not exist and would
        // be created: one pass over pg_authid, keeping few rows, and only
        // then (the EXISTS is evaluated once, before the scan).
        roles_filter = format!(
            " WHERE oid = ANY(ARRAY( \
                 SELECT oid FROM up \
                 UNION SELECT oid FROM {roles_table} WHERE rolname = ANY({schemas}) \
                 UNION SELECT oid FROM {roles_table} WHERE rolname >= '_pgsr_' AND rolname < '_pgsr`' \
                 UNION SELECT oid FROM {roles_table} WHERE rolname = current_user \
                 UNION SELECT 10::oid \
                 UNION SELECT oid FROM {roles_table} \
                   WHERE lower(rolname::text) = ANY(ARRAY(SELECT lower(n) FROM unnest({roles}) AS n)) \
                     AND EXISTS (SELECT FROM unnest({roles}) AS n \
                                 WHERE NOT EXISTS (SELECT FROM {roles_table} e WHERE e.rolname = n))))"
        );
        // Where the scope's roles hold privileges or ownership in this
        // database.
        ctes.push(
            "held AS MATERIALIZED (SELECT d.classid, d.objid FROM scoped r \
             JOIN pg_shdepend d ON d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid \
             WHERE d.deptype IN ('a', 'o') \
               AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))"
                .to_owned(),
        );
        // The named relations, and every relation of the regex schemas
        // through the indexed pg_depend (pg_class has no index on
        // relnamespace alone).
        if which != Parts::Base {
            ctes.push(format!(
            "scoped_relations AS MATERIALIZED ( \
               SELECT objid AS oid FROM held WHERE classid = 'pg_class'::regclass \
               UNION SELECT c.oid FROM unnest({relation_schemas}, {relation_names}) AS x(s, r) \
                 JOIN pg_namespace n ON n.nspname = x.s \
                 JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.r \
               UNION SELECT d.objid FROM pg_namespace n \
                 JOIN pg_depend d ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid \
                      AND d.classid = 'pg_class'::regclass \
                 WHERE n.nspname = ANY({regex_schemas}))"
        ));
        }
    }
    let member = if v >= 160000 { "SET" } else { "MEMBER" };
    let (inherit, set) = if v >= 160000 {
        ("am.inherit_option", "am.set_option")
    } else {
        ("NULL", "NULL")
    };
    let mut parts: Vec<String> = vec![
        part(
            'h',
            &[
                "current_setting('server_version_num')",
                "current_database()",
                "d.oid",
                "current_user",
                "r.rolsuper",
                "r.rolcreaterole",
            ],
            &format!(
                "FROM pg_database d, {roles_table} r \
                 WHERE d.datname = current_database() AND r.rolname = current_user"
            ),
        ),
        // A superuser holds everything: its memberships are not read (not
        // even asked for when it was one as it connected).
        part(
            'c',
            &[
                "r.rolname",
                "pg_has_role(current_user, r.oid, 'USAGE')",
                &format!("pg_has_role(current_user, r.oid, '{member}')"),
                "pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')",
            ],
            "FROM pg_roles r \
             WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
               AND r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER')",
        ),
        part(
            'r',
            &[
                "oid",
                "rolname",
                "rolsuper",
                "rolinherit",
                "rolcreaterole",
                "rolcreatedb",
                "rolcanlogin",
                "rolreplication",
                "rolbypassrls",
                "rolconnlimit",
                "CASE WHEN rolvaliduntil IS NULL THEN NULL \
                      WHEN rolvaliduntil = 'infinity' THEN 'infinity' \
                      WHEN rolvaliduntil = '-infinity' THEN '-infinity' \
                      ELSE to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END",
            ],
            &format!("FROM {roles_table}{roles_filter}"),
        ),
        part(
            'm',
            // Names by lookup rather than joins, which a generic plan may
            // make scans of every role: a membership's role and member
            // always exist; its grantor may not before PostgreSQL 16 (NULL
            // then: pg_get_userbyid says "unknown (OID=…)", and only a role
            // that could be so named is looked for).
            &[
                "pg_get_userbyid(am.roleid)",
                "pg_get_userbyid(am.member)",
                &format!(
                    "CASE WHEN pg_get_userbyid(am.grantor) <> 'unknown (OID=' || am.grantor || ')' \
                            OR EXISTS (SELECT FROM {roles_table} g WHERE g.oid = am.grantor) \
                          THEN pg_get_userbyid(am.grantor) END"
                ),
                "am.admin_option",
                inherit,
                set,
            ],
            &format!("FROM pg_auth_members am{memberships_filter}"),
        ),
        part(
            'd',
            &["oid", "datname", "pg_get_userbyid(datdba)", "datacl"],
            "FROM pg_database",
        ),
        part(
            't',
            &["oid", "spcname", "pg_get_userbyid(spcowner)", "spcacl"],
            "FROM pg_tablespace",
        ),
    ];
    if reader == Reader::Superuser {
        parts.retain(|p| !p.starts_with("(SELECT 'c'::text"));
    }
    if v >= 150000 {
        parts.push(part('p', &["parname", "paracl"], "FROM pg_parameter_acl"));
    }
    parts.push(part(
        's',
        &[
            "n.oid",
            "n.nspname",
            "pg_get_userbyid(n.nspowner)",
            "n.nspacl",
        ],
        &format!("FROM pg_namespace n WHERE {HIDDEN_SCHEMA_FILTER}"),
    ));
    parts.push(part(
        'x',
        &[
            "pg_get_userbyid(d.defaclrole)",
            "n.nspname",
            "d.defaclobjtype",
            "d.defaclacl",
        ],
        "FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
    ));
    if which == Parts::Base && partial.is_some() {
        parts.push(part('k', &["count(*)"], "FROM held"));
    }
    if which == Parts::Objects {
        parts.clear();
    }
    if which == Parts::Base {
        return statement(&ctes, &parts);
    }
    parts.push(part(
        'R',
        &[
            "c.oid",
            "n.nspname",
            "c.relname",
            "c.relkind",
            "pg_get_userbyid(c.relowner)",
            "c.relacl",
        ],
        &format!(
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {HIDDEN_SCHEMA_FILTER} \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR c.relacl IS NOT NULL){}",
            only("c.oid", "pg_class")
        ),
    ));
    parts.push(part(
        'a',
        &["a.attrelid", "a.attname", "a.attacl"],
        &format!(
            "FROM pg_attribute a \
             WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped{}",
            only("a.attrelid", "pg_class")
        ),
    ));
    parts.push(part(
        'o',
        &["s.oid", "tn.nspname", "t.relname"],
        &format!(
            "FROM pg_class s \
             JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
             JOIN pg_class t ON t.oid = d.refobjid \
             JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             WHERE s.relkind = 'S'{}",
            only("s.oid", "pg_class")
        ),
    ));
    parts.push(part(
        'f',
        &[
            "p.oid",
            "n.nspname",
            "p.proname",
            "pg_get_function_identity_arguments(p.oid)",
            "p.prokind",
            "pg_get_userbyid(p.proowner)",
            "p.proacl",
            "p.prosecdef",
        ],
        &format!(
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE {HIDDEN_SCHEMA_FILTER} \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR p.proacl IS NOT NULL){}",
            only("p.oid", "pg_proc")
        ),
    ));
    // Array types and the row types of relations other than composite types
    // take their privileges from elsewhere and cannot be granted on.
    parts.push(part(
        'y',
        &[
            "t.oid",
            "n.nspname",
            "t.typname",
            "t.typtype",
            "pg_get_userbyid(t.typowner)",
            "t.typacl",
        ],
        &format!(
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             LEFT JOIN pg_class c ON c.oid = t.typrelid \
             WHERE {HIDDEN_SCHEMA_FILTER} \
               AND (t.typrelid = 0 OR c.relkind = 'c') \
               AND NOT (t.typelem <> 0 AND t.typlen = -1) \
               AND (n.nspname NOT IN {SYSTEM_SCHEMAS} OR t.typacl IS NOT NULL){}",
            only("t.oid", "pg_type")
        ),
    ));
    // Only trusted languages: USAGE on an untrusted one cannot be granted
    // or revoked (only superusers use them), so it has no privileges to read.
    for (kind, name, owner, acl, table, class, filter) in [
        (
            'l',
            "lanname",
            "lanowner",
            "lanacl",
            "pg_language",
            "pg_language",
            "lanpltrusted",
        ),
        (
            'w',
            "fdwname",
            "fdwowner",
            "fdwacl",
            "pg_foreign_data_wrapper",
            "pg_foreign_data_wrapper",
            "true",
        ),
        (
            'v',
            "srvname",
            "srvowner",
            "srvacl",
            "pg_foreign_server",
            "pg_foreign_server",
            "true",
        ),
    ] {
        parts.push(part(
            kind,
            &["oid", name, &format!("pg_get_userbyid({owner})"), acl],
            &format!("FROM {table} WHERE {filter}{}", only("oid", class)),
        ));
    }
    parts.push(part(
        'L',
        &["oid", "pg_get_userbyid(lomowner)", "lomacl"],
        &format!(
            "FROM pg_largeobject_metadata WHERE true{}",
            only("oid", "pg_largeobject")
        ),
    ));
    statement(&ctes, &parts)
}

/// `WITH RECURSIVE <ctes> <parts joined by UNION ALL>`.
fn statement(ctes: &[String], parts: &[String]) -> String {
    let with = if ctes.is_empty() {
        String::new()
    } else {
        format!("WITH RECURSIVE {} ", ctes.join(", "))
    };
    format!("{with}{}", parts.join("\nUNION ALL "))
}

/// The fields of one row of the catalog statement, as text.
struct Fields<'a> {
    row: &'a SimpleQueryRow,
    kind: &'a str,
}

impl Fields<'_> {
    fn bad(&self, i: usize, what: &str) -> Error {
        Error::database(format!(
            "reading the catalog failed: a {:?} row has {what} in column {i}",
            self.kind
        ))
    }

    fn opt_text(&self, i: usize) -> Option<String> {
        self.row.get(i + 1).map(str::to_owned)
    }

    fn text(&self, i: usize) -> Result<String, Error> {
        self.opt_text(i).ok_or_else(|| self.bad(i, "NULL"))
    }

    fn number<T: std::str::FromStr>(&self, i: usize) -> Result<T, Error> {
        self.row
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| self.bad(i, "no number"))
    }

    fn opt_bool(&self, i: usize) -> Result<Option<bool>, Error> {
        match self.row.get(i + 1) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(self.bad(i, "no boolean")),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, Error> {
        self.opt_bool(i)?.ok_or_else(|| self.bad(i, "NULL"))
    }

    /// An ACL (`aclitem[]` as text), NULL for the built-in default.
    fn acl(&self, i: usize) -> Result<Option<Vec<AclEntry>>, Error> {
        let Some(text) = self.row.get(i + 1) else {
            return Ok(None);
        };
        let items = parse_array(text).ok_or_else(|| self.bad(i, "no array"))?;
        let mut entries = Vec::with_capacity(items.len() * 2);
        for item in &items {
            parse_aclitem(item, &mut entries).map_err(|e| Error::database(e.to_string()))?;
        }
        Ok(Some(entries))
    }
}

/// The elements of a one-dimensional array in PostgreSQL's text form
/// (`{a,"b c","d\"e"}`), none of them NULL.
fn parse_array(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars();
    loop {
        let mut item = String::new();
        let mut next = chars.next();
        if next == Some('"') {
            loop {
                match chars.next()? {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    c => item.push(c),
                }
            }
            next = chars.next();
        } else {
            while let Some(c) = next.filter(|c| *c != ',') {
                item.push(c);
                next = chars.next();
            }
            if item.eq_ignore_ascii_case("NULL") {
                return None;
            }
        }
        out.push(item);
        match next {
            Some(',') => continue,
            None => return Some(out),
            Some(_) => return None,
        }
    }
}

/// Builds the snapshot from the catalog statement's rows.
fn snapshot_from_rows(scope: &Scope, rows: &[SimpleQueryRow]) -> Result<Snapshot, Error> {
    let mut header = None;
    let mut connecting = Vec::new();
    let mut c = Catalog::default();
    let mut columns: Vec<(u32, ColumnAcl)> = Vec::new();
    let mut owned: Vec<(u32, QualifiedName)> = Vec::new();
    for row in rows {
        let Some(kind) = row.get(0) else {
            return Err(Error::database(
                "reading the catalog failed: a catalog row without its kind",
            ));
        };
        let f = Fields { row, kind };
        match kind {
            // What the roles hold, counted for the reader.
            "k" => {}
            "h" => {
                header = Some((
                    f.number::<u32>(0)?,
                    f.text(1)?,
                    f.number::<u32>(2)?,
                    f.text(3)?,
                    f.boolean(4)?,
                    f.boolean(5)?,
                ))
            }
            "c" => connecting.push(ConnectingMembership {
                role: f.text(0)?,
                usage: f.boolean(1)?,
                member: f.boolean(2)?,
                admin: f.boolean(3)?,
            }),
            "r" => c.roles.push(Role {
                oid: f.number(0)?,
                name: f.text(1)?,
                superuser: f.boolean(2)?,
                inherit: f.boolean(3)?,
                createrole: f.boolean(4)?,
                createdb: f.boolean(5)?,
                canlogin: f.boolean(6)?,
                replication: f.boolean(7)?,
                bypassrls: f.boolean(8)?,
                connection_limit: f.number(9)?,
                valid_until: f.opt_text(10),
            }),
            "m" => c.memberships.push(Membership {
                role: f.text(0)?,
                member: f.text(1)?,
                grantor: f.opt_text(2),
                admin_option: f.boolean(3)?,
                inherit_option: f.opt_bool(4)?,
                set_option: f.opt_bool(5)?,
            }),
            "d" | "t" => {
                let object = SharedObject {
                    oid: f.number(0)?,
                    name: f.text(1)?,
                    owner: f.text(2)?,
                    acl: f.acl(3)?,
                };
                if kind == "d" {
                    c.databases.push(object);
                } else {
                    c.tablespaces.push(object);
                }
            }
            "p" => c.parameters.push(Parameter {
                name: f.text(0)?,
                acl: f.acl(1)?,
            }),
            "s" => c.schemas.push(Schema {
                oid: f.number(0)?,
                name: f.text(1)?,
                owner: f.text(2)?,
                acl: f.acl(3)?,
            }),
            "R" => {
                let relkind = f.text(3)?;
                c.relations.push(Relation {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    kind: RelKind::from_relkind(&relkind).ok_or_else(|| {
                        Error::database(format!("unexpected relkind {relkind:?}"))
                    })?,
                    owner: f.text(4)?,
                    acl: f.acl(5)?,
                    columns: Vec::new(),
                    owned_by: None,
                });
            }
            "a" => columns.push((
                f.number(0)?,
                ColumnAcl {
                    name: f.text(1)?,
                    acl: f.acl(2)?.unwrap_or_default(),
                },
            )),
            "o" => owned.push((
                f.number(0)?,
                QualifiedName {
                    schema: f.text(1)?,
                    name: f.text(2)?,
                },
            )),
            "f" => {
                let prokind = f.text(4)?;
                c.routines.push(Routine {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    arguments: f.text(3)?,
                    kind: RoutineKind::from_prokind(&prokind).ok_or_else(|| {
                        Error::database(format!("unexpected prokind {prokind:?}"))
                    })?,
                    owner: f.text(5)?,
                    acl: f.acl(6)?,
                    security_definer: f.boolean(7)?,
                });
            }
            "y" => {
                let typtype = f.text(3)?;
                c.types.push(Type {
                    oid: f.number(0)?,
                    schema: f.text(1)?,
                    name: f.text(2)?,
                    kind: TypeKind::from_typtype(&typtype).ok_or_else(|| {
                        Error::database(format!("unexpected typtype {typtype:?}"))
                    })?,
                    owner: f.text(4)?,
                    acl: f.acl(5)?,
                });
            }
            "l" | "w" | "v" => {
                let object = NamedObject {
                    oid: f.number(0)?,
                    name: f.text(1)?,
                    owner: f.text(2)?,
                    acl: f.acl(3)?,
                };
                match kind {
                    "l" => c.languages.push(object),
                    "w" => c.foreign_data_wrappers.push(object),
                    _ => c.foreign_servers.push(object),
                }
            }
            "L" => c.large_objects.push(LargeObject {
                oid: f.number(0)?,
                owner: f.text(1)?,
                acl: f.acl(2)?,
            }),
            "x" => {
                let objtype = f.text(2)?;
                c.default_privileges.push(DefaultPrivilege {
                    role: f.text(0)?,
                    schema: f.opt_text(1),
                    object_type: DefaultObjectType::from_defaclobjtype(&objtype).ok_or_else(
                        || Error::database(format!("unexpected defaclobjtype {objtype:?}")),
                    )?,
                    acl: f.acl(3)?.unwrap_or_default(),
                });
            }
            other => {
                return Err(Error::database(format!(
                    "reading the catalog failed: unexpected row kind {other:?}"
                )))
            }
        }
    }
    let Some((server_version_num, database, database_oid, role, superuser, createrole)) = header
    else {
        return Err(Error::database(
            "reading the catalog failed: the connecting role or the database was not found",
        ));
    };
    let by_oid: HashMap<u32, usize> = c
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| (r.oid, i))
        .collect();
    for (oid, column) in columns {
        if let Some(&i) = by_oid.get(&oid) {
            c.relations[i].columns.push(column);
        }
    }
    for (oid, table) in owned {
        if let Some(&i) = by_oid.get(&oid) {
            c.relations[i].owned_by = Some(table);
        }
    }
    let mut snapshot = Snapshot {
        format_version: FORMAT_VERSION,
        server_version_num,
        database: DatabaseIdent {
            name: database,
            oid: database_oid,
        },
        connecting_role: ConnectingRole {
            name: role,
            superuser,
            createrole,
            memberships: connecting,
        },
        scope: scope.clone(),
        fingerprint: String::new(),
        catalog: c,
    };
    snapshot.canonicalize();
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_text_form() {
        let parse = |s: &str| parse_array(s);
        assert_eq!(parse("{}"), Some(vec![]));
        assert_eq!(
            parse(r#"{postgres=arwdDxt/postgres,"\"a b\"=r/postgres",=r/x}"#),
            Some(vec![
                "postgres=arwdDxt/postgres".to_owned(),
                r#""a b"=r/postgres"#.to_owned(),
                "=r/x".to_owned()
            ])
        );
        assert_eq!(
            parse(r#"{"a\\b","c,d"}"#),
            Some(vec![r"a\b".to_owned(), "c,d".to_owned()])
        );
        for bad in ["", "{", "{a", r#"{"a}"#, "{NULL}", r#"{"a"b}"#] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_literals_survive_either_string_syntax() {
        assert_eq!(quote_literal("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(quote_literal("a'b"), "'a''b'");
    }
}
