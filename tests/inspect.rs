//! `pgsr inspect` against real clusters: what each kind of grant looks like in
//! the snapshot, determinism, non-superusers, and every way it can fail.

use pgsr_e2e::{free_port, pg_test, Certs, Pg, PgsrOutput};
use pgsr_planner::acl::{default_acl, format_acl, AclEntry, AclObjectType, Privilege, PUBLIC};
use pgsr_planner::snapshot::*;
use std::process::Command;

// ---------------------------------------------------------------------------
// Helpers

fn e(grantee: &str, privilege: Privilege, grantor: &str, grantable: bool) -> AclEntry {
    AclEntry {
        grantee: grantee.to_owned(),
        grantor: grantor.to_owned(),
        privilege,
        grantable,
    }
}

fn show(acl: Option<&Vec<AclEntry>>) -> String {
    match acl {
        None => "NULL".to_owned(),
        Some(entries) => format!("{{{}}}", format_acl(entries).join(",")),
    }
}

/// The roles every grant test uses: `own` owns the objects, `holder` gets
/// the privilege WITH GRANT OPTION from the owner, and `sub` gets it from
/// `holder` (a grantor who is not the owner).
const GRANT_ROLES: &str = "CREATE ROLE own; CREATE ROLE holder; CREATE ROLE sub;";

/// `GRANT <privilege> ON <object> TO holder WITH GRANT OPTION`, run by the
/// superuser (PostgreSQL records the owner as grantor), then the same grant
/// from holder to sub.
fn grant_chain(privilege: &str, object: &str) -> String {
    format!(
        "GRANT {privilege} ON {object} TO holder WITH GRANT OPTION; \
         SET ROLE holder; GRANT {privilege} ON {object} TO sub; RESET ROLE;"
    )
}

/// The ACL holds exactly the two entries of [`grant_chain`] for holder and
/// sub, with the right grantors and grant options.
#[track_caller]
fn assert_grant_chain(what: &str, acl: Option<&Vec<AclEntry>>, privilege: Privilege, owner: &str) {
    let Some(entries) = acl else {
        panic!("{what}: the ACL is NULL after GRANT");
    };
    let ours: Vec<AclEntry> = entries
        .iter()
        .filter(|x| x.grantee == "holder" || x.grantee == "sub")
        .cloned()
        .collect();
    assert_eq!(
        ours,
        vec![
            e("holder", privilege, owner, true),
            e("sub", privilege, "holder", false)
        ],
        "{what}: expected {privilege} to holder WITH GRANT OPTION (grantor {owner}) and to sub (grantor holder); the ACL is {}",
        show(acl)
    );
}

#[track_caller]
fn relation<'a>(s: &'a Snapshot, schema: &str, name: &str) -> &'a Relation {
    s.catalog
        .relations
        .iter()
        .find(|r| r.schema == schema && r.name == name)
        .unwrap_or_else(|| panic!("relation {schema}.{name} is not in the snapshot"))
}

#[track_caller]
fn routine<'a>(s: &'a Snapshot, schema: &str, name: &str, arguments: &str) -> &'a Routine {
    s.catalog
        .routines
        .iter()
        .find(|r| r.schema == schema && r.name == name && r.arguments == arguments)
        .unwrap_or_else(|| panic!("routine {schema}.{name}({arguments}) is not in the snapshot"))
}

fn find_type<'a>(s: &'a Snapshot, schema: &str, name: &str) -> Option<&'a Type> {
    s.catalog
        .types
        .iter()
        .find(|t| t.schema == schema && t.name == name)
}

#[track_caller]
fn type_<'a>(s: &'a Snapshot, schema: &str, name: &str) -> &'a Type {
    find_type(s, schema, name)
        .unwrap_or_else(|| panic!("type {schema}.{name} is not in the snapshot"))
}

#[track_caller]
fn named<'a>(list: &'a [NamedObject], what: &str, name: &str) -> &'a NamedObject {
    list.iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("{what} {name} is not in the snapshot"))
}

#[track_caller]
fn shared<'a>(list: &'a [SharedObject], what: &str, name: &str) -> &'a SharedObject {
    list.iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("{what} {name} is not in the snapshot"))
}

#[track_caller]
fn schema<'a>(s: &'a Snapshot, name: &str) -> &'a Schema {
    s.catalog
        .schemas
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("schema {name} is not in the snapshot"))
}

#[track_caller]
fn role<'a>(s: &'a Snapshot, name: &str) -> &'a Role {
    s.catalog
        .roles
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("role {name} is not in the snapshot"))
}

fn memberships<'a>(s: &'a Snapshot, role: &str, member: &str) -> Vec<&'a Membership> {
    s.catalog
        .memberships
        .iter()
        .filter(|m| m.role == role && m.member == member)
        .collect()
}

#[track_caller]
fn membership<'a>(s: &'a Snapshot, role: &str, member: &str) -> &'a Membership {
    match memberships(s, role, member).as_slice() {
        [one] => one,
        other => panic!("expected one membership of {member} in {role}, found {other:?}"),
    }
}

/// A failure is one line on stderr, `pgsr: error: …`, exit code 1, nothing
/// on stdout and no panic.
#[track_caller]
fn assert_one_line_error(case: &str, out: &PgsrOutput, needle: &str) {
    for bad in ["panicked", "RUST_BACKTRACE"] {
        assert!(
            !out.stderr.contains(bad),
            "{case}: pgsr panicked:\n{}",
            out.stderr
        );
    }
    assert_eq!(out.code, 1, "{case}: exit code; stderr:\n{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{case}: expected exactly one line on stderr, got:\n{}",
        out.stderr
    );
    assert!(
        lines[0].starts_with("pgsr: error: "),
        "{case}: the line should start with `pgsr: error: `: {}",
        lines[0]
    );
    assert!(
        lines[0].contains(needle),
        "{case}: the error should mention {needle:?}: {}",
        lines[0]
    );
    assert!(
        out.stdout.is_empty(),
        "{case}: nothing belongs on stdout on failure, got:\n{}",
        out.stdout
    );
}

/// Runs `pgsr inspect --db <conninfo>` as the harness would, but with
/// everything taken from `--db`.
fn inspect_db(pg: &Pg, conninfo: &str) -> PgsrOutput {
    pg.pgsr("postgres", "postgres", &["inspect", "--db", conninfo])
}

// ---------------------------------------------------------------------------
// Grants on each kind of object

