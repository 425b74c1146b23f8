//! Ownership as pg-sync-roles handles it, and ownership moves that never
//! hand out power silently.
//!
//! The first tests run as a non-superuser that pg-sync-roles supports (a
//! CREATEROLE role that owns the database): pgsr must act as the owners of
//! what it changes, schema owners included, for the length of the
//! transaction. The others check which ownership pgsr takes away (only that
//! of schemas and table-likes, what a desired file can declare), where it
//! goes (`reassign_owned_to`), and that moving a view, or a table other
//! roles use, to the connecting role is refused unless the file says so.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use support::*;

/// A CREATEROLE role `admin` that owns database `warehouse`: the managed
/// cloud setup pg-sync-roles supports. `setup` runs as admin in warehouse.
fn nonsuper(pg: &Pg, setup: &str) {
    pg.execute("postgres", "CREATE ROLE admin LOGIN CREATEROLE");
    pg.execute("postgres", "CREATE DATABASE warehouse OWNER admin");
    let mut admin = pg.connect("admin", "warehouse").expect("connect as admin");
    admin.batch_execute(setup).expect("setup as admin");
}

/// Syncs as admin in warehouse, then checks that the next plan is empty and
/// that admin was left a member of no role.
#[track_caller]
fn sync_as_admin(pg: &Pg, file: &std::path::Path) -> PgsrOutput {
    let out = sync_as_env(pg, "admin", "warehouse", file, &[]);
    assert_converged_as(pg, "admin", "warehouse", file, &[]);
    let kept = usable_roles_of(pg, "admin");
    assert!(kept.is_empty(), "admin was left a member of {kept:?}");
    out
}

/// The owner of an object, by a catalog query returning one owner name.
fn owner(pg: &Pg, db: &str, sql: &str) -> String {
    query_one(pg, db, sql).unwrap_or_else(|| panic!("no owner from {sql}"))
}

fn schema_owner(pg: &Pg, db: &str, schema: &str) -> String {
    owner(
        pg,
        db,
        &format!(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = {}",
            literal(schema)
        ),
    )
}

/// What `sql` returns when `role` runs it (as the superuser after SET ROLE).
fn query_as(pg: &Pg, db: &str, role: &str, sql: &str) -> Result<String, String> {
    let mut client = pg.superuser(db);
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(&format!("SET LOCAL ROLE {}", ident(role)))
        .expect("set role");
    tx.query_one(sql, &[])
        .map(|row| row.get::<_, String>(0))
        .map_err(|e| describe(&e))
}

// ---------------------------------------------------------------------------
// 1. What pg-sync-roles does as a non-superuser

// A schema given to a role takes the schema away from the syncing role,
// which owns a table in it: granting SELECT on that table later needs
// USAGE on the schema, which only its owner has now.
pg_test!(fn select_on_a_table_in_a_schema_another_role_owns(pg) {
    nonsuper(
        pg,
        "CREATE SCHEMA s; CREATE TABLE s.t (i int); INSERT INTO s.t VALUES (1);
         CREATE SCHEMA s2; CREATE TABLE s2.t (i int); INSERT INTO s2.t VALUES (2);",
    );
    let f = Files::new();
    // The schemas' owners, with USAGE through an intermediate role (s) and
    // directly (s2).
    let owners = [
        role("a", &["schema_ownership: s", "schema_usage: s"]),
        role("a2", &["schema_ownership: s2", "schema_usage: { schema: s2, direct: true }"]),
    ];
    let first = f.write("first.yaml", &doc(&owners));
    sync_as_admin(pg, &first);
    assert_eq!(schema_owner(pg, "warehouse", "s"), "a");
    assert_eq!(schema_owner(pg, "warehouse", "s2"), "a2");

    let mut roles = owners.to_vec();
    let mut readers = Vec::new();
    for schema in ["s", "s2"] {
        for (variant, select) in [
            ("name", format!("table_select: {{ schema: {schema}, table: t }}")),
            ("regex", format!("table_select: {{ schema: {schema}, table_regex: \"^t$\" }}")),
            ("name_direct", format!("table_select: {{ schema: {schema}, table: t, direct: true }}")),
            ("regex_direct", format!("table_select: {{ schema: {schema}, table_regex: \"^t$\", direct: true }}")),
        ] {
            let name = format!("b_{schema}_{variant}");
            roles.push(role(
                &name,
                &["login:", "database_connect: warehouse", &format!("schema_usage: {schema}"), &select],
            ));
            readers.push((name, schema));
        }
    }
    let second = f.write("second.yaml", &doc(&roles));
    sync_as_admin(pg, &second);
    for (reader, schema) in &readers {
        assert_can(pg, "warehouse", reader, &format!("SELECT * FROM {schema}.t"));
        let other = if *schema == "s" { "s2" } else { "s" };
        assert_cannot(pg, "warehouse", reader, &format!("SELECT * FROM {other}.t"), "");
    }
    // The schemas kept their owners, the table its.
    assert_eq!(schema_owner(pg, "warehouse", "s"), "a");
    assert_eq!(relation_owner(pg, "warehouse", "s.t"), "admin");
});

