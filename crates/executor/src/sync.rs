//! `sync`: read the catalog and plan, under the advisory lock when it is
//! free; when there are changes, apply them in the same transaction (after
//! waiting for the lock and reading again if it was not free).

use crate::apply::{commit_failed, lock, run};
use crate::connect::Session;
use crate::inspect::{inspect_scope, read_prepared};
use crate::password::{self, Resolver};
use crate::validate::{Effect, ValidatedStatement};
use crate::wait::Watch;
use crate::{Error, ErrorKind};
use pgsr_planner::desired::Desired;
use pgsr_planner::plan::{
    password_slots, plan, render, statements, Passwords, Plan, PlanError, PlanOptions,
};
use pgsr_planner::script::StatementKind;
use pgsr_planner::snapshot::{Scope, Snapshot};
use postgres::Client;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct SyncOutcome {
    /// The plan that was applied (or would be, for a dry run); empty when
    /// nothing had to change.
    pub plan: Plan,
    pub script: String,
    pub applied: bool,
    pub statements: usize,
    /// Queries sent after connecting (each one round trip, a batch of
    /// statements counting once).
    pub round_trips: usize,
    pub elapsed: Duration,
}

/// Why a sync failed: the desired state could not be planned (an error
/// that points into the desired file), or the database failed.
#[derive(Debug)]
pub enum SyncError {
    Plan(PlanError),
    Exec(Error),
}

impl From<Error> for SyncError {
    fn from(e: Error) -> SyncError {
        SyncError::Exec(e)
    }
}

/// How many times sync plans and applies when the catalog keeps changing
/// under it (see [`sync`]).
const ATTEMPTS: u32 = 10;

/// How to sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOptions {
    pub plan: PlanOptions,
    /// Overrides the desired file's `lock_key`.
    pub lock_key: Option<i64>,
    /// Plan and change nothing.
    pub dry_run: bool,
    /// Read the whole catalog rather than the desired file's scope.
    pub full_scope: bool,
    /// Set every declared password, even one known to be current.
    pub reset_passwords: bool,
}

/// Brings the catalog to the desired state.
///
/// One round trip begins a transaction, tries the advisory lock without
/// waiting (`pg_try_advisory_xact_lock`) and reads the catalog. With no
/// changes, the transaction ends: a sync that changes nothing never waits
/// for the lock. With changes and the lock taken, that read is the one the
/// plan is made from: it is one statement, so one snapshot, taken under
/// READ COMMITTED after the lock was granted, and a holder of the lock
/// releases it only after its commit is visible to new snapshots, so the
/// read saw every change of every earlier holder, and no later one can
/// change anything before this transaction ends. Reading again under the
/// lock would read the same. Only when the lock was busy does sync wait
/// for it and read again (one round trip) before planning what it applies.
///
/// Other pgsr runs wait for the advisory lock, but other sessions do not:
/// when one drops an object the plan names, or changes the same catalog row
/// (a GRANT on the same table), after sync planned under the lock, a
/// statement fails. Nothing was applied then, and sync plans again, up to
/// [`ATTEMPTS`] times.
pub fn sync(
    client: &mut Session,
    desired: &Desired,
    options: &SyncOptions,
    passwords: Resolver,
    watch: &mut Watch,
) -> Result<SyncOutcome, SyncError> {
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        match sync_once(client, desired, options, passwords, watch) {
            Err(SyncError::Exec(e)) if e.kind == ErrorKind::Stale => {
                if attempt == ATTEMPTS {
                    return Err(SyncError::Exec(Error::database(format!(
                        "the catalog kept changing while syncing (gave up after {ATTEMPTS} attempts): {}",
                        e.message
                    ))));
                }
                // A short pause that differs between processes, so that
                // syncs that collided do not collide again.
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos() as u64 % 50);
                std::thread::sleep(Duration::from_millis(50 * attempt as u64 + jitter));
                attempt += 1;
            }
            Ok(mut outcome) => {
                outcome.elapsed = started.elapsed();
                return Ok(outcome);
            }
            other => return other,
        }
    }
}