pg_test!(fn grants_on_shared_objects(pg) {
    pg.execute("postgres", GRANT_ROLES);
    // Neither CREATE DATABASE nor CREATE TABLESPACE may run in a transaction block.
    pg.execute("postgres", "CREATE DATABASE app OWNER own");
    let location = pg.server_dir("ts");
    pg.execute(
        "postgres",
        &format!("CREATE TABLESPACE ts OWNER own LOCATION '{}'", location.display()),
    );
    let mut sql = grant_chain("CREATE", "DATABASE app") + &grant_chain("CREATE", "TABLESPACE ts");
    if pg.major >= 15 {
        sql += &grant_chain("SET", "PARAMETER work_mem");
        sql += "GRANT ALTER SYSTEM ON PARAMETER work_mem TO holder;";
    }
    pg.execute("postgres", &sql);

    let s = pg.inspect("postgres", "postgres");
    let app = shared(&s.catalog.databases, "database", "app");
    assert_eq!(app.owner, "own", "database owner");
    assert_grant_chain("database app", app.acl.as_ref(), Privilege::Create, "own");
    // The first GRANT materializes the defaults: the owner's privileges and
    // PUBLIC's CONNECT and TEMPORARY.
    let mut expected = default_acl(AclObjectType::Database, Some("own"), s.server_version_num);
    expected.extend([
        e("holder", Privilege::Create, "own", true),
        e("sub", Privilege::Create, "holder", false),
    ]);
    expected.sort();
    assert_eq!(app.acl.as_ref(), Some(&expected), "the whole ACL of database app");

    let ts = shared(&s.catalog.tablespaces, "tablespace", "ts");
    assert_eq!(ts.owner, "own", "tablespace owner");
    assert_grant_chain("tablespace ts", ts.acl.as_ref(), Privilege::Create, "own");
    assert!(
        s.catalog.tablespaces.iter().any(|t| t.name == "pg_default" && t.owner == "postgres"),
        "built-in tablespaces are listed: {:?}",
        s.catalog.tablespaces
    );

    if pg.major >= 15 {
        let work_mem = s
            .catalog
            .parameters
            .iter()
            .find(|p| p.name == "work_mem")
            .unwrap_or_else(|| panic!("parameter work_mem missing: {:?}", s.catalog.parameters));
        // Parameters have no owner: the bootstrap superuser is the grantor.
        let acl = work_mem.acl.as_ref();
        let holder: Vec<&AclEntry> =
            acl.into_iter().flatten().filter(|x| x.grantee == "holder").collect();
        assert_eq!(
            holder,
            vec![
                &e("holder", Privilege::Set, "postgres", true),
                &e("holder", Privilege::AlterSystem, "postgres", false),
            ],
            "work_mem ACL {}",
            show(acl)
        );
        assert!(
            acl.into_iter().flatten().any(|x| *x == e("sub", Privilege::Set, "holder", false)),
            "work_mem ACL {}",
            show(acl)
        );
        assert_eq!(s.catalog.parameters.len(), 1, "only parameters with privileges: {:?}", s.catalog.parameters);
    } else {
        assert!(s.catalog.parameters.is_empty(), "no parameter privileges before 15");
    }
});

pg_test!(fn grants_on_relations(pg) {
    pg.execute(
        "postgres",
        &format!(
            "{GRANT_ROLES}
             CREATE SCHEMA s AUTHORIZATION own;
             CREATE TABLE s.t (id int, secret text, other text);
             CREATE TABLE s.p (id int, d date) PARTITION BY RANGE (d);
             CREATE TABLE s.p_2026 PARTITION OF s.p FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
             CREATE VIEW s.v AS SELECT id FROM s.t;
             CREATE MATERIALIZED VIEW s.mv AS SELECT id FROM s.t;
             -- A wrapper without handler is enough to define foreign tables.
             CREATE FOREIGN DATA WRAPPER w;
             CREATE SERVER srv FOREIGN DATA WRAPPER w;
             CREATE FOREIGN TABLE s.ft (id int) SERVER srv;
             CREATE SEQUENCE s.seq;
             ALTER TABLE s.t OWNER TO own;
             ALTER TABLE s.p OWNER TO own;
             ALTER VIEW s.v OWNER TO own;
             ALTER MATERIALIZED VIEW s.mv OWNER TO own;
             ALTER FOREIGN TABLE s.ft OWNER TO own;
             ALTER SEQUENCE s.seq OWNER TO own;"
        ),
    );
    // A different privilege on each object, so that mixing objects up shows.
    let mut sql = grant_chain("USAGE", "SCHEMA s")
        + &grant_chain("SELECT", "TABLE s.t")
        + &grant_chain("INSERT", "TABLE s.p")
        + &grant_chain("UPDATE", "TABLE s.v")
        + &grant_chain("TRIGGER", "TABLE s.mv")
        + &grant_chain("TRUNCATE", "TABLE s.ft")
        + &grant_chain("USAGE", "SEQUENCE s.seq")
        + &grant_chain("REFERENCES (secret)", "TABLE s.t");
    if pg.major >= 17 {
        sql += "CREATE TABLE s.m (); ALTER TABLE s.m OWNER TO own;";
        sql += &grant_chain("MAINTAIN", "TABLE s.m");
    }
    pg.execute("postgres", &sql);

    let s = pg.inspect("postgres", "postgres");
    let sch = schema(&s, "s");
    assert_eq!(sch.owner, "own", "schema owner");
    assert_grant_chain("schema s", sch.acl.as_ref(), Privilege::Usage, "own");

    for (name, kind, privilege) in [
        ("t", RelKind::Table, Privilege::Select),
        ("p", RelKind::PartitionedTable, Privilege::Insert),
        ("v", RelKind::View, Privilege::Update),
        ("mv", RelKind::MaterializedView, Privilege::Trigger),
        ("ft", RelKind::ForeignTable, Privilege::Truncate),
        ("seq", RelKind::Sequence, Privilege::Usage),
    ] {
        let r = relation(&s, "s", name);
        assert_eq!(r.kind, kind, "kind of s.{name}");
        assert_eq!(r.owner, "own", "owner of s.{name}");
        assert_grant_chain(&format!("s.{name}"), r.acl.as_ref(), privilege, "own");
    }
    let partition = relation(&s, "s", "p_2026");
    assert_eq!(partition.kind, RelKind::Table, "a partition is a table");
    assert_eq!(partition.acl, None, "a partition has its own (NULL) ACL");

    let t = relation(&s, "s", "t");
    assert_eq!(
        t.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["secret"],
        "only columns with a column ACL are listed"
    );
    assert_grant_chain("column s.t.secret", Some(&t.columns[0].acl), Privilege::References, "own");
    // The column grant must not leak into the table's own ACL.
    assert!(
        !t.acl.iter().flatten().any(|x| x.privilege == Privilege::References && x.grantee != "own"),
        "table ACL {}",
        show(t.acl.as_ref())
    );
    if pg.major >= 17 {
        assert_grant_chain("s.m", relation(&s, "s", "m").acl.as_ref(), Privilege::Maintain, "own");
    }
});

