//! Acceptance tests of how pgsr applies changes: the advisory lock, stale
//! plans, validation before connecting, atomicity, and exit codes.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use std::time::Duration;
use support::*;

/// The advisory lock keys (low 32 bits) someone is waiting for.
fn waiting_for_advisory_locks(pg: &Pg) -> Vec<String> {
    query_column(
        pg,
        "postgres",
        "SELECT objid::text FROM pg_locks WHERE locktype = 'advisory' AND NOT granted ORDER BY 1",
    )
}

/// A superuser connection holding `pg_advisory_xact_lock(key)` in an open
/// transaction until it is dropped or committed.
struct LockHolder {
    client: postgres::Client,
}

impl LockHolder {
    fn take(pg: &Pg, key: i64) -> LockHolder {
        let mut client = pg.superuser("postgres");
        client
            .batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({key})"))
            .expect("take the advisory lock");
        LockHolder { client }
    }

    fn release(mut self) {
        self.client
            .batch_execute("COMMIT")
            .expect("release the lock");
    }
}

/// Runs a sync in the background while `key` is held, and checks that it
/// waits for exactly `waits_for` (or does not wait when `None`); then
/// releases the lock and checks that it finishes.
#[track_caller]
fn sync_under_held_lock(pg: &Pg, held: i64, args: &[&str], waits_for: Option<i64>) -> PgsrOutput {
    let holder = LockHolder::take(pg, held);
    let mut run = Background::spawn(pgsr_command(pg, "postgres", "postgres", args));
    match waits_for {
        Some(key) => {
            std::thread::sleep(Duration::from_millis(1000));
            assert!(
                !run.finished(),
                "pgsr {args:?} finished while lock {held} was held"
            );
            assert_eq!(
                waiting_for_advisory_locks(pg),
                vec![key.to_string()],
                "pgsr {args:?} should wait for advisory lock {key}"
            );
            holder.release();
            let out = run.wait(Duration::from_secs(30));
            no_panic(&out);
            out
        }
        None => {
            let out = run.wait(Duration::from_secs(30));
            no_panic(&out);
            holder.release();
            out
        }
    }
}

// ---------------------------------------------------------------------------
// 13. The advisory lock

