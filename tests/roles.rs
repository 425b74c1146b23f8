//! Roles as first-class: attributes, membership options, settings,
//! description, renames, retirement, unlisted roles and PUM's per-database
//! roles, each checked by what the role can do once a sync has run, and
//! by what it can no longer do after the next.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use support::*;

const PASSWORD: &str = "roles-test-secret";

/// The desired file `text`, synced as the superuser in `db` until nothing
/// is left to do.
#[track_caller]
fn sync_text(pg: &Pg, f: &Files, db: &str, text: &str) -> PgsrOutput {
    let file = f.write("desired.yaml", text);
    sync_converged(pg, db, &file)
}

/// `SHOW name` in a new session of `user` (password login) in `db`.
fn show(pg: &Pg, user: &str, db: &str, name: &str) -> String {
    let mut c = pg
        .connect_with_password(user, PASSWORD, db)
        .unwrap_or_else(|e| panic!("{user} logs in to {db}: {e}"));
    let rows = c.simple_query(&format!("SHOW {name}")).expect("SHOW");
    rows.iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .expect("a value")
}

fn flag(pg: &Pg, role: &str, column: &str) -> String {
    query_one(
        pg,
        "postgres",
        &format!(
            "SELECT {column}::text FROM pg_roles WHERE rolname = {}",
            literal(role)
        ),
    )
    .unwrap_or_default()
}

pg_test!(fn attributes_granted_then_taken_away(pg) {
    let f = Files::new();
    let declared = format!(
        "roles:
  - name: dba
    allow_power: true
    createdb: true
    createrole: true
    inherit: false
    connection_limit: 2
    grants:
      - login: {{password: {PASSWORD}}}
"
    );
    sync_text(pg, &f, "postgres", &declared);
    for (column, value) in [
        ("rolcreatedb", "true"),
        ("rolcreaterole", "true"),
        ("rolinherit", "false"),
        ("rolconnlimit", "2"),
        ("rolcanlogin", "true"),
    ] {
        assert_eq!(flag(pg, "dba", column), value, "{column}");
    }
    // By behaviour: it creates a database (outside a transaction, as
    // itself) and a role; a third session is refused.
    let mut first = pg.connect_with_password("dba", PASSWORD, "postgres").expect("login");
    first.batch_execute("CREATE DATABASE made_by_dba").expect("CREATE DATABASE");
    assert_can(pg, "postgres", "dba", "CREATE ROLE made_by_dba");
    let _second = pg.connect_with_password("dba", PASSWORD, "postgres").expect("second login");
    let third = pg.connect_with_password("dba", PASSWORD, "postgres");
    let e = describe(&third.err().expect("the third session is refused"));
    assert!(e.contains("too many connections"), "{e}");
    drop(first);
    drop(_second);
    pg.execute("postgres", "DROP DATABASE made_by_dba");
    // Nothing declared but the login: each attribute at its safe default.
    let plain = format!("roles:\n  - name: dba\n    grants:\n      - login: {{password: {PASSWORD}}}\n");
    let file = f.write("plain.yaml", &plain);
    let planned = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    assert!(
        planned.stdout.contains("CREATEDB, CREATEROLE not declared: taken away"),
        "the plan says so in words:\n{}",
        planned.stdout
    );
    sync_converged(pg, "postgres", &file);
    for (column, value) in [
        ("rolcreatedb", "false"),
        ("rolcreaterole", "false"),
        ("rolinherit", "true"),
        ("rolconnlimit", "-1"),
    ] {
        assert_eq!(flag(pg, "dba", column), value, "{column}");
    }
    assert_cannot(pg, "postgres", "dba", "CREATE ROLE made_again", "permission denied");
    let mut c = pg.connect_with_password("dba", PASSWORD, "postgres").expect("login");
    let e = describe(&c.batch_execute("CREATE DATABASE made_again").expect_err("refused"));
    assert!(e.contains("permission denied"), "{e}");
});

