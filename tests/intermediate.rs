//! pgsr's `_pgsr_` intermediate roles are managed, not trusted: each holds
//! its one privilege on its one object and nothing else, and its members
//! among managed roles are exactly those whose declarations route through
//! it. Whatever is granted to one by hand after a sync shows as drift
//! (`plan --exit-code` exits 2, from the scoped read and the full one),
//! makes a plan saved before it stale (`apply` exits 3, scoped and full),
//! and is revoked by the next sync, after which nobody can use it.

mod support;

use pgsr_e2e::{pg_test, Pg};
use std::path::{Path, PathBuf};
use support::*;

const DB: &str = "app";
const PW: &str = "intermediate secret";

/// A cluster after a first sync of `u` in database `app`: `u` connects to
/// `app`, uses schema `s` and reads `s.t`, each through an intermediate
/// role. `tabowner` owns `s` and its tables `t` and `t2`; the superuser owns
/// `public.pg_only`.
struct Synced {
    files: Files,
    /// What `u` declares.
    desired: PathBuf,
    /// The same and a new role `v` declaring the same: a plan with changes.
    more: PathBuf,
    /// The intermediate roles for CONNECT on `app`, USAGE on `s` and SELECT
    /// on `s.t`.
    connect: String,
    usage: String,
    select: String,
}

const GRANTS: [&str; 3] = [
    "database_connect: app",
    "schema_usage: s",
    "table_select: { schema: s, table: t }",
];

fn setup(pg: &Pg) -> Synced {
    pg.execute("postgres", "CREATE ROLE tabowner");
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute(
        "postgres",
        "REVOKE CONNECT, TEMPORARY ON DATABASE app FROM PUBLIC",
    );
    pg.execute(
        DB,
        "CREATE SCHEMA s AUTHORIZATION tabowner;
         SET ROLE tabowner;
         CREATE TABLE s.t (i int); CREATE TABLE s.t2 (i int);
         RESET ROLE;
         CREATE TABLE public.pg_only (i int);",
    );
    let files = Files::new();
    let desired = files.write("u.yaml", &doc(&[role("u", &GRANTS)]));
    let more = files.write("more.yaml", &doc(&[role("u", &GRANTS), role("v", &GRANTS)]));
    sync_converged(pg, DB, &desired);
    let oid = database_oid(pg, DB);
    let only = |prefix: &str| {
        let names = query_column(
            pg,
            "postgres",
            &format!(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, {}) ORDER BY 1",
                literal(prefix)
            ),
        );
        assert_eq!(names.len(), 1, "one role named {prefix}…: {names:?}");
        names[0].clone()
    };
    let synced = Synced {
        connect: only("_pgsr_global_database_connect_"),
        usage: only(&format!("_pgsr_local_{oid}_schema_usage_")),
        select: only(&format!("_pgsr_local_{oid}_table_select_")),
        files,
        desired,
        more,
    };
    assert_can(pg, DB, "u", "SELECT * FROM s.t");
    synced
}

/// `pgsr plan -f <file> -o <name>`, with `--full-scope` when `full`.
#[track_caller]
fn save_plan(pg: &Pg, x: &Synced, file: &Path, name: &str, full: bool) -> PathBuf {
    let out = x.files.path(name);
    let mut args = vec!["plan", "-f", path_str(file), "-o", path_str(&out)];
    if full {
        args.push("--full-scope");
    }
    let run = pg.pgsr("postgres", DB, &args);
    no_panic(&run);
    run.expect_code(0);
    assert!(
        !x.files.read(name).contains("-- statements: 0\n"),
        "the saved plan should have changes"
    );
    out
}

