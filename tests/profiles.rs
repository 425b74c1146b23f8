//! Privilege profiles, and the examples of the systems pgsr succeeds, each
//! synced and verified by acting as the roles: pycopg's read-only user,
//! application user, admin user and team hierarchy; PUM's reader and
//! editor; an ldap2pg-style file with `ro`, `rw` and `ddl` groups and
//! default privileges.

mod support;

use pgsr_e2e::{pg_test, Pg};
use support::*;

/// Syncs `text` as the superuser in postgres, and checks the next plan is
/// empty.
#[track_caller]
fn sync_text(pg: &Pg, f: &Files, text: &str) {
    let file = f.write("desired.yaml", text);
    sync_converged(pg, "postgres", &file);
}

pg_test!(fn pycopg_common_patterns(pg) {
    pg.execute(
        "postgres",
        "CREATE TABLE public.users (id serial PRIMARY KEY, name text);
         CREATE TABLE public.code_reviews (id serial PRIMARY KEY, note text);
         INSERT INTO public.users (name) VALUES ('a');",
    );
    let f = Files::new();
    sync_text(
        pg,
        &f,
        r#"
roles:
  # Read-only user
  - name: readonly
    grants:
      - grant: {privileges: USAGE, on: schema, name: public}
      - grant: {privileges: SELECT, on: tables, schema: public, all: true}
  - name: reader
    grants: [login: {password: secret}, role_membership: readonly]
  # Application user
  - name: appuser
    grants:
      - login: {password: secret}
      - grant: {privileges: USAGE, on: schema, name: public}
      - grant: {privileges: [SELECT, INSERT, UPDATE, DELETE], on: tables, schema: public, all: true}
      - grant: {privileges: [USAGE, SELECT], on: sequences, schema: public, all: true}
  # Admin user (its CREATEDB and CREATEROLE are attributes, not privileges)
  - name: admin
    grants:
      - login: {password: secret}
      - grant: {privileges: ALL, on: tables, schema: public, all: true}
      - grant: {privileges: ALL, on: schema, name: public}
  # Team hierarchy
  - name: engineering
    grants:
      - grant: {privileges: USAGE, on: schema, name: public}
      - grant: {privileges: SELECT, on: tables, schema: public, all: true}
      - grant: {privileges: [INSERT, UPDATE], on: table, schema: public, name: code_reviews}
  - name: senior_engineers
    grants:
      - role_membership: engineering
      - grant: {privileges: DELETE, on: table, schema: public, name: code_reviews}
  - name: alice
    grants: [login: {password: secret}, role_membership: engineering]
  - name: bob
    grants: [login: {password: secret}, role_membership: senior_engineers]
"#,
    );
    assert_can(pg, "postgres", "reader", "SELECT * FROM public.users");
    assert_cannot(pg, "postgres", "reader", "INSERT INTO public.users (name) VALUES ('x')", "permission denied");
    assert_can(pg, "postgres", "appuser", "INSERT INTO public.users (name) VALUES ('x'); UPDATE public.users SET name = 'y'; DELETE FROM public.users WHERE name = 'y'");
    assert_cannot(pg, "postgres", "appuser", "TRUNCATE public.users", "permission denied");
    assert_can(pg, "postgres", "admin", "TRUNCATE public.code_reviews; CREATE TABLE public.admins_own (i int)");
    assert_can(pg, "postgres", "alice", "SELECT * FROM public.users; INSERT INTO public.code_reviews (id, note) VALUES (100, 'ok')");
    assert_cannot(pg, "postgres", "alice", "DELETE FROM public.code_reviews", "permission denied");
    assert_can(pg, "postgres", "bob", "DELETE FROM public.code_reviews");
    assert_login(pg, "reader", "secret", "postgres");
});

pg_test!(fn pum_reader_and_editor(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA data; CREATE TABLE public.p (i int); CREATE TABLE data.d (id serial, v text);",
    );
    let f = Files::new();
    sync_text(
        pg,
        &f,
        r#"
roles:
  - name: reader
    grants:
      - profile: {name: read, schema: public}
  - name: editor
    grants:
      - role_membership: reader
      - profile: {name: read, schema: data}
      - profile: {name: write, schema: data}
"#,
    );
    assert_can(pg, "postgres", "reader", "SELECT * FROM public.p");
    assert_cannot(pg, "postgres", "reader", "INSERT INTO public.p VALUES (1)", "permission denied");
    assert_cannot(pg, "postgres", "reader", "SELECT * FROM data.d", "permission denied");
    // The editor inherits the reader's, and writes in data (nextval on the
    // serial column included).
    assert_can(pg, "postgres", "editor", "SELECT * FROM public.p; INSERT INTO data.d (v) VALUES ('x'); UPDATE data.d SET v = 'y'; DELETE FROM data.d");
    assert_cannot(pg, "postgres", "editor", "INSERT INTO public.p VALUES (1)", "permission denied");
    // Write taken away.
    sync_text(
        pg,
        &f,
        "roles:\n  - name: reader\n    grants:\n      - profile: {name: read, schema: public}\n  - name: editor\n    grants:\n      - role_membership: reader\n      - profile: {name: read, schema: data}\n",
    );
    assert_cannot(pg, "postgres", "editor", "INSERT INTO data.d (v) VALUES ('x')", "permission denied");
    assert_can(pg, "postgres", "editor", "SELECT * FROM data.d");
});