pg_test!(fn power_attributes_need_allow_power_and_superuser_needs_one(pg) {
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:\n  - name: ops\n    createrole: true\n    grants: []\n",
    );
    assert_plan_refused(pg, "postgres", &file, "allow_power");
    // As a CREATEROLE role that is not a superuser.
    pg.execute("postgres", "CREATE ROLE manager LOGIN CREATEROLE");
    let file = f.write(
        "super.yaml",
        "roles:\n  - name: ops\n    allow_power: true\n    superuser: true\n    grants: []\n",
    );
    let out = pg.pgsr("manager", "postgres", &["plan", "-f", path_str(&file)]);
    assert_one_line_error("superuser as non-superuser", &out, 1, "superuser: true needs a superuser");
    assert!(out.stderr.contains("super.yaml:4:"), "{}", out.stderr);
    // As the superuser it is granted, and listed as power in the plan.
    let planned = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    assert!(
        planned.stdout.contains("\"attribute\":\"SUPERUSER\""),
        "listed as power:\n{}",
        planned.stdout
    );
    sync_converged(pg, "postgres", &file);
    assert_eq!(flag(pg, "ops", "rolsuper"), "true");
    let file = f.write("plain.yaml", "roles:\n  - name: ops\n    grants: []\n");
    sync_converged(pg, "postgres", &file);
    assert_eq!(flag(pg, "ops", "rolsuper"), "false");
    // REPLICATION and BYPASSRLS, granted then taken away.
    let file = f.write(
        "repl.yaml",
        "roles:\n  - name: ops\n    allow_power: true\n    replication: true\n    bypassrls: true\n    grants: []\n",
    );
    sync_converged(pg, "postgres", &file);
    assert_eq!(flag(pg, "ops", "rolreplication"), "true");
    assert_eq!(flag(pg, "ops", "rolbypassrls"), "true");
    let file = f.write("plain.yaml", "roles:\n  - name: ops\n    grants: []\n");
    sync_converged(pg, "postgres", &file);
    assert_eq!(flag(pg, "ops", "rolreplication"), "false");
    assert_eq!(flag(pg, "ops", "rolbypassrls"), "false");
});

pg_test!(fn membership_options_and_noinherit(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE TABLE s.t (i int); CREATE ROLE readers;
         GRANT USAGE ON SCHEMA s TO readers; GRANT SELECT ON s.t TO readers;",
    );
    let f = Files::new();
    // inherit: false (the attribute) needs SET ROLE to use the group.
    let text = "roles:
  - name: viewer
    inherit: false
    member_of: [readers]
    grants: []
  - name: chief
    member_of: [{role: readers, admin: true}]
    grants: []
";
    sync_text(pg, &f, "postgres", text);
    assert_cannot(pg, "postgres", "viewer", "SELECT * FROM s.t", "permission denied");
    assert_can(pg, "postgres", "viewer", "SET ROLE readers; SELECT * FROM s.t");
    assert_eq!(
        query_one(pg, "postgres", "SELECT admin_option::text FROM pg_auth_members WHERE member = 'chief'::regrole AND roleid = 'readers'::regrole").as_deref(),
        Some("true")
    );
    // The admin option taken away when no longer declared.
    let text2 = text.replace("[{role: readers, admin: true}]", "[readers]");
    sync_text(pg, &f, "postgres", &text2);
    assert_eq!(
        query_one(pg, "postgres", "SELECT bool_or(admin_option)::text FROM pg_auth_members WHERE member = 'chief'::regrole AND roleid = 'readers'::regrole").as_deref(),
        Some("false")
    );
    // `set: false`: privileges inherited, SET ROLE refused (PostgreSQL 16+).
    let set_false = format!(
        "roles:\n  - name: user1\n    member_of: [{{role: readers, set: false}}]\n    grants:\n      - login: {{password: {PASSWORD}}}\n"
    );
    // SET ROLE is checked against the session's user: log in as user1.
    let set_role = |pg: &Pg| {
        let mut c = pg
            .connect_with_password("user1", PASSWORD, "postgres")
            .expect("user1 logs in");
        c.batch_execute("SET ROLE readers").map_err(|e| describe(&e))
    };
    if pg.major >= 16 {
        sync_text(pg, &f, "postgres", &set_false);
        assert_can(pg, "postgres", "user1", "SELECT * FROM s.t");
        let e = set_role(pg).expect_err("SET ROLE refused");
        assert!(e.contains("permission denied"), "{e}");
        // Declared back to the default: SET ROLE allowed again.
        sync_text(pg, &f, "postgres", &set_false.replace(", set: false", ""));
        set_role(pg).expect("SET ROLE allowed");
    } else {
        let file = f.write("set.yaml", &set_false);
        assert_plan_refused(pg, "postgres", &file, "exists from PostgreSQL 16");
    }
    // `members` on the group: exactly those (and the roles naming it).
    pg.execute("postgres", "CREATE ROLE stranger; GRANT readers TO stranger");
    sync_text(
        pg,
        &f,
        "postgres",
        "roles:\n  - name: readers\n    members: [alpha, beta]\n    grants:\n      - schema_usage: {schema: s, direct: true}\n      - grant: {privileges: [SELECT], on: table, schema: s, name: t}\n",
    );
    assert!(is_member(pg, "alpha", "readers") && is_member(pg, "beta", "readers"));
    assert!(!is_member(pg, "stranger", "readers"), "an undeclared member is revoked");
    assert_can(pg, "postgres", "alpha", "SELECT * FROM s.t");
    assert_cannot(pg, "postgres", "stranger", "SELECT * FROM s.t", "permission denied");
});

