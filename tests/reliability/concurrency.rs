//! Concurrency stress: many `pgsr sync` processes at once over overlapping
//! desired files (a role every file declares the same way, shared
//! intermediate roles, roles created by whichever process comes first),
//! each toggling grants between rounds, while by hand one connection
//! creates, grants on and drops tables in the schema the syncs grant on by
//! regex, and another toggles grants on the very tables and schema they
//! grant on. No sync may fail with "tuple concurrently updated/deleted" or
//! a deadlock, every exit code is accounted for, and the state the last
//! syncs leave is converged.
//!
//! Then the same races made deterministic, one at a time.

use crate::common::*;
use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TABLES: usize = 6;

/// A table the hand-made DDL makes lives for this many of its iterations.
const HAND_TABLE_LIFE: usize = 10;

fn setup_sql() -> String {
    let mut sql = String::from("CREATE SCHEMA app; CREATE ROLE hand_reader;");
    for t in 1..=TABLES {
        sql.push_str(&format!(" CREATE TABLE app.t{t} (i int);"));
    }
    sql
}

/// The grants a process's own roles may hold; each round turns some on
/// and some off.
fn grant_pool() -> Vec<String> {
    let mut pool = vec![
        "database_connect: postgres".to_owned(),
        "schema_usage: app".to_owned(),
        "table_select: { schema: app, table_regex: \"^h_\" }".to_owned(),
        "role_membership: grp_0".to_owned(),
        "role_membership: grp_1".to_owned(),
        "table_select: { schema: app, table: t1, direct: true }".to_owned(),
        "schema_create: app".to_owned(),
    ];
    for t in 1..=TABLES {
        pool.push(format!("table_select: {{ schema: app, table: t{t} }}"));
    }
    pool
}

/// Process `proc`'s desired file for grant masks of its two roles. Every
/// file also declares `shared_reader`, identically.
fn desired(proc: usize, masks: [u32; 2]) -> String {
    let pool = grant_pool();
    let mut out = String::from(
        "roles:\n  - name: shared_reader\n    grants:\n      - database_connect: postgres\n      - schema_usage: app\n      - table_select: { schema: app, table_regex: \"^t\" }\n",
    );
    for (r, mask) in masks.iter().enumerate() {
        out.push_str(&format!("  - name: p{proc}_{r}\n"));
        let grants: Vec<&String> = pool
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, g)| g)
            .collect();
        if !grants.is_empty() {
            out.push_str("    grants:\n");
            for g in grants {
                out.push_str(&format!("      - {g}\n"));
            }
        }
    }
    out
}

/// Every desired file's roles in one file: the state all the last syncs
/// together should leave.
fn combined(last: &[[u32; 2]]) -> String {
    let mut out = desired(0, last[0]);
    for (proc, masks) in last.iter().enumerate().skip(1) {
        let one = desired(proc, *masks);
        let roles = one.split("  - name: p").skip(1);
        for r in roles {
            out.push_str("  - name: p");
            out.push_str(r);
        }
    }
    out
}

#[derive(Default, Debug)]
struct Outcomes {
    syncs: usize,
    changed: usize,
    no_changes: usize,
    codes: BTreeMap<i32, usize>,
    /// One sample message per failure kind.
    failures: BTreeMap<String, (usize, String)>,
    concurrently: usize,
    deadlocks: usize,
    /// Syncs that planned again after each of their attempts failed
    /// because the catalog changed under them, and gave up (exit 1).
    gave_up: usize,
}

impl Outcomes {
    fn record(&mut self, out: &PgsrOutput) {
        self.syncs += 1;
        *self.codes.entry(out.code).or_default() += 1;
        let err = out.stderr.to_lowercase();
        if out.code == 1 && err.contains("the catalog kept changing while syncing") {
            // Planned again after each of its attempts met a change made
            // meanwhile, and gave up: the text of the last one is incidental.
            self.gave_up += 1;
        } else {
            if err.contains("tuple concurrently") {
                self.concurrently += 1;
            }
            if err.contains("deadlock") {
                self.deadlocks += 1;
            }
        }
        if out.code == 0 {
            if out.stderr.contains("pgsr: applied") {
                self.changed += 1;
            } else {
                self.no_changes += 1;
            }
        } else {
            let line = out
                .stderr
                .lines()
                .find(|l| l.starts_with("pgsr: error: "))
                .unwrap_or("")
                .to_owned();
            // The kind of failure: names and numbers left out.
            let mut kind = String::new();
            let mut quoted = false;
            for ch in line.chars() {
                if ch == '"' {
                    quoted = !quoted;
                    kind.push('"');
                } else if !quoted && !ch.is_ascii_digit() {
                    kind.push(ch);
                }
            }
            let kind: String = kind
                .split(": GRANT")
                .next()
                .unwrap_or("")
                .chars()
                .take(120)
                .collect();
            let entry = self.failures.entry(kind).or_insert((0, line));
            entry.0 += 1;
        }
    }
}