fn sync_once(
    session: &mut Session,
    desired: &Desired,
    sync_options: &SyncOptions,
    passwords: Resolver,
    watch: &mut Watch,
) -> Result<SyncOutcome, SyncError> {
    let started = Instant::now();
    let mut options = sync_options.plan.clone();
    let key = sync_options.lock_key.unwrap_or(desired.lock_key);
    let scope = scope(desired, &options, sync_options.full_scope);
    if sync_options.dry_run {
        let mut snapshot = inspect_scope(session, &scope)?;
        crate::inspect::read_dependencies(&mut **session, &mut snapshot, desired)?;
        options.passwords = knowledge(session, &snapshot, desired, sync_options, passwords)?;
        let plan = with_key(
            plan(&snapshot, desired, &options).map_err(SyncError::Plan)?,
            key,
        );
        return Ok(SyncOutcome {
            script: render(&plan),
            plan,
            applied: false,
            statements: 0,
            round_trips: 1 + usize::from(needs_knowledge(&snapshot, desired, sync_options)),
            elapsed: started.elapsed(),
        });
    }
    let mut tx = OpenTransaction {
        session,
        open: true,
    };
    let try_lock = match crate::inspect::scoped_read_settings(&scope) {
        Some(settings) => format!("SELECT pg_try_advisory_xact_lock({key}), {settings}"),
        None => format!("SELECT pg_try_advisory_xact_lock({key})"),
    };
    let first = read_prepared(tx.session, &scope, &["BEGIN", &try_lock])?;
    let mut round_trips = first.round_trips;
    let locked = first.before[1]
        .first()
        .and_then(|row| row.get(0))
        .is_some_and(|v| v == "t");
    let pid = tx.session.pid();
    let mut snapshot = first.snapshot;
    crate::inspect::read_dependencies(&mut **tx.session, &mut snapshot, desired)?;
    options.passwords = knowledge(tx.session, &snapshot, desired, sync_options, passwords)?;
    round_trips += usize::from(needs_knowledge(&snapshot, desired, sync_options));
    let options = &options;
    let first = plan(&snapshot, desired, options).map_err(SyncError::Plan)?;
    if first.is_empty() {
        tx.end("ROLLBACK")?;
        round_trips += 1;
        return Ok(SyncOutcome {
            script: render(&with_key(first.clone(), key)),
            plan: first,
            applied: false,
            statements: 0,
            round_trips,
            elapsed: started.elapsed(),
        });
    }
    let fresh = if locked {
        // Planned under the lock already (see `sync`).
        with_key(first, key)
    } else {
        // Another run holds the lock: wait for it (at most
        // `--lock-timeout`, the wait reported while it lasts; two round
        // trips), then read what that run left.
        lock(&mut **tx.session, key, watch)?;
        round_trips += 2;
        let mut again = read_prepared(tx.session, &scope, &[])?;
        crate::inspect::read_dependencies(&mut **tx.session, &mut again.snapshot, desired)?;
        round_trips += again.round_trips;
        with_key(
            plan(&again.snapshot, desired, options).map_err(SyncError::Plan)?,
            key,
        )
    };
    if fresh.is_empty() {
        // The run that held the lock did what this one was about to.
        tx.end("ROLLBACK")?;
        round_trips += 1;
        return Ok(SyncOutcome {
            script: render(&fresh),
            plan: fresh,
            applied: false,
            statements: 0,
            round_trips,
            elapsed: started.elapsed(),
        });
    }
    let text = render(&fresh);
    let statements = located_statements(&fresh, &text);
    let slots = password_slots(&fresh);
    let secrets = password::resolve(&slots, passwords)?;
    let filled = password::statements(
        &mut **tx.session,
        fresh.server_version_num,
        &slots,
        &secrets,
    )?;
    if !slots.is_empty() && fresh.server_version_num >= 160000 {
        round_trips += 1;
    }
    round_trips += run(&mut **tx.session, pid, &statements, &filled, watch)?;
    tx.end("COMMIT")?;
    round_trips += 1;
    Ok(SyncOutcome {
        statements: statements.len(),
        plan: fresh,
        script: text,
        applied: true,
        round_trips,
        elapsed: started.elapsed(),
    })
}

