//! `pgsr plan`: the SQL that brings the catalog to the desired state.

use crate::cli::PlanArgs;
use crate::exit::{Code, Failure, Result};
use crate::files::{read_input, write_output, DESIRED_FILE, SNAPSHOT};
use pgsr_planner::desired::{self, Desired, PasswordRef};
use pgsr_planner::plan::{
    plan, plan_cluster, render_cluster, render_signed, Passwords, Plan, PlanOptions,
};
use pgsr_planner::snapshot::{self, ClusterSnapshot, Snapshot};
use std::io::IsTerminal;
use std::path::Path;

pub fn run(args: PlanArgs) -> Result<Code> {
    let desired = with_suffix(read_desired(&args.file)?, args.suffix.as_deref());
    let key = crate::secrets::plan_key(&args.key)?;
    let mut options = PlanOptions {
        strict: args.strict,
        drop_unused: args.drop_unused,
        passwords: Passwords::Unknown,
        now: Some(now()),
        ..Default::default()
    };
    let given = args
        .snapshot
        .as_deref()
        .map(read_any_snapshot)
        .transpose()?;
    let snapshot = match given {
        Some(AnySnapshot::Cluster(cluster)) => {
            return run_cluster(&args, &desired, &key, &options, Source::Snapshot(&cluster))
        }
        None if desired.databases.is_some() => {
            return run_cluster(&args, &desired, &key, &options, Source::Live)
        }
        Some(AnySnapshot::One(one)) => {
            if let Some(set) = &desired.databases {
                return Err(located(
                    &args.file,
                    Some((set.span.line, set.span.column)),
                    "`databases` makes a multi-database plan: plan from a snapshot taken with `pgsr inspect --all-databases`, or with --db",
                ));
            }
            *one
        }
        None => {
            let mut client = crate::inspect::connect(&args.db, &Default::default())?;
            let scope = pgsr_executor::sync::scope(&desired, &options, args.full_scope);
            let mut snapshot = pgsr_executor::inspect::inspect_scope(&mut client, &scope)?;
            pgsr_executor::inspect::read_dependencies(&mut *client, &mut snapshot, &desired)?;
            if !args.reset_passwords {
                let resolver = crate::secrets::password(Some(&desired));
                options.passwords = pgsr_executor::password::knowledge(
                    &mut *client,
                    &snapshot,
                    &desired,
                    &resolver,
                )?;
            }
            snapshot
        }
    };
    desired
        .check_single_database(&snapshot.database.name)
        .map_err(|e| located(&args.file, Some((e.span.line, e.span.column)), &e.message))?;
    let plan = plan(&snapshot, &desired, &options)
        .map_err(|e| located(&args.file, e.span.map(|s| (s.line, s.column)), &e.message))?;
    let script = render_signed(&plan, key.as_deref());
    let bytes = if args.format == "json" {
        pgsr_planner::plan::document(&plan).into_bytes()
    } else {
        script.into_bytes()
    };
    write_script(args.output.as_deref(), &bytes, args.format == "sql")?;
    if args.output.is_some() && std::io::stderr().is_terminal() {
        for line in &plan.summary {
            eprintln!("pgsr: summary: {}", pgsr_planner::display::escape(line));
        }
    }
    warn(&plan);
    Ok(exit_code(&args, plan.is_empty(), plan.has_known_changes()))
}

/// With `--exit-code`, exit 2 when the plan has changes (a plan that only
/// sets passwords has none unless `--reset-passwords`).
fn exit_code(args: &PlanArgs, empty: bool, known_changes: bool) -> Code {
    let changes = if args.reset_passwords {
        !empty
    } else {
        known_changes
    };
    if args.exit_code && changes {
        Code::Changes
    } else {
        Code::Ok
    }
}

/// Writes a plan to `path`, or to standard output, coloured there when it
/// is a terminal (and `--color` allows) if it is a script.
pub fn write_script(path: Option<&Path>, bytes: &[u8], is_script: bool) -> Result<()> {
    if path.is_none() && is_script && crate::color::stdout() {
        let text = String::from_utf8_lossy(bytes);
        return write_output(None, crate::color::script(&text).as_bytes());
    }
    write_output(path, bytes)
}

/// Where a multi-database plan's catalog comes from.
enum Source<'a> {
    Snapshot(&'a ClusterSnapshot),
    Live,
}