/// What the hand-made loops did.
#[derive(Default, Debug)]
struct Hand {
    tables_made: usize,
    tables_dropped: usize,
    grants: usize,
    /// Their own failures (PostgreSQL's, not pgsr's), by kind.
    errors: BTreeMap<String, usize>,
}

fn hand_step(c: &mut postgres::Client, sql: &str, hand: &mut Hand) -> bool {
    match c.batch_execute(sql) {
        Ok(()) => true,
        Err(e) => {
            let head = sql.split(" app.").next().unwrap_or(sql);
            *hand
                .errors
                .entry(format!("{head}: {}", describe(&e)))
                .or_default() += 1;
            false
        }
    }
}

/// Tables made and dropped in the schema pgsr grants on by regex: each is
/// granted on by hand, and dropped [`HAND_TABLE_LIFE`] iterations later.
fn hand_ddl_loop(pg: &Pg, stop: &AtomicBool, pause: Duration) -> Hand {
    let mut c = pg.superuser("postgres");
    let mut hand = Hand::default();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        if hand_step(
            &mut c,
            &format!("CREATE TABLE app.h_{n} (i int)"),
            &mut hand,
        ) {
            hand.tables_made += 1;
        }
        hand_step(
            &mut c,
            &format!("GRANT SELECT ON app.h_{n} TO hand_reader"),
            &mut hand,
        );
        if n > HAND_TABLE_LIFE
            && hand_step(
                &mut c,
                &format!("DROP TABLE app.h_{}", n - HAND_TABLE_LIFE),
                &mut hand,
            )
        {
            hand.tables_dropped += 1;
        }
        std::thread::sleep(pause);
    }
    // Leave no hand-made table behind.
    let left = rows(&mut c, "SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relname ~ '^h_' AND relkind = 'r'");
    for r in left {
        exec(
            &mut c,
            &format!("DROP TABLE app.{}", r[0].as_deref().unwrap()),
        );
        hand.tables_dropped += 1;
    }
    hand
}

