//! Scale: thousands of roles with CONNECT on one database. Granted
//! directly, their ACL entries would not fit in the pg_database row ("row is
//! too big"); through one intermediate role the ACL stays small.

mod support;

use pgsr_e2e::{Pg, PgsrOutput};
use std::time::{Duration, Instant};
use support::*;

const ROLES: usize = 4000;
/// Roles given a password, to log in as.
const SAMPLE: [usize; 4] = [0, 1234, 2718, ROLES - 1];

fn user(i: usize) -> String {
    format!("user_{i:05}")
}

fn password(i: usize) -> String {
    format!("secret-{i}")
}

fn user_role(i: usize) -> String {
    let login = format!("login: {{ password: {} }}", yaml_str(&password(i)));
    if SAMPLE.contains(&i) {
        role(&user(i), &[&login, "database_connect: app"])
    } else {
        role(&user(i), &["database_connect: app"])
    }
}

fn setup(pg: &Pg) {
    pg.execute("postgres", "CREATE DATABASE app");
    pg.execute("postgres", "REVOKE CONNECT ON DATABASE app FROM PUBLIC");
}

/// Every role can connect (sampled by logging in), the ACL of the database
/// holds only its owner and one intermediate role, and that role has every
/// user as a member.
#[track_caller]
fn check(pg: &Pg) {
    let acl = query_one(
        pg,
        "postgres",
        "SELECT datacl::text FROM pg_database WHERE datname = 'app'",
    )
    .unwrap();
    // PUBLIC keeps TEMPORARY (pgsr never touches PUBLIC).
    let entries: Vec<&str> = acl
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter(|e| !e.starts_with('='))
        .collect();
    assert_eq!(entries.len(), 2, "owner and one intermediate role: {acl}");
    assert!(acl.contains("_pgsr_global_database_connect_"), "{acl}");
    let members = query_one(
        pg,
        "postgres",
        "SELECT count(DISTINCT m.member)::text FROM pg_auth_members m \
         JOIN pg_roles r ON r.oid = m.roleid \
         WHERE r.rolname LIKE '\\_pgsr\\_global\\_database\\_connect\\_%'",
    );
    assert_eq!(members.as_deref(), Some(ROLES.to_string().as_str()));
    for i in SAMPLE {
        assert_login(pg, &user(i), &password(i), "app");
    }
    // A role without the grant cannot.
    pg.execute(
        "postgres",
        "CREATE ROLE outsider LOGIN PASSWORD 'outsider-secret'",
    );
    assert_no_login(
        pg,
        "outsider",
        "outsider-secret",
        "app",
        "permission denied for database",
    );
}

fn timed(what: &str, pg: &Pg, f: impl FnOnce() -> PgsrOutput) -> PgsrOutput {
    let started = Instant::now();
    let out = f();
    eprintln!(
        "PostgreSQL {}: {what} took {:.1} s",
        pg.major,
        started.elapsed().as_secs_f64()
    );
    out
}

// 4,000 roles in one sync.
pgsr_e2e::pg_test!(fn four_thousand_roles_in_one_sync(pg) {
    setup(pg);
    let f = Files::new();
    let roles: Vec<String> = (0..ROLES).map(user_role).collect();
    let file = f.write("all.yaml", &doc(&roles));
    timed("one sync of 4000 roles", pg, || sync(pg, "app", &file));
    check(pg);
    // Only the sampled passwords are set again.
    assert_converged_as(pg, "postgres", "app", &file, &[]);
});

// 4,000 syncs of one role each, as pg-sync-roles is called once per role,
// two at a time so that they also contend for the advisory lock: the first
// two both plan to create the intermediate role; the one that waits must
// plan again under the lock and find it. 4,000 runs of the binary take many
// minutes, so this runs on PostgreSQL 15 only, and the default run makes the
// last SHORT_SEPARATE roles one sync each after one sync of the others;
// `PGSR_SCALE_FULL=1` makes all 4,000 one sync each.
const SHORT_SEPARATE: usize = 300;

mod four_thousand_separate_syncs {
    use super::*;

    #[test]
    fn pg15() {
        let pg = &Pg::start(15);
        setup(pg);
        let f = Files::new();
        let separate = if std::env::var_os("PGSR_SCALE_FULL").is_some() {
            ROLES
        } else {
            SHORT_SEPARATE
        };
        let together = ROLES - separate;
        if together > 0 {
            let roles: Vec<String> = (0..together).map(user_role).collect();
            let file = f.write("together.yaml", &doc(&roles));
            sync(pg, "app", &file);
        }
        let files: Vec<std::path::PathBuf> = (together..ROLES)
            .map(|i| f.write(&format!("{}.yaml", user(i)), &doc(&[user_role(i)])))
            .collect();
        let started = Instant::now();
        // Per thread: how long its first and last 100 syncs took.
        let timings: Vec<(Duration, Duration)> = std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(separate.div_ceil(2))
                .map(|half| {
                    scope.spawn(move || {
                        let mut first = Duration::ZERO;
                        let mut last = Duration::ZERO;
                        for (n, file) in half.iter().enumerate() {
                            let one = Instant::now();
                            sync(pg, "app", file);
                            if n < 100 {
                                first += one.elapsed();
                            } else if n + 100 >= half.len() {
                                last += one.elapsed();
                            }
                        }
                        (first, last)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let elapsed = started.elapsed();
        let avg = |d: Duration| d.as_secs_f64() * 1000.0 / 100.0;
        eprintln!(
            "PostgreSQL 15: {separate} separate syncs took {:.1} s; per sync, first 100: {:.0} ms, last 100: {:.0} ms",
            elapsed.as_secs_f64(),
            avg(timings[0].0),
            avg(timings[0].1),
        );
        check(pg);
        let intermediates = query_one(
            pg,
            "postgres",
            "SELECT count(*)::text FROM pg_roles WHERE rolname LIKE '\\_pgsr\\_%'",
        );
        assert_eq!(intermediates.as_deref(), Some("1"), "one intermediate role");
        // Each run is one role's sync: a sample converges on its own.
        for i in [1, separate / 2 + 1] {
            assert_converged_as(pg, "postgres", "app", &files[i], &[]);
        }
        // A guard against pathological slowdowns only: the machine is shared.
        assert!(elapsed < Duration::from_secs(45 * 60), "took {elapsed:?}");
    }
}