/// `plan` of a desired file with `databases`, or from a cluster snapshot.
fn run_cluster(
    args: &PlanArgs,
    desired: &Desired,
    key: &Option<Vec<u8>>,
    options: &PlanOptions,
    source: Source,
) -> Result<Code> {
    let mut options = options.clone();
    let live;
    let cluster = match source {
        Source::Snapshot(c) => c,
        Source::Live => {
            let timeouts = Default::default();
            let mut client = crate::inspect::connect(&args.db, &timeouts)?;
            let read = crate::inspect::inspect_cluster(
                &mut client,
                &args.db,
                &timeouts,
                args.jobs,
                Some(desired),
            )?;
            if !args.reset_passwords {
                let resolver = crate::secrets::password(Some(desired));
                options.passwords = pgsr_executor::password::knowledge(
                    &mut *client,
                    read.connected(),
                    desired,
                    &resolver,
                )?;
            }
            live = read;
            &live
        }
    };
    let plan = plan_cluster(cluster, desired, &options)
        .map_err(|e| located(&args.file, e.span.map(|s| (s.line, s.column)), &e.message))?;
    let bytes = if args.format == "json" {
        pgsr_planner::plan::document_cluster(&plan, key.as_deref())
    } else {
        render_cluster(&plan, key.as_deref())
    };
    write_script(
        args.output.as_deref(),
        bytes.as_bytes(),
        args.format == "sql",
    )?;
    for part in &plan.parts {
        if args.output.is_some() && std::io::stderr().is_terminal() {
            for line in &part.summary {
                eprintln!(
                    "pgsr: summary: {}: {}",
                    pgsr_planner::display::escape(&part.database.name),
                    pgsr_planner::display::escape(line)
                );
            }
        }
        warn(part);
    }
    Ok(exit_code(args, plan.is_empty(), plan.has_known_changes()))
}

/// A snapshot file: one database's, or a cluster's.
pub enum AnySnapshot {
    One(Box<Snapshot>),
    Cluster(ClusterSnapshot),
}

/// Reads a snapshot of one database or of several.
pub fn read_any_snapshot(path: &Path) -> Result<AnySnapshot> {
    let bytes = read_input(path, &SNAPSHOT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    if snapshot::is_cluster_json(&bytes) {
        return snapshot::cluster_from_json(&bytes)
            .map(AnySnapshot::Cluster)
            .map_err(|e| located(path, e.position, &e.message));
    }
    snapshot::from_json(&bytes)
        .map(|s| AnySnapshot::One(Box::new(s)))
        .map_err(|e| located(path, e.position, &e.message))
}

/// The plan's warnings on standard error too: the header, written to a
/// file, may not be read.
pub fn warn(plan: &Plan) {
    for w in &plan.warnings {
        crate::color::warn(w);
    }
}

/// The time now, for the planner (which reads no clock): a `valid_until`
/// before it is a warning.
pub fn now() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    desired::timestamp_from_unix(
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        since_epoch.subsec_micros(),
    )
}

/// `--suffix`, over the desired file's `suffix`.
pub fn with_suffix(mut desired: Desired, suffix: Option<&str>) -> Desired {
    if let Some(s) = suffix {
        desired.suffix = Some(pgsr_planner::desired::Spanned {
            value: s.to_owned(),
            span: Default::default(),
        });
    }
    desired
}

/// Reads and parses a desired file. The password files it names are
/// inputs too, for `-o`, though only `apply` and `sync` read them.
pub fn read_desired(path: &Path) -> Result<Desired> {
    let bytes = read_input(path, &DESIRED_FILE)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let desired = desired::parse(&bytes)
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    for role in &desired.roles {
        if let Some(PasswordRef::File(file)) =
            role.login.as_ref().and_then(|l| l.password.reference())
        {
            crate::files::remember(Path::new(&file));
        }
    }
    Ok(desired)
}

/// Reads a desired file and checks that every password it names can be
/// read here (for `sync`, which sets them).
pub fn read_desired_with_passwords(path: &Path) -> Result<Desired> {
    let desired = read_desired(path)?;
    desired
        .check_passwords(
            |name| std::env::var(name).ok(),
            crate::secrets::read_password_file,
        )
        .map_err(|e| located(path, Some((e.span.line, e.span.column)), &e.message))?;
    Ok(desired)
}

pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let bytes = read_input(path, &SNAPSHOT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    snapshot::from_json(&bytes).map_err(|e| located(path, e.position, &e.message))
}

/// `file:line:column: message`, the way compilers report.
pub fn located(path: &Path, position: Option<(usize, usize)>, message: &str) -> Failure {
    match position {
        Some((line, column)) => {
            Failure::new(format!("{}:{line}:{column}: {message}", path.display()))
        }
        None => Failure::new(format!("{}: {message}", path.display())),
    }
}
