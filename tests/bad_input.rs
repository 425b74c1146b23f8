//! Bad input: every file in `tests/bad_input/` is refused by the real `pgsr`
//! binary with exit code 1 and exactly one line on standard error, which
//! names the file, says where the problem is (`line:column` in a desired
//! file or a snapshot, `line N` in a plan script) and what it is — and
//! never with a panic. Command lines that clap refuses exit 64 (a usage
//! error; 2 means "changes") with clap's own (multi-line) usage message.
//!
//! Inputs that reach `pgsr sync` or `pgsr apply` are refused before pgsr
//! connects: run with `--db` naming a closed port, the error is still the
//! input's, not the connection's. On a real cluster (`bad_input_changes_nothing`)
//! every bad desired file and script is given to `sync`, `plan` and `apply`,
//! and the catalog (`pgsr inspect`) is the same afterwards.
//!
//! Tests that need no cluster are named `<what>::pg15`: the default test
//! command selects end-to-end tests with a `::pg<major>` name filter, and
//! this makes it run them once (in `--matrix` too).
//!
//! The corpus and how to add to it: `tests/bad_input/README.md`.

use pgsr_e2e::{free_port, pg_test, pgsr_bin, workspace_root, PgsrOutput};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Desired files: (file, `line:column`, what the message says). Each is
/// given to `plan --snapshot` and to `sync` (and on a cluster to `plan`).
#[rustfmt::skip]
const DESIRED: &[(&str, &str, &str)] = &[
    ("anchor-alias.yaml", "4:7", "YAML anchors and aliases are not supported"),
    ("c1-control-character.yaml", "2:22", "the file holds the character U+009B, which YAML does not allow"),
    ("database-on-a-shared-grant.yaml", "5:19", "`database` applies to grants on objects inside a database"),
    ("databases-empty-include.yaml", "1:22", "expected `include` to name at least one database"),
    ("deep-nesting.yaml", "1:40", "nesting deeper than 32 levels"),
    ("direct-yes.yaml", "4:48", "expected `direct` to be true or false, found string `yes`"),
    ("duplicate-key.yaml", "5:5", "duplicate key `name` (first on line 2)"),
    ("duplicate-role.yaml", "6:11", "duplicate role `analysts` (first defined on line 2)"),
    ("empty-last-item-no-final-newline.yaml", "3:19", "expected a role (a mapping with `name`), found nothing"),
    ("empty.yaml", "1:1", "empty file: expected a mapping with `roles`"),
    ("escape-character.yaml", "2:15", "the file holds the character U+001B, which YAML does not allow"),
    ("grant-empty-mapping.yaml", "4:9", "expected a grant, found an empty mapping"),
    ("grant-options-not-indented.yaml", "5:9", "a grant has exactly one key (its kind; `database` may stand beside it), found 3"),
    ("grants-not-a-sequence.json", "1:43", "expected `grants` to be a sequence, found a mapping"),
    ("json-missing-colon.json", "1:20", "invalid YAML"),
    ("json-unclosed.json", "2:1", "invalid YAML"),
    ("json-unclosed-no-final-newline.json", "1:32", "invalid YAML"),
    ("lock-key-float.yaml", "1:11", "expected `lock_key` to be an integer, found number `1.5`"),
    ("lock-key-out-of-range.yaml", "1:11", "is out of range (a 64-bit signed integer)"),
    ("membership-of-itself.yaml", "4:26", "a role cannot be a member of itself"),
    ("membership-of-pgsr-role.yaml", "4:26", "roles starting with _pgsr_ are pgsr's intermediate roles"),
    ("missing-roles.yaml", "1:1", "missing `roles` in the top level"),
    ("name-64-bytes.yaml", "4:23", "is 64 bytes long; PostgreSQL names are at most 63 bytes"),
    ("name-64-utf8-bytes.yaml", "2:11", "is 64 bytes long; PostgreSQL names are at most 63 bytes"),
    ("name-empty.yaml", "2:11", "role name must not be empty"),
    ("name-is-integer.yaml", "2:11", "expected role name (a string), found integer `5`; quote it"),
    ("name-with-nul.yaml", "2:11", "contains a NUL character"),
    ("not-utf8.yaml", "2:14", "the file is not valid UTF-8 (byte 0xE9 here)"),
    ("nul-byte.yaml", "5:1", "the file holds a NUL byte, which YAML does not allow"),
    ("only-comments.yaml", "1:1", "empty file: expected a mapping with `roles`"),
    ("password-bad-valid-until.yaml", "4:50", "invalid `valid_until`: day 30 is out of range"),
    ("password-duplicate-key.yaml", "4:37", "duplicate key `password` (first on line 4)"),
    ("password-empty.yaml", "4:28", "`password` must not be empty"),
    ("password-env-empty.yaml", "4:32", "password_env: environment variable PGSR_BAD_INPUT_EMPTY is empty"),
    ("password-env-unset.yaml", "4:32", "password_env: environment variable PGSR_BAD_INPUT_UNSET is not set"),
    ("password-file-control-characters.yaml", "4:33", "password_file: cannot read missing-\\u{1b}]0;owned\\u{7}: No such file"),
    ("password-file-dev-zero.yaml", "4:33", "password_file: cannot read /dev/zero: it is larger than 64 KiB"),
    ("password-file-directory.yaml", "4:33", "password_file: cannot read .: Is a directory"),
    ("password-file-empty.yaml", "5:26", "password_file: empty-password holds an empty password"),
    ("password-file-missing.yaml", "5:26", "password_file: cannot read secrets/missing-password: No such file"),
    ("password-login-not-a-mapping.yaml", "4:16", "expected `login` to be a mapping of login options or nothing, found a string (not shown)"),
    ("password-missing-colon-block.yaml", "5:11", "expected `login` to be a mapping of login options or nothing, found a string (not shown)"),
    ("password-missing-colon.yaml", "4:18", "unknown key in login; expected one of: password, password_env, password_file, valid_until"),
    ("password-unknown-key-next-to-it.yaml", "4:37", "unknown key in login"),
    ("password-wrong-type.yaml", "4:28", "expected `password` to be a string (quote it); the value is not shown"),
    ("password-yaml-syntax.yaml", "4:28", "invalid YAML: a value cannot start with `@`, `%` or a backquote; quote it"),
    ("regex-lookahead.yaml", "4:53", "invalid table_regex `(?!tmp_)`: look-around"),
    ("regex-unclosed-group.yaml", "4:53", "invalid table_regex `fact_(`: unclosed group"),
    ("reserved-name-public.yaml", "2:11", "role name `public` cannot be managed"),
    ("reserved-prefix-pg.yaml", "2:11", "names starting with pg_ are reserved by PostgreSQL"),
    ("reserved-prefix-pgsr.yaml", "2:11", "names starting with _pgsr_ are pgsr's intermediate roles"),
    ("roles-not-a-sequence.yaml", "1:8", "expected `roles` to be a sequence of roles, found string"),
    ("table-and-table-regex.yaml", "4:55", "`table` and `table_regex` cannot both be given"),
    ("table-missing.yaml", "4:23", "missing `table` or `table_regex` in table_select"),
    ("tag.yaml", "2:17", "YAML tags (such as `!!str`) are not supported"),
    ("timestamp-leap-second.yaml", "4:31", "leap seconds (second 60) are not supported"),
    ("timestamp-month-13.yaml", "4:31", "month 13 is out of range"),
    ("timestamp-no-offset.yaml", "4:31", "missing the UTC offset"),
    ("top-level-scalar.json", "1:1", "expected a mapping with `roles` at the top level, found string"),
    ("top-level-sequence.yaml", "1:1", "expected a mapping with `roles` at the top level, found a sequence"),
    ("two-documents.yaml", "3:1", "more than one YAML document"),
    ("two-logins.yaml", "6:9", "a role has at most one `login`; this is the second"),
    ("two-password-sources.yaml", "4:48", "`password_env` and `password_file` both given"),
    ("unknown-grant-kind.yaml", "4:9", "unknown grant kind `table_insert`; expected one of: login,"),
    ("unknown-key-in-grant.yaml", "5:40", "unknown key `tabel` in table_select; expected one of: schema, table, table_regex, direct"),
    ("unknown-role-key.yaml", "3:5", "unknown key `grant` in a role"),
    ("unknown-top-level-key.yaml", "2:1", "unknown key `role` in the top level"),
    ("utf16.yaml", "1:1", "the file is not valid UTF-8 (byte 0xFF here)"),
    ("yaml-bad-indentation.yaml", "3:12", "invalid YAML: mapping values are not allowed in this context"),
    ("yaml-tab-indentation.yaml", "2:2", "invalid YAML: tabs disallowed"),
    ("yaml-unclosed-flow-sequence.yaml", "5:9", "invalid YAML"),
    ("yaml-unterminated-quote.yaml", "2:11", "invalid YAML"),
];