// One sync gives a role a schema and a table in it: the table is given
// after the schema, when the role already has CREATE there as its owner.
pg_test!(fn schema_and_table_ownership_in_one_sync(pg) {
    nonsuper(pg, "CREATE SCHEMA s; CREATE TABLE s.t (id serial, v int);");
    let f = Files::new();
    let file = f.write(
        "own.yaml",
        &doc(&[role("o", &["schema_ownership: s", "table_ownership: { schema: s, table: t }"])]),
    );
    sync_as_admin(pg, &file);
    assert_eq!(schema_owner(pg, "warehouse", "s"), "o");
    assert_eq!(relation_owner(pg, "warehouse", "s.t"), "o");
    assert_eq!(relation_owner(pg, "warehouse", "s.t_id_seq"), "o");
    assert_can(pg, "warehouse", "o", "INSERT INTO s.t (v) VALUES (1)");
    // Its CREATE on its own schema was not taken away.
    assert_can(pg, "warehouse", "o", "CREATE TABLE s.x (i int)");
});

// pg-sync-roles takes away only the ownership it can declare: schemas and
// table-likes. A sequence of its own stays the role's.
pg_test!(fn a_standalone_sequence_stays_with_its_owner(pg) {
    nonsuper(pg, "CREATE SCHEMA s; CREATE ROLE r;");
    pg.execute("warehouse", "CREATE SEQUENCE s.q; ALTER SEQUENCE s.q OWNER TO r;");
    let f = Files::new();
    let file = f.write(
        "r.yaml",
        &doc(&[role(
            "r",
            &["login:", "database_connect: warehouse", "schema_create: s", "schema_usage: s"],
        )]),
    );
    sync_as_admin(pg, &file);
    assert_eq!(relation_owner(pg, "warehouse", "s.q"), "r");
    assert_can(pg, "warehouse", "r", "SELECT nextval('s.q')");
});

// CONNECT on a database a superuser owns: admin cannot act as a superuser
// (only a superuser can grant one), so it grants as itself, with the grant
// option it holds. Without one, PostgreSQL would only warn that it granted
// nothing (PUBLIC keeps TEMPORARY there): the plan is refused, in words.
pg_test!(fn connect_on_a_superusers_database_with_the_grant_option_held(pg) {
    nonsuper(pg, "");
    for db in ["shared", "closed"] {
        pg.execute("postgres", &format!("CREATE DATABASE {db}"));
        pg.execute("postgres", &format!("REVOKE CONNECT ON DATABASE {db} FROM PUBLIC"));
    }
    pg.execute("postgres", "GRANT CONNECT ON DATABASE shared TO admin WITH GRANT OPTION");
    let f = Files::new();
    let file = f.write("r.yaml", &doc(&[role("r", &["login:", "database_connect: shared"])]));
    let out = sync_as_admin(pg, &file);
    assert!(!out.stdout.contains("GRANT postgres TO"), "{}", out.stdout);
    assert!(pg.connect("r", "shared").is_ok(), "r cannot connect to shared");

    let file = f.write("r2.yaml", &doc(&[role("r2", &["login:", "database_connect: closed"])]));
    let out = pg.pgsr("admin", "warehouse", &["sync", "-f", path_str(&file)]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "admin cannot grant CONNECT on database closed (it holds no grant option for it): \
             its owner postgres is a superuser"
        ),
        "{}",
        out.stderr
    );
    assert!(!role_exists(pg, "r2"), "a failed sync applied part of its plan");
});

