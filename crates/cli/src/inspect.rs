//! `pgsr inspect`: write a snapshot of the catalog.

use crate::cli::{DbArgs, InspectArgs};
use crate::exit::{Code, Result};
use crate::files::write_output;
use pgsr_executor::conninfo::ConnInfo;
use pgsr_executor::wait::Timeouts;
use pgsr_planner::snapshot;

pub fn run(args: InspectArgs) -> Result<Code> {
    let mut client = connect(&args.db, &Timeouts::default())?;
    let snapshot = pgsr_executor::inspect::inspect(&mut client)?;
    write_output(args.output.as_deref(), &snapshot::to_json(&snapshot))?;
    Ok(Code::Ok)
}

/// Resolves the connection settings and connects; the session's lock and
/// statement timeouts are `timeouts`'.
pub fn connect(db: &DbArgs, timeouts: &Timeouts) -> Result<pgsr_executor::connect::Session> {
    let session = pgsr_executor::connect::connect(&conninfo(db)?, timeouts)?;
    warn_exposed_password(db);
    Ok(session)
}

/// Once connected (a failure is one line, and says what failed), a
/// warning that a password written in `--db` is visible to other local
/// users in the process list.
pub fn warn_exposed_password(db: &DbArgs) {
    let from_flag = db.db.is_some() && std::env::var_os("DATABASE_URL").is_none();
    let with_password = db
        .db
        .as_deref()
        .and_then(|text| ConnInfo::parse(text).ok())
        .is_some_and(|c| c.get("password").is_some());
    if from_flag && with_password {
        eprintln!(
            "pgsr: warning: a password in --db is visible to other local users in the process list; use ~/.pgpass, PGPASSWORD or a service file"
        );
    }
}

/// The connection settings as libpq makes them: `--db` (or
/// `DATABASE_URL`), then the service file, the environment and libpq's
/// defaults, then the password file.
pub fn conninfo(db: &DbArgs) -> Result<ConnInfo> {
    // Without USER (as under cron), the user is the operating system's,
    // as libpq makes it.
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| (k == "USER").then(os_user).flatten())
    };
    let given = ConnInfo::parse(db.db.as_deref().unwrap_or(""))
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?;
    let (info, warning) = given
        .with_service(env, |path| std::fs::read_to_string(path).ok())
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?
        .with_defaults(env)
        .with_passfile(env, read_with_mode);
    if let Some(w) = warning {
        eprintln!("pgsr: warning: {}", pgsr_planner::display::escape(&w));
    }
    Ok(info)
}

/// The name of the operating-system user this process runs as, from
/// `/etc/passwd`.
fn os_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

/// A file's text and permission bits.
fn read_with_mode(path: &str) -> Option<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    Some((std::fs::read_to_string(path).ok()?, mode))
}