pg_test!(fn lock_is_waited_for_only_when_there_are_changes(pg) {
    let f = Files::new();
    let one = |name: &str, extra: &str| f.write(&format!("{name}.yaml"), &format!("{extra}{}", doc(&[role(name, &[])])));
    let r1 = one("r1", "");
    let r1_path = path_str(&r1);

    // Changes: waits for lock 1 (the default), then applies them.
    assert!(!role_exists(pg, "r1"));
    let run = sync_under_held_lock(pg, 1, &["sync", "-f", r1_path], Some(1));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r1"), "the sync applied its change after the lock was released");

    // No changes: does not take the lock, finishes while it is held.
    let run = sync_under_held_lock(pg, 1, &["sync", "-f", r1_path], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no changes"), "{}", run.stderr);

    // --lock-key 42: lock 1 does not stop it, lock 42 does.
    let r2 = one("r2", "");
    let run = sync_under_held_lock(pg, 1, &["sync", "--lock-key", "42", "-f", path_str(&r2)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r2"));
    let r3 = one("r3", "");
    let run = sync_under_held_lock(pg, 42, &["sync", "--lock-key", "42", "-f", path_str(&r3)], Some(42));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r3"));

    // lock_key: 42 in the file does the same.
    let r4 = one("r4", "lock_key: 42\n");
    let run = sync_under_held_lock(pg, 42, &["sync", "-f", path_str(&r4)], Some(42));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r4"));
    let r5 = one("r5", "lock_key: 42\n");
    let run = sync_under_held_lock(pg, 1, &["sync", "-f", path_str(&r5)], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r5"));

    // apply takes the plan's lock key (from the file) too.
    let r6 = one("r6", "lock_key: 42\n");
    let plan = f.path("r6.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&r6), "-o", path_str(&plan)])
        .expect_code(0);
    assert!(f.read("r6.sql").contains("-- lock-key: 42\n"));
    let run = sync_under_held_lock(pg, 42, &["apply", path_str(&plan)], Some(42));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(role_exists(pg, "r6"));
});

/// The queries pgsr sent since the server log was `from` bytes long (with
/// `log_statement = all` and `log_line_prefix = '%a|'`); a query of several
/// statements is one entry.
fn pgsr_queries(pg: &Pg, from: usize) -> Vec<String> {
    let log = pg.server_log()[from..].to_owned();
    let mut entries: Vec<String> = Vec::new();
    let mut ours = false;
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix('\t') {
            if ours {
                entries.last_mut().unwrap().push_str(&format!("\n{rest}"));
            }
            continue;
        }
        ours = line.starts_with("pgsr|") && line.contains("LOG:  statement: ");
        if ours {
            entries.push(line.split_once("LOG:  statement: ").unwrap().1.to_owned());
        }
    }
    entries
}

/// The queries that contain `text`.
fn with(queries: &[String], text: &str) -> usize {
    queries.iter().filter(|q| q.contains(text)).count()
}

pg_test!(fn sync_reads_the_catalog_once_when_the_lock_is_free(pg) {
    pg.set_setting("log_statement", "all");
    pg.set_setting("log_line_prefix", "%a|");
    pg.restart();
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int);");
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("r", &["schema_usage: s", "table_select: { schema: s, table: t }"])]));
    // A one-shot sync sends its catalog statements with literals.
    const READ: &str = "WITH RECURSIVE scoped(oid) AS";
    // The lock tried, and the settings of a scoped read for the
    // transaction (index lookups, no JIT), in the same round trip.
    const TRY: &str = "BEGIN;\nSELECT pg_try_advisory_xact_lock(1), \
        pg_catalog.set_config('enable_seqscan', 'off', true), \
        pg_catalog.set_config('jit', 'off', true);\nWITH RECURSIVE scoped(oid) AS";

    // A role that holds no object and is granted none by name, while no
    // role in the scope (pgsr's intermediate roles included) holds any
    // object in the database: no object catalog is read at all.
    let c_file = f.write("c.yaml", &doc(&[role("c", &["database_connect: postgres"])]));
    let from = pg.server_log().len();
    sync(pg, "postgres", &c_file);
    let queries = pgsr_queries(pg, from);
    assert_eq!(queries.len(), 4, "{queries:#?}");
    assert_eq!(with(&queries, TRY), 1, "{queries:#?}");
    assert_eq!(with(&queries, "pg_attribute"), 0, "{queries:#?}");
    let c_file = f.write("c.yaml", &doc(&[role("c", &["database_connect: postgres"]), role("c2", &[])]));

    // Changes: the settings of the connection; BEGIN, the lock tried and
    // the catalog read, objects included in the same statement (a table is
    // named); the statements; COMMIT. No second read under the lock.
    let from = pg.server_log().len();
    sync(pg, "postgres", &file);
    let queries = pgsr_queries(pg, from);
    assert_eq!(queries.len(), 4, "{queries:#?}");
    assert!(queries[1].contains(TRY) && queries[1].contains("pg_attribute"), "{}", queries[1]);
    assert_eq!(with(&queries, READ), 1, "{queries:#?}");
    assert_eq!(with(&queries, "pg_advisory_xact_lock("), 0, "{queries:#?}");
    assert_eq!(queries[3], "COMMIT");
    assert_can(pg, "postgres", "r", "SELECT * FROM s.t");

    // No changes: the read (in one statement), and the end of its
    // transaction.
    let from = pg.server_log().len();
    let out = sync(pg, "postgres", &file);
    assert!(out.stderr.contains("no changes"), "{}", out.stderr);
    let queries = pgsr_queries(pg, from);
    assert_eq!(queries.len(), 3, "{queries:#?}");
    assert_eq!(with(&queries, TRY), 1, "{queries:#?}");
    assert_eq!(queries[2], "ROLLBACK");

    // Once pgsr's intermediate roles hold objects in the database (r's
    // grants), every partial read reads those objects too: intermediate
    // roles are read like the scope's roles, with everything they hold.
    let from = pg.server_log().len();
    sync(pg, "postgres", &c_file);
    let queries = pgsr_queries(pg, from);
    assert_eq!(with(&queries, TRY), 1, "{queries:#?}");
    assert_eq!(with(&queries, "pg_attribute"), 1, "{queries:#?}");
});

