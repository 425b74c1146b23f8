//! Acceptance tests of `pgsr sync` against real clusters, in the manner of
//! pg-sync-roles' own tests: after each sync, act as the role and check what
//! it can and cannot do — and that access is removed by the next sync.
//!
//! Every sync is followed by a `plan --exit-code` that must be empty: a sync
//! converges in one run.

mod support;

use pgsr_e2e::{pg_test, Pg};
use support::*;

const PW: &str = "correct horse battery staple";

// ---------------------------------------------------------------------------
// 1. login

pg_test!(fn login_password_validity_and_removal(pg) {
    let f = Files::new();
    let login = |extra: &str| {
        doc(&[role("alice", &[&format!("login: {{ password_env: ALICE_PW{extra} }}")])])
    };
    let plain = f.write("plain.yaml", &login(""));
    let first = [("ALICE_PW", "first secret")];
    assert_no_login(pg, "alice", "first secret", "postgres", "password authentication failed");

    sync_converged_env(pg, "postgres", &plain, &first);
    assert_login(pg, "alice", "first secret", "postgres");
    assert_no_login(pg, "alice", "wrong", "postgres", "password authentication failed");
    // No valid_until: forever.
    let until = "SELECT coalesce(rolvaliduntil::text, 'NULL') FROM pg_roles WHERE rolname = 'alice'";
    let forever = query_one(pg, "postgres", until).unwrap();
    assert!(forever == "NULL" || forever == "infinity", "valid until {forever}");

    // A new password replaces the old one.
    let second = [("ALICE_PW", "second secret")];
    sync_converged_env(pg, "postgres", &plain, &second);
    assert_login(pg, "alice", "second secret", "postgres");
    assert_no_login(pg, "alice", "first secret", "postgres", "password authentication failed");

    // A login without a password keeps the existing one.
    let keep = f.write("keep.yaml", &doc(&[role("alice", &["login: {}"])]));
    sync_converged(pg, "postgres", &keep);
    assert_login(pg, "alice", "second secret", "postgres");

    // valid_until in the past refuses the login, in the future allows it.
    let past = f.write("past.yaml", &login(", valid_until: \"2001-02-03T04:05:06Z\""));
    sync_converged_env(pg, "postgres", &past, &second);
    assert_no_login(pg, "alice", "second secret", "postgres", "password authentication failed");
    let expired = query_one(
        pg,
        "postgres",
        "SELECT rolvaliduntil = '2001-02-03 04:05:06+00' FROM pg_roles WHERE rolname = 'alice'",
    );
    assert_eq!(expired.as_deref(), Some("t"));
    let future = f.write("future.yaml", &login(", valid_until: \"2999-12-31T23:00:00+02:00\""));
    sync_converged_env(pg, "postgres", &future, &second);
    assert_login(pg, "alice", "second secret", "postgres");

    // Leaving valid_until out again means forever.
    sync_converged_env(pg, "postgres", &plain, &second);
    assert_login(pg, "alice", "second secret", "postgres");
    let forever = query_one(pg, "postgres", until).unwrap();
    assert!(forever == "NULL" || forever == "infinity", "valid until {forever}");

    // Without a login grant the role can no longer log in.
    let none = f.write("none.yaml", &doc(&[role("alice", &[])]));
    sync_converged(pg, "postgres", &none);
    assert_no_login(pg, "alice", "second secret", "postgres", "password authentication failed");
    let state = query_one(
        pg,
        "postgres",
        "SELECT rolcanlogin::text || ' ' || (rolpassword IS NULL)::text FROM pg_authid WHERE rolname = 'alice'",
    );
    assert_eq!(state.as_deref(), Some("false true"), "NOLOGIN and no password");
});

// ---------------------------------------------------------------------------
// 2. database_connect

pg_test!(fn database_connect_granted_then_removed(pg) {
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE app FROM PUBLIC");
    let f = Files::new();
    let env = [("BOB_PW", PW)];
    let login = "login: { password_env: BOB_PW }";
    let login_only = f.write("login.yaml", &doc(&[role("bob", &[login])]));
    let connect = f.write(
        "connect.yaml",
        &doc(&[role("bob", &[login, "database_connect: app"])]),
    );

    sync_converged_env(pg, "postgres", &login_only, &env);
    assert_login(pg, "bob", PW, "postgres");
    assert_no_login(pg, "bob", PW, "app", "permission denied for database");

    sync_converged_env(pg, "postgres", &connect, &env);
    assert_login(pg, "bob", PW, "app");
    // Through an intermediate role: bob is not in the database's ACL.
    let acl = query_one(pg, "postgres", "SELECT datacl::text FROM pg_database WHERE datname = 'app'")
        .unwrap();
    assert!(acl.contains("_pgsr_global_database_connect_"), "{acl}");
    assert!(!acl.contains("bob"), "{acl}");

    sync_converged_env(pg, "postgres", &login_only, &env);
    assert_no_login(pg, "bob", PW, "app", "permission denied for database");
    assert_login(pg, "bob", PW, "postgres");
});

// ---------------------------------------------------------------------------
// 3. schema_usage and schema_create, indirect and direct