pg_test!(fn grants_on_routines_and_types(pg) {
    pg.execute(
        "postgres",
        &format!(
            "{GRANT_ROLES}
             CREATE SCHEMA s;
             GRANT USAGE ON SCHEMA s TO holder;
             CREATE FUNCTION s.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';
             CREATE FUNCTION s.f(a text, b integer DEFAULT 1) RETURNS text LANGUAGE sql AS 'SELECT $1';
             CREATE PROCEDURE s.pr() LANGUAGE sql AS 'SELECT 1';
             CREATE AGGREGATE s.agg(integer) (SFUNC = int4pl, STYPE = integer);
             CREATE TYPE s.e AS ENUM ('a', 'b');
             CREATE TYPE s.c AS (x integer, y text);
             CREATE TYPE s.r AS RANGE (SUBTYPE = float8);
             CREATE DOMAIN s.d AS integer CHECK (VALUE > 0);
             CREATE TABLE s.tbl (x integer);
             ALTER FUNCTION s.f(integer) OWNER TO own;
             ALTER FUNCTION s.f(text, integer) OWNER TO own;
             ALTER PROCEDURE s.pr() OWNER TO own;
             ALTER AGGREGATE s.agg(integer) OWNER TO own;
             ALTER TYPE s.e OWNER TO own;
             ALTER TYPE s.c OWNER TO own;
             ALTER TYPE s.r OWNER TO own;
             ALTER DOMAIN s.d OWNER TO own;"
        ),
    );
    pg.execute(
        "postgres",
        &(grant_chain("EXECUTE", "FUNCTION s.f(integer)")
            + "REVOKE EXECUTE ON FUNCTION s.f(text, integer) FROM PUBLIC;"
            + &grant_chain("EXECUTE", "PROCEDURE s.pr()")
            + &grant_chain("EXECUTE", "ROUTINE s.agg(integer)")
            + &grant_chain("USAGE", "TYPE s.e")
            + &grant_chain("USAGE", "TYPE s.c")
            + &grant_chain("USAGE", "TYPE s.r")
            + &grant_chain("USAGE", "DOMAIN s.d")),
    );

    let s = pg.inspect("postgres", "postgres");
    for (name, args, kind) in [
        ("f", "integer", RoutineKind::Function),
        ("pr", "", RoutineKind::Procedure),
        ("agg", "integer", RoutineKind::Aggregate),
    ] {
        let r = routine(&s, "s", name, args);
        assert_eq!(r.kind, kind, "kind of s.{name}({args})");
        assert_eq!(r.owner, "own", "owner of s.{name}({args})");
        assert_grant_chain(&format!("s.{name}({args})"), r.acl.as_ref(), Privilege::Execute, "own");
    }
    // The overload is told apart by its identity arguments.
    let overload = routine(&s, "s", "f", "a text, b integer");
    assert_eq!(
        overload.acl,
        Some(vec![e("own", Privilege::Execute, "own", false)]),
        "s.f(text, integer) after REVOKE EXECUTE FROM PUBLIC"
    );
    let fs: Vec<&str> = s
        .catalog
        .routines
        .iter()
        .filter(|r| r.schema == "s" && r.name == "f")
        .map(|r| r.arguments.as_str())
        .collect();
    assert_eq!(fs, ["a text, b integer", "integer"], "overloads sorted by arguments");

    for (name, kind) in [
        ("e", TypeKind::Enum),
        ("c", TypeKind::Composite),
        ("r", TypeKind::Range),
        ("d", TypeKind::Domain),
    ] {
        let t = type_(&s, "s", name);
        assert_eq!(t.kind, kind, "kind of type s.{name}");
        assert_eq!(t.owner, "own", "owner of type s.{name}");
        assert_grant_chain(&format!("type s.{name}"), t.acl.as_ref(), Privilege::Usage, "own");
    }
    if pg.major >= 14 {
        assert!(
            s.catalog.types.iter().any(|t| t.schema == "s" && t.kind == TypeKind::Multirange),
            "a range type comes with a multirange type from 14 on: {:?}",
            s.catalog.types.iter().filter(|t| t.schema == "s").collect::<Vec<_>>()
        );
    }
    // Array types and table row types carry no privileges of their own.
    for excluded in ["_e", "_c", "_d", "tbl", "_tbl"] {
        assert!(
            find_type(&s, "s", excluded).is_none(),
            "type s.{excluded} should not be in the snapshot"
        );
    }
    // Built-in objects with a NULL ACL are left out, those with one are kept.
    assert!(
        find_type(&s, "pg_catalog", "int4").is_none(),
        "pg_catalog.int4 has a NULL ACL and is left out"
    );
});

pg_test!(fn grants_on_languages_large_objects_and_foreign_objects(pg) {
    pg.execute(
        "postgres",
        &format!(
            "{GRANT_ROLES}
             -- Languages and wrappers must belong to a superuser; use one that
             -- is not the bootstrap superuser so the owner shows.
             CREATE ROLE boss SUPERUSER;
             ALTER LANGUAGE plpgsql OWNER TO boss;
             CREATE FOREIGN DATA WRAPPER w;
             ALTER FOREIGN DATA WRAPPER w OWNER TO boss;
             CREATE SERVER srv FOREIGN DATA WRAPPER w;
             GRANT USAGE ON FOREIGN DATA WRAPPER w TO own;
             ALTER SERVER srv OWNER TO own;
             SELECT lo_create(4242);
             ALTER LARGE OBJECT 4242 OWNER TO own;
             SELECT lo_create(4243);
             -- Above 2^31: OIDs are unsigned.
             SELECT lo_create(3000000000);"
        ),
    );
    pg.execute(
        "postgres",
        &(grant_chain("USAGE", "LANGUAGE plpgsql")
            + &grant_chain("USAGE", "FOREIGN DATA WRAPPER w")
            + &grant_chain("USAGE", "FOREIGN SERVER srv")
            + &grant_chain("UPDATE", "LARGE OBJECT 4242")),
    );

    let s = pg.inspect("postgres", "postgres");
    let plpgsql = named(&s.catalog.languages, "language", "plpgsql");
    assert_eq!(plpgsql.owner, "boss", "language owner");
    assert_grant_chain("language plpgsql", plpgsql.acl.as_ref(), Privilege::Usage, "boss");
    let w = named(&s.catalog.foreign_data_wrappers, "foreign-data wrapper", "w");
    assert_eq!(w.owner, "boss", "wrapper owner");
    assert_grant_chain("foreign-data wrapper w", w.acl.as_ref(), Privilege::Usage, "boss");
    let srv = named(&s.catalog.foreign_servers, "foreign server", "srv");
    assert_eq!(srv.owner, "own", "server owner");
    assert_grant_chain("foreign server srv", srv.acl.as_ref(), Privilege::Usage, "own");

    let oids: Vec<u32> = s.catalog.large_objects.iter().map(|l| l.oid).collect();
    assert_eq!(oids, [4242, 4243, 3_000_000_000], "large objects by oid");
    let lo = &s.catalog.large_objects[0];
    assert_eq!(lo.owner, "own", "large object owner");
    assert_grant_chain("large object 4242", lo.acl.as_ref(), Privilege::Update, "own");
    assert_eq!(s.catalog.large_objects[1].owner, "postgres");
    assert_eq!(s.catalog.large_objects[1].acl, None, "untouched large object");
});

