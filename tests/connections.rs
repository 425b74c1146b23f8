//! Connecting as libpq does: the password file, the connection service
//! file, client certificates, and a warning for a password in `--db`.

mod support;

use pgsr_e2e::{pg_test, Certs, Pg, PgsrOutput};
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

// A server that takes `certuser` only with a client certificate its CA
// signed, whose name is the role's (`clientcert=verify-full`), over TLS.
pg_test!(fn a_client_certificate_with_verify_full(pg) {
    let certs = Certs::new();
    const KEY_PASSWORD: &str = "key-Secret-7";
    let (crt, key, encrypted) = certs.client("certuser", KEY_PASSWORD);
    let server_crt = pg.server_file("server.crt", &certs.read("server.crt"));
    let server_key = pg.server_file("server.key", &certs.read("server.key"));
    let ca_file = pg.server_file("ca.pem", &certs.read("ca.pem"));
    let hba = pg.server_file(
        "hba.conf",
        b"local all all trust\n\
          hostssl all certuser 127.0.0.1/32 trust clientcert=verify-full\n\
          host all postgres 127.0.0.1/32 trust\n\
          host all all 127.0.0.1/32 scram-sha-256\n",
    );
    pg.set_setting("ssl", "on");
    pg.set_setting("ssl_cert_file", server_crt.to_str().unwrap());
    pg.set_setting("ssl_key_file", server_key.to_str().unwrap());
    pg.set_setting("ssl_ca_file", ca_file.to_str().unwrap());
    pg.set_setting("hba_file", hba.to_str().unwrap());
    pg.restart();
    pg.execute("postgres", "CREATE ROLE certuser LOGIN");
    let f = Files::new();
    // HOME without ~/.postgresql: no certificate is taken from there.
    let home = [("HOME", path_str(f.dir()))];
    let base = format!(
        "host=localhost port={} user=certuser dbname=postgres sslmode=verify-full sslrootcert={}",
        pg.port,
        certs.ca()
    );
    let with = |key: &std::path::Path, extra: &str| {
        format!("{base} sslcert={} sslkey={}{extra}", crt.display(), key.display())
    };
    let ok = inspect(pg, &with(&key, ""), &home).expect_code(0);
    assert_eq!(ok.snapshot().connecting_role.name, "certuser");
    // Without a certificate the server refuses.
    let out = inspect(pg, &base, &home);
    assert_ne!(out.code, 0);
    assert_one_line_error("no client certificate", &out, out.code, "certificate");
    // An encrypted key with its password; a wrong password is one line
    // that never shows it.
    inspect(pg, &with(&encrypted, &format!(" sslpassword={KEY_PASSWORD}")), &home).expect_code(0);
    let out = inspect(pg, &with(&encrypted, " sslpassword=wrong-guess-123"), &home);
    assert_one_line_error("a wrong key password", &out, 1, "cannot read the private key");
    assert!(!out.stderr.contains("wrong-guess-123"), "{}", out.stderr);
    let out = inspect(pg, &with(&encrypted, ""), &home);
    assert_one_line_error("an encrypted key, no password", &out, 1, "sslpassword is not given or wrong");
    // A key others may read is refused, as libpq refuses it.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = inspect(pg, &with(&key, ""), &home);
    assert_one_line_error("a readable key", &out, 1, "has permissions 0644");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // sslmode=require shows the certificate too (the server's is not checked).
    let require = format!(
        "host=127.0.0.1 port={} user=certuser dbname=postgres sslmode=require sslcert={} sslkey={}",
        pg.port,
        crt.display(),
        key.display()
    );
    inspect(pg, &require, &home).expect_code(0);
    // As libpq, ~/.postgresql/postgresql.crt and .key are the defaults.
    let dot = f.dir().join(".postgresql");
    std::fs::create_dir(&dot).unwrap();
    std::fs::copy(&crt, dot.join("postgresql.crt")).unwrap();
    std::fs::copy(&key, dot.join("postgresql.key")).unwrap();
    std::fs::set_permissions(dot.join("postgresql.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    inspect(pg, &base, &home).expect_code(0);
});