pg_test!(fn schema_usage_and_create_indirect_and_direct(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE TABLE s.pub (i int); GRANT SELECT ON s.pub TO PUBLIC;",
    );
    let oid = database_oid(pg, "postgres");
    let usage_prefix = format!("_pgsr_local_{oid}_schema_usage_");
    let create_prefix = format!("_pgsr_local_{oid}_schema_create_");
    let f = Files::new();
    let file = |name: &str, grants: &[&str]| f.write(name, &doc(&[role("r", grants)]));
    let use_it = "SELECT * FROM s.pub";
    let create_it = "CREATE TABLE s.made_by_r (i int)";
    let denied = "permission denied for schema s";
    let memberships = |pg: &Pg| direct_roles_of(pg, "r");

    let none = file("none.yaml", &[]);
    sync_converged(pg, "postgres", &none);
    assert_cannot(pg, "postgres", "r", use_it, denied);
    assert_cannot(pg, "postgres", "r", create_it, denied);

    // Indirect usage: through an intermediate role on the schema's ACL.
    sync_converged(pg, "postgres", &file("u.yaml", &["schema_usage: s"]));
    assert_can(pg, "postgres", "r", use_it);
    assert_cannot(pg, "postgres", "r", create_it, denied);
    let acl = schema_acl(pg, "postgres", "s");
    assert!(acl.contains(&usage_prefix) && !acl.contains("r=U"), "{acl}");
    let m = memberships(pg);
    assert!(m.len() == 1 && m[0].starts_with(&usage_prefix), "{m:?}");

    // Direct usage: on the schema itself; the intermediate membership goes.
    sync_converged(
        pg,
        "postgres",
        &file("ud.yaml", &["schema_usage: { schema: s, direct: true }"]),
    );
    assert_can(pg, "postgres", "r", use_it);
    assert_cannot(pg, "postgres", "r", create_it, denied);
    let acl = schema_acl(pg, "postgres", "s");
    assert!(acl.contains("r=U/postgres"), "{acl}");
    assert_eq!(memberships(pg), Vec::<String>::new());

    // Indirect create without usage: direct usage is removed.
    sync_converged(pg, "postgres", &file("c.yaml", &["schema_create: s"]));
    assert_cannot(pg, "postgres", "r", use_it, denied);
    assert_can(pg, "postgres", "r", create_it);
    let acl = schema_acl(pg, "postgres", "s");
    assert!(acl.contains(&create_prefix) && !acl.contains("r=U"), "{acl}");
    let m = memberships(pg);
    assert!(m.len() == 1 && m[0].starts_with(&create_prefix), "{m:?}");

    // Direct create and indirect usage: the indirect create goes.
    sync_converged(
        pg,
        "postgres",
        &file("cd.yaml", &["schema_usage: s", "schema_create: { schema: s, direct: true }"]),
    );
    assert_can(pg, "postgres", "r", use_it);
    assert_can(pg, "postgres", "r", create_it);
    let acl = schema_acl(pg, "postgres", "s");
    assert!(acl.contains("r=C/postgres"), "{acl}");
    let m = memberships(pg);
    assert!(m.len() == 1 && m[0].starts_with(&usage_prefix), "{m:?}");

    // Nothing: everything is removed.
    sync_converged(pg, "postgres", &none);
    assert_cannot(pg, "postgres", "r", use_it, denied);
    assert_cannot(pg, "postgres", "r", create_it, denied);
    let acl = schema_acl(pg, "postgres", "s");
    assert!(!acl.contains("r="), "{acl}");
    assert_eq!(memberships(pg), Vec::<String>::new());
});

// ---------------------------------------------------------------------------
// 4. table_select on every kind of table-like

pg_test!(fn table_select_on_table_view_matview_partitioned(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE TABLE s.t (i int); INSERT INTO s.t VALUES (1);
         CREATE VIEW s.v AS SELECT i FROM s.t;
         CREATE MATERIALIZED VIEW s.mv AS SELECT i FROM s.t;
         CREATE TABLE s.p (i int) PARTITION BY RANGE (i);
         CREATE TABLE s.p1 PARTITION OF s.p FOR VALUES FROM (0) TO (100);
         INSERT INTO s.p VALUES (5);",
    );
    let oid = database_oid(pg, "postgres");
    let select_prefix = format!("_pgsr_local_{oid}_table_select_");
    let objects = [
        ("s.t", "table t"),
        ("s.v", "view v"),
        ("s.mv", "materialized view mv"),
        ("s.p", "table p"),
    ];
    let f = Files::new();
    let sel = |t: &str, direct: bool| {
        format!("table_select: {{ schema: s, table: {t}, direct: {direct} }}")
    };
    let a = f.write(
        "a.yaml",
        &doc(&[role(
            "r",
            &["schema_usage: s", &sel("t", false), &sel("v", false), &sel("mv", true), &sel("p", true)],
        )]),
    );
    let b = f.write(
        "b.yaml",
        &doc(&[role(
            "r",
            &["schema_usage: s", &sel("t", true), &sel("v", true), &sel("mv", false), &sel("p", false)],
        )]),
    );
    let none = f.write("none.yaml", &doc(&[role("r", &["schema_usage: s"])]));
    let check_all_allowed = |pg: &Pg| {
        for (object, _) in objects {
            assert_can(pg, "postgres", "r", &format!("SELECT * FROM {object}"));
        }
        // Selecting through the parent needs no privilege on the partition.
        assert_cannot(pg, "postgres", "r", "SELECT * FROM s.p1", "permission denied for table p1");
    };

    sync_converged(pg, "postgres", &none);
    for (object, what) in objects {
        assert_cannot(pg, "postgres", "r", &format!("SELECT * FROM {object}"), what);
    }

    sync_converged(pg, "postgres", &a);
    check_all_allowed(pg);
    assert!(relation_acl(pg, "postgres", "s.t").contains(&select_prefix));
    assert!(relation_acl(pg, "postgres", "s.mv").contains("r=r/postgres"));

    // Switching forms keeps access and removes the other form.
    sync_converged(pg, "postgres", &b);
    check_all_allowed(pg);
    for object in ["s.t", "s.v"] {
        let acl = relation_acl(pg, "postgres", object);
        assert!(acl.contains("r=r/postgres"), "{object}: {acl}");
    }
    for object in ["s.mv", "s.p"] {
        let acl = relation_acl(pg, "postgres", object);
        assert!(!acl.contains("r=r"), "{object}: {acl}");
        assert!(acl.contains(&select_prefix), "{object}: {acl}");
    }
    let m = direct_roles_of(pg, "r");
    assert!(
        m.iter().filter(|n| n.starts_with(&select_prefix)).count() == 2,
        "only the intermediate roles of mv and p remain: {m:?}"
    );

    sync_converged(pg, "postgres", &none);
    for (object, what) in objects {
        assert_cannot(pg, "postgres", "r", &format!("SELECT * FROM {object}"), what);
    }
    let m = direct_roles_of(pg, "r");
    assert!(!m.iter().any(|n| n.starts_with(&select_prefix)), "{m:?}");
});

// ---------------------------------------------------------------------------
// 5. table_select by regex follows the catalog

