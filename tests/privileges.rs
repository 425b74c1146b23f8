//! The general grant (`grant: {privileges, on, …}`): every privilege of
//! every object kind is granted, then revoked by the next sync that no
//! longer declares it, as seen by the role itself (or by
//! `has_*_privilege` where acting cannot show it); columns, grant options,
//! object selection by regex and `all`, and privileges held through an
//! intermediate role.

mod support;

use pgsr_e2e::{pg_test, Pg};
use support::*;

/// Whether `check` (a `has_*_privilege` call) is true, as the superuser.
fn has(pg: &Pg, db: &str, check: &str) -> bool {
    query_one(pg, db, &format!("SELECT ({check})::text")).as_deref() == Some("true")
}

/// Syncs `roles` as the superuser in `db`, and checks the next plan is empty.
#[track_caller]
fn sync_roles(pg: &Pg, f: &Files, db: &str, roles: &[String]) {
    let file = f.write("desired.yaml", &doc(roles));
    sync_converged(pg, db, &file);
}

const USAGE_ON_S: &str = "schema_usage: {schema: s, direct: true}";

pg_test!(fn every_table_privilege_granted_then_revoked(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE TABLE s.t (i int PRIMARY KEY); INSERT INTO s.t VALUES (1);",
    );
    pg.execute("postgres", "CREATE ROLE app");
    let f = Files::new();
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role("app", &[USAGE_ON_S, "grant: {privileges: ALL, on: table, schema: s, name: t}"])],
    );
    assert_can(pg, "postgres", "app", "SELECT * FROM s.t");
    assert_can(pg, "postgres", "app", "INSERT INTO s.t VALUES (2)");
    assert_can(pg, "postgres", "app", "UPDATE s.t SET i = i + 10");
    assert_can(pg, "postgres", "app", "DELETE FROM s.t");
    assert_can(pg, "postgres", "app", "TRUNCATE s.t");
    let mut privileges = vec!["REFERENCES", "TRIGGER"];
    if pg.major >= 17 {
        privileges.push("MAINTAIN");
    }
    for p in &privileges {
        assert!(has(pg, "postgres", &format!("has_table_privilege('app', 's.t', '{p}')")), "{p}");
    }
    // Only SELECT and INSERT are declared now: the rest is revoked.
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role(
            "app",
            &[USAGE_ON_S, "grant: {privileges: [SELECT, INSERT], on: tables, schema: s, name: t}"],
        )],
    );
    assert_can(pg, "postgres", "app", "SELECT * FROM s.t");
    assert_can(pg, "postgres", "app", "INSERT INTO s.t VALUES (3)");
    assert_cannot(pg, "postgres", "app", "UPDATE s.t SET i = 1", "permission denied");
    assert_cannot(pg, "postgres", "app", "DELETE FROM s.t", "permission denied");
    assert_cannot(pg, "postgres", "app", "TRUNCATE s.t", "permission denied");
    for p in &privileges {
        assert!(!has(pg, "postgres", &format!("has_table_privilege('app', 's.t', '{p}')")), "{p} kept");
    }
    // Nothing declared: nothing left.
    sync_roles(pg, &f, "postgres", &[role("app", &[USAGE_ON_S])]);
    assert_cannot(pg, "postgres", "app", "SELECT * FROM s.t", "permission denied");
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.t VALUES (4)", "permission denied");
});

