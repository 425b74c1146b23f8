//! Connecting as libpq does: the password file, the connection service
//! file, and a warning for a password in `--db`.

mod support;

use pgsr_e2e::{pg_test, Pg, PgsrOutput};
use std::os::unix::fs::PermissionsExt;
use support::*;

const PASSWORD: &str = "right-Pass-1";

/// `pgsr inspect` as `--db conninfo` with `env`, the connecting role's name.
fn inspect(pg: &Pg, conninfo: &str, env: &[(&str, &str)]) -> PgsrOutput {
    pg.pgsr_with_env("postgres", "postgres", &["inspect", "--db", conninfo], env)
}

fn write(f: &Files, name: &str, text: &str, mode: u32) -> String {
    let path = f.write(name, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path_str(&path).to_owned()
}

pg_test!(fn password_file_and_service_file(pg) {
    pg.execute("postgres", &format!("CREATE ROLE pw LOGIN PASSWORD '{PASSWORD}'"));
    let f = Files::new();
    let tcp = format!("host=127.0.0.1 port={} user=pw dbname=postgres sslmode=disable", pg.port);
    // No password anywhere: refused.
    let out = inspect(pg, &tcp, &[("HOME", path_str(f.dir()))]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    // ~/.pgpass gives it (the first matching line wins; `*` matches).
    let pgpass = format!(
        "# pgsr test\n127.0.0.1:{}:other:pw:wrong\n127.0.0.1:{}:*:pw:{PASSWORD}\n*:*:*:pw:wrong-too\n",
        pg.port, pg.port
    );
    write(&f, ".pgpass", &pgpass, 0o600);
    let out = inspect(pg, &tcp, &[("HOME", path_str(f.dir()))]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.snapshot().connecting_role.name, "pw");
    // A password file others may read is ignored, with a warning.
    write(&f, ".pgpass", &pgpass, 0o644);
    let out = inspect(pg, &tcp, &[("HOME", path_str(f.dir()))]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("has group or world access"), "{}", out.stderr);
    // PGPASSFILE names another file.
    let other = write(&f, "passwords", &pgpass, 0o600);
    let out = inspect(pg, &tcp, &[("HOME", "/nonexistent"), ("PGPASSFILE", &other)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A service: `service=` or PGSERVICE, from PGSERVICEFILE; what --db
    // says wins over it, and it wins over the environment.
    let services = format!(
        "[other]\nhost=nowhere.invalid\n\n[app]\nhost=127.0.0.1\nport={}\nuser=pw\ndbname=postgres\nsslmode=disable\n",
        pg.port
    );
    let file = write(&f, "services.conf", &services, 0o644);
    let env = [("HOME", "/nonexistent"), ("PGPASSFILE", other.as_str()), ("PGSERVICEFILE", file.as_str())];
    let out = inspect(pg, "service=app", &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.snapshot().connecting_role.name, "pw");
    let mut with_env = env.to_vec();
    with_env.push(("PGSERVICE", "app"));
    let out = pg.pgsr_with_env("postgres", "postgres", &["inspect"], &with_env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.snapshot().connecting_role.name, "pw");
    let out = inspect(pg, "service=nothing", &env);
    assert_one_line_error("unknown service", &out, 1, "definition of service \"nothing\" not found");
});

pg_test!(fn a_password_in_db_is_warned_of(pg) {
    pg.execute("postgres", &format!("CREATE ROLE pw LOGIN PASSWORD '{PASSWORD}'"));
    // A password in --db is visible in the process list: warned.
    let with_password = format!(
        "host=127.0.0.1 port={} user=pw dbname=postgres sslmode=disable password={PASSWORD}",
        pg.port
    );
    let out = inspect(pg, &with_password, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("visible to other local users"), "{}", out.stderr);
    assert!(!out.stderr.contains(PASSWORD));
});

pg_test!(fn desired_file_from_stdin_or_pgsr_file(pg) {
    let f = Files::new();
    let text = "roles:\n  - name: from_stdin\n    grants: []\n";
    // `-f -` reads standard input.
    let mut cmd = pg.pgsr_command("postgres", "postgres", &["sync", "-f", "-"]);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn pgsr");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(role_exists(pg, "from_stdin"));
    // PGSR_FILE names the file when -f is not given.
    let file = f.write("desired.yaml", "roles:\n  - name: from_env\n    grants: []\n");
    let out = pg.pgsr_with_env("postgres", "postgres", &["sync"], &[("PGSR_FILE", path_str(&file))]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(role_exists(pg, "from_env"));
});

pg_test!(fn the_user_defaults_to_the_operating_systems(pg) {
    // Without PGUSER, USER or a user in --db, the error names the OS user
    // tried, not "?".
    let mut cmd = pg.pgsr_command("postgres", "postgres", &["inspect", "--db", "dbname=postgres"]);
    cmd.env_remove("PGUSER").env_remove("USER").env_remove("LOGNAME");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The test runs as an OS user that is no role of the cluster.
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(" as \"") && !stderr.contains("as \"?\""), "{stderr}");
});