pg_test!(fn default_privileges(pg) {
    let mut sql = format!(
        "{GRANT_ROLES}
         CREATE SCHEMA s;
         ALTER DEFAULT PRIVILEGES FOR ROLE own GRANT SELECT ON TABLES TO holder WITH GRANT OPTION;
         ALTER DEFAULT PRIVILEGES FOR ROLE own REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
         ALTER DEFAULT PRIVILEGES FOR ROLE own GRANT USAGE ON TYPES TO holder;
         ALTER DEFAULT PRIVILEGES FOR ROLE own GRANT CREATE ON SCHEMAS TO holder;
         ALTER DEFAULT PRIVILEGES FOR ROLE own IN SCHEMA s GRANT USAGE ON SEQUENCES TO sub;
         ALTER DEFAULT PRIVILEGES FOR ROLE own IN SCHEMA s GRANT SELECT ON TABLES TO sub WITH GRANT OPTION;
         ALTER DEFAULT PRIVILEGES FOR ROLE holder IN SCHEMA s GRANT EXECUTE ON FUNCTIONS TO sub;"
    );
    if pg.major >= 18 {
        sql += "ALTER DEFAULT PRIVILEGES FOR ROLE own GRANT SELECT ON LARGE OBJECTS TO holder;";
    }
    pg.execute("postgres", &sql);

    let s = pg.inspect("postgres", "postgres");
    let v = s.server_version_num;
    let with = |object_type, extra: Vec<AclEntry>| {
        let mut acl = default_acl(object_type, Some("own"), v);
        acl.extend(extra);
        acl.sort();
        acl
    };
    use DefaultObjectType as D;
    let mut expected: Vec<(&str, Option<&str>, DefaultObjectType, Vec<AclEntry>)> = vec![
        (
            "holder",
            Some("s"),
            D::Functions,
            vec![e("sub", Privilege::Execute, "holder", false)],
        ),
        (
            "own",
            None,
            D::Tables,
            with(AclObjectType::Relation, vec![e("holder", Privilege::Select, "own", true)]),
        ),
        (
            "own",
            None,
            D::Functions,
            vec![e("own", Privilege::Execute, "own", false)],
        ),
        (
            "own",
            None,
            D::Types,
            with(AclObjectType::Type, vec![e("holder", Privilege::Usage, "own", false)]),
        ),
        (
            "own",
            None,
            D::Schemas,
            with(AclObjectType::Schema, vec![e("holder", Privilege::Create, "own", false)]),
        ),
    ];
    if pg.major >= 18 {
        expected.push((
            "own",
            None,
            D::LargeObjects,
            with(AclObjectType::LargeObject, vec![e("holder", Privilege::Select, "own", false)]),
        ));
    }
    expected.extend([
        (
            "own",
            Some("s"),
            D::Tables,
            vec![e("sub", Privilege::Select, "own", true)],
        ),
        (
            "own",
            Some("s"),
            D::Sequences,
            vec![e("sub", Privilege::Usage, "own", false)],
        ),
    ]);
    let actual: Vec<(&str, Option<&str>, DefaultObjectType, Vec<AclEntry>)> = s
        .catalog
        .default_privileges
        .iter()
        .map(|d| (d.role.as_str(), d.schema.as_deref(), d.object_type, d.acl.clone()))
        .collect();
    assert_eq!(
        actual, expected,
        "default privileges, in canonical order (role, then the database-wide entries first, then by object type)"
    );
});

// ---------------------------------------------------------------------------
// ACL representation

pg_test!(fn null_and_empty_acls_and_public(pg) {
    pg.execute(
        "postgres",
        r#"CREATE TABLE fresh ();
           CREATE TABLE emptied ();
           REVOKE ALL ON emptied FROM postgres;
           CREATE TABLE pub ();
           GRANT SELECT ON pub TO PUBLIC;
           -- Only the lower-case name is reserved; "PUBLIC" is an ordinary role.
           CREATE ROLE "PUBLIC";
           GRANT INSERT ON pub TO "PUBLIC";
           -- A name that needs quoting in aclitem text, as grantee and grantor.
           CREATE ROLE "we""ird/ r=x";
           GRANT UPDATE ON pub TO "we""ird/ r=x" WITH GRANT OPTION;
           SET ROLE "we""ird/ r=x";
           GRANT UPDATE ON pub TO "PUBLIC";
           RESET ROLE;"#,
    );
    let out = pg.pgsr("postgres", "postgres", &["inspect"]).expect_code(0);
    let s = out.snapshot();
    assert_eq!(relation(&s, "public", "fresh").acl, None, "a fresh table has a NULL ACL");
    assert_eq!(
        relation(&s, "public", "emptied").acl,
        Some(vec![]),
        "after REVOKE ALL FROM owner the ACL is empty, not NULL"
    );
    // And the JSON tells them apart.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let line = |name: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("\"schema\":\"public\",\"name\":\"{name}\"")))
            .unwrap_or_else(|| panic!("no line for {name}"))
            .to_string()
    };
    assert!(line("fresh").contains("\"acl\":null"), "{}", line("fresh"));
    assert!(line("emptied").contains("\"acl\":[]"), "{}", line("emptied"));

    let acl = relation(&s, "public", "pub").acl.clone().expect("pub has an ACL");
    let mut expected = default_acl(AclObjectType::Relation, Some("postgres"), s.server_version_num);
    expected.extend([
        e(PUBLIC, Privilege::Select, "postgres", false),
        e("PUBLIC", Privilege::Insert, "postgres", false),
        e("PUBLIC", Privilege::Update, "we\"ird/ r=x", false),
        e("we\"ird/ r=x", Privilege::Update, "postgres", true),
    ]);
    expected.sort();
    assert_eq!(acl, expected, "PUBLIC is \"public\", the role \"PUBLIC\" stays itself");
    assert!(role(&s, "PUBLIC").name == "PUBLIC");
    assert!(
        s.catalog.roles.iter().all(|r| r.name != PUBLIC),
        "no role is called public"
    );
});

// ---------------------------------------------------------------------------
// Roles and memberships

