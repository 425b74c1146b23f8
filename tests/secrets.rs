//! Acceptance tests of how pgsr handles passwords: a plan names where a
//! password comes from and never holds the password or anything derived
//! from it; what pgsr sends is a SCRAM-SHA-256 verifier with a fresh random
//! salt and the server's iteration count; an unchanged password is not
//! drift; and no secret reaches pgsr's output or the server log.

mod support;

use pgsr_e2e::{pg_test, Pg};
use std::process::{Command, Stdio};
use support::*;

const PW: &str = "Correct-Horse-Battery-9";

fn login_file(f: &Files) -> std::path::PathBuf {
    f.write(
        "alice.yaml",
        &doc(&[role(
            "alice",
            &[
                "login: { password_env: ALICE_PW }",
                "database_connect: postgres",
            ],
        )]),
    )
}

/// `(iterations, salt)` of alice's stored verifier.
fn stored(pg: &Pg) -> (String, String) {
    let v = query_one(
        pg,
        "postgres",
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'",
    )
    .expect("a password");
    let rest = v
        .strip_prefix("SCRAM-SHA-256$")
        .unwrap_or_else(|| panic!("not a SCRAM verifier: {v}"));
    let (head, _) = rest.split_once('$').unwrap();
    let (iterations, salt) = head.split_once(':').unwrap();
    (iterations.to_owned(), salt.to_owned())
}

pg_test!(fn a_plan_holds_no_password_and_nothing_derived_from_it(pg) {
    pg.execute("postgres", "CREATE ROLE maker CREATEROLE LOGIN; ALTER DATABASE postgres OWNER TO maker;");
    let f = Files::new();
    let file = login_file(&f);
    let snapshot = f.path("snapshot.json");
    pg.pgsr("postgres", "postgres", &["inspect", "-o", path_str(&snapshot)]).expect_code(0);
    // From a snapshot, as a non-superuser and as a superuser: the plan is
    // the same bytes whatever the password is, so nothing in it can test a
    // guess.
    let plan_with = |user: &str, args: &[&str], pw: &str| {
        let out = pg.pgsr_with_env(user, "postgres", args, &[("ALICE_PW", pw)]);
        assert!(out.code == 0 || out.code == 2, "{}", out.stderr);
        assert!(!out.stderr.contains(pw) && !out.stderr.contains("SCRAM"), "{}", out.stderr);
        out.stdout
    };
    for (user, args) in [
        ("postgres", vec!["plan", "--snapshot", path_str(&snapshot), "-f", path_str(&file)]),
        ("maker", vec!["plan", "-f", path_str(&file)]),
        ("postgres", vec!["plan", "-f", path_str(&file)]),
    ] {
        let one = plan_with(user, &args, PW);
        let two = plan_with(user, &args, "something-else-entirely");
        assert_eq!(one, two, "the plan depends on the password");
        assert!(!one.contains(PW) && !one.contains("SCRAM-SHA-256"), "{one}");
        assert!(one.contains("ALTER ROLE alice WITH PASSWORD :'password_1';"), "{one}");
        assert!(one.contains("-- password: password_1 \"alice\" env \"ALICE_PW\"\n"), "{one}");
    }
});

pg_test!(fn apply_salts_each_password_afresh_with_the_servers_iterations(pg) {
    let f = Files::new();
    let file = login_file(&f);
    let env = [("ALICE_PW", PW)];
    let out = sync_as_env(pg, "postgres", "postgres", &file, &env);
    assert!(!out.stderr.contains(PW) && !out.stdout.contains("SCRAM"), "{}", out.stderr);
    assert_login(pg, "alice", PW, "postgres");
    let (iterations, first) = stored(pg);
    assert_eq!(iterations, "4096");
    assert_eq!(first.len(), 24, "a 16-byte salt: {first}");

    // Set again: a new salt, the same password.
    let out = pg.pgsr_with_env("postgres", "postgres", &["sync", "--reset-passwords", "-f", path_str(&file)], &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, second) = stored(pg);
    assert_ne!(first, second, "the salt was not drawn afresh");
    assert_login(pg, "alice", PW, "postgres");

    // The plan, applied by pgsr apply, reads the password there.
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "--reset-passwords", "-f", path_str(&file), "-o", path_str(&plan)]).expect_code(0);
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error("no password", &out, 1, "the password of alice (password_1) cannot be read: password_env: environment variable ALICE_PW is not set");
    assert_eq!(stored(pg).1, second, "nothing was applied");
    pg.pgsr_with_env("postgres", "postgres", &["apply", path_str(&plan)], &[("ALICE_PW", "a-new-Password-1")]).expect_code(0);
    assert_login(pg, "alice", "a-new-Password-1", "postgres");

    if pg.major >= 16 {
        // The server's scram_iterations, as PostgreSQL itself would use.
        pg.execute("postgres", "ALTER ROLE postgres SET scram_iterations = 10000");
        pg.pgsr_with_env("postgres", "postgres", &["sync", "--reset-passwords", "-f", path_str(&file)], &env).expect_code(0);
        assert_eq!(stored(pg).0, "10000");
        assert_login(pg, "alice", PW, "postgres");
    }
});

