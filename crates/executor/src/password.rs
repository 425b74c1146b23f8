//! Passwords: read where the plan says, sent as SCRAM-SHA-256 verifiers
//! with a random salt and the server's iteration count, and compared with
//! the stored verifiers when the connecting role may read them.
//!
//! A plan names each password's source (`:'password_1'`, from an
//! environment variable, a file, or the desired file); the secret is read
//! only by the process that applies the plan, and only its verifier is
//! sent, in a statement of its own, so that no other statement's error
//! (which the server logs with its statement text) can carry it.

use crate::inspect::{query_typed, PgType};
use crate::Error;
use pgsr_planner::desired::{Desired, Secret};
use pgsr_planner::plan::{PasswordSlot, Passwords};
use pgsr_planner::quote::{quote_ident, quote_literal};
use pgsr_planner::scram;
use pgsr_planner::snapshot::Snapshot;
use postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet};

/// Reads the secret of a password slot: the caller's environment, files,
/// and desired file.
pub type Resolver<'a> = &'a dyn Fn(&PasswordSlot) -> Result<Secret, String>;

/// The secrets of `slots`, read before anything is sent to the server.
pub fn resolve(slots: &[PasswordSlot], resolver: Resolver) -> Result<Vec<Secret>, Error> {
    slots
        .iter()
        .map(|slot| {
            resolver(slot).map_err(|e| {
                Error::usage(format!(
                    "the password of {} ({}) cannot be read: {e}; nothing was applied",
                    quote_ident(&slot.role),
                    slot.variable
                ))
            })
        })
        .collect()
}

/// The statement that sets each slot's password, by variable: `ALTER ROLE
/// … WITH PASSWORD '<verifier>'`, the verifier salted afresh.
pub fn statements(
    client: &mut impl GenericClient,
    server_version_num: u32,
    slots: &[PasswordSlot],
    secrets: &[Secret],
) -> Result<BTreeMap<String, String>, Error> {
    if slots.is_empty() {
        return Ok(BTreeMap::new());
    }
    let iterations = iterations(client, server_version_num)?;
    let mut out = BTreeMap::new();
    for (slot, secret) in slots.iter().zip(secrets) {
        let mut salt = [0u8; scram::SALT_BYTES];
        getrandom::fill(&mut salt)
            .map_err(|e| Error::database(format!("cannot draw a random salt: {e}")))?;
        let verifier = scram::verifier(secret.expose(), &salt, iterations);
        out.insert(
            slot.variable.clone(),
            format!(
                "ALTER ROLE {} WITH PASSWORD {}",
                quote_ident(&slot.role),
                quote_literal(&verifier)
            ),
        );
    }
    Ok(out)
}

/// `scram_iterations` on PostgreSQL 16 and later (never fewer than
/// PostgreSQL's default), 4096 before.
fn iterations(client: &mut impl GenericClient, server_version_num: u32) -> Result<u32, Error> {
    if server_version_num < 160000 {
        return Ok(scram::DEFAULT_ITERATIONS);
    }
    let rows = query_typed(
        client,
        "SELECT current_setting('scram_iterations')::int4",
        &[],
    )?;
    let n: i32 = rows.first().map_or(0, |r| r.get(0));
    Ok(u32::try_from(n).unwrap_or(0).max(scram::DEFAULT_ITERATIONS))
}

/// The roles among `wanted` whose stored verifier is the verifier of the
/// wanted password. Only a superuser can read `pg_authid`; the caller asks
/// only then.
pub fn current(
    client: &mut impl GenericClient,
    wanted: &BTreeMap<String, Secret>,
) -> Result<BTreeSet<String>, Error> {
    if wanted.is_empty() {
        return Ok(BTreeSet::new());
    }
    let names: Vec<&str> = wanted.keys().map(String::as_str).collect();
    let rows = query_typed(
        client,
        "SELECT rolname::text, rolpassword FROM pg_authid \
         WHERE rolname = ANY($1) AND rolpassword IS NOT NULL",
        &[(&names, PgType::TEXT_ARRAY)],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let name: String = r.get(0);
            let stored: String = r.get(1);
            let secret = wanted.get(&name)?;
            scram::matches(&stored, secret.expose()).then_some(name)
        })
        .collect())
}

/// What can be known of `desired`'s passwords on this connection: as a
/// superuser, which are already current; otherwise nothing. A source that
/// cannot be read here counts as not current (its password is set).
pub fn knowledge(
    client: &mut impl GenericClient,
    snapshot: &Snapshot,
    desired: &Desired,
    resolver: Resolver,
) -> Result<Passwords, Error> {
    if !snapshot.connecting_role.superuser {
        return Ok(Passwords::Unknown);
    }
    let mut wanted = BTreeMap::new();
    for role in &desired.roles {
        let Some(source) = role.login.as_ref().and_then(|l| l.password.reference()) else {
            continue;
        };
        let slot = PasswordSlot {
            variable: String::new(),
            role: role.name.clone(),
            source,
        };
        if let Ok(secret) = resolver(&slot) {
            wanted.insert(role.name.clone(), secret);
        }
    }
    Ok(Passwords::Compared {
        current: current(client, &wanted)?,
    })
}