/// `plan --exit-code` of `file`, scoped or full, exits `code`; its script.
#[track_caller]
fn plan_exits(pg: &Pg, file: &Path, full: bool, code: i32) -> String {
    let mut args = vec!["plan", "--exit-code", "-f", path_str(file)];
    if full {
        args.push("--full-scope");
    }
    let out = pg.pgsr("postgres", DB, &args);
    no_panic(&out);
    assert_eq!(
        out.code,
        code,
        "plan --exit-code{} exited {} (expected {code}):\n{}\n{}",
        if full { " --full-scope" } else { "" },
        out.code,
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// `apply` of a saved plan exits 3 (stale) and changes nothing.
#[track_caller]
fn assert_stale(pg: &Pg, plan: &Path, what: &str) {
    let before = inspect_text(pg, "postgres", DB);
    let out = pg.pgsr("postgres", DB, &["apply", path_str(plan)]);
    assert_one_line_error(what, &out, 3, "the catalog changed since the plan was made");
    assert_eq!(
        inspect_text(pg, "postgres", DB),
        before,
        "{what}: a stale apply changed the catalog"
    );
}

/// One hand-made change to an intermediate role, run as the superuser in
/// `app` after the first sync (`change`), that `there` can observe. Plans
/// saved before it, scoped and full, go stale; scoped and full plans show
/// `shows` (exit 2);
/// one sync takes it back, after which scoped and full plans are empty and
/// `gone` holds.
#[track_caller]
fn drift_is_revoked(
    pg: &Pg,
    change: impl Fn(&Synced) -> String,
    shows: impl Fn(&Synced) -> String,
    there: impl Fn(&Pg, &Synced),
    gone: impl Fn(&Pg, &Synced),
) {
    let x = setup(pg);
    let scoped = save_plan(pg, &x, &x.more, "scoped.sql", false);
    let full = save_plan(pg, &x, &x.more, "full.sql", true);

    pg.execute(DB, &change(&x));
    there(pg, &x);

    assert_stale(pg, &scoped, "scoped plan saved before the change");
    assert_stale(pg, &full, "full-scope plan saved before the change");
    let expected = shows(&x);
    for full_scope in [false, true] {
        let script = plan_exits(pg, &x.desired, full_scope, 2);
        assert!(
            script.contains(&expected),
            "the plan (full scope: {full_scope}) should contain `{expected}`:\n{script}"
        );
    }

    sync(pg, DB, &x.desired);
    plan_exits(pg, &x.desired, false, 0);
    plan_exits(pg, &x.desired, true, 0);
    gone(pg, &x);
    // What was declared still works.
    assert_can(pg, DB, "u", "SELECT * FROM s.t");
}

// ---------------------------------------------------------------------------
// Privileges

pg_test!(fn insert_on_its_table_by_the_owner_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("SET ROLE tabowner; GRANT INSERT ON s.t TO {}; RESET ROLE", x.select),
        |x| format!("REVOKE INSERT ON TABLE s.t FROM {}", x.select),
        |pg, _| assert_can(pg, DB, "u", "INSERT INTO s.t VALUES (1)"),
        |pg, _| assert_cannot(pg, DB, "u", "INSERT INTO s.t VALUES (1)", "table t"),
    );
});

pg_test!(fn select_on_another_table_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("GRANT SELECT ON s.t2 TO {}", x.select),
        |x| format!("REVOKE SELECT ON TABLE s.t2 FROM {}", x.select),
        |pg, _| assert_can(pg, DB, "u", "SELECT * FROM s.t2"),
        |pg, _| assert_cannot(pg, DB, "u", "SELECT * FROM s.t2", "table t2"),
    );
});

pg_test!(fn create_on_its_schema_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("SET ROLE tabowner; GRANT CREATE ON SCHEMA s TO {}; RESET ROLE", x.usage),
        |x| format!("REVOKE CREATE ON SCHEMA s FROM {}", x.usage),
        |pg, _| assert_can(pg, DB, "u", "CREATE TABLE s.made_by_u (i int)"),
        |pg, _| assert_cannot(pg, DB, "u", "CREATE TABLE s.made_by_u (i int)", "schema s"),
    );
});

pg_test!(fn temporary_on_the_database_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("GRANT TEMPORARY ON DATABASE app TO {}", x.connect),
        |x| format!("REVOKE TEMPORARY ON DATABASE app FROM {}", x.connect),
        |pg, _| assert_can(pg, DB, "u", "CREATE TEMPORARY TABLE scratch (i int)"),
        |pg, _| {
            assert_cannot(
                pg,
                DB,
                "u",
                "CREATE TEMPORARY TABLE scratch (i int)",
                "temporary tables",
            )
        },
    );
});

// ---------------------------------------------------------------------------
// Memberships, ownership, attributes

pg_test!(fn membership_of_postgres_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("GRANT postgres TO {}", x.select),
        |x| format!("REVOKE postgres FROM {}", x.select),
        // u inherits what the superuser holds as an owner.
        |pg, _| assert_can(pg, DB, "u", "SELECT * FROM public.pg_only"),
        |pg, x| {
            assert_cannot(pg, DB, "u", "SELECT * FROM public.pg_only", "table pg_only");
            assert!(!is_member(pg, &x.select, "postgres"));
        },
    );
});

pg_test!(fn ownership_of_a_table_goes_to_the_connecting_role(pg) {
    drift_is_revoked(
        pg,
        |x| format!("ALTER TABLE s.t2 OWNER TO {}", x.select),
        |_| "ALTER TABLE s.t2 OWNER TO postgres".to_owned(),
        |pg, _| assert_can(pg, DB, "u", "INSERT INTO s.t2 VALUES (1)"),
        |pg, _| {
            assert_eq!(relation_owner(pg, DB, "s.t2"), "postgres");
            assert_cannot(pg, DB, "u", "INSERT INTO s.t2 VALUES (1)", "table t2");
        },
    );
});

