use pgsr_planner::snapshot::{self, Snapshot};
use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A running throwaway cluster. The superuser is `postgres`; local socket
/// connections are trusted, TCP connections from other roles need a password
/// (SCRAM), so login tests exercise real authentication.
pub struct Pg {
    pub major: u32,
    pub port: u16,
    bin: PathBuf,
    /// Holds the data directory, the socket directory and the log.
    dir: tempfile::TempDir,
    running: bool,
    /// Extra `-c name=value` server settings, applied at every start.
    settings: Vec<(String, String)>,
}

/// The output of one `pgsr` run.
#[derive(Debug)]
pub struct PgsrOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl PgsrOutput {
    /// Panics with the whole output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> PgsrOutput {
        assert_eq!(
            self.code, code,
            "pgsr exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Parses standard output as a snapshot (checking its fingerprint, as
    /// every reader does), panicking with the output when it is not one.
    #[track_caller]
    pub fn snapshot(&self) -> Snapshot {
        snapshot::from_json(self.stdout.as_bytes()).unwrap_or_else(|e| {
            panic!(
                "pgsr printed no valid snapshot: {e}\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Pg {
    /// Starts a fresh cluster of `major`.
    pub fn start(major: u32) -> Pg {
        Pg::start_with(major, &[])
    }

    /// Starts a fresh cluster of `major` with extra server settings (as
    /// `postgres -c name=value`; values must not contain single quotes).
    pub fn start_with(major: u32, settings: &[(&str, &str)]) -> Pg {
        let bin = bin_dir(major);
        let template = template(major, &bin);
        let user = os_user();
        let dir = tempfile::Builder::new()
            .prefix(&format!("pgsr-pg{major}-"))
            .tempdir()
            .expect("temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        if let Some((uid, gid)) = user.ids {
            chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let data = dir.path().join("data");
        run_as(
            user,
            Command::new("cp").arg("-a").arg(&template).arg(&data),
            "copy the template cluster",
        );
        let mut pg = Pg {
            major,
            port: 0,
            bin,
            dir,
            running: false,
            settings: Vec::new(),
        };
        for (name, value) in settings {
            pg.set_setting(name, value);
        }
        pg.start_server();
        pg
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory holding the unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Sets a server setting for the next start (see [`restart`](Pg::restart)).
    pub fn set_setting(&mut self, name: &str, value: &str) {
        // pg_ctl hands the options to a shell: they are single-quoted there.
        assert!(
            !name.contains('\'') && !value.contains('\''),
            "setting {name}: value {value:?} must not contain single quotes"
        );
        self.settings.retain(|(n, _)| n != name);
        self.settings.push((name.to_owned(), value.to_owned()));
    }

    /// Creates an empty directory owned by the server's OS user, outside
    /// the data directory: a place for a tablespace.
    pub fn server_dir(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
        give_to_server_user(&path);
        path
    }

    /// Writes a file readable only by the server's OS user (as a TLS key
    /// must be) into the cluster's directory, and returns its path.
    pub fn server_file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        give_to_server_user(&path);
        path
    }

    /// The server log so far, for failure messages.
    pub fn server_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn start_server(&mut self) {
        let user = os_user();
        let mut last_log = String::new();
        for _ in 0..5 {
            self.port = free_port();
            // password_encryption: 13 still hashes new passwords with md5,
            // which the scram-sha-256 lines of pg_hba.conf reject.
            let mut options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c shared_buffers=16MB -c max_connections=60 -c max_locks_per_transaction=256 \
                 -c password_encryption=scram-sha-256",
                self.port,
                self.socket_dir().display()
            );
            for (name, value) in &self.settings {
                options.push_str(&format!(" -c '{name}={value}'"));
            }
            let log = self.dir.path().join("server.log");
            let status = run_as_status(
                user,
                Command::new(self.bin.join("pg_ctl"))
                    .arg("start")
                    .arg("-w")
                    .arg("-t")
                    .arg("60")
                    .arg("-D")
                    .arg(self.data_dir())
                    .arg("-l")
                    .arg(&log)
                    .arg("-o")
                    .arg(options),
            );
            if status.status.success() {
                self.running = true;
                return;
            }
            last_log = fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("PostgreSQL {} did not start:\n{last_log}", self.major);
    }

    /// A key=value connection string for `user` on `dbname` over TCP to
    /// 127.0.0.1, with no `sslmode` (callers add what they test).
    pub fn tcp_conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={} dbname={}",
            self.port,
            quote_conninfo(user),
            quote_conninfo(dbname)
        )
    }

    /// Runs `pgsr inspect` as `user` in `dbname` and returns the snapshot.
    #[track_caller]
    pub fn inspect(&self, user: &str, dbname: &str) -> Snapshot {
        self.pgsr(user, dbname, &["inspect"])
            .expect_code(0)
            .snapshot()
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop_immediate(&mut self) {
        if self.running {
            let user = os_user();
            run_as_status(
                user,
                Command::new(self.bin.join("pg_ctl"))
                    .arg("stop")
                    .arg("-m")
                    .arg("immediate")
                    .arg("-D")
                    .arg(self.data_dir()),
            );
            self.running = false;
        }
    }

    /// Starts the server again after [`stop_immediate`](Pg::stop_immediate),
    /// or stops and starts it (to apply new settings), on a new port.
    pub fn restart(&mut self) {
        self.stop_immediate();
        self.start_server();
    }

    /// A key=value connection string for `user` on `dbname` over the socket.
    pub fn conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={} sslmode=disable",
            quote_conninfo(&self.socket_dir().display().to_string()),
            self.port,
            quote_conninfo(user),
            quote_conninfo(dbname)
        )
    }

    /// Connects over the socket (trusted).
    pub fn connect(&self, user: &str, dbname: &str) -> Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host_path(self.socket_dir())
            .port(self.port)
            .user(user)
            .dbname(dbname)
            .connect(postgres::NoTls)
    }

    /// Connects over TCP with a password: what a user logging in does.
    pub fn connect_with_password(
        &self,
        user: &str,
        password: &str,
        dbname: &str,
    ) -> Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(user)
            .password(password)
            .dbname(dbname)
            .connect(postgres::NoTls)
    }

    /// A superuser connection to `dbname`.
    pub fn superuser(&self, dbname: &str) -> postgres::Client {
        self.connect("postgres", dbname)
            .unwrap_or_else(|e| panic!("superuser connection to {dbname}: {e}"))
    }

    /// Runs SQL as the superuser in `dbname`, panicking on error.
    #[track_caller]
    pub fn execute(&self, dbname: &str, sql: &str) {
        self.superuser(dbname)
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{}\nin:\n{sql}", describe_error(&e)));
    }

    /// Runs `pgsr` with the given arguments, with the libpq environment
    /// pointing at this cluster as `user` in `dbname`.
    pub fn pgsr(&self, user: &str, dbname: &str, args: &[&str]) -> PgsrOutput {
        self.pgsr_with_env(user, dbname, args, &[])
    }

    /// The `pgsr` command with the libpq environment pointing at this
    /// cluster as `user` in `dbname` (and nothing else from the caller's
    /// environment that libpq would read), output piped: for running it in
    /// the background.
    pub fn pgsr_command(&self, user: &str, dbname: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(pgsr_bin());
        cmd.args(args)
            .env_remove("DATABASE_URL")
            .env_remove("PGAPPNAME")
            .env_remove("PGOPTIONS")
            .env_remove("PGSERVICE")
            .env_remove("PGSERVICEFILE")
            .env_remove("PGSYSCONFDIR")
            .env_remove("PGPASSFILE")
            .env_remove("PGPASSWORD")
            .env("PGHOST", self.socket_dir())
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", user)
            .env("PGDATABASE", dbname)
            .env("PGSSLMODE", "disable")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn pgsr_with_env(
        &self,
        user: &str,
        dbname: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> PgsrOutput {
        let mut cmd = self.pgsr_command(user, dbname, args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run pgsr");
        PgsrOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.stop_immediate();
    }
}

/// The server's message (with detail) for a database error, else the
/// driver's text: `postgres::Error` alone prints only "db error".
pub(crate) fn describe_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" (DETAIL: {detail})"));
            }
            if let Some(where_) = db.where_() {
                text.push_str(&format!(" (WHERE: {where_})"));
            }
            text
        }
        None => e.to_string(),
    }
}

