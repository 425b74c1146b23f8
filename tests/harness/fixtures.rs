//! Fixture cases: `fixtures/<case>/setup.sql` and the `snapshot.json` that
//! `pgsr inspect` takes of the state it builds.
//!
//! A case is regenerated in a fresh cluster of [`FIXTURE_MAJOR`]: the
//! database [`FIXTURE_DATABASE`] is created (owner `postgres`), `setup.sql`
//! runs in it as the superuser, and the real `pgsr` binary takes the
//! snapshot. Every cluster starts as a copy of the same template and OIDs are
//! handed out in order, so regenerating gives the same bytes every time.
//!
//! `setup.sql` is sent as one multi-statement query, so it runs in one
//! transaction (statements that refuse a transaction block, such as
//! `CREATE DATABASE` or `CREATE TABLESPACE`, cannot be used). A first line
//! `-- inspect-as: <role>` takes the snapshot connected as that role instead
//! of `postgres`.
//!
//! A line `-- databases: <name> …` among the first comment lines makes a
//! case of several databases: each is created too, `<name>.sql` (when there
//! is one) runs in it after `setup.sql`, and the snapshot is taken with
//! `pgsr inspect --all-databases`.

use crate::cluster::describe_error;
use crate::{workspace_root, Pg};
use std::fs;
use std::path::{Path, PathBuf};

/// The major fixtures are generated on.
pub const FIXTURE_MAJOR: u32 = 15;
/// The database every case is built in.
pub const FIXTURE_DATABASE: &str = "warehouse";

/// `fixtures/` in the workspace.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("fixtures")
}

/// Every case: the directories under `fixtures/` holding a `setup.sql`, by
/// name.
pub fn cases() -> Vec<String> {
    let dir = fixtures_dir();
    let mut cases: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            entry
                .path()
                .join("setup.sql")
                .is_file()
                .then(|| entry.file_name().to_string_lossy().into_owned())
        })
        .collect();
    cases.sort();
    cases
}

/// A parsed `setup.sql`.
#[derive(Debug, Clone)]
pub struct Setup {
    pub sql: String,
    /// The role the snapshot is taken as.
    pub inspect_as: String,
    /// The other databases of a multi-database case.
    pub databases: Vec<String>,
}

impl Setup {
    pub fn parse(sql: &str) -> Setup {
        let inspect_as = sql
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("-- inspect-as:"))
            .map(|role| role.trim().to_owned())
            .filter(|role| !role.is_empty())
            .unwrap_or_else(|| "postgres".to_owned());
        let databases = sql
            .lines()
            .take_while(|line| line.starts_with("--"))
            .find_map(|line| line.strip_prefix("-- databases:"))
            .map(|names| names.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        Setup {
            sql: sql.to_owned(),
            inspect_as,
            databases,
        }
    }

    /// Reads `fixtures/<case>/setup.sql`.
    pub fn read(case: &str) -> Setup {
        let path = fixtures_dir().join(case).join("setup.sql");
        let sql = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Setup::parse(&sql)
    }
}

/// A fresh cluster of `major` with `case` built in [`FIXTURE_DATABASE`]
/// (roles are the cluster's, so each case needs a cluster of its own).
pub fn cluster_with(case: &str, major: u32) -> Pg {
    let setup = Setup::read(case);
    let pg = Pg::start(major);
    pg.execute(
        "postgres",
        &format!("CREATE DATABASE {FIXTURE_DATABASE} OWNER postgres"),
    );
    for db in &setup.databases {
        pg.execute("postgres", &format!("CREATE DATABASE {db} OWNER postgres"));
    }
    pg.superuser(FIXTURE_DATABASE)
        .batch_execute(&setup.sql)
        .unwrap_or_else(|e| panic!("fixtures/{case}/setup.sql failed: {}", describe_error(&e)));
    for db in &setup.databases {
        let path = fixtures_dir().join(case).join(format!("{db}.sql"));
        if let Ok(sql) = fs::read_to_string(&path) {
            pg.superuser(db)
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{} failed: {}", path.display(), describe_error(&e)));
        }
    }
    pg
}

/// Builds `case` in a fresh cluster and writes its snapshot to
/// `<out_dir>/snapshot.json`, which is returned. Panics with the reason on
/// any failure.
pub fn regenerate(case: &str, out_dir: &Path) -> PathBuf {
    let setup = Setup::read(case);
    let pg = cluster_with(case, FIXTURE_MAJOR);
    fs::create_dir_all(out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let out = out_dir.join("snapshot.json");
    let out_arg = out.to_str().expect("UTF-8 path");
    let mut args = vec!["inspect", "-o", out_arg];
    if !setup.databases.is_empty() {
        args.push("--all-databases");
    }
    pg.pgsr(&setup.inspect_as, FIXTURE_DATABASE, &args)
        .expect_code(0);
    out
}