/// Snapshots: (file, `line:column` or "" when the problem has no position,
/// what the message says, whether the fingerprint matches the contents so
/// that a later check is what fires). Each is given to `plan --snapshot`
/// and to `apply --snapshot`.
#[rustfmt::skip]
const SNAPSHOTS: &[(&str, &str, &str, bool)] = &[
    ("desired-file-instead.json", "1:1", "invalid JSON: expected value", false),
    ("edited-role.json", "", "does not match the contents", false),
    ("empty.json", "1:1", "unexpected end of file: the snapshot is truncated", false),
    ("format-version-0-other-shape.json", "", "snapshot format version 0 is not supported", false),
    ("format-version-2.json", "", "snapshot format version 2 is not supported", true),
    ("grantee-not-in-roles.json", "", "the ACL of schema \"sales\" names role \"ghost\", which is not in `roles`", true),
    ("member-not-in-roles.json", "", "membership of \"ghost\" in \"analysts\" names role \"ghost\"", true),
    ("not-utf8.json", "5:17", "invalid unicode code point", false),
    ("owner-not-in-roles.json", "", "relation \"sales\".\"orders\" names role \"departed\"", true),
    ("plan-instead.json", "1:2", "invalid JSON", false),
    ("truncated.json", "22:16", "unexpected end of file: the snapshot is truncated", false),
    ("unknown-field.json", "20:233", "unknown field `password`", false),
    ("unknown-field-control-character.json", "20:253", "unknown field `pass\\u{1b}]0;owned\\u{7}word`", false),
    ("wrong-type.json", "6:18", "invalid type: string \"16384\", expected u32", false),
];

