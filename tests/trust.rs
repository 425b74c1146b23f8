//! Acceptance tests of what makes a plan trustworthy: a tampered plan never
//! runs (with or without a plan key), a forged statement of any shape is
//! refused with one line naming it, power is never given silently (at plan
//! time and, against the live catalog, at apply time), and a desired file
//! cannot reach the connecting role.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use support::*;

const KEY: &str = "0123456789abcdef0123456789abcdef";
const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210";

/// Roles and objects that forged statements aim at.
const SETUP: &str = "
    CREATE ROLE attacker LOGIN PASSWORD 'attacker-pw';
    CREATE ROLE boss SUPERUSER;
    CREATE ROLE admins; GRANT postgres TO admins;
    CREATE ROLE deep; GRANT admins TO deep;
    CREATE ROLE mgr CREATEROLE;
    CREATE ROLE rls BYPASSRLS;
    CREATE ROLE repl REPLICATION;
    CREATE ROLE reader;
    CREATE SCHEMA s;
    CREATE TABLE s.t (i int);
    CREATE VIEW s.v AS SELECT 1 AS one;
    CREATE FUNCTION s.definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
    CREATE TYPE s.mood AS ENUM ('a');
    CREATE DOMAIN s.d AS int;
    CREATE AGGREGATE s.agg(int) (sfunc = int4pl, stype = int);
    CREATE FOREIGN DATA WRAPPER w;
    CREATE SERVER srv FOREIGN DATA WRAPPER w;
    SELECT lo_create(4242);
";

/// A valid plan that creates `victim` with USAGE on `s`: what the forged
/// statements are added to.
fn victim_plan(pg: &Pg, f: &Files, env: &[(&str, &str)], extra: &[&str]) -> String {
    let file = f.write("victim.yaml", &doc(&[role("victim", &["schema_usage: s"])]));
    let plan = f.path("victim.sql");
    let mut args = vec!["plan", "-f", path_str(&file), "-o", path_str(&plan)];
    args.extend_from_slice(extra);
    pg.pgsr_with_env("postgres", "postgres", &args, env)
        .expect_code(0);
    f.read("victim.sql")
}