pg_test!(fn sequences_routines_and_types(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE SEQUENCE s.q;
         CREATE FUNCTION s.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
         CREATE FUNCTION s.f(a text) RETURNS text LANGUAGE sql AS 'SELECT a';
         CREATE PROCEDURE s.p() LANGUAGE sql AS 'SELECT 1';
         REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA s FROM PUBLIC;
         CREATE TYPE s.mood AS ENUM ('ok'); REVOKE USAGE ON TYPE s.mood FROM PUBLIC;
         CREATE DOMAIN s.positive AS integer CHECK (VALUE > 0);
         REVOKE USAGE ON DOMAIN s.positive FROM PUBLIC;",
    );
    pg.execute("postgres", "CREATE ROLE app");
    let f = Files::new();
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role(
            "app",
            &[
                USAGE_ON_S,
                "grant: {privileges: [USAGE, SELECT, UPDATE], on: sequence, schema: s, name: q}",
                "grant: {privileges: EXECUTE, on: function, schema: s, name: \"f(integer)\"}",
                "grant: {privileges: EXECUTE, on: procedure, schema: s, name: p}",
                "grant: {privileges: USAGE, on: types, schema: s, names: [mood, positive]}",
            ],
        )],
    );
    assert_can(pg, "postgres", "app", "SELECT nextval('s.q')");
    assert_can(pg, "postgres", "app", "SELECT last_value FROM s.q");
    assert_can(pg, "postgres", "app", "SELECT setval('s.q', 10)");
    assert_can(pg, "postgres", "app", "SELECT s.f(1)");
    assert_cannot(pg, "postgres", "app", "SELECT s.f('x'::text)", "permission denied");
    assert_can(pg, "postgres", "app", "CALL s.p()");
    assert_can(pg, "postgres", "app", "SELECT 'ok'::s.mood");
    assert_can(pg, "postgres", "app", "CREATE TEMPORARY TABLE x (m s.mood, p s.positive)");
    // The other overload by its argument types, every privilege on the
    // sequence gone but USAGE, the procedure and the types gone.
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role(
            "app",
            &[
                USAGE_ON_S,
                "grant: {privileges: USAGE, on: sequence, schema: s, name: q}",
                "grant: {privileges: EXECUTE, on: function, schema: s, name: \"f( TEXT )\"}",
            ],
        )],
    );
    assert_can(pg, "postgres", "app", "SELECT nextval('s.q')");
    assert_cannot(pg, "postgres", "app", "SELECT last_value FROM s.q", "permission denied");
    assert_cannot(pg, "postgres", "app", "SELECT setval('s.q', 10)", "permission denied");
    assert_cannot(pg, "postgres", "app", "SELECT s.f(1)", "permission denied");
    assert_can(pg, "postgres", "app", "SELECT s.f('x'::text)");
    assert_cannot(pg, "postgres", "app", "CALL s.p()", "permission denied");
    assert_cannot(pg, "postgres", "app", "CREATE TEMPORARY TABLE x (m s.mood)", "permission denied");
    assert_cannot(pg, "postgres", "app", "CREATE TEMPORARY TABLE x (p s.positive)", "permission denied");
    // Every overload by name.
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role("app", &[USAGE_ON_S, "grant: {privileges: EXECUTE, on: function, schema: s, name: f}"])],
    );
    assert_can(pg, "postgres", "app", "SELECT s.f(1), s.f('x'::text)");
    assert_cannot(pg, "postgres", "app", "SELECT nextval('s.q')", "permission denied");
});

pg_test!(fn databases_schemas_and_shared_objects(pg) {
    let tablespace = pg.server_dir("ts");
    pg.execute("postgres", "CREATE DATABASE app_db");
    pg.execute("postgres", "REVOKE ALL ON DATABASE app_db FROM PUBLIC");
    pg.execute(
        "postgres",
        &format!("CREATE TABLESPACE ts LOCATION {}", literal(tablespace.to_str().unwrap())),
    );
    pg.execute(
        "app_db",
        "CREATE SCHEMA s;
         REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;
         CREATE FOREIGN DATA WRAPPER w; CREATE SERVER v FOREIGN DATA WRAPPER w;
         SELECT lo_create(424242);",
    );
    pg.execute("postgres", "CREATE ROLE app LOGIN");
    let f = Files::new();
    let all = [
        "grant: {privileges: [CONNECT, CREATE, TEMPORARY], on: database, name: app_db}",
        "grant: {privileges: [USAGE, CREATE], on: schema, name: s}",
        "grant: {privileges: USAGE, on: language, name: plpgsql}",
        "grant: {privileges: USAGE, on: foreign_data_wrapper, name: w}",
        "grant: {privileges: USAGE, on: foreign_server, name: v}",
        "grant: {privileges: [SELECT, UPDATE], on: large_object, name: 424242}",
        "grant: {privileges: CREATE, on: tablespace, name: ts}",
    ];
    sync_roles(pg, &f, "app_db", &[role("app", &all)]);
    let checks = [
        "has_database_privilege('app', 'app_db', 'CONNECT')",
        "has_database_privilege('app', 'app_db', 'CREATE')",
        "has_database_privilege('app', 'app_db', 'TEMPORARY')",
        "has_schema_privilege('app', 's', 'USAGE')",
        "has_schema_privilege('app', 's', 'CREATE')",
        "has_language_privilege('app', 'plpgsql', 'USAGE')",
        "has_foreign_data_wrapper_privilege('app', 'w', 'USAGE')",
        "has_server_privilege('app', 'v', 'USAGE')",
        "has_tablespace_privilege('app', 'ts', 'CREATE')",
    ];
    for check in checks {
        assert!(has(pg, "app_db", check), "{check}");
    }
    assert_can(pg, "app_db", "app", "CREATE TABLE s.mine (i int) TABLESPACE ts");
    assert_can(pg, "app_db", "app", "SELECT lo_get(424242)");
    assert_can(pg, "app_db", "app", "SELECT lo_put(424242, 0, 'x')");
    assert_can(pg, "app_db", "app", "CREATE SERVER mine FOREIGN DATA WRAPPER w");
    // Nothing declared any more: everything is revoked (the table app
    // made in s stays its own).
    sync_roles(pg, &f, "app_db", &[role("app", &[])]);
    for check in checks {
        assert!(!has(pg, "app_db", check), "kept: {check}");
    }
    assert_cannot(pg, "app_db", "app", "SELECT lo_get(424242)", "permission denied");
    assert!(try_login(pg, "app", "x", "app_db").is_err());
});