pg_test!(fn table_select_regex_follows_new_renamed_and_dropped_tables(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE TABLE s.fact_a (i int); CREATE TABLE s.fact_b (i int);
         CREATE TABLE s.dim_c (i int); CREATE TABLE s.x_fact_d (i int);",
    );
    let f = Files::new();
    let file = f.write(
        "regex.yaml",
        &doc(&[role("r", &["schema_usage: s", "table_select: { schema: s, table_regex: \"fact_\" }"])]),
    );
    let select = |t: &str| format!("SELECT * FROM s.{t}");

    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "r", &select("fact_a"));
    assert_can(pg, "postgres", "r", &select("fact_b"));
    assert_cannot(pg, "postgres", "r", &select("dim_c"), "table dim_c");
    // Anchored at the start, as Python's re.match.
    assert_cannot(pg, "postgres", "r", &select("x_fact_d"), "table x_fact_d");

    // A new matching table (and view) is picked up by the next sync.
    pg.execute(
        "postgres",
        "CREATE TABLE s.fact_new (i int); CREATE VIEW s.fact_view AS SELECT 1 AS one;",
    );
    assert_cannot(pg, "postgres", "r", &select("fact_new"), "table fact_new");
    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "r", &select("fact_new"));
    assert_can(pg, "postgres", "r", &select("fact_view"));

    // Renamed out of the match: the grant follows the table until the next
    // sync, which removes it.
    pg.execute("postgres", "ALTER TABLE s.fact_b RENAME TO old_b");
    assert_can(pg, "postgres", "r", &select("old_b"));
    sync_converged(pg, "postgres", &file);
    assert_cannot(pg, "postgres", "r", &select("old_b"), "table old_b");
    assert_can(pg, "postgres", "r", &select("fact_a"));

    // A dropped table is simply gone; nothing else changes.
    pg.execute("postgres", "DROP TABLE s.fact_a");
    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "r", &select("fact_new"));
    assert_cannot(pg, "postgres", "r", &select("dim_c"), "table dim_c");
});

// ---------------------------------------------------------------------------
// 6. schema_ownership and table_ownership

pg_test!(fn ownership_of_schemas_and_tables(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE TABLE s.t (id serial PRIMARY KEY, v int);
         CREATE TABLE s.ti (id int GENERATED ALWAYS AS IDENTITY, v int);",
    );
    let f = Files::new();
    let owner_of_schema = |pg: &Pg, s: &str| {
        query_one(
            pg,
            "postgres",
            &format!("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = {}", literal(s)),
        )
    };
    let owns = f.write(
        "owns.yaml",
        &doc(&[role(
            "o",
            &[
                "schema_usage: s",
                "schema_ownership: made",
                "table_ownership: { schema: s, table: t }",
                "table_ownership: { schema: s, table: ti }",
            ],
        )]),
    );
    let schema_only = f.write(
        "schema_only.yaml",
        &doc(&[role("o", &["schema_usage: s", "schema_ownership: made"])]),
    );
    let nothing = f.write("nothing.yaml", &doc(&[role("o", &["schema_usage: s"])]));
    let insert_t = "INSERT INTO s.t (v) VALUES (1)";
    let nextval = "SELECT nextval('s.t_id_seq')";
    let insert_ti = "INSERT INTO s.ti (v) VALUES (1)";

    assert_eq!(owner_of_schema(pg, "made"), None, "schema made does not exist yet");
    sync_converged(pg, "postgres", &owns);
    // The missing schema was created, owned by the role.
    assert_eq!(owner_of_schema(pg, "made").as_deref(), Some("o"));
    assert_can(pg, "postgres", "o", "CREATE TABLE made.x (i int)");
    assert_eq!(relation_owner(pg, "postgres", "s.t"), "o");
    assert_eq!(relation_owner(pg, "postgres", "s.t_id_seq"), "o");
    // Owning the table includes its serial and identity sequences.
    assert_can(pg, "postgres", "o", insert_t);
    assert_can(pg, "postgres", "o", nextval);
    assert_can(pg, "postgres", "o", insert_ti);

    // Ownership not declared goes back to the connecting role.
    sync_converged(pg, "postgres", &schema_only);
    assert_eq!(relation_owner(pg, "postgres", "s.t"), "postgres");
    assert_eq!(relation_owner(pg, "postgres", "s.ti"), "postgres");
    assert_cannot(pg, "postgres", "o", insert_t, "table t");
    assert_cannot(pg, "postgres", "o", nextval, "sequence t_id_seq");
    assert_cannot(pg, "postgres", "o", insert_ti, "table ti");
    assert_eq!(owner_of_schema(pg, "made").as_deref(), Some("o"));

    sync_converged(pg, "postgres", &nothing);
    assert_eq!(owner_of_schema(pg, "made").as_deref(), Some("postgres"));
    assert_cannot(pg, "postgres", "o", "CREATE TABLE made.x (i int)", "schema made");
});

// Taking ownership of a table whose serial sequence the role already had
// privileges on (granted by hand) must leave the role able to use it.
pg_test!(fn table_ownership_keeps_the_serial_sequence_usable(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE TABLE s.t (id serial PRIMARY KEY, v int);
         CREATE ROLE o;
         GRANT USAGE ON SCHEMA s TO o;
         GRANT SELECT, INSERT ON s.t TO o;
         GRANT USAGE, SELECT ON SEQUENCE s.t_id_seq TO o;",
    );
    let f = Files::new();
    let owns = f.write(
        "owns.yaml",
        &doc(&[role("o", &["schema_usage: { schema: s, direct: true }", "table_ownership: { schema: s, table: t }"])]),
    );
    assert_can(pg, "postgres", "o", "INSERT INTO s.t (v) VALUES (1)");
    sync_converged(pg, "postgres", &owns);
    assert_eq!(relation_owner(pg, "postgres", "s.t"), "o");
    assert_eq!(relation_owner(pg, "postgres", "s.t_id_seq"), "o");
    assert_can(pg, "postgres", "o", "SELECT nextval('s.t_id_seq')");
    assert_can(pg, "postgres", "o", "INSERT INTO s.t (v) VALUES (1)");
    // All of an owner's privileges, not only UPDATE (which nextval also
    // accepts): SELECT and USAGE must not have been revoked from the owner.
    assert_can(pg, "postgres", "o", "SELECT nextval('s.t_id_seq'), currval('s.t_id_seq')");
    assert_can(pg, "postgres", "o", "SELECT last_value FROM s.t_id_seq");
    let acl = relation_acl(pg, "postgres", "s.t_id_seq");
    assert!(acl == "NULL" || acl.contains("o=rwU/o"), "the owner's own privileges on its sequence: {acl}");
});

