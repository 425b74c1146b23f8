//! `pgsr inspect`: write a snapshot of the catalog.

use crate::cli::{DbArgs, InspectArgs, JobsArgs};
use crate::exit::{Code, Result};
use crate::files::write_output;
use pgsr_executor::conninfo::ConnInfo;
use pgsr_executor::wait::Timeouts;
use pgsr_planner::snapshot;

pub fn run(args: InspectArgs) -> Result<Code> {
    let timeouts = Timeouts::default();
    let mut client = connect(&args.db, &timeouts)?;
    let bytes = if args.all_databases {
        let cluster = inspect_cluster(&mut client, &args.db, &timeouts, args.jobs, None)?;
        snapshot::cluster_to_json(&cluster)
    } else {
        let one = crate::progress::ticking("reading the catalog", || {
            pgsr_executor::inspect::inspect(&mut client)
        })?;
        snapshot::to_json(&one)
    };
    write_output(args.output.as_deref(), &bytes)?;
    Ok(Code::Ok)
}

/// Reads every database of the cluster, `jobs` at a time.
pub fn inspect_cluster(
    client: &mut pgsr_executor::connect::Session,
    db: &DbArgs,
    timeouts: &Timeouts,
    jobs: JobsArgs,
    desired: Option<&pgsr_planner::desired::Desired>,
) -> Result<snapshot::ClusterSnapshot> {
    let connect = connector(db, timeouts);
    let bar = std::sync::Mutex::new(crate::progress::Bar::new("databases read"));
    let progress = |done, total| bar.lock().expect("not poisoned").update(done, total);
    let read = pgsr_executor::cluster::inspect_cluster(
        client,
        &connect,
        usize::from(jobs.jobs),
        desired,
        &progress,
    );
    bar.lock().expect("not poisoned").finish();
    Ok(read?)
}

/// Opens a session to another database of the cluster, with the
/// connection settings resolved for that database (its `.pgpass` entry).
pub fn connector<'a>(
    db: &'a DbArgs,
    timeouts: &'a Timeouts,
) -> impl Fn(&str) -> std::result::Result<pgsr_executor::connect::Session, pgsr_executor::Error>
       + Sync
       + 'a {
    move |name: &str| {
        let info =
            conninfo_for(db, Some(name)).map_err(|f| pgsr_executor::Error::usage(f.message))?;
        pgsr_executor::connect::connect(&info, timeouts)
    }
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
    conninfo_for(db, None)
}

/// The connection settings, for `database` instead of the one given when
/// it is named.
pub fn conninfo_for(db: &DbArgs, database: Option<&str>) -> Result<ConnInfo> {
    // Without USER (as under cron), the user is the operating system's,
    // as libpq makes it.
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| (k == "USER").then(os_user).flatten())
    };
    let mut given = ConnInfo::parse(db.db.as_deref().unwrap_or(""))
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?;
    if let Some(name) = database {
        given.params.insert("dbname".into(), name.to_owned());
    }
    let (info, warning) = given
        .with_service(env, |path| std::fs::read_to_string(path).ok())
        .map_err(|e| crate::exit::Failure::new(e.to_string()))?
        .with_defaults(env)
        .with_passfile(env, read_with_mode);
    if let Some(w) = warning {
        crate::color::warn(&w);
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