/// Plan scripts: (file, line or "" when the problem has no line, what the
/// message says, whether the header and checksum are valid so that the
/// statement validator is what refuses it). Each is given to `apply`.
#[rustfmt::skip]
const SCRIPTS: &[(&str, &str, &str, bool)] = &[
    ("alter-role-set.sql", "16", "ALTER ROLE: expected a value as a string literal", true),
    // PostgreSQL ends a `--` comment at a carriage return: what follows runs.
    ("comment-ends-at-carriage-return.sql", "13", "DROP TABLE is not allowed in a plan", true),
    ("commit-inside.sql", "16", "COMMIT is not allowed in a plan", true),
    ("copy-to-program.sql", "16", "COPY is not allowed in a plan", true),
    ("create-role-superuser.sql", "13", "CREATE ROLE: nothing may follow the role name", true),
    ("do-block.sql", "16", "DO is not allowed in a plan", true),
    ("dollar-quoted-literal.sql", "16", "expected 'infinity' or a UTC time 'YYYY-MM-DDTHH:MM:SS.ffffffZ', found a dollar-quoted string", true),
    ("drop-table.sql", "16", "DROP TABLE is not allowed in a plan", true),
    ("edited-after-planning.sql", "10", "checksum mismatch: the script was edited after planning", false),
    ("empty.sql", "1", "not a pgsr plan", false),
    ("format-3.sql", "2", "plan format 3 is not supported", false),
    ("grant-on-all-tables.sql", "16", "ON ALL … IN SCHEMA is not allowed in a plan", true),
    ("grant-to-public.sql", "13", "PUBLIC is not allowed", true),
    // With standard_conforming_strings a backslash does not escape the quote:
    // the password literal ends there, and no literal password is allowed.
    ("literal-hides-statement.sql", "16", "a password or verifier written in a plan is not allowed", true),
    ("no-checksum.sql", "10", "the header has no checksum line", false),
    ("no-header.sql", "1", "not a pgsr plan: the first line must be \"-- pgsr plan\"", false),
    ("not-utf8.sql", "", "stream did not contain valid UTF-8", false),
    ("nul-character.sql", "13", "NUL character is not allowed in a plan", true),
    ("psql-meta-command.sql", "16", "psql meta-command `\\! touch /tmp/pgsr-bad-input-owned` is not allowed", true),
    // A name quoted as a broken renderer would: its `;` ends the statement.
    ("quoted-name-hides-statement.sql", "13", "DROP TABLE is not allowed in a plan", true),
    ("select-statement.sql", "13", "SELECT is not allowed in a plan", true),
    ("set-role.sql", "13", "SET ROLE is not allowed in a plan", true),
    ("statement-count-mismatch.sql", "9", "the header announces 3 statements (create-role 1, grant 2) but the script holds 2 (create-role 1, grant 1)", true),
    ("unterminated-comment.sql", "17", "cannot read SQL: Unexpected EOF while in a multi-line comment", true),
    ("unterminated-statement.sql", "16", "statement starting with `GRANT` does not end with `;`", true),
];

/// Whether the case is a password source that cannot be read: `plan`
/// only names password sources (`apply` and `sync` read them), so only
/// `sync` refuses it.
fn reads_secrets(name: &str) -> bool {
    name.starts_with("password-env") || name.starts_with("password-file")
}

/// The environment variables the desired files name.
const UNSET_VARIABLE: &str = "PGSR_BAD_INPUT_UNSET";
const EMPTY_VARIABLE: &str = "PGSR_BAD_INPUT_EMPTY";

/// Every password in the corpus and on the command lines is `hunter2`, or
/// `hunt` and `ter2` around a separator: no error shows either half.
const PASSWORD_PARTS: [&str; 2] = ["hunt", "ter2"];

fn corpus(kind: &str) -> PathBuf {
    workspace_root().join("tests/bad_input").join(kind)
}

fn fixture(path: &str) -> PathBuf {
    workspace_root().join("fixtures").join(path)
}

fn s(path: &Path) -> OsString {
    path.as_os_str().to_owned()
}

/// A working directory for pgsr: `password_file` paths are relative to it.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("pgsr-bad-input-")
        .tempdir()
        .unwrap();
    std::fs::write(dir.path().join("empty-password"), "\n").unwrap();
    dir
}

/// A `--db` that nothing listens on: reaching it would fail with a
/// connection error, which no case here may show.
fn closed_db() -> String {
    format!(
        "host=127.0.0.1 port={} user=pgsr dbname=pgsr sslmode=disable connect_timeout=5",
        free_port()
    )
}

/// Runs pgsr in `cwd` with no connection settings from the environment
/// (only `db` when given), and the variables the desired files name.
fn pgsr(cwd: &Path, args: &[OsString]) -> PgsrOutput {
    let mut cmd = Command::new(pgsr_bin());
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key == "DATABASE_URL" || key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove(UNSET_VARIABLE)
        .env(EMPTY_VARIABLE, "")
        .env("RUST_BACKTRACE", "0");
    let out = cmd.output().expect("run pgsr");
    PgsrOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn command_line(args: &[OsString]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("pgsr {}", parts.join(" "))
}

/// Panics unless pgsr failed with exit code 1, nothing on standard output
/// and exactly one line on standard error, `pgsr: error: ` and a message
/// containing each of `needles`.
#[track_caller]
fn assert_one_line_error(out: &PgsrOutput, args: &[OsString], needles: &[&str]) {
    let context = || {
        format!(
            "{}\nexit {}\nstdout:\n{}\nstderr:\n{}",
            command_line(args),
            out.code,
            out.stdout,
            out.stderr
        )
    };
    assert_no_panic(out, args);
    assert_eq!(out.code, 1, "expected exit code 1: {}", context());
    assert!(
        out.stdout.is_empty(),
        "expected nothing on standard output: {}",
        context()
    );
    let line = out.stderr.strip_suffix('\n').unwrap_or(&out.stderr);
    assert!(
        !line.is_empty() && !line.contains('\n'),
        "expected exactly one line on standard error: {}",
        context()
    );
    assert!(
        line.starts_with("pgsr: error: "),
        "expected `pgsr: error: `: {}",
        context()
    );
    assert!(
        !line.chars().any(char::is_control),
        "a control character reached standard error raw: {}",
        context()
    );
    for part in PASSWORD_PARTS {
        assert!(
            !line.contains(part),
            "the error shows (part of) a password: {}",
            context()
        );
    }
    for needle in needles {
        assert!(
            line.contains(needle),
            "expected the error to contain {needle:?}: {}",
            context()
        );
    }
    assert!(
        !line.contains("cannot connect"),
        "pgsr connected before refusing the input: {}",
        context()
    );
}

#[track_caller]
fn assert_no_panic(out: &PgsrOutput, args: &[OsString]) {
    for bad in ["panicked", "RUST_BACKTRACE"] {
        assert!(
            !out.stderr.contains(bad),
            "pgsr panicked: {}\nstderr:\n{}",
            command_line(args),
            out.stderr
        );
    }
}

/// The files of a corpus directory, sorted, and the names in its table.
#[track_caller]
fn assert_table_matches_directory(kind: &str, names: &[&str]) {
    let mut files: Vec<String> = std::fs::read_dir(corpus(kind))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "tests/bad_input/{kind}/ and its table in tests/bad_input.rs differ: every input needs an expected error"
    );
}