pg_test!(fn memberships_with_options(pg) {
    let mut sql = String::from(
        "CREATE ROLE a; CREATE ROLE b; CREATE ROLE c; CREATE ROLE d;
         GRANT a TO b WITH ADMIN OPTION;
         SET ROLE b; GRANT a TO d; RESET ROLE;",
    );
    if pg.major >= 16 {
        sql += "GRANT a TO c WITH INHERIT FALSE, SET FALSE;
                -- A second grant of the same membership by another grantor.
                GRANT a TO d GRANTED BY postgres;";
    } else {
        sql += "GRANT a TO c;
                -- Before 16 the grantor is not tracked: drop it and it is gone.
                CREATE ROLE g CREATEROLE; CREATE ROLE e;
                SET ROLE g; GRANT a TO e; RESET ROLE;
                DROP ROLE g;";
    }
    pg.execute("postgres", &sql);

    let s = pg.inspect("postgres", "postgres");
    let options = |value: bool| if pg.major >= 16 { Some(value) } else { None };
    let ab = membership(&s, "a", "b");
    assert_eq!(
        (ab.grantor.as_deref(), ab.admin_option, ab.inherit_option, ab.set_option),
        (Some("postgres"), true, options(true), options(true)),
        "b in a WITH ADMIN OPTION: {ab:?}"
    );
    let ac = membership(&s, "a", "c");
    assert_eq!(
        (ac.admin_option, ac.inherit_option, ac.set_option),
        (false, options(false), options(false)),
        "c in a (INHERIT FALSE, SET FALSE from 16 on): {ac:?}"
    );
    if pg.major >= 16 {
        let grantors: Vec<Option<&str>> = memberships(&s, "a", "d")
            .iter()
            .map(|m| m.grantor.as_deref())
            .collect();
        assert_eq!(grantors, [Some("b"), Some("postgres")], "two grants of a to d, by grantor");
    } else {
        assert_eq!(membership(&s, "a", "d").grantor.as_deref(), Some("b"), "grantor of d in a");
        assert_eq!(
            membership(&s, "a", "e").grantor, None,
            "a grantor that no longer exists is null"
        );
    }
    // Canonical order: by role, member, grantor.
    let keys: Vec<_> = s
        .catalog
        .memberships
        .iter()
        .map(|m| (m.role.clone(), m.member.clone(), m.grantor.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "memberships are sorted by (role, member, grantor)");
});

pg_test!(fn role_attributes_and_no_passwords(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE everything LOGIN CREATEDB CREATEROLE REPLICATION BYPASSRLS NOINHERIT
             CONNECTION LIMIT 7 VALID UNTIL '2030-01-02 03:04:05+00' PASSWORD 'sekret-Pw-4711';
         CREATE ROLE forever VALID UNTIL 'infinity' PASSWORD 'other-Secret-0815';
         CREATE ROLE plain;
         ALTER ROLE postgres PASSWORD 'super-Secret-1234';",
    );
    // The session time zone must not shift valid_until.
    let out = pg
        .pgsr_with_env("postgres", "postgres", &["inspect"], &[("PGOPTIONS", "-c TimeZone=Pacific/Chatham")])
        .expect_code(0);
    let s = out.snapshot();
    let r = role(&s, "everything");
    assert_eq!(
        (r.superuser, r.inherit, r.createrole, r.createdb, r.canlogin, r.replication, r.bypassrls),
        (false, false, true, true, true, true, true),
        "attributes of everything: {r:?}"
    );
    assert_eq!(r.connection_limit, 7);
    assert_eq!(r.valid_until.as_deref(), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(role(&s, "forever").valid_until.as_deref(), Some("infinity"));
    let p = role(&s, "plain");
    assert_eq!(
        (p.superuser, p.inherit, p.createrole, p.createdb, p.canlogin, p.replication, p.bypassrls, p.connection_limit, p.valid_until.as_deref()),
        (false, true, false, false, false, false, false, -1, None),
        "a role with every default: {p:?}"
    );
    let su = role(&s, "postgres");
    assert!(su.superuser && su.canlogin, "{su:?}");
    for secret in ["sekret-Pw-4711", "other-Secret-0815", "super-Secret-1234", "SCRAM-SHA-256$"] {
        assert!(!out.stdout.contains(secret), "the snapshot contains {secret:?}");
    }
});

pg_test!(fn ownership_and_owned_sequences(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE r;
         CREATE TABLE t (id serial, n integer);
         CREATE TABLE ti (id integer GENERATED ALWAYS AS IDENTITY);
         CREATE SEQUENCE free;
         CREATE SEQUENCE attached OWNED BY t.n;
         ALTER TABLE t OWNER TO r;",
    );
    let s = pg.inspect("postgres", "postgres");
    let owned_by = |name: &str| relation(&s, "public", name).owned_by.clone();
    let t = Some(QualifiedName { schema: "public".into(), name: "t".into() });
    assert_eq!(owned_by("t_id_seq"), t, "a serial column's sequence");
    assert_eq!(owned_by("attached"), t, "ALTER SEQUENCE … OWNED BY");
    assert_eq!(
        owned_by("ti_id_seq"),
        Some(QualifiedName { schema: "public".into(), name: "ti".into() }),
        "an identity column's sequence"
    );
    assert_eq!(owned_by("free"), None, "a free-standing sequence");
    assert_eq!(relation(&s, "public", "t").owner, "r");
    assert_eq!(relation(&s, "public", "t_id_seq").owner, "r", "an owned sequence follows its table's owner");
    assert_eq!(relation(&s, "public", "ti").owner, "postgres");
});

// ---------------------------------------------------------------------------
// Determinism

pg_test!(fn fingerprint_tracks_permission_state_only(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE r; CREATE ROLE r2; CREATE TABLE t (id serial, v text); CREATE TABLE doomed ();",
    );
    let first = pg.pgsr("postgres", "postgres", &["inspect"]).expect_code(0).stdout;
    let second = pg.pgsr("postgres", "postgres", &["inspect"]).expect_code(0).stdout;
    assert!(first == second, "two inspections of an unchanged cluster differ");

    let mut last = pg.inspect("postgres", "postgres").fingerprint;
    let changes = [
        "GRANT SELECT ON t TO r",
        "GRANT SELECT ON t TO r WITH GRANT OPTION",
        "REVOKE SELECT ON t FROM r",
        "ALTER TABLE t OWNER TO r2",
        "CREATE TABLE added ()",
        "DROP TABLE doomed",
        "ALTER ROLE r CREATEDB",
        "GRANT r TO r2",
        "ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT SELECT ON TABLES TO r2",
        "CREATE ROLE r3",
    ];
    for sql in changes {
        pg.execute("postgres", sql);
        let now = pg.inspect("postgres", "postgres").fingerprint;
        assert_ne!(now, last, "`{sql}` did not change the fingerprint");
        last = now;
    }

    // A temporary table in another session, kept open while inspecting.
    let mut other = pg.superuser("postgres");
    other
        .batch_execute("CREATE TEMP TABLE scratch (id serial); GRANT SELECT ON scratch TO r; INSERT INTO scratch DEFAULT VALUES")
        .unwrap();
    let unrelated = [
        "INSERT INTO t (v) SELECT 'x' FROM generate_series(1, 1000)",
        "ANALYZE t",
        "VACUUM t",
        "CREATE INDEX ON t (v)",
        "COMMENT ON TABLE t IS 'not a permission'",
        "SELECT nextval('t_id_seq')",
        // r2 owns t and so holds SELECT already.
        "GRANT SELECT ON t TO r2",
    ];
    let before = last.clone();
    for sql in unrelated {
        pg.execute("postgres", sql);
        let now = pg.inspect("postgres", "postgres").fingerprint;
        assert_eq!(now, last, "`{sql}` changed the fingerprint");
        last = now;
    }
    assert_eq!(last, before);
    drop(other);
});

