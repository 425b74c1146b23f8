//! `pgsr inventory`: effective access computed from a snapshot agrees,
//! for every role × object × privilege, with what PostgreSQL's
//! `has_*_privilege` functions answer; and its views and formats.

mod support;

use pgsr_e2e::fixtures::{cases, cluster_with, FIXTURE_DATABASE};
use pgsr_e2e::{pg_test, Pg};
use pgsr_planner::acl::Privilege;
use pgsr_planner::inventory::Inventory;
use pgsr_planner::plan::ObjectRef;
use support::*;

/// A catalog with every way of reaching a privilege: NOINHERIT chains,
/// PUBLIC granted and revoked, owners that revoked their own privileges,
/// column grants, predefined roles, a superuser, a database owned by a
/// role (pg_database_owner), and from PostgreSQL 16 membership options.
fn rich_setup(major: u32) -> String {
    let mut sql = String::from(
        "CREATE ROLE boss SUPERUSER;
         CREATE ROLE owner_role; CREATE ROLE team; CREATE ROLE lead;
         CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN NOINHERIT; CREATE ROLE carol LOGIN;
         CREATE ROLE reader_all; CREATE ROLE writer_all; CREATE ROLE mallory;
         GRANT team TO lead; GRANT lead TO alice; GRANT team TO bob; GRANT boss TO carol;
         CREATE SCHEMA app AUTHORIZATION owner_role;
         CREATE SCHEMA closed; REVOKE ALL ON SCHEMA closed FROM postgres;
         CREATE TABLE app.t (id serial PRIMARY KEY, secret text, note text);
         ALTER TABLE app.t OWNER TO owner_role;
         CREATE TABLE app.self_revoked (i int); ALTER TABLE app.self_revoked OWNER TO owner_role;
         REVOKE SELECT ON app.self_revoked FROM owner_role;
         CREATE VIEW app.v AS SELECT 1 AS x;
         CREATE SEQUENCE app.q;
         GRANT USAGE ON SCHEMA app TO team;
         GRANT SELECT ON app.t TO team; GRANT INSERT (note) ON app.t TO lead;
         GRANT UPDATE (secret), REFERENCES (note) ON app.t TO bob;
         GRANT SELECT, UPDATE ON app.q TO lead WITH GRANT OPTION;
         GRANT SELECT ON app.v TO PUBLIC;
         CREATE FUNCTION app.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
         REVOKE EXECUTE ON FUNCTION app.f(integer) FROM PUBLIC; GRANT EXECUTE ON FUNCTION app.f(integer) TO team;
         CREATE DOMAIN app.d AS integer; REVOKE USAGE ON DOMAIN app.d FROM PUBLIC;
         CREATE TYPE app.mood AS ENUM ('ok');
         REVOKE CONNECT ON DATABASE postgres FROM PUBLIC; GRANT CONNECT ON DATABASE postgres TO team;
         GRANT TEMPORARY ON DATABASE postgres TO mallory;
         REVOKE ALL ON SCHEMA public FROM PUBLIC;
         ",
    );
    if major >= 14 {
        sql.push_str(
            "GRANT pg_read_all_data TO reader_all; GRANT pg_write_all_data TO writer_all;
             GRANT reader_all TO mallory;",
        );
    }
    if major >= 15 {
        sql.push_str("GRANT SET ON PARAMETER work_mem TO team;");
    }
    if major >= 16 {
        sql.push_str(
            "CREATE ROLE dave LOGIN; GRANT team TO dave WITH INHERIT FALSE;
             CREATE ROLE erin LOGIN; GRANT lead TO erin WITH INHERIT TRUE, SET FALSE;",
        );
    }
    if major >= 17 {
        sql.push_str("CREATE ROLE keeper; GRANT pg_maintain TO keeper;");
    }
    sql
}