/// What the message must contain for a desired file or snapshot case:
/// the path with its position, and the problem.
fn located(path: &Path, at: &str) -> String {
    if at.is_empty() {
        format!("{}: ", path.display())
    } else {
        format!("{}:{at}: ", path.display())
    }
}

/// What the message must contain for a script case.
fn script_located(path: &Path, line: &str) -> String {
    if line.is_empty() {
        format!("{}: ", path.display())
    } else {
        format!("{}: line {line}: ", path.display())
    }
}

/// A plan made from the committed fixture: valid, so that `apply` gets as
/// far as reading its `--snapshot`.
fn valid_plan(dir: &Path) -> PathBuf {
    let out = dir.join("valid-plan.sql");
    let args = [
        "plan".into(),
        "--snapshot".into(),
        s(&fixture("warehouse/snapshot.json")),
        "-f".into(),
        s(&fixture("warehouse/analysts.yaml")),
        "-o".into(),
        s(&out),
    ];
    let result = pgsr(dir, &args);
    assert_eq!(result.code, 0, "{}: {}", command_line(&args), result.stderr);
    out
}

/// Tests that need no cluster; see the crate docs for the name.
macro_rules! once {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            #[test]
            fn pg15() $body
        }
    };
}

once!(
    /// Each desired file, planned from a snapshot and synced to a closed port.
    fn desired_files() {
        let names: Vec<&str> = DESIRED.iter().map(|c| c.0).collect();
        assert_table_matches_directory("desired", &names);
        let dir = workdir();
        let db = closed_db();
        for &(name, at, says) in DESIRED {
            let path = corpus("desired").join(name);
            let needles = [located(&path, at), says.to_owned()];
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let plan = [
                "plan".into(),
                "--snapshot".into(),
                s(&fixture("warehouse/snapshot.json")),
                "-f".into(),
                s(&path),
            ];
            if !reads_secrets(name) {
                assert_one_line_error(&pgsr(dir.path(), &plan), &plan, &needles);
            }
            let sync = [
                "sync".into(),
                "-f".into(),
                s(&path),
                "--db".into(),
                db.clone().into(),
            ];
            assert_one_line_error(&pgsr(dir.path(), &sync), &sync, &needles);
        }
    }
);

once!(
    /// Each snapshot, to `plan --snapshot` and to `apply --snapshot` (which
    /// reads it before connecting).
    fn snapshots() {
        let names: Vec<&str> = SNAPSHOTS.iter().map(|c| c.0).collect();
        assert_table_matches_directory("snapshot", &names);
        let dir = workdir();
        let script = valid_plan(dir.path());
        let db = closed_db();
        for &(name, at, says, fingerprint_matches) in SNAPSHOTS {
            let path = corpus("snapshot").join(name);
            if fingerprint_matches {
                assert_fingerprint_matches(&path);
            }
            let needles = [located(&path, at), says.to_owned()];
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let plan = [
                "plan".into(),
                "--snapshot".into(),
                s(&path),
                "-f".into(),
                s(&fixture("warehouse/analysts.yaml")),
            ];
            assert_one_line_error(&pgsr(dir.path(), &plan), &plan, &needles);
            let apply = [
                "apply".into(),
                s(&script),
                "--snapshot".into(),
                s(&path),
                "--db".into(),
                db.clone().into(),
            ];
            assert_one_line_error(&pgsr(dir.path(), &apply), &apply, &needles);
        }
    }
);

/// The snapshot's fingerprint is right, so that what refuses it is the
/// check behind the fingerprint.
#[track_caller]
fn assert_fingerprint_matches(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let snapshot: pgsr_planner::snapshot::Snapshot = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{} is not shaped as a snapshot: {e}", path.display()));
    let computed = snapshot.compute_fingerprint();
    assert_eq!(
        snapshot.fingerprint,
        computed,
        "{}: the fingerprint must match the contents (so that a later check refuses it); put {computed} in it",
        path.display()
    );
}

once!(
    /// Each script, to `apply` with a `--db` nothing listens on: the error is
    /// the script's, so it was refused before connecting.
    fn scripts() {
        let names: Vec<&str> = SCRIPTS.iter().map(|c| c.0).collect();
        assert_table_matches_directory("script", &names);
        let dir = workdir();
        let db = closed_db();
        for &(name, line, says, signed) in SCRIPTS {
            let path = corpus("script").join(name);
            if signed {
                let text = std::fs::read_to_string(&path).unwrap();
                if let Err(e) = pgsr_planner::script::parse(&text) {
                    panic!(
                        "{}: the header and checksum must be valid, so that the statements are what is refused; \
                         see tests/bad_input/README.md to recompute the checksum: {e}",
                        path.display()
                    );
                }
            }
            let needles = [script_located(&path, line), says.to_owned()];
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let apply = ["apply".into(), s(&path), "--db".into(), db.clone().into()];
            assert_one_line_error(&pgsr(dir.path(), &apply), &apply, &needles);
        }
        assert!(
            !Path::new("/tmp/pgsr-bad-input-owned").exists(),
            "the psql meta-command ran"
        );
    }
);

