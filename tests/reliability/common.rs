//! Helpers of the reliability tests: scale, seeded randomness, running pgsr
//! in the background, one-line errors, catalog dumps, and SQL quoting done
//! independently of pgsr's own.

#![allow(dead_code)]

use pgsr_e2e::{Pg, PgsrOutput};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Scale

/// The long versions run when `PGSR_RELIABILITY_FULL=1`, on PostgreSQL 15
/// only; every other run (and every other major) runs the short versions.
pub fn full_run(pg: &Pg) -> bool {
    pg.major == 15 && std::env::var("PGSR_RELIABILITY_FULL").is_ok_and(|v| v == "1")
}

/// `short` in the default run, `full` in the long one.
pub fn scaled(pg: &Pg, short: usize, full: usize) -> usize {
    if full_run(pg) {
        full
    } else {
        short
    }
}

/// Prints a figure line: `cargo test -- --nocapture` shows them, and the
/// long runs' figures in RELIABILITY.md come from them.
pub fn figure(test: &str, pg: &Pg, text: &str) {
    eprintln!("reliability: {test} pg{}: {text}", pg.major);
}

// ---------------------------------------------------------------------------
// Seeded randomness

/// xorshift64*: small, deterministic, good enough to pick interleavings.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        if rng.0 == 0 {
            rng.0 = 1;
        }
        for _ in 0..4 {
            rng.next();
        }
        rng
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The seeds of `count` trials of `test` on this major: fixed, so a run is
/// repeatable. `PGSR_RELIABILITY_SEED=<seed>` runs only that trial (the
/// seed a failure printed).
pub fn trial_seeds(test: &str, pg: &Pg, count: usize) -> Vec<u64> {
    if let Ok(text) = std::env::var("PGSR_RELIABILITY_SEED") {
        let text = text.trim();
        let seed = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse(),
        }
        .unwrap_or_else(|_| panic!("PGSR_RELIABILITY_SEED={text:?} is not a number"));
        return vec![seed];
    }
    let base = test.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }) ^ ((pg.major as u64) << 40);
    (0..count as u64)
        .map(|i| base.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect()
}

/// Prints how to rerun a trial if the thread panics while it is alive.
pub struct SeedGuard {
    what: String,
}

impl SeedGuard {
    pub fn new(test: &str, pg: &Pg, trial: usize, seed: u64) -> SeedGuard {
        SeedGuard {
            what: format!(
                "{test} pg{} trial {trial}: rerun it alone with PGSR_RELIABILITY_SEED={seed:#x}",
                pg.major
            ),
        }
    }
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("reliability: FAILED in {}", self.what);
        }
    }
}

// ---------------------------------------------------------------------------
// Files

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use pgsr_e2e::{
    describe, ident, literal, no_panic, no_panic_in, pgsr_command, wait_until, Background, Files,
};

pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

// ---------------------------------------------------------------------------
// Background pgsr

/// Runs pgsr to completion.
pub fn run(pg: &Pg, user: &str, db: &str, args: &[&str]) -> PgsrOutput {
    Background::spawn(pgsr_command(pg, user, db, args)).wait(Duration::from_secs(600))
}

/// A failure is reported as exactly one line, `pgsr: error: ...` (after
/// the lines that said what pgsr waited for, if it waited a second or more
/// for a lock; before the lines saying what changed, when a stale apply was
/// given the snapshot the plan was made from).
#[track_caller]
pub fn assert_one_error_line(context: &str, out: &PgsrOutput) {
    no_panic_in(context, out);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| {
            !l.trim().is_empty()
                && !l.starts_with("pgsr: waiting for ")
                && !l.starts_with("pgsr: changed since the plan: ")
        })
        .collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("pgsr: error: "),
        "{context}: expected one `pgsr: error:` line on stderr, got (exit {}):\n{}",
        out.code,
        out.stderr
    );
}

/// Standard output of `pgsr inspect` as the superuser: the whole catalog,
/// canonical, compared byte for byte.
#[track_caller]
pub fn inspect_text(pg: &Pg, db: &str) -> String {
    let out = run(pg, "postgres", db, &["inspect"]);
    assert_eq!(out.code, 0, "pgsr inspect failed:\n{}", out.stderr);
    out.stdout
}

/// `pgsr plan --exit-code`: 0 when there is nothing to do.
pub fn plan_exit(pg: &Pg, user: &str, db: &str, file: &Path) -> PgsrOutput {
    let out = run(pg, user, db, &["plan", "--exit-code", "-f", p(file)]);
    no_panic_in("plan --exit-code", &out);
    out
}

#[track_caller]
pub fn assert_converged(context: &str, pg: &Pg, user: &str, db: &str, file: &Path) {
    let out = plan_exit(pg, user, db, file);
    assert_eq!(
        out.code, 0,
        "{context}: not converged, the plan still has changes:\n{}\n{}",
        out.stdout, out.stderr
    );
    // The full-scope plan agrees.
    let full = run(
        pg,
        user,
        db,
        &["plan", "--exit-code", "--full-scope", "-f", p(file)],
    );
    assert_eq!(
        full.code, 0,
        "{context}: not converged (full scope):\n{}\n{}",
        full.stdout, full.stderr
    );
}

// ---------------------------------------------------------------------------
// SQL

