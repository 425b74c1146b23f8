//! Every fixture case, on a real cluster: planning from the scoped read that
//! `sync` and `plan --db` use gives exactly the statements a full snapshot
//! gives, and a sync of each desired file converges (planning again finds
//! nothing to do).

use pgsr_e2e::fixtures::{cases, fixtures_dir, Setup, FIXTURE_DATABASE};
use pgsr_e2e::{pg_test, Pg};
use std::path::{Path, PathBuf};

/// The desired files of a case, sorted.
fn desired_files(case: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join(case))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// The statements of a plan: the script without the header lines that
/// depend on what was read (fingerprint, scope) and the checksum over them.
/// The script but what depends on the read: its fingerprint, scope,
/// checksum, and the summary's blast radius (the members of a group a
/// partial read does not see).
fn statements(script: &str) -> String {
    script
        .lines()
        .filter(|l| {
            !l.starts_with("-- snapshot-fingerprint:")
                && !l.starts_with("-- scope:")
                && !l.starts_with("-- checksum:")
                && !l.starts_with("-- summary: blast radius of ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn build(major: u32, setup: &Setup) -> Pg {
    let pg = Pg::start(major);
    pg.execute(
        "postgres",
        &format!("CREATE DATABASE {FIXTURE_DATABASE} OWNER postgres"),
    );
    pg.execute(FIXTURE_DATABASE, &setup.sql);
    pg
}

fn check_case(major: u32, case: &str) {
    let setup = Setup::read(case);
    if !setup.databases.is_empty() {
        // Several databases are always read whole (tests/databases.rs).
        return;
    }
    for file in desired_files(case) {
        let pg = build(major, &setup);
        let path = file.to_str().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let run = |args: &[&str]| pg.pgsr(&setup.inspect_as, FIXTURE_DATABASE, args);
        // --reset-passwords: a plan from the live cluster as a superuser
        // would otherwise compare passwords, which a committed snapshot
        // cannot.
        let scoped = run(&["plan", "--reset-passwords", "-f", path])
            .expect_code(0)
            .stdout;
        let full = run(&["plan", "--reset-passwords", "--full-scope", "-f", path])
            .expect_code(0)
            .stdout;
        assert!(
            scoped.contains("\"kind\":\"partial\""),
            "{case}/{name}: plan --db reads a partial scope"
        );
        assert_eq!(
            statements(&scoped),
            statements(&full),
            "{case}/{name}: scoped and full plans differ"
        );
        run(&["sync", "-f", path]).expect_code(0);
        let again = run(&["plan", "--exit-code", "-f", path]);
        let sets_password = again.stdout.contains(" PASSWORD :'");
        if !sets_password {
            assert_eq!(
                again.code, 0,
                "{case}/{name}: not converged after one sync:\n{}",
                again.stdout
            );
        }
        assert_plan_equals_committed_fixture(case, &name, &full, major);
    }
}

/// On the major the fixtures were made with, the plan from the live
/// cluster is the plan from the committed snapshot: the fixtures are real.
fn assert_plan_equals_committed_fixture(case: &str, name: &str, live: &str, major: u32) {
    if major != pgsr_e2e::fixtures::FIXTURE_MAJOR {
        return;
    }
    let snapshot = fixtures_dir().join(case).join("snapshot.json");
    let desired = fixtures_dir().join(case).join(name);
    let out = std::process::Command::new(pgsr_e2e::pgsr_bin())
        .args(["plan", "--snapshot", p(&snapshot), "-f", p(&desired)])
        .output()
        .unwrap();
    let committed = String::from_utf8_lossy(&out.stdout);
    let strip = |s: &str| {
        statements(s)
            .lines()
            .filter(|l| !l.starts_with("-- server-version:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&committed),
        strip(live),
        "{case}/{name}: the committed snapshot is stale; regenerate it"
    );
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pg_test!(fn fixtures_scoped_equals_full_and_converge(pg) {
    let major = pg.major;
    for case in cases() {
        check_case(major, &case);
    }
});
