//! Helpers for the acceptance tests of `pgsr sync`, `plan` and `apply`:
//! desired files in a temporary directory, running pgsr, and checking what a
//! role can and cannot do by acting as it.
//!
//! Privilege checks run as the superuser after `SET ROLE <role>` inside a
//! transaction that is rolled back: PostgreSQL checks privileges against the
//! current role, so this is what the role itself would be allowed to do,
//! and nothing the check does stays behind. Logins go over TCP with a
//! password (SCRAM), the way a user connects.

#![allow(dead_code)]

use pgsr_e2e::{Pg, PgsrOutput};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// SQLSTATE insufficient_privilege.
pub const DENIED: &str = "42501";

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use pgsr_e2e::{
    describe, ident, literal, no_panic, no_panic_in, pgsr_command, wait_until, Background, Files,
};

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

// ---------------------------------------------------------------------------
// Running pgsr

/// `pgsr sync -f <file>` as `user` in `db` with extra environment,
/// expecting success.
#[track_caller]
pub fn sync_as_env(pg: &Pg, user: &str, db: &str, file: &Path, env: &[(&str, &str)]) -> PgsrOutput {
    let out = pg.pgsr_with_env(user, db, &["sync", "-f", path_str(file)], env);
    no_panic(&out);
    out.expect_code(0)
}

/// `pgsr sync -f <file>` as the superuser, expecting success.
#[track_caller]
pub fn sync(pg: &Pg, db: &str, file: &Path) -> PgsrOutput {
    sync_as_env(pg, "postgres", db, file, &[])
}

/// `pgsr plan --exit-code -f <file>` as `user` in `db`.
pub fn plan_as(pg: &Pg, user: &str, db: &str, file: &Path, env: &[(&str, &str)]) -> PgsrOutput {
    let out = pg.pgsr_with_env(
        user,
        db,
        &["plan", "--exit-code", "-f", path_str(file)],
        env,
    );
    no_panic(&out);
    out
}