// When another run holds the lock, sync waits for it and plans from what
// that run left: a grant the holder made while sync waited is revoked.
pg_test!(fn sync_reads_again_after_waiting_for_the_lock(pg) {
    pg.set_setting("log_statement", "all");
    pg.set_setting("log_line_prefix", "%a|");
    pg.restart();
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int); CREATE ROLE r; REVOKE ALL ON DATABASE postgres FROM PUBLIC;");
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("r", &["database_connect: postgres"])]));
    let from = pg.server_log().len();
    let holder = LockHolder::take(pg, 1);
    let mut run = Background::spawn(pgsr_command(pg, "postgres", "postgres", &["sync", "-f", path_str(&file)]));
    assert!(
        wait_until(Duration::from_secs(20), || waiting_for_advisory_locks(pg) == vec!["1".to_owned()]),
        "sync never waited for the lock"
    );
    assert!(!run.finished());
    let mut holder = holder;
    holder
        .client
        .batch_execute("GRANT USAGE ON SCHEMA s TO r; GRANT SELECT ON s.t TO r")
        .unwrap();
    holder.release();
    let out = run.wait(Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.t", "permission denied");
    assert_eq!(
        query_one(pg, "postgres", "SELECT has_database_privilege('r', 'postgres', 'CONNECT')").as_deref(),
        Some("t")
    );
    let queries = pgsr_queries(pg, from);
    assert_eq!(with(&queries, "SELECT pg_try_advisory_xact_lock(1), "), 1, "{queries:#?}");
    // The wait for the lock is bounded by --lock-timeout (set for that
    // statement alone, with typed parameters), then the catalog is read
    // again under the lock.
    let log = pg.server_log()[from..].to_owned();
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("pgsr|") && l.contains("pg_catalog.pg_advisory_xact_lock($1)"))
            .count(),
        1,
        "{log}"
    );
    assert_eq!(
        // The first of the two statements of a partial read (the one that
        // counts what the roles hold), on its own this time.
        queries
            .iter()
            .filter(|q| q.starts_with("WITH RECURSIVE scoped(oid) AS") && q.contains("(SELECT 'k'::text"))
            .count(),
        1,
        "read again under the lock: {queries:#?}"
    );
    assert_converged_as(pg, "postgres", "postgres", &file, &[]);
});

// A sync that waited for the lock and finds, reading again, that the run
// that held it did its work, changes nothing and says so.
pg_test!(fn sync_that_waited_finds_its_work_done(pg) {
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("d1", &[])]));
    let mut holder = LockHolder::take(pg, 1);
    let mut run = Background::spawn(pgsr_command(pg, "postgres", "postgres", &["sync", "-f", path_str(&file)]));
    assert!(
        wait_until(Duration::from_secs(20), || waiting_for_advisory_locks(pg) == vec!["1".to_owned()]),
        "sync never waited for the lock"
    );
    assert!(!run.finished());
    holder.client.batch_execute("CREATE ROLE d1").unwrap();
    holder.release();
    let out = run.wait(Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("no changes"), "{}", out.stderr);
    assert_converged_as(pg, "postgres", "postgres", &file, &[]);
});

// ---------------------------------------------------------------------------
// 14. Stale plans

pg_test!(fn stale_plans_are_refused_and_change_nothing(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int); CREATE ROLE r;");
    let f = Files::new();
    let file = f.write(
        "d.yaml",
        &doc(&[role("r", &["schema_usage: s", "table_select: { schema: s, table: t }"])]),
    );
    let plan = f.path("p.sql");
    let old = f.path("old.json");
    pg.pgsr("postgres", "postgres", &["inspect", "-o", path_str(&old)]).expect_code(0);
    pg.pgsr(
        "postgres",
        "postgres",
        &["plan", "-f", path_str(&file), "--snapshot", path_str(&old), "-o", path_str(&plan)],
    )
    .expect_code(0);

    // A change between plan and apply.
    pg.execute("postgres", "GRANT INSERT ON s.t TO r");
    let before = inspect_text(pg, "postgres", "postgres");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error("stale apply", &out, 3, "the catalog changed since the plan was made");
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before, "a stale apply changed the catalog");
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.t", "schema s");

    assert!(out.stderr.contains("with --snapshot and the snapshot the plan was made from"), "{}", out.stderr);

    // With the snapshot the plan was made from, what changed follows the
    // error's line: one short line per kind of object, names first.
    let out = pg.pgsr(
        "postgres",
        "postgres",
        &["apply", path_str(&plan), "--snapshot", path_str(&old)],
    );
    no_panic(&out);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[0].starts_with("pgsr: error: ") && lines[0].contains("the catalog changed since the plan was made"),
        "{}",
        out.stderr
    );
    assert_eq!(lines[1], "pgsr: changed since the plan: relations: changed s.t (acl +INSERT to r)");
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before);

    // Another snapshot cannot say what changed, and says so.
    let other = f.path("other.json");
    pg.pgsr("postgres", "postgres", &["inspect", "-o", path_str(&other)]).expect_code(0);
    let out = pg.pgsr(
        "postgres",
        "postgres",
        &["apply", path_str(&plan), "--snapshot", path_str(&other)],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.lines().nth(1).is_some_and(|l| l.starts_with("pgsr: the snapshot given is not the one the plan was made from")),
        "{}",
        out.stderr
    );

    // A fresh plan applies once; the same plan again is stale.
    let fresh = f.path("fresh.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&fresh)])
        .expect_code(0);
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&fresh)]);
    no_panic(&out);
    out.expect_code(0);
    assert_can(pg, "postgres", "r", "SELECT * FROM s.t");
    assert_cannot(pg, "postgres", "r", "INSERT INTO s.t VALUES (1)", "table t");
    let after_first = inspect_text(pg, "postgres", "postgres");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&fresh)]);
    assert_one_line_error("second apply", &out, 3, "the catalog changed since the plan was made");
    assert_eq!(inspect_text(pg, "postgres", "postgres"), after_first);
});

