//! `pgsr apply` and `pgsr sync`.

use crate::cli::{ApplyArgs, SyncArgs};
use crate::exit::{Code, Failure, Result};
use crate::files::{read_text, write_output, SCRIPT};
use crate::plan::{located, read_desired, read_desired_with_passwords, read_snapshot};
use pgsr_executor::apply::{apply, prepare, Trust};
use pgsr_executor::conninfo::ConnInfo;
use pgsr_executor::sync::{SyncError, SyncOptions};
use pgsr_executor::wait::{shown, Timeouts, Wait, Watch};
use pgsr_planner::display::escape;
use pgsr_planner::plan::{Action, Plan, PlanOptions};
use std::io::{IsTerminal, Write};
use std::time::Duration;

pub fn run_apply(args: ApplyArgs) -> Result<Code> {
    let text = read_text(&args.script, &SCRIPT)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.script.display())))?;
    let key = crate::secrets::plan_key(&args.key)?;
    let trust = Trust {
        key: key.as_deref(),
        expect_checksum: args.expect_checksum.as_deref(),
    };
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
    let mut progress = progress();
    let look = watch_connection(info);
    let mut watch = Watch {
        progress: &mut progress,
        waiting: &waiting,
        connect: &look,
        timeouts,
    };
    let report = apply(
        &mut client,
        &prepared,
        planned_from.as_ref(),
        &passwords,
        &mut watch,
    )
    .map_err(|e| {
        let mut f = Failure::from(e);
        f.message = format!("{}: {}", args.script.display(), f.message);
        f
    })?;
    finish_progress();
    eprintln!(
        "pgsr: applied {} statements in {:.2} s ({} round trips)",
        report.statements,
        report.elapsed.as_secs_f64(),
        report.round_trips
    );
    Ok(Code::Ok)
}

pub fn run_sync(args: SyncArgs) -> Result<Code> {
    if args.stdin_batch {
        return crate::batch::run(&args);
    }
    let file = args.file.as_deref().expect("clap requires --file");
    let desired =
        crate::plan::with_suffix(read_desired_with_passwords(file)?, args.suffix.as_deref());
    let timeouts = args.timeouts.timeouts();
    let info = crate::inspect::conninfo(&args.db)?;
    let mut client = pgsr_executor::connect::connect(&info, &timeouts)?;
    crate::inspect::warn_exposed_password(&args.db);
    let options = sync_options(&args);
    let passwords = crate::secrets::password(Some(&desired));
    let mut progress = progress();
    let look = watch_connection(info);
    let mut watch = Watch {
        progress: &mut progress,
        waiting: &waiting,
        connect: &look,
        timeouts,
    };
    let outcome =
        pgsr_executor::sync::sync(&mut client, &desired, &options, &passwords, &mut watch)
            .map_err(|e| match e {
                SyncError::Plan(e) => located(file, e.span.map(|s| (s.line, s.column)), &e.message),
                SyncError::Exec(e) => Failure::from(e),
            })?;
    finish_progress();
    report(
        &outcome.plan,
        if outcome.applied {
            "created"
        } else {
            "would create"
        },
    );
    if args.dry_run {
        write_output(None, outcome.script.as_bytes())?;
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
        },
        lock_key: args.lock_key,
        dry_run: args.dry_run,
        full_scope: args.full_scope,
        reset_passwords: args.reset_passwords,
    }
}

/// A progress line on a terminal; nothing in logs.
pub fn progress() -> impl FnMut(usize, usize) {
    let tty = std::io::stderr().is_terminal();
    move |done, total| {
        if tty && total > 100 {
            let mut err = std::io::stderr();
            let _ = write!(err, "\rpgsr: applying {done}/{total} statements");
            let _ = err.flush();
        }
    }
}

pub fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}
