//! Applying a plan: validated before connecting, run under the advisory
//! lock, refused when the catalog changed since planning, all in one
//! transaction.

use crate::connect::{describe, Session};
use crate::inspect::read;
use crate::password::{self, Resolver};
use crate::validate::{validate_script, Effect, ValidatedStatement};
use crate::{Error, ErrorKind};
use pgsr_planner::script::{self, Header};
use pgsr_planner::snapshot::{self, Snapshot};
use postgres::{GenericClient, Transaction};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Statements sent to the server in one round trip, at most this many bytes.
const BATCH_BYTES: usize = 256 * 1024;

/// A script that passed validation: safe to send.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub header: Header,
    pub statements: Vec<ValidatedStatement>,
    /// Whether the script was proven to be the one reviewed: signed with
    /// the plan key, or its checksum approved.
    pub reviewed: bool,
}

/// What proves a script is the one that was reviewed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trust<'a> {
    /// The plan key: the script must carry its signature.
    pub key: Option<&'a [u8]>,
    /// The checksum a reviewer approved (`sha256:…`).
    pub expect_checksum: Option<&'a str>,
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

/// Checks a script without touching any database: header, checksum,
/// signature (with a key) or approved checksum, and that every statement
/// has a form the planner writes, as many of each kind as the header says.
pub fn prepare(text: &str, trust: &Trust) -> Result<Prepared, Error> {
    let parsed = script::parse(text).map_err(|e| Error::usage(e.to_string()))?;
    if let Some(key) = trust.key {
        parsed
            .check_signature(key)
            .map_err(|e| Error::usage(e.to_string()))?;
    }
    if let Some(expected) = trust.expect_checksum {
        if parsed.header.checksum != expected {
            return Err(Error::usage(format!(
                "the plan's checksum is {}, not the approved {}: this is not the plan that was reviewed",
                parsed.header.checksum,
                crate::validate::shown(expected)
            )));
        }
    }
    let statements = validate_script(&parsed).map_err(|e| Error::usage(e.to_string()))?;
    Ok(Prepared {
        header: parsed.header,
        statements,
        reviewed: trust.key.is_some() || trust.expect_checksum.is_some(),
    })
}

/// Where progress goes: called with (statements done, total).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Applies a prepared script: BEGIN, lock, check freshness, run, COMMIT.
/// `planned_from`, when given, is the snapshot the plan was made from; a
/// stale plan then reports what changed.
pub fn apply(
    session: &mut Session,
    prepared: &Prepared,
    planned_from: Option<&Snapshot>,
    passwords: Resolver,
    progress: Progress,
) -> Result<ApplyReport, Error> {
    let started = Instant::now();
    let header = &prepared.header;
    // Secrets are read before the lock is taken: a missing one fails fast.
    let secrets = password::resolve(&header.passwords, passwords)?;
    let version = session.server_version_num();
    let mut tx = session
        .transaction()
        .map_err(|e| Error::database(format!("cannot begin: {}", describe(&e))))?;
    // The lock, then the catalog as it is under the lock: one round trip.
    let lock = format!("SELECT pg_advisory_xact_lock({})", header.lock_key);
    let live = read(&mut tx, version, &header.scope, &[&lock], &[])?.snapshot;
    check_fresh(header, &live, planned_from)?;
    crate::power::check(
        &mut tx,
        &prepared.statements,
        &header.connecting_role,
        &header.power,
        prepared.reviewed,
    )?;
    let filled = password::statements(
        &mut tx,
        live.server_version_num,
        &header.passwords,
        &secrets,
    )?;
    let round_trips = run(&mut tx, &prepared.statements, &filled, progress)?;
    commit(tx)?;
    Ok(ApplyReport {
        statements: prepared.statements.len(),
        // BEGIN, the lock with the catalog, and COMMIT (the power check
        // and passwords add theirs only when the plan has such statements).
        round_trips: round_trips + 3,
        elapsed: started.elapsed(),
    })
}

fn check_fresh(
    header: &Header,
    live: &Snapshot,
    planned_from: Option<&Snapshot>,
) -> Result<(), Error> {
    if live.connecting_role.name != header.connecting_role {
        return Err(Error {
            kind: ErrorKind::Usage,
            message: format!(
                "the plan was made for connecting role {:?} but this connection is {:?}: connect as that role, or plan again",
                header.connecting_role, live.connecting_role.name
            ),
        });
    }
    if live.database.name != header.database {
        return Err(Error {
            kind: ErrorKind::Usage,
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
///
/// A password statement is sent alone, as `filled` holds it (with its
/// verifier), so that no other statement's failure, which the server logs
/// with the whole batch, can carry the verifier; errors show the plan's
/// text (`:'password_N'`), never the verifier.
pub(crate) fn run(
    tx: &mut impl GenericClient,
    statements: &[ValidatedStatement],
    filled: &BTreeMap<String, String>,
    progress: Progress,
) -> Result<usize, Error> {
    let mut round_trips = 0;
    let mut done = 0;
    for batch in batches(statements) {
        round_trips += 1;
        if let [one] = batch {
            if let Effect::SetPassword { variable, .. } = &one.effect {
                let sql = filled.get(variable).ok_or_else(|| {
                    Error::usage(format!("line {}: no password for :'{variable}'", one.line))
                })?;
                tx.batch_execute(sql).map_err(|e| {
                    failed(
                        &e,
                        format!(
                            "statement at line {} failed: {}: {}",
                            one.line,
                            describe(&e),
                            one.sql
                        ),
                    )
                })?;
                done += 1;
                progress(done, statements.len());
                continue;
            }
        }
        let mut sql = String::from("SAVEPOINT pgsr_batch;\n");
        for s in batch {
            sql.push_str(&s.sql);
            sql.push_str(";\n");
        }
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
                            s.sql
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
    tx.commit().map_err(|e| commit_failed(&e))
}

pub(crate) fn commit_failed(e: &postgres::Error) -> Error {
    if e.as_db_error().is_some() {
        Error::database(format!(
            "COMMIT failed: {}; nothing was applied",
            describe(e)
        ))
    } else {
        Error::database(format!(
            "the connection was lost during COMMIT ({}): the plan may or may not have been applied; run `pgsr plan` to see",
            describe(e)
        ))
    }
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

/// Consecutive statements of at most [`BATCH_BYTES`]; a password
/// statement is a batch of its own.
fn batches(statements: &[ValidatedStatement]) -> Vec<&[ValidatedStatement]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, s) in statements.iter().enumerate() {
        let alone = matches!(s.effect, Effect::SetPassword { .. });
        if i > start && (alone || bytes + s.sql.len() > BATCH_BYTES) {
            out.push(&statements[start..i]);
            start = i;
            bytes = 0;
        }
        if alone {
            out.push(&statements[i..=i]);
            start = i + 1;
            continue;
        }
        bytes += s.sql.len() + 2;
    }
    if start < statements.len() {
        out.push(&statements[start..]);
    }
    out
}