pg_test!(fn an_unchanged_password_is_not_drift(pg) {
    pg.execute("postgres", "CREATE ROLE maker CREATEROLE LOGIN; ALTER DATABASE postgres OWNER TO maker;");
    let f = Files::new();
    let file = login_file(&f);
    let env = [("ALICE_PW", PW)];
    sync_as_env(pg, "postgres", "postgres", &file, &env);
    let plan = |user: &str, extra: &[&str], pw: &str| {
        let mut args = vec!["plan", "--exit-code", "-f", path_str(&file)];
        args.extend_from_slice(extra);
        let out = pg.pgsr_with_env(user, "postgres", &args, &[("ALICE_PW", pw)]);
        no_panic(&out);
        out
    };
    // As superuser the stored verifier is compared: nothing to do.
    let out = plan("postgres", &[], PW);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("-- statements: 0\n"), "{}", out.stdout);
    // A new password is a change, and so is a forced reset.
    let out = plan("postgres", &[], "another-Password-2");
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.contains("-- statements: 1 (password 1)\n"), "{}", out.stdout);
    let out = plan("postgres", &["--reset-passwords"], PW);
    assert_eq!(out.code, 2, "{}", out.stdout);
    // A superuser's sync with the same password changes nothing.
    let out = sync_as_env(pg, "postgres", "postgres", &file, &env);
    assert!(out.stderr.contains("no changes"), "{}", out.stderr);
    // A verifier PostgreSQL made itself (its own salt) is compared too.
    pg.execute("postgres", &format!("ALTER ROLE alice PASSWORD {}", literal(PW)));
    let out = plan("postgres", &[], PW);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("-- statements: 0\n"), "{}", out.stdout);

    // Without superuser the stored verifier cannot be read: the password is
    // set on every run, but a plan that only does that is not a change.
    let out = plan("maker", &[], PW);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("-- statements: 1 (password 1)\n"), "{}", out.stdout);
    assert!(out.stdout.contains("-- note: the password of alice is set on every run"), "{}", out.stdout);
    let out = plan("maker", &["--reset-passwords"], PW);
    assert_eq!(out.code, 2, "{}", out.stdout);
    // Anything else still counts.
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC; ALTER ROLE alice NOLOGIN");
    let out = plan("maker", &[], PW);
    assert_eq!(out.code, 2, "{}", out.stdout);
});

pg_test!(fn no_secret_reaches_output_or_the_server_log(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE FUNCTION refuse_grants() RETURNS event_trigger LANGUAGE plpgsql AS
           $$BEGIN RAISE EXCEPTION 'grants are frozen'; END$$;
         CREATE EVENT TRIGGER refuse_grants ON ddl_command_start WHEN TAG IN ('GRANT')
           EXECUTE FUNCTION refuse_grants();",
    );
    let f = Files::new();
    let file = f.write(
        "d.yaml",
        &doc(&[role("alice", &["login: { password_env: ALICE_PW }", "schema_usage: { schema: s, direct: true }"])]),
    );
    let env = [("ALICE_PW", PW)];
    let plan = f.path("p.sql");
    pg.pgsr_with_env("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)], &env).expect_code(0);
    for args in [vec!["apply", path_str(&plan)], vec!["sync", "-f", path_str(&file)]] {
        let out = pg.pgsr_with_env("postgres", "postgres", &args, &env);
        assert_one_line_error("frozen", &out, 1, "grants are frozen");
        for secret in [PW, "SCRAM-SHA-256"] {
            assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret), "{args:?}: {}", out.stderr);
        }
    }
    let log = pg.server_log();
    assert!(log.contains("grants are frozen"), "the failure is logged:\n{log}");
    for secret in [PW, "SCRAM-SHA-256"] {
        assert!(!log.contains(secret), "the server log holds {secret:?}:\n{log}");
    }
    assert!(!role_exists(pg, "alice"));
});

pg_test!(fn psql_needs_each_password_as_a_variable(pg) {
    let f = Files::new();
    let file = login_file(&f);
    let plan = f.path("p.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file), "-o", path_str(&plan)]).expect_code(0);
    let psql = |vars: &[&str]| {
        let mut cmd = Command::new("psql");
        for v in vars {
            cmd.args(["-v", v]);
        }
        cmd.args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", path_str(&plan)])
            .env("PGHOST", pg.socket_dir())
            .env("PGPORT", pg.port.to_string())
            .env("PGUSER", "postgres")
            .env("PGDATABASE", "postgres")
            .stdin(Stdio::null())
            .output()
            .expect("psql")
    };
    // Without the variable psql sends `:'password_1'` as it is: a syntax
    // error, and the whole plan is rolled back.
    let out = psql(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("syntax error"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!role_exists(pg, "alice"));
    let out = psql(&[&format!("password_1={PW}")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_login(pg, "alice", PW, "postgres");
});