/// Command lines: (arguments, exit code, what standard error says).
/// Arguments are split at spaces, then `{snapshot}` (a valid snapshot),
/// `{desired}` (a valid desired file), `{dir}` (a directory), `{missing}` (a
/// directory that does not exist) and `{db}` (a closed port) are replaced,
/// in the arguments and in the message. Exit code 64 is a usage error from
/// clap, in clap's own multi-line format; 1 is pgsr's one-line error; 0 is
/// `--help` and `--version`, on standard output.
#[rustfmt::skip]
const COMMAND_LINES: &[(&str, i32, &str)] = &[
    ("", 64, "Usage: pgsr [OPTIONS] <COMMAND>"),
    ("frobnicate", 64, "unrecognized subcommand 'frobnicate'"),
    ("plan --bogus -f {desired}", 64, "unexpected argument '--bogus'"),
    ("plan --snapshot {snapshot}", 64, "the following required arguments were not provided:\n  --file <FILE>"),
    ("sync --db {db}", 64, "the following required arguments were not provided:\n  --file <FILE>"),
    ("apply", 64, "the following required arguments were not provided:\n  <SCRIPT>"),
    ("plan --snapshot {snapshot} --db {db} -f {desired}", 64, "the argument '--snapshot <FILE>' cannot be used with '--db <CONNINFO>'"),
    ("sync -f {desired} --lock-key abc", 64, "invalid value 'abc' for '--lock-key <KEY>'"),
    ("sync -f {desired} --lock-timeout 5m", 64, "invalid value '5m' for '--lock-timeout <DURATION>': `m` is ambiguous: use `min` for minutes or `ms` for milliseconds"),
    ("apply {desired} --object-lock-timeout soon", 64, "invalid value 'soon' for '--object-lock-timeout <DURATION>'"),
    ("sync -f {desired} --statement-timeout 1.5.0s", 64, "invalid value '1.5.0s' for '--statement-timeout <DURATION>'"),
    ("plan --snapshot {snapshot} -f {desired} --exit-code --exit-code", 64, "the argument '--exit-code' cannot be used multiple times"),
    ("plan --snapshot {snapshot} -f {dir}", 1, "cannot read {dir}: Is a directory"),
    ("plan --snapshot {dir} -f {desired}", 1, "cannot read {dir}: Is a directory"),
    ("apply {dir} --db {db}", 1, "cannot read {dir}: Is a directory"),
    ("sync -f {dir} --db {db}", 1, "cannot read {dir}: Is a directory"),
    ("plan --snapshot {snapshot} -f no-such-file.yaml", 1, "cannot read no-such-file.yaml: No such file or directory"),
    ("apply no-such-plan.sql --db {db}", 1, "cannot read no-such-plan.sql: No such file or directory"),
    ("plan --snapshot {snapshot} -f {desired} -o {missing}/plan.sql", 1, "cannot write {missing}/plan.sql: No such file or directory"),
    ("plan --snapshot {snapshot} -f {desired} -o {dir}", 1, "cannot write {dir}: Is a directory"),
    ("plan -f {desired} --db postgresql://[bad", 1, "invalid connection string"),
    ("sync -f {desired} --db sslmode=bogus", 1, "invalid connection string: bad sslmode \"bogus\""),
    // Inputs that never end: one line, not memory exhaustion.
    ("plan --snapshot {snapshot} -f /dev/zero", 1, "cannot read /dev/zero: it is larger than 16 MiB, the limit for a desired file"),
    ("sync -f /dev/zero --db {db}", 1, "cannot read /dev/zero: it is larger than 16 MiB, the limit for a desired file"),
    ("plan --snapshot /dev/zero -f {desired}", 1, "cannot read /dev/zero: it is larger than 1 GiB, the limit for a snapshot"),
    ("apply /dev/zero --db {db}", 1, "cannot read /dev/zero: it is larger than 256 MiB, the limit for a plan"),
    // A malformed URI never shows its password, nor a part of it.
    ("plan -f {desired} --db postgresql://alice:hunter2@127.0.0.1:notaport/db", 1, "invalid connection string: the port in the URI is not a number"),
    ("plan -f {desired} --db postgresql://alice:hunter2/db", 1, "invalid connection string: the port in the URI is not a number"),
    ("plan -f {desired} --db postgresql://alice:hunt/ter2@127.0.0.1/db", 1, "invalid connection string: more than one `@`, or an `@` after a `/`, in the URI"),
    ("plan -f {desired} --db postgresql://alice:hunt@ter2@127.0.0.1/db", 1, "invalid connection string: more than one `@`, or an `@` after a `/`, in the URI"),
    ("plan -f {desired} --db postgresql://alice:hunt%zzter2@127.0.0.1/db", 1, "invalid connection string: bad percent-encoding in the URI's password"),
    ("plan -f {desired} --db postgresql://alice:hunter2@127.0.0.1/db?bogus=1", 1, "invalid connection string: unknown parameter \"bogus\""),
    ("sync -f {desired} --db postgresql://alice:hunter2@127.0.0.1/db?sslmode=bogus", 1, "invalid connection string: bad sslmode \"bogus\""),
];