pg_test!(fn columns_grant_options_and_selections(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s; CREATE TABLE s.t (a int, b int); INSERT INTO s.t VALUES (1, 2);
         CREATE TABLE s.t_1 (i int); CREATE TABLE s.t_2 (i int); CREATE TABLE s.u (i int);
         CREATE TABLE s.other (i int);",
    );
    pg.execute("postgres", "CREATE ROLE app; CREATE ROLE friend");
    let f = Files::new();
    sync_roles(
        pg,
        &f,
        "postgres",
        &[
            role(
                "app",
                &[
                    USAGE_ON_S,
                    "grant: {privileges: ALL, on: column, schema: s, name: t, columns: [a]}",
                    "grant: {privileges: SELECT, on: table, schema: s, regex: \"t_\", with_grant_option: true}",
                    "grant: {privileges: INSERT, on: table, schema: s, all: true, except: [t, other]}",
                ],
            ),
            role("friend", &[USAGE_ON_S]),
        ],
    );
    assert_can(pg, "postgres", "app", "SELECT a FROM s.t");
    assert_can(pg, "postgres", "app", "UPDATE s.t SET a = 5");
    assert_can(pg, "postgres", "app", "INSERT INTO s.t (a) VALUES (7)");
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.t (a, b) VALUES (7, 8)", "permission denied");
    assert!(has(pg, "postgres", "has_column_privilege('app', 's.t', 'a', 'REFERENCES')"));
    assert_cannot(pg, "postgres", "app", "SELECT b FROM s.t", "permission denied");
    assert_can(pg, "postgres", "app", "SELECT * FROM s.t_1, s.t_2");
    assert_cannot(pg, "postgres", "app", "SELECT * FROM s.u", "permission denied");
    assert_can(pg, "postgres", "app", "GRANT SELECT ON s.t_1 TO friend");
    assert_can(pg, "postgres", "app", "INSERT INTO s.u VALUES (1); INSERT INTO s.t_1 VALUES (1)");
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.other VALUES (1)", "permission denied");
    assert!(has(pg, "postgres", "has_table_privilege('app', 's.t_2', 'SELECT WITH GRANT OPTION')"));
    // The grant option and the column privileges are no longer declared.
    sync_roles(
        pg,
        &f,
        "postgres",
        &[
            role(
                "app",
                &[USAGE_ON_S, "grant: {privileges: SELECT, on: table, schema: s, regex: \"t_\"}"],
            ),
            role("friend", &[USAGE_ON_S]),
        ],
    );
    assert_can(pg, "postgres", "app", "SELECT * FROM s.t_1, s.t_2");
    assert!(!has(pg, "postgres", "has_table_privilege('app', 's.t_2', 'SELECT WITH GRANT OPTION')"));
    // Without the grant option a GRANT only warns ("no privileges were
    // granted"): what it leaves is what counts.
    let mut client = pg.superuser("postgres");
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute("SET LOCAL ROLE app; GRANT SELECT ON s.t_1 TO friend; RESET ROLE")
        .expect("a GRANT without the option only warns");
    let friend = tx
        .query_one("SELECT has_table_privilege('friend', 's.t_1', 'SELECT')", &[])
        .expect("query")
        .get::<_, bool>(0);
    assert!(!friend, "app could still pass SELECT on");
    drop(tx);
    assert_cannot(pg, "postgres", "app", "SELECT a FROM s.t", "permission denied");
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.t (a) VALUES (7)", "permission denied");
    assert!(!has(pg, "postgres", "has_column_privilege('app', 's.t', 'a', 'REFERENCES')"));
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.u VALUES (1)", "permission denied");
});

