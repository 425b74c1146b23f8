//! Each case is a minimal reproduction of a fixed planner bug, checked
//! against the model of PostgreSQL in `support/model.rs`.

mod support;

use pgsr_planner::snapshot::RelKind;
use support::mini::{
    column, database_acl, desired, member, parameter, relation, run, schema, snapshot, table,
};

const PG15: u32 = 150018;
const PG16: u32 = 160004;

/// Since PostgreSQL 16 a superuser's plain `REVOKE role FROM member` removes
/// the grant recorded as made by the bootstrap superuser. A grant recorded
/// as made by the connecting superuser itself needs `GRANTED BY`; without it
/// nothing is revoked and every plan repeats the statement.
#[test]
fn pg16_membership_granted_by_the_connecting_superuser_is_revoked() {
    let mut s = snapshot(PG16, "admin", true, &["alice", "analysts"]);
    member(&mut s, "analysts", "alice", "admin", false);
    let r = run(&s, &desired("roles:\n  - name: alice\n"));
    r.assert_converges();
}

/// A direct grant declared in one of the role's own preserved schemas is
/// granted again by every plan: the role's privileges there are not read.
#[test]
fn declared_grant_in_a_preserved_schema_is_not_repeated() {
    let mut s = snapshot(PG15, "postgres", true, &["alice"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(&mut s, "sales", "orders", "postgres", &["alice=r/postgres"]);
    let d = desired(
        "roles:
  - name: alice
    grants:
      - table_select: { schema: sales, table: orders, direct: true }
    preserve_existing_grants_in_schemas: [sales]
",
    );
    let r = run(&s, &d);
    assert!(
        r.first.steps.is_empty(),
        "alice already holds SELECT on sales.orders; expected no statement, got:\n{}",
        r.sql()
    );
}

/// One managed role's preserved schema hides the privileges of every other
/// managed role listed after it in the object's ACL (`visit_acl` returns
/// instead of skipping that one grantee): legacy's stray INSERT stays.
#[test]
fn a_preserved_schema_does_not_hide_other_roles_privileges() {
    let mut s = snapshot(PG15, "postgres", true, &["etl", "legacy"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(
        &mut s,
        "sales",
        "orders",
        "postgres",
        &["etl=r/postgres", "legacy=a/postgres"],
    );
    let d = desired(
        "roles:
  - name: etl
    preserve_existing_grants_in_schemas: [sales]
  - name: legacy
",
    );
    let r = run(&s, &d);
    assert!(
        r.sql()
            .contains("REVOKE INSERT ON TABLE sales.orders FROM legacy"),
        "legacy's undeclared INSERT on sales.orders must be revoked; the plan is:\n{}",
        r.sql()
    );
    r.assert_converges();
}

/// Membership grants run before membership revokes, so reversing a
/// membership fails: `GRANT b TO a` while b is still a member of a is a
/// membership loop, refused by PostgreSQL.
#[test]
fn reversing_a_membership_applies() {
    let mut s = snapshot(PG16, "postgres", true, &["a", "b"]);
    member(&mut s, "a", "b", "postgres", false);
    let d = desired(
        "roles:
  - name: a
    grants:
      - role_membership: b
  - name: b
",
    );
    run(&s, &d).assert_converges();
}

/// Without SUPERUSER the plan grants each affected owner to the connecting
/// role for its length; when that owner is itself a member of the
/// connecting role the grant is a membership loop and fails. It is left
/// out, and the plan says that statements on the owner's objects will
/// fail (PostgreSQL: "must be owner of schema sales").
#[test]
fn temporary_grant_of_a_member_of_the_connecting_role_is_left_out() {
    let mut s = snapshot(PG15, "deployer", false, &["carol"]);
    member(&mut s, "deployer", "carol", "postgres", false);
    schema(&mut s, "sales", "carol", &[]);
    let r = run(&s, &desired("roles:\n  - name: carol\n"));
    assert!(!r.sql().contains("GRANT carol TO deployer"), "{}", r.sql());
    assert!(
        r.first
            .notes
            .iter()
            .any(|n| n.contains("cannot act as carol")),
        "{:?}",
        r.first.notes
    );
    let refused = r.applied.as_ref().expect_err("ALTER SCHEMA as a non-owner");
    assert!(refused.contains("act as carol"), "{refused}");
}

/// Parameters have no owner: REVOKE acts as the bootstrap superuser and
/// removes only its grants, but the planner takes every grantor for the
/// owner and revokes, to no effect, what another role granted.
#[test]
fn parameter_privileges_granted_by_others_are_noted_not_revoked() {
    let mut s = snapshot(PG15, "postgres", true, &["alice", "ops"]);
    parameter(&mut s, "work_mem", &["ops=s*/postgres", "alice=s/ops"]);
    let r = run(&s, &desired("roles:\n  - name: alice\n"));
    assert!(
        !r.sql().contains("REVOKE SET ON PARAMETER"),
        "alice's SET was granted by ops, which only ops can revoke; expected a note, got:\n{}",
        r.sql()
    );
    r.assert_converges();
}

/// Since PostgreSQL 16, revoking a membership held WITH ADMIN OPTION that
/// the member passed on to others fails without CASCADE ("dependent
/// privileges exist"). (CASCADE would also revoke dev's membership, and dev
/// is not managed: the planner should at least say so rather than emit a
/// statement that fails.)
#[test]
fn pg16_revoking_a_membership_passed_on_applies() {
    let mut s = snapshot(PG16, "postgres", true, &["lead", "dev", "team"]);
    member(&mut s, "team", "lead", "postgres", true);
    member(&mut s, "team", "dev", "lead", false);
    run(&s, &desired("roles:\n  - name: lead\n")).assert_applies();
}

/// Ownership changes run before revokes, so a privilege granted by the role
/// that becomes the owner is revocable; the plan only notes it, and the
/// next plan revokes it.
#[test]
fn privilege_granted_by_the_new_owner_is_revoked_at_once() {
    let mut s = snapshot(PG15, "postgres", true, &["alice", "bob", "etl"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(
        &mut s,
        "sales",
        "orders",
        "etl",
        &["etl=arwdDxt/etl", "alice=r*/etl", "bob=r/alice"],
    );
    let d = desired(
        "roles:
  - name: alice
    grants:
      - table_ownership: { schema: sales, table: orders }
  - name: bob
",
    );
    run(&s, &d).assert_converges();
}

/// REVOKE … CASCADE from a role losing its grant option also takes what it
/// granted, including a privilege another managed role is declared to have:
/// bob loses SELECT and only the next plan grants it back.
#[test]
fn cascade_does_not_take_a_declared_privilege() {
    let mut s = snapshot(PG15, "postgres", true, &["lead", "bob"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(
        &mut s,
        "sales",
        "orders",
        "postgres",
        &["lead=r*/postgres", "bob=r/lead"],
    );
    let d = desired(
        "roles:
  - name: lead
  - name: bob
    grants:
      - table_select: { schema: sales, table: orders, direct: true }
",
    );
    run(&s, &d).assert_converges();
}

/// Likewise for an existing intermediate role: the plan makes bob a member
/// of the intermediate role whose SELECT the CASCADE takes away; the next
/// plan creates another intermediate role.
#[test]
fn cascade_does_not_take_the_chosen_intermediate_roles_privilege() {
    let inter = "_pgsr_local_16384_table_select_0000abcd";
    let mut s = snapshot(PG15, "postgres", true, &["lead", "bob", inter]);
    schema(&mut s, "sales", "postgres", &[]);
    let granted = format!("{inter}=r/lead");
    table(
        &mut s,
        "sales",
        "orders",
        "postgres",
        &["lead=r*/postgres", &granted],
    );
    let d = desired(
        "roles:
  - name: lead
  - name: bob
    grants:
      - table_select: { schema: sales, table: orders }
",
    );
    run(&s, &d).assert_converges();
}

/// A CASCADE that takes away one grant of a declared privilege leaves
/// another grantor's: the planner granted it again, and PostgreSQL said the
/// role already held it.
#[test]
fn a_privilege_still_held_from_another_grantor_is_not_granted_again() {
    let mut s = snapshot(PG15, "postgres", true, &["lead", "bob"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(
        &mut s,
        "sales",
        "orders",
        "postgres",
        &["lead=r*/postgres", "bob=r/lead", "bob=r/postgres"],
    );
    let d = desired(
        "roles:
  - name: lead
  - name: bob
    grants:
      - table_select: { schema: sales, table: orders, direct: true }
",
    );
    run(&s, &d).assert_converges();
}

/// A column belongs to its table: once a table is declared owned by a
/// managed role, its columns are too. The planner took the column's owner
/// after the plan to be the connecting role (as for an undeclared managed
/// owner), so the next plan revoked what the plan had left as another
/// grantor's.
#[test]
fn a_column_follows_its_tables_declared_owner() {
    let mut s = snapshot(PG15, "admin", true, &["alice", "bob", "dave"]);
    schema(&mut s, "sales", "postgres", &[]);
    table(&mut s, "sales", "orders", "alice", &[]);
    column(
        &mut s,
        "sales",
        "orders",
        "email",
        &["admin=x*/alice", "bob=x/admin"],
    );
    let d = desired(
        "roles:
  - name: bob
  - name: dave
    grants:
      - table_ownership: { schema: sales, table: orders }
",
    );
    run(&s, &d).assert_converges();
}

/// An intermediate role holds its one privilege and nothing else: what it
/// was given by hand, on its own object or another, is revoked, and its
/// members keep what they declared.
#[test]
fn an_intermediate_role_loses_what_it_does_not_serve() {
    let select = "_pgsr_local_16384_table_select_0000abcd";
    let mut s = snapshot(PG16, "postgres", true, &["alice", select]);
    schema(&mut s, "sales", "postgres", &[]);
    let items = [format!("{select}=ar/postgres")];
    table(&mut s, "sales", "orders", "postgres", &[&items[0]]);
    let other = [format!("{select}=r/postgres")];
    table(&mut s, "sales", "customers", "postgres", &[&other[0]]);
    table(&mut s, "sales", "owned", select, &[]);
    member(&mut s, select, "alice", "postgres", false);
    member(&mut s, "postgres", select, "postgres", false);
    s.catalog
        .roles
        .iter_mut()
        .find(|r| r.name == select)
        .unwrap()
        .canlogin = true;
    s.canonicalize();
    let r = run(
        &s,
        &desired(
            "roles:
  - name: alice
    grants:
      - table_select: { schema: sales, table: orders }
",
        ),
    );
    for expected in [
        "ALTER TABLE sales.owned OWNER TO postgres".to_owned(),
        format!("REVOKE INSERT ON TABLE sales.orders FROM {select}"),
        format!("REVOKE SELECT ON TABLE sales.customers FROM {select}"),
        format!("REVOKE postgres FROM {select} GRANTED BY postgres"),
        format!("ALTER ROLE {select} WITH NOLOGIN PASSWORD NULL"),
    ] {
        assert!(r.sql().contains(&expected), "{expected} in\n{}", r.sql());
    }
    assert!(
        !r.sql().contains("alice"),
        "alice keeps her membership:\n{}",
        r.sql()
    );
    r.assert_converges();
}

/// An intermediate role that owns the object is no candidate to serve a
/// privilege on it: its privileges there are the owner's, and the plan
/// gives the object to the connecting role.
#[test]
fn an_intermediate_role_owning_the_object_does_not_serve_it() {
    let create = "_pgsr_local_16384_schema_create_0000abcd";
    let mut s = snapshot(PG15, "postgres", true, &["alice", create]);
    let owner_items = [format!("{create}=UC/{create}")];
    schema(&mut s, "sales", create, &[&owner_items[0]]);
    let r = run(
        &s,
        &desired(
            "roles:
  - name: alice
    grants:
      - schema_create: sales
",
        ),
    );
    assert!(
        !r.sql().contains(&format!("GRANT {create} TO alice")),
        "{}",
        r.sql()
    );
    r.assert_converges();
}

/// Sanity check of the helpers: an ordinary case converges.
#[test]
fn ordinary_case_converges() {
    let mut s = snapshot(PG16, "postgres", true, &["alice", "legacy"]);
    database_acl(&mut s, "postgres", &["postgres=CTc/postgres"]);
    schema(&mut s, "sales", "postgres", &["legacy=U/postgres"]);
    table(&mut s, "sales", "orders", "legacy", &["alice=r/legacy"]);
    let d = desired(
        "reassign_owned_to: postgres
roles:
  - name: alice
    grants:
      - login: {}
      - database_connect: db
      - schema_usage: sales
      - table_select: { schema: sales, table_regex: 'ord' }
  - name: legacy
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert!(
        r.sql()
            .contains("ALTER TABLE sales.orders OWNER TO postgres"),
        "{}",
        r.sql()
    );
}

// ---------------------------------------------------------------------------
// Ownership, as pg-sync-roles manages it, and never handing out power

const NONSUPER: &str = "admin";

/// A non-superuser database owner, with `roles`, in database db it owns.
fn nonsuper(roles: &[&str]) -> pgsr_planner::snapshot::Snapshot {
    let mut s = snapshot(PG15, NONSUPER, false, roles);
    database_acl(&mut s, NONSUPER, &[]);
    s.catalog.databases[0].acl = None;
    s.canonicalize();
    s
}

/// Granting on a table in a schema another role owns needs USAGE on the
/// schema, which the connecting role lost with the schema: it acts as the
/// schema's owner too.
#[test]
fn granting_in_a_schema_another_role_owns_acts_as_its_owner() {
    let mut s = nonsuper(&["a", "b"]);
    schema(&mut s, "s", "a", &[]);
    table(&mut s, "s", "t", NONSUPER, &[]);
    let d = desired(
        "roles:
  - name: a
    grants:
      - schema_ownership: s
  - name: b
    grants:
      - table_select: { schema: s, table: t, direct: true }
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert!(r.sql().contains("GRANT a TO \"admin\""), "{}", r.sql());
    assert!(r.sql().contains("REVOKE a FROM \"admin\""), "{}", r.sql());
}

/// A schema and a table in it given to a role in one plan: the table goes
/// after the schema, when the role has CREATE there as its owner; nothing
/// temporary is revoked from the schema's new owner.
#[test]
fn schema_and_table_given_together() {
    let mut s = nonsuper(&["o"]);
    schema(&mut s, "s", NONSUPER, &[]);
    s.catalog.schemas[0].acl = None;
    table(&mut s, "s", "t", NONSUPER, &[]);
    let d = desired(
        "roles:
  - name: o
    grants:
      - schema_ownership: s
      - table_ownership: { schema: s, table: t }
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    let sql = r.sql();
    assert!(!sql.contains("ON SCHEMA s"), "{sql}");
    let schema_at = sql.find("ALTER SCHEMA s OWNER TO o").expect("schema given");
    let table_at = sql.find("ALTER TABLE s.t OWNER TO o").expect("table given");
    assert!(schema_at < table_at, "{sql}");
}

/// An object given to a schema's old owner goes before the schema changes
/// hands: only then does its owner's CREATE there count.
#[test]
fn an_object_goes_to_a_schemas_old_owner_before_the_schema_moves() {
    let mut s = nonsuper(&["keeper", "o"]);
    schema(&mut s, "s", "keeper", &[]);
    table(&mut s, "s", "t", "o", &[]);
    let d = desired(
        "reassign_owned_to: keeper
roles:
  - name: o
    grants:
      - schema_ownership: s
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    let sql = r.sql();
    let table_at = sql.find("ALTER TABLE s.t OWNER TO keeper").expect("{sql}");
    let schema_at = sql.find("ALTER SCHEMA s OWNER TO o").expect("{sql}");
    assert!(table_at < schema_at, "{sql}");
}

/// Only schemas and table-likes change hands: a standalone sequence stays.
#[test]
fn a_standalone_sequence_is_not_taken_away() {
    let mut s = snapshot(PG15, "postgres", true, &["r"]);
    schema(&mut s, "s", "postgres", &["r=UC/postgres"]);
    relation(&mut s, "s", "q", RelKind::Sequence, "r", &[]);
    relation(&mut s, "s", "t", RelKind::Table, "r", &[]);
    let d = desired(
        "roles:
  - name: r
    grants:
      - schema_usage: { schema: s, direct: true }
      - schema_create: { schema: s, direct: true }
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert_eq!(
        r.sql(),
        "ALTER TABLE s.t OWNER TO postgres;",
        "only the table changes hands"
    );
}

/// A view, or a table other roles use, is not given to the connecting role
/// unless the desired file names where ownership goes.
#[test]
fn views_and_used_tables_are_not_given_silently() {
    let plan_error = |s: &pgsr_planner::snapshot::Snapshot, yaml: &str| {
        pgsr_planner::plan::plan(s, &desired(yaml), &Default::default())
            .err()
            .map(|e| e.message)
    };
    let mut s = snapshot(PG15, "postgres", true, &["o", "u", "keeper"]);
    schema(&mut s, "s", "postgres", &[]);
    relation(&mut s, "s", "v", RelKind::View, "o", &[]);
    let e = plan_error(
        &s,
        "roles:
  - name: o
",
    )
    .expect("refused");
    assert!(
        e.contains("view s.v") && e.contains("reassign_owned_to"),
        "{e}"
    );
    assert!(plan_error(
        &s,
        "reassign_owned_to: keeper
roles:
  - name: o
"
    )
    .is_none());

    let mut s = snapshot(PG15, "postgres", true, &["o", "u", "keeper"]);
    schema(&mut s, "s", "postgres", &[]);
    table(&mut s, "s", "t", "o", &[]);
    // Nobody else uses it: it goes to the connecting role, as in
    // pg-sync-roles.
    assert!(plan_error(
        &s,
        "roles:
  - name: o
"
    )
    .is_none());
    // A role that is to select it through an intermediate role.
    let using = "roles:
  - name: o
  - name: u
    grants:
      - table_select: { schema: s, table: t }
";
    let e = plan_error(&s, using).expect("refused");
    assert!(e.contains("table s.t") && e.contains("_pgsr_local_"), "{e}");
    let named = format!("reassign_owned_to: keeper\n{using}");
    let r = run(&s, &desired(&named));
    r.assert_converges();
    assert!(
        r.sql().contains("ALTER TABLE s.t OWNER TO keeper"),
        "{}",
        r.sql()
    );
}

/// PostgreSQL lets only a superuser or a role with CREATEDB of its own run
/// `ALTER DATABASE … OWNER TO` ("permission denied to change owner of
/// database", membership of the owners notwithstanding): a plan made as a
/// plain connecting role without CREATEDB that gives a database away would
/// fail when applied. It is refused; with CREATEDB it applies.
#[test]
fn database_ownership_needs_createdb_of_the_connecting_role() {
    let yaml = "roles:
  - name: carol
    allow_power: true
    grants:
      - ownership: { on: database, name: db }
";
    let mut s = snapshot(PG15, "deployer", false, &["carol"]);
    let e = pgsr_planner::plan::plan(&s, &desired(yaml), &Default::default())
        .err()
        .map(|e| e.message)
        .expect("refused");
    assert!(e.contains("CREATEDB") && e.contains("deployer"), "{e}");
    s.catalog
        .roles
        .iter_mut()
        .filter(|r| r.name == "deployer")
        .for_each(|r| r.createdb = true);
    // It must also act as the database's owner: never as a superuser.
    let e = pgsr_planner::plan::plan(&s, &desired(yaml), &Default::default())
        .err()
        .map(|e| e.message)
        .expect("refused");
    assert!(e.contains("postgres is a superuser"), "{e}");
    s.catalog.databases[0].owner = "deployer".into();
    let r = run(&s, &desired(yaml));
    r.assert_converges();
    assert!(
        r.sql().contains("ALTER DATABASE db OWNER TO carol"),
        "{}",
        r.sql()
    );
}

/// PostgreSQL grants options to roles only ("grant options can only be
/// granted to roles"): `with_grant_option` in the public section would
/// plan `GRANT … TO PUBLIC WITH GRANT OPTION`, which fails. The parser
/// refuses it, for grants and default privileges.
#[test]
fn public_section_refuses_grant_options() {
    for item in [
        "grant: { privileges: CONNECT, on: database, name: db, with_grant_option: true }",
        "default_privileges: { privileges: SELECT, on: tables, owner: alice, with_grant_option: true }",
    ] {
        let yaml = format!("public:\n  - {item}\nroles: []\n");
        let e = pgsr_planner::desired::parse(yaml.as_bytes()).expect_err(&yaml);
        assert!(e.message.contains("grant option"), "{e}");
    }
}

/// What PUBLIC holds outside the database planned for is not read, so a
/// grant the public section declares there (here on another database) was
/// planned again by every run. It is granted once, and what PUBLIC holds
/// there by default (a NULL ACL) counts as held.
#[test]
fn a_public_grant_on_another_database_is_not_repeated() {
    let yaml = "public:
  - grant: { privileges: [CONNECT, TEMPORARY], on: database, name: other }
roles: []
";
    let mut s = snapshot(PG15, "postgres", true, &[]);
    s.catalog
        .databases
        .push(pgsr_planner::snapshot::SharedObject {
            name: "other".into(),
            oid: 16500,
            owner: "postgres".into(),
            acl: support::mini::acl(&[]),
        });
    s.canonicalize();
    let r = run(&s, &desired(yaml));
    r.assert_converges();
    assert!(
        r.sql().contains("ON DATABASE other TO PUBLIC"),
        "{}",
        r.sql()
    );
    s.catalog.databases.iter_mut().for_each(|d| d.acl = None);
    let r = run(&s, &desired(yaml));
    assert!(
        !r.sql().contains("DATABASE other"),
        "PUBLIC holds CONNECT and TEMPORARY on a NULL ACL:\n{}",
        r.sql()
    );
}

/// Default privileges of a role the plan creates as a missing
/// `role_membership` target were skipped ("role does not exist"), and
/// granted only by the next run.
#[test]
fn default_privileges_of_a_created_membership_target_are_granted_at_once() {
    let s = snapshot(PG15, "postgres", true, &[]);
    let d = desired(
        "roles:
  - name: alice
    grants:
      - default_privileges: { privileges: SELECT, on: tables, owner: writers }
      - role_membership: writers
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert!(
        r.sql()
            .contains("ALTER DEFAULT PRIVILEGES FOR ROLE writers GRANT SELECT ON TABLES TO alice"),
        "{}",
        r.sql()
    );
}

/// With a public section, PUBLIC's built-in default privileges (EXECUTE
/// on functions, USAGE on types) were seen only in a global
/// pg_default_acl row: a plan that created the row (granting another role
/// a default privilege) left PUBLIC's EXECUTE in it for the next run to
/// revoke, and a declared built-in one was granted again by every run
/// (PostgreSQL changes nothing, as the row would equal the built-in
/// defaults).
#[test]
fn public_builtin_default_privileges_converge_in_one_run() {
    let s = snapshot(PG15, "postgres", true, &["alice", "maker"]);
    let d = desired(
        "public: []
roles:
  - name: alice
    grants:
      - default_privileges: { privileges: EXECUTE, on: functions, owner: maker }
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert!(
        r.sql().contains(
            "ALTER DEFAULT PRIVILEGES FOR ROLE maker REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
        ),
        "{}",
        r.sql()
    );
    let d = desired(
        "public:
  - default_privileges: { privileges: USAGE, on: types, owner: maker }
roles: []
",
    );
    let r = run(&s, &d);
    r.assert_converges();
    assert!(!r.sql().contains("DEFAULT PRIVILEGES"), "{}", r.sql());
}

/// Default privileges in one of the grantee's preserved schemas were not
/// read at all, so a declared one there was granted again by every run.
#[test]
fn declared_default_privileges_in_a_preserved_schema_are_not_repeated() {
    let mut s = snapshot(PG15, "postgres", true, &["alice", "maker"]);
    schema(&mut s, "sales", "postgres", &[]);
    let d = desired(
        "roles:
  - name: alice
    grants:
      - default_privileges: { privileges: SELECT, on: tables, owner: maker, schema: sales }
    preserve_existing_grants_in_schemas: [sales]
",
    );
    let r = run(&s, &d);
    r.assert_converges();
}

/// An `ownership` of a schema that a later role's `schema_ownership`
/// creates was resolved before the schema was known to be created: the
/// first plan skipped it, and the next one refused the file (two owners).
/// It is refused at once.
#[test]
fn ownership_of_a_schema_another_role_creates_is_refused_at_once() {
    let s = snapshot(PG15, "postgres", true, &["a", "b"]);
    let d = desired(
        "roles:
  - name: a
    grants:
      - ownership: { on: schema, name: s }
  - name: b
    grants:
      - schema_ownership: s
",
    );
    let e = pgsr_planner::plan::plan(&s, &d, &Default::default())
        .err()
        .map(|e| e.message)
        .expect("refused");
    assert!(e.contains("declared to be owned by both"), "{e}");
}

/// A role that owns a schema and loses it, keeps CREATE there (declared)
/// and receives a table in it: its CREATE, granted early so that it may
/// receive the table, goes to the schema's new owner when the schema
/// changes hands, so the declared grant is made again after.
#[test]
fn a_schemas_old_owner_keeps_its_declared_create() {
    let mut s = nonsuper(&["a", "b"]);
    schema(&mut s, "s", "a", &[]);
    table(&mut s, "s", "t", "b", &[]);
    let d = desired(
        "roles:
  - name: a
    grants:
      - schema_create: { schema: s, direct: true }
      - table_ownership: { schema: s, table: t }
",
    );
    let r = run(&s, &d);
    r.assert_converges();
}
