//! `pgsr apply` and `pgsr sync`.

use crate::cli::{ApplyArgs, SyncArgs};
use crate::exit::{Code, Failure, Result};
use crate::files::{read_text, SCRIPT};
use crate::plan::{located, read_desired, read_desired_with_passwords, read_snapshot};
use pgsr_executor::apply::{apply, prepare, Trust};
use pgsr_executor::cluster::{apply_cluster, prepare_cluster, ClusterReport};
use pgsr_executor::conninfo::ConnInfo;
use pgsr_executor::sync::{SyncError, SyncOptions};
use pgsr_executor::wait::{shown, Timeouts, Wait, Watch};
use pgsr_planner::desired::Desired;
use pgsr_planner::display::escape;
use pgsr_planner::plan::{plan_cluster, render_cluster, Action, Plan, PlanOptions};
use std::io::IsTerminal;
use std::time::Duration;

pub fn run_apply(args: ApplyArgs) -> Result<Code> {
    let text = read_text(&args.script, &SCRIPT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.script.display())))?;
    let key = crate::secrets::plan_key(&args.key)?;
    let trust = Trust {
        key: key.as_deref(),
        expect_checksum: args.expect_checksum.as_deref(),
    };
    if pgsr_planner::script::is_cluster_script(&text) {
        return apply_cluster_script(&args, &text, &trust);
    }
    let prepared = prepare(&text, &trust)
        .map_err(|e| Failure::new(format!("{}: {}", args.script.display(), e.message)))?;
    if prepared.is_empty() {
        eprintln!("pgsr: the plan has no changes; nothing to apply");
        return Ok(Code::Ok);
    }
    let planned_from = args.snapshot.as_deref().map(read_snapshot).transpose()?;
    let desired = args.file.as_deref().map(read_desired).transpose()?;
    let passwords = crate::secrets::password(desired.as_ref());
    let timeouts = args.timeouts.timeouts();
    let info = crate::inspect::conninfo(&args.db)?;
    let mut client = pgsr_executor::connect::connect(&info, &timeouts)?;
    crate::inspect::warn_exposed_password(&args.db);
    let report = with_watch(info, timeouts, |watch| {
        apply(
            &mut client,
            &prepared,
            planned_from.as_ref(),
            &passwords,
            watch,
        )
    })
    .map_err(|e| {
        let mut f = Failure::from(e);
        f.message = format!("{}: {}", args.script.display(), f.message);
        f
    })?;
    eprintln!(
        "pgsr: applied {} statements in {:.2} s ({} round trips)",
        report.statements,
        report.elapsed.as_secs_f64(),
        report.round_trips
    );
    Ok(Code::Ok)
}

/// `apply` of a multi-database script: each part in turn, each in its
/// own transaction in its own database.
fn apply_cluster_script(args: &ApplyArgs, text: &str, trust: &Trust) -> Result<Code> {
    let in_script = |e: pgsr_executor::Error| {
        let mut f = Failure::from(e);
        f.message = format!("{}: {}", args.script.display(), f.message);
        f
    };
    let prepared = prepare_cluster(text, trust).map_err(in_script)?;
    if prepared.is_empty() {
        eprintln!("pgsr: the plan has no changes; nothing to apply");
        return Ok(Code::Ok);
    }
    let desired = args.file.as_deref().map(read_desired).transpose()?;
    let passwords = crate::secrets::password(desired.as_ref());
    let timeouts = args.timeouts.timeouts();
    let info = crate::inspect::conninfo(&args.db)?;
    let mut client = pgsr_executor::connect::connect(&info, &timeouts)?;
    crate::inspect::warn_exposed_password(&args.db);
    let connect = crate::inspect::connector(&args.db, &timeouts);
    let report = with_watch(info, timeouts, |watch| {
        apply_cluster(&mut client, &connect, &prepared, &passwords, watch)
    })
    .map_err(in_script)?;
    said_applied(&report);
    Ok(Code::Ok)
}