once!(
    /// Bad command lines: clap's usage errors exit 64 with clap's message;
    /// everything else exits 1 with one line.
    fn command_lines() {
        let dir = workdir();
        let db = closed_db();
        let replacements = [
            (
                "{snapshot}",
                fixture("warehouse/snapshot.json").display().to_string(),
            ),
            (
                "{desired}",
                fixture("warehouse/analysts.yaml").display().to_string(),
            ),
            ("{dir}", dir.path().display().to_string()),
            (
                "{missing}",
                dir.path().join("no-such-directory").display().to_string(),
            ),
            ("{db}", db.clone()),
        ];
        let fill = |text: &str| {
            replacements
                .iter()
                .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
        };
        let mut cases: Vec<(Vec<OsString>, i32, String)> = COMMAND_LINES
            .iter()
            .map(|&(args, code, says)| {
                let args = args.split_whitespace().map(|a| fill(a).into()).collect();
                (args, code, fill(says))
            })
            .collect();
        // An argument that is not UTF-8.
        let mut args: Vec<OsString> = ["plan", "-f", "x.yaml", "--db"].map(OsString::from).into();
        args.push(OsString::from_vec(b"host=\xff".to_vec()));
        cases.push((args, 64, "invalid UTF-8 was detected".to_owned()));
        for (args, code, says) in cases {
            let out = pgsr(dir.path(), &args);
            if code == 1 {
                assert_one_line_error(&out, &args, &[&says]);
                continue;
            }
            assert_no_panic(&out, &args);
            let shown = command_line(&args);
            assert_eq!(
                out.code, code,
                "{shown}: exit {}\nstderr:\n{}",
                out.code, out.stderr
            );
            assert!(
                out.stderr.contains(&says),
                "{shown}: expected {says:?} in:\n{}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "{shown}: {}", out.stdout);
        }
        // What was asked for is no error: --help and --version exit 0.
        for (args, says) in [
            (&["--help"][..], "Usage: pgsr [OPTIONS] <COMMAND>"),
            (&["sync", "--help"][..], "--lock-timeout <DURATION>"),
            (&["apply", "--help"][..], "[default: 10s]"),
            (&["help", "apply"][..], "Usage: pgsr apply"),
            (&["--version"][..], "pgsr "),
        ] {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            let out = pgsr(dir.path(), &args);
            assert_no_panic(&out, &args);
            let shown = command_line(&args);
            assert_eq!(out.code, 0, "{shown}: exit {}\n{}", out.code, out.stderr);
            assert!(out.stdout.contains(says), "{shown}: {}", out.stdout);
        }
        // A closed port: the connection error is one line too.
        let desired = s(&fixture("warehouse/analysts.yaml"));
        let args = [
            "sync".into(),
            "-f".into(),
            desired,
            "--db".into(),
            db.into(),
        ];
        let out = pgsr(dir.path(), &args);
        assert_no_panic(&out, &args);
        assert_eq!(out.code, 1, "{}: {}", command_line(&args), out.stderr);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{}: {}",
            command_line(&args),
            out.stderr
        );
        assert!(
            out.stderr.starts_with("pgsr: error: cannot connect"),
            "{}",
            out.stderr
        );
    }
);

/// The largest desired file pgsr reads.
const DESIRED_FILE_LIMIT: usize = 16 << 20;

once!(
    /// A desired file of exactly the largest size, valid roles with one
    /// misspelt key in the last: reported at its line, as for a small file.
    /// One byte more and it is refused for its size.
    fn huge_desired_file() {
        use std::io::Write;
        let dir = workdir();
        let path = dir.path().join("huge.yaml");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let last: &[u8] =
            b"  - name: last\n    grants:\n      - schema_usage: { schema: sales, drect: true }\n";
        let mut written = 0;
        let mut lines = 1;
        let mut role = 0;
        file.write_all(b"roles:\n").unwrap();
        written += 7;
        loop {
            let entry = format!(
                "  - name: role_{role:07}\n    grants:\n      - database_connect: warehouse\n      - schema_usage: {{ schema: sales, direct: true }}\n"
            );
            if written + entry.len() + last.len() + 2 > DESIRED_FILE_LIMIT {
                break;
            }
            file.write_all(entry.as_bytes()).unwrap();
            written += entry.len();
            lines += 4;
            role += 1;
        }
        file.write_all(last).unwrap();
        written += last.len();
        let padding = DESIRED_FILE_LIMIT - written;
        file.write_all(format!("#{}\n", "x".repeat(padding - 2)).as_bytes())
            .unwrap();
        file.flush().unwrap();
        drop(file);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            DESIRED_FILE_LIMIT as u64
        );
        let at = format!("{}:40", lines + 3);
        let args = [
            "plan".into(),
            "--snapshot".into(),
            s(&fixture("warehouse/snapshot.json")),
            "-f".into(),
            s(&path),
        ];
        let out = pgsr(dir.path(), &args);
        assert_one_line_error(
            &out,
            &args,
            &[&located(&path, &at), "unknown key `drect` in schema_usage"],
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"\n")
            .unwrap();
        let out = pgsr(dir.path(), &args);
        let too_large = format!(
            "cannot read {}: it is larger than 16 MiB, the limit for a desired file",
            path.display()
        );
        assert_one_line_error(&out, &args, &[&too_large]);
    }
);

once!(
    /// `apply --snapshot` of an input that never ends.
    fn endless_snapshot_for_apply() {
        let dir = workdir();
        let script = valid_plan(dir.path());
        let args = [
            "apply".into(),
            s(&script),
            "--snapshot".into(),
            "/dev/zero".into(),
            "--db".into(),
            closed_db().into(),
        ];
        assert_one_line_error(
            &pgsr(dir.path(), &args),
            &args,
            &["cannot read /dev/zero: it is larger than 1 GiB, the limit for a snapshot"],
        );
    }
);

