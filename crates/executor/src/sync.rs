//! `sync`: inspect and plan without a lock; when there are changes, plan
//! again under the lock and apply, in one transaction.

use crate::apply::{commit, lock, run};
use crate::inspect::{inspect_scope, read_snapshot_in};
use crate::password::{self, Resolver};
use crate::validate::{Effect, ValidatedStatement};
use crate::wait::Watch;
use crate::{Error, ErrorKind};
use pgsr_planner::desired::Desired;
use pgsr_planner::plan::{
    password_slots, plan, render, statements, Passwords, Plan, PlanError, PlanOptions,
};
use pgsr_planner::script::StatementKind;
use pgsr_planner::snapshot::Scope;
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
/// Other pgsr runs wait for the advisory lock, but other sessions do not:
/// when one drops an object the plan names, or changes the same catalog row
/// (a GRANT on the same table), after sync planned under the lock, a
/// statement fails. Nothing was applied then, and sync plans again, up to
/// [`ATTEMPTS`] times.
pub fn sync(
    client: &mut Client,
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
    client: &mut Client,
    desired: &Desired,
    sync_options: &SyncOptions,
    passwords: Resolver,
    watch: &mut Watch,
) -> Result<SyncOutcome, SyncError> {
    let started = Instant::now();
    let mut options = sync_options.plan.clone();
    let key = sync_options.lock_key.unwrap_or(desired.lock_key);
    let scope = scope(desired, &options, sync_options.full_scope);
    let snapshot = inspect_scope(client, &scope)?;
    options.passwords = if sync_options.reset_passwords {
        Passwords::Unknown
    } else {
        password::knowledge(client, &snapshot, desired, passwords)?
    };
    let options = &options;
    let first = plan(&snapshot, desired, options).map_err(SyncError::Plan)?;
    if first.is_empty() || sync_options.dry_run {
        let script = render(&with_key(first.clone(), key));
        return Ok(SyncOutcome {
            plan: first,
            script,
            applied: false,
            statements: 0,
            elapsed: started.elapsed(),
        });
    }
    let mut tx = client
        .transaction()
        .map_err(|e| Error::database(format!("cannot begin: {}", crate::connect::describe(&e))))?;
    let pid = lock(&mut tx, key, watch)?;
    // Others may have changed the catalog while we waited: plan again.
    let fresh = with_key(
        plan(&read_snapshot_in(&mut tx, &scope)?, desired, options).map_err(SyncError::Plan)?,
        key,
    );
    let text = render(&fresh);
    let statements = located_statements(&fresh, &text);
    let slots = password_slots(&fresh);
    let secrets = password::resolve(&slots, passwords)?;
    let filled = password::statements(&mut tx, fresh.server_version_num, &slots, &secrets)?;
    run(&mut tx, pid, &statements, &filled, watch)?;
    commit(tx)?;
    Ok(SyncOutcome {
        statements: statements.len(),
        plan: fresh,
        script: text,
        applied: true,
        elapsed: started.elapsed(),
    })
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
        Scope::Partial(pgsr_planner::plan::scope_for(desired))
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
