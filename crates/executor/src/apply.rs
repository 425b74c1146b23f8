//! Applying a plan: validated before connecting, run under the advisory
//! lock, refused when the catalog changed since planning, all in one
//! transaction.

use crate::connect::{describe, Session};
use crate::inspect::read;
use crate::password::{self, Resolver};
use crate::validate::{validate_script, Effect, ValidatedStatement};
use crate::wait::{watched, Wait, Watch};
use crate::{Error, ErrorKind};
use pgsr_planner::plan::Part;
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

impl Trust<'_> {
    /// Checks a script's signature with the key, when there is one
    /// (`signed` checks it), and its checksum against the approved one.
    pub(crate) fn check(
        &self,
        checksum: &str,
        signed: impl FnOnce(&[u8]) -> Result<(), script::ScriptError>,
    ) -> Result<(), Error> {
        if let Some(key) = self.key {
            signed(key).map_err(|e| Error::usage(e.to_string()))?;
        }
        if let Some(expected) = self.expect_checksum {
            if checksum != expected {
                return Err(Error::usage(format!(
                    "the plan's checksum is {checksum}, not the approved {}: this is not the plan that was reviewed",
                    crate::validate::shown(expected)
                )));
            }
        }
        Ok(())
    }
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
    trust.check(&parsed.header.checksum, |key| parsed.check_signature(key))?;
    let statements = validate_script(&parsed).map_err(|e| Error::usage(e.to_string()))?;
    Ok(Prepared {
        header: parsed.header,
        statements,
        reviewed: trust.key.is_some() || trust.expect_checksum.is_some(),
    })
}

/// Applies a prepared script: BEGIN, lock, check freshness, run, COMMIT.
/// `planned_from`, when given, is the snapshot the plan was made from; a
/// stale plan then reports what changed.
pub fn apply(
    session: &mut Session,
    prepared: &Prepared,
    planned_from: Option<&Snapshot>,
    passwords: Resolver,
    watch: &mut Watch,
) -> Result<ApplyReport, Error> {
    let started = Instant::now();
    let header = &prepared.header;
    // Secrets are read before the lock is taken: a missing one fails fast.
    let secrets = password::resolve(&header.passwords, passwords)?;
    let version = session.server_version_num();
    let mut tx = session
        .transaction()
        .map_err(|e| Error::database(format!("cannot begin: {}", describe(&e))))?;
    let pid = lock(&mut tx, header.lock_key, watch)?;
    // The catalog as it is under the lock: one statement, one round trip.
    let live = read(&mut tx, version, &header.scope, &[], &[])?.snapshot;
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
    let round_trips = run(&mut tx, pid, &prepared.statements, &filled, watch)?;
    commit(tx)?;
    Ok(ApplyReport {
        statements: prepared.statements.len(),
        // BEGIN, the lock (its settings, then the lock), the catalog, and
        // COMMIT (the power check and passwords add theirs only when the
        // plan has such statements).
        round_trips: round_trips + 5,
        elapsed: started.elapsed(),
    })
}

/// `pg_advisory_xact_lock(key)`, held until the transaction ends, waited
/// for at most `--lock-timeout`: `lock_timeout` is set for that statement
/// alone (and `statement_timeout` lifted), then put back as it was. Returns
/// the backend's pid, for the watcher.
pub(crate) fn lock(tx: &mut impl GenericClient, key: i64, watch: &Watch) -> Result<i32, Error> {
    use postgres::types::Type;
    let limit = watch.timeouts.advisory_lock;
    let fail = |e: postgres::Error| {
        Error::database(format!("cannot take advisory lock {key}: {}", describe(&e)))
    };
    // A materialized CTE runs first: the settings are read before they
    // are changed.
    let before = tx
        .query_typed_one(
            "WITH before AS MATERIALIZED ( \
                 SELECT pg_catalog.pg_backend_pid() AS pid, \
                        pg_catalog.current_setting('lock_timeout') AS lock_timeout, \
                        pg_catalog.current_setting('statement_timeout') AS statement_timeout) \
             SELECT pid, lock_timeout, statement_timeout, \
                    pg_catalog.set_config('lock_timeout', $1, true), \
                    pg_catalog.set_config('statement_timeout', '0', true) \
             FROM before",
            &[(&crate::wait::millis(limit), Type::TEXT)],
        )
        .map_err(fail)?;
    let (pid, lock_timeout, statement_timeout): (i32, String, String) =
        (before.get(0), before.get(1), before.get(2));
    let (taken, wait) = watched(watch, pid, limit, || {
        tx.query_typed(
            "WITH taken AS MATERIALIZED (SELECT pg_catalog.pg_advisory_xact_lock($1)) \
             SELECT pg_catalog.set_config('lock_timeout', $2, true), \
                    pg_catalog.set_config('statement_timeout', $3, true) \
             FROM taken",
            &[
                (&key, Type::INT8),
                (&lock_timeout, Type::TEXT),
                (&statement_timeout, Type::TEXT),
            ],
        )
    });
    match taken {
        Ok(_) => Ok(pid),
        Err(e) if is_lock_timeout(&e) => {
            let held = wait
                .map(|w| w.holders.join(", "))
                .filter(|h| !h.is_empty())
                .map(|h| format!(", held by {h}"))
                .unwrap_or_default();
            Err(Error::database(format!(
                "timed out after {} waiting for advisory lock {key}{held} (--lock-timeout): another pgsr or pg-sync-roles run holds it; nothing was applied",
                limit.map(crate::wait::shown).unwrap_or_default()
            )))
        }
        Err(e) => Err(fail(e)),
    }
}