once!(
    /// key=value connection strings whose password holds a space, or that
    /// are wrong elsewhere: no error shows the password or a part of it
    /// (`assert_one_line_error` checks), and a connection error neither.
    fn connection_strings_never_show_the_password() {
        let dir = workdir();
        let desired = s(&fixture("warehouse/analysts.yaml"));
        let port = free_port();
        let cases = [
            (
                format!("host=127.0.0.1 port={port} password=hunt ter2"),
                "quote a password holding spaces",
            ),
            (
                format!("host=127.0.0.1 password=hunt ter2 port={port}"),
                "quote a password holding spaces",
            ),
            (
                "host=127.0.0.1 password=hunter2 port=x".to_owned(),
                "bad port \"x\"",
            ),
            (
                "host=127.0.0.1 password='hunter2".to_owned(),
                "unterminated quoted value",
            ),
            (
                format!("host=127.0.0.1 port={port} user=alice password=hunter2 sslmode=disable connect_timeout=5"),
                "cannot connect to database \"alice\" as \"alice\" on 127.0.0.1",
            ),
            (
                format!("postgresql://alice:hunter2@127.0.0.1:{port}/db?sslmode=disable&connect_timeout=5"),
                "cannot connect to database \"db\" as \"alice\" on 127.0.0.1",
            ),
        ];
        for (db, says) in cases {
            let args = [
                "plan".into(),
                "-f".into(),
                desired.clone(),
                "--db".into(),
                db.into(),
            ];
            let out = pgsr(dir.path(), &args);
            if says.starts_with("cannot connect") {
                // Where it is refused is the point: reaching the port is fine.
                assert_eq!(out.code, 1, "{}: {}", command_line(&args), out.stderr);
                assert!(
                    out.stderr.contains(says),
                    "{}: {}",
                    command_line(&args),
                    out.stderr
                );
                for part in PASSWORD_PARTS {
                    assert!(
                        !out.stderr.contains(part),
                        "{}: {}",
                        command_line(&args),
                        out.stderr
                    );
                }
                continue;
            }
            assert_one_line_error(&out, &args, &[says]);
        }
    }
);

/// A copy of the warehouse fixture in `dir`: a desired file whose login
/// reads the password file `password`, and the snapshot.
fn inputs_in(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let desired = dir.join("desired.yaml");
    let text = std::fs::read_to_string(fixture("warehouse/analysts.yaml")).unwrap();
    let text = text.replacen(
        "login: { valid_until:",
        "login: { password_file: password, valid_until:",
        1,
    );
    assert!(text.contains("password_file"), "{text}");
    std::fs::write(&desired, text).unwrap();
    let password = dir.join("password");
    std::fs::write(&password, "hunter2\n").unwrap();
    let snapshot = dir.join("snapshot.json");
    std::fs::copy(fixture("warehouse/snapshot.json"), &snapshot).unwrap();
    (desired, snapshot, password)
}

fn plan_args(desired: &Path, snapshot: &Path, output: &Path) -> [OsString; 7] {
    [
        "plan".into(),
        "--snapshot".into(),
        s(snapshot),
        "-f".into(),
        s(desired),
        "-o".into(),
        s(output),
    ]
}

once!(
    /// `-o` naming an input, directly or through a symbolic or hard link,
    /// is an error, and nothing is written.
    fn output_never_replaces_an_input() {
        use std::os::unix::fs::symlink;
        let dir = workdir();
        let (desired, snapshot, password) = inputs_in(dir.path());
        let symbolic = dir.path().join("symbolic.yaml");
        symlink(&desired, &symbolic).unwrap();
        let hard = dir.path().join("hard.json");
        std::fs::hard_link(&snapshot, &hard).unwrap();
        let before: Vec<Vec<u8>> = [&desired, &snapshot, &password]
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        for output in [&desired, &snapshot, &password, &symbolic, &hard] {
            let args = plan_args(&desired, &snapshot, output);
            let out = pgsr(dir.path(), &args);
            let says = format!(
                "cannot write {}: it is an input of this command",
                output.display()
            );
            assert_one_line_error(&out, &args, &[&says]);
            let after: Vec<Vec<u8>> = [&desired, &snapshot, &password]
                .iter()
                .map(|p| std::fs::read(p).unwrap())
                .collect();
            assert!(after == before, "{}: an input changed", command_line(&args));
        }
        // The same names as new files elsewhere are fine.
        let other = dir.path().join("plan.sql");
        let args = plan_args(&desired, &snapshot, &other);
        let out = pgsr(dir.path(), &args);
        assert_eq!(out.code, 0, "{}: {}", command_line(&args), out.stderr);
    }
);

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

once!(
    /// A plan written with `-o` is readable by its owner only, whether the
    /// file is new or replaces one that others could read; through a
    /// symbolic link, the file it points to is replaced; a pipe is written
    /// as it is.
    fn outputs_are_private() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = workdir();
        let (desired, snapshot, _) = inputs_in(dir.path());
        let new = dir.path().join("new.sql");
        let out = pgsr(dir.path(), &plan_args(&desired, &snapshot, &new));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(mode(&new), 0o600);
        let plan = std::fs::read_to_string(&new).unwrap();
        assert!(plan.starts_with("-- pgsr plan\n"), "{plan}");

        let existing = dir.path().join("existing.sql");
        std::fs::write(&existing, "old contents, readable by all\n").unwrap();
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = pgsr(dir.path(), &plan_args(&desired, &snapshot, &existing));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(mode(&existing), 0o600);
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), plan);

        let link = dir.path().join("link.sql");
        let target = dir.path().join("target.sql");
        std::fs::write(&target, "old\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        symlink(&target, &link).unwrap();
        let out = pgsr(dir.path(), &plan_args(&desired, &snapshot, &link));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(mode(&target), 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), plan);

        let out = pgsr(
            dir.path(),
            &plan_args(&desired, &snapshot, Path::new("/dev/stdout")),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, plan);

        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".pgsr"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
);