// ---------------------------------------------------------------------------
// 7. role_membership

pg_test!(fn role_membership_granted_removed_and_created(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE TABLE s.t (i int);
         CREATE ROLE analysts;
         GRANT USAGE ON SCHEMA s TO analysts; GRANT SELECT ON s.t TO analysts;
         CREATE TABLE s.t2 (i int);",
    );
    let f = Files::new();
    // readers is managed too: its privileges come from the file.
    let readers = role("readers", &["schema_usage: s", "table_select: { schema: s, table: t2 }"]);
    let member = f.write(
        "member.yaml",
        &doc(&[
            role(
                "r",
                &["role_membership: analysts", "role_membership: { role: ghost }", "role_membership: readers"],
            ),
            readers.clone(),
        ]),
    );
    let alone = f.write("alone.yaml", &doc(&[role("r", &[]), readers]));
    assert!(!role_exists(pg, "ghost"));

    sync_converged(pg, "postgres", &alone);
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.t", "schema s");

    sync_converged(pg, "postgres", &member);
    assert_can(pg, "postgres", "r", "SELECT * FROM s.t");
    assert_can(pg, "postgres", "r", "SELECT * FROM s.t2");
    assert!(is_member(pg, "r", "analysts"));
    // The missing role was created, NOLOGIN, and r is in it.
    assert!(role_exists(pg, "ghost"));
    assert_eq!(
        query_one(pg, "postgres", "SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'ghost'").as_deref(),
        Some("false")
    );
    assert!(is_member(pg, "r", "ghost"));

    sync_converged(pg, "postgres", &alone);
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.t", "schema s");
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.t2", "schema s");
    assert_can(pg, "postgres", "readers", "SELECT * FROM s.t2");
    assert!(!is_member(pg, "r", "analysts"));
    assert!(!is_member(pg, "r", "readers"));
    assert!(!is_member(pg, "r", "ghost"));
    assert!(role_exists(pg, "ghost"), "roles that are not managed are never dropped");
});

// ---------------------------------------------------------------------------
// 8. preserve_existing_grants_in_schemas

pg_test!(fn preserve_existing_grants_in_schemas_is_per_schema_and_role(pg) {
    // Granted by hand, r's entries first in each ACL.
    pg.execute(
        "postgres",
        "CREATE SCHEMA keep; CREATE SCHEMA clean;
         CREATE TABLE keep.t (i int); CREATE TABLE clean.t (i int);
         CREATE ROLE r; CREATE ROLE r2;
         CREATE TABLE keep.owned (i int); CREATE TABLE clean.owned (i int);
         ALTER TABLE keep.owned OWNER TO r; ALTER TABLE clean.owned OWNER TO r;
         GRANT SELECT ON keep.t, clean.t TO r;
         GRANT SELECT ON keep.t, clean.t TO r2;
         GRANT USAGE, CREATE ON SCHEMA keep TO r;
         GRANT USAGE ON SCHEMA clean TO r;
         GRANT USAGE ON SCHEMA keep, clean TO r2;",
    );
    let f = Files::new();
    let file = f.write(
        "preserve.yaml",
        &doc(&[
            role_preserving("r", &["schema_usage: keep", "schema_usage: clean"], &["keep"]),
            role("r2", &["schema_usage: keep", "schema_usage: clean"]),
        ]),
    );
    for r in ["r", "r2"] {
        assert_can(pg, "postgres", r, "SELECT * FROM clean.t");
        assert_can(pg, "postgres", r, "SELECT * FROM keep.t");
    }
    assert_can(pg, "postgres", "r", "CREATE TABLE keep.x (i int)");
    sync_converged(pg, "postgres", &file);
    // The hand-made grant inside the preserved schema stays ...
    assert_can(pg, "postgres", "r", "SELECT * FROM keep.t");
    // ... the one in the other schema is cleaned ...
    assert_cannot(pg, "postgres", "r", "SELECT * FROM clean.t", "table t");
    // ... the schema itself stays managed ...
    assert_cannot(pg, "postgres", "r", "CREATE TABLE keep.x (i int)", "schema keep");
    // Ownership inside the preserved schema stays too; elsewhere it goes
    // to the connecting role.
    assert_eq!(relation_owner(pg, "postgres", "keep.owned"), "r");
    assert_can(pg, "postgres", "r", "INSERT INTO keep.owned VALUES (1)");
    assert_eq!(relation_owner(pg, "postgres", "clean.owned"), "postgres");
    assert_cannot(pg, "postgres", "r", "INSERT INTO clean.owned VALUES (1)", "table owned");
    // ... and preserving is r's alone: r2's grants are cleaned everywhere.
    assert_cannot(pg, "postgres", "r2", "SELECT * FROM clean.t", "table t");
    assert_cannot(pg, "postgres", "r2", "SELECT * FROM keep.t", "table t");
});

// ---------------------------------------------------------------------------
// 9. privileges granted by hand to a managed role are revoked