pg_test!(fn settings_globally_and_per_database_and_description(pg) {
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("postgres", "CREATE SCHEMA app");
    let f = Files::new();
    let text = format!(
        "roles:
  - name: worker
    description: Runs the nightly jobs
    settings:
      statement_timeout: 5s
      search_path: [\"$user\", app, public]
    database_settings:
      app: {{work_mem: 64MB}}
    grants:
      - login: {{password: {PASSWORD}}}
"
    );
    sync_text(pg, &f, "postgres", &text);
    assert_eq!(show(pg, "worker", "postgres", "statement_timeout"), "5s");
    assert_eq!(show(pg, "worker", "postgres", "search_path"), "\"$user\", app, public");
    assert_eq!(show(pg, "worker", "app", "work_mem"), "64MB");
    assert_eq!(show(pg, "worker", "postgres", "work_mem"), "4MB");
    assert_eq!(
        query_one(pg, "postgres", "SELECT shobj_description('worker'::regrole, 'pg_authid')").as_deref(),
        Some("Runs the nightly jobs")
    );
    // A setting made by hand and those no longer declared are reset.
    pg.execute("postgres", "ALTER ROLE worker SET lock_timeout = '1s'");
    let text2 = format!(
        "roles:\n  - name: worker\n    description: null\n    grants:\n      - login: {{password: {PASSWORD}}}\n"
    );
    sync_text(pg, &f, "postgres", &text2);
    assert_eq!(show(pg, "worker", "postgres", "statement_timeout"), "0");
    assert_eq!(show(pg, "worker", "postgres", "lock_timeout"), "0");
    assert_eq!(show(pg, "worker", "app", "work_mem"), "4MB");
    assert_eq!(
        query_one(pg, "postgres", "SELECT coalesce(shobj_description('worker'::regrole, 'pg_authid'), 'none')").as_deref(),
        Some("none")
    );
});

pg_test!(fn rename_keeps_grants_and_login(pg) {
    pg.execute(
        "postgres",
        &format!(
            "CREATE SCHEMA s; CREATE TABLE s.t (i int);
             CREATE ROLE old_name LOGIN PASSWORD '{PASSWORD}';
             GRANT USAGE ON SCHEMA s TO old_name; GRANT SELECT ON s.t TO old_name;
             CREATE TABLE s.owned (i int); ALTER TABLE s.owned OWNER TO old_name;"
        ),
    );
    let oid = query_one(pg, "postgres", "SELECT oid::text FROM pg_roles WHERE rolname = 'old_name'");
    let f = Files::new();
    let text = "roles:
  - name: new_name
    renamed_from: old_name
    grants:
      - login:
      - schema_usage: {schema: s, direct: true}
      - grant: {privileges: [SELECT], on: table, schema: s, name: t}
      - table_ownership: {schema: s, table: owned}
";
    let out = sync_text(pg, &f, "postgres", text);
    no_panic(&out);
    assert!(!role_exists(pg, "old_name"));
    assert_eq!(
        query_one(pg, "postgres", "SELECT oid::text FROM pg_roles WHERE rolname = 'new_name'"),
        oid,
        "the same role"
    );
    assert_login(pg, "new_name", PASSWORD, "postgres");
    assert_can(pg, "postgres", "new_name", "SELECT * FROM s.t");
    assert_eq!(relation_owner(pg, "postgres", "s.owned"), "new_name");
    // Both names existing is refused, with where.
    pg.execute("postgres", "CREATE ROLE old_name");
    let file = f.write("both.yaml", text);
    let out = assert_plan_refused(pg, "postgres", &file, "both old_name and new_name exist");
    assert!(out.stderr.contains("both.yaml:3:"), "{}", out.stderr);
});

pg_test!(fn retirement_in_two_databases_with_open_sessions(pg) {
    pg.execute("postgres", &format!("CREATE ROLE leaver LOGIN PASSWORD '{PASSWORD}'; CREATE ROLE keeper"));
    pg.execute("postgres", "CREATE DATABASE other");
    for db in ["postgres", "other"] {
        pg.execute(
            db,
            "CREATE SCHEMA w; GRANT USAGE, CREATE ON SCHEMA w TO leaver;
             CREATE TABLE w.t (i int); ALTER TABLE w.t OWNER TO leaver;",
        );
    }
    let mut session = pg.connect_with_password("leaver", PASSWORD, "postgres").expect("login");
    session.batch_execute("SELECT 1").expect("alive");
    let f = Files::new();
    let text = "roles: []
retired:
  - name: leaver
    terminate_sessions: true
    reassign_owned_to: keeper
";
    let file = f.write("desired.yaml", text);
    // The first database: what it owns here goes to keeper; it still owns
    // a table in `other`, so it is not dropped yet, and the plan says so.
    let out = sync(pg, "postgres", &file);
    assert!(out.stdout.contains("not dropped") || out.stderr.contains("not dropped"), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(relation_owner(pg, "postgres", "w.t"), "keeper");
    assert!(role_exists(pg, "leaver"));
    assert!(session.batch_execute("SELECT 1").is_err(), "its session was ended");
    // The second database: nothing left anywhere, so it is dropped.
    sync(pg, "other", &file);
    assert_eq!(relation_owner(pg, "other", "w.t"), "keeper");
    assert!(!role_exists(pg, "leaver"));
    assert_converged_as(pg, "postgres", "other", &file, &[]);
    // Owning something with nobody named to receive it is refused.
    pg.execute("postgres", "CREATE ROLE leaver2; CREATE TABLE w.u (i int); ALTER TABLE w.u OWNER TO leaver2");
    let file = f.write("noreceiver.yaml", "roles: []\nretired: [leaver2]\n");
    assert_plan_refused(pg, "postgres", &file, "reassign_owned_to");
});

pg_test!(fn unlisted_roles_reported_then_retired(pg) {
    pg.execute("postgres", "CREATE ROLE app_kept; CREATE ROLE app_old; CREATE ROLE other_role");
    let f = Files::new();
    let report = "roles:\n  - name: app_kept\n    grants: []\nunlisted_roles: {match: 'app_.*', action: report}\n";
    let file = f.write("report.yaml", report);
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    no_panic(&out);
    assert!(out.stdout.contains("unlisted role app_old"), "{}", out.stdout);
    assert!(!out.stdout.contains("other_role"));
    sync(pg, "postgres", &file);
    assert!(role_exists(pg, "app_old"));
    let retire = report.replace("action: report", "action: retire");
    sync_text(pg, &f, "postgres", &retire);
    assert!(!role_exists(pg, "app_old"));
    assert!(role_exists(pg, "app_kept") && role_exists(pg, "other_role"));
});

pg_test!(fn pum_suffixes_in_one_cluster(pg) {
    for db in ["lausanne", "zurich"] {
        pg.execute("postgres", &format!("CREATE DATABASE {db}"));
        pg.execute(db, "CREATE SCHEMA tww; CREATE TABLE tww.pipe (i int)");
    }
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:
  - name: tww_viewer
    grants:
      - profile: {name: read, schema: tww}
  - name: tww_user
    inherit: tww_viewer
    grants:
      - profile: {name: write, schema: tww}
  - name: alice
    member_of: [tww_user]
    grants:
      - login:
",
    );
    for (db, suffix) in [("lausanne", "lausanne"), ("zurich", "zurich")] {
        let out = pg.pgsr("postgres", db, &["sync", "--suffix", suffix, "-f", path_str(&file)]);
        no_panic(&out);
        out.expect_code(0);
    }
    for db in ["lausanne", "zurich"] {
        let out = pg.pgsr("postgres", db, &["plan", "--exit-code", "--suffix", db, "-f", path_str(&file)]);
        assert_eq!(out.code, 0, "{db} converged:\n{}", out.stdout);
        assert_can(pg, db, "alice", "SELECT * FROM tww.pipe");
        assert_can(pg, db, "alice", "INSERT INTO tww.pipe VALUES (1)");
        assert_can(pg, db, "tww_viewer", "SELECT * FROM tww.pipe");
        assert_cannot(pg, db, "tww_viewer", "INSERT INTO tww.pipe VALUES (1)", "permission denied");
    }
    assert!(is_member(pg, "tww_user", "tww_user_lausanne") && is_member(pg, "tww_user", "tww_user_zurich"));
    assert!(is_member(pg, "tww_user_lausanne", "tww_viewer_lausanne"));
});

pg_test!(fn bad_role_declarations_are_one_line_each(pg) {
    let f = Files::new();
    for (name, text, needle) in [
        ("unknown.yaml", "roles:\n  - name: a\n    createdatabase: true\n", "unknown key"),
        (
            "listed.yaml",
            "roles:\n  - name: a\nretired: [a]\n",
            "retired and also listed",
        ),
        (
            "cycle.yaml",
            "roles:\n  - name: a\n    inherit: b\n  - name: b\n    inherit: a\n",
            "memberships form a cycle",
        ),
        (
            "limit.yaml",
            "roles:\n  - name: a\n    connection_limit: -5\n",
            "connection_limit",
        ),
    ] {
        let file = f.write(name, text);
        let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
        assert_one_line_error(name, &out, 1, needle);
        assert!(out.stderr.contains(&format!("{name}:")), "{}", out.stderr);
    }
});

pg_test!(fn a_plan_giving_attributes_or_retiring_applies_only_reviewed(pg) {
    pg.execute("postgres", "CREATE ROLE leaving");
    let f = Files::new();
    let file = f.write(
        "desired.yaml",
        "roles:\n  - name: builder\n    createdb: true\n    grants: []\nretired: [leaving]\n",
    );
    let plan = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("\"attribute\":\"CREATEDB\""), "{}", plan.stdout);
    assert!(plan.stdout.contains("\"retirement\":\"leaving\""), "{}", plan.stdout);
    let script = f.write("plan.sql", &plan.stdout);
    // Not reviewed: refused, nothing changed.
    let out = pg.pgsr("postgres", "postgres", &["apply", path_str(&script)]);
    assert_one_line_error("unreviewed", &out, 1, "neither signed with the plan key nor approved");
    assert!(role_exists(pg, "leaving") && !role_exists(pg, "builder"));
    // Approved by its checksum: applied.
    let checksum = plan
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("-- checksum: "))
        .expect("a checksum line")
        .to_owned();
    let out = pg.pgsr("postgres", "postgres", &["apply", "--expect-checksum", &checksum, path_str(&script)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!role_exists(pg, "leaving"));
    assert_eq!(flag(pg, "builder", "rolcreatedb"), "true");
});