pg_test!(fn login_is_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("ALTER ROLE {} LOGIN PASSWORD {}", x.connect, literal(PW)),
        |x| format!("ALTER ROLE {} WITH NOLOGIN PASSWORD NULL", x.connect),
        |pg, x| assert_login(pg, &x.connect, PW, DB),
        |pg, x| {
            assert!(
                try_login(pg, &x.connect, PW, DB).is_err(),
                "{} can still log in",
                x.connect
            );
            let state = query_one(
                pg,
                "postgres",
                &format!(
                    "SELECT rolcanlogin::text || ' ' || (rolpassword IS NULL)::text \
                     FROM pg_authid WHERE rolname = {}",
                    literal(&x.connect)
                ),
            );
            assert_eq!(state.as_deref(), Some("false true"), "NOLOGIN and no password");
        },
    );
});

pg_test!(fn superuser_and_createrole_are_revoked(pg) {
    drift_is_revoked(
        pg,
        |x| format!("ALTER ROLE {} SUPERUSER CREATEROLE", x.usage),
        |x| format!("ALTER ROLE {} WITH NOSUPERUSER NOCREATEROLE", x.usage),
        |pg, x| {
            assert_can(pg, DB, &x.usage, "SELECT * FROM pg_authid");
            assert_can(pg, DB, &x.usage, "CREATE ROLE made_by_intermediate");
        },
        |pg, x| {
            assert_cannot(pg, DB, &x.usage, "SELECT * FROM pg_authid", "table pg_authid");
            assert_cannot(
                pg,
                DB,
                &x.usage,
                "CREATE ROLE made_by_intermediate",
                "permission denied to create role",
            );
        },
    );
});

// ---------------------------------------------------------------------------
// Members

// A managed role in an intermediate role it declares nothing for is taken
// out; a role the desired file does not manage is someone else's
// declaration (another desired file's role, as pg-sync-roles allows) and
// stays.
pg_test!(fn members_are_exactly_the_declared_managed_roles(pg) {
    let x = setup(pg);
    let with_w = x.files.write(
        "w.yaml",
        &doc(&[role("u", &GRANTS), role("w", &["schema_usage: s"])]),
    );
    sync_converged(pg, DB, &with_w);
    pg.execute(DB, &format!("GRANT {} TO w", x.select));
    assert_can(pg, DB, "w", "SELECT * FROM s.t");
    let expected = format!("REVOKE {} FROM w", x.select);
    for full in [false, true] {
        let script = plan_exits(pg, &with_w, full, 2);
        assert!(script.contains(&expected), "{script}");
    }
    sync_converged(pg, DB, &with_w);
    assert_cannot(pg, DB, "w", "SELECT * FROM s.t", "table t");
    assert_can(pg, DB, "u", "SELECT * FROM s.t");

    pg.execute(DB, &format!("CREATE ROLE mallory; GRANT {} TO mallory", x.select));
    plan_exits(pg, &with_w, false, 0);
    plan_exits(pg, &with_w, true, 0);
});

// ---------------------------------------------------------------------------
// Membership targets

// What a role_membership grants is what its target holds: a plan saved
// before the target changed is stale.
pg_test!(fn changes_to_membership_targets_make_plans_stale(pg) {
    let x = setup(pg);
    pg.execute(DB, "CREATE ROLE grp");
    let joined = x.files.write(
        "joined.yaml",
        &doc(&[role("u", &GRANTS), role("g", &["role_membership: grp"])]),
    );
    let changes = [
        ("membership", "GRANT postgres TO grp"),
        ("privilege", "SET ROLE tabowner; GRANT INSERT ON s.t2 TO grp; RESET ROLE"),
    ];
    for (what, change) in changes {
        for full in [false, true] {
            let name = format!("{what}-{full}.sql");
            let plan = save_plan(pg, &x, &joined, &name, full);
            pg.execute(DB, change);
            assert_stale(pg, &plan, &format!("{what} of grp (full scope: {full})"));
            pg.execute(DB, &change.replace("GRANT", "REVOKE").replace(" TO ", " FROM "));
        }
    }
    sync_converged(pg, DB, &joined);
    assert!(is_member(pg, "g", "grp"));
});

// ---------------------------------------------------------------------------
// Other databases' intermediate roles