/// `lock_timeout` ran out.
fn is_lock_timeout(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

/// `statement_timeout` ran out (or the statement was cancelled).
fn is_cancelled(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::QUERY_CANCELED)
}

fn check_fresh(
    header: &Header,
    live: &Snapshot,
    planned_from: Option<&Snapshot>,
) -> Result<(), Error> {
    // Another role or another database is no change of the catalog:
    // planning again would plan for this one, which is not what was
    // reviewed.
    if live.connecting_role.name != header.connecting_role {
        return Err(Error::usage(format!(
            "the plan was made for connecting role {:?} but this connection is {:?}: connect as that role, or plan again",
            header.connecting_role, live.connecting_role.name
        )));
    }
    if live.database.name != header.database || live.database.oid != header.database_oid {
        return Err(Error::usage(format!(
            "the plan was made for database {:?} (oid {}) but this connection is to {:?} (oid {}): connect to that database, or plan for this one",
            header.database, header.database_oid, live.database.name, live.database.oid
        )));
    }
    // A database's part of a multi-database plan runs after the shared
    // part: only the database's own objects are compared. The last part
    // drops retired roles, which PostgreSQL refuses while anything
    // depends on them.
    let now = match header.part {
        Part::Database => live.database_fingerprint(),
        Part::Last => return Ok(()),
        Part::Whole | Part::Shared => live.fingerprint.clone(),
    };
    if now != header.fingerprint {
        let mut message = format!(
            "the catalog changed since the plan was made (planned from {}, now {now}): nothing was applied; plan again",
            header.fingerprint
        );
        let mut details = Vec::new();
        match planned_from {
            Some(old) if old.fingerprint == header.fingerprint => {
                details = snapshot::summarize(old, live)
                    .into_iter()
                    .map(|line| format!("changed since the plan: {line}"))
                    .collect();
            }
            Some(old) => details.push(format!(
                "the snapshot given is not the one the plan was made from (its fingerprint is {}): it cannot show what changed",
                old.fingerprint
            )),
            None => message.push_str(
                " (with --snapshot and the snapshot the plan was made from, apply shows what changed)",
            ),
        }
        return Err(Error {
            kind: ErrorKind::Stale,
            message,
            details,
        });
    }
    Ok(())
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
    pid: i32,
    statements: &[ValidatedStatement],
    filled: &BTreeMap<String, String>,
    watch: &mut Watch,
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
                let (result, wait) =
                    watched(watch, pid, watch.timeouts.lock, || tx.batch_execute(sql));
                result.map_err(|e| {
                    let which = format!("the statement at line {}", one.line);
                    timed_out(&e, wait.as_ref(), watch, &which).unwrap_or_else(|| {
                        failed(
                            &e,
                            format!(
                                "statement at line {} failed: {}: {}",
                                one.line,
                                describe(&e),
                                one.sql
                            ),
                        )
                    })
                })?;
                done += 1;
                (watch.progress)(done, statements.len());
                continue;
            }
        }
        let mut sql = String::from("SAVEPOINT pgsr_batch;\n");
        // Where each statement starts, in characters (as the server counts
        // an error's position).
        let mut starts = Vec::with_capacity(batch.len());
        let mut chars = sql.chars().count();
        for s in batch {
            starts.push(chars);
            sql.push_str(&s.sql);
            sql.push_str(";\n");
            chars += s.sql.chars().count() + 2;
        }
        let (result, wait) = watched(watch, pid, watch.timeouts.lock, || tx.batch_execute(&sql));
        if let Err(e) = result {
            if e.is_closed() || e.as_db_error().is_none() {
                return Err(lost(&e));
            }
            let which = match (batch.first(), batch.last()) {
                (Some(a), Some(b)) if a.line != b.line => {
                    format!("the statements at lines {} to {}", a.line, b.line)
                }
                (Some(a), _) => format!("the statement at line {}", a.line),
                _ => "a statement".to_owned(),
            };
            // Replaying would wait as long again: say what was waited for.
            if let Some(error) = timed_out(&e, wait.as_ref(), watch, &which) {
                return Err(error);
            }
            if let Some(s) = syntax_error_at(&e, &starts).map(|i| &batch[i]) {
                // The server parses the whole batch before it runs any of
                // it: nothing ran, not even the savepoint.
                return Err(Error::database(format!(
                    "syntax error in the statement at line {}: {}: {}; nothing was applied",
                    s.line,
                    describe(&e),
                    s.sql
                )));
            }
            tx.batch_execute("ROLLBACK TO SAVEPOINT pgsr_batch")
                .map_err(|r| {
                    if r.as_db_error().is_some() {
                        // The batch failed before its savepoint was made.
                        failed(&e, format!("a batch failed: {}", describe(&e)))
                    } else {
                        lost(&r)
                    }
                })?;
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
        (watch.progress)(done, statements.len());
    }
    Ok(round_trips)
}