/// Grants toggled, as fast as the server takes them, on the very tables
/// and schema every sync grants on.
fn hand_grant_loop(pg: &Pg, stop: &AtomicBool) -> Hand {
    let mut c = pg.superuser("postgres");
    let mut hand = Hand::default();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let t = n % TABLES + 1;
        for sql in [
            format!("GRANT SELECT, INSERT ON app.t{t} TO hand_reader"),
            format!("REVOKE SELECT, INSERT ON app.t{t} FROM hand_reader"),
            "GRANT USAGE ON SCHEMA app TO hand_reader".to_owned(),
            "REVOKE USAGE ON SCHEMA app FROM hand_reader".to_owned(),
        ] {
            if hand_step(&mut c, &sql, &mut hand) {
                hand.grants += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    hand
}

/// The failed attempts of pgsr's transactions, by error, read from the
/// server log: each failed batch is logged with its statement, which
/// starts with pgsr's savepoint.
fn failed_batches(log: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = log.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("STATEMENT:  SAVEPOINT pgsr_batch") && i > 0 {
            let error = lines[i - 1].split("ERROR:  ").nth(1).unwrap_or("?");
            let kind: String = error
                .split('"')
                .enumerate()
                .map(|(n, part)| if n % 2 == 1 { "…" } else { part })
                .collect::<Vec<_>>()
                .join("\"");
            *out.entry(kind).or_default() += 1;
        }
    }
    out
}

/// `processes` syncs at once, `rounds` each, while by hand a table is made
/// and one dropped every `hand_pause` (and a little more), and grants are
/// toggled without pause.
fn stress(pg: &mut Pg, processes: usize, rounds: usize, hand_pause: Duration) {
    let test = "concurrency::concurrent_syncs_with_hand_made_ddl";
    pg.execute("postgres", &setup_sql());
    let files = Arc::new(Files::new());
    let seed = trial_seeds(test, pg, 1)[0];
    let _guard = SeedGuard::new(test, pg, 0, seed);
    let pool_len = grant_pool().len() as u64;
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    let (last, ddl, grants) = std::thread::scope(|scope| {
        let pg: &Pg = pg;
        let stop: &AtomicBool = &stop;
        let ddl = scope.spawn(move || hand_ddl_loop(pg, stop, hand_pause));
        let grants = scope.spawn(move || hand_grant_loop(pg, stop));
        let workers: Vec<_> = (0..processes)
            .map(|proc| {
                let files = files.clone();
                let outcomes = outcomes.clone();
                scope.spawn(move || {
                    let mut rng = Rng::new(seed ^ ((proc as u64 + 1) << 32));
                    let mut masks = [
                        rng.below(1 << pool_len) as u32,
                        rng.below(1 << pool_len) as u32,
                    ];
                    for round in 0..rounds {
                        // Toggle at least one grant of each role, and a few at random.
                        for m in &mut masks {
                            *m ^= 1 << rng.below(pool_len);
                            *m ^= rng.below(1 << pool_len) as u32 & rng.below(1 << pool_len) as u32;
                        }
                        let file =
                            files.write(&format!("p{proc}_r{round}.yaml"), &desired(proc, masks));
                        let out = run(pg, "postgres", "postgres", &["sync", "-f", p(&file)]);
                        no_panic_in(&format!("process {proc} round {round}"), &out);
                        outcomes.lock().unwrap().record(&out);
                    }
                    masks
                })
            })
            .collect();
        let last: Vec<[u32; 2]> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        (last, ddl.join().unwrap(), grants.join().unwrap())
    });
    let busy = t0.elapsed();
    // The hand-made tables are gone now; one more concurrent round of the
    // last desired files settles what they left (memberships of
    // intermediate roles whose table was dropped after the last sync).
    std::thread::scope(|scope| {
        let pg: &Pg = pg;
        for (proc, masks) in last.iter().enumerate() {
            let files = files.clone();
            let outcomes = outcomes.clone();
            scope.spawn(move || {
                let file = files.write(&format!("p{proc}_settle.yaml"), &desired(proc, *masks));
                let out = run(pg, "postgres", "postgres", &["sync", "-f", p(&file)]);
                no_panic_in(&format!("process {proc} settling round"), &out);
                outcomes.lock().unwrap().record(&out);
            });
        }
    });
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let retried = failed_batches(&pg.server_log());
    let all = files.write("combined.yaml", &combined(&last));
    let final_plan = plan_exit(pg, "postgres", "postgres", &all);
    let report = format!(
        "{processes} processes x {rounds} rounds (+1 settling round) = {} syncs in {:.1} s: {} applied changes, {} found none; \
         exit codes {:?}; 'tuple concurrently' {}, deadlocks {}, gave up as the catalog kept changing {}; failures {:?}; \
         by hand meanwhile (a table made and one dropped every {hand_pause:?}+): {} tables made, {} dropped, {} grants and revokes, \
         their own errors {:?} {:?}; \
         failed transaction attempts in the server log {:?}; final plan --exit-code {}",
        outcomes.syncs,
        busy.as_secs_f64(),
        outcomes.changed,
        outcomes.no_changes,
        outcomes.codes,
        outcomes.concurrently,
        outcomes.deadlocks,
        outcomes.gave_up,
        outcomes.failures,
        ddl.tables_made,
        ddl.tables_dropped,
        grants.grants,
        ddl.errors,
        grants.errors,
        retried,
        final_plan.code
    );
    figure(test, pg, &report);
    assert_eq!(outcomes.concurrently, 0, "{report}");
    assert_eq!(outcomes.deadlocks, 0, "{report}");
    // Every sync succeeded, or (explained, exit 1, nothing applied) gave up
    // after planning again each time a statement met a table dropped
    // meanwhile: that happens only when tables are dropped faster than a
    // sync plans and applies (see RELIABILITY.md), and must stay rare.
    let ok = outcomes.codes.get(&0).copied().unwrap_or(0);
    assert_eq!(
        ok + outcomes.gave_up,
        outcomes.syncs,
        "unexplained failures: {report}"
    );
    assert!(
        outcomes.gave_up * 10 <= outcomes.syncs,
        "too many syncs gave up: {report}"
    );
    assert_eq!(
        final_plan.code, 0,
        "{report}\nthe final plan is not empty:\n{}",
        final_plan.stdout
    );
    assert_converged(test, pg, "postgres", "postgres", &all);
    assert!(
        outcomes.changed >= outcomes.syncs / 2,
        "too few syncs changed anything: {report}"
    );
}

pg_test!(fn concurrent_syncs_with_hand_made_ddl(pg) {
    if full_run(pg) {
        stress(pg, 8, 50, Duration::from_millis(10));
    } else {
        stress(pg, 4, 10, Duration::from_millis(50));
    }
});

// ---------------------------------------------------------------------------
// The catalog changing under a running apply, made deterministic: another
// transaction changes the row of a table that pgsr is about to GRANT on
// (it has changed its ACL, uncommitted), so pgsr's GRANT waits for it; then
// that transaction drops the table, or just commits its own grant. The
// GRANT then fails with "tuple concurrently deleted/updated" (or "does not
// exist"): `sync` plans again and succeeds, `apply` says the plan is stale.

/// Waits until pgsr's backend waits for another transaction.
fn wait_for_row_wait(watcher: &mut postgres::Client, running: &mut Background) {
    let waiting = wait_until(Duration::from_secs(60), || {
        running.finished()
            || !rows(
                watcher,
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgsr' \
                 AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')",
            )
            .is_empty()
    });
    assert!(
        waiting && !running.finished(),
        "pgsr never waited for the other transaction"
    );
}