// Another database's intermediate roles serve that database's syncs: their
// members are left alone here. But such a role holds nothing here, and
// nothing anywhere but its one privilege: what is granted to it by hand is
// revoked from any database.
pg_test!(fn other_databases_intermediate_roles(pg) {
    let x = setup(pg);
    pg.execute("postgres", "CREATE DATABASE other");
    pg.execute("other", "CREATE TABLE public.o (i int)");
    let here = x.files.write("z.yaml", &doc(&[role("z", &[])]));
    sync_converged(pg, "other", &here);
    let run = |args: &[&str]| {
        let out = pg.pgsr("postgres", "other", args);
        no_panic(&out);
        out
    };
    let plan = |full: bool| {
        let mut args = vec!["plan", "--exit-code", "-f", path_str(&here)];
        if full {
            args.push("--full-scope");
        }
        run(&args)
    };

    // Its members: someone else's declarations.
    pg.execute("other", &format!("GRANT {} TO z", x.select));
    for full in [false, true] {
        assert_eq!(plan(full).code, 0, "{}", plan(full).stdout);
    }
    pg.execute("other", &format!("REVOKE {} FROM z", x.select));

    // What it is given here, or cluster-wide.
    pg.execute(
        "other",
        &format!(
            "GRANT SELECT ON public.o TO {s}; GRANT postgres TO {s}; ALTER ROLE {s} CREATEROLE",
            s = x.select
        ),
    );
    for full in [false, true] {
        let out = plan(full);
        assert_eq!(out.code, 2, "{}", out.stdout);
        for expected in [
            format!("REVOKE SELECT ON TABLE \"public\".o FROM {}", x.select),
            format!("REVOKE postgres FROM {}", x.select),
            format!("ALTER ROLE {} WITH NOCREATEROLE", x.select),
        ] {
            assert!(out.stdout.contains(&expected), "`{expected}` in:\n{}", out.stdout);
        }
    }
    run(&["sync", "-f", path_str(&here)]).expect_code(0);
    assert_cannot(pg, "other", &x.select, "SELECT * FROM public.o", "table o");
    assert!(!is_member(pg, &x.select, "postgres"));
    for full in [false, true] {
        assert_eq!(plan(full).code, 0);
    }
    // In its own database it still serves u.
    assert_can(pg, DB, "u", "SELECT * FROM s.t");
    plan_exits(pg, &x.desired, false, 0);
});

// ---------------------------------------------------------------------------
// A connecting role without SUPERUSER

// A CREATEROLE role that owns the database (the managed-cloud setup) takes
// back what its intermediate roles were given: it acts as an intermediate
// role that owns a table for the length of the plan, and keeps no
// membership afterwards.
pg_test!(fn a_non_superuser_takes_back_what_intermediate_roles_were_given(pg) {
    pg.execute("postgres", "CREATE ROLE admin LOGIN CREATEROLE");
    pg.execute("postgres", "CREATE DATABASE app OWNER admin");
    let mut admin = pg.connect("admin", DB).expect("connect as admin");
    admin
        .batch_execute(
            "REVOKE CONNECT, TEMPORARY ON DATABASE app FROM PUBLIC;
             CREATE SCHEMA s; CREATE TABLE s.t (i int); CREATE TABLE s.t2 (i int);",
        )
        .expect("objects created by admin");
    drop(admin);
    let f = Files::new();
    let file = f.write("u.yaml", &doc(&[role("u", &GRANTS)]));
    sync_as_env(pg, "admin", DB, &file, &[]);
    assert_converged_as(pg, "admin", DB, &file, &[]);
    let oid = database_oid(pg, DB);
    let select = query_one(
        pg,
        "postgres",
        &format!(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, '_pgsr_local_{oid}_table_select_')"
        ),
    )
    .expect("the intermediate role for SELECT on s.t");

    pg.execute(
        DB,
        &format!(
            "GRANT INSERT ON s.t TO {s}; ALTER TABLE s.t2 OWNER TO {s}; ALTER ROLE {s} LOGIN",
            s = select
        ),
    );
    assert_can(pg, DB, "u", "INSERT INTO s.t2 VALUES (1)");
    let out = plan_as(pg, "admin", DB, &file, &[]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    sync_as_env(pg, "admin", DB, &file, &[]);
    assert_converged_as(pg, "admin", DB, &file, &[]);

    assert_cannot(pg, DB, "u", "INSERT INTO s.t VALUES (1)", "table t");
    assert_cannot(pg, DB, "u", "INSERT INTO s.t2 VALUES (1)", "table t2");
    assert_can(pg, DB, "u", "SELECT * FROM s.t");
    assert_eq!(relation_owner(pg, DB, "s.t2"), "admin");
    let login = query_one(
        pg,
        "postgres",
        &format!("SELECT rolcanlogin FROM pg_roles WHERE rolname = {}", literal(&select)),
    );
    assert_eq!(login.as_deref(), Some("f"));
    let admin_in = usable_roles_of(pg, "admin");
    assert!(admin_in.is_empty(), "admin was left a member of {admin_in:?}");
});
