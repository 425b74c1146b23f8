//! One desired file for several databases: grants in some of them, `"*"`
//! with an exclusion, revocation in a database a role was never declared
//! in, a database whose part fails halfway through an apply, and a change
//! in one database between plan and apply. Each is checked by what the
//! roles can do in each database afterwards.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use support::*;

/// Five databases with the same schema: `sales.orders` and `sales.items`.
const DATABASES: [&str; 5] = ["d1", "d2", "d3", "d4", "d5"];

fn five_databases(pg: &Pg) {
    for db in DATABASES {
        pg.execute("postgres", &format!("CREATE DATABASE {db}"));
        pg.execute(
            db,
            "CREATE SCHEMA sales; \
             CREATE TABLE sales.orders (id int); \
             CREATE TABLE sales.items (id int);",
        );
    }
}

/// Whether `role` may read `table` in `db`.
fn reads(pg: &Pg, db: &str, role: &str, table: &str) -> bool {
    try_as(pg, db, role, &format!("SELECT * FROM {table}")).is_ok()
}

/// The databases (of the five) where `role` may read `table`.
fn readable_in(pg: &Pg, role: &str, table: &str) -> Vec<&'static str> {
    DATABASES
        .into_iter()
        .filter(|db| reads(pg, db, role, table))
        .collect()
}

fn pgsr(pg: &Pg, args: &[&str]) -> PgsrOutput {
    let out = pg.pgsr("postgres", "postgres", args);
    no_panic(&out);
    out
}

/// `sync`, then `plan --exit-code` finds nothing left to do.
#[track_caller]
fn sync_all(pg: &Pg, file: &std::path::Path) -> PgsrOutput {
    let out = pgsr(pg, &["sync", "-f", path_str(file)]).expect_code(0);
    let again = pgsr(pg, &["plan", "--exit-code", "-f", path_str(file)]);
    assert_eq!(
        again.code, 0,
        "a multi-database sync did not converge:\n{}\n{}",
        again.stdout, again.stderr
    );
    out
}

const MANAGED: &str = "databases: {include: \"d*\", exclude: [d5]}\n";

pg_test!(fn grants_follow_each_grants_databases(pg) {
    five_databases(pg);
    let f = Files::new();
    // Grants made by hand where the file never declares them: in d3 and
    // d4 (managed) they go; in d5 (excluded) and postgres (not matched)
    // they stay.
    pg.execute("postgres", "CREATE ROLE analyst; CREATE ROLE auditor;");
    for db in ["d3", "d4", "d5"] {
        pg.execute(db, "GRANT USAGE ON SCHEMA sales TO analyst; GRANT SELECT ON sales.items TO analyst;");
    }
    let file = f.write(
        "desired.yaml",
        &format!(
            "{MANAGED}roles:
  - name: analyst
    grants:
      - schema_usage: sales
        database: [d1, d2]
      - table_select: {{schema: sales, table: orders}}
        database: [d1, d2]
  - name: auditor
    grants:
      - schema_usage: sales
      - grant: {{privileges: [SELECT], on: tables, schema: sales, all: true}}
        database: \"*\"
"
        ),
    );
    sync_all(pg, &file);
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1", "d2"]);
    // Revoked in the managed databases the role was never declared in,
    // left in the excluded one.
    assert_eq!(readable_in(pg, "analyst", "sales.items"), ["d5"]);
    assert_eq!(readable_in(pg, "auditor", "sales.orders"), ["d1", "d2", "d3", "d4"]);
    assert_eq!(readable_in(pg, "auditor", "sales.items"), ["d1", "d2", "d3", "d4"]);

    // Narrowed: analyst keeps d1 only, auditor loses d2 and d3.
    let narrowed = f.write(
        "desired.yaml",
        &format!(
            "{MANAGED}roles:
  - name: analyst
    grants:
      - schema_usage: sales
        database: d1
      - table_select: {{schema: sales, table: orders}}
        database: d1
  - name: auditor
    grants:
      - schema_usage: sales
      - grant: {{privileges: [SELECT], on: tables, schema: sales, all: true}}
        database: {{exclude: [d2, d3]}}
"
        ),
    );
    sync_all(pg, &narrowed);
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1"]);
    assert_eq!(readable_in(pg, "auditor", "sales.orders"), ["d1", "d4"]);
    assert_eq!(readable_in(pg, "auditor", "sales.items"), ["d1", "d4"]);
    // Its USAGE on the schema is declared everywhere: it stays, so names
    // in the schema resolve for it (in the excluded d5 they do not).
    assert_can(pg, "d3", "auditor", "SELECT 'sales.orders'::regclass");
    assert_cannot(pg, "d5", "auditor", "SELECT 'sales.orders'::regclass", "schema sales");
    assert_eq!(
        query_one(pg, "d3", "SELECT has_schema_privilege('auditor', 'sales', 'USAGE')::text").as_deref(),
        Some("true")
    );
});