/// Whether [`knowledge`] asks the server.
fn needs_knowledge(snapshot: &Snapshot, desired: &Desired, options: &SyncOptions) -> bool {
    !options.reset_passwords
        && snapshot.connecting_role.superuser
        && desired.roles.iter().any(|r| {
            r.login
                .as_ref()
                .is_some_and(|l| l.password.reference().is_some())
        })
}

/// Which declared passwords are current, unless every one is to be set.
fn knowledge(
    client: &mut Client,
    snapshot: &Snapshot,
    desired: &Desired,
    options: &SyncOptions,
    passwords: Resolver,
) -> Result<Passwords, Error> {
    if options.reset_passwords {
        Ok(Passwords::Unknown)
    } else {
        password::knowledge(client, snapshot, desired, passwords)
    }
}

/// A transaction begun by hand, its BEGIN sent with the first read to save
/// a round trip: rolled back when dropped unless it was ended.
struct OpenTransaction<'a> {
    session: &'a mut Session,
    open: bool,
}

impl OpenTransaction<'_> {
    /// `COMMIT` or `ROLLBACK`.
    fn end(&mut self, how: &str) -> Result<(), Error> {
        self.open = false;
        let result = self.session.batch_execute(how);
        if how == "COMMIT" {
            result.map_err(|e| commit_failed(&e))
        } else {
            result.map_err(|e| {
                Error::database(format!("ROLLBACK failed: {}", crate::connect::describe(&e)))
            })
        }
    }
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if self.open && !self.session.is_closed() {
            let _ = self.session.batch_execute("ROLLBACK");
        }
    }
}

/// The plan's statements with their lines in its script, for error
/// messages. They come from the planner in this process, not from a file, so
/// they are not run through the validator again: the property tests prove
/// every statement the planner renders passes it, and `apply` validates
/// every script it is given.
fn located_statements(plan: &Plan, text: &str) -> Vec<ValidatedStatement> {
    let mut out = Vec::new();
    let mut slots = password_slots(plan).into_iter();
    let (mut offset, mut line) = (0, 1);
    for s in statements(plan) {
        let at = text[offset..].find(&s.sql).map_or(offset, |i| offset + i);
        line += text[offset..at].matches('\n').count();
        offset = at;
        // Password statements come in the order of the plan's slots.
        let effect = match s.kind {
            StatementKind::SetPassword => match slots.next() {
                Some(slot) => Effect::SetPassword {
                    role: slot.role,
                    variable: slot.variable,
                },
                None => Effect::None,
            },
            _ => Effect::None,
        };
        out.push(ValidatedStatement {
            line,
            sql: s.sql,
            kind: s.kind,
            effect,
        });
    }
    out
}

fn with_key(mut plan: Plan, key: i64) -> Plan {
    plan.lock_key = key;
    plan
}

/// What to read: only the part of the catalog `desired` can touch, unless a
/// full read is asked for or needed (`--drop-unused` must see every ACL).
pub fn scope(desired: &Desired, options: &PlanOptions, full_scope: bool) -> Scope {
    if full_scope || options.drop_unused {
        Scope::Full
    } else {
        pgsr_planner::plan::scope_for(desired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines sync reports are the lines the validator finds in the
    /// same script.
    #[test]
    fn statement_lines_match_the_validator() {
        let snapshot = pgsr_planner::snapshot::from_json(include_bytes!(
            "../../../fixtures/warehouse/snapshot.json"
        ))
        .unwrap();
        let desired = pgsr_planner::desired::parse(include_bytes!(
            "../../../fixtures/warehouse/analysts.yaml"
        ))
        .unwrap();
        let plan = plan(&snapshot, &desired, &PlanOptions::default()).unwrap();
        let text = render(&plan);
        let parsed = pgsr_planner::script::parse(&text).unwrap();
        let validated = crate::validate::validate_script(&parsed).unwrap();
        assert!(validated.len() > 10);
        let located = located_statements(&plan, &text);
        let lines = |v: &[ValidatedStatement]| -> Vec<(usize, String)> {
            v.iter().map(|s| (s.line, s.sql.clone())).collect()
        };
        assert_eq!(lines(&located), lines(&validated));
    }
}