// ---------------------------------------------------------------------------
// Non-superusers

pg_test!(fn createrole_database_owner_can_inspect(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE cloudadmin LOGIN CREATEROLE;
         CREATE ROLE reader;
         GRANT reader TO cloudadmin WITH ADMIN OPTION;
         CREATE ROLE outsider;",
    );
    pg.execute("postgres", "CREATE DATABASE app OWNER cloudadmin");
    pg.execute("app", "CREATE TABLE secret_stuff (); REVOKE ALL ON secret_stuff FROM postgres");
    // What a managed service's admin does: create roles and objects.
    let admin = "SET ROLE cloudadmin;
                 CREATE ROLE made_by_admin;
                 CREATE SCHEMA app AUTHORIZATION cloudadmin;
                 CREATE TABLE app.t ();
                 GRANT SELECT ON app.t TO reader;";
    pg.execute("app", admin);

    let s = pg.inspect("cloudadmin", "app");
    let me = &s.connecting_role;
    assert_eq!(
        (me.name.as_str(), me.superuser, me.createrole),
        ("cloudadmin", false, true),
        "connecting_role: {me:?}"
    );
    let reader = me
        .memberships
        .iter()
        .find(|m| m.role == "reader")
        .unwrap_or_else(|| panic!("reader missing from {:?}", me.memberships));
    assert_eq!(
        (reader.usage, reader.member, reader.admin),
        (true, true, true),
        "granted WITH ADMIN OPTION: {reader:?}"
    );
    assert!(
        me.memberships.iter().all(|m| m.role != "outsider"),
        "not a member of outsider: {:?}",
        me.memberships
    );
    if pg.major >= 16 {
        // From 16 on a CREATEROLE role administers the roles it creates,
        // without their privileges.
        let made = me
            .memberships
            .iter()
            .find(|m| m.role == "made_by_admin")
            .unwrap_or_else(|| panic!("made_by_admin missing from {:?}", me.memberships));
        assert_eq!((made.usage, made.member, made.admin), (false, false, true), "{made:?}");
    }
    assert_eq!(shared(&s.catalog.databases, "database", "app").owner, "cloudadmin");
    assert_eq!(relation(&s, "public", "secret_stuff").acl, Some(vec![]), "objects the role cannot use are read too");
    assert_sees_own_grant(&s);

    // Who looks does not change the fingerprint.
    let as_superuser = pg.inspect("postgres", "app");
    assert_eq!(s.fingerprint, as_superuser.fingerprint, "fingerprint as cloudadmin and as postgres");
    assert_eq!(s.catalog, as_superuser.catalog);
});

/// The non-superuser sees the grant it made.
#[track_caller]
fn assert_sees_own_grant(s: &Snapshot) {
    let t = relation(s, "app", "t");
    assert!(
        t.acl
            .iter()
            .flatten()
            .any(|x| *x == e("reader", Privilege::Select, "cloudadmin", false)),
        "app.t ACL {}",
        show(t.acl.as_ref())
    );
}

// ---------------------------------------------------------------------------
// How the catalog is read

pg_test!(fn database_search_path_cannot_redirect_catalog_queries(pg) {
    // The owner of a database (not a superuser) plants look-alikes of
    // catalog functions and views and puts them first in the database's
    // search_path. A superuser inspecting the database must neither run
    // them nor see their answers.
    pg.execute("postgres", "CREATE ROLE mallory LOGIN");
    pg.execute("postgres", "CREATE DATABASE app OWNER mallory");
    pg.execute(
        "app",
        "SET ROLE mallory;
         CREATE SCHEMA trap;
         CREATE FUNCTION trap.pg_get_userbyid(oid) RETURNS name
             LANGUAGE sql AS $$ SELECT 'mallory'::name $$;
         CREATE VIEW trap.pg_roles AS
             SELECT * FROM pg_catalog.pg_roles WHERE rolname <> 'mallory';
         CREATE FUNCTION trap.pg_has_role(name, oid, text) RETURNS boolean
             LANGUAGE sql AS $$ SELECT true $$;
         ALTER DATABASE app SET search_path = trap, pg_catalog;",
    );
    // The honest view: a search_path given at connection time takes
    // precedence over the database's.
    let honest = pg
        .pgsr_with_env("postgres", "app", &["inspect"], &[("PGOPTIONS", "-c search_path=")])
        .expect_code(0)
        .snapshot();
    assert_eq!(schema(&honest, "pg_catalog").owner, "postgres", "baseline");
    assert!(honest.catalog.roles.iter().any(|r| r.name == "mallory"), "baseline");

    for user in ["postgres", "mallory"] {
        let s = pg.inspect(user, "app");
        assert_eq!(
            schema(&s, "pg_catalog").owner,
            "postgres",
            "inspecting as {user}: trap.pg_get_userbyid answered for the catalog's"
        );
        assert_eq!(
            s.catalog, honest.catalog,
            "inspecting as {user}: the database's search_path changed what was read"
        );
    }
});

pg_test!(fn routine_arguments_do_not_depend_on_the_search_path(pg) {
    // pg_get_function_identity_arguments qualifies the types the session's
    // search_path does not show: two roles with different search_paths must
    // still read the same catalog.
    pg.execute(
        "postgres",
        "CREATE TYPE public.mood AS ENUM ('ok');
         CREATE SCHEMA s;
         CREATE TYPE s.level AS ENUM ('low');
         CREATE FUNCTION s.f(mood, s.level) RETURNS integer LANGUAGE sql AS 'SELECT 1';
         CREATE ROLE other LOGIN;
         ALTER ROLE other SET search_path = s;",
    );
    let as_postgres = pg.inspect("postgres", "postgres");
    let as_other = pg.inspect("other", "postgres");
    let args = |s: &Snapshot| {
        s.catalog
            .routines
            .iter()
            .find(|r| r.schema == "s" && r.name == "f")
            .map(|r| r.arguments.clone())
            .unwrap_or_else(|| panic!("s.f is not in the snapshot"))
    };
    assert_eq!(args(&as_postgres), "public.mood, s.level", "fully qualified");
    assert_eq!(args(&as_other), args(&as_postgres));
    assert_eq!(as_other.fingerprint, as_postgres.fingerprint);
});