// A plan made for another database, or as another role, is an error (1),
// not stale (3): planning again here would not give the plan that was
// reviewed. Only a change of the catalog itself is stale.
pg_test!(fn a_plan_for_another_database_or_role_is_an_error_not_stale(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE ROLE admin LOGIN SUPERUSER;");
    pg.execute("postgres", "CREATE DATABASE other");
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("other", "CREATE SCHEMA s;");
    pg.execute("app", "CREATE SCHEMA s;");
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("r", &["schema_usage: s"])]));
    let plan_in = |db: &str, name: &str| {
        let plan = f.path(name);
        pg.pgsr("postgres", db, &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
            .expect_code(0);
        plan
    };
    let plan = plan_in("postgres", "p.sql");
    let oid = database_oid(pg, "postgres");

    let out = pg.pgsr("postgres", "other", &["apply", path_str(&plan)]);
    assert_one_line_error(
        "another database",
        &out,
        1,
        &format!("the plan was made for database \"postgres\" (oid {oid}) but this connection is to \"other\""),
    );
    let out = pg.pgsr("admin", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error(
        "another role",
        &out,
        1,
        "the plan was made for connecting role \"postgres\" but this connection is \"admin\"",
    );
    // A database of the same name made again is another database.
    let app = plan_in("app", "app.sql");
    let old_oid = database_oid(pg, "app");
    pg.execute("postgres", "DROP DATABASE app");
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("app", "CREATE SCHEMA s;");
    let out = pg.pgsr("postgres", "app", &["apply", path_str(&app)]);
    assert_one_line_error(
        "the same name, made again",
        &out,
        1,
        &format!("the plan was made for database \"app\" (oid {old_oid}) but this connection is to \"app\" (oid {})", database_oid(pg, "app")),
    );
    assert!(!role_exists(pg, "r"), "nothing was applied");

    // The catalog the plan read changed: stale.
    pg.execute("postgres", "ALTER SCHEMA s OWNER TO admin");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error("a catalog change", &out, 3, "the catalog changed since the plan was made");
    assert!(!role_exists(pg, "r"), "nothing was applied");
});

// ---------------------------------------------------------------------------
// 15. Validation before connecting