/// Runs `f` with a watch that shows progress and waits on the terminal.
fn with_watch<T>(info: ConnInfo, timeouts: Timeouts, f: impl FnOnce(&mut Watch) -> T) -> T {
    let mut bar = crate::progress::Bar::new("statements applied");
    let mut progress = |done, total| bar.update(done, total);
    let look = watch_connection(info);
    let mut watch = Watch {
        progress: &mut progress,
        waiting: &waiting,
        connect: &look,
        timeouts,
    };
    let out = f(&mut watch);
    finish_progress();
    out
}

/// What a multi-database apply did, part by part.
fn said_applied(report: &ClusterReport) {
    let total: usize = report.applied.iter().map(|(_, _, n)| n).sum();
    for (database, part, n) in &report.applied {
        eprintln!(
            "pgsr: applied {n} statements in {} ({} part)",
            escape(database),
            part.word()
        );
    }
    eprintln!(
        "pgsr: applied {total} statements in {} parts in {:.2} s",
        report.applied.len(),
        report.elapsed.as_secs_f64()
    );
}

/// `sync` of a desired file with `databases`: every database read, the
/// multi-database plan made, then applied part by part as `apply` does.
fn sync_cluster(args: &SyncArgs, file: &std::path::Path, desired: &Desired) -> Result<Code> {
    let timeouts = args.timeouts.timeouts();
    let info = crate::inspect::conninfo(&args.db)?;
    let mut client = pgsr_executor::connect::connect(&info, &timeouts)?;
    crate::inspect::warn_exposed_password(&args.db);
    let mut desired = desired.clone();
    if let Some(key) = args.lock_key {
        desired.lock_key = key;
    }
    let cluster = crate::inspect::inspect_cluster(
        &mut client,
        &args.db,
        &timeouts,
        args.jobs,
        Some(&desired),
    )?;
    let mut options = sync_options(args).plan;
    let resolver = crate::secrets::password(Some(&desired));
    if !args.reset_passwords {
        options.passwords = pgsr_executor::password::knowledge(
            &mut *client,
            cluster.connected(),
            &desired,
            &resolver,
        )?;
    }
    let plan = plan_cluster(&cluster, &desired, &options)
        .map_err(|e| located(file, e.span.map(|s| (s.line, s.column)), &e.message))?;
    let created = if args.dry_run {
        "would create"
    } else {
        "created"
    };
    for part in &plan.parts {
        report(part, created);
    }
    let script = render_cluster(&plan, None);
    if args.dry_run {
        crate::plan::write_script(None, script.as_bytes(), true)?;
        return Ok(Code::Ok);
    }
    let changes = if args.reset_passwords {
        !plan.is_empty()
    } else {
        plan.has_known_changes()
    };
    if !changes {
        eprintln!("pgsr: no changes");
        return Ok(Code::Ok);
    }
    // The script is checked as `apply` checks one, and is the one
    // reviewed: sync made it.
    let checksum = pgsr_planner::script::parse_cluster(&script)
        .map_err(|e| Failure::new(e.to_string()))?
        .checksum;
    let prepared = prepare_cluster(
        &script,
        &Trust {
            key: None,
            expect_checksum: Some(&checksum),
        },
    )?;
    let connect = crate::inspect::connector(&args.db, &timeouts);
    let report = with_watch(info, timeouts, |watch| {
        apply_cluster(&mut client, &connect, &prepared, &resolver, watch)
    })?;
    said_applied(&report);
    Ok(Code::Ok)
}