/// A timeout, named: `lock_timeout` with what was waited for (when the
/// watcher saw it; otherwise the statements are replayed to find the one
/// that waits), or `statement_timeout`. `which` says which statements of
/// the plan ran.
fn timed_out(
    e: &postgres::Error,
    wait: Option<&Wait>,
    watch: &Watch,
    which: &str,
) -> Option<Error> {
    let limit = |d: Option<Duration>| d.map(crate::wait::shown).unwrap_or_default();
    if is_lock_timeout(e) {
        let wait = wait?;
        return Some(Error::database(format!(
            "{which} timed out after {} waiting for {wait} (--object-lock-timeout): nothing was applied",
            limit(watch.timeouts.lock)
        )));
    }
    if is_cancelled(e) {
        let by_timeout = e
            .as_db_error()
            .is_some_and(|db| db.message().contains("statement timeout"));
        let why = match watch.timeouts.statement {
            Some(d) if by_timeout => format!(" (--statement-timeout {})", crate::wait::shown(d)),
            _ => String::new(),
        };
        return Some(Error::database(format!(
            "{which} {} cancelled: {}{why}; nothing was applied",
            if which.starts_with("the statements") {
                "were"
            } else {
                "was"
            },
            describe(e)
        )));
    }
    None
}

/// The statement of a batch (by index; `starts` holds where each begins,
/// in characters) that a syntax error points at.
fn syntax_error_at(e: &postgres::Error, starts: &[usize]) -> Option<usize> {
    let db = e.as_db_error()?;
    if *db.code() != postgres::error::SqlState::SYNTAX_ERROR {
        return None;
    }
    let postgres::error::ErrorPosition::Original(at) = db.position()? else {
        return None;
    };
    // 1-based; a position in the savepoint before the first statement is
    // none of them.
    let at = (*at as usize).checked_sub(1)?;
    starts.partition_point(|&start| start <= at).checked_sub(1)
}

pub(crate) fn commit(tx: Transaction) -> Result<(), Error> {
    tx.commit().map_err(|e| commit_failed(&e))
}

pub(crate) fn commit_failed(e: &postgres::Error) -> Error {
    // A server error that ends the session (FATAL, such as the backend
    // being terminated) can come after the commit record was written: only
    // an error the session survives says for sure that nothing was applied.
    let refused = e.as_db_error().is_some_and(|db| {
        let code = db.code().code();
        !matches!(db.severity(), "FATAL" | "PANIC")
            && !code.starts_with("57P")
            && !code.starts_with("08")
    });
    if refused {
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
            details: Vec::new(),
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