pg_test!(fn edited_and_forbidden_scripts_are_refused_before_connecting(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int);");
    let f = Files::new();
    let file = f.write(
        "d.yaml",
        &doc(&[role("r", &["schema_usage: s", "table_select: { schema: s, table: t }"])]),
    );
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
        .expect_code(0);
    let script = f.read("p.sql");
    let closed = closed_port_conninfo();
    let apply = |name: &str, text: &str| {
        let path = f.write(name, text);
        pg.pgsr("postgres", "postgres", &["apply", "--db", &closed, path_str(&path)])
    };

    // Control: the untouched plan gets as far as connecting, and fails there.
    let out = apply("ok.sql", &script);
    assert_one_line_error("untouched plan, closed port", &out, 1, "cannot connect");

    // Any byte of the body changed: the checksum no longer matches.
    let body_at = script.find("\n\n").unwrap() + 2;
    let edits = [
        script.replacen("GRANT USAGE", "GRANT CREATE", 1),
        script.replacen("TO r;", "TO s;", 1),
        {
            let mut bytes = script.clone().into_bytes();
            let last = bytes.len() - 3;
            bytes[last] ^= 0x01;
            String::from_utf8(bytes).unwrap()
        },
        format!("{}-- one more comment\n", script),
    ];
    for (i, edited) in edits.iter().enumerate() {
        assert_ne!(edited, &script, "edit {i} changed nothing");
        assert_eq!(edited[..body_at], script[..body_at], "edit {i} must change the body only");
        let out = apply(&format!("edited{i}.sql"), edited);
        assert_one_line_error(&format!("edit {i}"), &out, 1, "checksum mismatch");
    }

    // Forbidden statements, with the checksum and count made to match.
    let forbidden: &[&[&str]] = &[
        &["DROP TABLE s.t"],
        &["GRANT USAGE ON SCHEMA s TO r", "DROP SCHEMA s CASCADE"],
        &["DELETE FROM s.t"],
        &["SELECT pg_terminate_backend(1)"],
        &["DO $$BEGIN PERFORM 1; END$$"],
        &["COPY s.t TO PROGRAM 'true'"],
        &["ALTER SYSTEM SET work_mem = '1MB'"],
        &["SET ROLE postgres"],
        &["CREATE TABLE s.x (i int)"],
        &["TRUNCATE s.t"],
        &["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
        &["ALTER ROLE r RESET ALL"],
        &["GRANT USAGE ON SCHEMA s TO r /* ; */", "VACUUM"],
    ];
    for statements in forbidden {
        let text = reseal(&script, statements);
        let out = apply("forbidden.sql", &text);
        let case = format!("{statements:?}");
        assert_one_line_error(&case, &out, 1, "not allowed in a plan");
        assert!(!out.stderr.contains("cannot connect"), "{case}: {}", out.stderr);
    }
    // A psql meta-command.
    let out = apply("meta.sql", &reseal(&script, &["GRANT USAGE ON SCHEMA s TO r;\n\\! touch /tmp/x\nSELECT 1"]));
    assert_one_line_error("meta-command", &out, 1, "meta-command");

    // The resealing itself is sound: a resealed plan of allowed statements
    // passes validation and fails only at connecting.
    let out = apply("resealed.sql", &reseal(&script, &["GRANT USAGE ON SCHEMA s TO r"]));
    assert_one_line_error("resealed allowed plan", &out, 1, "cannot connect");
});

// ---------------------------------------------------------------------------
// 16. Atomicity

const REFUSE_GRANTS: &str = "
    CREATE FUNCTION public.refuse_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'grants are frozen'; END $$;
    CREATE EVENT TRIGGER refuse_grants ON ddl_command_start WHEN TAG IN ('GRANT')
        EXECUTE FUNCTION public.refuse_grants();";

const SLOW_GRANTS: &str = "
    CREATE FUNCTION public.slow_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(120); END $$;
    CREATE EVENT TRIGGER slow_grants ON ddl_command_start WHEN TAG IN ('GRANT')
        EXECUTE FUNCTION public.slow_grants();";

/// A desired file of `n` roles that can log in, each with usage of s.
fn many_users(n: usize) -> String {
    let roles: Vec<String> = (0..n)
        .map(|i| role(&format!("user_{i:05}"), &["login:", "schema_usage: s"]))
        .collect();
    doc(&roles)
}

// A statement that fails when it runs (an event trigger refuses GRANTs on
// schemas; the snapshot cannot see that) after thousands of CREATE ROLEs:
// nothing stays behind.
pg_test!(fn a_statement_failing_mid_apply_leaves_nothing(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.pub (i int); GRANT SELECT ON s.pub TO PUBLIC;");
    pg.execute("postgres", REFUSE_GRANTS);
    let f = Files::new();
    let file = f.write("many.yaml", &many_users(2000));
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
        .expect_code(0);
    let script = f.read("p.sql");
    let grant_at = script.find("\nGRANT USAGE ON SCHEMA s").expect("the plan grants usage");
    let creates_before = script[..grant_at].matches("\nCREATE ROLE ").count();
    assert!(creates_before >= 2000, "the failing GRANT comes after {creates_before} CREATE ROLEs");

    let before = inspect_text(pg, "postgres", "postgres");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error("failing apply", &out, 1, "grants are frozen");
    assert!(out.stderr.contains("nothing was applied"), "{}", out.stderr);
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before, "a failed apply left changes");
    assert!(!role_exists(pg, "user_00000"));

    // The same through sync.
    let out = pg.pgsr("postgres", "postgres", &["sync", "-f", path_str(&file)]);
    assert_one_line_error("failing sync", &out, 1, "grants are frozen");
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before, "a failed sync left changes");

    // Without the trigger the next sync converges.
    pg.execute("postgres", "DROP EVENT TRIGGER refuse_grants");
    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "user_01999", "SELECT * FROM s.pub");
    assert!(role_exists(pg, "user_00000"));
});