pub fn run_sync(args: SyncArgs) -> Result<Code> {
    if args.stdin_batch {
        return crate::batch::run(&args);
    }
    let file = args.file.as_deref().expect("clap requires --file");
    let desired =
        crate::plan::with_suffix(read_desired_with_passwords(file)?, args.suffix.as_deref());
    if desired.databases.is_some() {
        return sync_cluster(&args, file, &desired);
    }
    let info = crate::inspect::conninfo(&args.db)?;
    if let Some(database) = info.get("dbname") {
        desired
            .check_single_database(database)
            .map_err(|e| located(file, Some((e.span.line, e.span.column)), &e.message))?;
    }
    let timeouts = args.timeouts.timeouts();
    let mut client = pgsr_executor::connect::connect(&info, &timeouts)?;
    crate::inspect::warn_exposed_password(&args.db);
    let options = sync_options(&args);
    let passwords = crate::secrets::password(Some(&desired));
    let outcome = with_watch(info, timeouts, |watch| {
        pgsr_executor::sync::sync(&mut client, &desired, &options, &passwords, watch)
    })
    .map_err(|e| match e {
        SyncError::Plan(e) => located(file, e.span.map(|s| (s.line, s.column)), &e.message),
        SyncError::Exec(e) => Failure::from(e),
    })?;
    report(
        &outcome.plan,
        if outcome.applied {
            "created"
        } else {
            "would create"
        },
    );
    if args.dry_run {
        crate::plan::write_script(None, outcome.script.as_bytes(), true)?;
        return Ok(Code::Ok);
    }
    if outcome.applied {
        eprintln!(
            "pgsr: applied {} statements in {:.2} s",
            outcome.statements,
            outcome.elapsed.as_secs_f64()
        );
    } else {
        eprintln!("pgsr: no changes");
    }
    Ok(Code::Ok)
}

/// What `plan` writes in the header that is not a statement, on standard
/// error: warnings, skipped grants, notes, and the roles `sync` creates
/// (`created`, or `would create` for a dry run) other than intermediate
/// ones.
pub fn report(plan: &Plan, created: &str) {
    let line = |kind: &str, text: &str| eprintln!("pgsr: {kind}: {}", escape(text));
    crate::plan::warn(plan);
    for s in &plan.skipped {
        line("skipped", s);
    }
    for n in &plan.notes {
        line("note", n);
    }
    for step in &plan.steps {
        if let Action::CreateRole { role } = &step.action {
            if !role.starts_with(INTERMEDIATE_PREFIX) {
                eprintln!(
                    "pgsr: {created} role {} ({})",
                    escape(role),
                    escape(&step.reason)
                );
            }
        }
    }
}

/// A wait of a second or more, said while it lasts.
pub fn waiting(wait: &Wait, waited: Duration, limit: Option<Duration>) {
    let limit = limit
        .map(|l| format!("; gives up after {}", shown(l)))
        .unwrap_or_default();
    let line = format!("waiting for {wait} ({} so far{limit})", shown(waited));
    // After a progress line, on a line of its own.
    finish_progress();
    eprintln!("pgsr: {}", escape(&line));
}

/// Opens the second connection that looks at what pgsr waits for, named
/// so that it is told apart from the one that applies.
pub fn watch_connection(
    mut info: ConnInfo,
) -> impl Fn() -> std::result::Result<postgres::Client, pgsr_executor::Error> + Sync {
    info.params
        .insert("application_name".into(), "pgsr (watching a wait)".into());
    move || {
        pgsr_executor::connect::connect(&info, &Timeouts::default())
            .map(pgsr_executor::connect::Session::into_client)
    }
}

/// How pgsr's intermediate role names start.
const INTERMEDIATE_PREFIX: &str = "_pgsr_";

/// What `sync` is asked to do, from its arguments.
pub fn sync_options(args: &SyncArgs) -> SyncOptions {
    SyncOptions {
        plan: PlanOptions {
            strict: args.strict,
            drop_unused: args.drop_unused,
            passwords: Default::default(),
            now: Some(crate::plan::now()),
            ..Default::default()
        },
        lock_key: args.lock_key,
        dry_run: args.dry_run,
        full_scope: args.full_scope,
        reset_passwords: args.reset_passwords,
    }
}

/// Clears a progress line, on a terminal.
pub fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}