/// Runs `sql` as the superuser, panicking with the server's message.
#[track_caller]
pub fn exec(client: &mut impl postgres::GenericClient, sql: &str) {
    client
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{}\nin:\n{sql}", describe(&e)));
}

/// Every row of `sql` as text columns (NULL as `None`).
#[track_caller]
pub fn rows(client: &mut impl postgres::GenericClient, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{}\nin:\n{sql}", describe(&e)))
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// The first column of the first row.
#[track_caller]
pub fn scalar(client: &mut impl postgres::GenericClient, sql: &str) -> String {
    rows(client, sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_else(|| panic!("no value from {sql}"))
}

/// The pids of pgsr's backends (`application_name = 'pgsr'`).
pub fn pgsr_backends(client: &mut impl postgres::GenericClient) -> Vec<String> {
    rows(
        client,
        "SELECT pid::text FROM pg_stat_activity WHERE application_name = 'pgsr' AND pid <> pg_backend_pid()",
    )
    .into_iter()
    .filter_map(|r| r.into_iter().next().flatten())
    .collect()
}

// ---------------------------------------------------------------------------
// Catalog dumps

/// One line per object that privileges or ownership concern, keyed by
/// (kind, schema or container, name), read by the superuser with SQL of
/// its own (not pgsr's inspect), so that what pgsr did is checked by a
/// reader that shares no code with it.
pub type Dump = BTreeMap<(String, String, String), String>;

const DUMP_SQL: &str = r#"
SELECT 'role', '', rolname::text,
       concat_ws(' ', rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
                 rolreplication, rolbypassrls, rolconnlimit, coalesce(rolvaliduntil::text, '-'),
                 rolpassword IS NOT NULL)
FROM pg_authid
UNION ALL
SELECT 'membership', r.rolname::text, m.rolname::text,
       string_agg(concat_ws(' ', g.rolname, am.admin_option), ', ' ORDER BY g.rolname)
FROM pg_auth_members am JOIN pg_authid r ON r.oid = am.roleid
     JOIN pg_authid m ON m.oid = am.member LEFT JOIN pg_authid g ON g.oid = am.grantor
GROUP BY 1, 2, 3
UNION ALL
SELECT 'database', '', datname::text, concat_ws(' ', pg_get_userbyid(datdba), datacl::text)
FROM pg_database
UNION ALL
SELECT 'tablespace', '', spcname::text, concat_ws(' ', pg_get_userbyid(spcowner), spcacl::text)
FROM pg_tablespace
UNION ALL
SELECT 'schema', '', nspname::text, concat_ws(' ', pg_get_userbyid(nspowner), nspacl::text)
FROM pg_namespace WHERE nspname !~ '^pg_(toast|temp_|toast_temp_)'
UNION ALL
SELECT 'relation', n.nspname::text, c.relname::text,
       concat_ws(' ', c.relkind, pg_get_userbyid(c.relowner), c.relacl::text)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
UNION ALL
SELECT 'column', n.nspname::text, c.relname::text || '.' || a.attname::text, a.attacl::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attacl IS NOT NULL
UNION ALL
SELECT 'routine', n.nspname::text,
       p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       concat_ws(' ', p.prokind, pg_get_userbyid(p.proowner), p.proacl::text)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') OR p.proacl IS NOT NULL
UNION ALL
SELECT 'type', n.nspname::text, t.typname::text,
       concat_ws(' ', t.typtype, pg_get_userbyid(t.typowner), t.typacl::text)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') OR t.typacl IS NOT NULL
UNION ALL
SELECT 'language', '', lanname::text, concat_ws(' ', pg_get_userbyid(lanowner), lanacl::text)
FROM pg_language
UNION ALL
SELECT 'default acl', coalesce(n.nspname::text, ''),
       pg_get_userbyid(d.defaclrole)::text || ' ' || d.defaclobjtype::text, d.defaclacl::text
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
UNION ALL
SELECT 'large object', '', oid::text, concat_ws(' ', pg_get_userbyid(lomowner), lomacl::text)
FROM pg_largeobject_metadata
"#;

/// Reads a [`Dump`] of the database `client` is connected to.
pub fn dump(client: &mut impl postgres::GenericClient) -> Dump {
    let mut out = Dump::new();
    for r in rows(client, DUMP_SQL) {
        let text = |i: usize| r[i].clone().unwrap_or_default();
        let key = (text(0), text(1), text(2));
        let previous = out.insert(key.clone(), text(3));
        assert!(previous.is_none(), "dump key {key:?} appears twice");
    }
    out
}

/// The keys whose line differs between two dumps (added, removed or changed).
pub fn changed_keys(before: &Dump, after: &Dump) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A readable account of what changed between two dumps.
pub fn show_changes(before: &Dump, after: &Dump) -> String {
    let mut out = String::new();
    for key in changed_keys(before, after) {
        out.push_str(&format!(
            "{key:?}:\n    before: {:?}\n    after:  {:?}\n",
            before.get(&key),
            after.get(&key)
        ));
    }
    out
}

// ---------------------------------------------------------------------------
// Desired files

/// A YAML double-quoted scalar holding `text` exactly: backslash, quote and
/// every character YAML wants escaped are escaped; the rest is written as is.
pub fn yq(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{2028}' | '\u{2029}' | '\u{feff}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