pg_test!(fn hand_made_grants_are_revoked(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE TABLE s.t (i int);
         CREATE TABLE s.t2 (a int, b int);
         CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         REVOKE EXECUTE ON FUNCTION s.f() FROM PUBLIC;
         CREATE SEQUENCE s.seq;
         CREATE ROLE other;
         CREATE TABLE s.others (i int);
         GRANT SELECT ON s.others TO other;
         CREATE ROLE r CREATEDB;
         GRANT USAGE ON SCHEMA s TO r;
         GRANT INSERT ON s.t TO r;
         GRANT EXECUTE ON FUNCTION s.f() TO r;
         GRANT USAGE ON SEQUENCE s.seq TO r;
         GRANT SELECT (a) ON s.t2 TO r;
         GRANT CREATE ON DATABASE postgres TO r;
         GRANT other TO r;
         ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO r;
         CREATE TABLE s.later (i int);",
    );
    let checks: [(&str, &str); 7] = [
        ("INSERT INTO s.t VALUES (1)", "table t"),
        ("SELECT s.f()", "function f"),
        ("SELECT nextval('s.seq')", "sequence seq"),
        ("SELECT a FROM s.t2", "table t2"),
        ("CREATE SCHEMA by_r", "database postgres"),
        // What membership of other gives. (SET ROLE would prove nothing
        // here: it checks the session user, the superuser.)
        ("SELECT * FROM s.others", "table others"),
        ("SELECT * FROM s.later", "table later"),
    ];
    for (sql, _) in checks {
        assert_can(pg, "postgres", "r", sql);
    }
    // The column grant is only for column a.
    assert_cannot(pg, "postgres", "r", "SELECT b FROM s.t2", "table t2");
    assert_eq!(create_database_as(pg, "r"), Ok(()));

    let f = Files::new();
    let file = f.write(
        "r.yaml",
        &doc(&[role("r", &["schema_usage: { schema: s, direct: true }"])]),
    );
    sync_converged(pg, "postgres", &file);
    for (sql, needle) in checks {
        assert_cannot(pg, "postgres", "r", sql, needle);
    }
    let created = create_database_as(pg, "r");
    assert!(
        created.as_ref().is_err_and(|e| e.starts_with(DENIED) && e.contains("permission denied to create database")),
        "CREATEDB should be gone: {created:?}"
    );
    // The declared direct usage survived: the denials above are about the
    // objects, not the schema.
    assert!(schema_acl(pg, "postgres", "s").contains("r=U/postgres"));
    // Default privileges no longer name r.
    pg.execute("postgres", "CREATE TABLE s.even_later (i int)");
    assert_cannot(pg, "postgres", "r", "SELECT * FROM s.even_later", "table even_later");
});

/// `CREATE DATABASE` as `role` (it cannot run in a transaction block), then
/// drops the database again when it was created.
fn create_database_as(pg: &Pg, role: &str) -> Result<(), String> {
    let mut client = pg.superuser("postgres");
    client
        .batch_execute(&format!("SET ROLE {}", ident(role)))
        .unwrap();
    let result = client
        .batch_execute("CREATE DATABASE made_by_role")
        .map_err(|e| describe(&e));
    client.batch_execute("RESET ROLE").unwrap();
    if result.is_ok() {
        client.batch_execute("DROP DATABASE made_by_role").unwrap();
    }
    result
}

// ---------------------------------------------------------------------------
// 10. Adopting a cluster pg-sync-roles manages