const UNDER_IT: &str = "
    CREATE SCHEMA app; CREATE ROLE hand_reader;
    CREATE TABLE app.h_keep (i int); CREATE TABLE app.h_gone (i int);";

const UNDER_IT_DESIRED: &str = "roles:\n  - name: reader\n    grants:\n      - table_select: { schema: app, table_regex: \"^h_\" }\n";

/// What the other transaction does once pgsr waits for it.
fn under_it(pg: &Pg, command: &str, drop_table: bool) -> PgsrOutput {
    pg.execute("postgres", UNDER_IT);
    let files = Files::new();
    let desired = files.write("d.yaml", UNDER_IT_DESIRED);
    let plan = files.path("p.sql");
    let args: Vec<&str> = if command == "sync" {
        vec!["sync", "-f", p(&desired)]
    } else {
        let out = run(
            pg,
            "postgres",
            "postgres",
            &["plan", "-f", p(&desired), "-o", p(&plan)],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        vec!["apply", p(&plan)]
    };
    let before = {
        let mut c = pg.superuser("postgres");
        dump(&mut c)
    };
    let mut other = pg.superuser("postgres");
    let mut tx = other.transaction().unwrap();
    // When the DROP below and pgsr wait for each other, PostgreSQL's
    // deadlock check ends whichever session's deadlock_timeout expires
    // first: on a loaded machine that could be this one, and then no table
    // is dropped under pgsr. This session waits longest, so pgsr's check
    // (after the default second) is the one that ends the deadlock.
    exec(&mut tx, "SET LOCAL deadlock_timeout = '60s'");
    exec(&mut tx, "GRANT SELECT ON app.h_gone TO hand_reader");
    let mut watcher = pg.superuser("postgres");
    let mut running = Background::spawn(pgsr_command(pg, "postgres", "postgres", &args));
    wait_for_row_wait(&mut watcher, &mut running);
    if drop_table {
        exec(&mut tx, "DROP TABLE app.h_gone");
    }
    tx.commit().unwrap();
    let out = running.wait(Duration::from_secs(60));
    no_panic_in(command, &out);
    if out.code != 0 {
        assert_one_error_line(command, &out);
        // Nothing pgsr did stayed: only the other transaction's change.
        let mut c = pg.superuser("postgres");
        let now = dump(&mut c);
        for key in changed_keys(&before, &now) {
            assert!(
                key.2.contains("h_gone") || key.1.contains("h_gone"),
                "{command}: pgsr failed but changed {key:?}:\n{}",
                show_changes(&before, &now)
            );
        }
    } else {
        assert_converged(command, pg, "postgres", "postgres", &desired);
    }
    out
}

pg_test!(fn sync_plans_again_when_a_table_is_dropped_under_it(pg) {
    let out = under_it(pg, "sync", true);
    assert_eq!(out.code, 0, "sync did not recover:\n{}", out.stderr);
});

pg_test!(fn sync_plans_again_when_a_grant_races_its_own(pg) {
    let out = under_it(pg, "sync", false);
    assert_eq!(out.code, 0, "sync did not recover:\n{}", out.stderr);
});

pg_test!(fn apply_is_stale_when_a_table_is_dropped_under_it(pg) {
    let out = under_it(pg, "apply", true);
    assert_eq!(out.code, 3, "apply did not report a stale plan:\n{}", out.stderr);
    assert!(out.stderr.contains("nothing was applied") && out.stderr.contains("plan again"), "{}", out.stderr);
});

pg_test!(fn apply_is_stale_when_a_grant_races_its_own(pg) {
    let out = under_it(pg, "apply", false);
    assert_eq!(out.code, 3, "apply did not report a stale plan:\n{}", out.stderr);
    assert!(out.stderr.contains("nothing was applied") && out.stderr.contains("plan again"), "{}", out.stderr);
});