once!(
    /// Names and paths holding terminal control characters reach standard
    /// error escaped (`assert_one_line_error` checks), and plan comments
    /// too.
    fn control_characters_never_reach_the_terminal() {
        let dir = workdir();
        let snapshot = s(&fixture("warehouse/snapshot.json"));
        let missing = dir.path().join("missing-\u{1b}]0;owned\u{7}-\u{9b}2J.yaml");
        let args = [
            "plan".into(),
            "--snapshot".into(),
            snapshot.clone(),
            "-f".into(),
            s(&missing),
        ];
        assert_one_line_error(
            &pgsr(dir.path(), &args),
            &args,
            &["missing-\\u{1b}]0;owned\\u{7}-\\u{9b}2J.yaml: No such file"],
        );
        let args = [
            "plan".into(),
            "-f".into(),
            s(&fixture("warehouse/analysts.yaml")),
            "--db".into(),
            format!(
                "host=no-such-host-\u{1b}[2J port={} connect_timeout=5",
                free_port()
            )
            .into(),
        ];
        let out = pgsr(dir.path(), &args);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            !out.stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{:?}",
            out.stderr
        );
        assert!(
            out.stderr.contains("no-such-host-\\u{1b}[2J"),
            "{}",
            out.stderr
        );

        // A role and a schema named with control characters.
        let desired = dir.path().join("hostile.yaml");
        std::fs::write(
            &desired,
            "roles:\n  - name: \"ev\\e[31mil\\u009b2J\"\n    grants:\n      - schema_usage: \"no\\rsuch\\e]0;x\\a\"\n",
        )
        .unwrap();
        let args = [
            "plan".into(),
            "--snapshot".into(),
            snapshot.clone(),
            "-f".into(),
            s(&desired),
        ];
        let out = pgsr(dir.path(), &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let comments: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("--")).collect();
        assert!(
            comments
                .iter()
                .any(|l| l.contains("ev\\u{1b}[31mil\\u{9b}2J")),
            "{}",
            out.stdout
        );
        assert!(
            comments
                .iter()
                .any(|l| l.contains("no\\rsuch\\u{1b}]0;x\\u{7}")),
            "{}",
            out.stdout
        );
        for line in comments {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        let mut strict = args.to_vec();
        strict.push("--strict".into());
        assert_one_line_error(
            &pgsr(dir.path(), &strict),
            &strict,
            &["no\\rsuch\\u{1b}]0;x\\u{7}"],
        );
    }
);

// ---------------------------------------------------------------------------
// On a real cluster

/// What every case is tried on: roles, a membership, a schema and a table
/// with grants, all of which a bad input that got through would change.
const SETUP: &str = "
    CREATE ROLE alice LOGIN;
    CREATE ROLE analysts;
    GRANT analysts TO alice;
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (id int);
    GRANT USAGE ON SCHEMA sales TO analysts;
    GRANT SELECT ON sales.orders TO analysts;
";

pg_test!(fn bad_input_changes_nothing(pg) {
    pg.execute("postgres", SETUP);
    let dir = workdir();
    let db = pg.conninfo("postgres", "postgres");
    let inspect = || {
        let args = ["inspect".into(), "--db".into(), db.clone().into()];
        let out = pgsr(dir.path(), &args);
        assert_eq!(out.code, 0, "pgsr inspect: {}", out.stderr);
        out.stdout
    };
    let before = inspect();
    for &(name, at, says) in DESIRED {
        let path = corpus("desired").join(name);
        let needles = [located(&path, at), says.to_owned()];
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        for command in ["sync", "plan"] {
            if command == "plan" && reads_secrets(name) {
                continue;
            }
            let args = [command.into(), "-f".into(), s(&path), "--db".into(), db.clone().into()];
            assert_one_line_error(&pgsr(dir.path(), &args), &args, &needles);
        }
    }
    assert!(inspect() == before, "a bad desired file changed the catalog");
    for &(name, line, says, _) in SCRIPTS {
        let path = corpus("script").join(name);
        let needles = [script_located(&path, line), says.to_owned()];
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let args = ["apply".into(), s(&path), "--db".into(), db.clone().into()];
        assert_one_line_error(&pgsr(dir.path(), &args), &args, &needles);
    }
    assert!(inspect() == before, "a bad script changed the catalog");
    // A snapshot written into a directory that does not exist.
    let missing = dir.path().join("no-such-directory/snapshot.json");
    let args = ["inspect".into(), "--db".into(), db.clone().into(), "-o".into(), s(&missing)];
    assert_one_line_error(
        &pgsr(dir.path(), &args),
        &args,
        &[&format!("cannot write {}: No such file or directory", missing.display())],
    );
    assert!(inspect() == before);
    // A snapshot written with `-o` is readable by its owner only.
    let written = dir.path().join("snapshot.json");
    let args = ["inspect".into(), "--db".into(), db.clone().into(), "-o".into(), s(&written)];
    let out = pgsr(dir.path(), &args);
    assert_eq!(out.code, 0, "{}: {}", command_line(&args), out.stderr);
    assert_eq!(mode(&written), 0o600);
    assert!(std::fs::read_to_string(&written).unwrap() == before);
});
