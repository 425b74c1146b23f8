//! `pgsr generate` against live databases: the file it writes plans to
//! nothing against the same database, for every fixture's setup and for
//! roles with attributes, settings, comments and membership options.

mod support;

use pgsr_e2e::fixtures::{cases, cluster_with, FIXTURE_DATABASE};
use pgsr_e2e::{pg_test, Pg};
use support::*;

/// Generates a desired file from `db` and checks that its plan is empty.
#[track_caller]
fn round_trips(pg: &Pg, f: &Files, db: &str) -> String {
    let file = f.path("generated.yaml");
    pg.pgsr("postgres", db, &["generate", "-o", path_str(&file)])
        .expect_code(0);
    let text = std::fs::read_to_string(&file).expect("the generated file");
    assert!(!text.contains("password:"), "{text}");
    let out = pg.pgsr(
        "postgres",
        db,
        &["plan", "--exit-code", "-f", path_str(&file)],
    );
    assert!(
        out.code == 0 && out.stdout.contains("-- statements: 0\n"),
        "the plan of the generated file is not empty (exit {}):\n{}\n{}\n{text}",
        out.code,
        out.stdout,
        out.stderr
    );
    text
}

pg_test!(fn every_fixture_round_trips(pg) {
    for case in cases() {
        let fresh = cluster_with(&case, pg.major);
        round_trips(&fresh, &Files::new(), FIXTURE_DATABASE);
    }
});

pg_test!(fn roles_as_first_class_round_trip(pg) {
    let mut sql = String::from(
        "CREATE ROLE ops LOGIN CREATEDB CONNECTION LIMIT 4 VALID UNTIL '2031-01-01';
         CREATE ROLE readers NOINHERIT; CREATE ROLE chief LOGIN;
         GRANT readers TO chief WITH ADMIN OPTION;
         ALTER ROLE ops SET statement_timeout = '5s';
         ALTER ROLE ops SET search_path = '$user', 'app';
         ALTER ROLE ops IN DATABASE postgres SET work_mem = '64MB';
         COMMENT ON ROLE ops IS 'Runs the jobs';
         CREATE SCHEMA app AUTHORIZATION ops;
         CREATE TABLE app.t (i int, secret text); ALTER TABLE app.t OWNER TO ops;
         GRANT USAGE ON SCHEMA app TO readers; GRANT SELECT ON app.t TO readers;
         GRANT UPDATE (secret) ON app.t TO chief WITH GRANT OPTION;
         ALTER DEFAULT PRIVILEGES FOR ROLE ops IN SCHEMA app GRANT SELECT ON TABLES TO readers;
         CREATE SCHEMA data; CREATE TABLE data.a (id serial); CREATE TABLE data.b (i int);
         CREATE ROLE editor; GRANT USAGE ON SCHEMA data TO editor;
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA data TO editor;
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA data TO editor;
         CREATE ROLE viewer; GRANT USAGE ON SCHEMA data TO viewer;
         GRANT SELECT, TRIGGER ON ALL TABLES IN SCHEMA data TO viewer;
         CREATE TABLE app.fact_a (i int); CREATE TABLE app.fact_b (i int); CREATE TABLE app.fact_c (i int);
         CREATE ROLE analyst; GRANT SELECT ON app.fact_a, app.fact_b, app.fact_c TO analyst;",
    );
    if pg.major >= 16 {
        sql.push_str("CREATE ROLE kiosk; GRANT readers TO kiosk WITH SET FALSE;");
    }
    pg.superuser("postgres").batch_execute(&sql).expect("setup");
    let text = round_trips(pg, &Files::new(), "postgres");
    assert!(text.contains("connection_limit: 4") && text.contains("description: \"Runs the jobs\""), "{text}");
    assert!(text.contains("admin: true"), "{text}");
    // A regex where the names share a prefix no other table has.
    assert!(text.contains("regex: \"fact_\""), "{text}");
    // PUM's profiles where they grant exactly what a role holds.
    assert!(text.contains("profile: {name: read, schema: \"data\"}"), "{text}");
    assert!(text.contains("profile: {name: write, schema: \"data\"}"), "{text}");
    assert!(text.contains("privileges: [\"TRIGGER\"], on: table, schema: \"data\", all: true"), "{text}");
});