/// `has_*_privilege(role, object, privilege)` as SQL, or none for an
/// object PostgreSQL has no such function for on this version.
fn has_call(
    major: u32,
    role: &str,
    object: &ObjectRef,
    oid: Option<u32>,
    p: Privilege,
) -> Option<String> {
    let r = literal(role);
    let kw = literal(p.keyword());
    let oid = oid.map(|o| o.to_string()).unwrap_or_default();
    Some(match object {
        ObjectRef::Database(_) => format!("has_database_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Tablespace(_) => format!("has_tablespace_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Schema(_) => format!("has_schema_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Relation { kind, .. } if *kind == pgsr_planner::snapshot::RelKind::Sequence => {
            format!("has_sequence_privilege({r}, {oid}::oid, {kw})")
        }
        ObjectRef::Relation { .. } => format!("has_table_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Column { column, .. } => format!(
            "has_column_privilege({r}, {oid}::oid, {}, {kw})",
            literal(column)
        ),
        ObjectRef::Routine { .. } => format!("has_function_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Type { .. } => format!("has_type_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::Language(_) => format!("has_language_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::ForeignDataWrapper(_) => {
            format!("has_foreign_data_wrapper_privilege({r}, {oid}::oid, {kw})")
        }
        ObjectRef::ForeignServer(_) => format!("has_server_privilege({r}, {oid}::oid, {kw})"),
        ObjectRef::LargeObject(_) if major >= 18 => {
            format!("has_largeobject_privilege({r}, {oid}::oid, {kw})")
        }
        ObjectRef::LargeObject(_) => return None,
        ObjectRef::Parameter(name) => {
            format!("has_parameter_privilege({r}, {}, {kw})", literal(name))
        }
    })
}

/// Compares the inventory of `db` (inspected as the superuser) with
/// PostgreSQL's answers for every role × object × privilege; returns how
/// many were compared.
fn compare(pg: &Pg, db: &str) -> usize {
    let snapshot = pg.inspect("postgres", db);
    let inventory = Inventory::new(&snapshot);
    let roles: Vec<&str> = snapshot
        .catalog
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let mut calls: Vec<(String, String, bool)> = Vec::new();
    for (object, oid, privileges) in inventory.objects() {
        for &p in &privileges {
            for role in &roles {
                if let Some(call) = has_call(pg.major, role, &object, oid, p) {
                    let ours = inventory.access(role, &object, p).is_some();
                    let what = format!("{role} {} {}", p.keyword(), object.describe());
                    calls.push((what, call, ours));
                }
            }
        }
    }
    let mut mismatches = Vec::new();
    let mut client = pg.superuser(db);
    for chunk in calls.chunks(2000) {
        let sql = chunk
            .iter()
            .map(|(_, c, _)| format!("({c})::text"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let row = client
            .query_one(&format!("SELECT {sql}"), &[])
            .unwrap_or_else(|e| panic!("has_*_privilege: {}", describe(&e)));
        let answers: String = row.get(0);
        for ((what, _, ours), theirs) in chunk.iter().zip(answers.split(',')) {
            if (theirs == "true") != *ours {
                mismatches.push(format!(
                    "{what}: PostgreSQL says {theirs}, the inventory {ours}"
                ));
            }
        }
    }
    let held = calls.iter().filter(|(_, _, ours)| *ours).count();
    assert!(
        held > 0 && held < calls.len(),
        "{held} of {} held: the comparison shows nothing",
        calls.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} answers differ:\n{}",
        mismatches.len(),
        calls.len(),
        mismatches.join("\n")
    );
    calls.len()
}

/// The whole-database view holds, for every role, what the role's own
/// view holds but through PUBLIC (and, for a column, through its table).
fn whole_agrees_with_each_role(pg: &Pg, db: &str) {
    let snapshot = pg.inspect("postgres", db);
    let inventory = Inventory::new(&snapshot);
    for all in inventory.all(true) {
        let one = inventory.of_role(&all.role.name, true).expect("a role");
        let keep = |h: &&pgsr_planner::inventory::Held| {
            !h.path.on_table
                && !matches!(&h.path.how, pgsr_planner::inventory::How::Entry { grantee, .. } if grantee == "public")
        };
        let a: std::collections::BTreeSet<_> = all
            .held
            .iter()
            .map(|h| (h.object.clone(), h.privilege))
            .collect();
        let b: std::collections::BTreeSet<_> = one
            .held
            .iter()
            .filter(keep)
            .map(|h| (h.object.clone(), h.privilege))
            .collect();
        assert_eq!(a, b, "{}", all.role.name);
    }
}

pg_test!(fn effective_access_agrees_with_postgresql(pg) {
    pg.superuser("postgres")
        .batch_execute(&rich_setup(pg.major))
        .expect("setup");
    whole_agrees_with_each_role(pg, "postgres");
    // A database a role owns: its owner has pg_database_owner's privileges.
    pg.execute("postgres", "CREATE DATABASE owned_db OWNER owner_role");
    assert!(compare(pg, "owned_db") > 100);
    let n = compare(pg, "postgres");
    assert!(n > 1000, "only {n} answers compared");
});

pg_test!(fn effective_access_agrees_on_every_fixture(pg) {
    for case in cases() {
        compare(&cluster_with(&case, pg.major), FIXTURE_DATABASE);
    }
});

pg_test!(fn views_formats_and_the_desired_check(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE team; CREATE ROLE lead; CREATE ROLE alice LOGIN; CREATE ROLE idle LOGIN;
         CREATE ROLE outsider;
         GRANT team TO lead; GRANT lead TO alice;
         CREATE SCHEMA app; CREATE TABLE app.t (i int);
         GRANT USAGE ON SCHEMA app TO team; GRANT SELECT ON app.t TO team;
         GRANT SELECT ON app.t TO outsider;",
    );
    // Roles, with attributes and memberships.
    let out = pg.pgsr("postgres", "postgres", &["inventory"]).expect_code(0);
    assert!(out.stdout.contains("alice") && out.stdout.contains("lead"), "{}", out.stdout);
    assert!(!out.stdout.contains("pg_read_all_data"), "system roles only when asked");
    assert!(!out.stdout.contains('\x1b'), "no color when not a terminal");
    // A role's privileges, with the chain that gives them.
    let out = pg.pgsr("postgres", "postgres", &["inventory", "--role", "alice"]).expect_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("app.t") && l.contains("SELECT"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("through lead → team"), "{line}");
    // An object's holders, as JSON.
    let out = pg
        .pgsr("postgres", "postgres", &["inventory", "--object", "app.t", "--format", "json"])
        .expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["view"], "object");
    let holders = v["holders"].as_array().expect("holders");
    assert!(holders.iter().any(|h| h["role"] == "alice" && h["path"]["via"][0] == "lead"));
    assert!(holders.iter().any(|h| h["role"] == "outsider"));
    // CSV and Markdown.
    let out = pg.pgsr("postgres", "postgres", &["inventory", "--role", "team", "--format", "csv"]).expect_code(0);
    assert!(out.stdout.starts_with("table,kind,object,privilege,how\n"), "{}", out.stdout);
    let out = pg.pgsr("postgres", "postgres", &["inventory", "--format", "markdown"]).expect_code(0);
    assert!(out.stdout.contains("| role | attributes | member of | members |"), "{}", out.stdout);
    // Against a desired file: not yet satisfied, then satisfied; the
    // outsider has access either way.
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:\n  - name: reporting\n    grants:\n      - schema_usage: {schema: app, direct: true}\n      - table_select: {schema: app, table: t, direct: true}\n",
    );
    let out = pg.pgsr("postgres", "postgres", &["inventory", "-f", path_str(&file), "--exit-code"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("✗"), "{}", out.stdout);
    assert!(out.stdout.contains("outsider"), "{}", out.stdout);
    assert!(out.stdout.contains("idle"), "a login role with access to nothing: {}", out.stdout);
    sync(pg, "postgres", &file);
    pg.execute("postgres", "REVOKE SELECT ON app.t FROM outsider; REVOKE USAGE ON SCHEMA app FROM team;");
    pg.execute("postgres", "REVOKE SELECT ON app.t FROM team");
    let out = pg.pgsr("postgres", "postgres", &["inventory", "-f", path_str(&file), "--exit-code"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("✓") && !out.stdout.contains("✗"), "{}", out.stdout);
});

pg_test!(fn bad_inventory_requests_are_one_line(pg) {
    let out = pg.pgsr("postgres", "postgres", &["inventory", "--role", "nobody"]);
    assert_one_line_error("unknown role", &out, 1, "no role `nobody`");
    let out = pg.pgsr("postgres", "postgres", &["inventory", "--object", "no.such"]);
    assert_one_line_error("unknown object", &out, 1, "no object");
});
