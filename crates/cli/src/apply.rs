//! `pgsr apply` and `pgsr sync`.

use crate::cli::{ApplyArgs, SyncArgs};
use crate::exit::{Code, Failure, Result};
use crate::files::{read_text, write_output, SCRIPT};
use crate::plan::{located, read_desired, read_desired_with_passwords, read_snapshot};
use pgsr_executor::apply::{apply, prepare, Trust};
use pgsr_executor::sync::{SyncError, SyncOptions};
use pgsr_planner::plan::PlanOptions;
use std::io::{IsTerminal, Write};

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
    let mut client = crate::inspect::connect(&args.db)?;
    let report = apply(
        &mut client,
        &prepared,
        planned_from.as_ref(),
        &passwords,
        &mut progress(),
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
    let desired = read_desired_with_passwords(file)?;
    let mut client = crate::inspect::connect(&args.db)?;
    let options = sync_options(&args);
    let passwords = crate::secrets::password(Some(&desired));
    let outcome =
        pgsr_executor::sync::sync(&mut client, &desired, &options, &passwords, &mut progress())
            .map_err(|e| match e {
                SyncError::Plan(e) => located(file, e.span.map(|s| (s.line, s.column)), &e.message),
                SyncError::Exec(e) => Failure::from(e),
            })?;
    finish_progress();
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

/// What `sync` is asked to do, from its arguments.
pub fn sync_options(args: &SyncArgs) -> SyncOptions {
    SyncOptions {
        plan: PlanOptions {
            strict: args.strict,
            drop_unused: args.drop_unused,
            passwords: Default::default(),
        },
        lock_key: args.lock_key,
        dry_run: args.dry_run,
        full_scope: args.full_scope,
        reset_passwords: args.reset_passwords,
    }
}

/// A progress line on a terminal; nothing in logs.
fn progress() -> impl FnMut(usize, usize) {
    let tty = std::io::stderr().is_terminal();
    move |done, total| {
        if tty && total > 100 {
            let mut err = std::io::stderr();
            let _ = write!(err, "\rpgsr: applying {done}/{total} statements");
            let _ = err.flush();
        }
    }
}

fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}