// The connection is terminated from another session in the middle of a
// large apply: nothing stays behind, the error is one line, and the next
// sync converges.
pg_test!(fn a_terminated_apply_leaves_nothing(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.pub (i int); GRANT SELECT ON s.pub TO PUBLIC;");
    pg.execute("postgres", SLOW_GRANTS);
    let f = Files::new();
    let file = f.write("many.yaml", &many_users(2000));
    let before = inspect_text(pg, "postgres", "postgres");

    let mut run = Background::spawn(pgsr_command(pg, "postgres", "postgres", &["sync", "-f", path_str(&file)]));
    // The GRANT on the schema comes after the CREATE ROLEs, in the same
    // transaction; the trigger holds it there.
    let mut pid = None;
    let caught = wait_until(Duration::from_secs(60), || {
        pid = query_one(
            pg,
            "postgres",
            "SELECT pid::text FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
        );
        pid.is_some()
    });
    assert!(caught, "the apply never reached the GRANT");
    assert!(!run.finished());
    let pid = pid.unwrap();
    assert_eq!(
        query_one(pg, "postgres", "SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'user_%'").as_deref(),
        Some("0"),
        "uncommitted roles are invisible to others"
    );
    assert_eq!(
        query_one(pg, "postgres", &format!("SELECT pg_terminate_backend({pid})::text")).as_deref(),
        Some("true")
    );
    let out = run.wait(Duration::from_secs(30));
    assert_one_line_error("terminated sync", &out, 1, "nothing was applied");
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before, "a terminated apply left changes");

    pg.execute("postgres", "DROP EVENT TRIGGER slow_grants");
    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "user_01999", "SELECT * FROM s.pub");
});

// ---------------------------------------------------------------------------
// 17. Exit codes

pg_test!(fn exit_codes(pg) {
    pg.execute("postgres", "CREATE SCHEMA s;");
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("r", &["schema_usage: s"])]));
    let p = path_str(&file);

    // plan --exit-code: 2 with changes (the plan on stdout), 0 without.
    let out = pg.pgsr("postgres", "postgres", &["plan", "--exit-code", "-f", p]);
    no_panic(&out);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.contains("CREATE ROLE r;"), "{}", out.stdout);
    // Without --exit-code, changes are not an error.
    pg.pgsr("postgres", "postgres", &["plan", "-f", p]).expect_code(0);
    sync(pg, "postgres", &file);
    let out = pg.pgsr("postgres", "postgres", &["plan", "--exit-code", "-f", p]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("-- statements: 0\n"));
    let out = pg.pgsr("postgres", "postgres", &["sync", "-f", p]);
    assert_eq!(out.code, 0);

    // Errors: 1, one line.
    let missing = f.path("missing.yaml");
    let bad_yaml = f.write("bad.yaml", "roles:\n  - name: r\n    grants:\n      - tabel_select: x\n");
    let no_env = f.write("env.yaml", &doc(&[role("r", &["login: { password_env: PGSR_TEST_UNSET_VARIABLE }"])]));
    let itself = f.write("self.yaml", &doc(&[role("postgres", &[])]));
    let absent = f.write("absent.yaml", &doc(&[role("r", &["schema_usage: nowhere"])]));
    let not_a_plan = f.write("not_a_plan.sql", "GRANT USAGE ON SCHEMA s TO r;\n");
    let closed = closed_port_conninfo();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("missing file", vec!["sync", "-f", path_str(&missing)], "cannot read"),
        ("YAML error", vec!["plan", "-f", path_str(&bad_yaml)], "bad.yaml:4:9: unknown grant kind"),
        ("unset password_env", vec!["sync", "-f", path_str(&no_env)], "PGSR_TEST_UNSET_VARIABLE is not set"),
        ("connecting role", vec!["sync", "-f", path_str(&itself)], "connecting role"),
        ("strict", vec!["sync", "--strict", "-f", path_str(&absent)], "schema nowhere does not exist"),
        ("strict plan", vec!["plan", "--exit-code", "--strict", "-f", path_str(&absent)], "does not exist"),
        ("closed port", vec!["sync", "--db", &closed, "-f", p], "cannot connect"),
        ("not a plan", vec!["apply", path_str(&not_a_plan)], "not a pgsr plan"),
        ("missing database", vec!["plan", "--db", "dbname=nope", "-f", p], "nope"),
    ];
    for (case, args, needle) in cases {
        let out = pg.pgsr("postgres", "postgres", &args);
        assert_one_line_error(case, &out, 1, needle);
        assert!(out.stdout.is_empty(), "{case}: nothing on stdout: {}", out.stdout);
    }
    // A grant on a missing object is skipped (not an error) without --strict.
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&absent)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("-- skipped: r: schema_usage nowhere: schema nowhere does not exist"), "{}", out.stdout);
});