pg_test!(fn adopts_pg_sync_roles_state_without_changes(pg) {
    pg.execute("postgres", "CREATE DATABASE app");
    let oid = database_oid(pg, "app");
    let connect = "_pgsr_global_database_connect_0badcafe";
    let usage = format!("_pgsr_local_{oid}_schema_usage_12ab34cd");
    let select = format!("_pgsr_local_{oid}_table_select_9f8e7d6c");
    pg.execute(
        "postgres",
        &format!(
            "CREATE ROLE u WITH LOGIN VALID UNTIL 'infinity';
             CREATE ROLE {connect};
             REVOKE CONNECT ON DATABASE app FROM PUBLIC;
             GRANT CONNECT ON DATABASE app TO {connect};
             GRANT {connect} TO u;
             CREATE ROLE {usage}; GRANT {usage} TO u;
             CREATE ROLE {select}; GRANT {select} TO u;"
        ),
    );
    pg.execute(
        "app",
        &format!(
            "CREATE SCHEMA s; CREATE TABLE s.t (i int);
             GRANT USAGE ON SCHEMA s TO {usage};
             GRANT SELECT ON s.t TO {select};"
        ),
    );
    let f = Files::new();
    let file = f.write(
        "adopt.yaml",
        &doc(&[role(
            "u",
            &["login:", "database_connect: app", "schema_usage: s", "table_select: { schema: s, table: t }"],
        )]),
    );
    let out = plan_as(pg, "postgres", "app", &file, &[]);
    assert_eq!(out.code, 0, "adoption should need no change:\n{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("-- statements: 0\n"), "{}", out.stdout);
    // And the adopted state does what it says.
    assert_can(pg, "app", "u", "SELECT * FROM s.t");

    // Sanity: the same file against a cluster missing one grant has changes.
    pg.execute("app", &format!("REVOKE SELECT ON s.t FROM {select}"));
    assert_eq!(plan_as(pg, "postgres", "app", &file, &[]).code, 2);
});

// ---------------------------------------------------------------------------
// 12. A non-superuser with CREATEROLE that owns the database

pg_test!(fn non_superuser_database_owner_manages_its_roles(pg) {
    pg.execute("postgres", "CREATE ROLE admin LOGIN CREATEROLE");
    pg.execute("postgres", "CREATE DATABASE warehouse OWNER admin");
    let mut admin = pg.connect("admin", "warehouse").expect("connect as admin");
    admin
        .batch_execute(
            "REVOKE CONNECT ON DATABASE warehouse FROM PUBLIC;
             CREATE SCHEMA s;
             CREATE TABLE s.t (i int); INSERT INTO s.t VALUES (1);
             CREATE TABLE s.t2 (id serial, v int);",
        )
        .expect("objects created by admin");
    drop(admin);
    let f = Files::new();
    let env = [("U_PW", PW), ("O_PW", "owner secret")];
    // o may create in s: PostgreSQL lets a non-superuser give a table only
    // to a role with CREATE on its schema (see the test below for a role
    // without it).
    let base = |u_extra: &[&str], o_extra: &[&str]| {
        let mut u = vec!["login: { password_env: U_PW }", "database_connect: warehouse", "schema_usage: s"];
        u.extend_from_slice(u_extra);
        let mut o = vec![
            "login: { password_env: O_PW }",
            "database_connect: warehouse",
            "schema_usage: s",
            "schema_create: { schema: s, direct: true }",
        ];
        o.extend_from_slice(o_extra);
        doc(&[role("u", &u), role("o", &o)])
    };
    let select = "table_select: { schema: s, table: t }";
    let start = f.write("start.yaml", &base(&[select], &[]));
    let full = f.write(
        "full.yaml",
        &base(&[select], &["table_ownership: { schema: s, table: t2 }"]),
    );
    let bare = f.write("bare.yaml", &base(&[], &[]));
    let as_admin = |file: &std::path::Path| {
        sync_as_env(pg, "admin", "warehouse", file, &env);
        assert_converged_as(pg, "admin", "warehouse", file, &env);
    };

    as_admin(&start);
    let mut u = pg.connect_with_password("u", PW, "warehouse").expect("u logs in");
    u.batch_execute("SELECT * FROM s.t").expect("u selects s.t");
    drop(u);
    assert_eq!(relation_owner(pg, "warehouse", "s.t2"), "admin");
    as_admin(&full);
    let mut u = pg.connect_with_password("u", PW, "warehouse").expect("u logs in");
    u.batch_execute("SELECT * FROM s.t").expect("u selects s.t");
    let e = u.batch_execute("SELECT * FROM s.t2").map(|_| ()).map_err(|e| describe(&e));
    assert!(e.as_ref().is_err_and(|e| e.contains("permission denied for table t2")), "{e:?}");
    drop(u);
    assert_eq!(relation_owner(pg, "warehouse", "s.t2"), "o");
    let mut o = pg.connect_with_password("o", "owner secret", "warehouse").expect("o logs in");
    o.batch_execute("INSERT INTO s.t2 (v) VALUES (1)").expect("the owner inserts, using the sequence");
    drop(o);
    // The temporary grants are gone again: admin is in no role it was not in.
    let admin_in = usable_roles_of(pg, "admin");
    assert!(admin_in.is_empty(), "admin was left a member of {admin_in:?}");

    as_admin(&bare);
    assert_login(pg, "u", PW, "warehouse");
    let mut u = pg.connect_with_password("u", PW, "warehouse").expect("u logs in");
    let e = u.batch_execute("SELECT * FROM s.t").map(|_| ()).map_err(|e| describe(&e));
    assert!(e.as_ref().is_err_and(|e| e.contains("permission denied for table t")), "{e:?}");
    drop(u);
    assert_eq!(relation_owner(pg, "warehouse", "s.t2"), "admin");
    let mut o = pg.connect_with_password("o", "owner secret", "warehouse").expect("o logs in");
    let e = o.batch_execute("INSERT INTO s.t2 (v) VALUES (1)").map(|_| ()).map_err(|e| describe(&e));
    assert!(e.as_ref().is_err_and(|e| e.contains("permission denied for table t2")), "{e:?}");
    drop(o);
    assert!(usable_roles_of(pg, "admin").is_empty());

    // Removing the logins and connect: neither can get in any more.
    let gone = f.write("gone.yaml", &doc(&[role("u", &[]), role("o", &[])]));
    as_admin(&gone);
    assert_no_login(pg, "u", PW, "warehouse", "password authentication failed");
    assert_no_login(pg, "o", "owner secret", "warehouse", "password authentication failed");
});

// A non-superuser can give a table only to a role that has CREATE on the
// table's schema; pgsr has to arrange for that (as it arranges to act as
// the owner) when the declared owner lacks it.
pg_test!(fn non_superuser_gives_table_ownership_to_a_new_role(pg) {
    pg.execute("postgres", "CREATE ROLE admin LOGIN CREATEROLE");
    pg.execute("postgres", "CREATE DATABASE warehouse OWNER admin");
    let mut admin = pg.connect("admin", "warehouse").expect("connect as admin");
    admin
        .batch_execute("CREATE SCHEMA s; CREATE TABLE s.t (id serial, v int);")
        .expect("objects created by admin");
    drop(admin);
    let f = Files::new();
    let file = f.write(
        "own.yaml",
        &doc(&[role("o", &["schema_usage: s", "table_ownership: { schema: s, table: t }"])]),
    );
    sync_as_env(pg, "admin", "warehouse", &file, &[]);
    assert_converged_as(pg, "admin", "warehouse", &file, &[]);
    assert_eq!(relation_owner(pg, "warehouse", "s.t"), "o");
    assert_can(pg, "warehouse", "o", "INSERT INTO s.t (v) VALUES (1)");
    // Only what was declared: o was not left with CREATE on s.
    assert_cannot(pg, "warehouse", "o", "CREATE TABLE s.x (i int)", "schema s");
    assert!(usable_roles_of(pg, "admin").is_empty());
});

// ---------------------------------------------------------------------------
// Names that need quoting everywhere: in the desired file, in the plan's
// SQL, and in the password statement.

pg_test!(fn names_that_need_quoting(pg) {
    let db = "My DB";
    let user = "Ann \"A\" O'Neil";
    pg.execute("postgres", "CREATE DATABASE \"My DB\"");
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE \"My DB\" FROM PUBLIC");
    pg.execute(
        db,
        "CREATE SCHEMA \"Sales Data\";
         CREATE TABLE \"Sales Data\".\"Q1 \"\"final\"\"\" (i int);
         CREATE TABLE \"Sales Data\".\"Q2; DROP TABLE x\" (i int);
         CREATE TABLE \"Sales Data\".\"owned; table\" (id serial, i int);",
    );
    let f = Files::new();
    let env = [("ANN_PW", "pässwörd ﬁ")];
    let login = "login: { password_env: ANN_PW }";
    let full = f.write(
        "full.yaml",
        &doc(&[role(
            user,
            &[
                login,
                "database_connect: \"My DB\"",
                "schema_usage: \"Sales Data\"",
                "table_select: { schema: \"Sales Data\", table: \"Q1 \\\"final\\\"\" }",
                "table_select: { schema: \"Sales Data\", table_regex: \"Q2; \", direct: true }",
                "table_ownership: { schema: \"Sales Data\", table: \"owned; table\" }",
                "role_membership: \"Group-X \\\"quoted\\\"\"",
            ],
        )]),
    );
    let bare = f.write("bare.yaml", &doc(&[role(user, &[login, "database_connect: \"My DB\""])]));

    sync_as_env(pg, "postgres", db, &full, &env);
    assert_converged_as(pg, "postgres", db, &full, &env);
    let mut ann = pg
        .connect_with_password(user, "pässwörd ﬁ", db)
        .unwrap_or_else(|e| panic!("{user} logs in: {}", describe(&e)));
    ann.batch_execute(
        "SELECT * FROM \"Sales Data\".\"Q1 \"\"final\"\"\";
         SELECT * FROM \"Sales Data\".\"Q2; DROP TABLE x\";
         INSERT INTO \"Sales Data\".\"owned; table\" (i) VALUES (1);",
    )
    .unwrap_or_else(|e| panic!("{user} uses what was granted: {}", describe(&e)));
    drop(ann);
    assert!(is_member(pg, user, "Group-X \"quoted\""));
    assert_eq!(relation_owner(pg, db, "\"Sales Data\".\"owned; table\""), user);

    sync_as_env(pg, "postgres", db, &bare, &env);
    assert_converged_as(pg, "postgres", db, &bare, &env);
    assert_cannot(pg, db, user, "SELECT * FROM \"Sales Data\".\"Q1 \"\"final\"\"\"", "schema Sales Data");
    pg.execute(db, &format!("GRANT USAGE ON SCHEMA \"Sales Data\" TO {}", ident(user)));
    assert_cannot(pg, db, user, "SELECT * FROM \"Sales Data\".\"Q1 \"\"final\"\"\"", "table Q1 \"final\"");
    assert_cannot(pg, db, user, "SELECT * FROM \"Sales Data\".\"Q2; DROP TABLE x\"", "table Q2; DROP TABLE x");
    assert_cannot(pg, db, user, "INSERT INTO \"Sales Data\".\"owned; table\" (i) VALUES (1)", "table owned; table");
    assert!(!is_member(pg, user, "Group-X \"quoted\""));
    assert_login(pg, user, "pässwörd ﬁ", db);
});