/// The plan is empty: `plan --exit-code` exits 0 and says `statements: 0`.
///
/// A declared password is the exception when `user` is not a superuser:
/// only a superuser can read the stored verifier, so pgsr (as
/// pg-sync-roles) sets it on every run, and `plan --exit-code` does not
/// count a plan that only sets passwords as changes. Statements that do
/// nothing but set a password are then allowed, and nothing else is.
#[track_caller]
pub fn assert_converged_as(pg: &Pg, user: &str, db: &str, file: &Path, env: &[(&str, &str)]) {
    let out = plan_as(pg, user, db, file, env);
    let statements = plan_statements(&out.stdout);
    let superuser = user == "postgres";
    let converged = out.code == 0
        && if statements.is_empty() {
            out.stdout.contains("-- statements: 0\n")
        } else {
            !superuser && statements.iter().all(|s| is_password_only(s))
        };
    assert!(
        converged,
        "a sync did not converge: the next plan still has changes (exit {}):\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    );
}

/// The SQL statements of a plan script (comment lines and blank lines left
/// out; each planned statement is one line).
pub fn plan_statements(script: &str) -> Vec<String> {
    script
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

/// `ALTER ROLE <name> WITH PASSWORD :'password_N';` and nothing more.
fn is_password_only(statement: &str) -> bool {
    statement.starts_with("ALTER ROLE ")
        && statement
            .split_once(" WITH PASSWORD :'password_")
            .is_some_and(|(_, rest)| rest.ends_with("';") && !rest.contains(' '))
}

/// Syncs as the superuser and checks that the next plan is empty.
#[track_caller]
pub fn sync_converged(pg: &Pg, db: &str, file: &Path) -> PgsrOutput {
    sync_converged_env(pg, db, file, &[])
}

#[track_caller]
pub fn sync_converged_env(pg: &Pg, db: &str, file: &Path, env: &[(&str, &str)]) -> PgsrOutput {
    let out = sync_as_env(pg, "postgres", db, file, env);
    assert_converged_as(pg, "postgres", db, file, env);
    out
}

/// A failure is exactly one line on stderr, `pgsr: error: …`, containing
/// `needle`, with exit code `code` and no panic.
#[track_caller]
pub fn assert_one_line_error(case: &str, out: &PgsrOutput, code: i32, needle: &str) {
    no_panic(out);
    assert_eq!(
        out.code, code,
        "{case}: exit code (expected {code}); stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
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
}

// ---------------------------------------------------------------------------
// Acting as a role

/// Runs `sql` as `role` in `db` (superuser connection, `SET ROLE`) inside a
/// transaction that is rolled back. Returns the error, if any, as
/// `SQLSTATE: message`.
pub fn try_as(pg: &Pg, db: &str, role: &str, sql: &str) -> Result<(), String> {
    let mut client = pg.superuser(db);
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(&format!("SET LOCAL ROLE {}", ident(role)))
        .unwrap_or_else(|e| panic!("SET ROLE {role}: {e}"));
    let result = tx.batch_execute(sql).map_err(|e| describe(&e));
    drop(tx);
    result
}

/// `role` may run `sql` in `db`.
#[track_caller]
pub fn assert_can(pg: &Pg, db: &str, role: &str, sql: &str) {
    if let Err(e) = try_as(pg, db, role, sql) {
        panic!("{role} should be allowed to run `{sql}` in {db}, but: {e}");
    }
}

/// `role` may not run `sql` in `db`: it fails with insufficient_privilege
/// and a message containing `needle` (which says what was denied).
#[track_caller]
pub fn assert_cannot(pg: &Pg, db: &str, role: &str, sql: &str, needle: &str) {
    match try_as(pg, db, role, sql) {
        Ok(()) => panic!("{role} should NOT be allowed to run `{sql}` in {db}, but it could"),
        Err(e) => assert!(
            e.starts_with(DENIED) && e.contains(needle),
            "{role} running `{sql}` in {db} should fail with {DENIED} ({needle:?}), but: {e}"
        ),
    }
}

/// Logs in as `user` with `password` to `db` over TCP (SCRAM).
pub fn try_login(pg: &Pg, user: &str, password: &str, db: &str) -> Result<(), String> {
    let mut client = pg
        .connect_with_password(user, password, db)
        .map_err(|e| describe(&e))?;
    client
        .simple_query("SELECT 1")
        .map(|_| ())
        .map_err(|e| describe(&e))
}

#[track_caller]
pub fn assert_login(pg: &Pg, user: &str, password: &str, db: &str) {
    if let Err(e) = try_login(pg, user, password, db) {
        panic!("{user} should be able to log in to {db}, but: {e}");
    }
}

/// The login fails and the error contains `needle`.
#[track_caller]
pub fn assert_no_login(pg: &Pg, user: &str, password: &str, db: &str, needle: &str) {
    match try_login(pg, user, password, db) {
        Ok(()) => panic!("{user} should NOT be able to log in to {db}, but could"),
        Err(e) => assert!(
            e.contains(needle),
            "{user} logging in to {db} should fail with {needle:?}, but: {e}"
        ),
    }
}

// ---------------------------------------------------------------------------
// Reading the catalog

/// The first column of the first row of `sql` (run as superuser in `db`),
/// as text (NULL and no row are `None`).
pub fn query_one(pg: &Pg, db: &str, sql: &str) -> Option<String> {
    let mut client = pg.superuser(db);
    let rows = client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{e}\nin:\n{sql}"));
    rows.iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_owned)),
            _ => None,
        })
        .flatten()
}

/// Every value of the first column of `sql`, as text.
pub fn query_column(pg: &Pg, db: &str, sql: &str) -> Vec<String> {
    let mut client = pg.superuser(db);
    let rows = client
        .simple_query(sql)
        .unwrap_or_else(|e| panic!("{e}\nin:\n{sql}"));
    rows.iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").to_owned()),
            _ => None,
        })
        .collect()
}