// ---------------------------------------------------------------------------
// 2. Ownership moves never hand out power silently

// A SECURITY DEFINER function runs as its owner: given to the connecting
// role, every caller would run it as postgres.
pg_test!(fn a_security_definer_function_is_never_given_away(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE definer; CREATE ROLE caller; CREATE SCHEMA fs;
         GRANT USAGE ON SCHEMA fs TO caller;
         CREATE FUNCTION fs.who() RETURNS text SECURITY DEFINER LANGUAGE sql
             AS 'SELECT current_user::text';
         ALTER FUNCTION fs.who() OWNER TO definer;",
    );
    let f = Files::new();
    let file = f.write("definer.yaml", &doc(&[role("definer", &[])]));
    sync_converged(pg, "postgres", &file);
    assert_eq!(
        owner(pg, "postgres", "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'who'"),
        "definer"
    );
    assert_eq!(query_as(pg, "postgres", "caller", "SELECT fs.who()").as_deref(), Ok("definer"));
});

// An owner role listed with one schema_ownership: only schemas and
// table-likes it does not declare change hands, never its database,
// routines, types, languages, sequences, large objects or servers.
pg_test!(fn only_schemas_and_table_likes_change_hands(pg) {
    pg.execute("postgres", "CREATE ROLE dbo");
    pg.execute("postgres", "CREATE DATABASE other OWNER dbo");
    pg.execute(
        "postgres",
        "CREATE SCHEMA kept AUTHORIZATION dbo; CREATE SCHEMA dropped AUTHORIZATION dbo;
         CREATE SCHEMA x; GRANT USAGE, CREATE ON SCHEMA x TO dbo;
         SET ROLE dbo;
         CREATE TABLE x.t (i int); CREATE FUNCTION x.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE PROCEDURE x.p() LANGUAGE sql AS 'SELECT 1';
         CREATE TYPE x.mood AS ENUM ('ok'); CREATE DOMAIN x.pos AS int CHECK (VALUE > 0);
         CREATE SEQUENCE x.q; CREATE TABLE dropped.t (i int);
         SELECT lo_create(4242);
         RESET ROLE;
         CREATE FOREIGN DATA WRAPPER w; GRANT USAGE ON FOREIGN DATA WRAPPER w TO dbo;
         CREATE SERVER srv FOREIGN DATA WRAPPER w; ALTER SERVER srv OWNER TO dbo;
         ALTER LANGUAGE plpgsql OWNER TO dbo;",
    );
    let f = Files::new();
    let file = f.write("dbo.yaml", &doc(&[role("dbo", &["schema_ownership: kept"])]));
    let plan = plan_as(pg, "postgres", "postgres", &file, &[]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    let moves: Vec<&str> = plan.stdout.lines().filter(|l| l.contains(" OWNER TO ")).collect();
    assert_eq!(
        moves,
        [
            "ALTER SCHEMA dropped OWNER TO postgres;",
            "ALTER TABLE dropped.t OWNER TO postgres;",
            "ALTER TABLE x.t OWNER TO postgres;",
        ],
        "{}",
        plan.stdout
    );
    // Each move says what goes with the ownership.
    assert!(
        plan.stdout.contains("-- dbo: ownership of schema dropped not declared; it goes to postgres (the owner may create in it"),
        "{}",
        plan.stdout
    );
    sync_converged(pg, "postgres", &file);
    let owner_of = |sql: &str| owner(pg, "postgres", sql);
    assert_eq!(owner(pg, "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'other'"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'f'"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'p'"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'mood'"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'pos'"), "dbo");
    assert_eq!(relation_owner(pg, "postgres", "x.q"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata WHERE oid = 4242"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(srvowner) FROM pg_foreign_server WHERE srvname = 'srv'"), "dbo");
    assert_eq!(owner_of("SELECT pg_get_userbyid(lanowner) FROM pg_language WHERE lanname = 'plpgsql'"), "dbo");
    assert_eq!(schema_owner(pg, "postgres", "kept"), "dbo");
    assert_eq!(schema_owner(pg, "postgres", "dropped"), "postgres");
    assert_eq!(relation_owner(pg, "postgres", "x.t"), "postgres");
});

// A view reads its tables with its owner's rights, for everyone who may
// query it; a table other roles use may act with its owner's rights too
// (its rules). Neither goes to the connecting role unless the desired
// file names where ownership taken away goes.
pg_test!(fn views_and_used_tables_go_only_where_the_file_says(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE vo; CREATE ROLE reader; CREATE ROLE keeper;
         CREATE SCHEMA s; GRANT USAGE ON SCHEMA s TO reader, vo;
         CREATE TABLE s.secret (v text); INSERT INTO s.secret VALUES ('hidden');
         CREATE VIEW s.v AS SELECT v FROM s.secret; ALTER VIEW s.v OWNER TO vo;
         GRANT SELECT ON s.v TO reader;",
    );
    let f = Files::new();
    let usage = "schema_usage: { schema: s, direct: true }";
    let bare = doc(&[role("vo", &[usage])]);
    let bare_file = f.write("bare.yaml", &bare);
    let reading = "SELECT v FROM s.v";
    assert_cannot(pg, "postgres", "reader", reading, "permission denied for table secret");

    // Refused, and nothing changes.
    let out = pg.pgsr("postgres", "postgres", &["sync", "-f", path_str(&bare_file)]);
    assert_one_line_error("view", &out, 1, "view s.v");
    assert!(out.stderr.contains("reassign_owned_to"), "{}", out.stderr);
    assert_eq!(relation_owner(pg, "postgres", "s.v"), "vo");
    assert_cannot(pg, "postgres", "reader", reading, "permission denied for table secret");

    // A table another role uses is refused too, and the message names
    // who uses it.
    pg.execute(
        "postgres",
        "CREATE TABLE s.shared (i int); ALTER TABLE s.shared OWNER TO vo;
         GRANT SELECT ON s.shared TO reader;",
    );
    let view_kept = f.write(
        "view_kept.yaml",
        &doc(&[role("vo", &[usage, "table_ownership: { schema: s, table: v }"])]),
    );
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&view_kept)]);
    assert_one_line_error("table", &out, 1, "table s.shared");
    assert!(out.stderr.contains("reader"), "the roles that use it are named: {}", out.stderr);

    // Named: they go to keeper, and the view reads with keeper's rights.
    let to_keeper = f.write("keeper.yaml", &format!("reassign_owned_to: keeper\n{bare}"));
    sync_converged(pg, "postgres", &to_keeper);
    assert_eq!(relation_owner(pg, "postgres", "s.v"), "keeper");
    assert_eq!(relation_owner(pg, "postgres", "s.shared"), "keeper");
    assert_cannot(pg, "postgres", "reader", reading, "permission denied for table secret");
    assert_can(pg, "postgres", "reader", "SELECT * FROM s.shared");

    // Naming the connecting role accepts what it means, per role too.
    pg.execute("postgres", "ALTER VIEW s.v OWNER TO vo; ALTER TABLE s.shared OWNER TO vo;");
    let to_postgres = f.write(
        "postgres.yaml",
        &format!("roles:\n  - name: vo\n    reassign_owned_to: postgres\n    grants:\n      - {usage}\n"),
    );
    sync_converged(pg, "postgres", &to_postgres);
    assert_eq!(relation_owner(pg, "postgres", "s.v"), "postgres");
    assert_eq!(relation_owner(pg, "postgres", "s.shared"), "postgres");
});