pg_test!(fn as_a_createrole_database_owner(pg) {
    pg.execute("postgres", "CREATE ROLE manager LOGIN CREATEROLE CREATEDB");
    pg.execute("postgres", "CREATE DATABASE app OWNER manager");
    pg.execute("app", "CREATE SCHEMA s AUTHORIZATION manager");
    let mut c = pg.connect("manager", "app").expect("manager connects");
    c.batch_execute("CREATE TABLE s.t (i int)").expect("a table");
    let f = Files::new();
    let text = format!(
        "roles:
  - name: dev
    createdb: true
    connection_limit: 3
    description: A developer
    settings: {{statement_timeout: 7s}}
    member_of: [team]
    grants:
      - login: {{password: {PASSWORD}}}
      - schema_usage: {{schema: s, direct: true}}
      - grant: {{privileges: [SELECT], on: table, schema: s, name: t}}
  - name: team
    grants: []
"
    );
    let file = f.write("desired.yaml", &text);
    let out = sync_as_env(pg, "manager", "app", &file, &[]);
    no_panic(&out);
    assert_converged_as(pg, "manager", "app", &file, &[]);
    assert_eq!(flag(pg, "dev", "rolcreatedb"), "true");
    assert_eq!(flag(pg, "dev", "rolconnlimit"), "3");
    assert_eq!(show(pg, "dev", "app", "statement_timeout"), "7s");
    assert!(is_member(pg, "dev", "team"));
    assert_can(pg, "app", "dev", "SELECT * FROM s.t");
    // Taken away again, and dev retired once it owns something.
    c.batch_execute("CREATE TABLE s.dev_owned (i int); ALTER TABLE s.dev_owned OWNER TO dev")
        .unwrap_or_else(|_| {
            // Before PostgreSQL 16 a CREATEROLE role is not a member of
            // the roles it creates: the superuser hands the table over.
            pg.execute("app", "CREATE TABLE IF NOT EXISTS s.dev_owned (i int); ALTER TABLE s.dev_owned OWNER TO dev");
        });
    let file = f.write(
        "retire.yaml",
        "roles:\n  - name: team\n    grants: []\nretired: [{name: dev, reassign_owned_to: manager}]\n",
    );
    let out = sync_as_env(pg, "manager", "app", &file, &[]);
    no_panic(&out);
    assert!(!role_exists(pg, "dev"));
    assert_eq!(relation_owner(pg, "app", "s.dev_owned"), "manager");
});

pg_test!(fn templates_reused_with_a_schema(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA sales; CREATE TABLE sales.o (i int); CREATE SCHEMA hr; CREATE TABLE hr.p (i int);",
    );
    let f = Files::new();
    sync_text(
        pg,
        &f,
        "postgres",
        "templates:
  schema_reader:
    description: Reads {schema}
    grants:
      - profile: {name: read, schema: '{schema}'}
roles:
  - name: sales_reader
    template: {name: schema_reader, schema: sales}
  - name: hr_reader
    template: {name: schema_reader, schema: hr}
",
    );
    assert!(!role_exists(pg, "schema_reader"), "a template is not created");
    assert_can(pg, "postgres", "sales_reader", "SELECT * FROM sales.o");
    assert_cannot(pg, "postgres", "sales_reader", "SELECT * FROM hr.p", "permission denied");
    assert_can(pg, "postgres", "hr_reader", "SELECT * FROM hr.p");
    assert_eq!(
        query_one(pg, "postgres", "SELECT shobj_description('hr_reader'::regrole, 'pg_authid')").as_deref(),
        Some("Reads hr")
    );
});