/// Whether `member` is a member of `role` (directly or not).
pub fn is_member(pg: &Pg, member: &str, role: &str) -> bool {
    query_one(
        pg,
        "postgres",
        &format!(
            "SELECT pg_has_role({}, {}, 'MEMBER')",
            literal(member),
            literal(role)
        ),
    )
    .as_deref()
        == Some("t")
}

/// The roles `member` is directly a member of, sorted.
pub fn direct_roles_of(pg: &Pg, member: &str) -> Vec<String> {
    query_column(
        pg,
        "postgres",
        &format!(
            "SELECT DISTINCT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
             JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = {} ORDER BY 1",
            literal(member)
        ),
    )
}

pub fn role_exists(pg: &Pg, role: &str) -> bool {
    query_one(
        pg,
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = {}",
            literal(role)
        ),
    )
    .as_deref()
        == Some("1")
}

/// The oid of database `db`.
pub fn database_oid(pg: &Pg, db: &str) -> String {
    query_one(
        pg,
        "postgres",
        &format!(
            "SELECT oid FROM pg_database WHERE datname = {}",
            literal(db)
        ),
    )
    .expect("oid")
}

/// The ACL of a schema, as text (`NULL` when default).
pub fn schema_acl(pg: &Pg, db: &str, schema: &str) -> String {
    query_one(
        pg,
        db,
        &format!(
            "SELECT nspacl::text FROM pg_namespace WHERE nspname = {}",
            literal(schema)
        ),
    )
    .unwrap_or_else(|| "NULL".into())
}

/// The ACL of a relation (`schema.name`), as text.
pub fn relation_acl(pg: &Pg, db: &str, qualified: &str) -> String {
    query_one(
        pg,
        db,
        &format!(
            "SELECT relacl::text FROM pg_class WHERE oid = {}::regclass",
            literal(qualified)
        ),
    )
    .unwrap_or_else(|| "NULL".into())
}

/// The owner of a relation.
pub fn relation_owner(pg: &Pg, db: &str, qualified: &str) -> String {
    query_one(
        pg,
        db,
        &format!(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = {}::regclass",
            literal(qualified)
        ),
    )
    .expect("owner")
}

/// `pgsr inspect` output as `user` in `db`: the catalog, byte for byte.
#[track_caller]
pub fn inspect_text(pg: &Pg, user: &str, db: &str) -> String {
    let out = pg.pgsr(user, db, &["inspect"]);
    no_panic(&out);
    out.expect_code(0).stdout
}

// ---------------------------------------------------------------------------
// Plan scripts