fn apply_text(
    pg: &Pg,
    f: &Files,
    name: &str,
    text: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> PgsrOutput {
    let path = f.write(name, text);
    let mut all = vec!["apply", path_str(&path)];
    all.extend_from_slice(args);
    let out = pg.pgsr_with_env("postgres", "postgres", &all, env);
    no_panic(&out);
    out
}

/// The catalog as pgsr sees it (every database object it reads).
fn catalog(pg: &Pg) -> String {
    inspect_text(pg, "postgres", "postgres")
}

/// What a role can do that a forged plan must not give it.
fn assert_powerless(pg: &Pg, role: &str) {
    assert!(
        !is_member(pg, role, "postgres"),
        "{role} became a member of postgres"
    );
    assert!(!is_member(pg, role, "pg_execute_server_program"));
    assert_cannot(
        pg,
        "postgres",
        role,
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "",
    );
    assert_eq!(
        query_one(
            pg,
            "postgres",
            &format!(
                "SELECT rolsuper FROM pg_roles WHERE rolname = {}",
                literal(role)
            )
        )
        .as_deref(),
        Some("f")
    );
}

// ---------------------------------------------------------------------------
// Tampered plans

pg_test!(fn a_tampered_plan_never_runs_without_a_key(pg) {
    pg.execute("postgres", SETUP);
    let f = Files::new();
    let script = victim_plan(pg, &f, &[], &[]);
    let before = catalog(pg);

    // The two statements of the reported attack, each with a recomputed
    // checksum and fixed counts.
    let (forged, line) = forge(&script, "GRANT postgres, pg_execute_server_program TO attacker");
    let out = apply_text(pg, &f, "a.sql", &forged, &[], &[]);
    assert_one_line_error("membership of postgres", &out, 1, &format!("line {line}: gives attacker membership of postgres (SUPERUSER"));
    let (forged, line) = forge(&script, "ALTER ROLE boss WITH LOGIN PASSWORD 'x'");
    let out = apply_text(pg, &f, "b.sql", &forged, &[], &[]);
    assert_one_line_error("plaintext password", &out, 1, &format!("line {line}: ALTER ROLE: a password or verifier"));
    assert_eq!(catalog(pg), before, "a forged plan changed the catalog");
    assert_powerless(pg, "attacker");
    assert!(!role_exists(pg, "victim"));

    // The same plan, untouched, applies.
    let out = apply_text(pg, &f, "c.sql", &script, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(role_exists(pg, "victim"));
});

pg_test!(fn with_a_plan_key_only_signed_untouched_plans_run(pg) {
    pg.execute("postgres", SETUP);
    let f = Files::new();
    let key = [("PGSR_PLAN_KEY", KEY)];
    let signed = victim_plan(pg, &f, &key, &[]);
    assert!(signed.lines().any(|l| l.starts_with("-- signature: hmac-sha256:")), "{signed}");
    let unsigned = victim_plan(pg, &f, &[], &[]);
    assert!(!unsigned.contains("-- signature:"));
    let before = catalog(pg);

    // A forged statement with a recomputed checksum: the signature no longer fits.
    let (forged, _) = forge(&signed, "GRANT reader TO attacker");
    let out = apply_text(pg, &f, "forged.sql", &forged, &[], &key);
    assert_one_line_error("forged, signed", &out, 1, "wrong signature");
    assert!(!out.stderr.contains("cannot connect"));
    // The signature line removed: unsigned.
    let stripped: String = forged.split_inclusive('\n').filter(|l| !l.starts_with("-- signature:")).collect();
    let out = apply_text(pg, &f, "stripped.sql", &stripped, &[], &key);
    assert_one_line_error("signature removed", &out, 1, "the plan is not signed");
    // A plan made without the key.
    let out = apply_text(pg, &f, "unsigned.sql", &unsigned, &[], &key);
    assert_one_line_error("unsigned", &out, 1, "the plan is not signed");
    // Signed with another key.
    let out = apply_text(pg, &f, "signed.sql", &signed, &[], &[("PGSR_PLAN_KEY", OTHER_KEY)]);
    assert_one_line_error("other key", &out, 1, "wrong signature");
    // A key too short to be one.
    let out = apply_text(pg, &f, "signed.sql", &signed, &[], &[("PGSR_PLAN_KEY", "short")]);
    assert_one_line_error("short key", &out, 1, "needs at least 16");
    assert_eq!(catalog(pg), before);
    assert!(!is_member(pg, "attacker", "reader"));

    // The key from a file works as the variable does.
    let key_file = f.write("plan.key", &format!("{KEY}\n"));
    let out = apply_text(pg, &f, "signed.sql", &signed, &["--plan-key-file", path_str(&key_file)], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(role_exists(pg, "victim"));
});

pg_test!(fn expect_checksum_binds_an_apply_to_the_reviewed_plan(pg) {
    pg.execute("postgres", SETUP);
    let f = Files::new();
    let script = victim_plan(pg, &f, &[], &[]);
    let checksum = script.lines().find_map(|l| l.strip_prefix("-- checksum: ")).unwrap().to_owned();
    let (forged, _) = forge(&script, "GRANT reader TO attacker");
    let out = apply_text(pg, &f, "forged.sql", &forged, &["--expect-checksum", &checksum], &[]);
    assert_one_line_error("forged", &out, 1, "this is not the plan that was reviewed");
    assert!(!is_member(pg, "attacker", "reader"));
    let out = apply_text(pg, &f, "ok.sql", &script, &["--expect-checksum", &checksum], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(role_exists(pg, "victim"));
});

// ---------------------------------------------------------------------------
// The forged-statement corpus

/// (needle, statement) pairs of tests/forged/statements.tsv.
fn corpus() -> Vec<(String, String)> {
    let path = pgsr_e2e::workspace_root().join("tests/forged/statements.tsv");
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (needle, sql) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("no tab in {l:?}"));
            (needle.to_owned(), sql.to_owned())
        })
        .collect()
}

pg_test!(fn forged_statements_are_refused(pg) {
    pg.execute("postgres", SETUP);
    let f = Files::new();
    let script = victim_plan(pg, &f, &[], &[]);
    let cases = corpus();
    assert!(cases.len() >= 80, "the corpus has {} statements", cases.len());
    let before = catalog(pg);
    let mut failures = Vec::new();
    for (i, (needle, sql)) in cases.iter().enumerate() {
        let (forged, line) = forge(&script, sql);
        let out = apply_text(pg, &f, &format!("forged-{i}.sql"), &forged, &[], &[]);
        let lines: Vec<&str> = out.stderr.lines().collect();
        let expected = format!("line {line}: ");
        let ok = out.code == 1
            && lines.len() == 1
            && lines[0].starts_with("pgsr: error: ")
            && lines[0].contains(&expected)
            && lines[0].contains(needle.as_str());
        if !ok {
            failures.push(format!("{sql}\n  expected exit 1 and one line with {expected:?} and {needle:?}\n  got exit {}: {}", out.code, out.stderr.trim_end()));
        }
    }
    assert!(failures.is_empty(), "{} of {} forged statements were not refused as expected:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(catalog(pg), before, "a forged plan changed the catalog");
    assert_powerless(pg, "attacker");
    assert!(!role_exists(pg, "victim"));
});

// ---------------------------------------------------------------------------
// Power

pg_test!(fn power_is_refused_at_plan_time_unless_allowed(pg) {
    pg.execute("postgres", SETUP);
    let f = Files::new();
    for (target, why) in [
        ("boss", "SUPERUSER"),
        ("admins", "member of postgres"),
        ("mgr", "CREATEROLE"),
        ("pg_execute_server_program", "predefined role"),
        ("pg_signal_backend", "predefined role"),
    ] {
        let file = f.write("p.yaml", &doc(&[role("ops", &["login:", &format!("role_membership: {target}")])]));
        for command in ["plan", "sync"] {
            let out = pg.pgsr("postgres", "postgres", &[command, "-f", path_str(&file)]);
            assert_one_line_error(target, &out, 1, &format!("p.yaml:5:9: ops: role_membership: {target} gives power ({why}"));
            assert!(out.stderr.contains("allow_power"), "{}", out.stderr);
        }
        assert!(!role_exists(pg, "ops"));
    }
    // Through another managed role: both need the opt-in.
    let file = f.write("chain.yaml", "roles:\n  - name: ops\n    grants:\n      - role_membership: helpers\n  - name: helpers\n    allow_power: true\n    grants:\n      - role_membership: pg_read_server_files\n");
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    assert_one_line_error("chain", &out, 1, "ops: role_membership: helpers gives power (member of pg_read_server_files");
    // Ownership of schema public, and of a schema named like another role.
    for schema in ["public", "boss"] {
        let file = f.write("own.yaml", &doc(&[role("ops", &[&format!("schema_ownership: {schema}")])]));
        let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
        assert_one_line_error(schema, &out, 1, &format!("schema_ownership: {schema} is power"));
    }

    // Allowed: the plan header lists it; an unreviewed apply is refused
    // under the lock, a reviewed one (checksum or key) applies, and so
    // does sync.
    let allowed = f.write("allowed.yaml", "roles:\n  - name: ops\n    allow_power: true\n    grants:\n      - login:\n      - role_membership: pg_signal_backend\n");
    let plan = f.path("allowed.sql");
    pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&allowed), "-o", path_str(&plan)]).expect_code(0);
    let text = f.read("allowed.sql");
    assert!(text.contains("-- power: {\"grantee\":\"ops\",\"membership\":\"pg_signal_backend\",\"why\":\"predefined role pg_signal_backend\"}\n"), "{text}");
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&plan)]);
    assert_one_line_error("unreviewed", &out, 1, "neither signed with the plan key nor approved by --expect-checksum");
    assert!(!role_exists(pg, "ops"));
    let checksum = text.lines().find_map(|l| l.strip_prefix("-- checksum: ")).unwrap();
    pg.pgsr("postgres", "postgres", &["apply", path_str(&plan), "--expect-checksum", checksum]).expect_code(0);
    assert!(is_member(pg, "ops", "pg_signal_backend"));
    // The top-level list opts in too, through sync.
    let listed = f.write("listed.yaml", "allow_power: [ops2]\nroles:\n  - name: ops2\n    grants:\n      - role_membership: pg_signal_backend\n");
    sync(pg, "postgres", &listed);
    assert!(is_member(pg, "ops2", "pg_signal_backend"));
});

pg_test!(fn the_connecting_role_is_out_of_reach(pg) {
    pg.execute("postgres", "CREATE ROLE maker CREATEROLE LOGIN PASSWORD 'maker-pw'");
    pg.execute("postgres", "CREATE DATABASE made OWNER maker");
    let f = Files::new();
    let manage = f.write("manage.yaml", &doc(&[role("maker", &[])]));
    let member = f.write("member.yaml", &doc(&[role("someone", &["role_membership: maker"])]));
    for (file, needle) in [
        (&manage, "is the connecting role: pgsr cannot manage the role it runs as"),
        (&member, "role_membership: maker is the connecting role"),
    ] {
        for command in ["plan", "sync"] {
            let out = pg.pgsr("maker", "made", &[command, "-f", path_str(file)]);
            assert_one_line_error(needle, &out, 1, needle);
        }
    }
    assert!(!role_exists(pg, "someone"));
});
