//! A change committed between `pgsr plan` and `pgsr apply` is always
//! detected: apply exits 3 and applies nothing. The change is a GRANT, a
//! REVOKE, a new (or dropped) table or a role attribute; it lands before
//! apply starts, while apply waits for the advisory lock (committed by a
//! third connection), or inside the transaction that holds the lock (as
//! another pgsr would). Control trials show the lock wait alone, and a
//! change outside what the plan read, do not make apply refuse.

use crate::common::*;
use pgsr_e2e::{pg_test, PgsrOutput};
use std::time::{Duration, Instant};

const SETUP: &str = "
    CREATE SCHEMA s;
    CREATE TABLE s.t1 (i int); CREATE TABLE s.t2 (i int); CREATE TABLE s.fixed (i int);
    CREATE SCHEMA outside; CREATE TABLE outside.x (i int);
    CREATE ROLE bystander; CREATE ROLE grp;";

const APP_GRANTS: &[&str] = &[
    "database_connect: postgres",
    "schema_usage: s",
    "table_select: { schema: s, table: fixed }",
    "table_select: { schema: s, table_regex: \"^t\" }",
    "role_membership: grp",
    "login:",
];

const REP_GRANTS: &[&str] = &[
    "schema_usage: { schema: s, direct: true }",
    "table_select: { schema: s, table: t1, direct: true }",
    "database_connect: postgres",
    "role_membership: grp",
];

/// The desired file for a pair of grant subsets.
fn desired(mask: u32) -> String {
    let pick = |pool: &[&str], bits: u32| -> String {
        pool.iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, g)| format!("      - {g}\n"))
            .collect()
    };
    let app = mask & 0x3f;
    let rep = mask >> 6;
    let block = |name: &str, grants: String| {
        if grants.is_empty() {
            format!("  - name: {name}\n")
        } else {
            format!("  - name: {name}\n    grants:\n{grants}")
        }
    };
    format!(
        "roles:\n{}{}",
        block("app", pick(APP_GRANTS, app)),
        block("rep", pick(REP_GRANTS, rep))
    )
}

/// How the change meets the apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interleaving {
    /// Committed after planning, before apply starts.
    BeforeApply,
    /// Committed by a third connection while apply waits for the advisory
    /// lock that a second connection holds.
    WhileApplyWaits,
    /// Made inside the transaction that holds the advisory lock, committed
    /// (releasing the lock) while apply waits: what another pgsr does.
    InLockHolder,
}

const INTERLEAVINGS: [Interleaving; 3] = [
    Interleaving::BeforeApply,
    Interleaving::WhileApplyWaits,
    Interleaving::InLockHolder,
];

/// One change: SQL that makes the precondition true (run before planning),
/// and the change itself.
struct Change {
    category: &'static str,
    name: &'static str,
    prep: String,
    change: String,
}

fn change(category: usize, rng: &mut Rng, trial: usize, c: &mut postgres::Client) -> Change {
    let mk = |category, name, prep: &str, change: &str| Change {
        category,
        name,
        prep: prep.to_owned(),
        change: change.to_owned(),
    };
    match category {
        0 => match rng.below(5) {
            0 => mk(
                "grant",
                "direct grant to a managed role",
                "REVOKE ALL ON s.t2 FROM app",
                "GRANT SELECT ON s.t2 TO app",
            ),
            1 => mk(
                "grant",
                "grant on a regex-schema table",
                "REVOKE ALL ON s.t1 FROM bystander",
                "GRANT UPDATE ON s.t1 TO bystander",
            ),
            2 => mk(
                "grant",
                "grant on the schema",
                "REVOKE CREATE ON SCHEMA s FROM bystander",
                "GRANT CREATE ON SCHEMA s TO bystander",
            ),
            3 => mk(
                "grant",
                "grant on the database",
                "REVOKE TEMPORARY ON DATABASE postgres FROM bystander",
                "GRANT TEMPORARY ON DATABASE postgres TO bystander",
            ),
            _ => mk(
                "grant",
                "membership for a managed role",
                "REVOKE bystander FROM app",
                "GRANT bystander TO app",
            ),
        },
        1 => {
            // Revoking what pgsr itself granted, when there is some.
            let intermediate = rows(
                c,
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
                 JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'app' ORDER BY 1",
            );
            let choice = rng.below(4);
            if choice == 0 && !intermediate.is_empty() {
                let role = rng.pick(&intermediate)[0].clone().unwrap();
                return Change {
                    category: "revoke",
                    name: "revoke a membership pgsr granted",
                    prep: String::new(),
                    change: format!("REVOKE {} FROM app", ident(&role)),
                };
            }
            match choice {
                1 => mk(
                    "revoke",
                    "revoke on the schema from PUBLIC",
                    "GRANT USAGE ON SCHEMA s TO PUBLIC",
                    "REVOKE USAGE ON SCHEMA s FROM PUBLIC",
                ),
                2 => mk(
                    "revoke",
                    "revoke on the database from PUBLIC",
                    "GRANT CONNECT ON DATABASE postgres TO PUBLIC",
                    "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC",
                ),
                _ => mk(
                    "revoke",
                    "revoke on a regex-schema table",
                    "GRANT SELECT ON s.t1 TO bystander",
                    "REVOKE SELECT ON s.t1 FROM bystander",
                ),
            }
        }
        2 => match rng.below(4) {
            0 => Change {
                category: "table",
                name: "new table matching the regex",
                prep: String::new(),
                change: format!("CREATE TABLE s.t_race_{trial} (i int)"),
            },
            1 => Change {
                category: "table",
                name: "new table in the regex schema",
                prep: String::new(),
                change: format!("CREATE TABLE s.z_race_{trial} (i int)"),
            },
            2 => Change {
                category: "table",
                name: "new view matching the regex",
                prep: String::new(),
                change: format!("CREATE VIEW s.tv_race_{trial} AS SELECT 1 AS one"),
            },
            _ => Change {
                category: "table",
                name: "dropped table matching the regex",
                prep: format!("CREATE TABLE s.t_gone_{trial} (i int)"),
                change: format!("DROP TABLE s.t_gone_{trial}"),
            },
        },
        _ => match rng.below(5) {
            0 => mk(
                "role",
                "CREATEDB on a managed role",
                "ALTER ROLE app NOCREATEDB",
                "ALTER ROLE app CREATEDB",
            ),
            1 => Change {
                category: "role",
                name: "connection limit of a managed role",
                prep: String::new(),
                change: format!("ALTER ROLE rep CONNECTION LIMIT {}", trial + 1),
            },
            2 => Change {
                category: "role",
                name: "validity of a managed role",
                prep: String::new(),
                change: format!("ALTER ROLE app VALID UNTIL '2{:03}-01-01'", 100 + trial),
            },
            3 => Change {
                category: "role",
                name: "attribute of an unmanaged role",
                prep: String::new(),
                change: format!("ALTER ROLE bystander CONNECTION LIMIT {}", trial + 2),
            },
            _ => Change {
                category: "role",
                name: "new role",
                prep: String::new(),
                change: format!("CREATE ROLE race_{trial}"),
            },
        },
    }
}

