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
use pgsr_planner::snapshot::*;
pub(crate) use postgres::types::Type as PgType;
use postgres::{GenericClient, Row, SimpleQueryMessage, SimpleQueryRow};
use std::collections::HashMap;

mod rows;
mod statement;

use statement::{catalog_statement, scope_arrays, PARAMETERS};

pub use rows::{snapshot_from_rows, TextRow};

/// The catalog statements of `scope` for a caller that runs them itself,
/// many times (the Python package): their lists are the parameters `$1`
/// to `$6` (each `text[]`, values returned beside), so the text stays the
/// same from one sync to the next and a driver can prepare it. They are
/// read as `sync` reads them: a partial scope that names no object gives
/// two statements, the second (the objects) needed only when
/// [`needs_objects`] says so of the first's rows; any other scope one.
pub fn catalog_statements(
    scope: &Scope,
    server_version_num: u32,
) -> (Vec<String>, Vec<Vec<String>>) {
    let sql = |parts| {
        catalog_statement(
            scope,
            server_version_num,
            Args::Parameters,
            parts,
            Reader::Any,
        )
    };
    let statements = match first_parts(scope) {
        Parts::Base => vec![sql(Parts::Base), sql(Parts::Objects)],
        parts => vec![sql(parts)],
    };
    match scope {
        Scope::Full => (statements, Vec::new()),
        Scope::Partial(p) => (
            statements,
            vec![
                p.roles.clone(),
                p.role_prefixes.clone(),
                p.schemas.clone(),
                p.relations.iter().map(|q| q.schema.clone()).collect(),
                p.relations.iter().map(|q| q.name.clone()).collect(),
                p.regex_schemas.clone(),
            ],
        ),
    }
}

/// Planner settings for the transaction that reads a partial scope (none
/// for a full one), as `set_config` calls to add to a `SELECT` list.
///
/// A partial scope's statements look up few rows of large catalogs by
/// index. Chosen from statistics that lag behind the catalog, as after
/// many roles or memberships were added since the last `ANALYZE`, a plan
/// scans whole catalogs instead: measured on PostgreSQL 15 with 6,000
/// roles, a read took twice as long until the next `ANALYZE`. Sequential
/// scans are therefore disabled (left only where no index serves), and JIT
/// compilation, which the large cost estimates that follow would start,
/// with them. Each setting lasts until the transaction ends.
pub fn scoped_read_settings(scope: &Scope) -> Option<&'static str> {
    match scope {
        Scope::Full => None,
        Scope::Partial(_) => Some(
            "pg_catalog.set_config('enable_seqscan', 'off', true), \
             pg_catalog.set_config('jit', 'off', true)",
        ),
    }
}

/// What the first statement of a read of `scope` covers: everything for a
/// full scope, and for a partial one that names objects (which it reads
/// whatever its roles hold); only the base otherwise, the objects read
/// after it when [`needs_objects`] says so.
fn first_parts(scope: &Scope) -> Parts {
    match scope {
        Scope::Partial(p) if p.relations.is_empty() && p.regex_schemas.is_empty() => Parts::Base,
        _ => Parts::All,
    }
}

/// Whether a partial scope's objects must be read, after the rows of the
/// first of [`catalog_statements`] when there are two: its roles hold some.
pub fn needs_objects<R: TextRow>(scope: &Scope, base_rows: &[R]) -> Result<bool, Error> {
    let Scope::Partial(p) = scope else {
        return Ok(false);
    };
    let held = base_rows
        .iter()
        .find(|r| r.get(0) == Some("k"))
        .and_then(|r| r.get(1))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            Error::database("reading the catalog failed: no count of what the roles hold")
        })?;
    Ok(held > 0 || !p.relations.is_empty() || !p.regex_schemas.is_empty())
}

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

/// Adds to `snapshot` what the roles `desired` retires own and hold in
/// every database (`pg_shdepend`), when it retires any: one more round
/// trip then, none otherwise.
pub fn read_dependencies(
    client: &mut impl GenericClient,
    snapshot: &mut Snapshot,
    desired: &pgsr_planner::desired::Desired,
) -> Result<(), Error> {
    let (names, pattern) = desired.retiring();
    if names.is_empty() && pattern.is_none() {
        return Ok(());
    }
    let rows = query_typed(
        client,
        "SELECT r.rolname::text, coalesce(d.datname::text, ''),                 count(*) FILTER (WHERE s.deptype = 'o')::int8,                 count(*) FILTER (WHERE s.deptype <> 'o')::int8          FROM pg_shdepend s          JOIN pg_roles r ON s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid          LEFT JOIN pg_database d ON d.oid = s.dbid          WHERE s.deptype IN ('o', 'a', 'r', 'i')            AND (r.rolname = ANY($1) OR ($2::text IS NOT NULL AND r.rolname ~ $2))          GROUP BY 1, 2",
        &[
            (&names, PgType::TEXT_ARRAY),
            (&pattern, PgType::TEXT),
        ],
    )?;
    snapshot.dependencies = rows
        .iter()
        .map(|row| Dependencies {
            role: row.get(0),
            database: row.get(1),
            owned: row.get::<_, i64>(2) as u64,
            privileges: row.get::<_, i64>(3) as u64,
        })
        .collect();
    snapshot.dependencies.sort();
    Ok(())
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
/// A partial scope that names no object is read in two statements, the
/// second sent only when it has something to read: the first reads the
/// roles, memberships, databases, schemas and default privileges, and
/// counts what the scope's roles hold in this database; the second reads
/// the objects (relations, routines, types, …) they hold. A sync of a role
/// that holds no object in the database and is granted none by name (such
/// as `database_connect` and `role_membership` only) reads no object
/// catalog at all, which in a new connection saves most of the cost of the
/// read. The second statement runs in the same transaction, after the
/// first: under the advisory lock when the first ran under it. A scope
/// that names objects reads them anyway: in the first statement, one
/// round trip.
pub(crate) fn read_prepared(
    session: &mut Session,
    scope: &Scope,
    before: &[&str],
) -> Result<Read, Error> {
    let first = first_parts(scope);
    let (sql, skip) = session.prepared.statement(scope, first, before);
    let (mut results, mut rows) = send(&mut **session, &sql, skip + before.len())?;
    results.drain(..skip);
    session.prepared.made(scope, first);
    let mut round_trips = 1;
    if first == Parts::Base && needs_objects(scope, &rows)? {
        let (sql, skip) = session.prepared.statement(scope, Parts::Objects, &[]);
        let (_, more) = send(&mut **session, &sql, skip)?;
        session.prepared.made(scope, Parts::Objects);
        rows.extend(more);
        round_trips += 1;
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

/// Which parts of the catalog a statement reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Parts {
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
pub(super) enum Args {
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