pg_test!(fn a_snapshot_of_every_database_plans_as_a_live_read_does(pg) {
    five_databases(pg);
    let f = Files::new();
    pg.execute("postgres", "CREATE ROLE analyst");
    let file = f.write(
        "desired.yaml",
        "databases: \"*\"\nroles:\n  - name: analyst\n    grants:\n      - schema_usage: sales\n      - table_select: {schema: sales, table: orders}\n        database: [d2, d4]\n",
    );
    let snapshot = f.path("cluster.json");
    pgsr(pg, &["inspect", "--all-databases", "--jobs", "3", "-o", path_str(&snapshot)]).expect_code(0);
    let text = std::fs::read_to_string(&snapshot).expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let names: Vec<&str> = value["databases"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["database"]["name"].as_str().expect("name"))
        .collect();
    // Templates are not among them.
    assert_eq!(names, ["d1", "d2", "d3", "d4", "d5", "postgres"]);
    let from_file = pgsr(pg, &["plan", "-f", path_str(&file), "--snapshot", path_str(&snapshot)]).expect_code(0);
    let live = pgsr(pg, &["plan", "-f", path_str(&file)]).expect_code(0);
    assert_eq!(from_file.stdout, live.stdout, "the same catalog gives the same plan");
    assert!(live.stdout.starts_with("-- pgsr cluster plan\n"), "{}", live.stdout);
    // One part per managed database, each headed by its database.
    for db in ["d1", "d2", "d3", "d4", "d5", "postgres"] {
        assert!(
            live.stdout.contains(&format!("-- part: database \"{db}\" lines ")),
            "{db}: {}",
            live.stdout
        );
    }
    // `show` reads it back; the JSON form lists the parts.
    let shown = pgsr(pg, &["plan", "-f", path_str(&file), "--format", "json"]).expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON plan");
    assert_eq!(doc["kind"], "cluster");
    assert_eq!(doc["parts"].as_array().map(Vec::len), Some(8));
    let plan_file = f.write("change.sql", &live.stdout);
    let show = pgsr(pg, &["show", path_str(&plan_file)]).expect_code(0);
    assert!(show.stdout.contains("plan for 6 databases"), "{}", show.stdout);
    pgsr(pg, &["apply", path_str(&plan_file)]).expect_code(0);
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d2", "d4"]);
});

// A part that fails midway: the ones before stay applied, the ones after
// are not run, the error says which, and the next sync finishes.
pg_test!(fn the_third_of_five_databases_fails_mid_apply(pg) {
    five_databases(pg);
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "databases: \"d*\"\nroles:\n  - name: analyst\n    grants:\n      - schema_usage: sales\n      - table_select: {schema: sales, table: orders}\n",
    );
    pg.execute(
        "d3",
        "CREATE FUNCTION public.refuse() RETURNS event_trigger LANGUAGE plpgsql AS \
         $$BEGIN RAISE EXCEPTION 'no grants in d3 today'; END$$;",
    );
    pgsr(pg, &["plan", "-f", path_str(&file), "-o", path_str(&f.path("change.sql"))]).expect_code(0);
    // Event triggers are no part of a snapshot: d3's part is fresh, and
    // its GRANT fails.
    pg.execute(
        "d3",
        "CREATE EVENT TRIGGER refuse ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE PROCEDURE public.refuse();",
    );
    let out = pgsr(pg, &["apply", path_str(&f.path("change.sql"))]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    let err = &out.stderr;
    assert!(err.contains("(database `d3`) failed"), "{err}");
    assert!(err.contains("no grants in d3 today"), "{err}");
    assert!(err.contains("applied: shared part in `postgres`, database `d1`, database `d2`"), "{err}");
    assert!(err.contains("not applied: database `d3`, database `d4`, database `d5`"), "{err}");
    assert!(role_exists(pg, "analyst"), "the shared part was applied");
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1", "d2"]);
    // d3's own intermediate role was created in its transaction: rolled back.
    let oid = database_oid(pg, "d3");
    assert_eq!(
        query_one(pg, "postgres", &format!("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE '_pgsr_local_{oid}_%'")).as_deref(),
        Some("0")
    );
    pg.execute("d3", "DROP EVENT TRIGGER refuse");
    sync_all(pg, &file);
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1", "d2", "d3", "d4", "d5"]);
});