pg_test!(fn any_table_privilege_through_an_intermediate_role(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int)");
    pg.execute("postgres", "CREATE ROLE app; CREATE ROLE other");
    let f = Files::new();
    let routed = "grant: {privileges: [INSERT, DELETE], on: table, schema: s, name: t, direct: false}";
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role("app", &[USAGE_ON_S, routed]), role("other", &[USAGE_ON_S, routed])],
    );
    assert_can(pg, "postgres", "app", "INSERT INTO s.t VALUES (1); DELETE FROM s.t");
    assert_can(pg, "postgres", "other", "INSERT INTO s.t VALUES (1)");
    let oid = database_oid(pg, "postgres");
    // One role per privilege, named as pg-sync-roles names its own, holds
    // it; the roles are members; the table's ACL names no managed role.
    let acl = relation_acl(pg, "postgres", "s.t");
    assert!(!acl.contains("app=") && !acl.contains("other="), "{acl}");
    for privilege in ["insert", "delete"] {
        let prefix = format!("_pgsr_local_{oid}_table_{privilege}_");
        let roles = query_column(
            pg,
            "postgres",
            &format!("SELECT rolname FROM pg_roles WHERE starts_with(rolname, {})", literal(&prefix)),
        );
        assert_eq!(roles.len(), 1, "{prefix}: {roles:?}");
        assert!(is_member(pg, "app", &roles[0]) && is_member(pg, "other", &roles[0]));
    }
    sync_roles(pg, &f, "postgres", &[role("app", &[USAGE_ON_S]), role("other", &[USAGE_ON_S, routed])]);
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.t VALUES (1)", "permission denied");
    assert_can(pg, "postgres", "other", "INSERT INTO s.t VALUES (1)");
});

pg_test!(fn bad_grants_are_one_line_errors(pg) {
    pg.execute("postgres", "CREATE SCHEMA s; CREATE TABLE s.t (i int)");
    let f = Files::new();
    for (grant, needle) in [
        ("grant: {privileges: EXECUTE, on: table, schema: s, name: t}", "EXECUTE is not a privilege of a table"),
        ("grant: {privileges: SELECT, on: tables, name: t}", "missing `schema`"),
        ("grant: {privileges: SELECT, on: table, schema: s, name: t, all: true}", "both select objects"),
        ("grant: {privileges: SET, on: parameter, all: true}", "parameters are named one by one"),
        ("grant: {privileges: USAGE, on: language, name: plpgsql, direct: false}", "intermediate role"),
        ("grant: {privileges: SELECT, on: column, schema: s, name: t}", "missing `columns`"),
        ("grant: {privileges: SELECT, on: gadget, name: t}", "unknown object kind"),
        ("grant: {privileges: SELECT, on: table, schema: pg_catalog, name: pg_authid}", "system schema"),
        ("grant: {privileges: CREATE, on: schema, name: pg_catalog}", "system schema"),
        ("default_privileges: {privileges: SELECT, on: tables, owner: postgres, schema: pg_catalog}", "system schema"),
        ("default_privileges: {privileges: USAGE, on: languages, owner: postgres}", "has no default privileges"),
    ] {
        let file = f.write("bad.yaml", &doc(&[role("app", &[grant])]));
        assert_plan_refused(pg, "postgres", &file, needle);
    }
    if pg.major < 17 {
        let file = f.write(
            "m.yaml",
            &doc(&[role("app", &["grant: {privileges: MAINTAIN, on: table, schema: s, name: t}"])]),
        );
        assert_plan_refused(pg, "postgres", &file, "MAINTAIN is not a privilege of a table on PostgreSQL");
    }
});