// ---------------------------------------------------------------------------
// One desired file synced in two databases, as the docs say to ("run pgsr
// once per database"): each database's grants go through that database's
// intermediate roles, and the second sync must not take away what the
// first gave in the other database.

pg_test!(fn syncing_one_database_keeps_the_other_databases_grants(pg) {
    for db in ["da", "dbb"] {
        pg.execute("postgres", &format!("CREATE DATABASE {db}"));
        pg.execute(db, "CREATE SCHEMA s; CREATE TABLE s.t (i int);");
    }
    let f = Files::new();
    let file = f.write(
        "r.yaml",
        &doc(&[role("r", &["schema_usage: s", "table_select: { schema: s, table: t }"])]),
    );
    sync(pg, "da", &file);
    assert_can(pg, "da", "r", "SELECT * FROM s.t");
    sync(pg, "dbb", &file);
    assert_can(pg, "dbb", "r", "SELECT * FROM s.t");
    // What the sync in da gave is still there ...
    assert_can(pg, "da", "r", "SELECT * FROM s.t");
    // ... and both databases are converged.
    assert_converged_as(pg, "postgres", "da", &file, &[]);
    assert_converged_as(pg, "postgres", "dbb", &file, &[]);
});

// ---------------------------------------------------------------------------
// 13. What sync says: what a plan's header says, on standard error

pg_test!(fn sync_reports_warnings_skips_notes_and_created_roles(pg) {
    pg.execute("postgres", "CREATE ROLE analysts; CREATE ROLE admin LOGIN CREATEROLE;");
    let f = Files::new();
    let env = [("ALICE_PW", PW)];
    let alice = |membership: &str| {
        doc(&[role(
            "alice",
            &[
                "login: { password_env: ALICE_PW, valid_until: \"2001-01-01T00:00:00Z\" }",
                &format!("role_membership: {membership}"),
                "role_membership: team",
                "schema_usage: nowhere",
            ],
        )])
    };
    let typo = f.write("typo.yaml", &alice("Analysts"));

    // --strict: a missing role_membership target is an error, with the
    // role it likely means; nothing is created.
    let out = pg.pgsr_with_env("admin", "postgres", &["sync", "--strict", "-f", path_str(&typo)], &env);
    assert_one_line_error(
        "strict sync",
        &out,
        1,
        "alice: role_membership Analysts: role Analysts does not exist (--strict); did you mean \"analysts\"?",
    );
    assert!(!role_exists(pg, "alice") && !role_exists(pg, "Analysts") && !role_exists(pg, "team"));

    // plan says it too, on standard error as well as in the header.
    let out = pg.pgsr_with_env("admin", "postgres", &["plan", "-f", path_str(&typo)], &env);
    no_panic(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let near_miss = "role_membership target \"Analysts\" does not exist and would be created, but role \"analysts\" does: did you mean \"analysts\"? (role names are case-sensitive)";
    let expired = "alice: valid_until 2001-01-01T00:00:00.000000Z is in the past: alice could not log in after this sync";
    assert!(out.stdout.contains(&format!("\n-- warning: {near_miss}\n")), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("\n-- warning: {expired}\n")), "{}", out.stdout);
    assert!(out.stderr.contains(&format!("pgsr: warning: {near_miss}\n")), "{}", out.stderr);

    // Without --strict the sync applies, and says what plan's header says.
    let out = sync_as_env(pg, "admin", "postgres", &typo, &env);
    let said: Vec<&str> = out.stderr.lines().collect();
    for line in [
        format!("pgsr: warning: {near_miss}"),
        format!("pgsr: warning: {expired}"),
        "pgsr: skipped: alice: schema_usage nowhere: schema nowhere does not exist".to_owned(),
        "pgsr: note: the password of alice is set on every run: only a superuser can compare it with the stored one, so `plan --exit-code` does not count it as a change".to_owned(),
        "pgsr: created role alice (alice: managed role does not exist)".to_owned(),
        "pgsr: created role Analysts (alice: role_membership Analysts: role does not exist)".to_owned(),
        "pgsr: created role team (alice: role_membership team: role does not exist)".to_owned(),
    ] {
        assert!(said.contains(&line.as_str()), "missing {line:?} in:\n{}", out.stderr);
    }
    assert!(said.last().unwrap().starts_with("pgsr: applied "), "{}", out.stderr);
    assert!(role_exists(pg, "Analysts") && role_exists(pg, "team"));
    assert!(!out.stderr.contains("_pgsr_"), "intermediate roles are not listed:\n{}", out.stderr);

    // With nothing to change, what still holds is said again.
    let out = sync_as_env(pg, "postgres", "postgres", &typo, &env);
    let said: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        said,
        vec![
            format!("pgsr: warning: {expired}").as_str(),
            "pgsr: skipped: alice: schema_usage nowhere: schema nowhere does not exist",
            "pgsr: no changes",
        ],
        "{}",
        out.stderr
    );
});