// ---------------------------------------------------------------------------
// 18. What a failure is called

// The server parses a whole batch before it runs any of it: a statement it
// cannot parse fails the batch before its savepoint exists. That is a
// syntax error at a line of the plan, not a lost connection.
pg_test!(fn a_syntax_error_is_reported_as_one_with_its_line(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE ROLE r;");
    let f = Files::new();
    let file = f.write("d.yaml", &doc(&[role("r", &["schema_usage: s"])]));
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)])
        .expect_code(0);
    // The validator lets an argument list through as the server's parser
    // reads it; `(.)` is not one.
    let bad = "REVOKE EXECUTE ON FUNCTION s.f(.) FROM r";
    let text = reseal(&f.read("p.sql"), &["GRANT USAGE ON SCHEMA s TO r", bad]);
    let line = text.lines().position(|l| l.starts_with(bad)).unwrap() + 1;
    let path = f.write("bad.sql", &text);
    let before = inspect_text(pg, "postgres", "postgres");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&path)]);
    assert_one_line_error(
        "syntax error",
        &out,
        1,
        &format!("syntax error in the statement at line {line}: ERROR: syntax error at or near \".\": {bad}; nothing was applied"),
    );
    for wrong in ["savepoint", "connection was lost"] {
        assert!(!out.stderr.contains(wrong), "{}", out.stderr);
    }
    assert_eq!(inspect_text(pg, "postgres", "postgres"), before);
});

pg_test!(fn json_plan_summary_and_show(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int); CREATE ROLE team; CREATE ROLE member_1; GRANT team TO member_1");
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:\n  - name: team\n    grants:\n      - schema_usage: {schema: s, direct: true}\n      - table_select: {schema: s, table: t, direct: true}\n",
    );
    // The JSON document: the summary, the statements, and the checksum
    // that binds an apply to it. The blast radius counts the members a
    // full read sees.
    let out = pg
        .pgsr("postgres", "postgres", &["plan", "--full-scope", "--format", "json", "-f", path_str(&file)])
        .expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["format_version"], 1);
    let summary: Vec<String> = serde_json::from_value(doc["summary"].clone()).unwrap();
    assert!(summary.iter().any(|l| l.starts_with("team: gains 2")), "{summary:?}");
    assert!(summary.iter().any(|l| l.contains("blast radius of team: 1 role")), "{summary:?}");
    assert_eq!(doc["statements"].as_array().unwrap().len(), 2);
    let checksum = doc["checksum"].as_str().unwrap().to_owned();
    let plan_file = f.path("plan.sql");
    pg.pgsr("postgres", "postgres", &["plan", "--full-scope", "-o", path_str(&plan_file), "-f", path_str(&file)])
        .expect_code(0);
    // `show` prints the summary of a plan file.
    let out = pg.pgsr("postgres", "postgres", &["show", path_str(&plan_file)]).expect_code(0);
    assert!(out.stdout.contains("team: gains 2"), "{}", out.stdout);
    // The document's checksum is the script's: apply takes it.
    let out = pg.pgsr("postgres", "postgres", &["apply", "--expect-checksum", &checksum, path_str(&plan_file)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_can(pg, "postgres", "member_1", "SELECT * FROM s.t");
});