pg_test!(fn default_privileges_reach_objects_created_afterwards(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE owner LOGIN; CREATE SCHEMA s AUTHORIZATION owner; CREATE SCHEMA s2 AUTHORIZATION owner",
    );
    pg.execute("postgres", "CREATE ROLE app");
    let f = Files::new();
    let usage = "grant: {privileges: USAGE, on: schemas, names: [s, s2]}";
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role(
            "app",
            &[
                usage,
                "default_privileges: {privileges: [SELECT, INSERT], on: tables, owner: owner, schema: s}",
                "default_privileges: {privileges: USAGE, on: sequences, owner: owner}",
                "default_privileges: {privileges: SELECT, on: tables, owner: owner, schema: s2, with_grant_option: true}",
            ],
        )],
    );
    // Objects the owner creates after the sync.
    let mut owner = pg.connect("owner", "postgres").expect("connect as owner");
    owner
        .batch_execute(
            "CREATE TABLE s.t (i int); CREATE TABLE s2.t (i int); CREATE SEQUENCE s2.q;",
        )
        .expect("create as owner");
    assert_can(pg, "postgres", "app", "SELECT * FROM s.t; INSERT INTO s.t VALUES (1)");
    assert_can(pg, "postgres", "app", "SELECT * FROM s2.t; SELECT nextval('s2.q')");
    assert!(has(pg, "postgres", "has_table_privilege('app', 's2.t', 'SELECT WITH GRANT OPTION')"));
    assert_cannot(pg, "postgres", "app", "INSERT INTO s2.t VALUES (1)", "permission denied");
    // Only SELECT in s, without grant option in s2: new objects get less.
    sync_roles(
        pg,
        &f,
        "postgres",
        &[role(
            "app",
            &[
                usage,
                "default_privileges: {privileges: SELECT, on: tables, owner: owner, schema: s}",
                "default_privileges: {privileges: SELECT, on: tables, owner: owner, schema: s2}",
            ],
        )],
    );
    owner
        .batch_execute("CREATE TABLE s.u (i int); CREATE TABLE s2.u (i int); CREATE SEQUENCE s2.r;")
        .expect("create as owner");
    assert_can(pg, "postgres", "app", "SELECT * FROM s.u, s2.u");
    assert_cannot(pg, "postgres", "app", "INSERT INTO s.u VALUES (1)", "permission denied");
    assert!(!has(pg, "postgres", "has_table_privilege('app', 's2.u', 'SELECT WITH GRANT OPTION')"));
    assert_cannot(pg, "postgres", "app", "SELECT nextval('s2.r')", "permission denied");
    // None declared: new objects give app nothing, and no default names it.
    sync_roles(pg, &f, "postgres", &[role("app", &[usage])]);
    owner
        .batch_execute("CREATE TABLE s.v (i int); CREATE TABLE s2.v (i int);")
        .expect("create as owner");
    assert_cannot(pg, "postgres", "app", "SELECT * FROM s.v", "permission denied");
    assert_cannot(pg, "postgres", "app", "SELECT * FROM s2.v", "permission denied");
    let left = query_one(
        pg,
        "postgres",
        "SELECT count(*)::text FROM pg_default_acl, aclexplode(defaclacl) a WHERE a.grantee = 'app'::regrole",
    );
    assert_eq!(left.as_deref(), Some("0"));
});

/// Objects whose NULL ACL gives PUBLIC PostgreSQL's built-in privileges.
const BUILT_IN: &str = "CREATE SCHEMA s; CREATE TABLE s.t (i int);
     CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
     CREATE TYPE s.mood AS ENUM ('ok');
     GRANT SELECT ON s.t TO PUBLIC; GRANT USAGE ON SCHEMA s TO PUBLIC;";