pg_test!(fn catalog_read_in_one_round_trip_of_one_read_only_transaction(pg) {
    pg.set_setting("log_statement", "all");
    pg.set_setting("log_line_prefix", "%a|");
    pg.restart();
    // The queries pgsr sent during one run, from the server log (a query of
    // several statements is one entry, its lines after the first indented).
    let queries = |pg: &Pg| {
        let before = pg.server_log().len();
        pg.inspect("postgres", "postgres");
        let log = pg.server_log()[before..].to_owned();
        let mut entries: Vec<String> = Vec::new();
        let mut ours = false;
        for line in log.lines() {
            if let Some(rest) = line.strip_prefix('\t') {
                if ours {
                    entries.last_mut().unwrap().push_str(&format!("\n{rest}"));
                }
                continue;
            }
            ours = line.starts_with("pgsr|")
                && (line.contains("LOG:  statement: ") || line.contains("LOG:  execute "));
            if ours {
                entries.push(line.split_once("LOG:  ").unwrap().1.to_owned());
            }
        }
        entries
    };
    let few = queries(pg);
    let mut sql = String::from("CREATE ROLE a; CREATE ROLE b; CREATE SCHEMA s;");
    for i in 0..40 {
        sql += &format!(
            "CREATE TABLE s.t{i} (id serial, v text); GRANT SELECT ON s.t{i} TO a; \
             GRANT UPDATE (v) ON s.t{i} TO b; \
             CREATE FUNCTION s.f{i}() RETURNS int LANGUAGE sql AS 'SELECT 1'; \
             CREATE TYPE s.e{i} AS ENUM ('x'); GRANT a TO b GRANTED BY postgres;"
        );
    }
    pg.execute("postgres", &sql);
    let many = queries(pg);
    assert_eq!(few.len(), many.len(), "the number of queries grew with the number of objects:\n{few:#?}\n{many:#?}");
    // The connection's settings, then the read: one round trip.
    assert_eq!(many.len(), 2, "{many:#?}");
    assert!(!many[0].contains("pg_class"), "catalog read outside the transaction: {}", many[0]);
    let read = &many[1];
    assert!(
        read.starts_with("statement: BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"),
        "the read is one REPEATABLE READ, READ ONLY transaction: {read}"
    );
    assert!(read.ends_with("\nCOMMIT"), "the transaction ends the read: {read}");
    // One catalog statement (one snapshot) between BEGIN and COMMIT.
    assert_eq!(read.matches(";\n").count(), 2, "{read}");
    for q in &many {
        assert!(!q.contains("pg_authid"), "reads pg_authid: {q}");
    }
});

// ---------------------------------------------------------------------------
// Connection settings and failures

pg_test!(fn connection_settings_sources(pg) {
    pg.execute("postgres", "CREATE ROLE pw LOGIN PASSWORD 'right-Pass-1'");
    let uri = format!("postgresql://pw:right-Pass-1@127.0.0.1:{}/postgres?sslmode=disable", pg.port);
    let name = |out: PgsrOutput| out.expect_code(0).snapshot().connecting_role.name;

    assert_eq!(name(inspect_db(pg, &uri)), "pw", "--db with a URI");
    let socket_uri = format!(
        "postgres:///postgres?host={}&port={}&user=postgres",
        pg.socket_dir().display().to_string().replace('/', "%2F"),
        pg.port
    );
    assert_eq!(name(inspect_db(pg, &socket_uri)), "postgres", "--db with a socket URI");
    let kv = format!("{} password=right-Pass-1 sslmode=disable", pg.tcp_conninfo("pw", "postgres"));
    assert_eq!(name(inspect_db(pg, &kv)), "pw", "--db with key=value");
    // The libpq environment (PGHOST, PGPORT, PGUSER… set by the harness)
    // fills what --db leaves out.
    assert_eq!(
        name(pg.pgsr("postgres", "postgres", &["inspect", "--db", "dbname=postgres"])),
        "postgres",
        "--db with only a dbname"
    );
    assert_eq!(
        name(pg.pgsr_with_env("postgres", "postgres", &["inspect"], &[("DATABASE_URL", &uri)])),
        "pw",
        "DATABASE_URL without --db"
    );
    assert_eq!(
        name(pg.pgsr_with_env(
            "pw",
            "postgres",
            &["inspect", "--db", &pg.conninfo("postgres", "postgres")],
            &[("DATABASE_URL", &uri)]
        )),
        "postgres",
        "--db wins over DATABASE_URL"
    );
    // -o writes the same bytes as standard output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    let to_file = pg.pgsr("postgres", "postgres", &["inspect", "-o", file.to_str().unwrap()]).expect_code(0);
    assert!(to_file.stdout.is_empty(), "with -o nothing goes to stdout");
    let stdout = pg.pgsr("postgres", "postgres", &["inspect"]).expect_code(0).stdout;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout, "-o and stdout agree");
});

pg_test!(fn connection_failures_are_one_line(pg) {
    pg.execute(
        "postgres",
        "CREATE ROLE pw LOGIN PASSWORD 'right-Pass-1';
         CREATE ROLE nope LOGIN;",
    );
    pg.execute("postgres", "CREATE DATABASE locked");
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE locked FROM PUBLIC");

    let refused_port = free_port();
    let out = inspect_db(
        pg,
        &format!("host=127.0.0.1 port={refused_port} user=postgres dbname=postgres sslmode=disable connect_timeout=5"),
    );
    assert_one_line_error("connection refused", &out, "refused");
    assert!(out.stderr.contains(&format!("127.0.0.1:{refused_port}")), "says where: {}", out.stderr);

    let out = inspect_db(
        pg,
        &format!("{} password=wrong-Pass-2 sslmode=disable", pg.tcp_conninfo("pw", "postgres")),
    );
    assert_one_line_error("wrong password", &out, "password authentication failed");
    assert!(!out.stderr.contains("wrong-Pass-2"), "the password is not echoed: {}", out.stderr);

    let out = inspect_db(pg, &pg.conninfo("postgres", "nosuchdb"));
    assert_one_line_error("unknown database", &out, "\"nosuchdb\" does not exist");

    let out = inspect_db(pg, &format!("{} sslmode=require", pg.tcp_conninfo("postgres", "postgres")));
    assert_one_line_error("TLS required but the server has none", &out, "TLS");

    let out = inspect_db(pg, &pg.conninfo("nope", "locked"));
    assert_one_line_error("no CONNECT privilege", &out, "permission denied for database");

    let out = inspect_db(pg, "hots=x");
    assert_one_line_error("invalid connection string", &out, "invalid connection string");
    assert!(out.stderr.contains("hots"), "names the bad key: {}", out.stderr);

    // A URI's port is not shown: without `@host`, `user:password` reads as
    // host and port.
    let out = inspect_db(pg, "postgresql://h:notaport/db");
    assert_one_line_error("invalid port", &out, "the port in the URI is not a number");

    let dir = tempfile::tempdir().unwrap();
    for target in [dir.path().join("missing-dir").join("snap.json"), dir.path().to_path_buf()] {
        let out = pg.pgsr("postgres", "postgres", &["inspect", "-o", target.to_str().unwrap()]);
        assert_one_line_error("unwritable output", &out, "cannot write");
        assert!(out.stderr.contains(target.to_str().unwrap()), "names the file: {}", out.stderr);
    }
});