// A role listed without `login` that can log in today: the plan says, in
// words, that it loses LOGIN and its password; after the sync it cannot
// log in.
pg_test!(fn a_role_losing_login_is_said_in_words(pg) {
    pg.execute("postgres", &format!("CREATE ROLE bob LOGIN PASSWORD {}", literal(PW)));
    assert_login(pg, "bob", PW, "postgres");
    let f = Files::new();
    let file = f.write("bob.yaml", &doc(&[role("bob", &[])]));
    let out = plan_as(pg, "postgres", "postgres", &file, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "\n-- bob: no login declared: bob loses LOGIN and its password\nALTER ROLE bob WITH NOLOGIN PASSWORD NULL;\n"
        ),
        "{}",
        out.stdout
    );
    sync_converged(pg, "postgres", &file);
    // Its password is gone: the password is refused before LOGIN is checked.
    assert_no_login(pg, "bob", PW, "postgres", "password authentication failed");
    assert_eq!(
        query_one(pg, "postgres", "SELECT rolcanlogin::text || ' ' || (rolpassword IS NULL)::text FROM pg_authid WHERE rolname = 'bob'").as_deref(),
        Some("false true")
    );
});

// ---------------------------------------------------------------------------
// sync --stdin-batch

/// `pgsr sync --stdin-batch` as the superuser, fed `lines`; returns the exit
/// code and the JSON result of each document.
fn batch(pg: &Pg, lines: &[&str]) -> (i32, Vec<serde_json::Value>) {
    use std::io::Write;
    let mut cmd = pgsr_command(pg, "postgres", "postgres", &["sync", "--stdin-batch"]);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn pgsr");
    let mut input = child.stdin.take().unwrap();
    for line in lines {
        writeln!(input, "{line}").unwrap();
    }
    drop(input);
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let results = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {stderr}"))
        })
        .collect();
    (out.status.code().unwrap_or(-1), results)
}

/// The connections pgsr opened (with `log_connections`).
fn pgsr_connections(pg: &Pg) -> usize {
    pg.server_log()
        .lines()
        .filter(|l| l.contains("connection authorized") && l.contains("application_name=pgsr"))
        .count()
}

pg_test!(fn stdin_batch_syncs_each_document_and_reports_errors_per_line(pg) {
    pg.set_setting("log_connections", "on");
    pg.restart();
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int);");
    let before = pgsr_connections(pg);
    let (code, results) = batch(pg, &[
        r#"{"roles": [{"name": "b1", "grants": [{"database_connect": "postgres"}]}]}"#,
        "",
        "{roles: [{name: b2, grants: [{schema_usage: s}, {table_select: {schema: s, table: t}}]}]}",
        r#"{"roles": [{"name": "b1", "grants": [{"database_connect": "postgres"}]}]}"#,
        r#"{"roles": [{"name": "b3", "grants": ["#,
        r#"{"roles": [{"name": "b4", "grants": [{"role_membership": "postgres"}]}]}"#,
        r#"{"roles": [{"name": "b5"}]}"#,
    ]);
    assert_eq!(code, 1, "a document failed: exit 1; {results:#?}");
    let summary: Vec<(u64, String)> = results
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["result"].as_str().unwrap().to_owned()))
        .collect();
    let expected: Vec<(u64, String)> = [
        (1, "applied"),
        (3, "applied"),
        (4, "no changes"),
        (5, "error"),
        (6, "error"),
        (7, "applied"),
    ]
    .iter()
    .map(|(l, r)| (*l, r.to_string()))
    .collect();
    assert_eq!(summary, expected, "{results:#?}");
    assert!(results[3]["error"].as_str().unwrap().contains("column"), "{results:#?}");
    assert!(results[4]["error"].as_str().unwrap().contains("connecting role"), "{results:#?}");
    assert!(results[0]["statements"].as_u64().unwrap() > 0);
    // Queries per document on the held connection: with changes, the read
    // (BEGIN, the lock tried, the roles), the statements and COMMIT; the
    // objects' read in the same query when the document names a table, in
    // one more when only a role of the scope holds one (pgsr's intermediate
    // roles are in every scope: once b2's grants gave them objects, every
    // later read reads those); without changes, the read and ROLLBACK.
    let round_trips: Vec<u64> = results
        .iter()
        .filter_map(|r| r["round_trips"].as_u64())
        .collect();
    assert_eq!(round_trips, vec![3, 3, 3, 4], "{results:#?}");
    assert!(role_exists(pg, "b1") && role_exists(pg, "b2") && role_exists(pg, "b5"));
    assert!(!role_exists(pg, "b3") && !role_exists(pg, "b4"));
    assert_can(pg, "postgres", "b2", "SELECT * FROM s.t");
    assert_eq!(pgsr_connections(pg) - before, 1, "one connection for the whole batch");

    // Every document synced: exit 0.
    let (code, results) = batch(pg, &[
        r#"{"roles": [{"name": "b5"}]}"#,
        r#"{"roles": [{"name": "b6"}]}"#,
    ]);
    assert_eq!(code, 0, "{results:#?}");
    assert_eq!(results[0]["result"], "no changes");
    assert_eq!(results[1]["result"], "applied");
    assert!(role_exists(pg, "b6"));
});

// A lost connection fails no document: the batch connects again.
pg_test!(fn stdin_batch_survives_a_lost_connection(pg) {
    use std::io::{BufRead, BufReader, Write};
    let mut cmd = pgsr_command(pg, "postgres", "postgres", &["sync", "--stdin-batch"]);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn pgsr");
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut result = |doc: &str| {
        writeln!(input, "{doc}").unwrap();
        input.flush().unwrap();
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    };
    assert_eq!(result(r#"{"roles": [{"name": "c1"}]}"#)["result"], "applied");
    let killed = query_one(
        pg,
        "postgres",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgsr'",
    );
    assert_eq!(killed.as_deref(), Some("1"));
    let second = result(r#"{"roles": [{"name": "c2"}]}"#);
    assert_eq!(second["result"], "applied", "{second}");
    assert_eq!(result(r#"{"roles": [{"name": "c2"}]}"#)["result"], "no changes");
    drop(input);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(role_exists(pg, "c1") && role_exists(pg, "c2"));
});