pg_test!(fn public_section_revokes_the_built_in_defaults(pg) {
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("app", BUILT_IN);
    pg.execute("postgres", "CREATE ROLE someone LOGIN PASSWORD 'secret'");
    // Without a public section PUBLIC is left alone.
    let f = Files::new();
    let file = f.write("none.yaml", &doc(&[role("app_user", &[])]));
    sync_converged(pg, "app", &file);
    assert_login(pg, "someone", "secret", "app");
    assert_can(pg, "app", "someone", "SELECT s.f(); SELECT * FROM s.t; CREATE TEMPORARY TABLE x (i int)");
    assert!(has(pg, "app", "has_type_privilege('someone', 's.mood', 'USAGE')"));
    assert!(has(pg, "app", "has_language_privilege('someone', 'plpgsql', 'USAGE')"));
    // PUBLIC may only connect, and use schema s.
    let text = format!(
        "public:\n  - grant: {{privileges: CONNECT, on: database, name: app}}\n  - grant: {{privileges: USAGE, on: schema, name: s}}\n{}",
        doc(&[role("app_user", &[])])
    );
    let file = f.write("public.yaml", &text);
    sync_converged(pg, "app", &file);
    assert_login(pg, "someone", "secret", "app");
    assert_cannot(pg, "app", "someone", "SELECT s.f()", "permission denied for function");
    assert_cannot(pg, "app", "someone", "SELECT * FROM s.t", "permission denied for table");
    // USAGE on a type governs objects made with it, not values in queries.
    assert!(!has(pg, "app", "has_type_privilege('someone', 's.mood', 'USAGE')"));
    assert_cannot(pg, "app", "someone", "CREATE TEMPORARY TABLE x (i int)", "permission denied");
    assert!(!has(pg, "app", "has_language_privilege('someone', 'plpgsql', 'USAGE')"));
    // The public schema's CREATE (before 15) and USAGE are PUBLIC's too.
    assert!(!has(pg, "app", "has_schema_privilege('someone', 'public', 'USAGE')"));
    assert!(!has(pg, "app", "has_schema_privilege('someone', 'public', 'CREATE')"));
    // Nothing declared for PUBLIC: not even CONNECT.
    let text = format!("public: []\n{}", doc(&[role("app_user", &[])]));
    let file = f.write("nothing.yaml", &text);
    sync_converged(pg, "app", &file);
    assert!(try_login(pg, "someone", "secret", "app").is_err(), "PUBLIC kept CONNECT");
    // Other databases are not the plan's: PUBLIC keeps CONNECT there.
    assert_login(pg, "someone", "secret", "postgres");
});

/// The owner of an object, by a catalog query returning one owner name.
fn owner_of(pg: &Pg, db: &str, sql: &str) -> String {
    query_one(pg, db, sql).unwrap_or_else(|| panic!("no owner from {sql}"))
}