/// Waits until pgsr's backend waits for an advisory lock.
fn wait_for_advisory_wait(watcher: &mut postgres::Client, running: &mut Background) {
    let waiting = wait_until(Duration::from_secs(60), || {
        running.finished()
            || !rows(
                watcher,
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgsr' \
                 AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            )
            .is_empty()
    });
    assert!(
        waiting && !running.finished(),
        "apply never waited for the advisory lock"
    );
}

#[derive(Default)]
struct Tally {
    trials: usize,
    detected: usize,
    by_interleaving: std::collections::BTreeMap<String, usize>,
    by_change: std::collections::BTreeMap<String, usize>,
    controls: usize,
    /// Changes outside a partial plan's scope, applied.
    outside: usize,
}

pg_test!(fn change_between_plan_and_apply_is_detected(pg) {
    let test = "race::change_between_plan_and_apply_is_detected";
    pg.execute("postgres", SETUP);
    let files = Files::new();
    let plan_file = files.path("plan.sql");
    let snap_file = files.path("snap.json");
    let mut c = pg.superuser("postgres");
    let mut watcher = pg.superuser("postgres");
    let mut tally = Tally::default();
    let mut mask: u32 = 0b1000;
    let t0 = Instant::now();
    let count = scaled(pg, 12, 100);
    for (trial, seed) in trial_seeds(test, pg, count).into_iter().enumerate() {
        let _guard = SeedGuard::new(test, pg, trial, seed);
        let mut rng = Rng::new(seed);
        // Converge to a random state, then plan a different one.
        let current = files.write("current.yaml", &desired(mask));
        let out = run(pg, "postgres", "postgres", &["sync", "-f", p(&current)]);
        assert_eq!(out.code, 0, "sync failed:\n{}", out.stderr);
        // app always reads schema s through a regex, so that a table made
        // or dropped there concerns the plan.
        let next_mask = loop {
            let m = rng.below(1 << 10) as u32 | 0b1000;
            if m != mask {
                break m;
            }
        };
        mask = next_mask;
        let next = files.write("next.yaml", &desired(mask));
        // The interleaving and the kind of change rotate, so that even the
        // short run covers every pair; the exact change is drawn.
        let interleaving = INTERLEAVINGS[trial % 3];
        let change = change((trial / 3) % 4, &mut rng, trial, &mut c);
        if !change.prep.is_empty() {
            exec(&mut c, &change.prep);
        }
        // Plan from the database (partial scope) or from a full snapshot.
        let from_snapshot = rng.chance(30);
        let out = if from_snapshot {
            let i = run(pg, "postgres", "postgres", &["inspect", "-o", p(&snap_file)]);
            assert_eq!(i.code, 0, "{}", i.stderr);
            run(pg, "postgres", "postgres", &["plan", "--exit-code", "--snapshot", p(&snap_file), "-f", p(&next), "-o", p(&plan_file)])
        } else {
            run(pg, "postgres", "postgres", &["plan", "--exit-code", "-f", p(&next), "-o", p(&plan_file)])
        };
        assert_eq!(out.code, 2, "the plan has no changes:\n{}", out.stderr);
        let mut args = vec!["apply", p(&plan_file)];
        let shows_changes = from_snapshot && rng.chance(50);
        if shows_changes {
            args.extend(["--snapshot", p(&snap_file)]);
        }
        let context = format!(
            "{test} trial {trial} (seed {seed:#x}): {} ({}), {interleaving:?}, plan from {}",
            change.name,
            change.change,
            if from_snapshot { "a full snapshot" } else { "the database" }
        );
        let (expected, out): (Dump, PgsrOutput) = match interleaving {
            Interleaving::BeforeApply => {
                exec(&mut c, &change.change);
                let expected = dump(&mut c);
                (expected, run(pg, "postgres", "postgres", &args))
            }
            Interleaving::WhileApplyWaits => {
                let mut holder = pg.superuser("postgres");
                let mut tx = holder.transaction().unwrap();
                exec(&mut tx, "SELECT pg_advisory_xact_lock(1)");
                let mut running = Background::spawn(pgsr_command(pg, "postgres", "postgres", &args));
                wait_for_advisory_wait(&mut watcher, &mut running);
                exec(&mut c, &change.change);
                let expected = dump(&mut c);
                tx.rollback().unwrap();
                (expected, running.wait(Duration::from_secs(120)))
            }
            Interleaving::InLockHolder => {
                let mut holder = pg.superuser("postgres");
                let mut tx = holder.transaction().unwrap();
                exec(&mut tx, "SELECT pg_advisory_xact_lock(1)");
                let mut running = Background::spawn(pgsr_command(pg, "postgres", "postgres", &args));
                wait_for_advisory_wait(&mut watcher, &mut running);
                exec(&mut tx, &change.change);
                let expected = dump(&mut tx);
                tx.commit().unwrap();
                (expected, running.wait(Duration::from_secs(120)))
            }
        };
        no_panic_in(&context, &out);
        // A plan from the database read only the roles it can ask about: a
        // new role, or an attribute of an unmanaged role that no managed
        // role is a member of, is outside what it read, and the apply goes
        // ahead, as in the controls.
        let outside_scope =
            !from_snapshot && matches!(change.name, "new role" | "attribute of an unmanaged role");
        if outside_scope && out.code == 0 {
            assert_converged(&context, pg, "postgres", "postgres", &next);
            tally.outside += 1;
            continue;
        }
        assert_eq!(out.code, 3, "{context}: the change was not detected (exit {}):\n{}", out.code, out.stderr);
        assert_one_error_line(&context, &out);
        assert_eq!(
            out.stderr.contains("\npgsr: changed since the plan: "),
            shows_changes,
            "{context}: with the plan's snapshot, and only then, what changed is said:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("the catalog changed since the plan was made")
                && out.stderr.contains("nothing was applied"),
            "{context}: unclear message:\n{}",
            out.stderr
        );
        let now = dump(&mut c);
        assert!(
            now == expected,
            "{context}: apply changed the catalog although it refused:\n{}",
            show_changes(&expected, &now)
        );
        tally.trials += 1;
        tally.detected += 1;
        *tally.by_interleaving.entry(format!("{interleaving:?}")).or_default() += 1;
        *tally.by_change.entry(change.category.to_owned()).or_default() += 1;

        // Control: the same plan, made again, applies after the same lock
        // wait with no change, or with a change outside what it read.
        if trial % 3 == 2 {
            let out = run(pg, "postgres", "postgres", &["plan", "--exit-code", "-f", p(&next), "-o", p(&plan_file)]);
            assert_eq!(out.code, 2, "{}", out.stderr);
            let outside = if rng.chance(50) {
                format!("CREATE TABLE outside.y_{trial} (i int)")
            } else {
                format!("GRANT SELECT ON outside.x TO bystander; REVOKE SELECT ON outside.x FROM bystander; CREATE TABLE outside.v_{trial} ()")
            };
            let mut holder = pg.superuser("postgres");
            let mut tx = holder.transaction().unwrap();
            exec(&mut tx, "SELECT pg_advisory_xact_lock(1)");
            let mut running = Background::spawn(pgsr_command(pg, "postgres", "postgres", &["apply", p(&plan_file)]));
            wait_for_advisory_wait(&mut watcher, &mut running);
            exec(&mut tx, &outside);
            tx.commit().unwrap();
            let out = running.wait(Duration::from_secs(120));
            assert_eq!(out.code, 0, "{context}: control apply failed:\n{}", out.stderr);
            assert_converged(&context, pg, "postgres", "postgres", &next);
            tally.controls += 1;
        }
    }
    figure(
        test,
        pg,
        &format!(
            "{} trials, {} detected (exit 3, catalog exactly as the change left it), 0 missed, {} outside a partial plan's roles applied; by interleaving {:?}; by change {:?}; \
             {} control applies after a lock wait (no change, or one outside the plan's scope) exit 0; {:.1} s",
            tally.trials + tally.outside,
            tally.detected,
            tally.outside,
            tally.by_interleaving,
            tally.by_change,
            tally.controls,
            t0.elapsed().as_secs_f64()
        ),
    );
});
