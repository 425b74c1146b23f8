//! Applying a plan: validated before connecting, run under the advisory
//! lock, refused when the catalog changed since planning, all in one
//! transaction.

use crate::connect::describe;
use crate::inspect::read_snapshot_in;
use crate::validate::{validate_statements, ValidatedStatement};
use crate::{Error, ErrorKind};
use pgsr_planner::script::{self, Header};
use pgsr_planner::snapshot::{self, Snapshot};
use postgres::{Client, Transaction};
use std::time::{Duration, Instant};

/// Statements sent to the server in one round trip, at most this many bytes.
const BATCH_BYTES: usize = 256 * 1024;

/// A script that passed validation: safe to send.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub header: Header,
    pub statements: Vec<ValidatedStatement>,
}

impl Prepared {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

/// What an apply did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyReport {
    pub statements: usize,
    pub round_trips: usize,
    pub elapsed: Duration,
}

/// Checks a script without touching any database: header, checksum, and
/// that every statement is role or privilege DDL of the planner's shapes.
pub fn prepare(text: &str) -> Result<Prepared, Error> {
    let parsed = script::parse(text).map_err(|e| Error::usage(e.to_string()))?;
    let statements = validate_statements(parsed.body, parsed.body_first_line)
        .map_err(|e| Error::usage(e.to_string()))?;
    if statements.len() != parsed.header.statement_count {
        return Err(Error::usage(format!(
            "the header announces {} statements but the script holds {}",
            parsed.header.statement_count,
            statements.len()
        )));
    }
    Ok(Prepared {
        header: parsed.header,
        statements,
    })
}

/// Where progress goes: called with (statements done, total).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Applies a prepared script: BEGIN, lock, check freshness, run, COMMIT.
/// `planned_from`, when given, is the snapshot the plan was made from; a
/// stale plan then reports what changed.
pub fn apply(
    client: &mut Client,
    prepared: &Prepared,
    planned_from: Option<&Snapshot>,
    progress: Progress,
) -> Result<ApplyReport, Error> {
    let started = Instant::now();
    let mut tx = client
        .transaction()
        .map_err(|e| Error::database(format!("cannot begin: {}", describe(&e))))?;
    lock(&mut tx, prepared.header.lock_key)?;
    let live = read_snapshot_in(&mut tx, &prepared.header.scope)?;
    check_fresh(&prepared.header, &live, planned_from)?;
    let round_trips = run(&mut tx, &prepared.statements, progress)?;
    commit(tx)?;
    Ok(ApplyReport {
        statements: prepared.statements.len(),
        round_trips: round_trips + 4,
        elapsed: started.elapsed(),
    })
}

/// `pg_advisory_xact_lock(key)`: held until the transaction ends.
pub(crate) fn lock(tx: &mut Transaction, key: i64) -> Result<(), Error> {
    // One round trip: typed parameters need no prepared statement.
    tx.query_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[(&key, postgres::types::Type::INT8)],
    )
    .map(|_| ())
    .map_err(|e| Error::database(format!("cannot take advisory lock {key}: {}", describe(&e))))
}

fn check_fresh(
    header: &Header,
    live: &Snapshot,
    planned_from: Option<&Snapshot>,
) -> Result<(), Error> {
    if live.connecting_role.name != header.connecting_role {
        return Err(Error {
            kind: ErrorKind::Stale,
            message: format!(
                "the plan was made for connecting role {:?} but this connection is {:?}: connect as that role, or plan again",
                header.connecting_role, live.connecting_role.name
            ),
        });
    }
    if live.database.name != header.database {
        return Err(Error {
            kind: ErrorKind::Stale,
            message: format!(
                "the plan was made for database {:?} but this connection is to {:?}",
                header.database, live.database.name
            ),
        });
    }
    if live.fingerprint != header.fingerprint {
        let mut message = format!(
            "the catalog changed since the plan was made (planned from {}, now {}): nothing was applied; plan again",
            header.fingerprint, live.fingerprint
        );
        if let Some(old) = planned_from.filter(|o| o.fingerprint == header.fingerprint) {
            message.push('\n');
            message.push_str(&snapshot_diff(old, live));
        }
        return Err(Error {
            kind: ErrorKind::Stale,
            message,
        });
    }
    Ok(())
}

/// A unified diff of two snapshots' JSON: one line per changed object.
pub fn snapshot_diff(old: &Snapshot, new: &Snapshot) -> String {
    let old = String::from_utf8(snapshot::to_json(old)).expect("JSON is UTF-8");
    let new = String::from_utf8(snapshot::to_json(new)).expect("JSON is UTF-8");
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(1)
        .header("snapshot the plan was made from", "catalog now")
        .to_string()
}