pg_test!(fn ownership_of_every_kind_that_has_an_owner(pg) {
    let tablespace = pg.server_dir("ts");
    pg.execute("postgres", "CREATE DATABASE appdb");
    pg.execute(
        "postgres",
        &format!("CREATE TABLESPACE ts LOCATION {}", literal(tablespace.to_str().unwrap())),
    );
    pg.execute(
        "appdb",
        "CREATE SCHEMA s; CREATE SEQUENCE s.q;
         CREATE FUNCTION s.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';
         CREATE PROCEDURE s.p() LANGUAGE sql AS 'SELECT 1';
         CREATE TYPE s.mood AS ENUM ('ok'); CREATE DOMAIN s.positive AS integer CHECK (VALUE > 0);
         CREATE FOREIGN DATA WRAPPER w; CREATE SERVER v FOREIGN DATA WRAPPER w;
         SELECT lo_create(424242);",
    );
    let f = Files::new();
    let owns = [
        "grant: {privileges: USAGE, on: schema, name: s}",
        "ownership: {on: sequence, schema: s, name: q}",
        "ownership: {on: functions, schema: s, names: [\"f(integer)\", p]}",
        "ownership: {on: types, schema: s, all: true}",
        "ownership: {on: foreign_server, name: v}",
        "ownership: {on: large_object, name: 424242}",
        "ownership: {on: tablespace, name: ts}",
        "ownership: {on: database, name: appdb}",
    ];
    // A database's owner is power: refused until the file allows it.
    let file = f.write("owner.yaml", &doc(&[role("keeper", &owns)]));
    assert_plan_refused(pg, "appdb", &file, "ownership of database appdb is power");
    let text = doc(&[role_allowing_power("keeper", &owns)]);
    let file = f.write("owner.yaml", &text);
    sync_converged(pg, "appdb", &file);
    for (what, sql) in [
        ("sequence", "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 's.q'::regclass"),
        ("function", "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 's.f(integer)'::regprocedure"),
        ("procedure", "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 's.p()'::regprocedure"),
        ("type", "SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = 's.mood'::regtype"),
        ("domain", "SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = 's.positive'::regtype"),
        ("server", "SELECT pg_get_userbyid(srvowner) FROM pg_foreign_server WHERE srvname = 'v'"),
        ("large object", "SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata WHERE oid = 424242"),
        ("tablespace", "SELECT pg_get_userbyid(spcowner) FROM pg_tablespace WHERE spcname = 'ts'"),
        ("database", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'"),
    ] {
        assert_eq!(owner_of(pg, "appdb", sql), "keeper", "{what}");
    }
    // As the owner, keeper may change what it owns.
    assert_can(pg, "appdb", "keeper", "COMMENT ON FUNCTION s.f(integer) IS 'mine'; ALTER SEQUENCE s.q RESTART");
    // What initdb made is never given away.
    let file = f.write(
        "initdb.yaml",
        &doc(&[role("keeper", &["ownership: {on: language, name: plpgsql}"])]),
    );
    assert_plan_refused(pg, "appdb", &file, "PostgreSQL's own object");
    let file = f.write(
        "fdw.yaml",
        &doc(&[role("keeper", &["ownership: {on: foreign_data_wrapper, name: w}"])]),
    );
    assert_plan_refused(pg, "appdb", &file, "must be a superuser");
});

pg_test!(fn parameter_privileges_are_power(pg) {
    pg.execute("postgres", "CREATE ROLE app");
    let f = Files::new();
    let set = "grant: {privileges: [SET, ALTER SYSTEM], on: parameter, name: log_statement}";
    let file = f.write("p.yaml", &doc(&[role("app", &[set])]));
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    if pg.major < 15 {
        assert_one_line_error("parameter", &out, 1, "privileges on a parameter exist from PostgreSQL 15");
        return;
    }
    // Power: refused unless the file allows it for the role.
    assert_one_line_error("parameter", &out, 1, "privileges on parameter log_statement are power");
    let text = doc(&[role_allowing_power("app", &[set])]);
    let file = f.write("p.yaml", &text);
    let planned = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
    assert!(planned.stdout.contains("-- power: {\"grantee\":\"app\",\"parameter\":\"log_statement\""), "{}", planned.stdout);
    sync_converged(pg, "postgres", &file);
    assert_can(pg, "postgres", "app", "SET log_statement = 'all'");
    assert!(has(pg, "postgres", "has_parameter_privilege('app', 'log_statement', 'ALTER SYSTEM')"));
    // Taken away: SET of a superuser-only setting is refused again.
    sync_roles(pg, &f, "postgres", &[role("app", &[])]);
    assert_cannot(pg, "postgres", "app", "SET log_statement = 'all'", "permission denied to set parameter");
    assert!(!has(pg, "postgres", "has_parameter_privilege('app', 'log_statement', 'ALTER SYSTEM')"));
});

pg_test!(fn execute_on_a_security_definer_function_of_a_superuser_is_power(pg) {
    pg.execute(
        "postgres",
        "CREATE SCHEMA s;
         CREATE FUNCTION s.definer() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user::text';
         CREATE FUNCTION s.invoker() RETURNS text LANGUAGE sql AS 'SELECT current_user::text';
         REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA s FROM PUBLIC;
         CREATE ROLE app;",
    );
    let f = Files::new();
    let grants = [
        USAGE_ON_S,
        "grant: {privileges: EXECUTE, on: functions, schema: s, names: [definer, invoker]}",
    ];
    let file = f.write("x.yaml", &doc(&[role("app", &grants)]));
    assert_plan_refused(pg, "postgres", &file, "EXECUTE on s.definer is power (it is SECURITY DEFINER and runs as postgres");
    let text = doc(&[role_allowing_power("app", &grants)]);
    let file = f.write("x.yaml", &text);
    sync_converged(pg, "postgres", &file);
    assert_eq!(
        query_one(pg, "postgres", "SET ROLE app; SELECT s.definer()").as_deref(),
        Some("postgres")
    );
    assert_can(pg, "postgres", "app", "SELECT s.invoker()");
    sync_roles(pg, &f, "postgres", &[role("app", &[USAGE_ON_S])]);
    assert_cannot(pg, "postgres", "app", "SELECT s.definer()", "permission denied for function");
});