/// Replaces the body of a plan script with `statements` (each one SQL
/// statement without `;`), fixes the statement count and recomputes the
/// checksum the way pgsr does (sha256 of every byte but the checksum line),
/// so that only the validator can refuse the result.
pub fn reseal(script: &str, statements: &[&str]) -> String {
    let head_end = script.find("\n\n").expect("header ends with a blank line") + 1;
    let mut head = String::new();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in statements {
        *counts.entry(statement_label(s)).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    for line in script[..head_end].lines() {
        if line.starts_with("-- checksum: ") || line.starts_with("-- signature: ") {
            continue;
        }
        if line.starts_with("-- statements: ") {
            if statements.is_empty() {
                head.push_str("-- statements: 0\n");
            } else {
                head.push_str(&format!(
                    "-- statements: {} ({})\n",
                    statements.len(),
                    counts.join(", ")
                ));
            }
        } else {
            head.push_str(line);
            head.push('\n');
        }
    }
    let mut body = String::new();
    for s in statements {
        body.push_str(&format!("\n-- edited\n{s};\n"));
    }
    let checksum = sha256_hex(format!("{head}{body}").as_bytes());
    format!("{head}-- checksum: sha256:{checksum}\n{body}")
}

/// Adds `statement` at the start of a plan's body, as someone who can edit
/// the plan file but has no plan key would: the header's counts are fixed
/// and the checksum recomputed (a signature line, if any, is kept as it
/// was). Returns the forged script and the line the statement is on.
pub fn forge(script: &str, statement: &str) -> (String, usize) {
    let at = script.find("\n\n").expect("header ends with a blank line") + 2;
    let (head, body) = script.split_at(at);
    let line = head.lines().count() + 2;
    let body = format!("-- forged\n{statement};\n\n{body}");
    let label = statement_label(statement);
    let mut lines = Vec::new();
    for l in head.trim_end_matches('\n').lines() {
        match l.strip_prefix("-- statements: ") {
            Some(value) => {
                let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
                if let Some((_, detail)) = value.split_once(" (") {
                    for item in detail.trim_end_matches(')').split(", ") {
                        let (k, n) = item.rsplit_once(' ').unwrap();
                        counts.insert(k.to_owned(), n.parse().unwrap());
                    }
                }
                *counts.entry(label.to_owned()).or_default() += 1;
                let total: usize = counts.values().sum();
                // In the order pgsr writes kinds; a forger copies it.
                let order = [
                    "create-role",
                    "alter-role",
                    "drop-role",
                    "create-schema",
                    "alter-owner",
                    "grant",
                    "revoke",
                    "default-privileges",
                    "grant-role",
                    "revoke-role",
                    "password",
                    "rename-role",
                    "role-setting",
                    "comment",
                    "terminate-sessions",
                    "reassign-owned",
                    "drop-owned",
                ];
                let detail: Vec<String> = order
                    .iter()
                    .filter_map(|k| counts.get(*k).map(|n| format!("{k} {n}")))
                    .collect();
                lines.push(format!("-- statements: {total} ({})", detail.join(", ")));
            }
            None => lines.push(l.to_owned()),
        }
    }
    let head = format!("{}\n\n", lines.join("\n"));
    let unsigned: String = format!("{head}{body}")
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("-- checksum: ") && !l.starts_with("-- signature: "))
        .collect();
    let checksum = sha256_hex(unsigned.as_bytes());
    let head = head
        .trim_end_matches('\n')
        .lines()
        .map(|l| {
            if l.starts_with("-- checksum: ") {
                format!("-- checksum: sha256:{checksum}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (format!("{head}\n\n{body}"), line)
}

/// The header label of a statement's kind, as a forger would count it
/// (anything unknown counts as a grant).
pub fn statement_label(sql: &str) -> &'static str {
    let upper = sql.trim_start().to_ascii_uppercase();
    let has_on = upper.split_whitespace().any(|w| w == "ON");
    if upper.starts_with("CREATE ROLE") {
        "create-role"
    } else if upper.starts_with("CREATE SCHEMA") {
        "create-schema"
    } else if upper.starts_with("ALTER ROLE") && upper.contains("PASSWORD :") {
        "password"
    } else if upper.starts_with("ALTER ROLE") && upper.contains(" RENAME TO ") {
        "rename-role"
    } else if upper.starts_with("ALTER ROLE")
        && (upper.contains(" SET ") || upper.contains(" RESET "))
    {
        "role-setting"
    } else if upper.starts_with("COMMENT ON ROLE") {
        "comment"
    } else if upper.starts_with("REASSIGN OWNED") {
        "reassign-owned"
    } else if upper.starts_with("DROP OWNED") {
        "drop-owned"
    } else if upper.starts_with("SELECT PG_TERMINATE_BACKEND") {
        "terminate-sessions"
    } else if upper.starts_with("ALTER ROLE") {
        "alter-role"
    } else if upper.starts_with("ALTER DEFAULT") {
        "default-privileges"
    } else if upper.starts_with("ALTER ") {
        "alter-owner"
    } else if upper.starts_with("DROP ROLE") {
        "drop-role"
    } else if upper.starts_with("REVOKE") {
        if has_on {
            "revoke"
        } else {
            "revoke-role"
        }
    } else if upper.starts_with("GRANT") && !has_on {
        "grant-role"
    } else {
        "grant"
    }
}

/// sha256 of `bytes` in hex, by `sha256sum` (the test crate has no hash
/// dependency of its own).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A key=value connection string to a TCP port nothing listens on.
pub fn closed_port_conninfo() -> String {
    let port = pgsr_e2e::free_port();
    format!("host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2")
}

// ---------------------------------------------------------------------------
// Desired files

/// One role of a desired file: `name` holding `grants` (each a YAML flow
/// item such as `schema_usage: s`).
pub fn role(name: &str, grants: &[&str]) -> String {
    role_preserving(name, grants, &[])
}

/// A role with `preserve_existing_grants_in_schemas`.
pub fn role_preserving(name: &str, grants: &[&str], preserve: &[&str]) -> String {
    let mut out = format!("  - name: {}\n    grants:", yaml_str(name));
    if grants.is_empty() {
        out.push_str(" []\n");
    } else {
        out.push('\n');
        for g in grants {
            out.push_str(&format!("      - {g}\n"));
        }
    }
    if !preserve.is_empty() {
        let list: Vec<String> = preserve.iter().map(|s| yaml_str(s)).collect();
        out.push_str(&format!(
            "    preserve_existing_grants_in_schemas: [{}]\n",
            list.join(", ")
        ));
    }
    out
}

/// A role with `allow_power: true`.
pub fn role_allowing_power(name: &str, grants: &[&str]) -> String {
    role(name, grants).replacen("    grants:", "    allow_power: true\n    grants:", 1)
}

/// `pgsr plan -f <file>` as the superuser in `db` fails with one line
/// containing `needle` (exit 1); returns what it printed.
#[track_caller]
pub fn assert_plan_refused(pg: &Pg, db: &str, file: &Path, needle: &str) -> PgsrOutput {
    let out = pg.pgsr("postgres", db, &["plan", "-f", path_str(file)]);
    assert_one_line_error(path_str(file), &out, 1, needle);
    out
}

/// A desired file of `roles` (made by [`role`]).
pub fn doc(roles: &[String]) -> String {
    if roles.is_empty() {
        return "roles: []\n".to_owned();
    }
    format!("roles:\n{}", roles.concat())
}

/// A YAML double-quoted string.
pub fn yaml_str(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// The roles whose privileges `member` can use (it inherits them or may
/// `SET ROLE` to them), directly granted, sorted. Since PostgreSQL 16 a
/// CREATEROLE role holds ADMIN OPTION without INHERIT or SET on the roles it
/// created; those memberships give it no privileges and are left out.
pub fn usable_roles_of(pg: &Pg, member: &str) -> Vec<String> {
    let filter = if pg.major >= 16 {
        " AND (m.inherit_option OR m.set_option)"
    } else {
        ""
    };
    query_column(
        pg,
        "postgres",
        &format!(
            "SELECT DISTINCT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
             JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = {}{filter} ORDER BY 1",
            literal(member)
        ),
    )
}

// ---------------------------------------------------------------------------
// Watching a run as it goes

/// A pgsr run in the background whose standard error is read line by line
/// as it comes, to see what pgsr says while it waits.
pub struct Live {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line of standard error read so far.
    pub seen: Vec<String>,
}

impl Live {
    pub fn spawn(mut cmd: Command) -> Live {
        let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn pgsr");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line of standard error, waiting up to `limit` for it.
    pub fn next_line(&mut self, limit: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(limit).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits up to `limit` for it to exit (kills it and fails otherwise);
    /// the output's stderr is every line it wrote.
    #[track_caller]
    pub fn finish(mut self, limit: Duration) -> PgsrOutput {
        let deadline = Instant::now() + limit;
        while self.running() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "pgsr did not finish within {limit:?} (killed)\nstderr so far:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader ends with the pipe.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            use std::io::Read;
            let _ = out.read_to_string(&mut stdout);
        }
        let status = self.child.wait().expect("wait");
        let mut stderr = self.seen.join("\n");
        if !stderr.is_empty() {
            stderr.push('\n');
        }
        PgsrOutput {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Only our own child, through its handle, and only if still running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