/// Runs statements in batches of a few hundred kilobytes. When a batch
/// fails, its statements are replayed one by one from a savepoint to name
/// the failing statement; the caller's transaction is then rolled back.
pub(crate) fn run(
    tx: &mut Transaction,
    statements: &[ValidatedStatement],
    progress: Progress,
) -> Result<usize, Error> {
    let mut round_trips = 0;
    let mut done = 0;
    for batch in batches(statements) {
        let mut sql = String::from("SAVEPOINT pgsr_batch;\n");
        for s in batch {
            sql.push_str(&s.sql);
            sql.push_str(";\n");
        }
        round_trips += 1;
        if let Err(e) = tx.batch_execute(&sql) {
            if e.is_closed() || e.as_db_error().is_none() {
                return Err(lost(&e));
            }
            tx.batch_execute("ROLLBACK TO SAVEPOINT pgsr_batch")
                .map_err(|e| lost(&e))?;
            for s in batch {
                if let Err(e) = tx.batch_execute(&s.sql) {
                    return Err(failed(
                        &e,
                        format!(
                            "statement at line {} failed: {}: {}",
                            s.line,
                            describe(&e),
                            redact(&s.sql)
                        ),
                    ));
                }
            }
            return Err(failed(&e, format!("a batch failed: {}", describe(&e))));
        }
        done += batch.len();
        progress(done, statements.len());
    }
    Ok(round_trips)
}

pub(crate) fn commit(tx: Transaction) -> Result<(), Error> {
    tx.commit().map_err(|e| {
        if e.as_db_error().is_some() {
            Error::database(format!("COMMIT failed: {}; nothing was applied", describe(&e)))
        } else {
            Error::database(format!(
                "the connection was lost during COMMIT ({}): the plan may or may not have been applied; run `pgsr plan` to see",
                describe(&e)
            ))
        }
    })
}

/// A statement failed: stale when the catalog changed under the apply
/// (the plan no longer fits it, and planning again will), else an error.
fn failed(e: &postgres::Error, what: String) -> Error {
    if changed_underneath(e) {
        Error {
            kind: ErrorKind::Stale,
            message: format!(
                "{what}: the catalog changed while the plan was applied; nothing was applied; plan again"
            ),
        }
    } else {
        Error::database(format!("{what}; nothing was applied"))
    }
}

/// Whether an error means that another transaction changed the catalog
/// after the freshness check: an object the plan names was dropped or
/// created meanwhile, another transaction changed the same catalog row
/// (GRANT takes no lock on its object, so two of them on one object fail
/// with "tuple concurrently updated"), or a deadlock.
pub(crate) fn changed_underneath(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    let Some(db) = e.as_db_error() else {
        return false;
    };
    let code = db.code();
    [
        SqlState::UNDEFINED_TABLE,
        SqlState::UNDEFINED_OBJECT,
        SqlState::UNDEFINED_FUNCTION,
        SqlState::INVALID_SCHEMA_NAME,
        SqlState::INVALID_CATALOG_NAME,
        SqlState::DUPLICATE_OBJECT,
        SqlState::DUPLICATE_SCHEMA,
        SqlState::UNIQUE_VIOLATION,
        SqlState::DEPENDENT_OBJECTS_STILL_EXIST,
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
    ]
    .contains(code)
        || (*code == SqlState::INTERNAL_ERROR
            && (db.message().starts_with("tuple concurrently")
                || db.message().starts_with("cache lookup failed")))
}

fn lost(e: &postgres::Error) -> Error {
    Error::database(format!(
        "the connection was lost while applying ({}): nothing was applied",
        describe(e)
    ))
}

fn batches(statements: &[ValidatedStatement]) -> Vec<&[ValidatedStatement]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, s) in statements.iter().enumerate() {
        if i > start && bytes + s.sql.len() > BATCH_BYTES {
            out.push(&statements[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += s.sql.len() + 2;
    }
    if start < statements.len() {
        out.push(&statements[start..]);
    }
    out
}

/// A statement for an error message: a password verifier is not printed.
fn redact(sql: &str) -> String {
    match sql.find(" PASSWORD '") {
        Some(i) => {
            let rest = &sql[i + " PASSWORD '".len()..];
            let end = rest.find('\'').map_or(rest.len(), |e| e + 1);
            format!("{} PASSWORD '…'{}", &sql[..i], &rest[end..])
        }
        None => sql.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("ALTER ROLE a WITH LOGIN PASSWORD 'SCRAM-SHA-256$x' VALID UNTIL 'infinity'"),
            "ALTER ROLE a WITH LOGIN PASSWORD '…' VALID UNTIL 'infinity'"
        );
        assert_eq!(redact("GRANT a TO b"), "GRANT a TO b");
    }
}