pg_test!(fn ldap2pg_groups_with_default_privileges(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE app_owner LOGIN; CREATE SCHEMA app AUTHORIZATION app_owner;",
    );
    let mut owner = pg.connect("app_owner", "postgres").expect("connect as owner");
    owner
        .batch_execute("CREATE TABLE app.before (id serial, v text)")
        .expect("create");
    let f = Files::new();
    let text = r#"
profiles:
  ro:
    - profile: __connect__
    - profile: __usage_on_schema__
    - profile: __select_on_tables__
    - profile: __select_on_sequences__
    - profile: __default_select_on_tables__
    - profile: __default_select_on_sequences__
  rw:
    - profile: ro
    - profile: __insert_on_tables__
    - profile: __update_on_tables__
    - profile: __delete_on_tables__
    - profile: __usage_on_sequences__
    - profile: __default_insert_on_tables__
    - profile: __default_update_on_tables__
    - profile: __default_delete_on_tables__
    - profile: __default_usage_on_sequences__
  ddl:
    - profile: rw
    - profile: __create_on_schema__
roles:
  - name: app_ro
    grants:
      - login: {password: secret}
      - profile: {name: ro, schema: app, owner: app_owner}
  - name: app_rw
    grants:
      - login: {password: secret}
      - profile: {name: rw, schema: app, owner: app_owner}
  - name: app_ddl
    grants:
      - login: {password: secret}
      - profile: {name: ddl, schema: app, owner: app_owner}
"#;
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC");
    sync_text(pg, &f, text);
    owner
        .batch_execute("CREATE TABLE app.after (id serial, v text)")
        .expect("create");
    for role in ["app_ro", "app_rw", "app_ddl"] {
        assert_login(pg, role, "secret", "postgres");
        assert_can(pg, "postgres", role, "SELECT * FROM app.before, app.after");
    }
    assert_cannot(pg, "postgres", "app_ro", "INSERT INTO app.after (v) VALUES ('x')", "permission denied");
    for role in ["app_rw", "app_ddl"] {
        assert_can(pg, "postgres", role, "INSERT INTO app.before (v) VALUES ('x'); INSERT INTO app.after (v) VALUES ('x'); UPDATE app.after SET v = 'y'; DELETE FROM app.after");
    }
    assert_cannot(pg, "postgres", "app_rw", "CREATE TABLE app.mine (i int)", "permission denied");
    assert_can(pg, "postgres", "app_ddl", "CREATE TABLE app.mine (i int)");
    // ro alone for everyone: writes and default writes are revoked.
    let ro_only = text.replace("name: rw,", "name: ro,").replace("name: ddl,", "name: ro,");
    sync_text(pg, &f, &ro_only);
    owner
        .batch_execute("CREATE TABLE app.later (id serial, v text)")
        .expect("create");
    for role in ["app_rw", "app_ddl"] {
        assert_can(pg, "postgres", role, "SELECT * FROM app.later");
        assert_cannot(pg, "postgres", role, "INSERT INTO app.later (v) VALUES ('x')", "permission denied");
        assert_cannot(pg, "postgres", role, "INSERT INTO app.after (v) VALUES ('x')", "permission denied");
    }
    assert_cannot(pg, "postgres", "app_ddl", "CREATE TABLE app.mine2 (i int)", "permission denied");
});

pg_test!(fn profile_errors_point_at_the_file(pg) {
    let f = Files::new();
    for (text, needle) in [
        (
            "profiles:\n  a: [profile: b]\n  b: [profile: a]\nroles:\n  - name: r\n    grants: [profile: a]\n",
            "profiles include each other in a cycle: a -> b -> a",
        ),
        ("roles:\n  - name: r\n    grants: [profile: nothing]\n", "unknown profile `nothing`"),
        ("roles:\n  - name: r\n    grants: [profile: read]\n", "profile read needs `schema`"),
        ("roles:\n  - name: r\n    grants: [profile: __default_select_on_tables__]\n", "needs `owner`"),
        ("profiles:\n  read: []\nroles: []\n", "is built in"),
        ("profiles:\n  p: [login: {}]\nroles:\n  - name: r\n    grants: [profile: p]\n", "a profile holds"),
    ] {
        let file = f.write("bad.yaml", text);
        let out = assert_plan_refused(pg, "postgres", &file, needle);
        assert!(out.stderr.contains("bad.yaml:"), "{}", out.stderr);
    }
});