fn quote_conninfo(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The `pgsr` binary built alongside the tests (`cargo build -p pgsr-cli`),
/// or `PGSR_BIN`.
pub fn pgsr_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("PGSR_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    // A test is target/<profile>/deps/<test>, a binary target/<profile>/<bin>;
    // pgsr is target/<profile>/pgsr.
    let exe_dir = exe.parent().expect("exe dir");
    let profile_dir = if exe_dir.file_name() == Some("deps".as_ref()) {
        exe_dir.parent().expect("target dir")
    } else {
        exe_dir
    };
    let bin = profile_dir.join("pgsr");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p pgsr-cli` (scripts/test does)",
        bin.display()
    );
    bin
}

/// Builds `pgsr` with cargo in the profile the calling binary was built in
/// (release or dev), so that a tool run with `cargo run` never uses a stale
/// `pgsr`. Does nothing when `PGSR_BIN` names a binary.
pub fn build_pgsr() {
    if std::env::var_os("PGSR_BIN").is_some() {
        return;
    }
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "pgsr-cli"])
        .current_dir(workspace_root());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build -p pgsr-cli");
    assert!(status.success(), "cargo build -p pgsr-cli failed");
}

/// Hands a file or directory to the OS user that runs the servers.
pub fn give_to_server_user(path: &Path) {
    if let Some((uid, gid)) = os_user().ids {
        chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }
}

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .unwrap()
        .port()
}

/// The root of the workspace (the parent of the e2e crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Finds the bin directory of `major` (see the crate docs).
fn bin_dir(major: u32) -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os(format!("PGSR_PG{major}_BIN"))
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
            workspace_root().join(format!(".cache/postgres/{major}/bin")),
        ])
        .collect();
    for dir in &candidates {
        if dir.join("initdb").exists()
            && dir.join("pg_ctl").exists()
            && dir.join("postgres").exists()
        {
            check_version(dir, major);
            return dir.clone();
        }
    }
    panic!(
        "PostgreSQL {major} is not installed: run scripts/fetch-postgres {major} (or set PGSR_PG{major}_BIN); looked in {candidates:?}"
    );
}

fn check_version(dir: &Path, major: u32) {
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .output()
        .expect("postgres --version");
    let text = String::from_utf8_lossy(&out.stdout);
    let found = text
        .split_whitespace()
        .last()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    assert_eq!(
        found,
        Some(major),
        "{} is not PostgreSQL {major}: {text}",
        dir.display()
    );
}

/// The OS user that owns clusters: initdb refuses to run as root.
struct OsUser {
    name: Option<String>,
    ids: Option<(u32, u32)>,
}

fn os_user() -> &'static OsUser {
    static USER: OnceLock<OsUser> = OnceLock::new();
    USER.get_or_init(|| {
        if !running_as_root() {
            return OsUser { name: None, ids: None };
        }
        let name = std::env::var("PGSR_TEST_OS_USER").unwrap_or_else(|_| "postgres".to_owned());
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").arg(flag).arg(&name).output().expect("id");
            assert!(
                out.status.success(),
                "running as root, and the user {name:?} that should own test clusters does not exist: create it (scripts/test does) or set PGSR_TEST_OS_USER"
            );
            String::from_utf8_lossy(&out.stdout).trim().parse().expect("numeric id")
        };
        let ids = (id("-u"), id("-g"));
        OsUser { name: Some(name), ids: Some(ids) }
    })
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn run_as_status(user: &OsUser, cmd: &mut Command) -> Output {
    let mut full = match &user.name {
        Some(name) => {
            let mut c = Command::new("runuser");
            c.arg("-u")
                .arg(name)
                .arg("--")
                .arg(cmd.get_program())
                .args(cmd.get_args());
            c
        }
        None => {
            let mut c = Command::new(cmd.get_program());
            c.args(cmd.get_args());
            c
        }
    };
    full.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

fn run_as(user: &OsUser, cmd: &mut Command, what: &str) {
    let out = run_as_status(user, cmd);
    assert!(
        out.status.success(),
        "cannot {what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The initdb'd template of `major`, made once per machine and shared by
/// every test process (guarded by a file lock).
fn template(major: u32, bin: &Path) -> PathBuf {
    let user = os_user();
    let root = std::env::temp_dir().join("pgsr-test-templates");
    fs::create_dir_all(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).ok();
    let key = format!(
        "pg{major}-{:x}-v1",
        fxhash(bin.to_string_lossy().as_bytes())
    );
    let dir = root.join(&key);
    let lock = File::create(root.join(format!("{key}.lock"))).unwrap();
    lock.lock().expect("lock template");
    if !dir.join("PG_VERSION").exists() {
        let staging = root.join(format!("{key}.staging"));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).unwrap();
        if let Some((uid, gid)) = user.ids {
            chown(&staging, Some(uid), Some(gid)).unwrap();
        }
        run_as(
            user,
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&staging)
                .arg("-U")
                .arg("postgres")
                .arg("-A")
                .arg("trust")
                .arg("-E")
                .arg("UTF8")
                .arg("--locale=C")
                .arg("--no-sync"),
            &format!("initdb PostgreSQL {major}"),
        );
        let hba = "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
        fs::write(staging.join("pg_hba.conf"), hba).unwrap();
        if let Some((uid, gid)) = user.ids {
            chown(staging.join("pg_hba.conf"), Some(uid), Some(gid)).unwrap();
        }
        fs::rename(&staging, &dir).unwrap();
    }
    dir
}

fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}