// A change in database 4 between plan and apply: apply refuses before
// touching it, having applied the parts before, and says which.
pg_test!(fn a_change_in_the_fourth_database_stops_apply_there(pg) {
    five_databases(pg);
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "databases: \"d*\"\nroles:\n  - name: analyst\n    grants:\n      - schema_usage: sales\n      - table_select: {schema: sales, table: orders}\n",
    );
    let change = f.path("change.sql");
    pgsr(pg, &["plan", "-f", path_str(&file), "-o", path_str(&change)]).expect_code(0);
    pg.execute("d4", "CREATE TABLE sales.returns (id int)");
    let out = pgsr(pg, &["apply", path_str(&change)]);
    assert_eq!(out.code, 3, "stale: {}", out.stderr);
    let err = &out.stderr;
    assert!(err.contains("(database `d4`) failed: the catalog changed since the plan was made"), "{err}");
    assert!(err.contains("applied: shared part in `postgres`, database `d1`, database `d2`, database `d3`"), "{err}");
    assert!(err.contains("not applied: database `d4`, database `d5`"), "{err}");
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1", "d2", "d3"]);
    // A plan made now converges.
    sync_all(pg, &file);
    assert_eq!(readable_in(pg, "analyst", "sales.orders"), ["d1", "d2", "d3", "d4", "d5"]);
});

// A retired role that owns objects in two managed databases is dropped
// by one sync: each database's part gives away what it owns there (to a
// role the file does not manage), the last part drops it.
pg_test!(fn a_role_retired_across_databases_is_dropped_in_one_sync(pg) {
    five_databases(pg);
    let f = Files::new();
    pg.execute("postgres", "CREATE ROLE leaver; CREATE ROLE archive;");
    for db in ["d1", "d2"] {
        pg.execute(db, "CREATE TABLE sales.mine (id int); ALTER TABLE sales.mine OWNER TO leaver; GRANT SELECT ON sales.orders TO leaver;");
    }
    let file = f.write(
        "desired.yaml",
        "databases: \"d*\"\nroles:\n  - name: keeper\nretired:\n  - name: leaver\n    reassign_owned_to: archive\n",
    );
    sync_all(pg, &file);
    assert!(!role_exists(pg, "leaver"));
    for db in ["d1", "d2"] {
        assert_eq!(relation_owner(pg, db, "sales.mine"), "archive");
    }
});

pg_test!(fn a_grant_for_another_database_needs_databases(pg) {
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:\n  - name: analyst\n    grants:\n      - schema_usage: public\n        database: elsewhere\n",
    );
    let out = pgsr(pg, &["plan", "-f", path_str(&file)]);
    assert_one_line_error("grant for another database", &out, 1, "desired.yaml:5:19: this grant applies in no database the plan manages");
});

// The multi-database fixture on a real cluster: the plan read live is the
// plan of the committed snapshot (on the major fixtures are made with),
// and a sync of each of its desired files converges.
pg_test!(fn the_regions_fixture_plans_as_committed_and_converges(pg) {
    use pgsr_e2e::fixtures::{cluster_with, fixtures_dir, FIXTURE_DATABASE, FIXTURE_MAJOR};
    let dir = fixtures_dir().join("regions");
    for name in ["regional.yaml", "retiring.yaml"] {
        let fresh = cluster_with("regions", pg.major);
        let file = dir.join(name);
        let run = |args: &[&str]| {
            let out = fresh.pgsr("postgres", FIXTURE_DATABASE, args);
            no_panic(&out);
            out
        };
        let live = run(&["plan", "-f", path_str(&file)]).expect_code(0);
        if pg.major == FIXTURE_MAJOR {
            let committed = run(&[
                "plan",
                "-f",
                path_str(&file),
                "--snapshot",
                path_str(&dir.join("snapshot.json")),
            ])
            .expect_code(0);
            // A live read also says where retired roles still own things
            // (notes, and so the checksums and where each part starts),
            // which a snapshot taken without a desired file does not.
            let kept = |script: &str| -> String {
                script
                    .lines()
                    .filter(|l| {
                        !l.starts_with("-- note: retiring ")
                            && !l.starts_with("-- checksum: ")
                            && !l.starts_with("-- part: ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(
                kept(&live.stdout),
                kept(&committed.stdout),
                "{name}: the committed snapshot is stale"
            );
        }
        run(&["sync", "-f", path_str(&file)]).expect_code(0);
        let again = run(&["plan", "--exit-code", "-f", path_str(&file)]);
        assert_eq!(again.code, 0, "{name}: not converged:\n{}", again.stdout);
    }
});