// ---------------------------------------------------------------------------
// TLS

pg_test!(fn tls(pg) {
    let certs = Certs::new();
    let cert = pg.server_file("server.crt", &certs.read("server.crt"));
    let key = pg.server_file("server.key", &certs.read("server.key"));
    pg.set_setting("ssl", "on");
    pg.set_setting("ssl_cert_file", cert.to_str().unwrap());
    pg.set_setting("ssl_key_file", key.to_str().unwrap());
    pg.set_setting("log_connections", "on");
    pg.restart();

    let localhost = format!("host=localhost port={} user=postgres dbname=postgres", pg.port);
    let ip = pg.tcp_conninfo("postgres", "postgres");
    let ca = certs.ca();

    inspect_db(pg, &format!("{ip} sslmode=require")).expect_code(0).snapshot();
    assert!(
        pg.server_log().contains("SSL enabled"),
        "sslmode=require connected without TLS; server log:\n{}",
        pg.server_log()
    );
    inspect_db(pg, &format!("{localhost} sslmode=verify-full sslrootcert={ca}")).expect_code(0).snapshot();
    // verify-ca checks the chain but not the name.
    inspect_db(pg, &format!("{ip} sslmode=verify-ca sslrootcert={ca}")).expect_code(0).snapshot();
    // As in libpq, require with a root certificate verifies the chain.
    inspect_db(pg, &format!("{ip} sslmode=require sslrootcert={ca}")).expect_code(0).snapshot();

    let out = inspect_db(pg, &format!("{localhost} sslmode=verify-full"));
    assert_one_line_error("verify-full against the system roots", &out, "certificate");
    let out = inspect_db(pg, &format!("{ip} sslmode=verify-full sslrootcert={ca}"));
    assert_one_line_error("verify-full with a host the certificate does not name", &out, "certificate");
    let out = inspect_db(pg, &format!("{ip} sslmode=verify-full sslrootcert=/nonexistent/ca.pem"));
    assert_one_line_error("missing sslrootcert", &out, "/nonexistent/ca.pem");
});

/// Runs `pgsr inspect --db <conninfo>` with extra environment, killing it
/// (our own child, by its handle) if it has not finished within 30 s.
fn inspect_db_env(pg: &Pg, conninfo: &str, env: &[(&str, &str)]) -> PgsrOutput {
    let mut cmd = pg.pgsr_command("postgres", "postgres", &["inspect", "--db", conninfo]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Standard output to a file: a snapshot fills a pipe nobody reads yet.
    let stdout = tempfile::tempfile().unwrap();
    cmd.stdout(stdout.try_clone().unwrap());
    let mut child = cmd.spawn().expect("spawn pgsr");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "pgsr inspect --db {conninfo:?} did not finish in 30 s: it is reading trust roots"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wait");
    let mut stdout = stdout;
    let mut text = String::new();
    use std::io::{Read, Seek};
    stdout.rewind().unwrap();
    stdout.read_to_string(&mut text).unwrap();
    PgsrOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: text,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// `prefer` and `require` encrypt without authenticating the server, so they
// read no trust root: neither the system's bundle nor `sslrootcert` (which
// only `require` reads, to verify, as libpq does). `SSL_CERT_FILE` names
// the bundle OpenSSL loads for the system's roots; a FIFO that nobody
// writes to makes that load block forever.
pg_test!(fn prefer_and_require_load_no_trust_roots(pg) {
    let certs = Certs::new();
    let cert = pg.server_file("server.crt", &certs.read("server.crt"));
    let key = pg.server_file("server.key", &certs.read("server.key"));
    pg.set_setting("ssl", "on");
    pg.set_setting("ssl_cert_file", cert.to_str().unwrap());
    pg.set_setting("ssl_key_file", key.to_str().unwrap());
    pg.set_setting("log_connections", "on");
    pg.restart();

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("roots.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
    assert!(made.success());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let no_dir = dir.path().join("no-such-dir");
    let blocking = [
        ("SSL_CERT_FILE", fifo.to_str().unwrap()),
        ("SSL_CERT_DIR", no_dir.to_str().unwrap()),
        // The default mode, for the connection string without sslmode (the
        // harness sets disable).
        ("PGSSLMODE", "prefer"),
    ];
    let ip = pg.tcp_conninfo("postgres", "postgres");
    let garbage = garbage.display();

    let before = pg.server_log().matches("SSL enabled").count();
    for conninfo in [
        format!("{ip} sslmode=prefer"),
        format!("{ip} sslmode=require"),
        ip.clone(),
        format!("{ip} sslmode=prefer sslrootcert={garbage}"),
    ] {
        let out = inspect_db_env(pg, &conninfo, &blocking);
        assert_eq!(out.code, 0, "{conninfo}: {}", out.stderr);
        out.snapshot();
    }
    assert_eq!(
        pg.server_log().matches("SSL enabled").count() - before,
        4,
        "every connection used TLS; server log:\n{}",
        pg.server_log()
    );

    // The modes that verify do read the roots.
    let localhost = format!("host=localhost port={} user=postgres dbname=postgres", pg.port);
    let ca = certs.ca();
    let out = inspect_db_env(pg, &format!("{localhost} sslmode=verify-full"), &[("SSL_CERT_FILE", ca.as_str())]);
    assert_eq!(out.code, 0, "verify-full with the CA as the system bundle: {}", out.stderr);
    let nowhere = [
        ("SSL_CERT_FILE", no_dir.to_str().unwrap()),
        ("SSL_CERT_DIR", no_dir.to_str().unwrap()),
    ];
    let out = inspect_db_env(pg, &format!("{localhost} sslmode=verify-full"), &nowhere);
    assert_one_line_error("verify-full without roots", &out, "certificate");
    let out = inspect_db_env(pg, &format!("{ip} sslmode=require sslrootcert={garbage}"), &nowhere);
    assert_one_line_error("require with a root certificate verifies", &out, "holds no PEM certificate");
});