// Ownership taken away from a non-superuser's managed role goes to the
// role the file names, which pgsr acts as for the length of the plan.
pg_test!(fn reassign_owned_to_as_a_non_superuser(pg) {
    nonsuper(
        pg,
        "CREATE ROLE keeper; CREATE ROLE o; CREATE SCHEMA s; CREATE TABLE s.t (i int);
         CREATE SCHEMA mine;",
    );
    let f = Files::new();
    let owns = f.write(
        "owns.yaml",
        &doc(&[role("o", &["schema_ownership: mine", "table_ownership: { schema: s, table: t }"])]),
    );
    sync_as_admin(pg, &owns);
    assert_eq!(relation_owner(pg, "warehouse", "s.t"), "o");
    let gone = f.write("gone.yaml", &format!("reassign_owned_to: keeper\n{}", doc(&[role("o", &[])])));
    sync_as_admin(pg, &gone);
    assert_eq!(relation_owner(pg, "warehouse", "s.t"), "keeper");
    assert_eq!(schema_owner(pg, "warehouse", "mine"), "keeper");
    // keeper was given no CREATE it did not have.
    assert_cannot(pg, "warehouse", "keeper", "CREATE TABLE s.x (i int)", "schema s");
});

pg_test!(fn reassign_owned_to_is_checked(pg) {
    pg.execute("postgres", "CREATE ROLE o; CREATE ROLE boss SUPERUSER; CREATE SCHEMA s AUTHORIZATION o;");
    let f = Files::new();
    let o = doc(&[role("o", &[])]);
    let cases = [
        ("missing", "reassign_owned_to: nobody\n", "nobody does not exist"),
        ("public", "reassign_owned_to: public\n", "reassign_owned_to"),
        ("intermediate", "reassign_owned_to: _pgsr_x\n", "_pgsr_"),
        ("powerful", "reassign_owned_to: boss\n", "allow_power"),
    ];
    for (case, top, needle) in cases {
        let file = f.write(&format!("{case}.yaml"), &format!("{top}{o}"));
        let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&file)]);
        assert_one_line_error(case, &out, 1, needle);
    }
    // A managed role receives ownership only if it keeps what it receives.
    let managed = f.write(
        "managed.yaml",
        "roles:\n  - name: o\n    reassign_owned_to: m\n  - name: m\n",
    );
    let out = pg.pgsr("postgres", "postgres", &["plan", "-f", path_str(&managed)]);
    assert_one_line_error("managed", &out, 1, "reassign_owned_to: m");
    let keeps = f.write(
        "keeps.yaml",
        "roles:\n  - name: o\n    reassign_owned_to: m\n  - name: m\n    reassign_owned_to: m\n",
    );
    sync_converged(pg, "postgres", &keeps);
    assert_eq!(schema_owner(pg, "postgres", "s"), "m");

    // A powerful receiver with allow_power: listed in the plan's header.
    pg.execute("postgres", "ALTER SCHEMA s OWNER TO o");
    let allowed = f.write("allowed.yaml", &format!("reassign_owned_to: boss\nallow_power: [boss]\n{o}"));
    let plan = plan_as(pg, "postgres", "postgres", &allowed, &[]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(r#"-- power: {"grantee":"boss","schema_owner":"s","#),
        "{}",
        plan.stdout
    );
    sync_converged(pg, "postgres", &allowed);
    assert_eq!(schema_owner(pg, "postgres", "s"), "boss");
});
